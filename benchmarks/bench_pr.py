"""Benchmark `modelward pr`: its cost grows with the changed models, not with the repo.

Builds, in a temp dir, two real git repositories (each with a bare `origin`, the
example policies and modelward.yaml):

- `many`: 200 models, each with its own dataset (300-row CSV, 4 expectations,
  LogisticRegression) and registry history (4 annotated tags with modelward payloads:
  two versions registered and assigned to staging), and two branches: `docs` (a README
  change, touching no model) and `tune` (version bump + C change of exactly one model);
- `one`: the same with a single model and the same `tune` branch.

It then times `modelward pr --base main --author x` as fresh subprocesses (median of
--runs, interleaved so machine load hits all alike; the best run is printed too) and
prints absolute wall times and the ratios against the targets of issue #4:

  no-model PR on 200 models (absolute)          target < 0.5 s, no pandas/sklearn/GX
  1-of-200 PR / 1-of-1 PR                       target <= 1.2

Before each model-touching run `.modelward/` (artifact store and data-check cache) is
deleted, so both sides run Great Expectations and train once, from cold. Finally it runs
the no-model PR once under `python -X importtime` and lists the heavy modules imported.

Run: .venv/bin/python benchmarks/bench_pr.py [--runs N] [--models N]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modelward.registry import Evidence, Verdict, format_message

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "sklearn", "great_expectations", "numpy", "scipy", "jinja2", "pydantic")
ROWS = 300

MANIFEST = """\
apiVersion: modelward/v1
kind: Model
name: {name}
version: 1.0.0
stages: {{staging: 1.0.0}}
owners: ["alice"]
description: Synthetic classifier {name}, one of many.
card:
  intended_use: Benchmarking modelward.
  limitations: Synthetic data.
task: classification
data:
  dataset: {name}
  target: y
  split: {{test_size: 0.25, stratify: true, seed: 7}}
model:
  estimator: sklearn.linear_model.LogisticRegression
  params: {{C: 1.0, max_iter: 200}}
  preprocess: auto
evaluation:
  metrics: [roc_auc, accuracy]
  primary: roc_auc
"""

DATASET = """\
apiVersion: modelward/v1
kind: Dataset
name: {name}
source: {name}.csv
format: csv
expectations: expectations.yaml
"""

EXPECTATIONS = """\
expectations:
  - expect_table_row_count_to_be_between: {min_value: 100}
  - expect_column_values_to_not_be_null: {column: x1}
  - expect_column_values_to_be_between: {column: x2, min_value: -10, max_value: 10}
  - expect_column_values_to_be_in_set: {column: y, value_set: [0, 1]}
