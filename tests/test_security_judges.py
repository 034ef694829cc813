"""Judges come from the base branch; the pull request is only the candidate.

The attacker is the pull-request author, who controls every file of the branch: here
the model's `owners`, to have an accomplice's approval count, and the dataset's
`expectations.yaml`, to delete or loosen the expectation its new data fails.
"""

from __future__ import annotations

import json

from conftest import GitRepo, cli
from helpers_flow import BC, set_fields
from helpers_training import edit, repin, rewrite_column

MEAN_AREA = (
    "  - expect_column_values_to_be_between: {column: mean_area, min_value: 100, max_value: 3000}\n"
)


def _outlying_areas(repo: GitRepo, expectation: str) -> None:
    """A branch whose data breaks the base's mean_area bound, with `expectation` in its
    place, and a breast-cancer bump into staging that its owner dana approves."""
    repo.git("checkout", "-q", "-b", "bc-040")
    rewrite_column(
        repo.path / "data/breast-cancer/breast_cancer.csv",
        "mean_area",
        lambda i, v: "4254.0" if i < 3 else v,
    )
    repin(repo.path, "breast-cancer")
    edit(repo.path / "data/breast-cancer/expectations.yaml", MEAN_AREA, expectation)
    set_fields(repo, BC, version="0.4.0", stages="{staging: 0.4.0}")
    set_fields(repo, "models/breast-cancer-stack/model.yaml", version="0.2.0")  # same data
    repo.commit("breast-cancer 0.4.0 on new data")


def _judge(repo: GitRepo, fmt: str) -> tuple[int, str]:
    result = cli(
        "pr", "--repo", repo.path, "--base", "main", "--author", "erin",
        "--approved-by", "dana", "--format", fmt,
    )  # fmt: skip
    return result.exit_code, result.stdout


def test_a_pull_request_cannot_delete_the_expectation_its_data_fails(
    example_repo: GitRepo,
) -> None:
    _outlying_areas(example_repo, "")

    code, out = _judge(example_repo, "json")

    assert code == 1, out
    data = json.loads(out)
    assert data["summary"] == "fail"
    model = next(m for m in data["models"] if m["name"] == "breast-cancer")
    checks = model["data_checks"]
    assert checks["success"] is False
    assert [e["success"] for e in checks["expectations"]] == [True] * 7  # its own suite
    assert checks["base"]["path"] == "data/breast-cancer/expectations.yaml"
    failed = [e for e in checks["base"]["expectations"] if not e["success"]]
    assert [(e["kwargs"]["column"], e["unexpected_count"]) for e in failed] == [("mean_area", 3)]
    assert checks["loosened"] == ["expect_column_values_to_be_between (column: mean_area) removed"]
    verdict = next(v for v in model["verdicts"] if v["rule"] == "data_checks_pass")
    assert verdict["status"] == "fail"
    assert verdict["reason"] == (
        "dataset breast-cancer failed 1 expectation: "
        "expect_column_values_to_be_between mean_area (base branch's suite)"
    )


def test_a_loosened_expectation_is_listed_in_the_report(example_repo: GitRepo) -> None:
    _outlying_areas(example_repo, MEAN_AREA.replace("max_value: 3000", "max_value: 5000"))

    code, markdown = _judge(example_repo, "markdown")

    assert code == 1, markdown
    assert "## ❌ modelward: blocked — 1 blocking failure in breast-cancer\n" in markdown
    assert (
        "**Expectations removed or loosened:** expect_column_values_to_be_between "
        "(column: mean_area): max_value 3000 → 5000"
    ) in markdown
    assert "**The base branch's suite** (`data/breast-cancer/expectations.yaml` as committed" in (
        markdown
    )
    assert "1 of 8 expectations failed" in markdown


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
    assert "not counted: zed (not among the known owners)" in approvals["reason"]
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
