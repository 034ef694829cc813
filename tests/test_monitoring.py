"""`modelward drift` end to end: a real repository with a registered version, real data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from conftest import GitRepo, cli, make_repo
from helpers_drift import copy_repo, generator, registered_repo, write_rows


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return registered_repo(tmp_path_factory.mktemp("registered"), tmp_path_factory.mktemp("home"))


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return copy_repo(template, tmp_path)


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    gen = generator()
    folder = tmp_path_factory.mktemp("snapshots")
    return {
        "resample": write_rows(folder / "resample.csv", gen.rows(3000, 99)),
        "next-quarter": write_rows(folder / "next-quarter.csv", gen.next_quarter()),
    }


def drift(repo: GitRepo, *args: str | Path) -> Result:
    return cli("drift", "churn", "--repo", repo.path, *args)


def test_a_resample_of_the_training_population_does_not_drift(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    result = drift(repo, "--data", snapshots["resample"])
    assert result.exit_code == 0, result.output
    assert "against churn v1.1.0, staging (tag churn@v1.1.0)" in result.stdout
    assert "no dataset drift: 0 of 7 features drifted" in result.stdout
    assert "no decay: roc_auc" in result.stdout  # the resample carries the target


def test_the_next_quarter_drifts_and_names_the_moved_features(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    result = drift(repo, "--data", snapshots["next-quarter"], "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["dataset_drift"] is True
    assert data["reference"] == {
        "model": "churn",
        "version": "1.1.0",
        "source": "registry",
        "stage": "staging",
        "tag": "churn@v1.1.0",
        "n_rows": 4000,
        "profile_format": 2,
    }
    assert {"monthly_charges", "contract"} <= set(data["drifted_features"])
    assert not {"age", "region", "payment_method"} & set(data["drifted_features"])
    first = data["features"][0]
    assert first["feature"] == "monthly_charges" and first["test"] == "wasserstein"
    assert first["drifted"] is True and first["threshold"] == 0.1


def test_the_text_table_is_sorted_by_distance(repo: GitRepo, snapshots: dict[str, Path]) -> None:
    result = drift(repo, "--data", snapshots["next-quarter"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("feature"))
    order = [line.split()[0] for line in lines[header + 1 : header + 8]]
    assert order[0] == "monthly_charges"
    assert lines[1].startswith("DRIFT: 4 of 7 features drifted")


def test_a_missing_feature_column_exits_2_naming_file_and_column(
    repo: GitRepo, snapshots: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.read_csv(snapshots["resample"]).drop(columns=["tenure_months"])
    path = tmp_path / "no-tenure.csv"
    frame.to_csv(path, index=False)
    result = drift(repo, "--data", path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"modelward: {path}: column 'tenure_months' is missing; churn v1.1.0 was trained on it\n"
    )


def test_bad_inputs_exit_2_with_a_message(repo: GitRepo, tmp_path: Path) -> None:
    missing = drift(repo, "--data", tmp_path / "nope.csv")
    assert missing.exit_code == 2
    assert missing.stderr == f"modelward: {tmp_path / 'nope.csv'}: file not found\n"
    unknown = cli("drift", "chrun", "--repo", repo.path, "--data", tmp_path / "x.csv")
    assert unknown.exit_code == 2
    assert (
        "unknown model 'chrun'; known: breast-cancer, breast-cancer-stack, churn, diabetes, wine"
        in unknown.stderr
    )
    small = tmp_path / "small.csv"
    small.write_text((repo.path / "data/churn/churn.csv").read_text().splitlines()[0] + "\n")
    few = drift(repo, "--data", small)
    assert few.exit_code == 2
    assert f"{small}: 0 rows are too few to test for drift" in few.stderr
    assert "column 'age'" in few.stderr


def test_text_where_numbers_were_trained_exits_2_naming_the_column(
    repo: GitRepo, snapshots: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.read_csv(snapshots["resample"])
    frame["age"] = "unknown"
    path = tmp_path / "text-age.csv"
    frame.to_csv(path, index=False)
    result = drift(repo, "--data", path)
    assert result.exit_code == 2
    assert "column 'age' holds text (e.g. 'unknown')" in result.stderr


def test_flipped_labels_are_decay_whatever_the_features_say(
    repo: GitRepo, snapshots: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.read_csv(snapshots["resample"])
    frame["churned"] = 1 - frame["churned"]
    path = tmp_path / "flipped.csv"
    frame.to_csv(path, index=False)
    result = drift(repo, "--data", path, "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["dataset_drift"] is False
    decay = data["decay"]
    assert decay["metric"] == "roc_auc" and decay["decayed"] is True
    assert decay["current"] < 0.5 < decay["reference"]


def test_a_stage_without_a_version_exits_2_and_suggests_against_head(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    result = drift(repo, "--data", snapshots["resample"], "--against", "production")
    assert result.exit_code == 2
    assert result.stderr == (
        "modelward: no version of 'churn' is assigned to stage 'production' in the registry; "
        "run with --against head to compare with the model as committed\n"
    )


def test_against_head_uses_the_committed_manifest_through_the_cache(
    tmp_path: Path, snapshots: dict[str, Path]
) -> None:
    fresh = make_repo(tmp_path, origin=False)
    nothing = cli("drift", "churn", "--repo", fresh.path, "--data", snapshots["resample"])
    assert nothing.exit_code == 2
    assert "is assigned to any stage (staging, production)" in nothing.stderr
    result = cli(
        "drift", "churn", "--repo", fresh.path, "--data", snapshots["next-quarter"],
        "--against", "head",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "against churn v1.0.0, the manifest as committed" in result.stdout


def test_all_checks_each_model_with_a_monitoring_source(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    incoming = repo.path / "data/churn/incoming"
    incoming.mkdir()
    (incoming / "2026-q3.csv").write_bytes(snapshots["resample"].read_bytes())
    manifest = repo.path / "data/churn/dataset.yaml"
    manifest.write_text(manifest.read_text() + "monitoring: {source: data/churn/incoming/*.csv}\n")
    calm = cli("drift", "--all", "--repo", repo.path, "--format", "json")
    assert calm.exit_code == 0, calm.output
    assert [r["model"] for r in json.loads(calm.stdout)] == ["churn"]
    # the newest snapshot (last in name order) is the one checked
    (incoming / "2026-q4.csv").write_bytes(snapshots["next-quarter"].read_bytes())
    moved = cli("drift", "--all", "--repo", repo.path, "--format", "json")
    assert moved.exit_code == 1
    assert json.loads(moved.stdout)[0]["data"]["source"] == "data/churn/incoming/2026-q4.csv"


def test_a_tampered_artifact_is_never_unpickled(repo: GitRepo, snapshots: dict[str, Path]) -> None:
    store = repo.path / ".modelward/artifacts"
    for artifact in store.glob("*/model.joblib"):
        artifact.write_bytes(artifact.read_bytes() + b"tampered")
    result = drift(repo, "--data", snapshots["resample"])
    assert result.exit_code == 2
    assert "refusing to load it" in result.stderr
