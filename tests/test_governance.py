"""Governance at a git ref: the policies that judge a pull request come from its base."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitRepo, make_repo

from modelward.errors import InvalidInput, UsageError
from modelward.governance import governance_at


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path)


def rewrite(repo: GitRepo, path: str, old: str, new: str) -> None:
    target = repo.path / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))


def min_roc_auc(repo: GitRepo, ref: str) -> float:
    policy = governance_at(repo.path, ref).policies["production"].record
    return next(r.min_metric for r in policy.rules if r.min_metric)["roc_auc"]


def test_example_governance_at_head(repo: GitRepo) -> None:
    gov = governance_at(repo.path, "HEAD")

    assert sorted(gov.policies) == ["fairness", "production", "staging"]
    assert gov.policies["staging"].path == "policies/staging.yaml"
    assert gov.config.stage_names == ("staging", "production")
    assert gov.config.governance is not None
    assert gov.config.governance.owners == ["@acme/ml-governance", "carol"]
    assert gov.waivers is not None
    assert [w.model for w in gov.waivers.record.waivers] == ["churn", "breast-cancer"]


def test_policies_are_read_at_the_ref_not_from_head_or_the_work_tree(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "relax")
    rewrite(repo, "policies/production.yaml", "roc_auc: 0.80", "roc_auc: 0.50")
    repo.commit("Relax the production floor")
    rewrite(repo, "policies/production.yaml", "roc_auc: 0.50", "roc_auc: 0.10")  # uncommitted

    assert min_roc_auc(repo, "main") == 0.80
    assert min_roc_auc(repo, "HEAD") == 0.50
    assert min_roc_auc(repo, "relax~1") == 0.80


def test_policy_added_on_a_branch_is_absent_at_base(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "more")
    text = (repo.path / "policies/staging.yaml").read_text().replace("name: staging", "name: extra")
    repo.commit("Extra policy", {"policies/extra.yaml": text})

    assert sorted(governance_at(repo.path, "main").policies) == [
        "fairness",
        "production",
        "staging",
    ]
    assert sorted(governance_at(repo.path, "more").policies) == [
        "extra",
        "fairness",
        "production",
        "staging",
    ]


def test_files_deleted_from_the_work_tree_are_still_read_at_the_ref(repo: GitRepo) -> None:
    (repo.path / "policies/production.yaml").unlink()
    (repo.path / "modelward.yaml").unlink()

    gov = governance_at(repo.path, "HEAD")

    assert "production" in gov.policies
    assert gov.config.governance is not None


def test_broken_policy_at_a_ref_names_file_and_line(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "broken")
    rewrite(repo, "policies/staging.yaml", "  - version_bump: true", "  - version_bump: yes please")
    rewrite(repo, "policies/production.yaml", "  - max_artifact_mb: 50", "  - max_artifact_mb: -1")
    repo.commit("Broken policies")
    repo.git("checkout", "-q", "main")  # the work tree is fine; the ref is not

    with pytest.raises(InvalidInput) as caught:
        governance_at(repo.path, "broken")

    assert str(caught.value).splitlines() == [
        "policies/production.yaml:14: rules[6].max_artifact_mb: must be > 0.0 (got -1)",
        "policies/staging.yaml:12: rules[4].version_bump: expected true or false (got 'yes please')",
    ]
    governance_at(repo.path, "main")  # and the base itself loads


def test_invalid_yaml_at_a_ref_names_file_and_line(repo: GitRepo) -> None:
    repo.commit("Tab", {"policies/staging.yaml": "apiVersion: modelward/v1\nkind:\tPolicy: x\n"})

    with pytest.raises(InvalidInput) as caught:
        governance_at(repo.path, "HEAD")

    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert (problem.path, problem.line) == ("policies/staging.yaml", 2)
    assert problem.message.startswith("invalid YAML: ")


def test_cross_file_problems_at_a_ref_are_reported_together(repo: GitRepo) -> None:
    rewrite(repo, "policies/staging.yaml", "name: staging", "name: stage")
    rewrite(repo, "policies/waivers.yaml", "  - policy: fairness", "  - policy: fairnes")
    repo.commit("Misnamed policy, waiver of an unknown policy")

    with pytest.raises(InvalidInput) as caught:
        governance_at(repo.path, "HEAD")

    assert [str(p) for p in caught.value.problems] == [
        "policies/staging.yaml:3: name: 'stage' must equal the file name 'staging'",
        "policies/waivers.yaml:4: waivers[0].policy: unknown policy 'fairnes' in policies/; "
        "did you mean 'fairness'?",
    ]


def test_missing_modelward_yaml_at_a_ref_means_the_default_config(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, example=False, origin=False)
    repo.commit("Only a policy", {"policies/gate.yaml": POLICY})

    gov = governance_at(repo.path, "HEAD")

    assert gov.config.stage_names == ("staging", "production")
    assert gov.config.governance is None
    assert list(gov.policies) == ["gate"]
    assert gov.waivers is None


def test_unknown_ref_is_a_usage_error(repo: GitRepo) -> None:
    with pytest.raises(UsageError, match=r"^ref 'v9' does not name a commit in "):
        governance_at(repo.path, "v9")


POLICY = """\
apiVersion: modelward/v1
kind: Policy
name: gate
applies_to: {stages: [staging]}
rules:
  - data_checks_pass: true
"""
