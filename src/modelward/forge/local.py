"""The offline forge: reports go to files (and the CLI prints them), approvals come
from the command line or from `Approved-by:` trailers of the merge commit.

Everything it writes lives under `.modelward/` so that `modelward promote` can read
back the report that `modelward pr` made for the same head.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import git
from ..statedir import state_dir
from .base import Proposal, Published, PullRequest, RetrainRequest, RetrainState, State

TRAILER_RE = re.compile(
    r"^Approved-by:\s*@?([A-Za-z0-9][A-Za-z0-9-]*)\s*(?:<[^>]*>)?\s*$", re.M | re.I
)
PR_RE = re.compile(r"(?:Merge pull request #|\(#|^Pull-request:\s*#?)(\d+)", re.M | re.I)
AUTHOR_RE = re.compile(r"^Pull-request-author:\s*@?([A-Za-z0-9][A-Za-z0-9-]*)\s*$", re.M | re.I)


def _merge_trailers(body: str) -> str:
    """The trailer block of a commit message: its last paragraph (as `git interpret-trailers`
    reads it), so a line quoted earlier in the message is never taken for a trailer."""
    paragraphs = [p for p in body.strip().split("\n\n") if p.strip()]
    return paragraphs[-1] if len(paragraphs) > 1 else ""


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is no secret
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class LocalForge:
    """A forge made of the repository's own `.modelward/` folder."""

    name = "local"

    def __init__(
        self,
        repo: Path,
        *,
        author: str | None = None,
        approvers: Sequence[str] = (),
        pr_number: int | None = None,
        report_file: Path | None = None,
    ) -> None:
        self.repo = repo
        self.author = author
        self.approvers = tuple(approvers)
        self.pr_number = pr_number
        self.report_file = report_file
        self.home = state_dir(repo)

    def pull_request(
        self, head_sha: str, base_ref: str, *, teams: Sequence[str] = ()
    ) -> PullRequest:
        """The pull request as the command line describes it (`--author`, `--approved-by`):
        the person running `modelward pr` locally vouches for it, so it is not verified."""
        return PullRequest(
            number=self.pr_number,
            author=self.author,
            head_sha=head_sha,
            base_ref=base_ref,
            approvers=self.approvers,
        )

    def _report_paths(self, head_sha: str) -> tuple[Path, Path]:
        folder = self.home / "reports"
        return folder / f"{head_sha}.md", folder / f"{head_sha}.json"

    def publish_report(
        self,
        pr: PullRequest,
        markdown: str,
        data: Mapping[str, object],
        state: State,
        description: str,
    ) -> list[Published]:
        md, js = self._report_paths(pr.head_sha)
        write_atomic(js, json.dumps(data, indent=2, sort_keys=True).encode())
        write_atomic(md, markdown.encode())
        out = [Published("report", str(md), {"state": state, "description": description})]
        if self.report_file is not None:
            write_atomic(self.report_file, markdown.encode())
            out.append(Published("report", str(self.report_file)))
        return out

    def saved_report_data(self, head_sha: str) -> Mapping[str, object] | None:
        _, js = self._report_paths(head_sha)
        if not js.is_file():
            return None
        loaded = json.loads(js.read_text())
        return loaded if isinstance(loaded, dict) else None

    def merged_pull_request(
        self, merge_commit: str, *, teams: Sequence[str] = ()
    ) -> PullRequest | None:
        """The pull request a commit on the default branch merged.

        Only a real merge (two parents) whose message carries `Pull-request-author:` is a
        pull request with trustworthy approvals: its trailers were written by whoever made
        the merge on the default branch, not by the pull request. A fast-forward or squash
        merge (one parent) brings only commits the author wrote, so any `Approved-by:` in
        them is text the pull request supplied: it is returned unverified, with no
        approvers, and the promotion records a bypass."""
        raw = git.run(self.repo, "log", "-1", "--format=%P%x00%B", merge_commit)
        parents, body = raw.split("\0", 1)
        parent_list = parents.split()
        number = PR_RE.search(body)
        title = body.splitlines()[0] if body else None
        if len(parent_list) != 2:
            return PullRequest(
                number=int(number.group(1)) if number else None,
                author=None,
                head_sha=merge_commit,
                base_ref=parent_list[0] if parent_list else merge_commit,
                merge_commit=merge_commit,
                title=title,
                verified=False,
            )
        trailers = _merge_trailers(body)
        author_match = AUTHOR_RE.search(trailers)
        approvers = tuple(dict.fromkeys(m.group(1) for m in TRAILER_RE.finditer(trailers)))
        return PullRequest(
            number=int(number.group(1)) if number else None,
            author=author_match.group(1) if author_match else None,
            head_sha=parent_list[1],
            base_ref=parent_list[0],
            approvers=approvers if author_match else (),
            merge_commit=merge_commit,
            title=title,
            verified=author_match is not None,
        )

    def has_release(self, tag: str) -> bool:
        return (self.home / "releases" / tag / "RELEASE.md").is_file()

    def publish_release(self, tag: str, files: Mapping[str, Path], notes: str) -> Published:
        folder = self.home / "releases" / tag
        folder.mkdir(parents=True, exist_ok=True)
        for name, src in files.items():
            target = folder / name
            tmp = folder / f".{name}.tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        write_atomic(folder / "RELEASE.md", notes.encode())
        return Published("release", str(folder))

    def comment(self, pr: PullRequest, markdown: str) -> Published:
        key = f"pr-{pr.number}" if pr.number is not None else (pr.merge_commit or pr.head_sha)
        path = self.home / "comments" / f"{key}.md"
        write_atomic(path, markdown.encode())
        return Published("comment", str(path))

    # ------------------------------------------------------------ retraining proposals
    # One record per model under .modelward/retrain/: the proposal that is current and
    # the fingerprints of earlier ones that were closed without merging. The branch is
    # the pull request: it is open while the branch exists, merged once its head is on
    # the base branch, closed when it was deleted unmerged.

    def _retrain_record(self, model: str) -> tuple[Path, dict[str, object]]:
        path = self.home / "retrain" / f"{model}.json"
        if not path.is_file():
            return path, {}
        loaded = json.loads(path.read_text())
        return path, loaded if isinstance(loaded, dict) else {}

    def _state(self, current: Mapping[str, object]) -> RetrainState:
        branch, head, base = (str(current.get(k, "")) for k in ("branch", "head", "base_ref"))
        base_sha = git.run(
            self.repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False
        ).strip()
        if head and base_sha and git.is_ancestor(self.repo, head, base_sha):
            return "merged"
        exists = git.run(
            self.repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False
        )
        return "open" if exists.strip() else "closed"

    def retrain_requests(self, model: str | None = None) -> list[RetrainRequest]:
        """Reading also settles the record: a proposal whose branch was deleted unmerged
        joins the rejected ones, a merged one is done; either way the model has none open."""
        out: list[RetrainRequest] = []
        folder = self.home / "retrain"
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            _, record = self._retrain_record(path.stem)
            current = record.get("current")
            rejected = list(record.get("rejected", []) or [])  # type: ignore[call-overload]
            if isinstance(current, dict):
                state = self._state(current)
                out.append(_request(current, state))
                if state != "open":
                    if state == "closed":
                        rejected.append(current)
                    self._save_record(path, None, rejected)
            out.extend(_request(old, "closed") for old in rejected if old is not current)
        return out

    def _save_record(self, path: Path, current: object, rejected: list[object]) -> None:
        data = {"current": current, "rejected": rejected}
        write_atomic(path, json.dumps(data, indent=2, sort_keys=True).encode())

    def propose(self, proposal: Proposal) -> Published:
        path, record = self._retrain_record(proposal.model)
        rejected = list(record.get("rejected", []) or [])  # type: ignore[call-overload]
        current = record.get("current")
        updated = isinstance(current, dict) and current.get("branch") == proposal.branch
        entry = {
            "model": proposal.model,
            "branch": proposal.branch,
            "base_ref": proposal.base_ref,
            "head": proposal.head_sha,
            "reference": proposal.reference,
            "fingerprint": proposal.fingerprint,
            "title": proposal.title,
            "labels": list(proposal.labels),
        }
        self._save_record(path, entry, rejected)
        body = path.with_suffix(".md")
        write_atomic(body, f"# {proposal.title}\n\n{proposal.body}".encode())
        return Published(
            "pull-request",
            str(body),
            {"branch": proposal.branch, "action": "updated" if updated else "opened"},
        )


def _request(entry: object, state: RetrainState) -> RetrainRequest:
    data = entry if isinstance(entry, dict) else {}
    return RetrainRequest(
        branch=str(data.get("branch", "")),
        state=state,
        model=str(data.get("model", "")),
        reference=str(data.get("reference", "")),
        fingerprint=str(data.get("fingerprint", "")),
        head_sha=str(data.get("head")) if data.get("head") else None,
    )
