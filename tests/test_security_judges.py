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
