"""Great Expectations: expectation files -> suites -> results.

`data/NAME/expectations.yaml` lists expectations in Great Expectations' own names
and kwargs. Reading it is a structural parse that never imports GX (`load_suite`),
so that `validate` and the content hash (`suite_sha256`) stay cheap. Only a real
check imports GX (about 3 s), and a result is cached under `.modelward/cache/`
keyed by the data's sha256 and the suite's canonical hash, so a second run of the
same data against the same suite never imports it.

Two GX traps are closed here rather than left to the user:
`ExpectationSuite(expectations=[...])` silently drops an unknown expectation type,
and `ExpectationSuite.add_expectation_configuration` silently merges two
expectations of the same type on the same column. Both are errors naming the line.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import logging
import math
import os
import posixpath
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dataio import CACHE_DIR, locate, read_frame
from .errors import DataError, InvalidInput, ModelwardError, Problem
from .expectations import COLUMN_KEYS, GX_DOCS, Entry, Suite, loosened, parse_suite
from .workspace import OutsideRepository, Workspace, read_columns, rel, state_dir
from .yamlio import load_path

if TYPE_CHECKING:
    import pandas as pd

CACHE_FORMAT = 2  # 2: distinct samples with counts, failing row ids
SAMPLE_SIZE = 5
"""How many unexpected values an outcome keeps (GX's partial_unexpected_list)."""

_INDEX_META = "modelward_index"


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one expectation fared on the data."""

    index: int
    line: int
    type: str
    kwargs: Mapping[str, Any]
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: tuple[Any, ...] = ()
    """Up to five distinct unexpected values, the most frequent first."""
    sample_counts: tuple[int, ...] = ()
    """How many rows hold each value of `sample`."""
    rows: tuple[Any, ...] = ()
    """The first failing rows: their `id_column` values, or data row numbers (1 = first row)."""
    row_key: str | None = None
    """The id column that `rows` holds, or None when they are row numbers."""
    observed: Any = None
    """The observed value of an aggregate expectation (a mean, a row count, ...)."""
    error: str | None = None
    """The exception GX raised while evaluating the expectation, if any."""

    @property
    def column(self) -> str | None:
        """The column(s) the expectation is about, or None for table expectations."""
        cols = [str(self.kwargs[k]) for k in COLUMN_KEYS if k in self.kwargs]
        if isinstance(self.kwargs.get("column_list"), list):
            cols += [str(c) for c in self.kwargs["column_list"]]
        return ", ".join(cols) or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "line": self.line,
            "type": self.type,
            "kwargs": json_safe(dict(self.kwargs)),
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "sample": json_safe(list(self.sample)),
            "sample_counts": list(self.sample_counts),
            "rows": json_safe(list(self.rows)),
            "row_key": self.row_key,
            "observed": json_safe(self.observed),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpectationOutcome:
        return cls(
            index=int(data["index"]),
            line=int(data["line"]),
            type=str(data["type"]),
            kwargs=dict(data["kwargs"]),
            success=bool(data["success"]),
            unexpected_count=data.get("unexpected_count"),
            unexpected_percent=data.get("unexpected_percent"),
            sample=tuple(data.get("sample") or ()),
            sample_counts=tuple(int(c) for c in data.get("sample_counts") or ()),
            rows=tuple(data.get("rows") or ()),
            row_key=data.get("row_key"),
            observed=data.get("observed"),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class DataCheckResult:
    """The data checks of one dataset."""

    dataset: str
    data_sha256: str
    suite_sha256: str
    success: bool
    expectations: tuple[ExpectationOutcome, ...]
    cached: bool
    """True when the result came from `.modelward/cache/` without running GX."""
    path: str = ""
    """The expectations file, relative to the repository root."""

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.expectations if not o.success)

    def failure_labels(self) -> tuple[str, ...]:
        return tuple(_label(o) for o in self.failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "data_sha256": self.data_sha256,
            "suite_sha256": self.suite_sha256,
            "success": self.success,
            "expectations": [o.to_dict() for o in self.expectations],
            "cached": self.cached,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataCheckResult:
        return cls(
            dataset=str(data["dataset"]),
            data_sha256=str(data["data_sha256"]),
            suite_sha256=str(data["suite_sha256"]),
            success=bool(data["success"]),
            expectations=tuple(ExpectationOutcome.from_dict(o) for o in data["expectations"]),
            cached=bool(data["cached"]),
            path=str(data.get("path", "")),
        )


def json_safe(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, NaN as None, dates as ISO strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and not hasattr(value, "__len__"):
        with contextlib.suppress(TypeError, ValueError):
            return json_safe(item())
    isoformat = getattr(value, "isoformat", None)  # datetime, pandas.Timestamp
    if callable(isoformat):
        return str(isoformat())
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


# ---------------------------------------------------------------- parsing (no GX)


def load_suite(ws: Workspace, dataset: str) -> Suite:
    """Parse and structurally check `dataset`'s expectations file, without GX.

    Raises InvalidInput naming file, line and `expectations[i]` for every problem.
    """
    loaded = ws.datasets.get(dataset)
    if loaded is None:
        raise DataError(f"data/{dataset}/dataset.yaml", "dataset not found")
    record = loaded.record
    try:
        path = ws.expectations_path(record)
    except OutsideRepository:
        raise InvalidInput.one(
            loaded.doc.path,
            loaded.doc.line(("expectations",)),
            "expectations",
            "resolves outside the repository",
        ) from None
    display = rel(ws.root.resolve(), path)
    if not path.is_file():
        raise InvalidInput.one(
            loaded.doc.path,
            loaded.doc.line(("expectations",)),
            "expectations",
            f"file not found: {display}",
        )
    doc = load_path(path, display)
    return parse_suite(doc, dataset, _columns(ws, dataset))


def _columns(ws: Workspace, dataset: str) -> list[str] | None:
    """The dataset's columns from the file header, or None when the file is not at hand."""
    record = ws.datasets[dataset].record
    if record.is_remote:
        assert record.sha256 is not None
        path = ws.root / CACHE_DIR / "data" / record.sha256
    else:
        try:
            path = ws.data_path(record)
        except OutsideRepository:
            return None
    if not path.is_file():
        return None
    try:
        return read_columns(path, record.file_format, record.read.sep, record.read.encoding)
    except (OSError, ValueError):
        return None  # reading the data reports it with the file's name


def suite_sha256(ws: Workspace, dataset_name: str) -> str:
    """Canonical hash of the dataset's parsed expectations (no GX import)."""
    return load_suite(ws, dataset_name).sha256


# ---------------------------------------------------------------- checking


def check_datasets(
    ws: Workspace, names: Iterable[str], *, use_cache: bool = True
) -> dict[str, DataCheckResult]:
    """Check each named dataset once, however often it is named (models share data)."""
    return {name: check_dataset(ws, name, use_cache=use_cache) for name in dict.fromkeys(names)}


def check_dataset(ws: Workspace, name: str, *, use_cache: bool = True) -> DataCheckResult:
    """Validate one dataset against its expectations; a cache hit does not import GX."""
    return check_suite(ws, name, load_suite(ws, name), use_cache=use_cache)


def check_suite(
    ws: Workspace, name: str, suite: Suite, *, use_cache: bool = True
) -> DataCheckResult:
    """Validate dataset `name`'s data against `suite` (its own, or the base branch's)."""
    state_dir(ws.root)
    data = locate(ws, name)
    cache_file = ws.root / CACHE_DIR / "datachecks" / f"{data.sha256}-{suite.sha256}.json"
    if use_cache:
        hit = _read_cache(cache_file)
        if hit is not None and len(hit.expectations) == len(suite.entries):
            lines = [e.line for e in suite.entries]
            return replace(
                hit,
                dataset=name,
                path=suite.path,
                cached=True,
                expectations=tuple(replace(o, line=lines[o.index]) for o in hit.expectations),
            )
    id_column = ws.datasets[name].record.id_column
    outcomes = run_suite(suite, read_frame(data), id_column=id_column)
    result = DataCheckResult(
        dataset=name,
        data_sha256=data.sha256,
        suite_sha256=suite.sha256,
        success=all(o.success for o in outcomes),
        expectations=outcomes,
        cached=False,
        path=suite.path,
    )
    _write_cache(cache_file, result)
    return result


# ---------------------------------------------------------------- the base branch's suite


@dataclass(frozen=True)
class JudgedChecks:
    """A dataset's checks for a change: its own suite and the base branch's.

    A pull request controls its expectations file, so it could delete the expectation
    its new data fails. The data must therefore also pass the suite committed on the
    base branch (`base`, None when the base has no such dataset or the same suite).
    """

    head: DataCheckResult
    base: DataCheckResult | None = None
    loosened: tuple[str, ...] = ()
    """The base's expectations that the change removes or loosens (for the report)."""

    @property
    def success(self) -> bool:
        return self.head.success and (self.base is None or self.base.success)

    def failure_labels(self) -> tuple[str, ...]:
        """One label per failed expectation, the base suite's marked as such."""
        labels = [_label(o) for o in self.head.failed]
        if self.base is not None:
            labels += [f"{_label(o)} (base branch's suite)" for o in self.base.failed]
        return tuple(labels)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.head.to_dict(),
            "success": self.success,
            "base": self.base.to_dict() if self.base is not None else None,
            "loosened": list(self.loosened),
        }


