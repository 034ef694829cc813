"""How much `modelward validate` costs over just reading its YAML files.

Generates a repository of 500 models, each with its own small dataset (CSV +
expectations), plus policies, waivers and modelward.yaml, in a temp dir. Then times,
best of 3 each and in the same run:

  validate   python -m modelward validate --repo REPO   (schemas, cross-checks, CSV headers)
  safe_load  a python script that yaml.safe_load()s the same YAML files validate parses
  c_load     the same with PyYAML's libyaml loader (CSafeLoader), a stricter baseline

and prints validate's wall time as a ratio of each baseline. Target: <= 3x safe_load.

    .venv/bin/python benchmarks/bench_validate.py [--models 500]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = """\
apiVersion: modelward/v1
kind: Model
name: {name}
version: 1.{i}.0
stage: {stage}
owners: ["@acme/ds", "user{i}"]
description: Synthetic model number {i} for the validate benchmark.
card:
  intended_use: Benchmarking the validator.
  limitations: None; it is synthetic.
  ethical_considerations: None.
task: classification
data:
  dataset: {name}
  target: label
  features: {{exclude: [id]}}
  split: {{test_size: 0.2, stratify: true, seed: {i}}}
model:
  estimator: sklearn.ensemble.HistGradientBoostingClassifier
  params: {{max_iter: 100, learning_rate: 0.1, random_state: 0}}
  preprocess: auto
evaluation:
  metrics: [roc_auc, f1, accuracy, recall]
  primary: roc_auc
  slices: [region]
"""
DATASET = """\
apiVersion: modelward/v1
kind: Dataset
name: {name}
description: Synthetic rows for model {i}.
source: rows.csv
format: csv
expectations: expectations.yaml
"""
EXPECTATIONS = """\
expectations:
  - expect_table_row_count_to_be_between: {min_value: 10}
  - expect_column_values_to_not_be_null: {column: label}
  - expect_column_values_to_be_in_set: {column: region, value_set: [north, south]}
"""
POLICY = """\
apiVersion: modelward/v1
kind: Policy
name: {name}
applies_to: {{stages: [{name}], models: ["*"]}}
rules:
  - required_card_fields: [intended_use, limitations]
  - data_checks_pass: true
  - min_metric: {{roc_auc: 0.7}}
  - no_regression: {{metric: roc_auc, max_drop: 0.01, against: production}}
  - fairness_gap: {{metric: recall, slice: region, max_gap: 0.1}}
  - approvals: {{min: 1, from: owners}}
  - allowed_estimators: ["sklearn.*"]
  - version_bump: true
"""
WAIVERS = """\
apiVersion: modelward/v1
kind: Waivers
waivers:
  - {policy: production, rule: fairness_gap, model: m0001, reason: small slice,
     approved_by: [carol], expires: 2030-01-01}
"""
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
BASELINE = """\
import sys, yaml
loader = getattr(yaml, sys.argv[1])
for path in open(sys.argv[2]).read().split():
    with open(path, "rb") as fh:
        yaml.load(fh, Loader=loader)
"""


def generate(root: Path, n: int) -> list[Path]:
    """Write the repository; return the YAML files validate parses."""
    parsed = [root / "modelward.yaml", root / "policies" / "waivers.yaml"]
    (root / "policies").mkdir(parents=True)
    (root / "modelward.yaml").write_text(CONFIG)
    (root / "policies" / "waivers.yaml").write_text(WAIVERS)
    for stage in ("staging", "production"):
        path = root / "policies" / f"{stage}.yaml"
        path.write_text(POLICY.format(name=stage))
        parsed.append(path)
    rows = "id,age,region,label\n" + "".join(
        f"{r},{20 + r % 50},{('north', 'south')[r % 2]},{r % 3 == 0:d}\n" for r in range(40)
    )
    for i in range(n):
        name = f"m{i:04d}"
        model_dir, data_dir = root / "models" / name, root / "data" / name
        model_dir.mkdir(parents=True)
        data_dir.mkdir(parents=True)
        stage = ("none", "staging", "production")[i % 3]
        (model_dir / "model.yaml").write_text(MODEL.format(name=name, i=i, stage=stage))
        (data_dir / "dataset.yaml").write_text(DATASET.format(name=name, i=i))
        (data_dir / "expectations.yaml").write_text(EXPECTATIONS)
        (data_dir / "rows.csv").write_text(rows)
        parsed += [
            model_dir / "model.yaml",
            data_dir / "dataset.yaml",
            data_dir / "expectations.yaml",  # validate checks expectation types and kwargs
        ]
    return parsed


def best_of(cmd: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=500, help="How many models to generate.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        files = generate(root, args.models)
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(map(str, files)))
        script = Path(tmp) / "baseline.py"
        script.write_text(BASELINE)
        py = sys.executable
        validate = best_of([py, "-m", "modelward", "validate", "--repo", str(root)])
        safe = best_of([py, str(script), "SafeLoader", str(listing)])
        c_safe = best_of([py, str(script), "CSafeLoader", str(listing)])
    print(f"{args.models} models, {len(files)} YAML files parsed, best of 3 wall times:")
    print(f"  modelward validate        {validate:6.2f} s")
    print(
        f"  yaml.safe_load            {safe:6.2f} s   ratio {validate / safe:4.2f}x (target <= 3)"
    )
    print(f"  yaml CSafeLoader (libyaml) {c_safe:5.2f} s   ratio {validate / c_safe:4.2f}x")


if __name__ == "__main__":
    main()
