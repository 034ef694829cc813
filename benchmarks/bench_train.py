"""Benchmark `modelward train` against bare scripts doing the same work, in one run.

Prints, for the churn example (5,000 rows, HistGradientBoosting, 4 metrics, 2 slice
columns), the median wall time of each variant over a few subprocess runs and the
ratios the issue sets targets for:

  train / bare fit+score          target <= 1.3  (train does not run GX: the fair pair)
  (train + GX alone) / bare GX+fit+score          (what a PR pays for both steps)
  cache hit (absolute)            target < 0.5 s
  cache hit / cache miss

Each variant is a fresh `python` subprocess, so imports are counted as a user sees
them. Run: .venv/bin/python benchmarks/bench_train.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = textwrap.dedent(
    """
    import sys, warnings
    import yaml
    mode, repo = sys.argv[1], sys.argv[2]
    import pandas as pd
    df = pd.read_csv(f"{repo}/data/churn/churn.csv")
    if mode in ("gx", "gx+fit"):
        import great_expectations as gx
        context = gx.get_context(mode="ephemeral")
        batch = (
            context.data_sources.add_pandas("bench")
            .add_dataframe_asset("churn")
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": df})
        )
        suite = context.suites.add(gx.ExpectationSuite(name="churn"))
        with open(f"{repo}/data/churn/expectations.yaml") as fh:
            for item in yaml.safe_load(fh)["expectations"]:
                if "type" in item:
                    name, kwargs = item["type"], item.get("kwargs", {})
                else:
                    (name, kwargs), = item.items()
                cls = getattr(gx.expectations, "".join(p.capitalize() for p in name.split("_")))
                suite.add_expectation(cls(**kwargs))
        assert batch.validate(suite).success
    if mode in ("fit", "gx+fit"):
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.metrics import get_scorer
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
        y = df["churned"]
        X = df.drop(columns=["customer_id", "gender", "churned"])
        num = [c for c in X.columns if X[c].dtype.kind in "if"]
        cat = [c for c in X.columns if c not in num]
        pipe = Pipeline([
            ("preprocess", ColumnTransformer([
                ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                                      ("scale", StandardScaler())]), num),
                ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                          ("onehot", OneHotEncoder(handle_unknown="ignore",
                                                                   sparse_output=False))]), cat),
            ])),
            ("model", HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                                     max_leaf_nodes=15, random_state=0)),
        ])
        tr, te = train_test_split(range(len(df)), test_size=0.2, stratify=y, random_state=7)
        pipe.fit(X.iloc[tr], y.iloc[tr])
        Xt, yt = X.iloc[te], y.iloc[te]
        metrics = ["roc_auc", "f1", "accuracy", "recall"]
        scores = {m: get_scorer(m)(pipe, Xt, yt) for m in metrics}
        for col in ("region", "gender"):
            s = df[col].iloc[te]
            for value in sorted(s.unique()):
                mask = (s == value).to_numpy()
                for m in metrics:
                    get_scorer(m)(pipe, Xt[mask], yt[mask])
    """
)


def interleaved(variants: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each variant; runs alternate so machine load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, argv in variants.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        for part in ("models", "data", "policies", "modelward.yaml"):
            src = ROOT / part
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, repo / part)
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE)
        py = sys.executable
        train = [py, "-m", "modelward", "train", "churn", "--repo", str(repo)]
        subprocess.run([*train, "--force"], check=True, capture_output=True)  # warm caches
        hit_argv = train  # after the warm-up run the entry exists: every run hits
        t = interleaved(
            {
                "miss": [*train, "--force"],
                "fit": [py, str(bare), "fit", str(repo)],
                "hit": hit_argv,
                "gx": [py, str(bare), "gx", str(repo)],
                "both": [py, str(bare), "gx+fit", str(repo)],
            },
            runs,
        )
        miss, fit, hit, gx, both = (t[k] for k in ("miss", "fit", "hit", "gx", "both"))
    print(f"median of {runs} runs, wall seconds (each a fresh process)")
    print(f"  modelward train churn --force      {miss:7.3f}")
    print(f"  modelward train churn (cache hit)  {hit:7.3f}")
    print(f"  bare fit+score                     {fit:7.3f}")
    print(f"  bare GX validation only            {gx:7.3f}")
    print(f"  bare GX + fit+score                {both:7.3f}")
    print("ratios")
    print(f"  train / bare fit+score                  {miss / fit:5.2f}  (target <= 1.3)")
    print(f"  (train + GX alone) / bare GX+fit+score  {(miss + gx) / both:5.2f}")
    print(f"  cache hit / cache miss                  {hit / miss:5.2f}")
    print(f"  cache hit under 0.5 s                   {'yes' if hit < 0.5 else 'NO'}")


if __name__ == "__main__":
    main()
