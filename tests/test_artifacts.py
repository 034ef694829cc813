"""The content-addressed store: keys, verification before unpickling, locations."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest
from helpers_training import edit, load, store_dir

from modelward import artifacts, training
from modelward.errors import ArtifactError, InvalidInput
from modelward.hashing import canonical_hash

DATA_SHA = "a" * 64
SUITE_SHA = "b" * 64


def key_of(root: Path, name: str = "churn", data: str = DATA_SHA, suite: str = SUITE_SHA) -> str:
    ws = load(root)
    return artifacts.artifact_key(ws, ws.models[name].record, data, suite)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("version: 1.0.0", "version: 1.1.0"),
        ("stages: {}", "stages: {staging: 1.0.0}"),
        ('owners: ["@acme/risk-ds", "alice", "bob", "dave"]', 'owners: ["carol"]'),
        ("Predicts whether a subscriber", "Guesses whether a subscriber"),
        ("caveats: Retrain when", "caveats: Please retrain when"),
    ],
)
def test_the_key_ignores_fields_that_do_not_change_the_artifact(
    example_dir: Path, old: str, new: str
) -> None:
    before = key_of(example_dir)
    edit(example_dir / "models/churn/model.yaml", old, new)
    assert key_of(example_dir) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("target: churned", "target: age"),
        ("seed: 7", "seed: 8"),
        ("max_leaf_nodes: 15", "max_leaf_nodes: 16"),
        ("preprocess: auto", "preprocess: none"),
        ("metrics: [roc_auc, f1, accuracy, recall]", "metrics: [roc_auc, f1, accuracy]"),
        ("slices: [region, gender]", "slices: [region]"),
    ],
)
def test_the_key_changes_with_every_training_relevant_field(
    example_dir: Path, old: str, new: str
) -> None:
    before = key_of(example_dir)
    edit(example_dir / "models/churn/model.yaml", old, new)
    assert key_of(example_dir) != before


def test_the_key_changes_with_the_data_and_the_suite(example_dir: Path) -> None:
    base = key_of(example_dir)
    assert key_of(example_dir, data="c" * 64) != base
    assert key_of(example_dir, suite="c" * 64) != base


def test_the_key_hashes_exactly_the_documented_inputs(example_dir: Path) -> None:
    ws = load(example_dir)
    record = ws.models["diabetes"].record
    manifest = record.model_dump(
        mode="json", by_alias=True, include={"task", "data", "model", "evaluation"}
    )
    assert artifacts.artifact_key(ws, record, DATA_SHA, SUITE_SHA) == canonical_hash(
        {
            "manifest": manifest,
            "data_sha256": DATA_SHA,
            "suite_sha256": SUITE_SHA,
            "scikit-learn": artifacts.package_version("scikit-learn"),
            "joblib": artifacts.package_version("joblib"),
            "pipeline": artifacts.PIPELINE_VERSION,
        }
    )


def test_the_suite_hash_ignores_comments_and_layout(example_dir: Path) -> None:
    ws = load(example_dir)
    before = artifacts.suite_sha256(ws, "churn")
    path = example_dir / "data/churn/expectations.yaml"
    path.write_text(
        "# a comment\n" + path.read_text().replace("{min_value: 1000,", "{ min_value: 1000 ,")
    )
    assert artifacts.suite_sha256(load(example_dir), "churn") == before
    edit(path, "min_value: 1000 ,", "min_value: 999 ,")
    assert artifacts.suite_sha256(load(example_dir), "churn") != before


def test_the_default_store_is_inside_the_repository(example_dir: Path) -> None:
    assert artifacts.store_root(load(example_dir)) == store_dir(example_dir).resolve()


def test_a_store_outside_the_repository_is_refused_with_its_line(example_dir: Path) -> None:
    edit(example_dir / "modelward.yaml", "store: .modelward/artifacts", "store: ../elsewhere")
    with pytest.raises(InvalidInput) as err:
        artifacts.store_root(load(example_dir))
    assert str(err.value) == (
        "modelward.yaml:9: artifacts.store: '../elsewhere' resolves outside the repository; "
        "give a directory inside it or a URL such as s3://bucket/prefix"
    )


class _Trap:
    """Unpickling this creates a file: proof that bytes were (not) unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


