"""The rule table (policy.RULE_TABLE): one row per rule kind, with its judge function,
manifest location and the evidence a re-check needs; and what audit says when a tag
lacks that evidence."""

from __future__ import annotations

import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, GitRepo, make_repo
from helpers_registry import evidence, ours
from pydantic import BaseModel

from modelward import judge, policy, workspace
from modelward.audit import CANNOT_RECHECK, EVIDENCE_GAPS, audit
from modelward.manifest import Model, Rule, parse
from modelward.policy import (
    BUILTIN_RULES,
    EVIDENCE,
    RULE_LOCS,
    RULE_TABLE,
    Approvals,
    Candidate,
    evaluate,
)
from modelward.registry import Verdict as Recorded
from modelward.workspace import Loaded
from modelward.yamlio import load_bytes, load_path

DOCS = ROOT / "docs" / "policy.md"


def example(name: str) -> Loaded[Model]:
    doc = load_path(ROOT / "models" / name / "model.yaml", f"models/{name}/model.yaml")
    return Loaded(parse(doc, Model), doc)


# ---------------------------------------------------------------- the table


def test_every_rule_kind_of_the_schema_has_exactly_one_table_entry_and_vice_versa() -> None:
    schema_kinds = list(Rule.model_fields)  # what a policy file may write

    assert list(RULE_TABLE) == schema_kinds
    assert all(name == kind.name for name, kind in RULE_TABLE.items())


def test_every_entry_judges_with_a_method_of_the_context_and_says_what_it_judges() -> None:
    for kind in RULE_TABLE.values():
        assert callable(kind.judge), kind.name
        assert kind.judges and kind.evidence, kind.name
        assert set(kind.evidence) <= set(EVIDENCE), kind.name


def test_judging_goes_through_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind the table does not hold cannot be judged, even one the schema accepts."""
    ws = workspace.load(ROOT)
    monkeypatch.setattr(
        policy, "RULE_TABLE", {k: v for k, v in RULE_TABLE.items() if k != "max_artifact_mb"}
    )

    with pytest.raises(ValueError, match="unknown rule kind 'max_artifact_mb'"):
        evaluate(
            Candidate(model=ws.models["churn"]),
            config=ws.config,
            policies=ws.policies,
            waivers=None,
            baseline=None,
            approvals=Approvals(),
            today=date(2026, 1, 15),
            target_stage="production",
        )


def test_each_location_is_a_key_path_of_the_model_schema() -> None:
    """A renamed manifest field breaks this test, not the verdicts' line numbers."""
    for name, loc in RULE_LOCS.items():
        schema: type[BaseModel] = Model
        for key in loc:
            fields = {f.alias or n: f for n, f in schema.model_fields.items()}
            assert key in fields, f"{name}: {'.'.join(loc)} is not in the Model schema"
            inner = [
                t
                for t in (fields[key].annotation, *typing.get_args(fields[key].annotation))
                if isinstance(t, type) and issubclass(t, BaseModel)
            ]
            if inner:
                schema = inner[0]


@pytest.mark.parametrize("kind", list(RULE_TABLE))
def test_each_location_resolves_to_a_line_of_the_example_churn_manifest(kind: str) -> None:
    churn = example("churn")

    assert RULE_TABLE[kind].loc in churn.doc.lines
    assert churn.doc.line(RULE_TABLE[kind].loc) > 1


def test_the_stage_order_rule_points_at_the_stage_entry_of_the_stage_map() -> None:
    text = (ROOT / "models" / "churn" / "model.yaml").read_text()
    manifest = text.replace("stages: {}", "stages:\n  staging: 1.0.0\n  production: 1.0.0")
    doc = load_bytes(manifest.encode(), "models/churn/model.yaml")

    loc = (*RULE_LOCS["promotes_from"], "production")
    assert doc.lines[loc] == doc.lines[("stages",)] + 2


