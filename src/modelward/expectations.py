"""The expectations file: structure, allowed types and kwargs, checked without GX.

`data/NAME/expectations.yaml` is pull-request content that reaches Great
Expectations inside the bot, so it is treated as data and nothing else. Every
expectation type must be in KWARGS, a static table of GX's expectation types
and their kwargs (a test compares it with the installed GX), and every kwarg
must be one that table allows, with a value of its type: plain scalars and
lists, never a mapping GX would resolve.

Refused on purpose, for every type:
- `row_condition` and `condition_parser`. The `pandas` parser hands the text to
  `DataFrame.query`, whose `@name` and attribute access reach any Python
  callable; GX's own grammar is translated to pandas code too, so it is refused
  as well (docs/security.md says why);
- suite parameters (`{"$PARAMETER": ...}` mappings) and `batch_id`;
- the expectation types that run a query (`unexpected_rows_expectation`,
  `expect_query_results_to_match_comparison`, `expect_table_row_count_to_equal_other_table`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput, Problem
from .hashing import canonical_hash, canonical_json
from .yamlio import Document, Loc


@dataclass(frozen=True)
class K:
    """A kwarg: its value type and whether GX requires it."""

    type: str
    required: bool = False


def O(type_: str) -> K:  # noqa: E743 - reads as a table column: O(ptional)
    return K(type_, False)


def R(type_: str) -> K:
    return K(type_, True)


# GX 1.x expectation types -> kwargs (Expectation's own fields such as meta, notes,
# result_format excluded). Generated from the installed GX by
# tests/test_expectations.py::derive_from_gx; that test fails when GX changes.
KWARGS: dict[str, dict[str, K]] = {
    "expect_column_distinct_values_to_be_in_set": {
        "column": R("column"),
        "value_set": R("scalars"),
    },
    "expect_column_distinct_values_to_contain_set": {
        "column": R("column"),
        "value_set": R("scalars"),
    },
    "expect_column_distinct_values_to_equal_set": {
        "column": R("column"),
        "value_set": R("scalars"),
    },
    "expect_column_kl_divergence_to_be_less_than": {
        "column": R("column"),
        "partition_object": O("mapping"),
        "threshold": O("number?"),
        "internal_weight_holdout": O("number?"),
        "tail_weight_holdout": O("number?"),
        "bucketize_data": O("bool"),
        "min_value": O("bound"),
        "max_value": O("bound"),
    },
    "expect_column_max_to_be_between": {
        "column": R("column"),
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_mean_to_be_between": {
        "column": R("column"),
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_median_to_be_between": {
        "column": R("column"),
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_min_to_be_between": {
        "column": R("column"),
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_most_common_value_to_be_in_set": {
        "column": R("column"),
        "value_set": R("scalars"),
        "ties_okay": O("bool?"),
    },
    "expect_column_pair_values_a_to_be_greater_than_b": {
        "column_A": R("column"),
        "column_B": R("column"),
        "mostly": O("number"),
        "or_equal": O("bool?"),
        "ignore_row_if": O("choice:both_values_are_missing|either_value_is_missing|neither"),
    },
    "expect_column_pair_values_to_be_equal": {
        "column_A": R("column"),
        "column_B": R("column"),
        "mostly": O("number"),
        "ignore_row_if": O("choice:both_values_are_missing|either_value_is_missing|neither"),
    },
    "expect_column_pair_values_to_be_in_set": {
        "column_A": R("column"),
        "column_B": R("column"),
        "mostly": O("number"),
        "value_pairs_set": R("pairs"),
        "ignore_row_if": O("choice:both_values_are_missing|either_value_is_missing|neither"),
    },
    "expect_column_proportion_of_non_null_values_to_be_between": {
        "column": R("column"),
        "min_value": O("number?"),
        "max_value": O("number?"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_proportion_of_unique_values_to_be_between": {
        "column": R("column"),
        "min_value": O("number?"),
        "max_value": O("number?"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_quantile_values_to_be_between": {
        "column": R("column"),
        "quantile_ranges": R("quantiles"),
        "allow_relative_error": O("bool"),
    },
    "expect_column_stdev_to_be_between": {
        "column": R("column"),
        "min_value": O("number?"),
        "max_value": O("number?"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_sum_to_be_between": {
        "column": R("column"),
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_to_exist": {
        "column": R("column"),
        "column_index": O("int?"),
    },
    "expect_column_type_to_be": {
        "column": R("column"),
        "type_": R("str"),
    },
    "expect_column_unique_value_count_to_be_between": {
        "column": R("column"),
        "min_value": O("int?"),
        "max_value": O("int?"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_value_lengths_to_be_between": {
        "column": R("column"),
        "mostly": O("number"),
        "min_value": O("int?"),
        "max_value": O("int?"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_value_lengths_to_equal": {
        "column": R("column"),
        "mostly": O("number"),
        "value": R("number"),
    },
    "expect_column_value_z_scores_to_be_less_than": {
        "column": R("column"),
        "mostly": O("number"),
        "threshold": R("number"),
        "double_sided": R("bool"),
    },
    "expect_column_values_to_be_between": {
        "column": R("column"),
        "mostly": O("number"),
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_column_values_to_be_dateutil_parseable": {
        "column": R("column"),
        "mostly": O("number"),
    },
    "expect_column_values_to_be_decreasing": {
        "column": R("column"),
        "mostly": O("number"),
        "strictly": O("bool?"),
    },
    "expect_column_values_to_be_in_set": {
        "column": R("column"),
        "mostly": O("number"),
        "value_set": R("scalars"),
    },
    "expect_column_values_to_be_in_type_list": {
        "column": R("column"),
        "mostly": O("number"),
        "type_list": O("strings"),
    },
    "expect_column_values_to_be_increasing": {
        "column": R("column"),
        "mostly": O("number"),
        "strictly": O("bool?"),
    },
    "expect_column_values_to_be_json_parseable": {
        "column": R("column"),
        "mostly": O("number"),
    },
    "expect_column_values_to_be_null": {
        "column": R("column"),
        "mostly": O("number"),
    },
    "expect_column_values_to_be_of_type": {
        "column": R("column"),
        "mostly": O("number"),
        "type_": R("str"),
    },
    "expect_column_values_to_be_unique": {
        "column": R("column"),
        "mostly": O("number"),
    },
    "expect_column_values_to_match_json_schema": {
        "column": R("column"),
        "mostly": O("number"),
        "json_schema": R("mapping"),
    },
    "expect_column_values_to_match_like_pattern": {
        "column": R("column"),
        "mostly": O("number"),
        "like_pattern": R("str"),
        "escape": O("str?"),
    },
    "expect_column_values_to_match_like_pattern_list": {
        "column": R("column"),
        "mostly": O("number"),
        "like_pattern_list": R("strings"),
        "match_on": O("choice:any|all"),
        "escape": O("str?"),
    },
    "expect_column_values_to_match_regex": {
        "column": R("column"),
        "mostly": O("number"),
        "regex": O("str"),
    },
    "expect_column_values_to_match_regex_list": {
        "column": R("column"),
        "mostly": O("number"),
        "regex_list": R("strings"),
        "match_on": O("choice:any|all"),
    },
    "expect_column_values_to_match_strftime_format": {
        "column": R("column"),
        "mostly": O("number"),
        "strftime_format": R("str"),
    },
    "expect_column_values_to_not_be_in_set": {
        "column": R("column"),
        "mostly": O("number"),
        "value_set": R("scalars"),
    },
    "expect_column_values_to_not_be_null": {
        "column": R("column"),
        "mostly": O("number"),
    },
    "expect_column_values_to_not_be_outliers": {
        "column": R("column"),
        "mostly": O("number"),
        "method": O("choice:iqr|std"),
        "multiplier": O("number"),
    },
    "expect_column_values_to_not_match_like_pattern": {
        "column": R("column"),
        "mostly": O("number"),
        "like_pattern": R("str"),
        "escape": O("str?"),
    },
    "expect_column_values_to_not_match_like_pattern_list": {
        "column": R("column"),
        "mostly": O("number"),
        "like_pattern_list": R("strings"),
        "escape": O("str?"),
    },
    "expect_column_values_to_not_match_regex": {
        "column": R("column"),
        "mostly": O("number"),
        "regex": R("str"),
    },
    "expect_column_values_to_not_match_regex_list": {
        "column": R("column"),
        "mostly": O("number"),
        "regex_list": R("strings"),
    },
    "expect_compound_columns_to_be_unique": {
        "column_list": R("columns"),
        "mostly": O("number"),
        "ignore_row_if": O("choice:all_values_are_missing|any_value_is_missing|never"),
    },
    "expect_multicolumn_sum_to_equal": {
        "column_list": R("columns"),
        "mostly": O("number"),
        "ignore_row_if": O("choice:all_values_are_missing|any_value_is_missing|never"),
        "sum_total": R("number"),
    },
    "expect_multicolumn_values_to_be_equal": {
        "column_list": R("columns"),
        "mostly": O("number"),
        "ignore_row_if": O("choice:all_values_are_missing|any_value_is_missing|never"),
    },
    "expect_select_column_values_to_be_unique_within_record": {
        "column_list": R("columns"),
        "mostly": O("number"),
        "ignore_row_if": O("str"),
    },
    "expect_table_column_count_to_be_between": {
        "min_value": O("bound"),
        "max_value": O("bound"),
    },
    "expect_table_column_count_to_equal": {
        "value": R("int"),
    },
    "expect_table_columns_to_match_ordered_list": {
        "column_list": O("columns"),
    },
    "expect_table_columns_to_match_set": {
        "column_set": O("columns"),
        "exact_match": O("bool?"),
    },
    "expect_table_row_count_to_be_between": {
        "min_value": O("bound"),
        "max_value": O("bound"),
        "strict_min": O("bool"),
        "strict_max": O("bool"),
    },
    "expect_table_row_count_to_equal": {
        "value": R("int"),
    },
}

REFUSED_TYPES = {
    "unexpected_rows_expectation": "it runs a query the pull request wrote",
    "expect_query_results_to_match_comparison": "it runs a query the pull request wrote",
    "expect_table_row_count_to_equal_other_table": "it reads another table by name",
}
REFUSED_KWARGS = {
    "row_condition": (
        "row_condition is refused: GX turns it into pandas code (DataFrame.query), "
        "which can call any Python function; split the data or use a column "
        "expectation instead (docs/security.md)"
    ),
    "condition_parser": "condition_parser is refused together with row_condition (docs/security.md)",
    "batch_id": "batch_id is set by modelward, not by the expectations file",
}
NEEDS_A_BOUND = frozenset(
    {"expect_column_value_lengths_to_be_between", "expect_column_values_to_be_between"}
)
"""Types whose GX validator refuses min_value and max_value both missing."""
MAX_STRING = 10_000
"""Longest string kwarg (a regex, a format): enough for any real one."""

# Union of every GX expectation's `domain_keys`: two expectations of one type with
# equal values here are the same check to GX (it merges them).
DOMAIN_KEYS = (
    "batch_id",
    "column",
    "column_A",
    "column_B",
    "column_list",
    "row_condition",
    "condition_parser",
    "ignore_row_if",
)
COLUMN_KEYS = ("column", "column_A", "column_B")
LONG_FORM_KEYS = ("type", "kwargs", "meta")
TOP_LEVEL_KEYS = ("expectations", "meta")
GX_DOCS = "https://greatexpectations.io/expectations/"


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Entry:
    """One expectation as written in expectations.yaml."""

    index: int
    line: int
    type: str
    kwargs: Mapping[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)
    loc: Loc = ()
    """Key path of the entry in the document (for kwarg line numbers)."""
    kwargs_loc: Loc = ()

    @property
    def field(self) -> str:
        return f"expectations[{self.index}]"

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "kwargs": dict(self.kwargs)}
        if self.meta:
            out["meta"] = dict(self.meta)
        return out


@dataclass(frozen=True)
class Suite:
    """A parsed expectations file: every type and kwarg allowed, columns in the header."""

    dataset: str
    path: str
    """The file, relative to the repository root."""
    entries: tuple[Entry, ...]
    sha256: str
    """Canonical hash of the expectations' types, kwargs and meta (not of lines or comments)."""
    doc: Document | None = field(default=None, repr=False, compare=False)


