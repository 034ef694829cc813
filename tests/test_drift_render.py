"""drift_render: the text table and the Markdown report (with one Mermaid chart per
drifted feature). Regenerate the snapshot with MODELWARD_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from modelward import drift, evaluation
from modelward.drift_render import render_markdown, render_text
from modelward.monitoring import DriftResult, NewData, Reference

SNAPSHOT = Path(__file__).parent / "snapshots" / "drift.md"


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 4000
    reference = pd.DataFrame(
        {
            "price": rng.normal(65, 20, n).round(2),
            "tenure": rng.exponential(24, n).round(),
            "contract": rng.choice(["monthly", "yearly", "two-year"], n, p=[0.55, 0.25, 0.2]),
            "region": rng.choice(["north", "south"], n),
        }
    )
    current = pd.DataFrame(
        {
            "price": rng.normal(85, 20, n).round(2),
            "tenure": rng.exponential(24, n).round(),
            "contract": rng.choice(
                ["monthly", "yearly", "two-year", "weekly|<b>"], n, p=[0.3, 0.3, 0.35, 0.05]
            ),
            "region": rng.choice(["north", "south"], n),
        }
    )
    return reference, current


def result() -> DriftResult:
    reference, current = frames()
    profile = evaluation.profile(reference)
    report = drift.compare(
        profile,
        current,
        decay=drift.decay("roc_auc", 0.84, 0.81, max_drop=0.05, n=4000),
    )
    ref = Reference(
        model="churn",
        version="1.1.0",
        source="registry",
        stage="production",
        profile=profile,
        metrics={"roc_auc": 0.84},
        artifact_location="store/model.joblib",
        artifact_sha256="0" * 64,
        tag="churn@v1.1.0",
    )
    new = NewData("snapshots/2026-q4.csv", "ab" * 32, "snapshots/2026-q4.csv", current)
    return DriftResult("churn", ref, new, report)


def test_the_markdown_report_matches_the_snapshot() -> None:
    text = render_markdown([result()])
    if os.environ.get("MODELWARD_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


def test_each_drifted_feature_gets_one_mermaid_xychart() -> None:
    text = render_markdown([result()])
    drifted = [f.feature for f in result().report.ranked() if f.drifted]
    assert drifted == ["price", "contract"]
    charts = re.findall(r"```mermaid\nxychart-beta\n    title \"([^:]+):", text)
    assert charts == drifted
    assert text.count("```mermaid") == len(drifted)
    assert "    bar [" in text and "    line [" in text


def test_markdown_neutralises_category_names() -> None:
    text = render_markdown([result()])
    assert "<b>" not in text
    assert "`weekly|&lt;b&gt;`" in text  # the list of new categories
    assert '"weekly|‹b›"' in text  # the chart's axis label


def test_the_text_table_lists_drifted_features_first() -> None:
    text = render_text([result()])
    lines = text.splitlines()
    assert lines[0] == (
        "drift of churn: snapshots/2026-q4.csv against churn v1.1.0, production (tag churn@v1.1.0)"
    )
    assert lines[1] == (
        "DRIFT: 2 of 4 features drifted (share 0.50, dataset drift at 0.5): price, contract"
    )
    assert lines[2].startswith("no decay: roc_auc 0.8400 -> 0.8100")
    rows = [line.split()[0] for line in lines[4:8]]
    assert rows[:2] == ["price", "contract"]
    assert "new categories in contract: weekly|<b>" in text
