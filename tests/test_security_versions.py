"""A version is immutable: once registered, it never names another artifact.

The attacker re-uses a registered version number for a different model (after deleting
and re-adding the model, on any branch): `pr` fails with a clear verdict, and
`promote` refuses before making any tag.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitRepo, cli, make_repo
from helpers_flow import BC, merge, open_pr, origin_tags, promote
from helpers_registry import evidence, ours


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """breast-cancer 0.4.0 was registered once, with another artifact than today's."""
    r = make_repo(tmp_path)
    r.commit("Keep modelward's work files out of git", {".gitignore": ".modelward/\n"})
    registered = evidence(
        model="breast-cancer",
        version="0.4.0",
        action="register",
        stage=None,
        training_digest="1" * 64,
    )
    ours(r.path, "breast-cancer@v0.4.0", r.head(), registered)
    r.git("push", "-q", "origin", "main", "--tags")
    return r


def test_a_registered_version_cannot_be_reused_for_another_artifact(repo: GitRepo) -> None:
    result = open_pr(
        repo,
        "reuse",
        7,
        {BC: {"version": "0.4.0", "stages": "{staging: 0.4.0}"}},
        approvers=("dana",),
    )

    assert result.exit_code == 1
    verdicts = json.loads(result.stdout)["models"][0]["verdicts"]
    immutable = [v for v in verdicts if v["rule"] == "immutable_version"]
    assert [(v["policy"], v["status"]) for v in immutable] == [("modelward.yaml", "fail")]
    assert immutable[0]["reason"].startswith("version 0.4.0 is registered with another artifact")

    tags = origin_tags(repo)
    before = merge(repo, "reuse", 7, approvers=("dana",))
    refused = promote(repo, before)

    assert refused.exit_code == 1
    assert "version 0.4.0 is registered with another artifact" in refused.stderr
    assert "nothing was promoted" in refused.stderr
    assert origin_tags(repo) == tags
    assert cli("status", "--repo", repo.path).exit_code == 0