# ---------------------------------------------------------------- value types

_SCALARS = (str, int, float, bool, dt.date, type(None))


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON-like data without suite parameters ($PARAMETER) or remote references ($ref)."""
    if depth > 20:
        return False
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(
            isinstance(k, str)
            and k.lower() not in ("$parameter", "$ref", "$dynamicref", "$recursiveref")
            and _plain(v, depth + 1)
            for k, v in value.items()
        )
    return False


def _scalar(value: Any) -> bool:
    return isinstance(value, _SCALARS) and not isinstance(value, dict)


_CHECKS: dict[str, tuple[str, Any]] = {
    "column": ("a column name", lambda v: isinstance(v, str) and bool(v)),
    "columns": (
        "a list of column names",
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(c, str) for c in v),
    ),
    "strings": (
        "a list of strings",
        lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
    ),
    "scalars": ("a list of values", lambda v: isinstance(v, list) and all(map(_scalar, v))),
    "pairs": (
        "a list of [a, b] pairs",
        lambda v: (
            isinstance(v, list)
            and all(isinstance(p, list) and len(p) == 2 and all(map(_scalar, p)) for p in v)
        ),
    ),
    "quantiles": (
        "a mapping {quantiles: [...], value_ranges: [[min, max], ...]}",
        lambda v: (
            isinstance(v, dict)
            and set(v) == {"quantiles", "value_ranges"}
            and isinstance(v["quantiles"], list)
            and all(map(_is_number, v["quantiles"]))
            and isinstance(v["value_ranges"], list)
            and all(
                isinstance(r, list) and len(r) == 2 and all(x is None or _is_number(x) for x in r)
                for r in v["value_ranges"]
            )
        ),
    ),
    "mapping": ("a mapping of plain values", lambda v: isinstance(v, dict) and _plain(v)),
    "bound": (
        "a number or a date",
        lambda v: _is_number(v) or isinstance(v, dt.date),
    ),
    "number": ("a number", _is_number),
    "fraction": ("a number from 0 to 1", lambda v: _is_number(v) and 0 <= v <= 1),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
}


def _check_value(spec: K, value: Any) -> str | None:
    """None when `value` fits `spec`, else what was expected."""
    kind = spec.type
    optional = kind.endswith("?") or (not spec.required and kind == "bound")
    kind = kind.rstrip("?")
    if value is None and optional:
        return None
    if kind.startswith("choice:"):
        choices = kind.removeprefix("choice:").split("|")
        return None if value in choices else "one of " + ", ".join(choices)
    what, ok = _CHECKS[kind]
    if isinstance(value, dict) and kind != "mapping" and kind != "quantiles":
        return f"{what} (suite parameters and other mappings are not allowed)"
    if not ok(value):
        return what
    if isinstance(value, str) and len(value) > MAX_STRING:
        return f"at most {MAX_STRING} characters"
    return None


def kwarg_problems(etype: str, kwargs: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    """(kwarg or None, message) for every type or kwarg that is not allowed."""
    if etype in REFUSED_TYPES:
        yield None, f"expectation type {etype!r} is not allowed: {REFUSED_TYPES[etype]}"
        return
    allowed = KWARGS.get(etype)
    if allowed is None:
        close = difflib.get_close_matches(etype, sorted(KWARGS), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"see {GX_DOCS}"
        yield None, f"unknown expectation type {etype!r}; {hint}"
        return
    for name, value in kwargs.items():
        if name in REFUSED_KWARGS:
            yield name, REFUSED_KWARGS[name]
            continue
        spec = allowed.get(name)
        if spec is None:
            names = sorted(allowed)
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(names)}"
            yield name, f"{etype} has no kwarg {name!r}{hint}"
            continue
        expected = _check_value(K("fraction") if name == "mostly" else spec, value)
        if expected is not None:
            yield name, f"kwarg {name!r} of {etype} must be {expected} (got {_short(value)})"
    if (
        etype in NEEDS_A_BOUND
        and kwargs.get("min_value") is None
        and kwargs.get("max_value") is None
    ):
        yield None, f"{etype}: min_value and max_value cannot both be None"
    for name, spec in allowed.items():
        if spec.required and name not in kwargs:
            yield None, f"{etype} needs the kwarg {name!r}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- parsing


def parse_suite(doc: Document, dataset: str, columns: Sequence[str] | None) -> Suite:
    """Turn a loaded expectations document into a Suite; InvalidInput names every problem."""
    problems: list[Problem] = []
    data = doc.data
    prefix: Loc = ()
    if isinstance(data, dict):
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                problems.append(doc.problem((key,), _unknown_key(key, TOP_LEVEL_KEYS)))
        if "expectations" not in data:
            problems.append(doc.problem((), "missing key 'expectations' (a list of expectations)"))
            raise InvalidInput(problems)
        prefix = ("expectations",)
        items = data["expectations"]
    else:
        items = data
    if not isinstance(items, list):
        problems.append(
            Problem(
                doc.path,
                doc.line(prefix),
                "expectations",
                f"expected a list of expectations, got {_kind(items)}",
            )
        )
        raise InvalidInput(problems)

    entries: list[Entry] = []
    for i, item in enumerate(items):
        entry = _parse_entry(doc, (*prefix, i), i, item, problems)
        if entry is not None:
            entries.append(entry)

    seen: dict[str, Entry] = {}
    for entry in entries:
        for kwarg, message in kwarg_problems(entry.type, entry.kwargs):
            at = entry.loc if kwarg is None else (*entry.kwargs_loc, kwarg)
            problems.append(Problem(doc.path, doc.line(at), entry.field, message))
        key = canonical_json([entry.type, domain_kwargs(entry.kwargs)])
        first = seen.setdefault(key, entry)
        if first is not entry:
            problems.append(
                Problem(
                    doc.path,
                    entry.line,
                    entry.field,
                    f"duplicate of expectations[{first.index}] (line {first.line}): "
                    "Great Expectations would merge them into one; "
                    "combine their kwargs or give them different columns",
                )
            )
        if columns is not None:
            problems.extend(_column_problems(doc, entry, columns, dataset))
    if problems:
        raise InvalidInput(problems)
    suite_hash = canonical_hash([e.canonical() for e in entries])
    return Suite(dataset, doc.path, tuple(entries), suite_hash, doc)


def domain_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The kwargs that say *what* an expectation looks at (GX's domain kwargs)."""
    return {k: kwargs[k] for k in DOMAIN_KEYS if kwargs.get(k) is not None}