"""


def csv_rows(seed: int) -> str:
    rng = random.Random(seed)
    lines = ["x1,x2,x3,x4,y"]
    for _ in range(ROWS):
        xs = [rng.gauss(0, 1) for _ in range(4)]
        score = 1.5 * xs[0] - xs[1] + 0.5 * xs[2] + rng.gauss(0, 1)
        lines.append(",".join(f"{x:.4f}" for x in xs) + f",{int(score > 0)}")
    return "\n".join(lines) + "\n"


def history(model: str, commit: str) -> bytes:
    """A `git fast-import` stream of the model's registry history, as promote writes it:
    0.9.0 and 1.0.0 registered, each assigned to staging (4 annotated tags with payload)."""
    out = []
    events = [("0.9.0", None, 0), ("0.9.0", "staging", 1), ("1.0.0", None, 0)]
    events.append(("1.0.0", "staging", 2))
    for i, (version, stage, counter) in enumerate(events):
        name = f"{model}@v{version}" if stage is None else f"{model}#{stage}#{counter}"
        evidence = Evidence(
            model=model,
            version=version,
            action="register" if stage is None else "assign",
            stage=stage,
            manifest_digest="d" * 64,
            data_sha256="a" * 64,
            artifact_sha256="b" * 64,
            metrics={"roc_auc": 0.81, "accuracy": 0.74},
            verdicts=(Verdict("staging", "data_checks_pass", "pass", "4 of 4 passed"),),
            pr_number=i + 1,
            author="dana",
            approvers=("alice",),
            library_versions={"scikit-learn": "1.5.0", "modelward": "0.1.0"},
        )
        message = format_message(evidence).encode()
        out.append(b"tag %s\nfrom %s\n" % (name.encode(), commit.encode()))
        out.append(b"tagger Bench <bench@example.com> %d +0000\n" % (1_700_000_000 + i))
        out.append(b"data %d\n%s\n" % (len(message), message))
    return b"".join(out)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def build(root: Path, name: str, n: int, touched: str) -> Path:
    """A repository of n models on main, pushed to a bare origin, with branches docs/tune."""
    repo = root / name
    repo.mkdir()
    for i in range(n):
        model = f"m{i:03d}"
        (repo / "models" / model).mkdir(parents=True)
        (repo / "models" / model / "model.yaml").write_text(MANIFEST.format(name=model))
        (repo / "data" / model).mkdir(parents=True)
        (repo / "data" / model / "dataset.yaml").write_text(DATASET.format(name=model))
        (repo / "data" / model / "expectations.yaml").write_text(EXPECTATIONS)
        (repo / "data" / model / f"{model}.csv").write_text(csv_rows(i))
    # the example's waivers name the example's models, which this repository does not have
    shutil.copytree(
        ROOT / "policies", repo / "policies", ignore=shutil.ignore_patterns("waivers.yaml")
    )
    shutil.copy2(ROOT / "modelward.yaml", repo / "modelward.yaml")
    (repo / "README.md").write_text("# Models\n")
    (repo / ".gitignore").write_text(".modelward/\n")
    git(repo, "init", "-q", "-b", "main")
    for key, value in (("user.name", "bench"), ("user.email", "bench@example.com")):
        git(repo, "config", key, value)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{n} models")
    head = git(repo, "rev-parse", "HEAD")
    stream = b"".join(history(f"m{i:03d}", head) for i in range(n))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, check=True)
    git(root, "init", "-q", "--bare", f"{name}-origin.git")
    git(repo, "remote", "add", "origin", str(root / f"{name}-origin.git"))
    git(repo, "push", "-q", "--follow-tags", "origin", "main")
    git(repo, "fetch", "-q", "origin")

    git(repo, "checkout", "-q", "-b", "docs", "main")
    (repo / "README.md").write_text("# Models\n\nA note on how we work.\n")
    git(repo, "commit", "-q", "-am", "Document how we work")

    git(repo, "checkout", "-q", "-b", "tune", "main")
    path = repo / "models" / touched / "model.yaml"
    text = path.read_text().replace("version: 1.0.0", "version: 1.1.0")
    path.write_text(text.replace("C: 1.0", "C: 0.5"))
    git(repo, "commit", "-q", "-am", f"Tune {touched}")
    return repo


def pr_argv(repo: Path) -> list[str]:
    return [sys.executable, "-m", "modelward", "pr", "--repo", str(repo)]


CPU: dict[str, list[float]] = {}
"""CPU seconds (user+sys) of every run per repository:branch: on a shared machine, wall
time also measures the neighbours."""


def run_pr(repo: Path, branch: str, *, cold: bool, python_flags: tuple[str, ...] = ()) -> float:
    """Wall time of one `modelward pr` on `branch`, as a fresh process."""
    git(repo, "checkout", "-q", branch)
    if cold:
        shutil.rmtree(repo / ".modelward", ignore_errors=True)
    argv = pr_argv(repo)
    argv[1:1] = python_flags
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [*argv, "--base", "main", "--author", "x"], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(f"{repo.name}:{branch}", []).append(cpu)
    check_outcome(branch, proc)
    return elapsed


def check_outcome(branch: str, proc: subprocess.CompletedProcess[str]) -> None:
    """Fail loudly unless the run judged what it was meant to (no timing of errors)."""
    from modelward.report import extract_data

    data = extract_data(proc.stdout)
    if proc.returncode not in (0, 1) or data is None:
        raise SystemExit(f"modelward pr on {branch} failed ({proc.returncode}):\n{proc.stderr}")
    trained = [m["name"] for m in data["models"]]
    expected = 0 if branch == "docs" else 1
    if len(trained) != expected or any(m["error"] for m in data["models"]):
        raise SystemExit(f"{branch}: expected {expected} model(s), got {data['models']}")


def interleaved(variants: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, measure in variants.items():
            times[name].append(measure())
    return times


def heavy_imports(repo: Path) -> tuple[list[str], float]:
    """Top-level heavy packages a no-model PR imports, and its cumulative import time."""
    git(repo, "checkout", "-q", "docs")
    argv = pr_argv(repo)
    argv[1:1] = ["-X", "importtime"]
    proc = subprocess.run(
        [*argv, "--base", "main", "--author", "x"], capture_output=True, text=True
    )
    check_outcome("docs", proc)
    found: set[str] = set()
    total_us = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        if not cumulative.isdigit():
            continue
        top = name.split(".")[0]
        if top in HEAVY:
            found.add(top)
        if not line.split("|")[2].startswith("  "):
            total_us += int(cumulative)
    return sorted(found), total_us / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="timed runs per variant")
    parser.add_argument("--models", type=int, default=200, help="models in the big repository")
    args = parser.parse_args()
    n = args.models
    touched = f"m{n // 2:03d}"
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        many = build(Path(tmp), "many", n, touched)
        one = build(Path(tmp), "one", 1, "m000")
        built = time.perf_counter() - start
        # warm the OS file cache and Python's bytecode once; not timed
        run_pr(many, "docs", cold=True)
        run_pr(one, "tune", cold=True)
        CPU.clear()
        t = interleaved(
            {
                "none": lambda: run_pr(many, "docs", cold=True),
                "many": lambda: run_pr(many, "tune", cold=True),
                "one": lambda: run_pr(one, "tune", cold=True),
            },
            args.runs,
        )
        heavy, import_s = heavy_imports(many)
    med = {k: statistics.median(v) for k, v in t.items()}
    best = {k: min(v) for k, v in t.items()}
    print(f"repositories built in {built:.1f} s ({n} models, {4 * n} registry tags)")
    print(f"wall seconds over {args.runs} interleaved runs, each a fresh")
    print("`python -m modelward pr --base main --author x`        median     best")
    rows = [
        ("none", f"no model touched, {n} models"),
        ("many", f"1 of {n} models touched (cold caches)"),
        ("one", "1 of 1 model touched (cold caches)"),
    ]
    for key, label in rows:
        print(f"  {label:45s} {med[key]:7.3f}  {best[key]:7.3f}")
    print("targets")
    verdict = "met" if med["none"] < 0.5 else "MISSED"
    print(f"  {'no-model PR under 0.5 s (median)':45s} {med['none']:7.3f}  {verdict}")
    cpu = statistics.median(CPU["many:docs"])
    verdict = "met" if cpu < 0.5 else "MISSED"
    print(f"  {'no-model PR under 0.5 s of CPU (median)':45s} {cpu:7.3f}  {verdict}")
    for what, d in (("median", med), ("best", best)):
        ratio = d["many"] / d["one"]
        verdict = "met" if ratio <= 1.2 else "MISSED"
        label = f"1-of-{n} / 1-of-1 <= 1.2 ({what})"
        print(f"  {label:45s} {ratio:7.2f}  {verdict}")
    print(f"no-model run under -X importtime: {import_s:.3f} s of imports")
    print(f"  heavy modules imported: {', '.join(heavy) or 'none'}")
    forbidden = [m for m in heavy if m in ("pandas", "sklearn", "great_expectations")]
    print(f"  pandas/sklearn/great_expectations imported: {', '.join(forbidden) or 'none'}")


if __name__ == "__main__":
    main()
