"""The forge port: what the pull-request and promotion flows need from a code host.

The flows speak only to this interface; `local.py` implements it with files (and the
git-native `Approved-by:` trailer), `github.py` with PyGithub.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

State = Literal["success", "failure", "pending", "error"]
STATUS_CONTEXT = "modelward/governance"
TEAM_PERMISSION = (
    "reading team membership needs a GitHub App token or a fine-grained token with "
    "organization Members: read (the Actions GITHUB_TOKEN cannot)"
)


@dataclass(frozen=True)
class PullRequest:
    """What the flows need to know of a pull request."""

    number: int | None
    author: str | None
    head_sha: str
    base_ref: str
    url: str | None = None
    approvers: tuple[str, ...] = ()
    merge_commit: str | None = None
    title: str | None = None
    verified: bool = False
    """Author and approvers are facts from the forge (GitHub's API, or the trailers of a
    real two-parent merge commit on the default branch). False at promote: the approvals
    are not trusted and the merge is recorded as a bypass."""
    changes_requested: tuple[str, ...] = ()
    """Logins whose latest review requests changes."""
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """'@org/team' (lowercased) -> member logins the forge read."""
    unreadable_teams: tuple[str, ...] = ()
    """Teams whose membership the token could not read."""


@dataclass(frozen=True)
class Published:
    """Where a report, release or comment ended up (a URL or a file)."""

    kind: str
    location: str
    details: Mapping[str, str] = field(default_factory=dict)


class Forge(Protocol):
    name: str

    def pull_request(
        self, head_sha: str, base_ref: str, *, teams: Sequence[str] = ()
    ) -> PullRequest:
        """The pull request under review, with its current approvals."""
        ...

    def publish_report(
        self,
        pr: PullRequest,
        markdown: str,
        data: Mapping[str, object],
        state: State,
        description: str,
    ) -> list[Published]:
        """Post or update the one sticky report and set the commit status."""
        ...

    def merged_pull_request(
        self, merge_commit: str, *, teams: Sequence[str] = ()
    ) -> PullRequest | None:
        """The pull request a commit on the default branch merged, with its approvals."""
        ...

    def saved_report_data(self, head_sha: str) -> Mapping[str, object] | None:
        """The machine-readable block of the report made for `head_sha`, if any."""
        ...

    def has_release(self, tag: str) -> bool:
        """Whether the release named by the tag exists (so a re-run can make a lost one)."""
        ...

    def publish_release(self, tag: str, files: Mapping[str, Path], notes: str) -> Published:
        """Attach artifact, model card and metrics to a release named by the tag."""
        ...

    def comment(self, pr: PullRequest, markdown: str) -> Published:
        """A one-off comment (the promotion summary on the merged pull request)."""
        ...

    def retrain_requests(self, model: str | None = None) -> list[RetrainRequest]:
        """The retraining pull requests the bot opened: every open one (the cap counts
        them all), and the merged or closed ones of `model` (of every model when None;
        a forge may return more)."""
        ...

    def propose(self, proposal: Proposal) -> Published:
        """Open the retraining pull request for `proposal.branch` (already committed
        locally), or update the open one in place: push, body, labels."""
        ...


RetrainState = Literal["open", "merged", "closed"]


@dataclass(frozen=True)
class RetrainRequest:
    """A retraining pull request the bot opened (found by its label and hidden marker)."""

    branch: str
    state: RetrainState
    """closed means closed without merging: "not this data"."""
    model: str
    reference: str
    """The version the data was compared with."""
    fingerprint: str
    """sha256 of the new data."""
    head_sha: str | None = None
    number: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class Proposal:
    """What `modelward retrain` asks the forge to open (or update in place)."""

    model: str
    branch: str
    base_ref: str
    head_sha: str
    title: str
    body: str
    labels: tuple[str, ...]
    reference: str
    fingerprint: str