def _parse_entry(
    doc: Document, loc: Loc, index: int, item: Any, problems: list[Problem]
) -> Entry | None:
    line = doc.line(loc)
    field_name = f"expectations[{index}]"

    def fail(message: str, at: Loc = loc) -> None:
        problems.append(Problem(doc.path, doc.line(at), field_name, message))

    if not isinstance(item, dict) or not item:
        hint = (
            f"; write '- {item}: {{...kwargs}}'"
            if isinstance(item, str) and item.startswith("expect_")
            else ""
        )
        fail(
            "expected a one-key mapping such as "
            f"'expect_column_values_to_not_be_null: {{column: x}}', got {_kind(item)}{hint}"
        )
        return None
    meta: Any = {}
    if "type" in item:
        for key in item:
            if key not in LONG_FORM_KEYS:
                fail(_unknown_key(key, LONG_FORM_KEYS), (*loc, key))
        etype, kwargs = item["type"], item.get("kwargs", {})
        meta = item.get("meta", {})
        type_loc, kwargs_loc = (*loc, "type"), (*loc, "kwargs")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict) or not _plain(meta):
            fail(f"meta must be a mapping of plain values, got {_kind(meta)}", (*loc, "meta"))
            return None
    else:
        if len(item) != 1:
            keys = ", ".join(map(str, item))
            fail(
                f"expected a one-key mapping (the expectation type), got {len(item)} keys: "
                f"{keys}; write further kwargs inside the type's mapping, "
                "or use the {type:, kwargs:, meta:} form"
            )
            return None
        ((etype, kwargs),) = item.items()
        type_loc, kwargs_loc = loc, (*loc, etype)
    if not isinstance(etype, str) or not etype.strip():
        fail(f"expectation type must be a name such as 'expect_...', got {etype!r}", type_loc)
        return None
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        fail(f"kwargs of {etype} must be a mapping, got {_kind(kwargs)}", kwargs_loc)
        return None
    return Entry(index, line, etype, kwargs, meta, loc, kwargs_loc)


