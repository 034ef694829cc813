"""workspace: a checkout loaded as a whole, every problem at once, paths kept inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import cli

from modelward.errors import InvalidInput
from modelward.workspace import OutsideRepository, load, read_columns, resolve_inside


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_example_instance_loads_with_its_links(example_dir: Path) -> None:
    ws = load(example_dir)
    assert sorted(ws.models) == [
        "breast-cancer",
        "breast-cancer-stack",
        "churn",
        "diabetes",
        "wine",
    ]
    assert sorted(ws.datasets) == ["breast-cancer", "churn", "diabetes", "wine"]
    assert sorted(ws.policies) == ["fairness", "production", "staging"]
    assert ws.waivers is not None and len(ws.waivers.record.waivers) == 2
    assert ws.models["churn"].path == "models/churn/model.yaml"
    churn = ws.datasets["churn"].record
    assert ws.data_path(churn) == (example_dir / "data/churn/churn.csv").resolve()
    assert ws.expectations_path(churn).name == "expectations.yaml"
    assert [p.record.name for p in ws.policies_for("churn", "production")] == [
        "fairness",
        "production",
    ]
    assert ws.policies_for("churn", "none") == []


def test_loading_collects_every_problem_not_just_the_first(example_dir: Path) -> None:
    edit(example_dir / "models/churn/model.yaml", "version: 1.0.0", "version: 1.0")
    edit(example_dir / "models/diabetes/model.yaml", "target: progression", "target: y")
    edit(example_dir / "data/breast-cancer/dataset.yaml", "source: breast_cancer.csv", "source: /x")
    edit(example_dir / "policies/staging.yaml", "version_bump: true", "version_bump: yes please")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert [str(p) for p in info.value.problems] == [
        "data/breast-cancer/dataset.yaml:5: source: '/x' is an absolute path; "
        "give a path inside the repository",
        "models/churn/model.yaml:4: version: '1.0' is not a semantic version; did you mean '1.0.0'?",
        "models/diabetes/model.yaml:14: data.target: column 'y' is not in dataset 'diabetes'",
        "policies/staging.yaml:12: rules[4].version_bump: expected true or false "
        "(got 'yes please')",
    ]


def test_only_models_loads_those_models_and_their_datasets(example_dir: Path) -> None:
    # a broken model and a broken dataset elsewhere do not matter to this pull request
    edit(example_dir / "models/churn/model.yaml", "version: 1.0.0", "version: broken")
    edit(example_dir / "data/churn/dataset.yaml", "source: churn.csv", "source: /abs")
    ws = load(example_dir, only_models=["diabetes"])
    assert list(ws.models) == ["diabetes"]
    assert list(ws.datasets) == ["diabetes"]
    assert sorted(ws.policies) == ["fairness", "production", "staging"]


def test_only_models_still_reports_problems_of_the_chosen_model(example_dir: Path) -> None:
    edit(example_dir / "models/diabetes/model.yaml", "primary: r2", "primary: r22")
    with pytest.raises(InvalidInput) as info:
        load(example_dir, only_models=["diabetes"])
    assert str(info.value) == (
        "models/diabetes/model.yaml:22: evaluation.primary: unknown metric 'r22'; did you mean 'r2'?"
    )


def test_columns_come_from_the_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b'\xef\xbb\xbfid,"first, name",age\n1,"a, b",3\n')
    assert read_columns(path, "csv") == ["id", "first, name", "age"]
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="the CSV file has no header row"):
        read_columns(tmp_path / "empty.csv", "csv")


def test_a_slice_column_is_checked_against_the_csv_header(example_dir: Path) -> None:
    csv = example_dir / "data/diabetes/diabetes.csv"
    lines = csv.read_text().splitlines(keepends=True)
    csv.write_text(lines[0].replace("sex", "gender") + "".join(lines[1:]))
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value).splitlines() == [
        "data/diabetes/expectations.yaml:5: expectations[3]: "
        "column 'sex' is not in dataset 'diabetes'",
        "models/diabetes/model.yaml:23: evaluation.slices[0]: "
        "column 'sex' is not in dataset 'diabetes'",
    ]


def test_parquet_columns_come_from_the_file_footer(example_dir: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = example_dir / "data/diabetes/diabetes.parquet"
    pq.write_table(pa.table({"age": [50], "sex": ["m"], "bmi": [22.0], "progression": [1.0]}), path)
    assert read_columns(path, "parquet") == ["age", "sex", "bmi", "progression"]
    ds = example_dir / "data/diabetes/dataset.yaml"
    ds.write_text(
        "apiVersion: modelward/v1\nkind: Dataset\nname: diabetes\nsource: diabetes.parquet\n"
    )
    assert load(example_dir).datasets["diabetes"].record.file_format == "parquet"
    (example_dir / "data/diabetes/diabetes.parquet").write_text("age,sex\n")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value).startswith(
        "data/diabetes/dataset.yaml:4: source: cannot read columns: not a parquet file"
    )


def test_resolve_inside_refuses_symlink_escapes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (tmp_path / "secret.csv").write_text("a\n")
    os.symlink("../../secret.csv", repo / "data" / "link.csv")
    os.symlink("inside.csv", repo / "data" / "ok.csv")
    assert resolve_inside(repo, repo / "data" / "ok.csv") == (repo / "data/inside.csv").resolve()
    with pytest.raises(OutsideRepository) as info:
        resolve_inside(repo, repo / "data" / "link.csv")
    assert info.value.reason == "resolves outside the repository"


def test_a_symlink_loop_is_reported_not_raised(example_dir: Path) -> None:
    folder = example_dir / "data/churn"
    os.symlink("loop-b.csv", folder / "loop-a.csv")
    os.symlink("loop-a.csv", folder / "loop-b.csv")
    edit(folder / "dataset.yaml", "source: churn.csv", "source: loop-a.csv")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value) == (
        "data/churn/dataset.yaml:5: source: 'loop-a.csv' goes through a symbolic link "
        "(data/churn/loop-a.csv); manifests, datasets and policies must be regular files"
    )


def test_a_manifest_symlinked_from_outside_is_refused(example_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text((example_dir / "models/churn/model.yaml").read_text())
    (example_dir / "models/churn/model.yaml").unlink()
    os.symlink(outside, example_dir / "models/churn/model.yaml")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value) == (
        "models/churn/model.yaml:1: the file goes through a symbolic link "
        "(models/churn/model.yaml); manifests, datasets and policies must be regular files"
    )


def test_a_broken_config_does_not_cascade_into_unknown_stages(example_dir: Path) -> None:
    edit(example_dir / "modelward.yaml", "  - name: staging\n", "  - name: Staging\n")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert [p.path for p in info.value.problems] == ["modelward.yaml"]


def test_a_repository_without_config_uses_the_default_stages(example_dir: Path) -> None:
    (example_dir / "modelward.yaml").unlink()
    ws = load(example_dir)
    assert ws.config_doc is None
    assert ws.config.stage_names == ("staging", "production")


# ---------------------------------------------------------------- one pass, every problem


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_a_schema_error_does_not_hide_cross_file_errors(example_dir: Path) -> None:
    model = example_dir / "models/diabetes/model.yaml"
    _edit(model, "card:", "colour: red\ncard:")
    _edit(model, "metrics: [r2,", "metrics: [r2, roc_auc,")
    _edit(example_dir / "policies/production.yaml", ", tasks: [classification]", "")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value).splitlines() == [
        "models/diabetes/model.yaml:8: colour: unknown key 'colour'",
        "models/diabetes/model.yaml:22: evaluation.metrics[1]: "
        "metric 'roc_auc' does not apply to regression",
        "policies/production.yaml:10: rules[2].min_metric.roc_auc: roc_auc does not apply to "
        "regression model 'diabetes'; scope the policy with applies_to.tasks: [classification]",
        "policies/production.yaml:11: rules[3].no_regression.metric: roc_auc does not apply to "
        "regression model 'diabetes'; scope the policy with applies_to.tasks: [classification]",
    ]


def test_policies_scoped_by_task_cover_only_models_of_that_task(example_dir: Path) -> None:
    ws = load(example_dir)
    assert [p.record.name for p in ws.policies_for("diabetes", "production")] == []
    assert [p.record.name for p in ws.policies_for("churn", "production")] == [
        "fairness",
        "production",
    ]


def test_a_fairness_slice_that_a_covered_dataset_lacks_is_an_error(example_dir: Path) -> None:
    _edit(example_dir / "policies/fairness.yaml", "models: [churn]", 'models: ["breast-*"]')
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value).splitlines()[0] == (
        "policies/fairness.yaml:8: rules[0].fairness_gap.slice: column 'gender' is not in "
        "dataset 'breast-cancer' of model 'breast-cancer'; scope the policy with "
        "applies_to.models"
    )


def test_a_waiver_for_an_unknown_model_or_a_rule_its_policy_lacks_is_an_error(
    example_dir: Path,
) -> None:
    waivers = example_dir / "policies/waivers.yaml"
    _edit(waivers, "model: breast-cancer\n", "model: breast-cancr\n")
    _edit(waivers, "rule: min_metric", "rule: fairness_gap")
    with pytest.raises(InvalidInput) as info:
        load(example_dir)
    assert str(info.value).splitlines() == [
        "policies/waivers.yaml:13: waivers[1].rule: policy 'production' has no rule "
        "'fairness_gap'; its rules: required_card_fields, data_checks_pass, min_metric, "
        "no_regression, approvals, allowed_estimators, max_artifact_mb, version_bump",
        "policies/waivers.yaml:14: waivers[1].model: unknown model 'breast-cancr' in models/; "
        "did you mean 'breast-cancer'?",
    ]


def test_approvals_no_one_can_give_are_a_warning_naming_the_model(example_dir: Path) -> None:
    _edit(example_dir / "policies/staging.yaml", "min: 1, from: owners", "min: 2, from: [carol]")
    result = cli("validate", "--repo", example_dir)
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        "policies/staging.yaml:11: rules[3].approvals: warning: needs 2 approvals but the list "
        "has 1 approver(s) (the author, who may be one of them, does not count); "
        "model 'breast-cancer' can never pass this rule"
    )


def test_validate_deep_checks_the_pins_and_the_dtypes(example_dir: Path) -> None:
    assert cli("validate", "--deep", "--repo", example_dir).exit_code == 0
    with (example_dir / "data/diabetes/diabetes.csv").open("a") as fh:
        fh.write("50,male,22,1,1,1,1,1,1,1,high\n")
    result = cli("validate", "--repo", example_dir)
    assert result.exit_code == 0  # the light check reads headers only
    result = cli("validate", "--deep", "--repo", example_dir)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "data/diabetes/dataset.yaml:6: sha256 of data/diabetes/diabetes.csv is "
    )
    dataset = example_dir / "data/diabetes/dataset.yaml"
    dataset.write_text("".join(x for x in dataset.open() if not x.startswith("sha256")))
    result = cli("validate", "--deep", "--repo", example_dir)
    assert result.stderr.splitlines() == [
        "models/diabetes/model.yaml:14: data.target: the regression target 'progression' is "
        "not numeric (dtype str)"
    ]
