"""Markdown documents: the pull-request report and the model card.

Everything here renders plain data through Jinja2 templates (`templates/*.md.j2`)
with `StrictUndefined`, so a missing key is an error, never an empty cell. Autoescape
is on, through markup.py's filters (`cell`, `text`, `code`, `block`): a value printed
without one is escaped as Markdown text by `markup.finalize`. They neutralise HTML,
the hidden markers, links, @-mentions, table separators and line breaks in cells.

The pull-request report
-----------------------
``render_report(data)`` takes one JSON-able mapping: ``reportdata.ReportData.to_dict()``
of the typed records ``pr.py`` builds (``reportdata.py`` checks them when a block is read
back, and carries the schema version)::

    {
      "schema": 1,                     # reportdata.REPORT_SCHEMA
      "head_sha": str,                 # the pull request's head commit
      "base": str, "head": str,        # the refs compared
      "summary": "pass" | "fail" | "pending",
      "pull_request": int | None,
      "generated_by": str,             # e.g. "modelward 0.1.0"
      "models": [{
        "name": str, "version": str, "stage": str,
        "status": "changed" | "added" | "deleted" | "renamed",
        "reasons": [str],              # why the model is affected
        "base_version": str | None,    # version on the base branch
        "metrics": [{"name": str, "baseline": float | None,
                     "candidate": float | None, "primary": bool}],
        "baseline": {"version": str, "stage": str,
                     "source": "registry" | "base-branch"} | None,
        "slices": {column: {value: {"n": int, "metrics": {metric: float | None}}}},
        "data_checks": {"dataset": str, "success": bool, "cached": bool,
                        "expectations": [{"index": int, "line": int, "type": str,
                                          "kwargs": {...}, "success": bool,
                                          "unexpected_count": int | None,
                                          "unexpected_percent": float | None,
                                          "sample": [...], "observed": Any}],
                        # the base branch's suite, when it differs (same fields), and
                        # the base's expectations the change removes or loosens
                        "base": {...} | None, "loosened": [str]} | None,
        "verdicts": [VERDICT],
        "hashes": {"data_sha256": str | None, "suite_sha256": str | None,
                   "artifact_sha256": str | None, "manifest_digest": str | None},
        "artifact_bytes": int | None,
        "versions": {library: version},
        "cached": bool,                # training result reused from the store
        "error": str | None,           # e.g. training failed: shown prominently
      }],
      "governance": [VERDICT],         # for changes to policies/ and modelward.yaml
      "notes": [str],
    }

    VERDICT = {"policy": str, "rule": str, "status": "pass" | "fail" | "pending",
               "enforcement": "block" | "warn", "reason": str,
               "path": str | None, "line": int | None,
               "waiver": {"policy", "rule", "model", "reason", "approved_by": [str],
                          "expires": "YYYY-MM-DD", "expired": bool} | None}

A verdict whose ``waiver`` is set and not expired shows as *waived* and never blocks
(the policy engine attaches a waiver only when it was used). With an expired waiver
the verdict counts as its ``status`` and the report says the waiver expired. A
``fail`` with ``enforcement: block`` is a blocking failure; with ``warn`` a warning.
Metrics are scikit-learn scorer names, all "greater is better": ▲ is better.

The report starts with a hidden marker (``MARKER``) that finds the sticky comment,
and ends with a hidden block ``<!-- modelward:data {...} -->`` holding ``data`` as
JSON (``--`` escaped so the comment cannot close early), which ``extract_data``
reads back so a later run can re-evaluate approvals without retraining.

The report stays under GitHub's comment limit (``COMMENT_LIMIT`` characters) by
rendering less detail, in steps, with a note saying so; it never drops a model
silently. The steps are: full; compact (no slice tables, no passing expectations or
verdicts, short samples); minimal (one summary row per model plus its failing and
pending verdicts). The data block is compacted the same way when needed and stays
valid JSON.

The model card
--------------
``render_card(model, dataset, results)`` renders the Model Card Toolkit / Hugging
Face sections from a manifest, its dataset and the ``metrics.json`` dict written by
``modelward train --out`` (keys: metrics, slice_metrics, confusion_matrix,
data_sha256, artifact_sha256, versions, n_train, n_test). Missing fields show as
"_Not provided._".
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from . import markup
from .errors import DataError, ModelwardError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    import jinja2

    from .manifest import Dataset, Model

MARKER = "<!-- modelward:report -->"
DATA_OPEN = "<!-- modelward:data "
DATA_CLOSE = " -->"
COMMENT_LIMIT = 60_000
"""GitHub takes 65,536 characters and counts them differently from Python: keep room."""
TRUNCATION_NOTE = (
    "details truncated to fit GitHub's comment limit; full report in the job summary/artifact"
)
NOT_PROVIDED = "_Not provided._"
LEVELS = ("full", "compact", "minimal")
STATUS_ORDER = {"fail": 0, "pending": 1, "waived": 2, "pass": 3}
ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "pending": "⏳", "waived": "🟡"}
_DATA_RE = re.compile(re.escape(DATA_OPEN) + r"(\{.*?\})" + re.escape(DATA_CLOSE), re.DOTALL)


# ---------------------------------------------------------------- access to the input


def key(obj: Any, name: str) -> Any:
    """obj[name], raising the same UndefinedError as the templates when it is missing."""
    try:
        return obj[name]
    except (KeyError, TypeError, IndexError):
        # Jinja is imported only to render with the template (a report with nothing to
        # judge is written without it)
        from jinja2.exceptions import UndefinedError

        raise UndefinedError(f"report data has no key {name!r} in {_short_repr(obj)}") from None


def _short_repr(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def effective_status(verdict: Mapping[str, Any]) -> str:
    """pass, fail, pending or waived (a live waiver turns any outcome into waived)."""
    waiver = key(verdict, "waiver")
    if waiver is not None and not key(waiver, "expired"):
        return "waived"
    status = key(verdict, "status")
    if status not in ("pass", "fail", "pending"):
        raise ValueError(f"verdict status must be pass, fail or pending, not {status!r}")
    return str(status)


def is_blocking(verdict: Mapping[str, Any]) -> bool:
    return effective_status(verdict) == "fail" and key(verdict, "enforcement") == "block"


def tally(verdicts: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counts of blocking failures, warnings, pending, waived and passed verdicts."""
    counts = {"blocking": 0, "warning": 0, "pending": 0, "waived": 0, "pass": 0}
    for verdict in verdicts:
        status = effective_status(verdict)
        if status == "fail":
            counts["blocking" if is_blocking(verdict) else "warning"] += 1
        else:
            counts[status] += 1
    return counts