def _column_problems(
    doc: Document, entry: Entry, columns: Sequence[str], dataset: str
) -> Iterator[Problem]:
    named: list[tuple[Loc, Any]] = [
        ((*entry.kwargs_loc, k), entry.kwargs[k]) for k in COLUMN_KEYS if k in entry.kwargs
    ]
    col_list = entry.kwargs.get("column_list")
    if isinstance(col_list, list):
        named += [((*entry.kwargs_loc, "column_list", j), c) for j, c in enumerate(col_list)]
    for at, col in named:
        if not isinstance(col, str):
            continue  # the kwarg check says what a column must be
        if col not in columns:
            close = difflib.get_close_matches(col, list(columns), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield Problem(
                doc.path,
                doc.line(at),
                entry.field,
                f"column {col!r} is not in dataset {dataset!r}{hint}",
            )


def _unknown_key(key: Any, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
    return f"unknown key {key!r}; {hint}"


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}
    return names.get(type(value), f"a {type(value).__name__}")


# ---------------------------------------------------------------- base vs head


_LOWER_IS_LOOSER = ("min_value",)
_HIGHER_IS_LOOSER = ("max_value", "threshold")


def loosened(base: Suite, head: Suite) -> list[str]:
    """The base suite's expectations that `head` removes or loosens, one line each.

    Expectations are matched by type and domain (column, column pair, ...). A changed
    kwarg counts as loosening unless it is known to tighten (a higher `min_value`, a
    lower `max_value`, a higher `mostly`, strict bounds, a smaller allowed set): the
    list is for a reviewer, and the base suite is run on the data either way.
    """
    by_key = {canonical_json([e.type, domain_kwargs(e.kwargs)]): e for e in head.entries}
    out: list[str] = []
    for old in base.entries:
        what = _described(old)
        new = by_key.get(canonical_json([old.type, domain_kwargs(old.kwargs)]))
        if new is None:
            out.append(f"{what} removed")
            continue
        changes = [
            f"{name} {_short(old.kwargs.get(name))} → {_short(new.kwargs.get(name))}"
            for name in sorted(set(old.kwargs) | set(new.kwargs))
            if name not in DOMAIN_KEYS
            and _looser(old.type, name, old.kwargs.get(name), new.kwargs.get(name))
        ]
        if changes:
            out.append(f"{what}: {', '.join(changes)}")
    return out


def _described(entry: Entry) -> str:
    domain = domain_kwargs(entry.kwargs)
    if not domain:
        return entry.type
    return f"{entry.type} ({', '.join(f'{k}: {v}' for k, v in domain.items())})"


def _looser(etype: str, name: str, before: Any, after: Any) -> bool:
    """Whether changing kwarg `name` from `before` to `after` may let more data pass."""
    if before == after:
        return False
    try:
        if name in _LOWER_IS_LOOSER:
            return after is None or (before is not None and after < before)
        if name in _HIGHER_IS_LOOSER:
            return after is None or (before is not None and after > before)
        if name == "mostly":
            return (1 if after is None else after) < (1 if before is None else before)
        if name in ("strict_min", "strict_max"):
            return bool(before) and not after
    except TypeError:
        return True  # a date against a number: not comparable, so not known to tighten
    if name == "value_set" and isinstance(before, list) and isinstance(after, list):
        old, new = _keys(before), _keys(after)
        if "not_be_in_set" in etype:
            return not old <= new  # fewer forbidden values
        if etype.endswith(("_to_be_in_set", "_distinct_values_to_be_in_set")):
            return not new <= old  # more allowed values
        if "contain_set" in etype:
            return not old <= new  # fewer required values
    return True


def _keys(values: Sequence[Any]) -> set[str]:
    return {canonical_json(v) for v in values}
