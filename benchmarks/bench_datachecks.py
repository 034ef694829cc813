"""What Great Expectations costs: `modelward check-data` against hand-written pandas checks.

One run, one machine, one synthetic 1,000,000-row dataset written to a temporary
repository. Prints, each measured in this run:

  1. end to end (fresh processes): `modelward check-data --no-cache` versus a script
     doing the same checks with pandas; both read the same CSV;
  2. the share of that which is only importing GX: `python -c "import great_expectations"`;
  3. in process, on a DataFrame already in memory: the GX validation step alone
     (`datachecks.run_suite`) versus the pandas checks;
  4. a cached re-run of `modelward check-data` (no GX import).

Usage: python benchmarks/bench_datachecks.py [--rows N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXPECTATIONS = """\
expectations:
  - expect_table_row_count_to_be_between: {min_value: 1000}
  - expect_column_values_to_be_unique: {column: customer_id}
  - expect_column_values_to_not_be_null: {column: tenure_months}
  - expect_column_values_to_be_between: {column: age, min_value: 18, max_value: 100}
  - expect_column_values_to_be_between: {column: tenure_months, min_value: 1, max_value: 120}
  - expect_column_values_to_be_between: {column: monthly_charges, min_value: 0, max_value: 500}
  - expect_column_values_to_be_in_set: {column: region, value_set: [north, south, east, west]}
  - expect_column_values_to_be_in_set: {column: churned, value_set: [0, 1]}
  - expect_column_mean_to_be_between: {column: churned, min_value: 0.05, max_value: 0.6}
"""


def pandas_checks(df: Any) -> list[tuple[str, bool, int | None, list[Any]]]:
    """The same nine checks, hand-written: (name, success, unexpected count, sample)."""
    out: list[tuple[str, bool, int | None, list[Any]]] = []

    def values(name: str, bad: Any) -> None:
        n = int(bad.sum())
        out.append((name, n == 0, n, list(df.loc[bad, name.split(":")[1]].head(5))))

    out.append(("rows", len(df) >= 1000, None, []))
    values("unique:customer_id", df["customer_id"].duplicated(keep=False))
    values("not_null:tenure_months", df["tenure_months"].isna())
    for col, lo, hi in (("age", 18, 100), ("tenure_months", 1, 120), ("monthly_charges", 0, 500)):
        s = df[col]
        values(f"between:{col}", s.notna() & ~s.between(lo, hi))
    values("in_set:region", ~df["region"].isin(["north", "south", "east", "west"]))
    values("in_set:churned", ~df["churned"].isin([0, 1]))
    mean = float(df["churned"].mean())
    out.append(("mean:churned", 0.05 <= mean <= 0.6, None, [mean]))
    return out


def write_repo(root: Path, rows: int) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in range(rows)],
            "age": rng.integers(18, 90, rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "tenure_months": rng.integers(1, 121, rows),
            "monthly_charges": rng.uniform(5, 300, rows).round(2),
            "churned": (rng.random(rows) < 0.25).astype(int),
        }
    )
    folder = root / "data" / "big"
    folder.mkdir(parents=True)
    csv = folder / "big.csv"
    frame.to_csv(csv, index=False)
    (folder / "dataset.yaml").write_text(
        "apiVersion: modelward/v1\nkind: Dataset\nname: big\nsource: big.csv\n"
    )
    (folder / "expectations.yaml").write_text(EXPECTATIONS)
    (root / "modelward.yaml").write_text("apiVersion: modelward/v1\nkind: Config\n")
    return csv


def timed(argv: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return elapsed


def best(samples: list[float]) -> str:
    return f"{min(samples):6.2f} s (median {statistics.median(samples):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of synthetic data")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement")
    parser.add_argument("--pandas-baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pandas_baseline:  # the subprocess side of the end-to-end baseline
        import pandas as pd

        results = pandas_checks(pd.read_csv(args.pandas_baseline))
        sys.exit(0 if all(ok for _, ok, _, _ in results) else 1)

    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-datachecks-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        csv = write_repo(root, args.rows)
        size = csv.stat().st_size / 1e6
        print(f"dataset: {args.rows:,} rows, {size:.0f} MB CSV ({time.perf_counter() - t0:.1f} s)")

        gx_cli = [py, "-m", "modelward", "check-data", "--no-cache", "--repo", str(root)]
        pandas_cli = [py, __file__, "--pandas-baseline", str(csv)]
        gx_runs, pandas_runs, imports = [], [], []
        for _ in range(args.repeat):
            gx_runs.append(timed(gx_cli))
            pandas_runs.append(timed(pandas_cli))
            imports.append(timed([py, "-c", "import great_expectations"]))
        cached = [timed([py, "-m", "modelward", "check-data", "--repo", str(root)])]

        import pandas as pd

        from modelward import datachecks
        from modelward.workspace import load

        suite = datachecks.load_suite(load(root), "big")
        frame = pd.read_csv(csv)
        datachecks.run_suite(suite, frame)  # import GX and warm up outside the timing
        gx_step, pandas_step = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            outcomes = datachecks.run_suite(suite, frame)
            gx_step.append(time.perf_counter() - t)
            t = time.perf_counter()
            hand = pandas_checks(frame)
            pandas_step.append(time.perf_counter() - t)
        assert all(o.success for o in outcomes) and all(ok for _, ok, _, _ in hand)
        assert len(outcomes) == len(hand) == 9

    e2e = min(gx_runs) / min(pandas_runs)
    step = min(gx_step) / min(pandas_step)
    print(f"end to end, fresh process, 9 expectations (best of {args.repeat}):")
    print(f"  modelward check-data --no-cache  {best(gx_runs)}")
    print(f"  hand-written pandas checks       {best(pandas_runs)}")
    print(f"  ratio                            {e2e:6.1f}x")
    print(f"  of which: import great_expectations {best(imports)}")
    print(f"  cached re-run (no GX import)     {best(cached)}")
    print("in process, DataFrame in memory, validation step alone:")
    print(f"  GX run_suite                     {best(gx_step)}")
    print(f"  pandas checks                    {best(pandas_step)}")
    print(f"  ratio                            {step:6.1f}x")


if __name__ == "__main__":
    main()
