"""manifest: the schemas accept the example files and explain every mistake exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ROOT

from modelward.errors import InvalidInput
from modelward.manifest import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    RULE_KINDS,
    Config,
    Dataset,
    Model,
    Policy,
    Record,
    Waivers,
    parse,
)
from modelward.yamlio import load_bytes, load_path

MODEL = """\
apiVersion: modelward/v1
kind: Model
name: m
version: 1.0.0
owners: [alice]
description: A model.
task: classification
data:
  dataset: d
  target: y
model:
  estimator: sklearn.linear_model.LogisticRegression
evaluation:
  metrics: [roc_auc, f1]
  primary: roc_auc
"""
POLICY = """\
apiVersion: modelward/v1
kind: Policy
name: p
applies_to: {stages: [staging]}
rules:
  - data_checks_pass: true
"""


def problems(text: str, schema: type[Record]) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        parse(load_bytes(text.encode(), "f.yaml"), schema)
    return [str(p) for p in info.value.problems]


def test_example_models_parse() -> None:
    churn = parse(load_path(ROOT / "models/churn/model.yaml", "churn"), Model)
    assert churn.name == "churn"
    assert churn.version == "1.0.0"
    assert churn.data.features.exclude == ["customer_id", "gender"]
    assert churn.data.split.stratify is True
    assert churn.model.params["max_iter"] == 200
    assert churn.evaluation.slices == ["region", "gender"]
    diabetes = parse(load_path(ROOT / "models/diabetes/model.yaml", "diabetes"), Model)
    assert diabetes.task == "regression"
    assert diabetes.card.caveats is None
    assert diabetes.data.features.include is None


def test_example_datasets_parse() -> None:
    churn = parse(load_path(ROOT / "data/churn/dataset.yaml", "churn"), Dataset)
    assert (churn.source, churn.file_format, churn.is_remote) == ("churn.csv", "csv", False)
    assert churn.sha256 is not None and len(churn.sha256) == 64
    bc = parse(load_path(ROOT / "data/breast-cancer/dataset.yaml", "bc"), Dataset)
    assert bc.expectations == "expectations.yaml"


def test_example_policies_parse_into_one_kind_per_rule() -> None:
    prod = parse(load_path(ROOT / "policies/production.yaml", "prod"), Policy)
    assert [r.kind for r in prod.rules] == [
        "required_card_fields",
        "data_checks_pass",
        "min_metric",
        "no_regression",
        "approvals",
        "allowed_estimators",
        "max_artifact_mb",
        "version_bump",
    ]
    assert prod.rules[2].value == {"roc_auc": 0.80}
    approvals = prod.rules[4].value
    assert (approvals.min, approvals.from_, approvals.exclude_author) == (2, "owners", True)
    assert prod.applies_to.models == ["*"]


def test_example_waivers_parse_with_dates() -> None:
    waivers = parse(load_path(ROOT / "policies/waivers.yaml", "w"), Waivers).waivers
    assert [(w.policy, w.rule, w.model) for w in waivers] == [
        ("fairness", "fairness_gap", "churn"),
        ("production", "min_metric", "breast-cancer"),
    ]
    assert waivers[0].expires == dt.date(2027, 6, 30)
    assert waivers[1].live(dt.date(2025, 12, 31)) and not waivers[1].live(dt.date(2026, 1, 1))


def test_example_config_parses() -> None:
    config = parse(load_path(ROOT / "modelward.yaml", "c"), Config)
    assert config.stage_names == ("staging", "production")
    assert config.stage("production") is not None
    assert config.stage("production").promotes_from == "staging"  # type: ignore[union-attr]
    assert config.stage("qa") is None
    assert config.governance is not None and config.governance.owners[1] == "carol"
    assert config.estimators.allow == ["sklearn."]


def test_config_default_has_staging_then_production_and_a_local_store() -> None:
    config = Config.default()
    assert config.stage_names == ("staging", "production")
    assert config.default_branch == "main"
    assert config.artifacts.store == ".modelward/artifacts"
    assert config.governance is None
    assert config.estimators.allow == ["sklearn."]


def test_records_are_frozen() -> None:
    config = Config.default()
    with pytest.raises(ValueError):
        config.default_branch = "dev"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "version: 1.0.0",
            "version: 1",
            "f.yaml:4: version: '1' is not a semantic version; did you mean '1.0.0'?",
        ),
        ("version: 1.0.0", "version: [1]", "f.yaml:4: version: expected a string (got [1])"),
        (
            "owners: [alice]",
            "owners: alice",
            "f.yaml:5: owners: expected a list (got 'alice')",
        ),
        (
            "  target: y",
            "  target: [y]",
            "f.yaml:10: data.target: expected a string (got ['y'])",
        ),
        (
            "model:\n  estimator",
            "model:\n  preprocess: true\n  estimator",
            "f.yaml:12: model.preprocess: must be 'auto' or 'none' (got True)",
        ),
        (
            "  target: y",
            "  target: y\n  split: {test_size: high}",
            "f.yaml:11: data.split.test_size: expected a number (got 'high')",
        ),
        (
            "  target: y",
            "  target: y\n  split: {stratify: 'yes'}",
            "f.yaml:11: data.split.stratify: expected true or false (got 'yes')",
        ),
    ],
)
def test_type_errors_say_what_was_expected_and_what_was_found(
    old: str, new: str, message: str
) -> None:
    assert problems(MODEL.replace(old, new), Model) == [message]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "description:",
            "descripton:",
            "f.yaml:6: descripton: unknown key 'descripton'; did you mean 'description'?",
        ),
        (
            "  target: y",
            "  target: y\n  feature: {exclude: [id]}",
            "f.yaml:11: data.feature: unknown key 'feature'; did you mean 'features'?",
        ),
        (
            "  primary: roc_auc",
            "  primary: roc_auc\n  colour: blue",
            "f.yaml:16: evaluation.colour: unknown key 'colour'",
        ),
    ],
)
def test_unknown_keys_suggest_the_closest_known_key(old: str, new: str, message: str) -> None:
    found = problems(MODEL.replace(old, new), Model)
    assert message in found


def test_a_misspelt_key_is_reported_together_with_the_field_it_leaves_missing() -> None:
    assert problems(MODEL.replace("description:", "descripton:"), Model) == [
        "f.yaml:1: description: required field is missing",
        "f.yaml:6: descripton: unknown key 'descripton'; did you mean 'description'?",
    ]


@pytest.mark.parametrize("version", ["1.0.0-", "1.0.0+", "1.2.3.4", "one"])
def test_versions_must_be_semantic(version: str) -> None:
    text = MODEL.replace("version: 1.0.0", f"version: '{version}'")
    assert problems(text, Model) == [
        f"f.yaml:4: version: {version!r} is not a semantic version like 1.2.0"
    ]


@pytest.mark.parametrize(
    ("written", "shown", "suggested"),
    [
        ("1.0", "'1.0'", "1.0.0"),
        ("'v1.0.0'", "'v1.0.0'", "1.0.0"),
        ("'01.0.0'", "'01.0.0'", "1.0.0"),
        ("2", "'2'", "2.0.0"),
    ],
)
def test_a_near_semantic_version_suggests_the_full_one(
    written: str, shown: str, suggested: str
) -> None:
    text = MODEL.replace("version: 1.0.0", f"version: {written}")
    assert problems(text, Model) == [
        f"f.yaml:4: version: {shown} is not a semantic version; did you mean {suggested!r}?"
    ]


def test_a_negative_seed_is_an_error_on_seed() -> None:
    text = MODEL.replace("  target: y\n", "  target: y\n  split: {seed: -1}\n")
    assert problems(text, Model) == ["f.yaml:11: data.split.seed: must be >= 0 (got -1)"]


@pytest.mark.parametrize("version", ["0.1.0", "1.0.0-rc.1", "2.10.3+build.5", "1.0.0-alpha-1"])
def test_semantic_versions_with_prerelease_and_build_are_accepted(version: str) -> None:
    assert parse(load_bytes(MODEL.replace("1.0.0", version).encode(), "f"), Model).version == (
        version
    )


def test_an_unknown_metric_names_its_position_and_suggests_a_scorer() -> None:
    text = MODEL.replace("metrics: [roc_auc, f1]", "metrics: [roc_auc, f_1]")
    assert problems(text, Model) == [
        "f.yaml:14: evaluation.metrics[1]: unknown metric 'f_1'; did you mean 'f1'?"
    ]


def test_a_rule_with_two_kinds_is_refused() -> None:
    text = POLICY.replace("- data_checks_pass: true", "- {data_checks_pass: true, min_metric: {}}")
    assert problems(text, Policy) == [
        "f.yaml:6: rules[0]: a rule has exactly one kind, got data_checks_pass and min_metric; "
        "write one rule per list item"
    ]


def test_a_rule_with_no_kind_lists_the_kinds() -> None:
    text = POLICY.replace("- data_checks_pass: true", "- {}")
    assert problems(text, Policy) == [
        f"f.yaml:6: rules[0]: a rule needs one of: {', '.join(RULE_KINDS)}"
    ]


def test_an_unknown_rule_kind_suggests_the_closest() -> None:
    text = POLICY.replace("data_checks_pass", "data_check_pass")
    assert problems(text, Policy) == [
        "f.yaml:6: rules[0].data_check_pass: unknown key 'data_check_pass'; "
        "did you mean 'data_checks_pass'?"
    ]


def test_approvals_from_accepts_owners_governance_or_logins() -> None:
    for value in ("owners", "governance", "codeowners", "[alice, bob]"):
        text = POLICY.replace("data_checks_pass: true", f"approvals: {{from: {value}}}")
        parse(load_bytes(text.encode(), "f"), Policy)
    text = POLICY.replace("data_checks_pass: true", "approvals: {from: everyone}")
    assert problems(text, Policy) == [
        "f.yaml:6: rules[0].approvals.from: "
        "must be owners, governance, codeowners or a list of logins (got 'everyone')"
    ]


def test_the_kind_must_match_the_file() -> None:
    assert problems(POLICY, Model) == ["f.yaml:2: kind: expected Model, got 'Policy'"]


def test_a_top_level_list_is_not_a_manifest() -> None:
    assert problems("- a\n- b\n", Dataset) == [
        "f.yaml:1: expected a Dataset mapping at the top level"
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("../other/x.csv", "'../other/x.csv' leaves the dataset folder ('..' is not allowed)"),
        ("sub/../../x.csv", "'sub/../../x.csv' leaves the dataset folder ('..' is not allowed)"),
        ("/etc/passwd", "'/etc/passwd' is an absolute path; give a path inside the repository"),
        (
            "C:\\\\data.csv",
            "'C:\\\\data.csv' is an absolute path; give a path inside the repository",
        ),
    ],
)
def test_dataset_sources_stay_inside_the_dataset_folder(source: str, message: str) -> None:
    text = f'apiVersion: modelward/v1\nkind: Dataset\nname: d\nsource: "{source}"\n'
    assert problems(text, Dataset) == [f"f.yaml:4: source: {message}"]


def test_a_remote_source_needs_a_sha256_pin() -> None:
    text = "apiVersion: modelward/v1\nkind: Dataset\nname: d\nsource: s3://b/d.parquet\n"
    assert problems(text, Dataset) == [
        "f.yaml:4: source: remote source 's3://b/d.parquet' needs a sha256 pin"
    ]
    pinned = parse(load_bytes((text + f"sha256: {'a' * 64}\n").encode(), "f"), Dataset)
    assert pinned.is_remote and pinned.file_format == "parquet"


def test_config_stage_errors_point_at_the_stage() -> None:
    text = (
        "apiVersion: modelward/v1\nkind: Config\nstages:\n  - name: staging\n"
        "  - name: staging\n  - name: archived\n"
    )
    assert problems(text, Config) == ["f.yaml:5: stages[1].name: stage 'staging' is listed twice"]


def test_metric_vocabularies_are_scikit_learn_scorers() -> None:
    from sklearn.metrics import get_scorer_names

    scorers = set(get_scorer_names())
    assert not CLASSIFICATION_METRICS - scorers
    assert not REGRESSION_METRICS - scorers
    assert not CLASSIFICATION_METRICS & REGRESSION_METRICS
