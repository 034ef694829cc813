"""The Actions run context: from GitHub's example payloads to typed facts."""

from __future__ import annotations

from pathlib import Path

import pytest
from ghserver import events

from modelward.ci_context import from_env
from modelward.errors import UsageError

HEAD, BASE = "a" * 40, "b" * 40


@pytest.fixture(autouse=True)
def _spec(_github_spec: None) -> None:
    """The payloads come from @octokit/webhooks-examples."""


def env(tmp_path: Path, name: str, payload: dict[str, object]) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(events.write(tmp_path, payload)),
        "GITHUB_SHA": "f" * 40,
        "GITHUB_RUN_ID": "9",
        "GITHUB_TOKEN": "secret-token",
    }


def test_a_pull_request_event_gives_head_base_number_and_author(tmp_path: Path) -> None:
    payload = events.pull_request(
        "synchronize", number=12, author="erin", head_sha=HEAD, base_sha=BASE
    )
    ctx = from_env(env(tmp_path, "pull_request", payload))
    assert ctx is not None and ctx.pull_request is not None
    pr = ctx.pull_request
    assert (pr.number, pr.author, pr.head_sha, pr.base_sha, pr.base_ref) == (
        12,
        "erin",
        HEAD,
        BASE,
        "main",
    )
    assert not pr.fork and not pr.review_only
    assert ctx.sha == "f" * 40 != pr.head_sha  # GITHUB_SHA is the test merge commit
    assert ctx.run_url == "https://github.com/acme/models/actions/runs/9"
    assert "secret-token" not in repr(ctx)


def test_a_fork_and_a_review_event_are_told_apart(tmp_path: Path) -> None:
    fork = events.pull_request(
        "opened", number=1, author="eve", head_sha=HEAD, base_sha=BASE, fork=True
    )
    ctx = from_env(env(tmp_path, "pull_request", fork))
    assert ctx is not None and ctx.pull_request is not None and ctx.pull_request.fork
    review = events.review(
        "APPROVED", reviewer="hana", number=1, author="eve", head_sha=HEAD, base_sha=BASE
    )
    ctx = from_env(env(tmp_path, "pull_request_review", review))
    assert ctx is not None and ctx.pull_request is not None and ctx.pull_request.review_only


def test_a_push_to_the_default_branch_gives_the_range(tmp_path: Path) -> None:
    ctx = from_env(env(tmp_path, "push", events.push(before=BASE, after=HEAD)))
    assert ctx is not None and ctx.push is not None
    assert (ctx.push.before, ctx.push.after, ctx.push.to_default_branch) == (BASE, HEAD, True)


def test_outside_actions_there_is_no_context() -> None:
    assert from_env({"GITHUB_TOKEN": "x"}) is None


def test_a_broken_payload_names_the_file_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text('{"pull_request": {"number": 1}}')
    values = env(tmp_path, "pull_request", {}) | {"GITHUB_EVENT_PATH": str(bad)}
    with pytest.raises(UsageError, match=r"event.json: pull_request.head.repo: missing"):
        from_env(values)
    bad.write_text("not json")
    with pytest.raises(UsageError, match="cannot read the event payload"):
        from_env(values)