def _label(o: ExpectationOutcome) -> str:
    return f"{o.type} {o.kwargs.get('column', '')}".strip()


def check_with_base(
    repo: Path, ws: Workspace, names: Iterable[str], base_ref: str
) -> dict[str, JudgedChecks]:
    """Each dataset checked once against its own suite and once against the base
    branch's, when that differs (a repeat is a cache hit keyed by data and suite)."""
    out: dict[str, JudgedChecks] = {}
    for name in dict.fromkeys(names):
        suite = load_suite(ws, name)
        head = check_suite(ws, name, suite)
        before = base_suite(repo, base_ref, name)
        if before is None or before.sha256 == suite.sha256:
            out[name] = JudgedChecks(head)
            continue
        base = check_suite(ws, name, before)
        out[name] = JudgedChecks(head, base, tuple(loosened(before, suite)))
    return out


def base_suite(repo: Path, ref: str, dataset: str) -> Suite | None:
    """`dataset`'s expectations as committed at `ref`, read from git objects (never the
    work tree, which holds the change); None when the dataset has no suite there."""
    from . import git
    from .manifest import Dataset, parse
    from .yamlio import load_bytes

    folder = f"data/{dataset}"
    raw = git.show(repo, ref, f"{folder}/dataset.yaml")
    if raw is None:
        return None
    try:
        record = parse(load_bytes(raw, f"{folder}/dataset.yaml"), Dataset)
    except ModelwardError:
        return None  # the base cannot be loaded: the change is judged by its own suite
    path = posixpath.normpath(f"{folder}/{record.expectations}")
    if path.startswith("../"):
        return None
    raw = git.show(repo, ref, path)
    if raw is None:
        return None
    try:
        # no column check: a column the change drops fails the base's expectation
        return parse_suite(load_bytes(raw, path), dataset, None)
    except InvalidInput as exc:
        raise InvalidInput(
            [
                replace(p, message=f"{p.message} (as committed on the base branch {ref[:12]})")
                for p in exc.problems
            ]
        ) from None


