"""Change detection cost: grows with the diff, not with the number of models.

Builds throwaway repositories with N models (N = 200 and 2,000) and measures, in one run:

1. `plan()` for a change touching no model, at both sizes (the ratio should be ~1);
2. `modelward plan` as a fresh process (Python start-up included) on the 200-model repo;
3. mapping a changed dataset to its models: the `git grep -l -F -w` + parse-candidates
   strategy `changes.py` uses, against the baseline of reading every manifest with one
   `git cat-file --batch` and parsing each in Python.

Run: .venv/bin/python benchmarks/bench_changes.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modelward import git
from modelward.changes import plan
from modelward.yamlio import load_bytes

MANIFEST = """\
apiVersion: modelward/v1
kind: Model
name: {name}
version: 1.0.0
owners: [alice]
description: Model {name}, one of many{prose}.
task: regression
data:
  dataset: {dataset}
  target: y
model:
  estimator: sklearn.linear_model.Ridge
evaluation:
  metrics: [r2]
  primary: r2
"""


def sh(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def build(root: Path, n: int) -> Path:
    repo = root / f"repo{n}"
    for i in range(n):
        dataset = "churn" if i == 7 else f"ds{i % 50}"
        name = f"m{i:05d}"
        path = repo / "models" / name / "model.yaml"
        path.parent.mkdir(parents=True)
        # every 10th manifest mentions the word churn in prose: a grep candidate to parse
        prose = "; unlike churn, it predicts a number" if i % 10 == 0 else ""
        path.write_text(MANIFEST.format(name=name, dataset=dataset, prose=prose))
    for ds in ["churn", *(f"ds{k}" for k in range(50))]:
        folder = repo / "data" / ds
        folder.mkdir(parents=True)
        (folder / "dataset.yaml").write_text(f"kind: Dataset\nname: {ds}\nsource: {ds}.csv\n")
        (folder / f"{ds}.csv").write_text("x,y\n1,2\n")
    (repo / "modelward.yaml").write_text("kind: Config\ndefault_branch: main\n")
    sh(repo, "init", "-q", "-b", "main")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "models")
    sh(repo, "checkout", "-qb", "docs")
    (repo / "README.md").write_text("# docs\n")
    sh(repo, "add", "-A")
    sh(repo, "commit", "-qm", "docs")
    sh(repo, "checkout", "-qb", "data", "main")
    with (repo / "data/churn/churn.csv").open("a") as fh:
        fh.write("3,4\n")
    sh(repo, "commit", "-qam", "data")
    return repo


def best(fn: Callable[[], object], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def users_by_batch(repo: Path, head: str, dataset: str) -> list[str]:
    """Baseline: list every manifest, read them all in one batch, parse each."""
    paths = [p for p in git.ls_tree(repo, head, ["models"]) if p.endswith("/model.yaml")]
    blobs = git.read_blobs(repo, head, paths)
    return [
        p.split("/")[1]
        for p, raw in blobs.items()
        if load_bytes(raw, p).data.get("data", {}).get("dataset") == dataset
    ]


def main() -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as tmp:
        small, large = build(Path(tmp), 200), build(Path(tmp), 2000)

        t_small = best(lambda: plan(small, "main", "docs"))
        t_large = best(lambda: plan(large, "main", "docs"))
        print("plan, change touching no model (median of 7):")
        print(f"  200 models:   {t_small * 1000:7.1f} ms")
        print(
            f"  2,000 models: {t_large * 1000:7.1f} ms   ratio 2,000/200 = {t_large / t_small:.2f}"
        )

        cmd = [sys.executable, "-m", "modelward", "plan", "--repo", str(small), "--base", "main"]
        cmd += ["--head", "docs", "--format", "github-matrix"]
        t_cli = best(lambda: subprocess.run(cmd, check=True, capture_output=True), runs=5)
        print(f"  `modelward plan` as a new process, 200 models: {t_cli * 1000:.0f} ms")

        print("dataset churn changed (1 user), map dataset -> models (median of 7):")
        for repo, n in ((small, 200), (large, 2000)):
            head = git.rev_parse(repo, "data")
            found = [m.name for m in plan(repo, "main", "data").models]
            assert found == sorted(users_by_batch(repo, head, "churn")) == ["m00007"], found
            t_plan = best(lambda repo=repo: plan(repo, "main", "data"))
            t_batch = best(lambda repo=repo, head=head: users_by_batch(repo, head, "churn"))
            print(
                f"  {n:>5} models: plan (git grep + parse candidates) {t_plan * 1000:7.1f} ms; "
                f"cat-file --batch + parse all (mapping only) {t_batch * 1000:7.1f} ms; "
                f"ratio batch/plan = {t_batch / t_plan:.1f}"
            )


if __name__ == "__main__":
    main()
