"""Training from manifests: pinned metrics, determinism, the cache, and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli
from helpers_training import edit, load, repin, rewrite_column, store_dir, store_files

from modelward import artifacts, training
from modelward.errors import ArtifactError, DataError, InvalidInput, UsageError
from modelward.manifest import Estimators
from modelward.workspace import Loaded

pytestmark = pytest.mark.slow

# Measured once with scikit-learn 1.9 on the example data; the split and seeds are
# fixed, so any drift beyond float noise is a behaviour change.
PINNED = {
    "churn": {
        "roc_auc": 0.81505577005577,
        "f1": 0.6372413793103449,
        "accuracy": 0.737,
        "recall": 0.6243243243243243,
    },
    "breast-cancer": {
        "roc_auc": 0.9962264150943396,
        "recall": 0.9245283018867925,
        "precision": 0.98,
        "accuracy": 0.965034965034965,
    },
    "breast-cancer-stack": {
        "roc_auc": 0.9955974842767297,
        "recall": 0.9245283018867925,
        "precision": 1.0,
        "accuracy": 0.972027972027972,
    },
    "diabetes": {
        "r2": 0.4173186027451671,
        "neg_root_mean_squared_error": -56.16977597638343,
        "neg_mean_absolute_error": -44.62597631680091,
    },
    "wine": {
        "roc_auc_ovr": 0.998949198949199,
        "f1_macro": 0.9807538091419407,
        "balanced_accuracy": 0.9777777777777779,
        "neg_log_loss": -0.087311184788268,
    },
}
SIZES = {
    "churn": (4000, 1000),
    "breast-cancer": (426, 143),
    "diabetes": (353, 89),
    "breast-cancer-stack": (426, 143),
    "wine": (124, 54),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_training_an_example_gives_its_pinned_metrics(example_dir: Path, name: str) -> None:
    result = training.train(load(example_dir), name)
    assert list(result.metrics) == list(PINNED[name])
    assert result.metrics == pytest.approx(PINNED[name], abs=1e-6)
    assert (result.n_train, result.n_test) == SIZES[name]
    assert result.cached is False
    assert set(result.versions) == {
        "python",
        "scikit-learn",
        "joblib",
        "numpy",
        "pandas",
        "modelward",
    }
    assert result.fit_seconds > 0
    assert Path(result.artifact_path).stat().st_size == result.artifact_bytes


def test_churn_slices_and_confusion_matrix_cover_the_test_rows(example_dir: Path) -> None:
    result = training.train(load(example_dir), "churn")
    # gender is excluded from the features but still sliced on: it comes from the frame
    assert set(result.slice_metrics) == {"region", "gender"}
    assert sorted(result.slice_metrics["region"]) == ["east", "north", "south", "west"]
    for groups in result.slice_metrics.values():
        assert sum(g["n"] for g in groups.values()) == 1000
    assert result.slice_metrics["region"]["east"] == {
        "n": 256,
        "metrics": pytest.approx(
            {
                "roc_auc": 0.8272771317829456,
                "f1": 0.6097560975609756,
                "accuracy": 0.75,
                "recall": 0.5952380952380952,
            },
            abs=1e-6,
        ),
    }
    assert result.confusion_matrix == {"labels": [0, 1], "matrix": [[506, 124], [139, 231]]}


def test_a_regressor_has_no_confusion_matrix(example_dir: Path) -> None:
    result = training.train(load(example_dir), "diabetes")
    assert result.confusion_matrix is None
    assert {k: v["n"] for k, v in result.slice_metrics["sex"].items()} == {"female": 45, "male": 44}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_retraining_with_force_gives_identical_metrics_and_artifact(
    example_dir: Path, name: str
) -> None:
    # All three are byte-stable: the fitted pipelines hold no fit-time clock or
    # random state, and joblib pickles numpy arrays and dicts in a fixed order.
    ws = load(example_dir)
    first = training.train(ws, name, force=True)
    second = training.train(ws, name, force=True)
    assert second.cached is False
    assert second.metrics == first.metrics
    assert second.slice_metrics == first.slice_metrics
    assert second.artifact_sha256 == first.artifact_sha256
    assert second.key == first.key


def test_the_artifact_is_byte_stable_across_processes(example_dir: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from modelward import workspace, training;"
        "ws = workspace.load(Path(sys.argv[1]));"
        "print(training.train(ws, 'churn', force=True).artifact_sha256)"
    )
    shas = {
        subprocess.run(
            [sys.executable, "-c", code, str(example_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(shas) == 1


def test_a_second_train_is_a_cache_hit_with_the_recorded_results(example_dir: Path) -> None:
    ws = load(example_dir)
    trained = training.train(ws, "diabetes")
    hit = training.train(ws, "diabetes")
    assert hit.cached is True
    assert hit == training.TrainResult.from_dict({**trained.to_dict(), "cached": True})


def test_a_version_bump_is_a_hit_and_a_param_change_is_a_miss(example_dir: Path) -> None:
    first = training.train(load(example_dir), "diabetes")
    manifest = example_dir / "models/diabetes/model.yaml"
    edit(manifest, "version: 2.1.0", "version: 2.2.0")
    bumped = training.train(load(example_dir), "diabetes")
    assert (bumped.cached, bumped.key, bumped.version) == (True, first.key, "2.2.0")
    assert bumped.manifest_digest != first.manifest_digest
    edit(manifest, "alpha: 1.0", "alpha: 2.0")
    changed = training.train(load(example_dir), "diabetes")
    assert changed.cached is False
    assert changed.key != first.key


def test_the_cache_hit_path_imports_no_sklearn_pandas_or_great_expectations(
    example_dir: Path,
) -> None:
    training.train(load(example_dir), "churn")
    code = (
        "import sys; from pathlib import Path; from modelward import workspace, training;"
        "r = training.train(workspace.load(Path(sys.argv[1])), 'churn');"
        "heavy = [m for m in ('sklearn', 'pandas', 'great_expectations', 'joblib')"
        " if m in sys.modules];"
        "print(r.cached, heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(example_dir)], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "True []"


def test_an_unknown_model_is_a_usage_error(example_dir: Path) -> None:
    with pytest.raises(
        UsageError,
        match=r"^unknown model 'churm'; known: breast-cancer, breast-cancer-stack, churn",
    ):
        training.train(load(example_dir), "churm")


# ---------------------------------------------------------------- estimator and params


def test_an_unknown_param_names_the_manifest_line_and_suggests(example_dir: Path) -> None:
    edit(example_dir / "models/churn/model.yaml", "max_iter: 200", "max_iterr: 200")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "churn")
    assert str(err.value) == (
        "models/churn/model.yaml:22: model.params.max_iterr: unknown parameter of "
        "HistGradientBoostingClassifier; did you mean 'max_iter'?"
    )
    assert store_files(example_dir) == []


def test_an_ill_typed_param_carries_scikit_learns_message(example_dir: Path) -> None:
    edit(example_dir / "models/churn/model.yaml", "learning_rate: 0.05", "learning_rate: fast")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "churn")
    assert str(err.value) == (
        "models/churn/model.yaml:22: model.params.learning_rate: The 'learning_rate' "
        "parameter of HistGradientBoostingClassifier must be a float in the range (0.0, inf). "
        "Got 'fast' instead."
    )
    assert store_files(example_dir) == []


def test_a_regressor_cannot_serve_a_classification_task(example_dir: Path) -> None:
    edit(
        example_dir / "models/breast-cancer/model.yaml",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.linear_model.Ridge",
    )
    edit(example_dir / "models/breast-cancer/model.yaml", "{C: 1.0, max_iter: 1000}", "{}")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "breast-cancer")
    assert str(err.value) == (
        "models/breast-cancer/model.yaml:18: model.estimator: Ridge is a regressor, "
        "but the task is classification"
    )


def test_an_estimator_that_does_not_exist_is_refused_with_the_closest_name(
    example_dir: Path,
) -> None:
    edit(example_dir / "models/diabetes/model.yaml", "linear_model.Ridge", "linear_model.Ridgy")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "diabetes")
    assert str(err.value) == (
        "models/diabetes/model.yaml:17: model.estimator: 'sklearn.linear_model.Ridgy' is not "
        "a public scikit-learn estimator; did you mean 'sklearn.linear_model.Ridge'?"
    )


def test_the_allow_list_is_checked_again_before_importing(example_dir: Path) -> None:
    ws = load(example_dir)
    ws.config = ws.config.model_copy(update={"estimators": Estimators(allow=["xgboost."])})
    with pytest.raises(InvalidInput) as err:
        training.train(ws, "diabetes")
    assert str(err.value) == (
        "models/diabetes/model.yaml:17: model.estimator: 'sklearn.linear_model.Ridge' is not "
        "allowed; estimators must start with xgboost. (modelward.yaml estimators.allow)"
    )


def test_random_state_defaults_to_the_split_seed(example_dir: Path) -> None:
    ws = load(example_dir)
    estimator = training.make_estimator(ws, ws.models["churn"])
    assert estimator.random_state == 0  # given in the manifest
    edit(example_dir / "models/churn/model.yaml", ", random_state: 0", "")
    ws = load(example_dir)
    assert training.make_estimator(ws, ws.models["churn"]).random_state == 7


def test_preprocess_auto_scales_numbers_and_one_hot_encodes_categories(example_dir: Path) -> None:
    ws = load(example_dir)
    result = training.train(ws, "churn")
    pipeline = artifacts.load_artifact(ws, result.key, result.artifact_sha256)
    columns = pipeline.named_steps["preprocess"].transformers_
    assert [(name, list(cols)) for name, _, cols in columns] == [
        ("numeric", ["age", "tenure_months", "monthly_charges", "support_tickets"]),
        ("categorical", ["region", "contract", "payment_method"]),
    ]
    encoder = pipeline.named_steps["preprocess"].named_transformers_["categorical"]["onehot"]
    assert encoder.handle_unknown == "ignore"


def test_preprocess_none_passes_the_features_as_they_are(example_dir: Path) -> None:
    edit(example_dir / "models/diabetes/model.yaml", "preprocess: auto", "preprocess: none")
    edit(
        example_dir / "models/diabetes/model.yaml",
        "  split:",
        "  features: {exclude: [sex]}\n  split:",
    )
    ws = load(example_dir)
    result = training.train(ws, "diabetes")
    pipeline = artifacts.load_artifact(ws, result.key, result.artifact_sha256)
    assert list(pipeline.named_steps) == ["model"]
    assert result.slice_metrics["sex"]["male"]["n"] == 44


# ---------------------------------------------------------------- bad data


def test_a_missing_data_file_names_the_dataset_manifest(example_dir: Path) -> None:
    ws = load(example_dir)
    (example_dir / "data/churn/churn.csv").unlink()
    with pytest.raises(DataError) as err:
        training.train(ws, "churn")
    assert str(err.value) == (
        "data/churn/dataset.yaml:5: data file not found: data/churn/churn.csv"
    )
    assert store_files(example_dir) == []


def test_data_that_does_not_match_its_pin_is_refused(example_dir: Path) -> None:
    csv = example_dir / "data/churn/churn.csv"
    csv.write_text(csv.read_text().replace("C00000,44", "C00000,45"))
    with pytest.raises(DataError, match=r"^data/churn/dataset.yaml:7: sha256 of data/churn/churn"):
        training.train(load(example_dir), "churn")
    assert store_files(example_dir) == []


def test_a_target_column_removed_after_validation_names_the_manifest_line(
    example_dir: Path,
) -> None:
    ws = load(example_dir)  # validated while the column was there
    expectations = example_dir / "data/churn/expectations.yaml"
    kept = [line for line in expectations.read_text().splitlines() if "churned" not in line]
    expectations.write_text("\n".join(kept) + "\n")
    edit(example_dir / "data/churn/churn.csv", ",churned\n", ",Churned\n")
    sha = repin(example_dir, "churn")
    loaded = ws.datasets["churn"]
    ws.datasets["churn"] = Loaded(loaded.record.model_copy(update={"sha256": sha}), loaded.doc)
    with pytest.raises(InvalidInput) as err:
        training.train(ws, "churn")
    assert str(err.value) == (
        "models/churn/model.yaml:17: data.target: column 'churned' is not in "
        "data/churn/churn.csv; did you mean 'Churned'?"
    )
    assert store_files(example_dir) == []


def test_a_regression_target_must_be_numeric(example_dir: Path) -> None:
    rewrite_column(
        example_dir / "data/diabetes/diabetes.csv",
        "progression",
        lambda i, v: "high" if i == 3 else v,
    )
    repin(example_dir, "diabetes")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "diabetes")
    assert str(err.value) == (
        "models/diabetes/model.yaml:14: data.target: the regression target 'progression' is "
        "not numeric in data/diabetes/diabetes.csv (type str, e.g. '151')"
    )
    assert store_files(example_dir) == []


def test_a_target_with_one_class_cannot_train_a_classifier(example_dir: Path) -> None:
    rewrite_column(example_dir / "data/churn/churn.csv", "churned", lambda i, v: "0")
    repin(example_dir, "churn")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "churn")
    assert str(err.value) == (
        "models/churn/model.yaml:17: data.target: the target 'churned' has one class only "
        "(0) in data/churn/churn.csv; a classifier needs at least two"
    )
    assert store_files(example_dir) == []


def test_a_training_split_with_one_class_is_refused(example_dir: Path) -> None:
    from sklearn.model_selection import train_test_split

    # 20 rows, one positive; find the seed whose test half takes it
    csv = example_dir / "data/breast-cancer/breast_cancer.csv"
    lines = csv.read_text().splitlines()
    rows = [lines[0], *[ln for ln in lines[1:] if ln.endswith(",0")][:19]]
    rows.insert(5, next(ln for ln in lines[1:] if ln.endswith(",1")))
    csv.write_text("\n".join(rows) + "\n")
    repin(example_dir, "breast-cancer")
    seed = next(
        s for s in range(100) if 4 in train_test_split(range(20), test_size=0.25, random_state=s)[1]
    )
    edit(
        example_dir / "models/breast-cancer/model.yaml",
        "{test_size: 0.25, stratify: true, seed: 42}",
        f"{{test_size: 0.25, seed: {seed}}}",
    )
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "breast-cancer")
    assert str(err.value) == (
        "models/breast-cancer/model.yaml:16: data.split: the training split of "
        "data/breast-cancer/breast_cancer.csv has one class of 'malignant' only "
        "(0); a classifier needs at least two (stratify: true keeps both in each part)"
    )
    assert store_files(example_dir) == []


def test_an_all_missing_feature_is_refused(example_dir: Path) -> None:
    rewrite_column(example_dir / "data/churn/churn.csv", "age", lambda i, v: "")
    repin(example_dir, "churn")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "churn")
    assert str(err.value) == (
        "models/churn/model.yaml:18: data.features: feature 'age' has no values in "
        "data/churn/churn.csv (all missing); exclude it in data.features"
    )
    assert store_files(example_dir) == []


# ---------------------------------------------------------------- a corrupt store


def test_a_tampered_artifact_is_reported_and_replaced_only_with_force(example_dir: Path) -> None:
    ws = load(example_dir)
    trained = training.train(ws, "diabetes")
    model = Path(trained.artifact_path)
    model.write_bytes(model.read_bytes() + b"tampered")
    with pytest.raises(ArtifactError) as err:
        training.train(ws, "diabetes")
    entry = model.parent
    assert str(err.value).startswith(f"store entry {entry} is corrupt: model.joblib has sha256 ")
    assert str(err.value).endswith(
        f", recorded {trained.artifact_sha256}; "
        "run `modelward train` with --force to retrain and replace it"
    )
    with pytest.raises(ArtifactError):
        artifacts.load_artifact(ws, trained.key, trained.artifact_sha256)
    again = training.train(ws, "diabetes", force=True)
    assert again.artifact_sha256 == trained.artifact_sha256
    assert training.train(ws, "diabetes").cached is True


def test_an_entry_without_metrics_json_is_a_miss_and_is_rewritten(example_dir: Path) -> None:
    ws = load(example_dir)
    trained = training.train(ws, "diabetes")
    (Path(trained.artifact_path).parent / "metrics.json").unlink()
    rerun = training.train(ws, "diabetes")
    assert rerun.cached is False
    assert training.train(ws, "diabetes").cached is True


# ---------------------------------------------------------------- the command


def test_cli_train_reports_training_then_a_cache_hit(example_dir: Path) -> None:
    first = cli("train", "diabetes", "--repo", example_dir)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("diabetes: trained in ")
    assert "r2 0.4173  neg_root_mean_squared_error -56.1698" in first.output
    key = json.loads(cli("train", "diabetes", "--repo", example_dir, "--format", "json").output)[
        "results"
    ][0]["key"]
    second = cli("train", "diabetes", "--repo", example_dir)
    assert second.output.splitlines()[0] == f"diabetes: cache hit (key {key[:8]}...)"


def test_cli_train_out_writes_the_artifact_metrics_and_profile(
    example_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = cli("train", "diabetes", "--repo", example_dir, "--out", out, "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.joblib", "profile.json"]
    recorded = json.loads((out / "metrics.json").read_text())
    assert recorded == json.loads(result.output)["results"][0]
    for field in ("data_sha256", "suite_sha256", "artifact_sha256", "key", "manifest_digest"):
        assert len(recorded[field]) == 64
    assert (
        artifacts.bytes_sha256((out / "model.joblib").read_bytes()) == recorded["artifact_sha256"]
    )
    profile = json.loads((out / "profile.json").read_text())
    assert profile["features"]["sex"]["type"] == "categorical"


def test_cli_train_all_models_puts_each_in_its_own_folder(
    example_dir: Path, tmp_path: Path
) -> None:
    result = cli("train", "--repo", example_dir, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "breast-cancer",
        "breast-cancer-stack",
        "churn",
        "diabetes",
        "wine",
    ]
    heads = [line.split(":")[0] for line in result.output.splitlines() if not line[0].isspace()]
    assert heads == ["breast-cancer", "breast-cancer-stack", "churn", "diabetes", "wine"]


def test_cli_train_bad_input_exits_2_without_a_traceback(example_dir: Path) -> None:
    edit(example_dir / "models/churn/model.yaml", "max_iter: 200", "max_iterr: 200")
    proc = subprocess.run(
        [sys.executable, "-m", "modelward", "train", "churn", "--repo", str(example_dir)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "models/churn/model.yaml:22: model.params.max_iterr: unknown parameter of "
        "HistGradientBoostingClassifier; did you mean 'max_iter'?"
    )
    assert not store_dir(example_dir).exists()


def test_cli_train_corrupt_store_exits_2_and_force_repairs(example_dir: Path) -> None:
    result = training.train(load(example_dir), "diabetes")
    Path(result.artifact_path).write_bytes(b"not a pickle")
    broken = cli("train", "diabetes", "--repo", example_dir)
    assert broken.exit_code == 2
    assert "is corrupt: model.joblib has sha256" in broken.output
    repaired = cli("train", "diabetes", "--force", "--repo", example_dir)
    assert repaired.exit_code == 0, repaired.output
    assert repaired.output.startswith("diabetes: trained in ")


# ---------------------------------------------------------------- real data that used to crash


def _add_column(path: Path, name: str, fn: object) -> None:
    """Append a CSV column whose cells are fn(row_index)."""
    lines = path.read_text().splitlines()
    out = [f"{lines[0]},{name}"]
    out += [f"{line},{fn(i)}" for i, line in enumerate(lines[1:])]  # type: ignore[operator]
    path.write_text("\n".join(out) + "\n")


def test_a_data_file_with_a_header_and_no_rows_is_refused_at_the_pin(example_dir: Path) -> None:
    csv = example_dir / "data/diabetes/diabetes.csv"
    csv.write_text(csv.read_text().splitlines()[0] + "\n")
    repin(example_dir, "diabetes")
    with pytest.raises(DataError) as err:
        training.train(load(example_dir), "diabetes")
    assert str(err.value) == (
        "data/diabetes/dataset.yaml:5: data/diabetes/diabetes.csv has a header but no rows; "
        "there is nothing to check or train on"
    )
    result = cli("train", "diabetes", "--repo", example_dir)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert store_files(example_dir) == []


def test_an_estimator_with_required_arguments_names_them(example_dir: Path) -> None:
    edit(
        example_dir / "models/diabetes/model.yaml",
        "sklearn.linear_model.Ridge",
        "sklearn.ensemble.VotingRegressor",
    )
    edit(example_dir / "models/diabetes/model.yaml", "{alpha: 1.0}", "{}")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "diabetes")
    assert str(err.value) == (
        "models/diabetes/model.yaml:17: model.estimator: VotingRegressor needs estimators "
        "in model.params (no default)"
    )
    result = cli("train", "diabetes", "--repo", example_dir)
    assert (result.exit_code, "unexpected error" in result.output) == (2, False)


def test_date_strings_are_refused_as_features_naming_the_exclude_fix(example_dir: Path) -> None:
    _add_column(
        example_dir / "data/diabetes/diabetes.csv",
        "visit_date",
        lambda i: f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
    )
    repin(example_dir, "diabetes")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "diabetes")
    assert str(err.value) == (
        "models/diabetes/model.yaml:12: data.features: feature 'visit_date' holds date strings "
        "(e.g. '2024-01-01') in data/diabetes/diabetes.csv; a date is not a feature: add "
        "'visit_date' to data.features.exclude (or derive a number from it, such as an age "
        "in days, in the data)"
    )
    edit(
        example_dir / "models/diabetes/model.yaml",
        "target: progression",
        "target: progression\n  features: {exclude: [visit_date]}",
    )
    assert training.train(load(example_dir), "diabetes").metrics["r2"] == pytest.approx(
        PINNED["diabetes"]["r2"], abs=1e-6
    )


def test_parquet_datetime64_columns_are_refused_as_features(example_dir: Path) -> None:
    import pandas as pd

    folder = example_dir / "data/diabetes"
    frame = pd.read_csv(folder / "diabetes.csv")
    frame["visit"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.index, unit="D")
    frame.to_parquet(folder / "diabetes.parquet")
    edit(folder / "dataset.yaml", "source: diabetes.csv", "source: diabetes.parquet")
    repin(example_dir, "diabetes")
    with pytest.raises(InvalidInput, match=r"feature 'visit' holds dates \(datetime64\[\w+\]\)"):
        training.train(load(example_dir), "diabetes")


def test_a_text_feature_with_too_many_values_is_refused_naming_the_column(
    example_dir: Path,
) -> None:
    manifest = example_dir / "models/churn/model.yaml"
    edit(manifest, "exclude: [customer_id, gender]", "exclude: [gender]")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "churn")
    assert str(err.value) == (
        "models/churn/model.yaml:18: data.features: feature 'customer_id' has 5000 distinct "
        "values in data/churn/churn.csv, more than max_categories (1000); one-hot encoding "
        "would make a column of each: exclude it (an identifier?) or raise "
        "data.features.max_categories"
    )
    edit(manifest, "exclude: [gender]", "exclude: [customer_id, gender], max_categories: 3")
    with pytest.raises(InvalidInput, match=r"feature 'region' has 4 distinct .*\(3\)"):
        training.train(load(example_dir), "churn")
    assert store_files(example_dir) == []


def test_a_slice_column_with_more_than_50_values_is_refused_with_the_bins_fix(
    example_dir: Path,
) -> None:
    edit(example_dir / "models/diabetes/model.yaml", "slices: [sex]", "slices: [sex, bmi]")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "diabetes")
    assert str(err.value) == (
        "models/diabetes/model.yaml:23: evaluation.slices[1]: slice column 'bmi' has 163 "
        "distinct values in data/diabetes/diabetes.csv, more than 50; "
        "bin it: {column: bmi, bins: [...]}"
    )


def test_a_binned_slice_gets_metrics_per_interval(example_dir: Path) -> None:
    edit(
        example_dir / "models/diabetes/model.yaml",
        "slices: [sex]",
        "slices: [sex, {column: age, bins: [0, 40, 60, 120]}]",
    )
    result = training.train(load(example_dir), "diabetes")
    groups = result.slice_metrics["age"]
    assert sorted(groups) == ["[0, 40)", "[40, 60)", "[60, 120)"]
    assert sum(g["n"] for g in groups.values()) == 89
    assert set(groups["[40, 60)"]["metrics"]) == set(PINNED["diabetes"])


def test_bins_must_increase(example_dir: Path) -> None:
    edit(
        example_dir / "models/diabetes/model.yaml",
        "slices: [sex]",
        "slices: [{column: age, bins: [0, 60, 40]}]",
    )
    with pytest.raises(InvalidInput) as err:
        load(example_dir)
    assert str(err.value) == (
        "models/diabetes/model.yaml:23: evaluation.slices[0].bins: bin edges must increase strictly"
    )


def test_the_trained_in_time_covers_evaluation_and_slices(
    example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from modelward import evaluation

    real = evaluation.evaluate

    def slow_evaluate(*args: object, **kwargs: object) -> evaluation.Evaluation:
        time.sleep(0.3)  # stands for a slow evaluation; the real one still runs
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation, "evaluate", slow_evaluate)
    result = training.train(load(example_dir), "diabetes")
    assert result.fit_seconds >= 0.3


# ---------------------------------------------------------------- multi-class


def test_the_3_class_model_has_a_3_by_3_confusion_matrix_and_binned_slices(
    example_dir: Path,
) -> None:
    result = training.train(load(example_dir), "wine")
    assert result.confusion_matrix == {
        "labels": ["barbera", "barolo", "grignolino"],
        "matrix": [[14, 0, 1], [0, 18, 0], [0, 0, 21]],
    }
    groups = result.slice_metrics["alcohol"]
    assert {k: g["n"] for k, g in groups.items()} == {
        "[11, 12.5)": 22,
        "[12.5, 13.5)": 15,
        "[13.5, 15)": 17,
    }
    # log loss knows all three classes, so a slice that lacks one still has a value
    assert groups["[11, 12.5)"]["metrics"]["neg_log_loss"] == pytest.approx(
        -0.06637574499394869, abs=1e-6
    )
    # one-vs-rest AUC is undefined for a class absent from the slice: null with the reason
    assert groups["[11, 12.5)"]["metrics"]["roc_auc_ovr"] is None
    assert "roc_auc_ovr" in groups["[11, 12.5)"]["reasons"]


def test_binary_only_metrics_on_a_3_class_target_are_all_reported_before_the_fit(
    example_dir: Path,
) -> None:
    edit(
        example_dir / "models/wine/model.yaml",
        "metrics: [roc_auc_ovr, f1_macro, balanced_accuracy, neg_log_loss]",
        "metrics: [roc_auc, f1_macro, precision, average_precision]",
    )
    edit(example_dir / "models/wine/model.yaml", "primary: f1_macro", "primary: roc_auc")
    with pytest.raises(InvalidInput) as err:
        training.train(load(example_dir), "wine")
    names = (
        "accuracy, balanced_accuracy, f1_macro, f1_micro, f1_weighted, jaccard_macro, "
        "jaccard_weighted, matthews_corrcoef, neg_log_loss, precision_macro, precision_micro, "
        "precision_weighted, recall_macro, recall_micro, recall_weighted, roc_auc_ovo, "
        "roc_auc_ovo_weighted, roc_auc_ovr, roc_auc_ovr_weighted"
    )
    head = "models/wine/model.yaml:20: evaluation.metrics"
    why = "is for two classes, but 'cultivar' has 3 in data/wine/wine.csv (barbera, barolo, grignolino)"
    assert str(err.value).splitlines() == [
        f"{head}[0]: 'roc_auc' {why}; use 'roc_auc_ovr' or another of: {names}",
        f"{head}[2]: 'precision' {why}; use 'precision_macro' or another of: {names}",
        f"{head}[3]: 'average_precision' {why}; use one of: {names}",
    ]
    assert store_files(example_dir) == []


def test_a_second_fit_in_one_process_after_openmp_was_used_does_not_hang(
    example_dir: Path,
) -> None:
    # churn's HistGradientBoosting predicts with OpenMP in this process; a child forked
    # from it would deadlock in its first parallel region (the limit turns a hang into
    # a TrainingTimeout instead of a stuck run)
    ws = load(example_dir)
    first = training.train(ws, "churn", force=True, timeout_minutes=2)
    second = training.train(ws, "churn", force=True, timeout_minutes=2)

    assert second.metrics == first.metrics
    assert second.artifact_sha256 == first.artifact_sha256


class _Swallower:
    """A fit that turns any interruption into a ValueError, as numpy's PEP 3118 buffer
    parser does inside HistGradientBoosting."""

    def fit(self, X: object, y: object) -> _Swallower:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                time.sleep(0.01)
            except BaseException as exc:
                raise ValueError("'T{=d:sum_gradients:}' is not a valid buffer format") from exc
        return self


def test_a_time_limit_interruption_a_library_rewraps_is_still_a_timeout() -> None:
    with pytest.raises(training.TrainingTimeout) as err:
        training.fit_within(_Swallower(), None, None, 0.005, "churn")

    assert "training churn was stopped after 0.005 minutes" in str(err.value)