def _gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")


def _read_cache(path: Path) -> DataCheckResult | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != CACHE_FORMAT or raw.get("gx_version") != _gx_version():
            return None
        return DataCheckResult.from_dict(raw["result"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a missing or damaged entry is a miss, rewritten after the check


def _write_cache(path: Path, result: DataCheckResult) -> None:
    """Atomic: a reader sees the old entry, the new one, or none; never half of one."""
    payload = {"format": CACHE_FORMAT, "gx_version": _gx_version(), "result": result.to_dict()}
    text = json.dumps(payload, indent=1, sort_keys=True, allow_nan=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    except OSError:
        return  # a read-only checkout still gets its result, just not cached
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------- Great Expectations


def run_suite(
    suite: Suite, frame: pd.DataFrame, *, id_column: str | None = None
) -> tuple[ExpectationOutcome, ...]:
    """Validate a DataFrame against the suite with GX, quietly and without writing files.

    Failing rows are named by `id_column` (GX's unexpected_index_column_names) or by
    their row number; samples are distinct values with their counts over every failing row.
    """
    with _quiet():
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        gx_suite = build_gx_suite(suite)  # GX suites need an active context
        source = context.data_sources.add_pandas("modelward")
        asset = source.add_dataframe_asset(suite.dataset or "data")
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": frame}
        )
        result_format: dict[str, Any] = {"result_format": "COMPLETE"}
        if id_column is not None:
            result_format["unexpected_index_column_names"] = [id_column]
        validation = batch.validate(gx_suite, result_format=result_format)
    by_index = {e.index: e for e in suite.entries}
    outcomes = []
    for res in validation.results:
        entry = by_index[int(res.expectation_config.meta[_INDEX_META])]
        outcomes.append(
            _outcome(entry, res.success, res.result, res.exception_info, id_column=id_column)
        )
    return tuple(sorted(outcomes, key=lambda o: o.index))


def build_gx_suite(suite: Suite) -> Any:
    """A GX ExpectationSuite with every entry; unknown types and bad kwargs name their line.

    Each expectation is built with `ExpectationConfiguration(...).to_domain_obj()` and
    `add_expectation`: the suite constructor would drop an unknown type with a log
    line, and `add_expectation_configuration` would merge same-domain duplicates.
    """
    import great_expectations as gx
    from great_expectations.exceptions.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    known = sorted(list_registered_expectation_implementations())
    problems: list[Problem] = []
    gx_suite = gx.ExpectationSuite(name=suite.dataset or "suite")
    doc = suite.doc
    for entry in suite.entries:

        def problem(message: str, kwarg: str | None = None, entry: Entry = entry) -> Problem:
            line = entry.line
            if doc is not None and kwarg is not None and kwarg in entry.kwargs:
                line = doc.line((*entry.kwargs_loc, kwarg))
            return Problem(suite.path, line, entry.field, message)

        try:
            impl = get_expectation_impl(entry.type)
        except ExpectationNotFoundError:
            close = difflib.get_close_matches(entry.type, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"see {GX_DOCS}"
            problems.append(problem(f"unknown expectation type {entry.type!r}; {hint}"))
            continue
        config = ExpectationConfiguration(
            type=entry.type,
            kwargs=dict(entry.kwargs),
            meta={**entry.meta, _INDEX_META: entry.index},
        )
        try:
            expectation = config.to_domain_obj()
        except Exception as exc:  # GX wraps pydantic (v1) errors in several ways
            problems.extend(_kwarg_problems(exc, entry, impl, problem))
            continue
        gx_suite.add_expectation(expectation)
    if problems:
        raise InvalidInput(problems)
    return gx_suite


def _kwarg_problems(exc: Exception, entry: Entry, impl: Any, problem: Any) -> list[Problem]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [problem(f"invalid kwargs for {entry.type}: {exc}")]
    allowed = sorted(getattr(impl, "__fields__", {}))
    out: list[Problem] = []
    seen: set[str] = set()
    for err in errors():
        name = str(err["loc"][0]) if err.get("loc") else "__root__"
        if name in seen:
            continue  # pydantic lists one error per member of a union; the first says it
        seen.add(name)
        kind = str(err.get("type", ""))
        if name == "__root__":
            out.append(problem(f"{entry.type}: {err['msg']}"))
        elif kind == "value_error.extra":
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(problem(f"{entry.type} has no kwarg {name!r}{hint}", name))
        elif kind == "value_error.missing":
            out.append(problem(f"{entry.type} needs the kwarg {name!r}"))
        else:
            out.append(problem(f"kwarg {name!r} of {entry.type}: {err['msg']}", name))
    return out


def _outcome(
    entry: Entry,
    success: bool | None,
    result: Mapping[str, Any],
    exception: Mapping[str, Any],
    *,
    id_column: str | None = None,
) -> ExpectationOutcome:
    error = _exception_message(exception or {})
    percent = result.get("unexpected_percent")
    count = result.get("unexpected_count")
    values, counts = _distinct(result.get("unexpected_list") or [])
    rows, row_key = _rows(result.get("unexpected_index_list") or [], id_column)
    return ExpectationOutcome(
        index=entry.index,
        line=entry.line,
        type=entry.type,
        kwargs=json_safe(dict(entry.kwargs)),
        success=bool(success) and error is None,
        unexpected_count=None if count is None else int(count),
        unexpected_percent=None if percent is None else round(float(percent), 4),
        sample=values,
        sample_counts=counts,
        rows=rows,
        row_key=row_key,
        observed=json_safe(result.get("observed_value")),
        error=error,
    )


def _distinct(unexpected: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """The most frequent distinct values (ties in order of appearance) and their counts."""
    counts: dict[str, tuple[Any, int]] = {}
    for value in json_safe(list(unexpected)):
        key = json.dumps(value, sort_keys=True)
        seen, n = counts.get(key, (value, 0))
        counts[key] = (seen, n + 1)
    top = sorted(counts.values(), key=lambda vc: -vc[1])[:SAMPLE_SIZE]
    return tuple(v for v, _ in top), tuple(n for _, n in top)


def _rows(index: Sequence[Any], id_column: str | None) -> tuple[tuple[Any, ...], str | None]:
    """The first failing rows: ids when the dataset names an id column, else row numbers."""
    first = list(index)[:SAMPLE_SIZE]
    if id_column is not None and all(isinstance(i, Mapping) for i in first):
        return tuple(json_safe([i.get(id_column) for i in first])), id_column
    numbers = [i + 1 for i in first if isinstance(i, int) and not isinstance(i, bool)]
    return tuple(numbers), None


def _exception_message(info: Mapping[str, Any]) -> str | None:
    """GX reports an exception flat, or nested per metric that raised it."""
    if "raised_exception" in info:
        if not info.get("raised_exception"):
            return None
        return str(info.get("exception_message") or "raised an exception")
    for value in info.values():
        if isinstance(value, Mapping) and (message := _exception_message(value)):
            return message
    return None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """GX prints and logs freely; during a check nothing may reach stdout or stderr."""
    logger = logging.getLogger("great_expectations")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    logger.handlers = [logging.NullHandler()]
    logger.propagate = False
    logger.setLevel(logging.CRITICAL + 1)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    sink = io.StringIO()
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]