def sort_verdicts(verdicts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Failures first, then pending, waived, passed; stable within each."""
    return sorted(verdicts, key=lambda v: STATUS_ORDER[effective_status(v)])


def attention(verdicts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The verdicts a reader must act on: failing (blocking or not) and pending."""
    return [v for v in sort_verdicts(verdicts) if effective_status(v) in ("fail", "pending")]


def model_needs_attention(model: Mapping[str, Any]) -> bool:
    checks = key(model, "data_checks")
    return (
        key(model, "error") is not None
        or bool(attention(key(model, "verdicts")))
        or (checks is not None and not key(checks, "success"))
    )


# ---------------------------------------------------------------- summary line


def render_summary_line(data: Mapping[str, Any]) -> str:
    """One line: the verdict of the whole pull request, e.g. for a commit status."""
    models = key(data, "models")
    governance = key(data, "governance")
    summary = key(data, "summary")
    if summary == "fail":
        total, failing = _where(models, governance, "blocking")
        if not total:
            return "❌ modelward: blocked — see the report"
        return f"❌ modelward: blocked — {_plural(total, 'blocking failure')} in {_names(failing)}"
    if summary == "pending":
        total, waiting = _where(models, governance, "pending")
        if not total:
            return "⏳ modelward: waiting for approvals"
        return (
            f"⏳ modelward: waiting for approvals — {_plural(total, 'pending rule')} "
            f"in {_names(waiting)}"
        )
    if summary == "pass":
        extra = ""
        warnings = sum(tally(key(m, "verdicts"))["warning"] for m in models)
        warnings += tally(governance)["warning"]
        if warnings:
            extra = f", {_plural(warnings, 'warning')}"
        what = _plural(len(models), "model") if models else "no model changes"
        return f"✅ modelward: all checks passed ({what}{extra})"
    raise ValueError(f"summary must be pass, fail or pending, not {summary!r}")


def _where(models: Any, governance: Any, kind: str) -> tuple[int, list[str]]:
    """How many verdicts of `kind` (blocking, pending) there are, and in what."""
    total, names = 0, []
    for model in models:
        n = tally(key(model, "verdicts"))[kind]
        if kind == "blocking":
            n += key(model, "error") is not None  # a model that failed to train blocks
        if n:
            total += n
            names.append(str(key(model, "name")))
    n = tally(governance)[kind]
    if n:
        total += n
        names.append("governance")
    return total, names


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _names(names: Sequence[str], most: int = 3) -> str:
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


# ---------------------------------------------------------------- annotations


def to_annotations(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Check-run annotations for failing and pending verdicts that point at a file.

    level is failure (blocking), warning (fail under warn enforcement) or notice
    (pending); waived and passing verdicts make none.
    """
    out: list[dict[str, Any]] = []
    scopes: list[tuple[str, Sequence[Mapping[str, Any]]]] = [
        (str(key(m, "name")), key(m, "verdicts")) for m in key(data, "models")
    ]
    scopes.append(("governance", key(data, "governance")))
    for scope, verdicts in scopes:
        for verdict in attention(verdicts):
            path, line = key(verdict, "path"), key(verdict, "line")
            if not path:
                continue
            status = effective_status(verdict)
            level = (
                "notice"
                if status == "pending"
                else "failure"
                if is_blocking(verdict)
                else "warning"
            )
            out.append(
                {
                    "file": path,
                    "line": int(line or 1),
                    "level": level,
                    "message": f"{scope}: {key(verdict, 'policy')}/{key(verdict, 'rule')} "
                    f"{status}: {key(verdict, 'reason')}",
                }
            )
    return out


# ---------------------------------------------------------------- escaping filters


_clip = markup._clip
cell, text, block, code = markup.cell, markup.text, markup.block, markup.code
# cell, text, block and code live in markup.py: one set of filters for every renderer.


def _str(value: Any) -> str:
    if _undefined(value):
        str(value)  # StrictUndefined raises here
    return value if isinstance(value, str) else json.dumps(value, default=str)


def num(value: Any) -> str:
    """A metric value with 4 decimals."""
    if _undefined(value):
        return _str(value)
    if value is None:
        return "—"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{float(value):.4f}"


def delta(baseline: Any, candidate: Any) -> str:
    """▲ better / ▼ worse / = unchanged, all metrics being greater-is-better."""
    if baseline is None or candidate is None:
        return "—"
    d = round(float(candidate) - float(baseline), 4)
    if not math.isfinite(d):
        return "—"
    if d > 0:
        return f"▲ +{d:.4f}"
    if d < 0:
        return f"▼ {d:.4f}"
    return "= 0.0000"


def short(value: Any, n: int = 12) -> str:
    if value is None:
        return "—"
    return str(value)[:n]


def percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value):.2f}%"


def kwargs_text(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k}={json.dumps(v, default=str, ensure_ascii=False)}" for k, v in kwargs.items()
    )


def sample_text(values: Sequence[Any] | None, count: int, width: int) -> str:
    if not values:
        return ""
    shown = [
        _clip(json.dumps(v, default=str, ensure_ascii=False), width) for v in list(values)[:count]
    ]
    more = len(values) - count
    return ", ".join(shown) + (f", … (+{more})" if more > 0 else "")


def size(n: Any) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def slice_metric_names(values: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for entry in values.values():
        for metric in key(entry, "metrics"):
            if metric not in names:
                names.append(metric)
    return names


def gap(values: Mapping[str, Any], metric: str) -> float | None:
    """Best minus worst value of a metric across the values of one slice column."""
    scores = [
        float(v)
        for entry in values.values()
        if (v := key(entry, "metrics").get(metric)) is not None and math.isfinite(float(v))
    ]
    return max(scores) - min(scores) if len(scores) > 1 else None


# ---------------------------------------------------------------- environment


@functools.cache
def _undefined(value: Any) -> bool:
    """A Jinja Undefined, recognised without importing Jinja (as markup.finalize does)."""
    return hasattr(value, "_undefined_hint")


def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelward", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # through markup.finalize: unfiltered values are escaped as Markdown
        finalize=markup.finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters: dict[str, Callable[..., Any]] = {
        **markup.FILTERS,
        "num": num,
        "short": short,
        "percent": percent,
        "size": size,
        "kwargs_text": kwargs_text,
        "plural": _plural,
    }
    env.filters.update(filters)
    env.globals.update(
        {
            "delta": delta,
            "status_of": effective_status,
            "is_blocking": is_blocking,
            "tally": tally,
            "sort_verdicts": sort_verdicts,
            "attention": attention,
            "needs_attention": model_needs_attention,
            "sample_text": sample_text,
            "slice_metric_names": slice_metric_names,
            "gap": gap,
            "icons": ICONS,
            "trend_chart": _trend_chart,
            "NOT_PROVIDED": NOT_PROVIDED,
            "TRUNCATION_NOTE": TRUNCATION_NOTE,
        }
    )
    return env


def _trend_chart(model: Mapping[str, Any]) -> str:
    from .trend import model_chart

    return model_chart(model)


# ---------------------------------------------------------------- the report


def render_report(data: Mapping[str, Any], *, limit: int = COMMENT_LIMIT) -> str:
    """The pull-request report as one Markdown document of at most `limit` characters.

    Less detail is rendered, step by step, until the document fits (see the module
    docstring); every model keeps at least its row in the summary table.
    """
    if not key(data, "models") and not key(data, "governance"):
        plain = nothing_to_judge(data, render_summary_line(data))
        if len(plain) <= limit:
            return plain
    return render_with_template(data, limit=limit)


def render_with_template(data: Mapping[str, Any], *, limit: int = COMMENT_LIMIT) -> str:
    """`render_report` through the Jinja template, whatever the data."""
    summary_line = render_summary_line(data)
    template = environment().get_template("report.md.j2")
    bodies: dict[str, str] = {}
    blocks: dict[str, str] = {}

    def body(level: str) -> str:
        if level not in bodies:
            bodies[level] = tidy(
                template.render(
                    data=data, level=level, summary_line=summary_line, marker=Markup(MARKER)
                )
            )
        return bodies[level]

    def block(level: str) -> str:
        if level not in blocks:
            blocks[level] = data_block(data, level) + "\n"
        return blocks[level]

    attempts = [
        ("full", "full"),
        ("full", "compact"),
        ("compact", "compact"),
        ("compact", "minimal"),
        ("minimal", "minimal"),
    ]
    for body_level, block_level in attempts:
        if len(body(body_level)) < limit:  # spares dumping a block that cannot fit
            document = body(body_level) + block(block_level)
            if len(document) <= limit:
                return document
    # Too many models for their failures to fit too: cut the minimal text after the
    # summary table (never inside it), with a note, and keep the data block, down to
    # names and statuses if it must.
    note = f"\n> ⚠️ Report cut here: {TRUNCATION_NOTE}.\n\n"
    minimal_text = body("minimal")
    must = _table_end(minimal_text)
    for block_level in ("minimal", "names"):
        room = limit - len(block(block_level))
        if len(minimal_text) <= room:
            return minimal_text + block(block_level)
        room -= len(note)
        if room >= must:
            cut = minimal_text[:room]
            cut = cut[: max(cut.rfind("\n") + 1, must)]
            return cut + note + block(block_level)
    # Hundreds of models: even the table does not fit; cut it too, saying how many rows
    # are missing (pr.py should fan such changes out with `plan --format github-matrix`).
    for block_level in ("names", "bare"):
        room = limit - len(block(block_level)) - len(note) - 200
        if room > 0:
            cut = minimal_text[:room]
            cut = cut[: cut.rfind("\n") + 1]
            shown = sum(1 for line in cut.split("\n") if line.startswith("| **"))
            missing = len(key(data, "models")) - shown
            more = f"\n> ⚠️ {missing} more models are not shown in this table.\n" if missing else ""
            return cut + more + note + block(block_level)
    raise ValueError(f"a report cannot fit in {limit} characters")


def nothing_to_judge(data: Mapping[str, Any], summary_line: str) -> str:
    """The report of a pull request with no model and no governance change, written
    without Jinja: compiling the report template costs more than the rest of such a run
    (benchmarks/bench_pr.py). The text is exactly what the template renders for the same
    data (tests/test_report.py compares the two on awkward inputs), so it cannot drift."""
    from .markup import code, finalize, text

    number = key(data, "pull_request")
    where = f"Pull request #{number} · " if number is not None else ""
    where += (
        f"{code(key(data, 'base'))} … {code(key(data, 'head'))} at "
        f"{code(short(key(data, 'head_sha')))} · {_plural(0, 'model')}"
    )
    lines = [MARKER, f"## {finalize(summary_line)}", "", where]
    notes = key(data, "notes")
    if notes:
        lines += ["", "### Notes", ""] + [f"- {text(note)}" for note in notes]
    lines += [
        "",
        f"<sub>{text(key(data, 'generated_by'))} · head {text(key(data, 'head_sha'))}</sub>",
    ]
    return tidy("\n".join(lines) + "\n") + data_block(data) + "\n"


def _table_end(markdown: str) -> int:
    """Where the summary table of a rendered report ends (after its last row)."""
    lines = markdown.split("\n")
    end = 0
    for i, line in enumerate(lines):
        if line.startswith("| **"):
            end = i + 1
    return len("\n".join(lines[:end])) + 1


def tidy(markdown: str) -> str:
    """At most one blank line in a row (user text never carries raw line breaks here)."""
    return re.sub(r"\n{3,}", "\n\n", markdown).strip("\n") + "\n\n"


def data_block(data: Mapping[str, Any], level: str = "full") -> str:
    """The hidden machine-readable comment holding the report's data as JSON.

    level full keeps `data` as given; compact drops slice metrics, passing
    expectations and long strings (over 300 characters are clipped); minimal also
    drops expectations, library versions, reasons and passing verdicts other than
    approvals (counted in "passing_verdicts_omitted") and clips strings at 64 (the
    length of a sha256, so identifiers stay whole); names
    keeps only each model's name, version, stage, status and error; bare keeps no
    models at all. Compacted blocks say so in a "compacted" key.
    """
    payload = _plain(_compact(data, level))
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # Inside JSON, "--" can only occur in strings, where "\u002d" means the same "-".
    raw = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("--", "-\\u002d")
    return f"{DATA_OPEN}{raw}{DATA_CLOSE}"


def _compact(data: Mapping[str, Any], level: str) -> Any:
    if level == "full":
        return data
    out = dict(data)
    out["compacted"] = level
    if level == "bare":
        return {**out, "models": [], "governance": [], "notes": []}
    if level == "names":
        out["notes"] = []
        out["governance"] = [dict(v) for v in attention(key(data, "governance"))]
        out["models"] = [
            {k: key(m, k) for k in ("name", "version", "stage", "status", "error")}
            for m in key(data, "models")
        ]
        return _clip_strings(out, 100)
    models = []
    for model in key(data, "models"):
        m = dict(model)
        m["slices"] = {}
        checks = key(m, "data_checks")
        if checks is not None:
            checks = dict(checks)
            checks["expectations"] = (
                []
                if level == "minimal"
                else [
                    {
                        **e,
                        "sample": [_clip_value(v, 64) for v in list(key(e, "sample") or [])[:3]],
                        "observed": _clip_value(key(e, "observed"), 200),
                    }
                    for e in key(checks, "expectations")
                    if not key(e, "success")
                ]
            )
            base = checks.get("base")
            if base is not None:
                failed = [e for e in key(base, "expectations") if not key(e, "success")]
                checks["base"] = {**base, "expectations": [] if level == "minimal" else failed}
            m["data_checks"] = checks
        if level == "minimal":
            m["versions"] = {}
            m["reasons"] = []
            kept = [
                v
                for v in key(model, "verdicts")
                if effective_status(v) != "pass" or key(v, "rule") == "approvals"
            ]
            m["verdicts"] = kept
            m["passing_verdicts_omitted"] = len(key(model, "verdicts")) - len(kept)
        models.append(m)
    out["models"] = models
    return _clip_strings(out, 300 if level == "compact" else 64)


def _clip_value(value: Any, most: int) -> Any:
    """`value` itself if its JSON is short, else that JSON clipped to a string."""
    raw = json.dumps(_plain(value), default=str)
    return value if len(raw) <= most else _clip(raw, most)


def _clip_strings(value: Any, most: int) -> Any:
    """Every string longer than `most` clipped (identifiers and hashes are shorter)."""
    if isinstance(value, str):
        return _clip(value, most)
    if isinstance(value, Mapping):
        return {k: _clip_strings(v, most) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clip_strings(v, most) for v in value]
    return value


def _plain(value: Any) -> Any:
    """JSON-able copy: non-finite floats become null (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def extract_data(markdown: str, head_sha: str | None = None) -> dict[str, Any] | None:
    """The data block of a report, or None if absent, unreadable or for another head.

    Only the block the bot wrote counts: the last one, which ends the document. Text a
    pull request controls is rendered before it, so a look-alike block planted in a
    reason or a file name is never read (and the bot's JSON escapes `<` and `>`)."""
    start = markdown.rfind(DATA_OPEN)
    if start < 0:
        return None
    match = _DATA_RE.match(markdown, start)
    if match is None or markdown[match.end() :].strip():
        return None
    try:
        data = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    if head_sha is not None and data.get("head_sha") != head_sha:
        return None
    return data


# ---------------------------------------------------------------- the model card


def render_card(model: Model, dataset: Dataset | None, results: Mapping[str, Any] | None) -> str:
    """The model card of `model` in Markdown, Model Card Toolkit / Hugging Face sections."""
    template = environment().get_template("card.md.j2")
    features: str | None
    if model.data.features.include is not None:
        features = "only " + ", ".join(model.data.features.include)
    elif model.data.features.exclude:
        features = "all columns except " + ", ".join(
            [model.data.target, *model.data.features.exclude]
        )
    else:
        features = f"all columns except {model.data.target}"
    split = model.data.split
    split_text = (
        f"{1 - split.test_size:.0%} train / {split.test_size:.0%} test, seed {split.seed}"
        + (", stratified" if split.stratify else "")
    )
    data_sha = (results or {}).get("data_sha256") or (dataset.sha256 if dataset else None)
    return (
        tidy(
            template.render(
                model=model,
                card=model.card,
                dataset=dataset,
                results=results,
                features=features,
                split_text=split_text,
                data_sha=data_sha,
                confusion=_confusion(results),
            )
        ).rstrip("\n")
        + "\n"
    )


def _confusion(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Labels and rows of a confusion matrix given as rows, or as {labels, matrix}."""
    matrix = (results or {}).get("confusion_matrix")
    if not matrix:
        return None
    labels: list[Any]
    if isinstance(matrix, Mapping):
        labels, rows = list(key(matrix, "labels")), list(key(matrix, "matrix"))
    else:
        rows = list(matrix)
        labels = list(range(len(rows)))
    return {"labels": labels, "rows": list(zip(labels, rows, strict=False))}


RESULT_KEYS = ("metrics", "slice_metrics", "n_train", "n_test")


def card_for(root: Path, name: str, metrics_file: Path | None = None) -> str:
    """The card of model `name` in the checkout at `root`, with a metrics.json if given."""
    from .workspace import load

    ws = load(root, only_models=[name])
    if name not in ws.models:
        known = sorted(p.parent.name for p in (root / "models").glob("*/model.yaml"))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f"; known models: {', '.join(known)}" if known and not close else ""
        raise UsageError(
            f"no model {name!r}: models/{name}/model.yaml does not exist{hint}{listing}"
        )
    model = ws.models[name].record
    loaded = ws.datasets.get(model.data.dataset)
    if metrics_file is not None:
        results: dict[str, Any] | None = read_results(metrics_file)
    else:
        from .training import cached  # the latest training result in the store, if any

        hit = cached(ws, name)
        results = (
            hit.to_dict() if hit is not None else registered_results(root, name, model.version)
        )
    return render_card(model, loaded.record if loaded else None, results)


def registered_results(root: Path, name: str, version: str) -> dict[str, Any] | None:
    """The metrics the registry tag of `name@version` recorded (a clone without the store)."""
    from . import registry

    try:
        history = registry.read(root, models=[name]).models.get(name)
    except ModelwardError:  # not a git checkout: no registry to read
        return None
    if history is None:
        return None
    for event in reversed(history.events):
        ev = event.evidence
        if event.kind == "register" and event.version == version and ev is not None:
            return {
                "metrics": dict(ev.metrics),
                "slice_metrics": {
                    column: {value: {"n": None, "metrics": dict(m)} for value, m in values.items()}
                    for column, values in ev.slice_metrics.items()
                },
                "n_train": None,
                "n_test": None,
                "data_sha256": ev.data_sha256,
                "artifact_sha256": ev.artifact_sha256,
                "versions": dict(ev.library_versions),
                "source": event.tag,
            }
    return None


def read_results(path: Path) -> dict[str, Any]:
    """A metrics.json written by `modelward train --out`, checked for the keys cards use."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(str(path), f"cannot read the metrics file: {exc.strerror}") from None
    try:
        results = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(str(path), f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(results, dict):
        raise DataError(str(path), "expected a JSON object as written by `modelward train --out`")
    missing = [k for k in RESULT_KEYS if k not in results]
    if missing:
        raise DataError(
            str(path),
            f"missing {', '.join(missing)}; expected the metrics.json of `modelward train --out`",
        )
    for k in ("metrics", "slice_metrics"):
        if not isinstance(results[k], dict):
            raise DataError(str(path), f"{k} must be a JSON object")
    return results