def test_built_in_rules_are_named_like_the_verdicts_the_flows_write() -> None:
    assert set(BUILTIN_RULES) == {
        policy.STAGE_ORDER_RULE,
        policy.GOVERNANCE_RULE,
        judge.IMMUTABLE_RULE,
        "version_bump",
    }
    # a built-in that is also a policy kind points at the same line either way
    for name in set(BUILTIN_RULES) & set(RULE_TABLE):
        assert BUILTIN_RULES[name].loc == RULE_TABLE[name].loc
    # RULE_LOCS is a view of the two tables, nothing more
    assert set(RULE_LOCS) == set(RULE_TABLE) | {
        b.name for b in BUILTIN_RULES.values() if b.loc is not None
    }


def test_audit_says_for_every_evidence_name_what_a_tag_can_lack() -> None:
    assert set(EVIDENCE_GAPS) == set(EVIDENCE)
    assert set(EVIDENCE) == set(typing.get_args(policy.Evidence))


# ---------------------------------------------------------------- the reference


def row(name: str) -> str:
    kind = RULE_TABLE[name]
    evidence = ", ".join(f"`{e}`" for e in kind.evidence)
    return f"| `{name}` | {kind.judges} | `{'.'.join(kind.loc)}` | {evidence} |"


def builtin_row(name: str) -> str:
    rule = BUILTIN_RULES[name]
    where = f"`{'.'.join(rule.loc)}`" if rule.loc is not None else "the governed file"
    return f"| `{name}` (built in) | {rule.judges} | {where} | |"


@pytest.mark.parametrize("kind", list(RULE_TABLE))
def test_the_policy_reference_documents_every_kind_of_the_table(kind: str) -> None:
    lines = DOCS.read_text().splitlines()

    assert row(kind) in lines, f"docs/policy.md lacks the table row of {kind}"
    assert any(line.startswith(f"### `{kind}: ") for line in lines), f"no section for {kind}"


def test_the_policy_reference_lists_the_built_in_rules_and_every_evidence_name() -> None:
    text = DOCS.read_text()

    for name in BUILTIN_RULES:
        assert builtin_row(name) in text.splitlines(), name
    legend = text.split("### The rule kinds at a glance", 1)[1].split("\n### ", 1)[0]
    for name in EVIDENCE:
        assert f"`{name}`" in legend, name


# ---------------------------------------------------------------- re-checks from tags

MERGE_DATE = "2030-02-01T10:00:00+00:00"


def promoted_under(tmp_path: Path, rule: str, **ev: Any) -> GitRepo:
    """churn 1.0.0 promoted to staging under a staging policy of one `rule`, by a tag
    carrying `ev` as its evidence (no training: the evidence is written as promote would)."""
    repo = make_repo(tmp_path, example=True, origin=False)
    repo.commit(
        "Staging judges one rule",
        {
            "policies/staging.yaml": (
                "apiVersion: modelward/v1\nkind: Policy\nname: staging\n"
                "applies_to: {stages: [staging], models: [churn]}\n"
                f"rules:\n  - {rule}\n"
            )
        },
    )
    manifest = ev.pop("manifest", None)
    merge = repo.commit(
        "Merge pull request #7: churn to staging",
        {"models/churn/model.yaml": manifest} if manifest else None,
    )
    payload = {
        "version": "1.0.0",
        "stage": "staging",
        "merge_commit": merge,
        "verdicts": (Recorded("staging", rule.split(":")[0], "pass", "as recorded"),),
        **ev,
    }
    ours(repo.path, "churn#staging#1", merge, evidence(**payload), date=MERGE_DATE)
    return repo


def recheck(repo: GitRepo) -> tuple[list[str], list[str]]:
    """(cannot re-check messages, policy findings) of `audit --verify`."""
    verification = audit(repo.path, "churn", verify=True).verification
    assert verification is not None
    skipped = [s for s in verification.skipped if CANNOT_RECHECK in s]
    findings = [f.message for f in verification.findings if f.check == "policy"]
    return skipped, findings


