"""A repository built from nothing, as a new user would, not a copy of the example.

Three models on three kinds of data: a credit-default classifier with a categorical and
a binned slice (CSV), a regressor on parquet data (its dtypes kept), and a 3-class
classifier. They go through validate, check-data and train here; the pull-request,
promotion and rollback part needs the `stages:` map of the governance branch.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, cli

from modelward.hashing import file_sha256

pytestmark = pytest.mark.slow

CONFIG = """\
apiVersion: modelward/v1
kind: Config
stages:
  - name: staging
  - name: production
    promotes_from: staging
governance:
  owners: [carol]
"""

MODEL = """\
apiVersion: modelward/v1
kind: Model
name: {name}
version: 1.0.0
owners: [dana, erin]
description: {name} from scratch.
card:
  intended_use: A test of a repository built from nothing.
  limitations: Synthetic or textbook data.
  ethical_considerations: None beyond the test.
task: {task}
data:
  dataset: {name}
  target: {target}
  {extra}
model:
  estimator: {estimator}
evaluation:
  metrics: {metrics}
  primary: {primary}
  slices: {slices}
"""

POLICIES = {
    "policies/staging.yaml": """\
apiVersion: modelward/v1
kind: Policy
name: staging
applies_to: {stages: [staging]}
rules:
  - data_checks_pass: true
  - approvals: {min: 1, from: owners}
""",
    "policies/production.yaml": """\
apiVersion: modelward/v1
kind: Policy
name: production
applies_to: {stages: [production], models: [credit]}
rules:
  - min_metric: {roc_auc: 0.7}
  - fairness_gap: {metric: recall, slice: region, max_gap: 0.5}
  - approvals: {min: 2, from: owners}
""",
}


def dataset(
    name: str, source: str, path: Path, expectations: str, extra: str = ""
) -> dict[str, str]:
    return {
        f"data/{name}/dataset.yaml": (
            f"apiVersion: modelward/v1\nkind: Dataset\nname: {name}\nsource: {source}\n"
            f"sha256: {file_sha256(path)}\n{extra}"
        ),
        f"data/{name}/expectations.yaml": f"expectations:\n{expectations}",
    }


def build(root: Path) -> None:
    """The files a user writes, and their data, in an empty folder."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_diabetes, load_iris

    rng = np.random.default_rng(7)
    n = 2000
    income = rng.lognormal(10.5, 0.5, n).round(0)
    region = rng.choice(["north", "south", "east", "west"], n)
    age = rng.integers(18, 80, n)
    logit = -0.00004 * income + 0.02 * (age - 45) + (region == "south") * 0.8 + 1.2
    credit = pd.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(n)],
            "income": income,
            "age": age,
            "region": region,
            "defaulted": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    (root / "data/credit").mkdir(parents=True)
    credit.to_csv(root / "data/credit/credit.csv", index=False)

    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    diabetes["sex"] = diabetes["sex"].map({1.0: "female", 2.0: "male"}).astype("category")
    (root / "data/progression").mkdir(parents=True)
    diabetes.to_parquet(root / "data/progression/progression.parquet")

    iris = load_iris(as_frame=True)
    flowers = iris.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    flowers["species"] = iris.target_names[flowers.pop("target")]
    (root / "data/iris").mkdir(parents=True)
    flowers.to_csv(root / "data/iris/iris.csv", index=False)

    files = {"modelward.yaml": CONFIG, ".gitignore": ".modelward/\n", **POLICIES}
    files |= dataset(
        "credit",
        "credit.csv",
        root / "data/credit/credit.csv",
        "  - expect_column_values_to_be_unique: {column: loan_id}\n"
        "  - expect_column_values_to_be_between: {column: age, min_value: 18, max_value: 100}\n",
        "id_column: loan_id\n",
    )
    files |= dataset(
        "progression",
        "progression.parquet",
        root / "data/progression/progression.parquet",
        "  - expect_column_values_to_not_be_null: {column: bmi}\n",
    )
    files |= dataset(
        "iris",
        "iris.csv",
        root / "data/iris/iris.csv",
        "  - expect_column_values_to_be_in_set:"
        " {column: species, value_set: [setosa, versicolor, virginica]}\n",
    )
    models = {
        "credit": MODEL.format(
            name="credit",
            task="classification",
            target="defaulted",
            extra="features: {exclude: [loan_id]}\n  split: {stratify: true, seed: 1}",
            estimator="sklearn.linear_model.LogisticRegression",
            metrics="[roc_auc, recall, accuracy]",
            primary="roc_auc",
            slices="[region, {column: income, bins: [0, 30000, 60000, 1e9]}]",
        ),
        "progression": MODEL.format(
            name="progression",
            task="regression",
            target="target",
            extra="split: {seed: 3}",
            estimator="sklearn.linear_model.Ridge",
            metrics="[r2, neg_mean_absolute_error]",
            primary="r2",
            slices="[sex]",
        ),
        "iris": MODEL.format(
            name="iris",
            task="classification",
            target="species",
            extra="split: {stratify: true, seed: 5}",
            estimator="sklearn.ensemble.RandomForestClassifier",
            metrics="[roc_auc_ovr, f1_macro, neg_log_loss]",
            primary="f1_macro",
            slices="[]",
        ),
    }
    files |= {f"models/{name}/model.yaml": text for name, text in models.items()}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.fixture
