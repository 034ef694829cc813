"""Judges come from the base branch; the pull request is only the candidate.

The attacker is the pull-request author, who controls every file of the branch: here
the model's `owners`, to have an accomplice's approval count.
"""

from __future__ import annotations

import json

from conftest import GitRepo, cli
from helpers_flow import BC, set_fields


def test_a_pull_request_cannot_name_its_own_approvers(example_repo: GitRepo) -> None:
    example_repo.git("checkout", "-q", "-b", "bc-040")
    set_fields(
        example_repo,
        BC,
        version="0.4.0",
        stages="{staging: 0.4.0}",
        owners='["@acme/health-ds", "dana", "zed"]',
    )
    example_repo.commit("Bump breast-cancer; zed co-owns it now")

    result = cli(
        "pr", "--repo", example_repo.path, "--base", "main", "--author", "erin",
        "--approved-by", "zed", "--format", "json",
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    model = json.loads(result.stdout)["models"][0]
    approvals = next(v for v in model["verdicts"] if v["rule"] == "approvals")
    assert approvals["status"] == "pending"
    assert "not counted: zed (not in owners)" in approvals["reason"]
    assert (
        "owners change from @acme/health-ds, dana to @acme/health-ds, dana, zed; the change "
        "takes effect after merge (approvals now count the base branch's owners)"
    ) in model["reasons"]


def test_a_pull_request_cannot_choose_its_base_branch(example_repo: GitRepo) -> None:
    """Without --base, the base is the default branch as the base says it: a pull request
    that points `default_branch` at a branch with loosened policies changes nothing."""
    example_repo.git("branch", "lax")
    example_repo.git("checkout", "-q", "-b", "attack")
    config = example_repo.path / "modelward.yaml"
    config.write_text(config.read_text().replace("default_branch: main", "default_branch: lax"))
    example_repo.commit("Judge me by the lax branch")

    result = cli("pr", "--repo", example_repo.path, "--author", "erin", "--format", "json")

    assert result.exit_code == 1, result.output  # the governance change needs approval
    assert json.loads(result.stdout)["base"] == "origin/main"
