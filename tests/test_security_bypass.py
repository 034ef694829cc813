"""Every bypass is in git and is a finding of `audit --verify`, from a fresh clone.

The attacker is whoever merges what governance did not approve: a policy loosened without
its owners, a model retrained under an old version number. Neither may pass silently: a
`modelward/bypass/<merge>` tag records it on origin, the promotions judged under the
loosened rules are findings, and `status` says the manifest builds another artifact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo
from helpers_flow import (
    BC,
    audit_json,
    fresh_clone,
    merge,
    open_pr,
    origin_tags,
    promote,
    pushed_example,
    status_of,
)
from helpers_registry import evidence, ours

from modelward.registry import Verdict

APPROVALS_RULE = "  - approvals: {min: 1, from: owners, exclude_author: true}\n"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return pushed_example(tmp_path)


def loosen_staging(repo: GitRepo) -> str:
    """Merge a policy change that drops staging's approvals rule, approved by a model
    owner but by no governance owner. Returns the merge commit."""
    staging = (repo.path / "policies/staging.yaml").read_text()
    open_pr(repo, "loosen", 9, files={"policies/staging.yaml": staging.replace(APPROVALS_RULE, "")})
    before = merge(repo, "loosen", 9, approvers=("dana",))
    result = promote(repo, before)
    assert result.exit_code == 0, result.output
    return repo.head()


def test_an_unapproved_policy_change_is_a_tag_an_auditor_sees(
    repo: GitRepo, tmp_path: Path
) -> None:
    merged = loosen_staging(repo)

    tag = f"modelward/bypass/{merged[:12]}"
    assert tag in origin_tags(repo)
    code, data = audit_json(fresh_clone(repo, tmp_path / "auditor"))

    assert code == 1
    findings = data["verification"]["findings"]  # type: ignore[index]
    assert [(f["tag"], f["check"]) for f in findings] == [(tag, "bypass")]
    assert "modelward.yaml/governance" in findings[0]["message"]
    assert "policies/staging.yaml" in findings[0]["message"]


def test_a_promotion_judged_under_loosened_rules_is_a_finding(repo: GitRepo) -> None:
    loosen_staging(repo)
    # no approvals at all: under the loosened rules the promotion passes
    open_pr(repo, "bc-040", 7, {BC: {"version": "0.4.0", "stages": "{staging: 0.4.0}"}})
    before = merge(repo, "bc-040", 7)
    result = promote(repo, before)
    assert result.exit_code == 0 and "BYPASS" not in result.stdout, result.output

    code, data = audit_json(repo.path)

    assert code == 1
    loosened = [
        f
        for f in data["verification"]["findings"]  # type: ignore[index]
        if f["check"] == "loosened"
    ]
    assert [f["tag"] for f in loosened] == ["breast-cancer#staging#1"]
    assert loosened[0]["message"].startswith(
        "staging/approvals would not have passed under the rules before the unapproved "
        "governance change modelward/bypass/"
    )


def test_an_artifact_change_without_a_version_bump_is_a_bypass_and_out_of_sync(
    repo: GitRepo, tmp_path: Path
) -> None:
    open_pr(
        repo,
        "bc-040",
        7,
        {BC: {"version": "0.4.0", "stages": "{staging: 0.4.0}"}},
        approvers=("dana",),
    )
    assert promote(repo, merge(repo, "bc-040", 7, approvers=("dana",))).exit_code == 0

    report = open_pr(
        repo, "retune", 8, {BC: {"  params": "{C: 0.5, max_iter: 1000}"}}, approvers=("dana",)
    )
    assert report.exit_code == 1  # pr blocks: the built-in version check fails
    assert "the artifact changed but version stays 0.4.0; bump it" in report.output
    before = merge(repo, "retune", 8, approvers=("dana",))  # merged over the block
    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert "skipped breast-cancer" in result.stdout  # nothing registered ...
    assert "BYPASS: breast-cancer: the artifact changed but version stays 0.4.0" in result.stdout
    tag = f"modelward/bypass/{repo.head()[:12]}"
    assert tag in origin_tags(repo)  # ... but the bypass is in git
    clone = fresh_clone(repo, tmp_path / "auditor")
    status = status_of(clone, "breast-cancer")
    assert status["status"] == "OutOfSync"
    assert status["reason"] == "the manifest builds a different artifact than registered 0.4.0"
    code, data = audit_json(clone)
    assert code == 1
    assert (tag, "bypass") in {
        (f["tag"], f["check"])
        for f in data["verification"]["findings"]  # type: ignore[index]
    }


def test_a_recorded_bypass_is_a_finding_even_when_its_evidence_cannot_be_rechecked(
    tmp_path: Path,
) -> None:
    """The merge commit named by the tag is gone (a force-push): nothing can be re-judged,
    yet the bypass the tag records is still reported, and audit exits 1."""
    repo = make_repo(tmp_path, origin=False)
    c = repo.head()
    failed = (Verdict("staging", "approvals", "pending", "0 of 1 approvals from owners"),)
    ev = evidence(stage="staging", bypass=True, verdicts=failed, waivers=(), merge_commit="f" * 40)
    ours(repo.path, "churn@v1.3.0", c, evidence(action="register", stage=None))
    ours(repo.path, "churn#staging#1", c, ev)

    code, data = audit_json(repo.path)

    assert code == 1
    findings = data["verification"]["findings"]  # type: ignore[index]
    assert {
        "model": "churn",
        "tag": "churn#staging#1",
        "check": "bypass",
        "message": "recorded as a bypass: merged over staging/approvals",
    } in findings


def test_a_bypass_tag_without_its_payload_is_still_a_finding(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, origin=False)
    repo.git("tag", "-a", "modelward/bypass/0123456789ab", "-m", "payload removed")

    code, data = audit_json(repo.path)

    assert code == 1
    assert (
        data["verification"]["findings"]
        == [  # type: ignore[index]
            {
                "model": "-",
                "tag": "modelward/bypass/0123456789ab",
                "check": "bypass",
                "message": f"merge {repo.head()[:12]} bypassed governance: the tag carries no "
                "payload",
            }
        ]
    )


NO_REGRESSION = """\
apiVersion: modelward/v1
kind: Policy
name: staging-quality
description: A staging model may not be worse than the one before it.
applies_to: {stages: [staging], models: [breast-cancer], tasks: [classification]}
enforcement: block
rules:
  - no_regression: {metric: roc_auc, max_drop: 0.005, against: staging}
