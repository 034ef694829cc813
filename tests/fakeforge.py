"""FakeForge: the Forge port in memory, for the flows' unit tests (pip-tools'
FakeRepository, on our port). It records everything it is asked to publish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelward.forge.base import Published, PullRequest, State


@dataclass
class FakeForge:
    name: str = "fake"
    author: str | None = "erin"
    approvers: tuple[str, ...] = ()
    changes_requested: tuple[str, ...] = ()
    teams: dict[str, frozenset[str]] = field(default_factory=dict)
    merged: PullRequest | None = None
    reports: dict[str, tuple[str, dict[str, Any], State, str]] = field(default_factory=dict)
    releases: dict[str, dict[str, bytes]] = field(default_factory=dict)
    release_notes: dict[str, str] = field(default_factory=dict)
    comments: list[tuple[int | None, str]] = field(default_factory=list)
    asked_teams: list[tuple[str, ...]] = field(default_factory=list)

    def pull_request(
        self, head_sha: str, base_ref: str, *, teams: Sequence[str] = ()
    ) -> PullRequest:
        self.asked_teams.append(tuple(teams))
        known = {t: m for t, m in self.teams.items() if t in teams}
        return PullRequest(
            7,
            self.author,
            head_sha,
            base_ref,
            approvers=self.approvers,
            verified=True,
            changes_requested=self.changes_requested,
            teams=known,
            unreadable_teams=tuple(t for t in teams if t not in self.teams),
        )

    def publish_report(
        self,
        pr: PullRequest,
        markdown: str,
        data: Mapping[str, object],
        state: State,
        description: str,
    ) -> list[Published]:
        self.reports[pr.head_sha] = (markdown, dict(data), state, description)
        return [Published("report", f"fake:{pr.head_sha}", {"state": state})]

    def merged_pull_request(
        self, merge_commit: str, *, teams: Sequence[str] = ()
    ) -> PullRequest | None:
        return self.merged

    def saved_report_data(self, head_sha: str) -> Mapping[str, object] | None:
        found = self.reports.get(head_sha)
        return found[1] if found else None

    def has_release(self, tag: str) -> bool:
        return tag in self.releases

    def publish_release(self, tag: str, files: Mapping[str, Path], notes: str) -> Published:
        assets = self.releases.setdefault(tag, {})
        for name, path in files.items():
            assets.setdefault(name, path.read_bytes())
        self.release_notes[tag] = notes
        return Published("release", f"fake:{tag}")

    def comment(self, pr: PullRequest, markdown: str) -> Published:
        self.comments.append((pr.number, markdown))
        return Published("comment", f"fake:#{pr.number}")
