"""GitHub Actions: the environment and the event payload, as one typed run context.

Only this module and forge/github.py read Actions' variables. In Actions, `modelward pr`
and `modelward promote` need no flag besides `--repo`: base, head, number and author of a
pull request, or the pushed range, come from the payload. On `pull_request` events
`GITHUB_SHA` is a test merge commit, never the head: the head SHA is taken from the
payload, and the workflow checks that commit out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

PR_EVENTS = ("pull_request", "pull_request_review")
PR_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
REVIEW_ACTIONS = ("submitted", "dismissed", "edited")


@dataclass(frozen=True)
class PullRequestEvent:
    number: int
    author: str
    head_sha: str
    base_sha: str
    base_ref: str
    fork: bool
    review_only: bool
    """A review event: only approvals can have changed since the last report."""


@dataclass(frozen=True)
class PushEvent:
    before: str
    after: str
    ref: str
    default_branch: str | None

    @property
    def to_default_branch(self) -> bool:
        return self.default_branch is not None and self.ref == f"refs/heads/{self.default_branch}"


@dataclass(frozen=True)
class RunContext:
    """One GitHub Actions run."""

    event_name: str
    repository: str
    api_url: str
    server_url: str
    run_id: str | None
    sha: str | None
    token: str | None = field(repr=False)
    step_summary: Path | None
    output: Path | None
    pull_request: PullRequestEvent | None = None
    push: PushEvent | None = None

    @property
    def run_url(self) -> str | None:
        if not self.run_id:
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @property
    def has_token(self) -> bool:
        return bool(self.token)


def token_from(env: Mapping[str, str]) -> str | None:
    return env.get("MODELWARD_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None


def in_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def from_env(env: Mapping[str, str]) -> RunContext | None:
    """The run context, or None outside GitHub Actions."""
    if not in_actions(env):
        return None
    repository = env.get("GITHUB_REPOSITORY") or ""
    if "/" not in repository:
        raise UsageError("GITHUB_REPOSITORY must be OWNER/NAME in GitHub Actions")
    event_name = env.get("GITHUB_EVENT_NAME") or ""
    payload = _payload(env.get("GITHUB_EVENT_PATH"))
    summary, output = env.get("GITHUB_STEP_SUMMARY"), env.get("GITHUB_OUTPUT")
    ctx = RunContext(
        event_name=event_name,
        repository=repository,
        api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
        run_id=env.get("GITHUB_RUN_ID") or None,
        sha=env.get("GITHUB_SHA") or None,
        token=token_from(env),
        step_summary=Path(summary) if summary else None,
        output=Path(output) if output else None,
    )
    path = env.get("GITHUB_EVENT_PATH") or "GITHUB_EVENT_PATH"
    if event_name in PR_EVENTS:
        return _replace(ctx, pull_request=_pull_request(payload, event_name, path))
    if event_name == "push":
        return _replace(ctx, push=_push(payload, path))
    return ctx


def _replace(ctx: RunContext, **changes: Any) -> RunContext:
    from dataclasses import replace

    return replace(ctx, **changes)


def _payload(path: str | None) -> Mapping[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read the event payload: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the event payload is not a JSON object")
    return data


def _get(data: Mapping[str, Any], dotted: str, path: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise UsageError(f"{path}: {dotted}: missing from the event payload")
        value = value[part]
    return value


def _pull_request(payload: Mapping[str, Any], event: str, path: str) -> PullRequestEvent:
    head_repo = _get(payload, "pull_request.head.repo", path) or {}
    base_repo = _get(payload, "pull_request.base.repo", path) or {}
    fork = bool(head_repo.get("fork")) or (
        head_repo.get("full_name") not in (None, base_repo.get("full_name"))
    )
    return PullRequestEvent(
        number=int(_get(payload, "pull_request.number", path)),
        author=str(_get(payload, "pull_request.user.login", path)),
        head_sha=str(_get(payload, "pull_request.head.sha", path)),
        base_sha=str(_get(payload, "pull_request.base.sha", path)),
        base_ref=str(_get(payload, "pull_request.base.ref", path)),
        fork=fork,
        review_only=event == "pull_request_review",
    )


def _push(payload: Mapping[str, Any], path: str) -> PushEvent:
    repo = payload.get("repository") or {}
    default = repo.get("default_branch") or repo.get("master_branch")
    return PushEvent(
        before=str(_get(payload, "before", path)),
        after=str(_get(payload, "after", path)),
        ref=str(_get(payload, "ref", path)),
        default_branch=str(default) if default else None,
    )
