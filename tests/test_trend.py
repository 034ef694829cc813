"""The trend chart: registered versions of the target stage, then the candidate."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from helpers_report import example_report_data

from modelward.report import render_report
from modelward.trend import chart, points


def event(kind: str, version: str, stage: str | None = None, auc: float | None = None) -> Any:
    evidence = SimpleNamespace(metrics={"roc_auc": auc} if auc is not None else {})
    return SimpleNamespace(kind=kind, version=version, stage=stage, evidence=evidence)


HISTORY = SimpleNamespace(
    events=[
        event("register", "1.0.0", auc=0.81),
        event("assign", "1.0.0", "staging"),
        event("register", "1.1.0", auc=0.84),
        event("assign", "1.1.0", "staging"),
        event("assign", "1.1.0", "production"),
        event("register", "1.2.0", auc=0.79),  # registered, never in staging
        event("assign", "1.0.0", "staging"),  # a rollback: shown once
    ]
)


def test_points_are_the_stage_versions_in_order_then_the_candidate() -> None:
    got = points(HISTORY, "staging", "roc_auc", "1.3.0", 0.86)
    assert [(p["version"], p["value"], p["candidate"]) for p in got] == [
        ("1.0.0", 0.81, False),
        ("1.1.0", 0.84, False),
        ("1.3.0", 0.86, True),
    ]
    assert points(None, "staging", "roc_auc", "0.1.0", 0.5) == [
        {"version": "0.1.0", "value": 0.5, "candidate": True}
    ]


def test_the_chart_is_a_small_mermaid_xychart() -> None:
    text = chart("churn", "roc_auc", points(HISTORY, "staging", "roc_auc", "1.3.0", 0.86))
    assert text.startswith("```mermaid\nxychart-beta\n")
    assert 'x-axis ["1.0.0", "1.1.0", "1.3.0 (candidate)"]' in text
    assert "line [0.81, 0.84, 0.86]" in text
    assert 'y-axis "roc_auc" 0.8 --> 0.87' in text
    assert len(text) < 400
    assert chart("churn", "roc_auc", [{"version": "1", "value": 1.0}]) == ""


def test_the_report_shows_the_chart_and_keeps_it_within_budget() -> None:
    data = example_report_data()
    model = data["models"][0]
    model["trend"] = points(HISTORY, "staging", "roc_auc", "9.9.9", 0.9)
    primary = next(m["name"] for m in model["metrics"] if m["primary"])
    report = render_report(data)
    assert "```mermaid\nxychart-beta" in report
    assert f'"{model["name"]}: {primary}"' in report
