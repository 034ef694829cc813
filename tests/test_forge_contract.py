"""The forge contract: the same scenarios against every forge (local, GitHub, fake)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_repo
from fakeforge import FakeForge
from ghserver import GitHubServer
from ghserver.server import Pull

from modelward.forge import CHOICES, forge_class, resolve_name
from modelward.forge.base import PullRequest
from modelward.forge.github import GitHubForge, Settings
from modelward.forge.local import LocalForge

HEAD = "a" * 40
OTHER = "b" * 40


@pytest.fixture(params=["local", "github", "fake"])
def forge(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "local":
        yield LocalForge(make_repo(tmp_path, origin=False).path, author="erin", pr_number=7)
    elif request.param == "github":
        server: GitHubServer = request.getfixturevalue("github")
        server.add_pull(Pull(7, "erin", HEAD, "main"))
        yield GitHubForge(
            Settings(
                repository="acme/models",
                token="ghs_test_token",
                api_url=server.url,
                write_spacing=0,
                pr_number=7,
                pr_author="erin",
            )
        )
    else:
        yield FakeForge()


def _report(head: str, summary: str) -> tuple[str, dict[str, Any]]:
    data = {"head_sha": head, "summary": summary, "models": [], "governance": []}
    from modelward.report import MARKER, data_block

    return f"{MARKER}\n# report {summary}\n{data_block(data)}\n", data


def test_a_published_report_is_read_back_for_its_head_only(forge: Any) -> None:
    pr = forge.pull_request(HEAD, "main")
    assert (pr.head_sha, pr.base_ref, pr.number) == (HEAD, "main", 7)
    markdown, data = _report(HEAD, "pending")
    forge.publish_report(pr, markdown, data, "pending", "waiting")
    markdown, data = _report(HEAD, "pass")
    forge.publish_report(pr, markdown, data, "success", "ok")
    saved = forge.saved_report_data(HEAD)
    assert saved is not None and saved["summary"] == "pass"
    assert forge.saved_report_data(OTHER) is None


def test_a_release_is_made_once_and_reused(forge: Any, tmp_path: Path) -> None:
    files = {}
    for name in ("model.joblib", "metrics.json", "MODEL_CARD.md"):
        files[name] = tmp_path / name
        files[name].write_text(name)
    assert not forge.has_release("churn@v1.0.0")
    forge.publish_release("churn@v1.0.0", files, "# card")
    assert forge.has_release("churn@v1.0.0")
    forge.publish_release("churn@v1.0.0", files, "# card")  # a re-run: nothing breaks
    assert forge.has_release("churn@v1.0.0")


def test_a_comment_on_a_pull_request_says_where_it_went(forge: Any) -> None:
    published = forge.comment(PullRequest(7, "erin", HEAD, "main", merge_commit=OTHER), "done")
    assert published.kind == "comment" and published.location


def test_auto_is_github_only_in_actions_with_a_token() -> None:
    assert resolve_name("auto", {}) == "local"
    assert resolve_name("auto", {"GITHUB_ACTIONS": "true"}) == "local"
    assert resolve_name("auto", {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "t"}) == "github"
    assert resolve_name("auto", {"GITHUB_ACTIONS": "true", "MODELWARD_GITHUB_TOKEN": "t"}) == (
        "github"
    )
    assert resolve_name("local", {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "t"}) == "local"
    assert CHOICES == ("auto", "local", "github")
    assert forge_class("local") is LocalForge and forge_class("github") is GitHubForge


def test_choosing_the_local_forge_does_not_import_pygithub() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from modelward.forge import forge_class; forge_class('local');"
        "print('github' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_local_only_options_say_so_in_their_help() -> None:
    from conftest import cli

    text = " ".join(cli("pr", "--help").output.split())
    for option in ("--author", "--approved-by", "--pr-number"):
        after = text.split(option, 1)[1]
        assert "(local forge only" in after[:120], option
