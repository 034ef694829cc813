"""The GitHub forge, on PyGithub 2.x.

What it promises the flows, and how:

- **One sticky report comment.** The report starts with `report.MARKER`; the comment is
  the one whose body starts with the marker *and* whose author is the bot's login
  (`github-actions[bot]` unless configured), searched across every page. Duplicates
  left by an earlier crash: the oldest is updated, the rest deleted. Nothing is written
  when the body is unchanged. A POST that failed after GitHub may have applied it (5xx,
  timeout) is never blindly repeated: the comments are listed again first.
- **Retries.** Reads and idempotent writes (PATCH, PUT, DELETE) are retried with
  exponential backoff on 5xx and timeouts; POST is not (it may have been applied), so a
  lost POST is reconciled by looking first. Rate limits (403 with Retry-After or a rate
  limit message, 429) are waited out when the wait is at most `max_wait` seconds, for
  every method (a refused request was not applied). Writes are spaced by
  `write_spacing` seconds, as GitHub's REST guidance asks. When it gives up: ForgeError
  (exit 3) with a one-line reason.
- **Missing permissions are not crashes.** A 403 on a write (a fork's read-only token, a
  workflow without `pull-requests: write`) is recorded; the flow still judges and exits
  by its verdict, and the CLI prints one explanation (`self.denied`).
- **The token never leaves.** Error texts are built here, never from request objects,
  and any occurrence of the token is masked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import ForgeError
from .base import (
    STATUS_CONTEXT,
    TEAM_PERMISSION,
    Proposal,
    Published,
    PullRequest,
    RetrainRequest,
    RetrainState,
    State,
)
from .reviews import standing

DEFAULT_BOT = "github-actions[bot]"
CHECK_NAME = "modelward"
ANNOTATION_BATCH = 50
DESCRIPTION_MAX = 140
PROMOTION_MARKER = "<!-- modelward:promotion {sha} -->"
RETRAIN_PREFIX = "modelward/retrain/"
RETRAIN_REFS = "refs/modelward/remote-retrain/"
"""Where the remote's retraining branches are fetched (their tips are the push leases)."""
TOKEN_ENV = "MODELWARD_GIT_TOKEN"
# git asks this helper for the password; the token reaches git only through the
# helper's environment, never argv (which `ps` shows) or a config file.
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || return 0; echo username=x-access-token; '
    f'echo "password=${{{TOKEN_ENV}}}"; }}; f'
)
CONCLUSION: dict[State, str] = {
    "success": "success",
    "failure": "failure",
    "pending": "neutral",
    "error": "failure",
}
LEVEL = {"failure": "failure", "warning": "warning", "notice": "notice"}
WORKFLOW_COMMAND = {"failure": "error", "warning": "warning", "notice": "notice"}
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


@dataclass
class Settings:
    """How to reach GitHub and how patient to be."""

    repository: str
    token: str
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    bot_login: str = DEFAULT_BOT
    timeout: int = 15
    write_spacing: float = 1.0
    max_wait: float = 60.0
    retries: int = 4
    require_current_head: bool = True
    run_url: str | None = None
    step_summary: Path | None = None
    output: Path | None = None
    pr_number: int | None = None
    pr_author: str | None = None
    emit: Callable[[str], None] = field(default=lambda line: None)
    """Where workflow commands (annotations without `checks: write`) are written."""
    checkout: Path | None = None
    """The bot's git checkout: retraining branches are fetched into it and pushed from it."""
    remote: str = "origin"


