"""The expectations allow-list: a static table that matches the installed GX, checked without it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from modelward.expectations import KWARGS, REFUSED_KWARGS, REFUSED_TYPES, K, kwarg_problems

SKIPPED = {"batch_id", "row_condition", "condition_parser", "library_metadata"}


def _code(name: str, field: Any) -> str:
    """The table's type code for one GX pydantic (v1) field (as scripts would generate it)."""
    t = repr(field.outer_type_)
    if name in ("column", "column_A", "column_B"):
        return "column"
    if name in ("column_list", "column_set"):
        return "columns"
    if "Literal[" in t:
        found = re.search(r"Literal\[([^\]]*)\]", t)
        assert found is not None
        return "choice:" + "|".join(x.strip().strip("'") for x in found.group(1).split(","))
    special = {
        "value_set": "scalars",
        "value_pairs_set": "pairs",
        "quantile_ranges": "quantiles",
        "json_schema": "mapping",
        "partition_object": "mapping",
    }
    if name in special:
        return special[name]
    if name.endswith("_list"):
        return "strings"
    if "datetime" in t:
        return "bound"
    opt = "?" if "NoneType" in t else ""
    for py, code in (("Union[int", "int"), ("float", "number"), ("bool", "bool"), ("str", "str")):
        if py in t or (py == "float" and "ConstrainedFloat" in t):
            return code + opt
    return "?" + t


def derive_from_gx() -> dict[str, dict[str, K]]:
    """The table as the installed GX defines it (minus the refused types)."""
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    base = set(Expectation.__fields__)
    out = {}
    for etype in sorted(list_registered_expectation_implementations()):
        if etype in REFUSED_TYPES:
            continue
        fields = get_expectation_impl(etype).__fields__
        out[etype] = {
            f.alias or n: K(_code(n, f), bool(f.required))
            for n, f in fields.items()
            if n not in base and n not in SKIPPED
        }
    return out


@pytest.mark.slow
def test_the_static_table_matches_the_installed_great_expectations() -> None:
    assert derive_from_gx() == KWARGS


@pytest.mark.slow
def test_every_refused_kwarg_and_type_exists_in_great_expectations() -> None:
    from great_expectations.expectations.registry import list_registered_expectation_implementations

    assert set(REFUSED_TYPES) <= set(list_registered_expectation_implementations())
    assert {"row_condition", "condition_parser"} <= set(REFUSED_KWARGS)


def messages(etype: str, kwargs: dict[str, Any]) -> list[tuple[str | None, str]]:
    return list(kwarg_problems(etype, kwargs))


def test_a_known_expectation_with_its_kwargs_passes() -> None:
    assert messages("expect_column_values_to_be_between", {"column": "age", "min_value": 18}) == []
    assert (
        messages(
            "expect_column_max_to_be_between", {"column": "d", "max_value": dt.date(2030, 1, 1)}
        )
        == []
    )


def test_an_unknown_type_suggests_the_closest_one() -> None:
    assert messages("expect_column_values_to_be_uniqe", {}) == [
        (
            None,
            "unknown expectation type 'expect_column_values_to_be_uniqe'; "
            "did you mean 'expect_column_values_to_be_unique'?",
        )
    ]


def test_row_condition_is_refused_with_either_parser() -> None:
    for parser in ("pandas", "great_expectations"):
        found = messages(
            "expect_column_values_to_not_be_null",
            {"column": "a", "row_condition": 'a=="x"', "condition_parser": parser},
        )
        assert [k for k, _ in found] == ["row_condition", "condition_parser"]
        assert "DataFrame.query" in found[0][1]


def test_suite_parameters_and_wrong_types_are_refused() -> None:
    found = messages(
        "expect_column_values_to_be_between",
        {"column": "a", "min_value": {"$PARAMETER": "x"}, "strict_min": "yes", "mostly": 2},
    )
    assert found == [
        (
            "min_value",
            "kwarg 'min_value' of expect_column_values_to_be_between must be a number or a date "
            "(suite parameters and other mappings are not allowed) (got {'$PARAMETER': 'x'})",
        ),
        (
            "strict_min",
            "kwarg 'strict_min' of expect_column_values_to_be_between must be true or false "
            "(got 'yes')",
        ),
        (
            "mostly",
            "kwarg 'mostly' of expect_column_values_to_be_between must be a number from 0 to 1 "
            "(got 2)",
        ),
    ]


def test_query_types_and_unknown_kwargs_are_refused() -> None:
    assert messages("unexpected_rows_expectation", {"unexpected_rows_query": "x"}) == [
        (
            None,
            "expectation type 'unexpected_rows_expectation' is not allowed: "
            "it runs a query the pull request wrote",
        )
    ]
    assert messages("expect_column_values_to_not_be_null", {"column": "a", "mostlyy": 1}) == [
        (
            "mostlyy",
            "expect_column_values_to_not_be_null has no kwarg 'mostlyy'; did you mean 'mostly'?",
        )
    ]


def test_a_json_schema_may_not_reference_other_documents() -> None:
    found = messages(
        "expect_column_values_to_match_json_schema",
        {"column": "a", "json_schema": {"$ref": "https://example.com/s.json"}},
    )
    assert [k for k, _ in found] == ["json_schema"]


def _suite(text: str) -> Any:
    from modelward.expectations import parse_suite
    from modelward.yamlio import load_bytes

    return parse_suite(load_bytes(text.encode(), "expectations.yaml"), "d", None)


def test_loosened_lists_removed_and_loosened_expectations_but_not_tightened_ones() -> None:
    from modelward.expectations import loosened

    base = _suite(
        "expectations:\n"
        "  - expect_column_values_to_not_be_null: {column: tenure_months}\n"
        "  - expect_column_values_to_be_between: {column: age, min_value: 18, max_value: 100}\n"
        "  - expect_column_values_to_be_in_set: {column: region, value_set: [north, south]}\n"
        "  - expect_column_values_to_not_be_null: {column: payment, mostly: 0.95}\n"
        "  - expect_table_row_count_to_be_between: {min_value: 1000}\n"
    )
    head = _suite(
        "expectations:\n"
        "  - expect_column_values_to_be_between: {column: age, min_value: 21, max_value: 150}\n"
        "  - expect_column_values_to_be_in_set: {column: region, value_set: [north, south, x]}\n"
        "  - expect_column_values_to_not_be_null: {column: payment}\n"  # mostly 1: tighter
        "  - expect_table_row_count_to_be_between: {min_value: 2000}\n"  # tighter
    )

    assert loosened(base, head) == [
        "expect_column_values_to_not_be_null (column: tenure_months) removed",
        "expect_column_values_to_be_between (column: age): max_value 100 → 150",
        "expect_column_values_to_be_in_set (column: region): "
        "value_set ['north', 'south'] → ['north', 'south', 'x']",
    ]
    assert loosened(head, head) == []
