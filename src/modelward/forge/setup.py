"""Choosing and building the forge for `modelward pr` and `modelward promote`.

In GitHub Actions the run context (ci_context) supplies what flags supply locally: base,
head, number and author of the pull request, or the pushed range. The GitHub forge's
settings that belong to the repository (the bot's login, whether approvals must be on
the current head) are read from modelward.yaml at the BASE ref, like every judge.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import git
from ..changes import CONFIG_FILE
from ..ci_context import RunContext, from_env
from ..errors import UsageError
from ..yamlio import load_bytes
from . import resolve_name

TIMEOUT_ENV = "MODELWARD_GITHUB_TIMEOUT"
SPACING_ENV = "MODELWARD_GITHUB_WRITE_SPACING"
MAX_WAIT_ENV = "MODELWARD_GITHUB_MAX_WAIT"


@dataclass
class Chosen:
    """The forge to use and the refs the flow should take."""

    forge: Any
    ctx: RunContext | None
    base: str | None
    head: str | None


def repo_settings(repo: Path, ref: str) -> tuple[str, bool]:
    """(bot login, require_current_head) from modelward.yaml at `ref`, plain YAML."""
    raw = git.read_blobs(repo, ref, [CONFIG_FILE]).get(CONFIG_FILE)
    data = load_bytes(raw, CONFIG_FILE).data if raw is not None else None
    data = data if isinstance(data, dict) else {}
    github = data.get("github")
    github = github if isinstance(github, dict) else {}
    approvals = data.get("approvals")
    approvals = approvals if isinstance(approvals, dict) else {}
    login = github.get("bot_login")
    current = approvals.get("require_current_head")
    return (
        login if isinstance(login, str) and login else "github-actions[bot]",
        current if isinstance(current, bool) else True,
    )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r}: expected a number of seconds") from None


def choose(
    name: str,
    repo: Path,
    *,
    settings_ref: Callable[[RunContext | None], str],
    local: Mapping[str, Any],
    emit: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> Chosen:
    """The forge `name` (auto|local|github) for this run, with the refs from the event."""
    env = os.environ if env is None else env
    ctx = from_env(env)
    chosen = resolve_name(name, env)
    pull = ctx.pull_request if ctx else None
    base = pull.base_sha if pull else (ctx.push.before if ctx and ctx.push else None)
    head = pull.head_sha if pull else (ctx.push.after if ctx and ctx.push else None)
    if chosen == "local":
        from .local import LocalForge

        kwargs = dict(local)
        if pull is not None:  # Actions without a token: facts from the payload still
            kwargs.setdefault("author", None)
            kwargs["author"] = kwargs["author"] or pull.author
            kwargs["pr_number"] = kwargs.get("pr_number") or pull.number
        return Chosen(LocalForge(repo, **kwargs), ctx, base, head)
    if ctx is None or not ctx.token:
        raise UsageError(
            "--forge github needs GitHub Actions (GITHUB_ACTIONS=true, GITHUB_REPOSITORY, "
            "GITHUB_EVENT_PATH) and a token in GITHUB_TOKEN or MODELWARD_GITHUB_TOKEN"
        )
    from .github import GitHubForge, Settings

    login, current_head = repo_settings(repo, settings_ref(ctx))
    settings = Settings(
        repository=ctx.repository,
        token=ctx.token,
        api_url=ctx.api_url,
        server_url=ctx.server_url,
        bot_login=login,
        require_current_head=current_head,
        timeout=int(_number(env, TIMEOUT_ENV, 15)),
        write_spacing=_number(env, SPACING_ENV, 1.0),
        max_wait=_number(env, MAX_WAIT_ENV, 60.0),
        run_url=ctx.run_url,
        step_summary=ctx.step_summary,
        output=ctx.output,
        pr_number=pull.number if pull else None,
        pr_author=pull.author if pull else None,
        emit=emit,
        checkout=repo,
    )
    return Chosen(GitHubForge(settings), ctx, base, head)


def explain_denied(denied: Sequence[str]) -> str | None:
    """One log line for everything a read-only or under-privileged token could not post."""
    if not denied:
        return None
    return (
        "could not post to GitHub (" + "; ".join(denied) + "). The token is read-only here "
        "(a pull request from a fork) or the workflow lacks a permission (pull-requests, "
        "statuses, checks or contents: write; see docs/github.md). The verdict stands: it is "
        "in the job summary and the exit code."
    )