class _Denied(Exception):
    """A 403 that is a permission, not a rate limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Lost(Exception):
    """A POST whose outcome is unknown (5xx or timeout after sending)."""


class GitHubForge:
    """The Forge port on GitHub's REST API."""

    name = "github"

    def __init__(self, settings: Settings) -> None:
        from github import Auth, Github

        self.settings = settings
        self.repo_path = f"/repos/{settings.repository}"
        self.gh = Github(
            auth=Auth.Token(settings.token),
            base_url=settings.api_url.rstrip("/"),
            timeout=int(settings.timeout),
            retry=_retry(settings),
            seconds_between_requests=None,
            seconds_between_writes=settings.write_spacing or None,
        )
        self.requester = self.gh.requester
        self.denied: list[str] = []
        """What could not be posted, and why (for one explanation in the log)."""
        self.notes: list[str] = []
        self._numbers: dict[str, int] = {}
        self._comments: dict[int, list[dict[str, Any]]] = {}
        self._leases: dict[str, str] | None = None
        if settings.pr_number is not None:
            self._numbers["*"] = settings.pr_number

    # ------------------------------------------------------------ transport

    def _mask(self, text: str) -> str:
        token = self.settings.token
        return text.replace(token, "***") if token else text

    def _request(
        self,
        verb: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[dict[str, Any], Any]:
        """One request; rate limits waited out (bounded), errors made one line."""
        from github import GithubException, RateLimitExceededExceedsMaxWait
        from requests.exceptions import RequestException

        waited = 0.0
        for _attempt in range(self.settings.retries + 1):
            try:
                return self.requester.requestJsonAndCheck(
                    verb, url, parameters=dict(params or {}) or None, input=body
                )
            except RateLimitExceededExceedsMaxWait as exc:
                raise ForgeError(self._giving_up(verb, url, exc.status, "rate limited")) from None
            except GithubException as exc:
                wait = _rate_limit_wait(exc)
                if wait is not None:
                    if waited + wait > self.settings.max_wait:
                        raise ForgeError(
                            self._giving_up(verb, url, exc.status, f"rate limited for {wait:g}s")
                        ) from None
                    waited += wait
                    time.sleep(wait)
                    continue
                message = _message(exc.data)
                if exc.status == 403:
                    raise _Denied(f"{exc.status} {message}") from None
                if verb == "POST" and exc.status >= 500:
                    raise _Lost() from None
                if exc.status == 404:
                    raise
                raise ForgeError(self._giving_up(verb, url, exc.status, message)) from None
            except RequestException as exc:
                if verb == "POST":
                    raise _Lost() from None
                raise ForgeError(self._giving_up(verb, url, None, type(exc).__name__)) from None
        raise ForgeError(self._giving_up(verb, url, 429, "still rate limited"))

    def _giving_up(self, verb: str, url: str, status: int | None, why: str) -> str:
        where = url.split("?", 1)[0]
        code = f" ({status})" if status else ""
        return self._mask(f"GitHub {verb} {where} failed{code}: {why}; gave up")

    def _pages(self, url: str, query: Mapping[str, str] | None = None) -> Iterator[Any]:
        """Every item of a paginated listing, following Link headers."""
        next_url: str | None = url
        params: dict[str, Any] | None = {"per_page": 100, **(query or {})}
        while next_url:
            headers, data = self._request("GET", next_url, params=params)
            yield from data or []
            link = next((v for k, v in headers.items() if k.lower() == "link"), "")
            found = _LINK_NEXT.search(link or "")
            next_url, params = (found.group(1), None) if found else (None, None)

    def _write(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run a write; a permission refusal is recorded, not raised."""
        try:
            return fn()
        except _Denied as exc:
            self.denied.append(f"{what}: {exc.message}")
            return None

    # ------------------------------------------------------------ pull requests

    def _number(self, head_sha: str) -> int | None:
        return self._numbers.get(head_sha) or self._numbers.get("*")

    def pull_request(
        self, head_sha: str, base_ref: str, *, teams: Sequence[str] = ()
    ) -> PullRequest:
        number = self._number(head_sha)
        if number is None:
            raise ForgeError("no pull request number: run on a pull_request event")
        self._numbers[head_sha] = number
        return self._with_reviews(
            number,
            author=self.settings.pr_author,
            head_sha=head_sha,
            base_ref=base_ref,
            teams=teams,
        )

    def _with_reviews(
        self,
        number: int,
        *,
        author: str | None,
        head_sha: str,
        base_ref: str,
        teams: Sequence[str],
        merge_commit: str | None = None,
        title: str | None = None,
    ) -> PullRequest:
        reviews = list(self._pages(f"{self.repo_path}/pulls/{number}/reviews"))
        st = standing(
            reviews, head_sha=head_sha, require_current_head=self.settings.require_current_head
        )
        if st.stale:
            self.notes.append(
                f"approvals given before the latest push do not count: {', '.join(st.stale)}"
            )
        members, unreadable = self.team_members(teams)
        if unreadable:
            self.notes.append(f"could not read {', '.join(unreadable)}: {TEAM_PERMISSION}")
        return PullRequest(
            number=number,
            author=author,
            head_sha=head_sha,
            base_ref=base_ref,
            url=self._html_url(f"pull/{number}"),
            approvers=st.approvers,
            merge_commit=merge_commit,
            title=title,
            verified=True,
            changes_requested=st.changes_requested,
            teams=members,
            unreadable_teams=unreadable,
        )

    def team_members(
        self, handles: Sequence[str]
    ) -> tuple[dict[str, frozenset[str]], tuple[str, ...]]:
        """Members of each `@org/team`; teams the token cannot read are listed apart."""
        from github import GithubException

        members: dict[str, frozenset[str]] = {}
        unreadable: list[str] = []
        for handle in dict.fromkeys(h.lower() for h in handles):
            org, _, slug = handle.lstrip("@").partition("/")
            if not org or not slug:
                continue
            try:
                people = self._pages(f"/orgs/{quote(org)}/teams/{quote(slug)}/members")
                members[handle] = frozenset(str(p["login"]).lower() for p in people)
            except (_Denied, GithubException):
                unreadable.append(handle)
        return members, tuple(unreadable)

    def merged_pull_request(
        self, merge_commit: str, *, teams: Sequence[str] = ()
    ) -> PullRequest | None:
        """The pull request merged as `merge_commit`, judged on its final head."""
        pulls = list(self._pages(f"{self.repo_path}/commits/{merge_commit}/pulls"))
        merged = [p for p in pulls if p.get("merged_at")]
        exact = [p for p in merged if p.get("merge_commit_sha") == merge_commit]
        chosen = (exact or merged or [None])[0]
        if chosen is None:
            return None
        head = str(chosen["head"]["sha"])
        number = int(chosen["number"])
        self._numbers[head] = number
        return self._with_reviews(
            number,
            author=str(chosen["user"]["login"]),
            head_sha=head,
            base_ref=str(chosen["base"]["ref"]),
            teams=teams,
            merge_commit=merge_commit,
            title=chosen.get("title"),
        )

    # ------------------------------------------------------------ the sticky report

    def _html_url(self, rest: str) -> str:
        return f"{self.settings.server_url.rstrip('/')}/{self.settings.repository}/{rest}"

    def _list_comments(self, number: int, *, fresh: bool = False) -> list[dict[str, Any]]:
        if fresh or number not in self._comments:
            self._comments[number] = list(self._pages(f"{self.repo_path}/issues/{number}/comments"))
        return self._comments[number]

    def _mine(self, comments: Sequence[Mapping[str, Any]], marker: str) -> list[dict[str, Any]]:
        bot = self.settings.bot_login.lower()
        return sorted(
            (
                dict(c)
                for c in comments
                if str((c.get("user") or {}).get("login", "")).lower() == bot
                and str(c.get("body") or "").startswith(marker)
            ),
            key=lambda c: (str(c.get("created_at") or ""), int(c["id"])),
        )

    def saved_report_data(self, head_sha: str) -> Mapping[str, object] | None:
        from ..report import MARKER, extract_data

        number = self._number(head_sha)
        if number is None:
            return None
        for comment in self._mine(self._list_comments(number), MARKER):
            data = extract_data(str(comment["body"]), head_sha)
            if data is not None:
                return data
        return None

    def sticky(self, number: int, marker: str, body: str) -> tuple[str, str | None]:
        """Make the one comment starting with `marker` say `body`: (what happened, url)."""
        if not body.startswith(marker):
            body = f"{marker}\n{body}"
        mine = self._mine(self._list_comments(number), marker)
        self._delete(number, mine[1:])
        if mine:
            return self._update(mine[0], body)
        try:
            _, created = self._request(
                "POST", f"{self.repo_path}/issues/{number}/comments", body={"body": body}
            )
        except _Lost:
            # GitHub may have applied it: look before trying again
            again = self._mine(self._list_comments(number, fresh=True), marker)
            if again:
                self._delete(number, again[1:])
                return self._update(again[0], body)
            try:
                _, created = self._request(
                    "POST", f"{self.repo_path}/issues/{number}/comments", body={"body": body}
                )
            except _Lost:
                raise ForgeError(
                    f"GitHub did not confirm the comment on #{number} twice; gave up"
                ) from None
        self._comments.setdefault(number, []).append(created)
        return "created", created.get("html_url")

    def _delete(self, number: int, comments: Sequence[Mapping[str, Any]]) -> None:
        from github import GithubException

        for extra in comments:
            try:
                self._request("DELETE", f"{self.repo_path}/issues/comments/{extra['id']}")
            except GithubException as exc:
                if exc.status != 404:  # already gone: what we wanted
                    raise
        gone = {c["id"] for c in comments}
        self._comments[number] = [c for c in self._comments.get(number, []) if c["id"] not in gone]

    def _update(self, comment: Mapping[str, Any], body: str) -> tuple[str, str | None]:
        if comment.get("body") == body:
            return "unchanged", comment.get("html_url")
        _, updated = self._request(
            "PATCH", f"{self.repo_path}/issues/comments/{comment['id']}", body={"body": body}
        )
        for cached in self._comments.values():  # later reads in this run see the new body
            for i, c in enumerate(cached):
                if c.get("id") == comment["id"]:
                    cached[i] = dict(updated)
        return "updated", updated.get("html_url")

    def publish_report(
        self,
        pr: PullRequest,
        markdown: str,
        data: Mapping[str, object],
        state: State,
        description: str,
    ) -> list[Published]:
        from ..report import MARKER

        out: list[Published] = []
        self._job_files(markdown, data, state)
        number = pr.number if pr.number is not None else self._number(pr.head_sha)
        if number is not None:
            done = self._write("report comment", lambda: self.sticky(number, MARKER, markdown))
            if done is not None:
                out.append(Published("comment", done[1] or f"#{number}", {"action": done[0]}))
        status = self._write(
            "commit status", lambda: self.set_status(pr.head_sha, state, description)
        )
        if status is not None:
            out.append(Published("status", pr.head_sha, {"state": state}))
        check = self.check_run(pr.head_sha, state, description, markdown, data)
        if check is not None:
            out.append(check)
        return out

    def set_status(self, sha: str, state: State, description: str) -> None:
        body: dict[str, Any] = {
            "state": state,
            "context": STATUS_CONTEXT,
            "description": _clip(description, DESCRIPTION_MAX),
        }
        if self.settings.run_url:
            body["target_url"] = self.settings.run_url
        try:
            self._request("POST", f"{self.repo_path}/statuses/{sha}", body=body)
        except _Lost:
            # the latest status of a context wins: sending it again is harmless
            try:
                self._request("POST", f"{self.repo_path}/statuses/{sha}", body=body)
            except _Lost:
                raise ForgeError(
                    f"GitHub did not confirm the status on {sha[:12]}; gave up"
                ) from None

    def check_run(
        self,
        sha: str,
        state: State,
        title: str,
        markdown: str,
        data: Mapping[str, object],
    ) -> Published | None:
        """A check run whose annotations sit on manifest lines, 50 a request."""
        from ..report import to_annotations

        annotations = [
            {
                "path": a["file"],
                "start_line": a["line"],
                "end_line": a["line"],
                "annotation_level": LEVEL[a["level"]],
                "message": _clip(a["message"], 64_000),
            }
            for a in to_annotations(data)
        ]
        batches = [
            annotations[i : i + ANNOTATION_BATCH]
            for i in range(0, len(annotations), ANNOTATION_BATCH)
        ] or [[]]
        output = {"title": _clip(title, 1000), "summary": _clip(markdown, 60_000)}
        body: dict[str, Any] = {
            "name": CHECK_NAME,
            "head_sha": sha,
            "status": "completed",
            "conclusion": CONCLUSION[state],
            "output": {**output, "annotations": batches[0]},
        }
        if self.settings.run_url:
            body["details_url"] = self.settings.run_url
        try:
            _, run = self._request("POST", f"{self.repo_path}/check-runs", body=body)
        except _Denied as exc:
            self.denied.append(f"check run: {exc.message}; annotations written to the log instead")
            for a in annotations:
                kind = WORKFLOW_COMMAND[a["annotation_level"]]
                self.settings.emit(
                    f"::{kind} file={a['path']},line={a['start_line']}::"
                    + _escape_command(a["message"])
                )
            return None
        except _Lost:
            self.notes.append("GitHub did not confirm the check run; it may be missing")
            return None
        for batch in batches[1:]:
            self._write(
                "check run annotations",
                lambda batch=batch: self._request(  # type: ignore[misc]
                    "PATCH",
                    f"{self.repo_path}/check-runs/{run['id']}",
                    body={"output": {**output, "annotations": batch}},
                ),
            )
        return Published("check", str(run.get("html_url")), {"annotations": str(len(annotations))})

    def _job_files(self, markdown: str, data: Mapping[str, object], state: State) -> None:
        if self.settings.step_summary is not None:
            with self.settings.step_summary.open("a", encoding="utf-8") as fh:
                fh.write(markdown + "\n")
        if self.settings.output is not None:
            models = [str(m.get("name")) for m in data.get("models", []) or []]  # type: ignore[attr-defined]
            with self.settings.output.open("a", encoding="utf-8") as fh:
                fh.write(f"verdict={data.get('summary')}\n")
                fh.write(f"state={state}\n")
                fh.write(f"models={json.dumps(models)}\n")

    # ------------------------------------------------------------ promotion

    def _release(self, tag: str) -> dict[str, Any] | None:
        from github import GithubException

        try:
            _, release = self._request("GET", f"{self.repo_path}/releases/tags/{quote(tag)}")
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise
        return dict(release)

    def has_release(self, tag: str) -> bool:
        try:
            return self._release(tag) is not None
        except _Denied:
            return True  # cannot see releases: do not try to make one

    def publish_release(self, tag: str, files: Mapping[str, Path], notes: str) -> Published:
        """The release named by the tag with the card as body; only missing assets upload."""
        try:
            return self._publish_release(tag, files, notes)
        except _Denied as exc:
            self.denied.append(f"release {tag}: {exc.message}")
            return Published("release", f"not published ({exc.message})")

    def _publish_release(self, tag: str, files: Mapping[str, Path], notes: str) -> Published:
        release = self._release(tag)
        if release is None:
            body = {"tag_name": tag, "name": tag, "body": _clip(notes, 120_000)}
            try:
                _, release = self._request("POST", f"{self.repo_path}/releases", body=body)
            except _Lost:
                release = self._release(tag)
                if release is None:
                    raise ForgeError(f"GitHub did not confirm release {tag}; gave up") from None
        have = {a["name"] for a in self._pages(f"{self.repo_path}/releases/{release['id']}/assets")}
        uploaded = []
        for name, path in files.items():
            if name in have:
                continue
            self._upload(release, name, path)
            uploaded.append(name)
        return Published("release", str(release.get("html_url")), {"uploaded": ", ".join(uploaded)})

    def _upload(self, release: Mapping[str, Any], name: str, path: Path) -> None:
        from github import GithubException
        from requests.exceptions import RequestException

        url = str(release["upload_url"]).split("{", 1)[0]
        try:
            self.requester.requestBlobAndCheck(
                "POST",
                url,
                parameters={"name": name},
                headers={"Content-Type": "application/octet-stream"},
                input=str(path),
            )
        except GithubException as exc:
            if exc.status == 403:
                raise _Denied(f"403 {_message(exc.data)}") from None
            raise ForgeError(self._giving_up("POST", url, exc.status, _message(exc.data))) from None
        except RequestException as exc:
            raise ForgeError(self._giving_up("POST", url, None, type(exc).__name__)) from None

    def comment(self, pr: PullRequest, markdown: str) -> Published:
        """The promotion comment: one per merge commit, never a second."""
        number = pr.number
        if number is None:
            return Published("comment", "no pull request")
        marker = PROMOTION_MARKER.format(sha=pr.merge_commit or pr.head_sha)
        done = self._write(
            "promotion comment", lambda: self.sticky(number, marker, f"{marker}\n{markdown}")
        )
        if done is None:
            return Published("comment", "not posted (no permission)")
        return Published("comment", done[1] or f"#{number}", {"action": done[0]})

    # ------------------------------------------------------------ retraining proposals
    # The pull request is the record: its head branch is `modelward/retrain/<model>`, its
    # author the bot, its body starts with the hidden marker (model, reference,
    # fingerprint). The branch is pushed from the bot's checkout with git.

    def _git(self, *args: str) -> str:
        """git in the bot's checkout; the token only in the credential helper's env."""
        if self.settings.checkout is None:
            raise ForgeError("the GitHub forge needs the repository checkout to push a branch")
        env = {**os.environ, TOKEN_ENV: self.settings.token, "GIT_TERMINAL_PROMPT": "0"}
        proc = subprocess.run(
            [
                "git",
                "-c",
                "credential.helper=",
                "-c",
                f"credential.helper={CREDENTIAL_HELPER}",
                *args,
            ],
            cwd=self.settings.checkout,
            env=env,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            hint = " (the token needs contents: write)" if args[0] == "push" else ""
            last = why[-1] if why else "?"
            raise ForgeError(self._mask(f"git {args[0]} failed{hint}: {last}"))
        return proc.stdout.decode("utf-8", "replace")

    def _sync_branches(self) -> None:
        """Mirror the remote's retraining branches into the checkout (a fresh Actions
        checkout has none), so the flow sees a person's commits; their tips are the
        leases of the next push."""
        remote = self.settings.remote
        self._git(
            "fetch", "--quiet", "--no-tags", "--prune", remote,
            f"+refs/heads/{RETRAIN_PREFIX}*:{RETRAIN_REFS}*",
        )  # fmt: skip
        self._leases = leases = {}
        listed = self._git("for-each-ref", "--format=%(refname) %(objectname)", RETRAIN_REFS)
        for line in listed.splitlines():
            ref, _, sha = line.partition(" ")
            branch = RETRAIN_PREFIX + ref[len(RETRAIN_REFS) :]
            leases[branch] = sha
            self._git("update-ref", f"refs/heads/{branch}", sha)

    def _retrain_pulls(self, query: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        yield from self._pages(f"{self.repo_path}/pulls", query)

    def _as_request(self, pull: Mapping[str, Any]) -> RetrainRequest | None:
        """A pull request the bot opened on a retraining branch with its marker, or None."""
        from ..retrain import parse_marker

        author = str((pull.get("user") or {}).get("login", "")).lower()
        branch = str((pull.get("head") or {}).get("ref", ""))
        found = parse_marker(str(pull.get("body") or ""))
        if author != self.settings.bot_login.lower() or not branch.startswith(RETRAIN_PREFIX):
            return None
        if found is None or found.get("model") != branch[len(RETRAIN_PREFIX) :]:
            return None
        state: RetrainState = (
            "merged"
            if pull.get("merged_at")
            else "closed"
            if pull.get("state") == "closed"
            else "open"
        )
        return RetrainRequest(
            branch=branch,
            state=state,
            model=found["model"],
            reference=found.get("reference", ""),
            fingerprint=found.get("fingerprint", ""),
            head_sha=str((pull.get("head") or {}).get("sha") or "") or None,
            number=int(pull["number"]),
            url=pull.get("html_url"),
        )

    def retrain_requests(self, model: str | None = None) -> list[RetrainRequest]:
        """Every open retraining pull request, and those of `model` in any state (listed
        by head branch); every closed one when `model` is None."""
        self._sync_branches()
        owner = self.settings.repository.split("/", 1)[0]
        pulls = list(self._retrain_pulls({"state": "open"}))
        if model is not None:
            head = f"{owner}:{RETRAIN_PREFIX}{model}"
            pulls += self._retrain_pulls({"state": "closed", "head": head})
        else:
            pulls += self._retrain_pulls({"state": "closed"})
        found = (self._as_request(p) for p in pulls)
        return [r for r in found if r is not None]

    def propose(self, proposal: Proposal) -> Published:
        """Push the branch (leased on the tip last fetched, so a person's push in between
        is never overwritten), then open or update its pull request, then the labels."""
        try:
            return self._propose(proposal)
        except _Denied as exc:
            raise ForgeError(
                f"GitHub refused the retraining pull request ({exc.message}); the token "
                "needs contents: write and pull-requests: write"
            ) from None

    def _propose(self, proposal: Proposal) -> Published:
        if self._leases is None:
            self._sync_branches()
        leases = self._leases or {}
        branch = proposal.branch
        lease = leases.get(branch, "")
        self._git(
            "push", "--quiet", "--no-verify", f"--force-with-lease=refs/heads/{branch}:{lease}",
            self.settings.remote, f"{proposal.head_sha}:refs/heads/{branch}",
        )  # fmt: skip
        leases[branch] = proposal.head_sha
        body = {"title": proposal.title, "body": _clip(proposal.body, 65_000)}
        pull = self._open_pull(branch)
        action = "updated"
        if pull is not None:
            if pull.get("title") != body["title"] or pull.get("body") != body["body"]:
                _, pull = self._request(
                    "PATCH", f"{self.repo_path}/pulls/{pull['number']}", body=body
                )
        else:
            action = "opened"
            base = proposal.base_ref.removeprefix(f"{self.settings.remote}/")
            create = {**body, "head": branch, "base": base}
            try:
                _, pull = self._request("POST", f"{self.repo_path}/pulls", body=create)
            except _Lost:  # GitHub may have opened it: look before trying again
                pull = self._open_pull(branch) or self._create_pull_again(create)
        have = {str(label.get("name")) for label in pull.get("labels") or []}
        if not set(proposal.labels) <= have:
            self._request(
                "POST",
                f"{self.repo_path}/issues/{pull['number']}/labels",
                body={"labels": list(proposal.labels)},
            )
        return Published(
            "pull-request",
            str(pull.get("html_url") or f"#{pull['number']}"),
            {"branch": branch, "action": action, "number": str(pull["number"])},
        )

    def _create_pull_again(self, create: Mapping[str, Any]) -> dict[str, Any]:
        try:
            _, pull = self._request("POST", f"{self.repo_path}/pulls", body=create)
        except _Lost:
            raise ForgeError(
                f"GitHub did not confirm the pull request for {create['head']} twice; gave up"
            ) from None
        return dict(pull)

    def _open_pull(self, branch: str) -> dict[str, Any] | None:
        owner = self.settings.repository.split("/", 1)[0]
        for pull in self._retrain_pulls({"state": "open", "head": f"{owner}:{branch}"}):
            if self._as_request(pull) is not None:
                return dict(pull)
        return None


def _retry(settings: Settings) -> Any:
    """GithubRetry for a bot: backoff; POST never retried on 5xx/timeouts (may be applied);
    rate-limit waits bounded by `max_wait`."""
    from github import GithubRetry

    return GithubRetry(
        total=settings.retries,
        backoff_factor=0.5,
        secondary_rate_wait=min(60.0, settings.max_wait),
        max_rate_limit_wait=settings.max_wait,
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
        raise_on_status=False,
    )


def _rate_limit_wait(exc: Any) -> float | None:
    """Seconds to wait when GitHub refused for a rate limit (nothing was applied)."""
    headers = {str(k).lower(): v for k, v in (exc.headers or {}).items()}
    message = _message(exc.data).lower()
    if exc.status not in (403, 429):
        return None
    if "retry-after" in headers:
        try:
            return max(0.0, float(headers["retry-after"]))
        except ValueError:
            return 60.0
    if "rate limit" in message:
        reset = headers.get("x-ratelimit-reset")
        if reset and str(reset).isdigit():
            return max(1.0, int(reset) - time.time())
        return 60.0
    return None


def _message(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("message") or "error")
    return "error"


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _escape_command(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