LACKING = {
    "data_checks": (
        "data_checks_pass: true",
        {"verdicts": ()},  # the recorded verdicts hold no data_checks_pass outcome
        "staging/data_checks_pass: the tag records no data-check outcome",
    ),
    "artifact_bytes": (
        "max_artifact_mb: 50",
        {},  # the recorded artifact is in no store of this clone
        "staging/max_artifact_mb: the artifact's size (it is not stored in this repository)",
    ),
    "metrics": (
        "min_metric: {roc_auc: 0.8, recall: 0.5}",
        {},  # recall is among churn's evaluation.metrics, but the tag records none
        "staging/min_metric: the tag records no recall",
    ),
    "slice_metrics": (
        "fairness_gap: {metric: recall, slice: region, max_gap: 0.1}",
        {},  # the tag records recall per gender only
        "staging/fairness_gap: the tag records no metrics per region",
    ),
    "approvals": (
        "approvals: {min: 1, from: owners}",
        {"approvers": ("erin",)},  # counted then as a member of @acme/risk-ds
        "staging/approvals: team membership at the time is not recorded",
    ),
    "baseline": (
        "no_regression: {metric: roc_auc, max_drop: 0.01, against: production}",
        {
            "bypass": True,
            "verdicts": (Recorded("staging", "no_regression", "fail", "roc_auc dropped"),),
        },  # compared with the base branch's model then: no tag records its metrics
        "staging/no_regression: the baseline was the base branch's model, whose metrics "
        "this tag does not record (made before modelward recorded them)",
    ),
}


@pytest.mark.parametrize("need", list(LACKING))
def test_a_recheck_from_a_tag_that_lacks_evidence_says_what_it_cannot_recheck(
    tmp_path: Path, need: str
) -> None:
    rule, ev, message = LACKING[need]
    assert need in RULE_TABLE[rule.split(":")[0]].evidence
    repo = promoted_under(tmp_path, rule, **ev)

    skipped, findings = recheck(repo)

    assert skipped == [f"churn#staging#1: {CANNOT_RECHECK}{message}"]
    assert findings == []


def test_every_evidence_a_tag_can_lack_has_a_recheck_scenario() -> None:
    # the merge commit's manifest, and the training inputs of the merge and its base: git
    # always has them
    from_manifest = {"card", "estimator", "changed_artifact"}

    assert set(LACKING) == set(EVIDENCE) - from_manifest


@pytest.mark.parametrize(
    ("rule", "edit", "reason"),
    [
        (
            "required_card_fields: [caveats]",
            ("  caveats: Retrain when the contract mix shifts by more than ten points.\n", ""),
            "card is missing caveats",
        ),
        (
            'allowed_estimators: ["sklearn.linear_model.*"]',
            None,
            "sklearn.ensemble.HistGradientBoostingClassifier matches none of "
            "sklearn.linear_model.*",
        ),
        (
            # the merge retrained 1.0.0 with other params: git shows the inputs changed,
            # though 1.0.0 was never registered with an artifact to compare bytes with
            "version_bump: true",
            ("random_state: 0", "random_state: 3"),
            "the artifact changed but version stays 1.0.0; bump it",
        ),
    ],
    ids=["card", "estimator", "changed_artifact"],
)
def test_evidence_read_from_the_manifest_is_never_missing_so_a_failure_is_a_finding(
    tmp_path: Path, rule: str, edit: tuple[str, str] | None, reason: str
) -> None:
    text = (ROOT / "models" / "churn" / "model.yaml").read_text()
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    repo = promoted_under(tmp_path, rule, manifest=text)
    judged_by = repo.git("rev-parse", "HEAD^1")

    skipped, findings = recheck(repo)

    assert skipped == []
    kind = rule.split(":")[0]
    assert findings == [
        f"staging/{kind} would not have passed under the policies of {judged_by[:12]}: {reason}"
    ]
