"""Drift results as text (a table sorted by distance) and Markdown (a summary table,
then a Mermaid `xychart-beta` chart of reference against current per drifted feature,
which GitHub renders in comments and pull-request bodies without image hosting)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .report import cell, text

if TYPE_CHECKING:
    from .drift import Decay, FeatureDrift
    from .monitoring import DriftResult

CHART_BARS = 24
"""At most this many x-axis cells per chart (the largest shares are kept, in order)."""


def verdict(result: DriftResult) -> str:
    report = result.report
    drifted = [f.feature for f in report.ranked() if f.drifted]
    tested = len(report.tested)
    head = "DRIFT" if report.dataset_drift else "no dataset drift"
    line = (
        f"{head}: {len(drifted)} of {tested} features drifted "
        f"(share {report.share:.2f}, dataset drift at {report.settings.drift_share:g})"
    )
    if drifted:
        line += ": " + ", ".join(drifted)
    return line


def decay_line(decay: Decay) -> str:
    if decay.current is None:
        return f"decay: {decay.metric} could not be computed on {decay.n} rows ({decay.reason})"
    word = "DECAY" if decay.decayed else "no decay"
    drop = decay.drop if decay.drop is not None else 0.0
    return (
        f"{word}: {decay.metric} {decay.reference:.4f} -> {decay.current:.4f} on {decay.n} "
        f"labelled rows (drop {drop:+.4f}, max_drop {decay.max_drop:g})"
    )


def _score(f: FeatureDrift) -> str:
    if f.distance is None:
        return "-"
    return f"{f.distance:.4f}" if f.score == "distance" else f"p={f.distance:.3g}"


def _threshold(f: FeatureDrift) -> str:
    return f"{f.threshold:g}" if f.score == "distance" else f"p<{f.threshold:g}"


def _psi(f: FeatureDrift) -> str:
    return "-" if f.psi is None else f"{f.psi:.4f}"


def _nulls(f: FeatureDrift) -> str:
    return f"{f.reference_null_share:.1%} -> {f.current_null_share:.1%}"


def render_text(results: Sequence[DriftResult]) -> str:
    blocks = []
    for result in results:
        lines = [
            f"drift of {result.model}: {result.data.display} against {result.reference.label()}",
            verdict(result),
        ]
        if result.report.decay is not None:
            lines.append(decay_line(result.report.decay))
        header = ("feature", "type", "test", "score", "threshold", "status", "psi", "nulls")
        rows = [
            (
                f.feature,
                f.type,
                f.test,
                _score(f),
                _threshold(f),
                f.status,
                _psi(f),
                _nulls(f),
            )
            for f in result.report.ranked()
        ]
        widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
        for row in (header, *rows):
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        for f in result.report.ranked():
            if f.new_categories:
                lines.append(f"new categories in {f.feature}: {', '.join(f.new_categories)}")
        lines += [f"note: {n}" for n in result.report.notes]
        blocks.append("\n".join(line.rstrip() for line in lines))
    return "\n\n".join(blocks)


def render_markdown(results: Sequence[DriftResult]) -> str:
    return "\n\n".join(_markdown_one(r) for r in results).rstrip() + "\n"


def _markdown_one(result: DriftResult) -> str:
    report, ref = result.report, result.reference
    out = [
        f"### Drift of `{result.model}` against {text(ref.label())}",
        "",
        f"New data: `{text(result.data.display)}` ({report.n_current} rows, sha256 "
        f"`{result.data.sha256[:12]}`); reference: {report.n_reference} training rows.",
        "",
        f"**{text(verdict(result))}**",
        "",
    ]
    if report.decay is not None:
        out += [f"**{text(decay_line(report.decay).replace(' -> ', ' → '))}**", ""]
    out += [
        "| feature | type | test | score | threshold | status | PSI | nulls (ref → cur) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in report.ranked():
        mark = "**drift**" if f.drifted else f.status
        nulls = f"{f.reference_null_share:.1%} → {f.current_null_share:.1%}"
        cells = (f.feature, f.type, f.test, _score(f), _threshold(f), mark, _psi(f), nulls)
        out.append("| " + " | ".join(cell(c) for c in cells) + " |")
    out.append("")
    for f in report.ranked():
        if f.new_categories:
            names = ", ".join(f"`{text(c)}`" for c in f.new_categories)
            out += [f"New categories in `{text(f.feature)}`: {names}", ""]
    out += [f"> {text(n)}" for n in report.notes]
    if report.notes:
        out.append("")
    for f in report.ranked():
        if f.drifted and f.reference_bins:
            out += [chart(f), ""]
    return "\n".join(out).rstrip()


def _label(value: str) -> str:
    """A quoted Mermaid axis label: no quotes, brackets, markup or line breaks inside."""
    return json.dumps(_clean(value)[:24], ensure_ascii=False)


def chart(f: FeatureDrift) -> str:
    """A Mermaid bar chart: bars are the reference's shares, the line the current's (%)."""
    ref = list(f.reference_bins)
    cur = dict(f.current_bins)
    if len(ref) > CHART_BARS:
        keep = sorted(range(len(ref)), key=lambda i: -max(ref[i][1], cur.get(ref[i][0], 0.0)))[
            :CHART_BARS
        ]
        ref = [ref[i] for i in sorted(keep)]
    labels = [k for k, _ in ref]
    r = [round(100 * v, 1) for _, v in ref]
    c = [round(100 * cur.get(k, 0.0), 1) for k in labels]
    top = max([*r, *c, 1.0])
    title = f"{f.feature}: reference (bars) vs current (line), % of rows"
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f"    title {json.dumps(_clean(title), ensure_ascii=False)}",
            f"    x-axis [{', '.join(_label(k) for k in labels)}]",
            f'    y-axis "share (%)" 0 --> {max(1, int(top) + 1)}',
            f"    bar [{', '.join(f'{v:g}' for v in r)}]",
            f"    line [{', '.join(f'{v:g}' for v in c)}]",
            "```",
        ]
    )


_UNSAFE = str.maketrans({'"': "'", "`": "'", "[": "(", "]": ")", "<": "‹", ">": "›", "&": "+"})


def _clean(value: str) -> str:
    """Text for inside a Mermaid block: nothing that could end it or render as markup."""
    return " ".join(value.translate(_UNSAFE).split())