@pytest.mark.slow
def test_a_tampered_artifact_is_never_unpickled(example_dir: Path, tmp_path: Path) -> None:
    ws = load(example_dir)
    result = training.train(ws, "diabetes")
    marker = tmp_path / "unpickled"
    Path(result.artifact_path).write_bytes(pickle.dumps(_Trap(str(marker))))
    with pytest.raises(ArtifactError) as err:
        artifacts.load_artifact(ws, result.key, result.artifact_sha256)
    assert str(err.value).startswith(f"{result.artifact_path} has sha256 ")
    assert str(err.value).endswith(f", expected {result.artifact_sha256}; refusing to load it")
    assert not marker.exists()


@pytest.mark.slow
def test_load_artifact_returns_a_pipeline_that_predicts(example_dir: Path) -> None:
    import pandas as pd

    ws = load(example_dir)
    result = training.train(ws, "diabetes")
    pipeline = artifacts.load_artifact(ws, result.key, result.artifact_sha256)
    frame = pd.read_csv(example_dir / "data/diabetes/diabetes.csv")
    assert pipeline.predict(frame.drop(columns="progression")).shape == (442,)


def test_a_missing_artifact_is_an_artifact_error(example_dir: Path) -> None:
    ws = load(example_dir)
    with pytest.raises(ArtifactError, match=r"^artifact not found: .*/abc/model\.joblib$"):
        artifacts.load_artifact(ws, "abc", "0" * 64)


def test_writes_leave_no_temporary_files_and_metrics_come_last(tmp_path: Path) -> None:
    store = artifacts.LocalStore(tmp_path / "store")
    artifacts.write_entry(store, "k", b"model", {"features": {}}, {"artifact_sha256": "x"})
    entry = tmp_path / "store" / "k"
    assert sorted(p.name for p in entry.iterdir()) == [
        "metrics.json",
        "model.joblib",
        "profile.json",
    ]
    times = {p.name: p.stat().st_mtime_ns for p in entry.iterdir()}
    assert times["metrics.json"] >= max(times["model.joblib"], times["profile.json"])
    assert json.loads((entry / "metrics.json").read_text()) == {"artifact_sha256": "x"}


def test_files_in_the_store_respect_the_umask(tmp_path: Path) -> None:
    import os

    for mask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        old = os.umask(mask)
        try:
            store = artifacts.LocalStore(tmp_path / f"store-{mask:o}")
            artifacts.write_entry(store, "k", b"model", {"features": {}}, {"a": 1})
        finally:
            os.umask(old)
        modes = {
            p.name: p.stat().st_mode & 0o777 for p in (tmp_path / f"store-{mask:o}" / "k").iterdir()
        }
        assert modes == {"metrics.json": mode, "model.joblib": mode, "profile.json": mode}


def test_an_unreadable_metrics_record_is_a_corrupt_entry(example_dir: Path) -> None:
    ws = load(example_dir)
    entry = store_dir(example_dir) / "k"
    entry.mkdir(parents=True)
    (entry / "metrics.json").write_text("{not json")
    with pytest.raises(ArtifactError, match=r"store entry .*/k is corrupt: metrics.json is not"):
        artifacts.read_entry(ws, "k")


def test_a_url_store_without_fsspec_says_what_to_install(
    example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # makes `import fsspec` fail
    edit(example_dir / "modelward.yaml", "store: .modelward/artifacts", "store: memory://x/store")
    with pytest.raises(ArtifactError) as err:
        artifacts.read_entry(load(example_dir), "k")
    assert str(err.value) == (
        "the artifact store 'memory://x/store' is a URL, which needs fsspec: "
        "pip install 'modelward[fsspec]'"
    )


@pytest.mark.slow
def test_an_fsspec_url_store_holds_entries(example_dir: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    edit(
        example_dir / "modelward.yaml",
        "store: .modelward/artifacts",
        "store: memory://modelward-test/store",
    )
    ws = load(example_dir)
    assert artifacts.store_root(ws) == "memory://modelward-test/store"
    trained = training.train(ws, "diabetes")
    assert trained.artifact_path == f"memory://modelward-test/store/{trained.key}/model.joblib"
    assert training.train(ws, "diabetes").cached is True
    fs = fsspec.filesystem("memory")
    names = sorted(
        p.rsplit("/", 1)[-1] for p in fs.ls(f"/modelward-test/store/{trained.key}", detail=False)
    )
    assert names == ["metrics.json", "model.joblib", "profile.json"]
    pipeline = artifacts.load_artifact(ws, trained.key, trained.artifact_sha256)
    assert type(pipeline).__name__ == "Pipeline"
    assert artifacts.load_profile(ws, trained.key)["n_rows"] == trained.n_train
    assert not store_dir(example_dir).exists()
    fs.rm("/modelward-test", recursive=True)
