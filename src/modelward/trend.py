"""The trend a reviewer sees: the primary metric of every version that was registered in
the target stage, then the candidate, as a Mermaid `xychart-beta` chart (GitHub renders
it in the comment, with no image hosting). Kept small: at most `MOST` points, labels and
values short, so a chart costs a few hundred characters of the comment budget.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MOST = 12
"""Points on a chart: the latest versions, then the candidate."""


def points(
    history: Any, stage: str | None, metric: str, version: str, candidate: float | None
) -> list[dict[str, Any]]:
    """[{version, value, candidate}] for the versions once assigned to `stage`, in order
    of assignment (each version once), then the candidate."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    registered: dict[str, float] = {}
    for event in getattr(history, "events", []) if history is not None else []:
        ev = event.evidence
        if event.kind == "register" and event.version and ev is not None:
            value = ev.metrics.get(metric)
            if value is not None:
                registered[event.version] = float(value)
    for event in getattr(history, "events", []) if history is not None else []:
        v = event.version
        assigned = event.kind == "assign" and event.stage == stage
        if assigned and v and v not in seen and v in registered and v != version:
            seen.add(v)
            out.append({"version": v, "value": registered[v], "candidate": False})
    out = out[-(MOST - 1) :]
    if candidate is not None:
        out.append({"version": version, "value": float(candidate), "candidate": True})
    return out


def chart(name: str, metric: str, trend: Sequence[Mapping[str, Any]]) -> str:
    """A Mermaid xychart-beta block, or "" when there is nothing to compare (fewer than
    two points)."""
    if len(trend) < 2:
        return ""
    labels = [
        str(p["version"])[:16] + (" (candidate)" if p.get("candidate") else "") for p in trend
    ]
    values = [round(float(p["value"]), 4) for p in trend]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.2, 0.01)
    title = json.dumps(f"{name}: {metric}"[:60])
    return (
        "```mermaid\nxychart-beta\n"
        f"    title {title}\n"
        f"    x-axis {json.dumps(labels)}\n"
        f"    y-axis {json.dumps(metric[:30])} {round(low - pad, 4)} --> {round(high + pad, 4)}\n"
        f"    line {json.dumps(values)}\n"
        "```"
    )


def model_chart(model: Mapping[str, Any]) -> str:
    """The chart of one model entry of the report data (its `trend` key, if any)."""
    primary = next((m["name"] for m in model.get("metrics", []) if m.get("primary")), None)
    trend = model.get("trend") or []
    if primary is None or not trend:
        return ""
    return chart(str(model["name"]), str(primary), trend)
