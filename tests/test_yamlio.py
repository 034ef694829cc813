"""yamlio: plain data plus the line of every key, and nothing a YAML file should not do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from modelward.errors import InvalidInput
from modelward.yamlio import MAX_DEPTH, MAX_NODES, Document, format_loc, load_bytes, load_path

NESTED = b"""\
apiVersion: modelward/v1
model:
  estimator: sklearn.linear_model.Ridge
  params:
    alpha: 1.0

    max_iter: 100
owners:
  - alice
  -   bob
rules:
  - min_metric: {roc_auc: 0.8}
  - approvals:
      min: 2
"""


def refused(raw: bytes, display: str = "f.yaml") -> str:
    with pytest.raises(InvalidInput) as info:
        load_bytes(raw, display)
    return str(info.value)


def test_nested_keys_carry_the_line_they_were_written_on() -> None:
    doc = load_bytes(NESTED, "m.yaml")
    assert doc.line(("model",)) == 2
    assert doc.line(("model", "estimator")) == 3
    assert doc.line(("model", "params", "max_iter")) == 7
    assert doc.line(("rules", 1, "approvals", "min")) == 14


def test_list_items_carry_their_own_line() -> None:
    doc = load_bytes(NESTED, "m.yaml")
    assert doc.line(("owners", 0)) == 9
    assert doc.line(("owners", 1)) == 10
    assert doc.line(("rules", 0)) == 12
    assert doc.line(("rules", 0, "min_metric", "roc_auc")) == 12


def test_a_missing_key_takes_the_line_of_its_nearest_written_ancestor() -> None:
    doc = load_bytes(NESTED, "m.yaml")
    assert doc.line(("model", "params", "tol")) == 4
    assert doc.line(("nowhere", "at", "all")) == 1


def test_problem_names_file_line_and_key_path() -> None:
    doc = load_bytes(NESTED, "models/m/model.yaml")
    problem = doc.problem(("rules", 1, "approvals", "min"), "must be >= 1 (got 0)")
    assert str(problem) == "models/m/model.yaml:14: rules[1].approvals.min: must be >= 1 (got 0)"


def test_format_loc_writes_indices_in_brackets() -> None:
    assert format_loc(("rules", 2, "min_metric")) == "rules[2].min_metric"
    assert format_loc((0, "a")) == "[0].a"
    assert format_loc(()) == ""


def test_values_are_plain_python_data() -> None:
    doc = load_bytes(b"a: [1, 2.5, true, null, text]\nb: {c: 'quoted'}\n", "f.yaml")
    assert doc.data == {"a": [1, 2.5, True, None, "text"], "b": {"c": "quoted"}}


def test_duplicate_key_names_both_lines() -> None:
    raw = b"name: a\nversion: 1.0.0\nname: b\n"
    assert refused(raw) == "f.yaml:3: duplicate key 'name' (first at line 1)"


def test_duplicate_key_in_a_nested_mapping_is_refused_too() -> None:
    raw = b"model:\n  params:\n    alpha: 1\n    alpha: 2\n"
    assert refused(raw) == "f.yaml:4: duplicate key 'alpha' (first at line 3)"


def test_aliases_within_budget_are_expanded() -> None:
    doc = load_bytes(b"a: &x [1, 2]\nb: *x\n", "f.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_alias_expansion_beyond_the_node_budget_is_refused() -> None:
    raw = b"a: &a [" + b", ".join([b"x"] * 100) + b"]\n"
    raw += b"b: &b [" + b", ".join([b"*a"] * 100) + b"]\n"
    raw += b"c: [" + b", ".join([b"*b"] * 100) + b"]\n"
    assert refused(raw) == (
        f"f.yaml:3: aliases expand to more than {MAX_NODES} nodes; refusing to expand"
    )


def test_unknown_alias_is_refused() -> None:
    assert refused(b"a: *nothing\n").startswith("f.yaml:1: ")


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    ok = b"a: " + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"\n"
    load_bytes(ok, "f.yaml")
    deep = b"a: " + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"\n"
    assert refused(deep) == f"f.yaml:1: nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b"x: !!python/object/apply:os.system [echo]\n",
            "f.yaml:1: x: tag !!python/object/apply:os.system is not allowed; "
            "manifests hold plain data only",
        ),
        (
            b"x: !!python/name:os.system ''\n",
            "f.yaml:1: x: tag !!python/name:os.system is not allowed; "
            "manifests hold plain data only",
        ),
        (
            b"x: !custom 3\n",
            "f.yaml:1: x: tag !custom is not allowed; manifests hold plain data only",
        ),
        (
            b"x: !!binary aGVsbG8=\n",
            "f.yaml:1: x: tag !!binary is not allowed; manifests hold plain data only",
        ),
        (
            b"x: !!set {a, b}\n",
            "f.yaml:1: x: tag !!set is not allowed; manifests hold plain data only",
        ),
        (b"a: &a {b: 1}\nc:\n  <<: *a\n", "f.yaml:3: c: merge keys (<<) are not supported"),
    ],
)
def test_tags_other_than_plain_data_are_refused(raw: bytes, message: str) -> None:
    assert refused(raw) == message


def test_explicit_plain_tags_are_accepted() -> None:
    doc = load_bytes(b"a: !!str 1\nb: !!int '2'\nc: !!map {d: !!seq [1]}\n", "f.yaml")
    assert doc.data == {"a": "1", "b": 2, "c": {"d": [1]}}


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    doc = load_bytes("\ufeffname: café\n".encode(), "f.yaml")
    assert doc.data == {"name": "café"}
    assert doc.line(("name",)) == 1


def test_timestamps_become_dates() -> None:
    doc = load_bytes(b"expires: 2027-06-30\nquoted: '2027-06-30'\n", "f.yaml")
    assert doc.data["expires"] == dt.date(2027, 6, 30)
    assert doc.data["quoted"] == "2027-06-30"


def test_an_impossible_date_names_its_key() -> None:
    assert refused(b"waiver:\n  expires: 2027-02-30\n") == (
        "f.yaml:2: waiver.expires: cannot read '2027-02-30': day is out of range for month"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "f.yaml:1: file is empty"),
        (b"  \n\n", "f.yaml:1: file is empty"),
        (b"# only a comment\n", "f.yaml:1: file holds no YAML document"),
        (b"a: 1\n---\nb: 2\n", "f.yaml:2: expected one YAML document, found several"),
        (b"a: 1\nb: \xff\n", "f.yaml:2: file is not UTF-8 (byte 0xff at offset 8)"),
        (
            b"a:\n\tb: 1\n",
            "f.yaml:2: invalid YAML: tab character in indentation; YAML indents with spaces only",
        ),
        (b"a: [1, 2\n", "f.yaml:2: invalid YAML: did not find expected ',' or ']'"),
        (b"? [a]\n: 1\n", "f.yaml:1: mapping keys must be plain scalars"),
    ],
)
def test_malformed_files_are_refused_with_one_located_message(raw: bytes, message: str) -> None:
    assert refused(raw) == message


def test_files_over_one_megabyte_are_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * 1_100_000)
    with pytest.raises(InvalidInput) as info:
        load_path(path, "big.yaml")
    assert str(info.value) == "big.yaml:1: file is 1.1 MB; YAML files are limited to 1 MB"


def test_an_unreadable_path_is_an_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        load_path(tmp_path / "missing.yaml", "missing.yaml")
    assert str(info.value) == "missing.yaml:1: cannot read file: No such file or directory"


def test_document_is_frozen() -> None:
    doc = Document("f.yaml", {"a": 1}, {("a",): 1})
    with pytest.raises(AttributeError):
        doc.path = "g.yaml"  # type: ignore[misc]
