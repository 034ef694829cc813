"""Benchmark drift.compare against scipy on the same columns, in one run.

1,000,000 reference rows and 1,000,000 current rows of 10 numeric features (continuous
and count data). The baseline is what a user would write with the raw reference at
hand: scipy.stats.ks_2samp and scipy.stats.wasserstein_distance on every column. modelward
gets the stored profile of the reference (made once, at training) and the current frame,
and runs every test Evidently's defaults call for plus PSI, null shares and the charts'
bins. Prints the median of a few runs of each and the ratio (target <= 1.5).

Run: .venv/bin/python benchmarks/bench_drift.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, wasserstein_distance

from modelward import drift, evaluation


def frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(10):
        if i % 2:
            columns[f"f{i}"] = rng.normal(10.0 * i + shift, 3.0, rows)
        else:
            columns[f"f{i}"] = rng.poisson(20.0 + i + shift, rows).astype(float)
    return pd.DataFrame(columns)


def scipy_both(reference: pd.DataFrame, current: pd.DataFrame) -> None:
    for column in reference.columns:
        ref, cur = reference[column].to_numpy(), current[column].to_numpy()
        ks_2samp(ref, cur)
        wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)


def timed(fn: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    reference = frame(args.rows, 1, 0.0)
    current = frame(args.rows, 2, 0.5)
    started = time.perf_counter()
    profile = evaluation.profile(reference)
    profiling = time.perf_counter() - started

    ours = timed(lambda: drift.compare(profile, current), args.runs)
    theirs = timed(lambda: scipy_both(reference, current), args.runs)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"rows: {args.rows:,} x 10 features, median of {args.runs} runs")
    print(f"  modelward drift.compare (profile vs current)   {a:7.3f} s")
    print(f"  scipy ks_2samp + wasserstein_distance (raw)    {b:7.3f} s")
    print(f"  ratio modelward / scipy                        {a / b:7.2f}x  (target <= 1.5)")
    print(f"  profiling the reference once, at training      {profiling:7.3f} s")
    print(f"  ratio (profiling + compare) / scipy            {(profiling + a) / b:7.2f}x")


if __name__ == "__main__":
    main()
