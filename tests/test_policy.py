"""The policy engine on the example manifests and hand-built candidates."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

import pytest
from conftest import ROOT

from modelward import workspace
from modelward.forge.base import TEAM_PERMISSION
from modelward.manifest import Config, Model, Policy, Waivers, parse
from modelward.policy import (
    Approvals,
    Baseline,
    Candidate,
    Verdict,
    WaiverUse,
    evaluate,
    evaluate_governance,
    re_evaluate_approvals,
    summarize,
)
from modelward.workspace import Loaded, Workspace
from modelward.yamlio import load_bytes

TODAY = date(2026, 1, 15)
GOOD_SLICES = {
    "gender": {
        "female": {"n": 480, "metrics": {"recall": 0.7010, "roc_auc": 0.90}},
        "male": {"n": 489, "metrics": {"recall": 0.6898, "roc_auc": 0.91}},
    }
}
UNFAIR_SLICES = {
    "gender": {
        "female": {"n": 480, "metrics": {"recall": 0.7010}},
        "male": {"n": 489, "metrics": {"recall": 0.6898}},
        "nonbinary": {"n": 31, "metrics": {"recall": 0.6198}},
    }
}


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return workspace.load(ROOT)


def edited_model(name: str, old: str, new: str) -> Loaded[Model]:
    """The example manifest of `name` with one piece of text replaced."""
    text = (ROOT / "models" / name / "model.yaml").read_text()
    assert old in text
    doc = load_bytes(text.replace(old, new).encode(), f"models/{name}/model.yaml")
    return Loaded(parse(doc, Model), doc)


def policy(text: str, name: str = "custom") -> dict[str, Loaded[Policy]]:
    doc = load_bytes(
        f"apiVersion: modelward/v1\nkind: Policy\nname: {name}\n{text}".encode(),
        f"policies/{name}.yaml",
    )
    return {name: Loaded(parse(doc, Policy), doc)}


def waivers(text: str) -> Loaded[Waivers]:
    doc = load_bytes(
        f"apiVersion: modelward/v1\nkind: Waivers\nwaivers:\n{text}".encode(),
        "policies/waivers.yaml",
    )
    return Loaded(parse(doc, Waivers), doc)


def candidate(ws: Workspace, name: str = "churn", **fields: Any) -> Candidate:
    """A churn candidate that meets every production rule unless told otherwise."""
    model = fields.pop("model", None) or ws.models[name]
    values: dict[str, Any] = {
        "metrics": {"roc_auc": 0.9012, "f1": 0.61, "accuracy": 0.84, "recall": 0.70},
        "slice_metrics": GOOD_SLICES,
        "artifact_sha256": "a" * 64,
        "artifact_bytes": 1_234_567,
        "data_checks_passed": True,
        "changed_artifact": True,
        "base_version": "0.9.0",
        "stage_history": frozenset({"staging"}),
    }
    values.update(fields)
    return Candidate(model=model, **values)


def run(
    ws: Workspace,
    cand: Candidate,
    *,
    stage: str | None = "production",
    policies: dict[str, Loaded[Policy]] | None = None,
    approvals: Approvals | None = None,
    baseline: Baseline | None = None,
    waiver_file: Loaded[Waivers] | None = None,
    today: date = TODAY,
    config: Config | None = None,
) -> list[Verdict]:
    return evaluate(
        cand,
        config=config or ws.config,
        policies=ws.policies if policies is None else policies,
        waivers=ws.waivers if waiver_file is None else waiver_file,
        baseline=baseline,
        approvals=approvals
        or Approvals("bob", ("alice", "carol"), {"@acme/risk-ds": frozenset({"carol"})}),
        today=today,
        target_stage=stage,
    )


def one(verdicts: list[Verdict], rule: str, policy: str | None = None) -> Verdict:
    found = [v for v in verdicts if v.rule == rule and (policy is None or v.policy == policy)]
    assert len(found) == 1, found
    return found[0]


def table(verdicts: list[Verdict]) -> list[tuple[str, str, str, str, int]]:
    return [(v.policy, v.rule, v.status, v.reason, v.line) for v in verdicts]


# ---------------------------------------------------------------- the whole gate


def test_production_gate_passes_a_good_candidate_with_every_reason_and_line(ws: Workspace) -> None:
    baseline = Baseline("0.9.0", "production", {"roc_auc": 0.8990}, "registry")
    verdicts = run(ws, candidate(ws), baseline=baseline)
    assert table(verdicts) == [
        ("modelward.yaml", "promotes_from", "pass", "version 1.0.0 was in staging before production", 5),
        ("fairness", "fairness_gap", "pass", "recall gap across gender is 0.0112 (female 0.7010 n=480, male 0.6898 n=489), within 0.0500", 27),
        ("production", "required_card_fields", "pass", "card has intended_use, limitations, ethical_considerations", 8),
        ("production", "data_checks_pass", "pass", "every expectation of dataset churn passed", 16),
        ("production", "min_metric", "pass", "roc_auc 0.9012 >= 0.8000", 25),
        ("production", "no_regression", "pass", "roc_auc rose 0.0022 (0.8990 -> 0.9012)", 25),
        ("production", "approvals", "pass", "2 approvals (2 required) from owners (alice, carol)", 6),
        ("production", "allowed_estimators", "pass", "sklearn.ensemble.HistGradientBoostingClassifier matches sklearn.ensemble.*", 21),
        ("production", "max_artifact_mb", "pass", "artifact is 1.23 MB, within 50 MB", 20),
        ("production", "version_bump", "pass", "version 0.9.0 -> 1.0.0", 4),
    ]  # fmt: skip
    assert all(v.path == "models/churn/model.yaml" for v in verdicts)
    assert all(v.enforcement == "block" and v.waiver is None for v in verdicts)
    assert summarize(verdicts) == "pass"


def test_target_stage_defaults_to_the_manifest_stage(ws: Workspace) -> None:
    cand = candidate(ws, "breast-cancer", base_version="0.3.0", changed_artifact=False)
    verdicts = run(ws, cand, stage=None, approvals=Approvals("dana", ("DANA",)))
    assert [(v.policy, v.rule) for v in verdicts] == [
        ("staging", "data_checks_pass"),
        ("staging", "required_card_fields"),
        ("staging", "allowed_estimators"),
        ("staging", "approvals"),
        ("staging", "version_bump"),
    ]
    assert one(verdicts, "version_bump").reason == "artifact unchanged; version stays 0.3.0"


@pytest.mark.parametrize("stage", ["none", "archived"])
def test_stage_none_or_archived_is_judged_by_no_policy(ws: Workspace, stage: str) -> None:
    assert run(ws, candidate(ws), stage=stage) == []
    assert run(ws, candidate(ws), stage=None) == []  # churn's manifest says stage: none


def test_policies_apply_only_to_models_matching_their_globs(ws: Workspace) -> None:
    rules = (
        "applies_to: {stages: [staging], models: ['breast-*']}\nrules:\n  - version_bump: true\n"
    )
    assert run(ws, candidate(ws), stage="staging", policies=policy(rules)) == []
    cand = candidate(ws, "breast-cancer", base_version="0.2.0")
    assert [v.rule for v in run(ws, cand, stage="staging", policies=policy(rules))] == [
        "version_bump"
    ]


# ---------------------------------------------------------------- rule by rule


def test_required_card_fields_lists_the_missing_ones(ws: Workspace) -> None:
    model = ws.models["diabetes"]
    verdicts = run(ws, candidate(ws, model=model), stage="production")
    v = one(verdicts, "required_card_fields")
    assert (v.status, v.reason) == ("fail", "card is missing ethical_considerations")
    assert (v.path, v.line) == ("models/diabetes/model.yaml", 8)


def test_required_card_fields_counts_blank_text_as_missing(ws: Workspace) -> None:
    model = edited_model("diabetes", "intended_use: Research", "intended_use: '  ' #")
    v = one(run(ws, candidate(ws, model=model), stage="staging"), "required_card_fields")
    assert (v.status, v.reason) == ("fail", "card is missing intended_use")


@pytest.mark.parametrize(
    ("passed", "failures", "reason"),
    [
        (
            False,
            ("expect_column_values_to_not_be_null(tenure_months): 12 unexpected",),
            "dataset churn failed 1 expectation: "
            "expect_column_values_to_not_be_null(tenure_months): 12 unexpected",
        ),
        (
            False,
            ("a", "b"),
            "dataset churn failed 2 expectations: a; b",
        ),
        (False, (), "dataset churn failed its data checks"),
        (None, (), "the data checks of dataset churn did not run"),
    ],
)
def test_data_checks_pass_fails_with_the_failed_expectations(
    ws: Workspace, passed: bool | None, failures: tuple[str, ...], reason: str
) -> None:
    cand = candidate(ws, data_checks_passed=passed, data_check_failures=failures)
    v = one(run(ws, cand), "data_checks_pass")
    assert (v.status, v.reason, v.line) == ("fail", reason, 16)


def test_min_metric_fails_below_the_floor(ws: Workspace) -> None:
    cand = candidate(ws, metrics={"roc_auc": 0.7712})
    v = one(run(ws, cand), "min_metric")
    assert (v.status, v.reason, v.line) == ("fail", "roc_auc 0.7712 < 0.8000", 25)


def test_min_metric_prints_more_digits_when_four_would_look_equal(ws: Workspace) -> None:
    v = one(run(ws, candidate(ws, metrics={"roc_auc": 0.79999})), "min_metric")
    assert v.reason == "roc_auc 0.799990 < 0.800000"


def test_min_metric_reports_every_metric_and_missing_ones(ws: Workspace) -> None:
    rules = "applies_to: {stages: [production]}\nrules:\n  - min_metric: {f1: 0.5, roc_auc: 0.8, r2: 0.1, recall: 0.9}\n"
    cand = candidate(ws, metrics={"f1": 0.61, "roc_auc": 0.85, "recall": None})
    v = one(run(ws, cand, policies=policy(rules)), "min_metric")
    assert v.status == "fail"
    assert v.reason == (
        "r2 was not computed (add it to evaluation.metrics); recall is undefined for this model"
    )
    cand = candidate(ws, metrics={"f1": 0.61, "roc_auc": 0.85, "r2": 0.2, "recall": 0.95})
    v = one(run(ws, cand, policies=policy(rules)), "min_metric")
    assert v.reason == (
        "f1 0.6100 >= 0.5000; roc_auc 0.8500 >= 0.8000; r2 0.2000 >= 0.1000; recall 0.9500 >= 0.9000"
    )


def test_no_regression_blocks_drop_larger_than_tolerance(ws: Workspace) -> None:
    baseline = Baseline("0.9.0", "production", {"roc_auc": 0.9012}, "registry")
    v = one(run(ws, candidate(ws, metrics={"roc_auc": 0.8889}), baseline=baseline), "no_regression")
    assert (v.status, v.line) == ("fail", 25)
    assert v.reason == "roc_auc dropped 0.0123 (0.9012 -> 0.8889), more than 0.0050"


def test_no_regression_allows_a_drop_within_tolerance(ws: Workspace) -> None:
    baseline = Baseline("0.9.0", "production", {"roc_auc": 0.9012}, "base-branch")
    v = one(run(ws, candidate(ws, metrics={"roc_auc": 0.8982}), baseline=baseline), "no_regression")
    assert (v.status, v.reason) == (
        "pass",
        "roc_auc dropped 0.0030 (0.9012 -> 0.8982), within 0.0050",
    )
    v = one(run(ws, candidate(ws), baseline=baseline), "no_regression")
    assert v.reason == "roc_auc unchanged (0.9012 -> 0.9012)"


def test_no_regression_passes_without_a_baseline(ws: Workspace) -> None:
    v = one(run(ws, candidate(ws), baseline=None), "no_regression")
    assert (v.status, v.reason) == ("pass", "no baseline: nothing registered in production yet")


def test_no_regression_ignores_a_registry_baseline_of_another_stage(ws: Workspace) -> None:
    staging = Baseline("0.9.0", "staging", {"roc_auc": 0.99}, "registry")
    v = one(run(ws, candidate(ws), baseline=staging), "no_regression")
    assert v.reason == "no baseline: nothing registered in production yet"


def test_no_regression_takes_the_baseline_of_its_against_stage(ws: Workspace) -> None:
    verdicts = evaluate(
        candidate(ws),
        config=ws.config,
        policies=ws.policies,
        waivers=None,
        baseline=Baseline("0.9.0", "staging", {"roc_auc": 0.99}, "registry"),
        baselines={"production": Baseline("0.8.0", "production", {"roc_auc": 0.9}, "registry")},
        approvals=Approvals(),
        today=TODAY,
        target_stage="production",
    )
    assert one(verdicts, "no_regression").reason == "roc_auc rose 0.0012 (0.9000 -> 0.9012)"


def test_no_regression_fails_when_the_candidate_lacks_the_metric(ws: Workspace) -> None:
    baseline = Baseline("0.9.0", "production", {"roc_auc": 0.9}, "registry")
    v = one(run(ws, candidate(ws, metrics={"f1": 0.6}), baseline=baseline), "no_regression")
    assert (v.status, v.reason) == (
        "fail",
        "roc_auc was not computed (add it to evaluation.metrics)",
    )
    baseline = Baseline("0.9.0", "production", {"f1": 0.6}, "registry")
    v = one(run(ws, candidate(ws), baseline=baseline), "no_regression")
    assert (v.status, v.reason) == (
        "pass",
        "no baseline roc_auc: version 0.9.0 in production has none",
    )


def test_fairness_gap_fails_with_best_and_worst_slices(ws: Workspace) -> None:
    v = one(
        run(ws, candidate(ws, slice_metrics=UNFAIR_SLICES), waiver_file=waivers("  []\n")),
        "fairness_gap",
    )
    assert (v.status, v.line, v.waiver) == ("fail", 27, None)
    assert v.reason == (
        "recall gap across gender is 0.0812 (female 0.7010 n=480, nonbinary 0.6198 n=31), "
        "more than 0.0500"
    )


def test_fairness_gap_skips_slices_whose_metric_is_null(ws: Workspace) -> None:
    slices = {
        "gender": {**UNFAIR_SLICES["gender"], "nonbinary": {"n": 3, "metrics": {"recall": None}}}
    }
    v = one(run(ws, candidate(ws, slice_metrics=slices)), "fairness_gap")
    assert (v.status, v.reason) == (
        "pass",
        "recall gap across gender is 0.0112 (female 0.7010 n=480, male 0.6898 n=489), "
        "within 0.0500; skipped nonbinary (recall undefined)",
    )


def test_fairness_gap_needs_the_slice_column(ws: Workspace) -> None:
    model = edited_model("churn", "slices: [region, gender]", "slices: [region]")
    v = one(run(ws, candidate(ws, model=model, slice_metrics={})), "fairness_gap")
    assert (v.status, v.reason) == (
        "fail",
        "gender is not among evaluation.slices, so no recall per slice",
    )
    assert (v.path, v.line) == ("models/churn/model.yaml", 27)


def test_fairness_gap_that_cannot_be_evaluated_fails(ws: Workspace) -> None:
    """One slice value has no gap to measure: a rule that cannot be evaluated fails."""
    slices = {"gender": {"female": {"n": 480, "metrics": {"recall": 0.7}}}}
    v = one(run(ws, candidate(ws, slice_metrics=slices)), "fairness_gap")
    assert (v.status, v.reason) == (
        "fail",
        "fewer than two values of gender have a recall, so the gap cannot be evaluated",
    )


def test_allowed_estimators_matches_globs(ws: Workspace) -> None:
    model = edited_model(
        "churn", "sklearn.ensemble.HistGradientBoostingClassifier", "sklearn.svm.SVC"
    )
    verdicts = run(ws, candidate(ws, model=model))
    v = one(verdicts, "allowed_estimators")
    assert (v.status, v.line) == ("fail", 21)
    assert v.reason == "sklearn.svm.SVC matches none of sklearn.ensemble.*, sklearn.linear_model.*"
    staging = one(run(ws, candidate(ws, model=model), stage="staging"), "allowed_estimators")
    assert (staging.status, staging.reason) == ("pass", "sklearn.svm.SVC matches sklearn.*")


def test_max_artifact_mb_bounds_the_artifact_size(ws: Workspace) -> None:
    v = one(run(ws, candidate(ws, artifact_bytes=61_200_000)), "max_artifact_mb")
    assert (v.status, v.reason, v.line) == ("fail", "artifact is 61.20 MB, more than 50 MB", 20)
    v = one(run(ws, candidate(ws, artifact_bytes=None)), "max_artifact_mb")
    assert (v.status, v.reason) == ("fail", "no artifact was built, so its size is unknown")


@pytest.mark.parametrize(
    ("base_version", "changed", "status", "reason"),
    [
        ("1.0.0", True, "fail", "the artifact changed but version stays 1.0.0; bump it"),
        ("1.0.0", False, "pass", "artifact unchanged; version stays 1.0.0"),
        (
            "1.0.0",
            None,
            "fail",
            "cannot tell whether the artifact changed since the base branch; version stays 1.0.0",
        ),
        ("0.9.0", True, "pass", "version 0.9.0 -> 1.0.0"),
        ("1.1.0", True, "pass", "version 1.1.0 -> 1.0.0"),  # a revert: the registry checks it
        (None, None, "pass", "new model: no version on the base branch"),
    ],
)
def test_version_bump_needs_a_new_version_for_a_changed_artifact(
    ws: Workspace, base_version: str | None, changed: bool | None, status: str, reason: str
) -> None:
    cand = candidate(ws, base_version=base_version, changed_artifact=changed)
    v = one(run(ws, cand), "version_bump")
    assert (v.status, v.reason, v.line) == (status, reason, 4)


# ---------------------------------------------------------------- stage order


def test_production_takes_only_a_version_that_was_in_staging(ws: Workspace) -> None:
    verdicts = run(ws, candidate(ws, stage_history=frozenset()), policies={})
    assert table(verdicts) == [
        (
            "modelward.yaml",
            "promotes_from",
            "fail",
            "version 1.0.0 has never been in staging; production takes only versions from staging",
            5,
        )
    ]
    assert verdicts[0].blocking
    assert summarize(verdicts) == "fail"


def test_stage_order_does_not_apply_to_a_stage_without_promotes_from(ws: Workspace) -> None:
    verdicts = run(ws, candidate(ws, stage_history=frozenset()), stage="staging", policies={})
    assert verdicts == []


def test_stage_order_passes_for_a_version_now_in_the_earlier_stage(ws: Workspace) -> None:
    cand = candidate(ws, stage_history=frozenset({"staging", "production"}))
    assert one(run(ws, cand, policies={}), "promotes_from").status == "pass"


# ---------------------------------------------------------------- waivers


def test_live_waiver_covers_a_failure_without_hiding_it(ws: Workspace) -> None:
    verdicts = run(ws, candidate(ws, slice_metrics=UNFAIR_SLICES))
    v = one(verdicts, "fairness_gap")
    assert (v.status, v.effective, v.blocking) == ("fail", "waived", False)
    assert v.reason.endswith("more than 0.0500")
    assert v.waiver == WaiverUse(
        policy="fairness",
        rule="fairness_gap",
        model="churn",
        reason="The nonbinary slice has under 40 test rows; its recall swings by more than the "
        "gap. A larger sample is being collected (RISK-118).",
        approved_by=("carol",),
        expires=date(2027, 6, 30),
        expired=False,
        path="policies/waivers.yaml",
        line=4,
    )
    assert summarize(verdicts) == "pass"


def test_expired_waiver_is_reported_and_does_not_apply(ws: Workspace) -> None:
    cand = candidate(ws, "breast-cancer", metrics={"roc_auc": 0.7712}, slice_metrics={})
    v = one(run(ws, cand, today=date(2026, 1, 1)), "min_metric")
    assert (v.status, v.effective, v.blocking) == ("fail", "fail", True)
    assert (
        v.reason == "roc_auc 0.7712 < 0.8000; waiver expired 2025-12-31 (policies/waivers.yaml:12)"
    )
    assert v.waiver is not None and v.waiver.expired
    # the last day of a waiver still counts
    v = one(run(ws, cand, today=date(2025, 12, 31)), "min_metric")
    assert (v.effective, v.reason) == ("waived", "roc_auc 0.7712 < 0.8000")


def test_waiver_matches_policy_rule_and_model_glob(ws: Workspace) -> None:
    file = waivers(
        "  - {policy: staging, rule: min_metric, model: '*', reason: r, approved_by: [c], expires: 2030-01-01}\n"
        "  - {policy: production, rule: max_artifact_mb, model: churn, reason: r, approved_by: [c], expires: 2030-01-01}\n"
        "  - {policy: production, rule: min_metric, model: 'chu*', reason: old, approved_by: [c], expires: 2020-01-01}\n"
        "  - {policy: production, rule: min_metric, model: 'ch*', reason: new, approved_by: [c], expires: 2030-01-01}\n"
        "  - {policy: production, rule: min_metric, model: 'diab*', reason: r, approved_by: [c], expires: 2030-01-01}\n"
    )
    verdicts = run(ws, candidate(ws, metrics={"roc_auc": 0.5}), waiver_file=file)
    v = one(verdicts, "min_metric")
    assert v.waiver is not None and (v.waiver.reason, v.waiver.line) == ("new", 7)
    assert v.reason == "roc_auc 0.5000 < 0.8000"
    assert one(verdicts, "max_artifact_mb").waiver is None  # a passing verdict needs no waiver


def test_warn_enforced_failure_is_reported_but_does_not_block(ws: Workspace) -> None:
    rules = (
        "applies_to: {stages: [production]}\nenforcement: warn\n"
        "rules:\n  - min_metric: {roc_auc: 0.95}\n"
    )
    verdicts = run(ws, candidate(ws), policies=policy(rules, "advice"))
    v = one(verdicts, "min_metric")
    assert (v.policy, v.status, v.enforcement, v.blocking, v.effective) == (
        "advice",
        "fail",
        "warn",
        False,
        "fail",
    )
    assert v.reason == "roc_auc 0.9012 < 0.9500"
    assert summarize(verdicts) == "pass"


# ---------------------------------------------------------------- approvals


def approvals_verdict(ws: Workspace, approvals: Approvals, rule: str = "") -> Verdict:
    policies = (
        policy(f"applies_to: {{stages: [production]}}\nrules:\n  - approvals: {rule}\n")
        if rule
        else ws.policies
    )
    return one(run(ws, candidate(ws), policies=policies, approvals=approvals), "approvals")


def test_authors_own_approval_does_not_count(ws: Workspace) -> None:
    teams = {"@acme/risk-ds": frozenset({"frank"})}
    v = approvals_verdict(ws, Approvals("bob", ("alice", "bob"), teams))
    assert (v.status, v.line, v.blocking) == ("pending", 6, True)
    assert (
        v.reason
        == "1 approval (2 required) from owners (alice); the author's own approval does not count"
    )


def test_author_approval_counts_when_exclude_author_is_false(ws: Workspace) -> None:
    v = approvals_verdict(
        ws, Approvals("bob", ("alice", "bob")), "{min: 2, from: owners, exclude_author: false}"
    )
    assert (v.status, v.reason) == ("pass", "2 approvals (2 required) from owners (alice, bob)")


def test_logins_compare_case_insensitively_with_or_without_at(ws: Workspace) -> None:
    v = approvals_verdict(ws, Approvals("@BOB", ("@Alice", "ALICE", "Bob", "@bob")))
    assert v.reason == (
        "1 approval (2 required) from owners (Alice); the author's own approval does not count; "
        "membership of @acme/risk-ds is unknown, so its members cannot be counted"
    )


def test_team_handles_count_members_only_when_membership_is_known(ws: Workspace) -> None:
    unknown = approvals_verdict(ws, Approvals("bob", ("alice", "frank")))
    assert (unknown.status, unknown.reason) == (
        "pending",
        "1 approval (2 required) from owners (alice); not counted: frank (not among the known owners); "
        "membership of @acme/risk-ds is unknown, so its members cannot be counted",
    )
    known = approvals_verdict(
        ws, Approvals("bob", ("alice", "frank"), {"@ACME/Risk-DS": frozenset({"Frank"})})
    )
    assert (known.status, known.reason) == (
        "pass",
        "2 approvals (2 required) from owners (alice, frank)",
    )


def test_approvals_from_governance_owners(ws: Workspace) -> None:
    rule = "{min: 1, from: governance}"
    v = approvals_verdict(ws, Approvals("bob", ("alice",)), rule)
    assert (v.status, v.reason) == (
        "pending",
        "0 approvals (1 required) from governance; not counted: alice (not among the known governance); "
        "membership of @acme/ml-governance is unknown, so its members cannot be counted",
    )
    v = approvals_verdict(ws, Approvals("bob", ("alice", "Carol")), rule)
    assert (v.status, v.reason) == ("pass", "1 approval (1 required) from governance (Carol)")


def test_approvals_from_governance_fail_when_none_is_configured(ws: Workspace) -> None:
    rules = "applies_to: {stages: [production]}\nrules:\n  - approvals: {from: governance}\n"
    verdicts = run(
        ws,
        candidate(ws),
        policies=policy(rules),
        config=Config.default(),
        approvals=Approvals("bob", ("carol",)),
    )
    v = one(verdicts, "approvals")
    assert (v.status, v.reason) == (
        "fail",
        "approvals must come from governance, but modelward.yaml names no governance.owners",
    )


def test_approvals_from_an_explicit_login_list(ws: Workspace) -> None:
    rule = "{min: 2, from: [dave, '@Erin']}"
    v = approvals_verdict(ws, Approvals("dave", ("dave", "erin", "alice")), rule)
    assert (v.status, v.reason) == (
        "pending",
        "1 approval (2 required) from [dave, @Erin] (erin); the author's own approval does not count; "
        "not counted: alice (not in [dave, @Erin])",
    )
    v = approvals_verdict(ws, Approvals("bob", ("dave", "erin")), rule)
    assert (v.status, v.reason) == (
        "pass",
        "2 approvals (2 required) from [dave, @Erin] (dave, erin)",
    )


def test_no_approvals_yet_is_pending_not_failed(ws: Workspace) -> None:
    verdicts = run(
        ws, candidate(ws), approvals=Approvals("bob", (), {"@acme/risk-ds": frozenset()})
    )
    v = one(verdicts, "approvals")
    assert (v.status, v.reason) == ("pending", "0 approvals (2 required) from owners")
    assert summarize(verdicts) == "pending"


# ---------------------------------------------------------------- governance


def test_governance_change_needs_governance_owners_approval(ws: Workspace) -> None:
    files = ["models/churn/model.yaml", "policies/production.yaml", "modelward.yaml"]
    (v,) = evaluate_governance(files, ws.config, "carol", ["carol", "alice"])
    assert (v.policy, v.rule, v.status, v.enforcement, v.blocking) == (
        "modelward.yaml",
        "governance",
        "pending",
        "block",
        True,
    )
    assert v.reason == (
        "changes to modelward.yaml, policies/production.yaml need governance approval: "
        "0 approvals (1 required) from governance; the author's own approval does not count; "
        "not counted: alice (not among the known governance); "
        "membership of @acme/ml-governance is unknown, so its members cannot be counted"
    )
    assert (v.path, v.line) == ("modelward.yaml", 1)


def test_governance_change_passes_with_a_governance_owner_approval(ws: Workspace) -> None:
    teams = {"@acme/ml-governance": frozenset({"gina"})}
    (v,) = evaluate_governance(
        ["./policies/waivers.yaml"], ws.config, "alice", ["gina"], teams=teams
    )
    assert (v.status, v.reason, v.path) == (
        "pass",
        "changes to policies/waivers.yaml approved: 1 approval (1 required) from governance (gina)",
        "policies/waivers.yaml",
    )


GOVERNANCE_TEAM = {"@acme/ml-governance": frozenset({"gina", "hal", "erin"})}


def test_governance_counts_members_of_a_governance_owner_team(ws: Workspace) -> None:
    (v,) = evaluate_governance(
        ["policies/staging.yaml"], ws.config, "erin", ["Gina", "hal"], teams=GOVERNANCE_TEAM
    )
    assert (v.status, v.reason) == (
        "pass",
        "changes to policies/staging.yaml approved: 2 approvals (1 required) from governance "
        "(Gina, hal)",
    )


def test_governance_never_counts_the_author_even_as_a_team_member(ws: Workspace) -> None:
    (v,) = evaluate_governance(
        ["policies/staging.yaml"], ws.config, "erin", ["erin"], teams=GOVERNANCE_TEAM
    )
    assert (v.status, v.blocking) == ("pending", True)
    assert v.reason == (
        "changes to policies/staging.yaml need governance approval: 0 approvals (1 required) "
        "from governance; the author's own approval does not count"
    )


def test_governance_with_an_unreadable_team_stays_pending_and_names_the_permission(
    ws: Workspace,
) -> None:
    (v,) = evaluate_governance(
        ["modelward.yaml"],
        ws.config,
        "erin",
        ["gina", "hal"],
        unreadable_teams=["@acme/ml-governance"],
    )
    assert v.status == "pending"
    assert v.reason.endswith(
        "membership of @acme/ml-governance is unknown, so its members cannot be counted; "
        + TEAM_PERMISSION
    )


def test_changes_requested_by_someone_who_would_count_keeps_approvals_pending(
    ws: Workspace,
) -> None:
    team = {"@acme/risk-ds": frozenset({"frank", "gus"})}
    v = approvals_verdict(
        ws, Approvals("bob", ("alice", "frank"), team, changes_requested=("Gus",))
    )
    assert (v.status, v.reason) == (
        "pending",
        "2 approvals (2 required) from owners (alice, frank); "
        "changes requested by Gus (latest review)",
    )
    (gov,) = evaluate_governance(
        ["policies/staging.yaml"],
        ws.config,
        "erin",
        ["gina"],
        teams=GOVERNANCE_TEAM,
        changes_requested=["carol"],
    )
    assert gov.status == "pending"
    assert "changes requested by carol (latest review)" in gov.reason


def test_changes_requested_by_a_non_owner_or_the_author_do_not_hold_approvals(
    ws: Workspace,
) -> None:
    team = {"@acme/risk-ds": frozenset({"frank", "bob"})}
    v = approvals_verdict(
        ws, Approvals("bob", ("alice", "frank"), team, changes_requested=("zed", "bob"))
    )
    assert (v.status, v.reason) == ("pass", "2 approvals (2 required) from owners (alice, frank)")


def test_governance_has_nothing_to_say_when_nothing_governed_changed(ws: Workspace) -> None:
    assert (
        evaluate_governance(["models/churn/model.yaml", "data/churn/churn.csv"], ws.config, "a", [])
        == []
    )


def test_governance_without_owners_is_a_visible_warning(ws: Workspace) -> None:
    (v,) = evaluate_governance(["policies/staging.yaml"], Config.default(), "alice", [])
    assert (v.status, v.enforcement, v.blocking) == ("fail", "warn", False)
    assert v.reason == (
        "changes to policies/staging.yaml are not governed: modelward.yaml names no "
        "governance.owners to approve them"
    )


def test_a_loosened_threshold_in_the_head_does_not_judge_the_pull_request(ws: Workspace) -> None:
    """The caller passes the base ref's policies; the head's looser copy changes nothing."""
    head = (ROOT / "policies/production.yaml").read_text().replace("roc_auc: 0.80", "roc_auc: 0.50")
    doc = load_bytes(head.encode(), "policies/production.yaml")
    head_policies = {"production": Loaded(parse(doc, Policy), doc)}
    cand = candidate(ws, metrics={"roc_auc": 0.7712})
    assert one(run(ws, cand, policies=head_policies), "min_metric").status == "pass"
    base_verdict = one(run(ws, cand), "min_metric")
    assert (base_verdict.status, base_verdict.reason) == ("fail", "roc_auc 0.7712 < 0.8000")
    (gov,) = evaluate_governance(["policies/production.yaml"], ws.config, "bob", ["alice"])
    assert gov.blocking


# ---------------------------------------------------------------- summarize


def test_summarize_fail_beats_pending_beats_pass() -> None:
    def v(status: str, enforcement: str = "block", waiver: WaiverUse | None = None) -> Verdict:
        return Verdict("p", "r", status, enforcement, "x", "f", 1, waiver)  # type: ignore[arg-type]

    live = WaiverUse("p", "r", "m", "why", ("c",), date(2030, 1, 1), False, "w", 1)
    expired = dataclasses.replace(live, expired=True)
    assert summarize([]) == "pass"
    assert summarize([v("pass"), v("fail", "warn"), v("pending", "warn")]) == "pass"
    assert summarize([v("pass"), v("pending")]) == "pending"
    assert summarize([v("pending"), v("fail")]) == "fail"
    assert summarize([v("fail", waiver=live), v("pending")]) == "pending"
    assert summarize([v("fail", waiver=expired)]) == "fail"


# ---------------------------------------------------------------- serialisation and review events


def test_records_round_trip_through_json(ws: Workspace) -> None:
    cand = candidate(ws, slice_metrics=UNFAIR_SLICES, metrics={"roc_auc": float("nan"), "f1": 0.6})
    again = Candidate.from_dict(json.loads(json.dumps(cand.to_dict(), allow_nan=False)))
    assert again.model.record == cand.model.record
    assert again.model.doc.line(("evaluation", "slices")) == 27
    assert again.metrics == {"roc_auc": None, "f1": 0.6}
    assert dataclasses.replace(again, model=cand.model, metrics=cand.metrics) == cand

    verdicts = run(ws, cand, baseline=Baseline("0.9.0", "production", {"roc_auc": 0.9}, "registry"))
    block = json.loads(json.dumps([v.to_dict() for v in verdicts], allow_nan=False))
    assert [Verdict.from_dict(d) for d in block] == verdicts
    assert one(verdicts, "fairness_gap").to_dict()["effective"] == "waived"

    for record in (
        Baseline("1.0.0", "production", {"r2": 0.4, "x": None}, "registry"),
        Approvals("bob", ("alice",), {"@acme/risk-ds": frozenset({"carol", "alice"})}),
    ):
        data = json.loads(json.dumps(record.to_dict()))
        assert type(record).from_dict(data) == record


def test_review_event_recomputes_only_the_approvals(ws: Workspace) -> None:
    cand = candidate(ws, metrics={"roc_auc": 0.7712})
    first = run(ws, cand, approvals=Approvals("bob", ()))
    assert one(first, "approvals").status == "pending"
    stored = json.loads(json.dumps([v.to_dict() for v in first]))

    again = re_evaluate_approvals(
        stored,
        model=ws.models["churn"],
        config=ws.config,
        policies=ws.policies,
        waivers=ws.waivers,
        approvals=Approvals(
            "bob", ("alice", "Bob", "carol"), {"@acme/risk-ds": frozenset({"carol"})}
        ),
        today=TODAY,
        target_stage="production",
    )
    assert [(v.policy, v.rule) for v in again] == [(v.policy, v.rule) for v in first]
    assert one(again, "approvals").reason == (
        "2 approvals (2 required) from owners (alice, carol); the author's own approval does not count"
    )
    assert one(again, "min_metric") == one(first, "min_metric")  # no retraining, same numbers
    assert summarize(again) == "fail"


def test_review_event_drops_a_waiver_that_expired_since(ws: Workspace) -> None:
    cand = candidate(ws, slice_metrics=UNFAIR_SLICES)
    stored = [v.to_dict() for v in run(ws, cand)]
    again = re_evaluate_approvals(
        stored,
        model=ws.models["churn"],
        config=ws.config,
        policies=ws.policies,
        waivers=ws.waivers,
        approvals=Approvals("bob", ("alice", "carol"), {"@acme/risk-ds": frozenset({"carol"})}),
        today=date(2027, 7, 1),
        target_stage="production",
    )
    v = one(again, "fairness_gap")
    assert (v.effective, v.blocking) == ("fail", True)
    assert v.reason.endswith(
        "more than 0.0500; waiver expired 2027-06-30 (policies/waivers.yaml:4)"
    )
    assert summarize(again) == "fail"


def test_waiver_can_cover_pending_approvals_and_stays_visible(ws: Workspace) -> None:
    file = waivers(
        "  - {policy: production, rule: approvals, model: churn, reason: team of one,"
        " approved_by: [carol], expires: 2026-03-31}\n"
    )
    verdicts = run(ws, candidate(ws), waiver_file=file, approvals=Approvals("bob", ("alice",)))
    v = one(verdicts, "approvals")
    assert (v.status, v.effective, v.blocking) == ("pending", "waived", False)
    assert v.waiver is not None and v.waiver.approved_by == ("carol",)
    assert summarize(verdicts) == "pass"