"""


def test_a_regression_pr_blocked_is_a_bypass_at_promote(repo: GitRepo, tmp_path: Path) -> None:
    """Nothing is registered in staging, so `pr` compares with the base branch's model;
    `promote` must compare with the same baseline, or the blocked regression passes."""
    repo.commit("A staging no_regression rule", {"policies/staging-quality.yaml": NO_REGRESSION})
    repo.git("push", "-q", "origin", "main")
    worse = (
        (repo.path / BC)
        .read_text()
        .replace("version: 0.3.0", "version: 0.4.0")
        .replace("{staging: 0.3.0}", "{staging: 0.4.0}")
        .replace(
            "  target: malignant\n", "  target: malignant\n  features: {include: [mean_texture]}\n"
        )
    )
    report = open_pr(repo, "bc-040", 7, files={BC: worse}, approvers=("dana",))
    assert report.exit_code == 1, report.output
    verdict = next(
        v
        for v in json.loads(report.stdout)["models"][0]["verdicts"]
        if v["rule"] == "no_regression"
    )
    assert verdict["status"] == "fail"
    assert verdict["reason"].startswith("roc_auc dropped ")

    result = promote(repo, merge(repo, "bc-040", 7, approvers=("dana",)))  # over the block

    assert result.exit_code == 0, result.output
    assert (
        "BYPASS: staging-quality/no_regression: roc_auc dropped 0.1784 (0.9962 -> 0.8178)"
    ) in result.stdout
    code, data = audit_json(fresh_clone(repo, tmp_path / "auditor"))
    assert code == 1
    findings = data["verification"]["findings"]  # type: ignore[index]
    # the tag records the base branch's model it was compared with, so the auditor judges
    # the rule again from git alone and names the drop (not only "recorded as a bypass")
    tag = "breast-cancer#staging#1"  # (its artifact is not in a fresh clone: another finding)
    [rejudged] = [f for f in findings if f["tag"] == tag and f["check"] != "artifact"]
    assert rejudged["check"] == "policy"
    assert "staging-quality/no_regression would not have passed" in rejudged["message"]
    assert "roc_auc dropped 0.1784 (0.9962 -> 0.8178)" in rejudged["message"]
    assert not [s for s in data["verification"]["skipped"] if "no_regression" in s]  # type: ignore[index]