def scratch(tmp_path: Path) -> GitRepo:
    work = tmp_path / "work"
    work.mkdir()
    build(work)
    repo = GitRepo(work)
    repo.git("init", "-q", "-b", "main")
    repo.commit("A repository of our own")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", "main")
    repo.origin = bare
    return repo


def test_three_models_on_three_kinds_of_data_validate_check_and_train(scratch: GitRepo) -> None:
    validated = cli("validate", "--repo", scratch.path)
    assert validated.exit_code == 0, validated.output
    assert validated.stdout.startswith("valid: 3 models, 3 datasets, 2 policies, 0 waivers")

    checked = cli("check-data", "--repo", scratch.path)
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[-1] == "3 datasets: 3 passed, 0 failed"

    trained = cli("train", "--repo", scratch.path, "--format", "json")
    assert trained.exit_code == 0, trained.output
    results = {r["model"]: r for r in json.loads(trained.output)["results"]}

    credit = results["credit"]
    assert sorted(credit["slice_metrics"]["region"]) == ["east", "north", "south", "west"]
    assert sorted(credit["slice_metrics"]["income"]) == [
        "[0, 30000)",
        "[30000, 60000)",
        "[60000, 1e+09)",
    ]
    assert sum(g["n"] for g in credit["slice_metrics"]["income"].values()) == credit["n_test"]
    assert credit["metrics"]["roc_auc"] > 0.55

    progression = results["progression"]  # parquet: sex stays categorical
    assert sorted(progression["slice_metrics"]["sex"]) == ["female", "male"]
    assert progression["metrics"]["r2"] > 0.3

    iris = results["iris"]
    assert iris["confusion_matrix"]["labels"] == ["setosa", "versicolor", "virginica"]
    assert len(iris["confusion_matrix"]["matrix"]) == 3
    assert iris["metrics"]["f1_macro"] > 0.85


def test_the_classifier_goes_to_production_and_rolls_back_with_the_guides_commands(
    scratch: GitRepo,
) -> None:
    repo = scratch
    manifest = repo.path / "models/credit/model.yaml"

    def change(branch: str, number: int, stages: str, approvers: tuple[str, ...]) -> None:
        repo.git("checkout", "-q", "-b", branch, "main")
        text = manifest.read_text()
        text = "".join(line for line in text.splitlines(True) if not line.startswith("stages:"))
        manifest.write_text(text.replace("version: 1.0.0\n", f"version: 1.0.0\nstages: {stages}\n"))
        repo.commit(f"credit: {stages}")
        land(branch, number, approvers)

    def land(branch: str, number: int, approvers: tuple[str, ...]) -> None:
        args = ["pr", "--repo", repo.path, "--base", "main", "--author", "frank"]
        args += ["--pr-number", str(number)]
        for who in approvers:
            args += ["--approved-by", who]
        judged = cli(*args)
        assert judged.exit_code == 0, judged.output
        repo.git("checkout", "-q", "main")
        trailers = [f"Approved-by: {who}" for who in approvers] + ["Pull-request-author: frank"]
        message = f"Merge pull request #{number} from frank/{branch}\n\n" + "\n".join(trailers)
        repo.git("merge", "--no-ff", "-q", branch, "-m", message)
        repo.git("push", "-q", "origin", "main")
        promoted = cli("promote", "--repo", repo.path)
        assert promoted.exit_code == 0, promoted.output
        assert "BYPASS" not in promoted.output

    change("staging", 1, "{staging: 1.0.0}", ("dana",))
    change("production", 2, "{staging: 1.0.0, production: 1.0.0}", ("dana", "erin"))
    merge_to_production = repo.head()
    repo.git("checkout", "-q", "-b", "rollback", "main")
    repo.git("revert", "--no-edit", "-m", "1", merge_to_production)
    land("rollback", 3, ("dana", "erin"))

    status = json.loads(cli("status", "--repo", repo.path, "--format", "json").output)
    credit = next(m for m in status["models"] if m["model"] == "credit")
    assert credit["status"] == "Synced", credit
    assert "production" not in credit["actual"]
    verified = cli("audit", "--repo", repo.path, "--verify")
    assert verified.exit_code == 0, verified.output
