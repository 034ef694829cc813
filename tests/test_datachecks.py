"""Data checks: expectations.yaml -> Great Expectations suite -> results, with a cache.

Tests marked slow run real Great Expectations on real data; they still run in `make test`.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, cli

from modelward import datachecks
from modelward.datachecks import (
    DataCheckResult,
    ExpectationOutcome,
    check_dataset,
    check_datasets,
    load_suite,
    suite_sha256,
)
from modelward.errors import DataError, InvalidInput
from modelward.hashing import file_sha256
from modelward.workspace import Workspace, load

CHURN_EXPECTATIONS = "data/churn/expectations.yaml"


def write_expectations(instance: Path, text: str, dataset: str = "churn") -> None:
    (instance / "data" / dataset / "expectations.yaml").write_text(text)


def repin(instance: Path, dataset: str = "churn", source: str = "churn.csv") -> None:
    """Point the dataset.yaml sha256 pin at the file as it is now."""
    manifest = instance / "data" / dataset / "dataset.yaml"
    lines = manifest.read_text().splitlines(keepends=True)
    sha = file_sha256(instance / "data" / dataset / source)
    manifest.write_text(
        "".join(f"sha256: {sha}\n" if ln.startswith("sha256:") else ln for ln in lines)
    )


def edit_csv(path: Path, edits: dict[tuple[int, str], str]) -> None:
    """Set cells (data row index, column name) of a CSV file, leaving every other byte alone."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for (row, column), value in edits.items():
        rows[row + 1][header.index(column)] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def break_churn(instance: Path) -> None:
    edit_csv(
        instance / "data" / "churn" / "churn.csv",
        {
            (10, "age"): "7",
            (20, "age"): "130",
            (30, "age"): "150",
            (5, "tenure_months"): "",
            (15, "tenure_months"): "",
            (40, "region"): "atlantis",
        },
    )
    repin(instance)


def problems_of(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def run_python(code: str, cwd: Path) -> Any:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- real GX on real data


@pytest.mark.slow
def test_the_three_example_datasets_pass(example_dir: Path) -> None:
    results = check_datasets(load(example_dir), ["breast-cancer", "churn", "diabetes"])

    assert {n: (r.success, len(r.expectations), r.cached) for n, r in results.items()} == {
        "breast-cancer": (True, 8, False),
        "churn": (True, 13, False),
        "diabetes": (True, 6, False),
    }
    churn = results["churn"]
    assert churn.path == CHURN_EXPECTATIONS
    assert churn.data_sha256 == file_sha256(example_dir / "data" / "churn" / "churn.csv")
    assert churn.suite_sha256 == suite_sha256(load(example_dir), "churn")
    row_count, *_, payment, mean = churn.expectations
    assert (row_count.type, row_count.line, row_count.observed) == (
        "expect_table_row_count_to_be_between",
        2,
        5000,
    )
    assert (payment.line, payment.kwargs) == (13, {"column": "payment_method", "mostly": 0.95})
    assert payment.success and payment.unexpected_count == 92
    assert isinstance(mean.observed, float) and 0.05 <= mean.observed <= 0.6


@pytest.mark.slow
def test_a_broken_copy_of_churn_fails_exactly_the_expectations_it_breaks(
    example_dir: Path,
) -> None:
    break_churn(example_dir)

    result = check_dataset(load(example_dir), "churn", use_cache=False)

    assert not result.success
    assert [
        (o.index, o.line, o.type, o.column, o.unexpected_count, o.unexpected_percent, o.sample)
        for o in result.failed
    ] == [
        (2, 4, "expect_column_values_to_not_be_null", "tenure_months", 2, 0.04, (None,)),
        (4, 6, "expect_column_values_to_be_between", "age", 3, 0.06, (7, 130, 150)),
        (7, 9, "expect_column_values_to_be_in_set", "region", 1, 0.02, ("atlantis",)),
    ]


@pytest.mark.slow
def test_check_data_prints_each_failing_expectation_and_exits_1(example_dir: Path) -> None:
    break_churn(example_dir)

    result = cli("check-data", "churn", "diabetes", "--repo", example_dir)

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("churn: FAILED 3 of 13 expectations (checked, data ")
    assert lines[1:4] == [
        f"  {CHURN_EXPECTATIONS}:4: expect_column_values_to_not_be_null; column tenure_months; "
        "2 unexpected (0.04%); e.g. null (2 rows); rows 6, 16",
        f"  {CHURN_EXPECTATIONS}:6: expect_column_values_to_be_between; column age; "
        "3 unexpected (0.06%); e.g. 7, 130, 150; rows 11, 21, 31",
        f"  {CHURN_EXPECTATIONS}:9: expect_column_values_to_be_in_set; column region; "
        '1 unexpected (0.02%); e.g. "atlantis"; rows 41',
    ]
    assert lines[4].startswith("diabetes: passed 6 expectations (checked, data ")
    assert lines[-1] == "2 datasets: 1 passed, 1 failed (3 expectations failed)"


@pytest.mark.slow
def test_check_data_json_carries_every_outcome(example_dir: Path) -> None:
    break_churn(example_dir)

    result = cli("check-data", "--repo", example_dir, "--format", "json")

    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["success"] is False
    assert sorted(payload["datasets"]) == ["breast-cancer", "churn", "diabetes", "wine"]
    churn = DataCheckResult.from_dict(payload["datasets"]["churn"])
    assert [o.index for o in churn.failed] == [2, 4, 7]
    assert churn.failed[1].to_dict() == {
        "index": 4,
        "line": 6,
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "age", "min_value": 18, "max_value": 100},
        "success": False,
        "unexpected_count": 3,
        "unexpected_percent": 0.06,
        "sample": [7, 130, 150],
        "sample_counts": [1, 1, 1],
        "rows": [11, 21, 31],
        "row_key": None,
        "observed": None,
        "error": None,
    }


@pytest.mark.slow
def test_an_expectation_gx_cannot_evaluate_fails_with_its_error_and_aggregates_show_values(
    example_dir: Path,
) -> None:
    write_expectations(
        example_dir,
        "expectations:\n"
        "  - expect_column_values_to_be_between: {column: sex, min_value: 1, max_value: 2}\n"
        "  - expect_column_max_to_be_between: {column: bmi, max_value: 30}\n",
        dataset="diabetes",
    )

    result = check_dataset(load(example_dir), "diabetes")

    assert [(o.success, o.error, o.observed) for o in result.expectations] == [
        (
            False,
            "Column values, min_value, and max_value must either be None or of the same type.",
            None,
        ),
        (False, None, 42.2),
    ]


def test_check_data_on_the_example_instance_exits_0(example_dir: Path) -> None:
    result = cli("check-data", "--repo", example_dir)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "4 datasets: 4 passed, 0 failed"


def test_check_data_refuses_an_unknown_dataset_name(example_dir: Path) -> None:
    result = cli("check-data", "chrun", "--repo", example_dir)

    assert result.exit_code == 2
    assert result.output == "modelward: unknown dataset 'chrun'; did you mean 'churn'?\n"


# ---------------------------------------------------------------- GX's two traps


@pytest.mark.slow
def test_gx_itself_drops_unknown_types_and_merges_same_column_duplicates() -> None:
    """Why build_gx_suite adds expectations one by one: what GX does otherwise."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    gx.get_context(mode="ephemeral")
    dropped = gx.ExpectationSuite(
        name="drops",
        expectations=[
            {"type": "expect_column_to_be_awesome", "kwargs": {"column": "a"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
        ],
    )
    assert [e.expectation_type for e in dropped.expectations] == [
        "expect_column_values_to_not_be_null"
    ]

    merged = gx.ExpectationSuite(name="merges")
    for kwargs in ({"column": "age", "min_value": 18}, {"column": "age", "max_value": 100}):
        merged.add_expectation_configuration(
            ExpectationConfiguration(type="expect_column_values_to_be_between", kwargs=kwargs)
        )
    assert [e.configuration.kwargs for e in merged.expectations] == [
        {"column": "age", "max_value": 100}
    ]


@pytest.mark.slow
def test_an_unknown_expectation_type_names_file_line_and_a_close_match(
    example_dir: Path,
) -> None:
    write_expectations(
        example_dir,
        "expectations:\n"
        "  - expect_column_values_to_not_be_null: {column: age}\n"
        "  - expect_column_values_to_be_uniqe: {column: customer_id}\n"
        "  - expect_column_to_be_awesome: {column: age}\n",
    )

    with pytest.raises(InvalidInput) as exc:
        check_dataset(load(example_dir), "churn", use_cache=False)

    assert problems_of(exc) == [
        f"{CHURN_EXPECTATIONS}:3: expectations[1]: unknown expectation type "
        "'expect_column_values_to_be_uniqe'; did you mean 'expect_column_values_to_be_unique'?",
        f"{CHURN_EXPECTATIONS}:4: expectations[2]: unknown expectation type "
        "'expect_column_to_be_awesome'; did you mean 'expect_column_sum_to_be_between'?",
    ]


@pytest.mark.slow
def test_kwargs_that_gx_rejects_name_the_line(example_dir: Path) -> None:
    write_expectations(
        example_dir,
        "expectations:\n"
        "  - expect_column_values_to_be_in_set: {column: region}\n"
        "  - type: expect_column_values_to_be_between\n"
        "    kwargs:\n"
        "      column: age\n"
        "      min_value: 18\n"
        "      mostly: 3\n"
        "  - expect_column_values_to_not_be_null: {column: age, mostlyy: 0.9}\n"
        "  - expect_column_values_to_be_between: {column: tenure_months}\n",
    )

    with pytest.raises(InvalidInput) as exc:
        check_dataset(load(example_dir), "churn", use_cache=False)

    assert problems_of(exc) == [
        f"{CHURN_EXPECTATIONS}:2: expectations[0]: "
        "expect_column_values_to_be_in_set needs the kwarg 'value_set'",
        f"{CHURN_EXPECTATIONS}:7: expectations[1]: kwarg 'mostly' of "
        "expect_column_values_to_be_between must be a number from 0 to 1 (got 3)",
        f"{CHURN_EXPECTATIONS}:8: expectations[2]: "
        "expect_column_values_to_not_be_null has no kwarg 'mostlyy'; did you mean 'mostly'?",
        f"{CHURN_EXPECTATIONS}:9: expectations[3]: "
        "expect_column_values_to_be_between: min_value and max_value cannot both be None",
    ]


def test_a_duplicate_expectation_names_both_lines(example_dir: Path) -> None:
    write_expectations(
        example_dir,
        "expectations:\n"
        "  - expect_column_values_to_be_between: {column: age, min_value: 18}\n"
        "  - expect_column_values_to_be_between: {column: tenure_months, min_value: 1}\n"
        "  - type: expect_column_values_to_be_between\n"
        "    kwargs: {column: age, max_value: 100}\n"
        "  - expect_table_row_count_to_be_between: {min_value: 1}\n"
        "  - expect_table_row_count_to_be_between: {max_value: 10}\n",
    )

    with pytest.raises(InvalidInput) as exc:
        load_suite(load(example_dir), "churn")

    merge = (
        "Great Expectations would merge them into one; "
        "combine their kwargs or give them different columns"
    )
    assert problems_of(exc) == [
        f"{CHURN_EXPECTATIONS}:4: expectations[2]: duplicate of expectations[0] (line 2): " + merge,
        f"{CHURN_EXPECTATIONS}:7: expectations[4]: duplicate of expectations[3] (line 6): " + merge,
    ]


# ---------------------------------------------------------------- structure (no GX)


def test_structural_errors_name_file_line_and_entry(example_dir: Path) -> None:
    write_expectations(
        example_dir,
        "expectations:\n"
        "  - expect_table_row_count_to_be_between\n"
        "  - expect_column_values_to_not_be_null: {column: age}\n"
        "    mostly: 0.9\n"
        "  - expect_column_values_to_not_be_null: [age]\n"
        "  - expect_column_values_to_not_be_null: {column: agee}\n"
        "  - type: expect_column_pair_values_to_be_equal\n"
        "    kwargs: {column_A: age, column_B: regio}\n"
        "    metaa: {}\n"
        "  - expect_compound_columns_to_be_unique: {column_list: [customer_id, nope]}\n",
    )

    with pytest.raises(InvalidInput) as exc:
        load_suite(load(example_dir), "churn")

    assert problems_of(exc) == [
        f"{CHURN_EXPECTATIONS}:2: expectations[0]: expected a one-key mapping such as "
        "'expect_column_values_to_not_be_null: {column: x}', got a string; "
        "write '- expect_table_row_count_to_be_between: {...kwargs}'",
        f"{CHURN_EXPECTATIONS}:3: expectations[1]: expected a one-key mapping "
        "(the expectation type), got 2 keys: expect_column_values_to_not_be_null, mostly; "
        "write further kwargs inside the type's mapping, or use the {type:, kwargs:, meta:} form",
        f"{CHURN_EXPECTATIONS}:5: expectations[2]: "
        "kwargs of expect_column_values_to_not_be_null must be a mapping, got a list",
        f"{CHURN_EXPECTATIONS}:6: expectations[3]: "
        "column 'agee' is not in dataset 'churn'; did you mean 'age'?",
        f"{CHURN_EXPECTATIONS}:8: expectations[4]: "
        "column 'regio' is not in dataset 'churn'; did you mean 'region'?",
        f"{CHURN_EXPECTATIONS}:9: expectations[4]: unknown key 'metaa'; did you mean 'meta'?",
        f"{CHURN_EXPECTATIONS}:10: expectations[5]: column 'nope' is not in dataset 'churn'",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "expectations: {expect_column_to_exist: {column: age}}\n",
            "1: expectations: expected a list of expectations, got a mapping",
        ),
        ("- just a string\n- 2\n", "1: expectations[0]: expected a one-key mapping such as "),
        (
            "expectation:\n  - expect_column_to_exist: {column: age}\n",
            "1: expectation: unknown key 'expectation'; did you mean 'expectations'?",
        ),
        ("expectations:\n  - {type: 3}\n", "2: expectations[0]: expectation type must be a"),
    ],
)
def test_a_file_that_is_not_a_list_of_expectations_is_invalid_input(
    example_dir: Path, text: str, problem: str
) -> None:
    write_expectations(example_dir, text)

    with pytest.raises(InvalidInput) as exc:
        load_suite(load(example_dir), "churn")

    assert any(p.startswith(f"{CHURN_EXPECTATIONS}:{problem}") for p in problems_of(exc))


def test_the_long_form_hashes_like_the_short_form_and_comments_do_not_count(
    example_dir: Path,
) -> None:
    ws = load(example_dir)
    write_expectations(example_dir, "expectations:\n  - expect_column_to_exist: {column: age}\n")
    short = load_suite(ws, "churn")
    write_expectations(
        example_dir,
        "# the age column\nexpectations:\n"
        "  - type: expect_column_to_exist\n    kwargs:\n      column: age\n",
    )
    long = load_suite(ws, "churn")
    write_expectations(example_dir, "- expect_column_to_exist: {column: age}\n")
    bare = load_suite(ws, "churn")

    assert short.sha256 == long.sha256 == bare.sha256
    assert [(e.line, e.type, dict(e.kwargs)) for e in long.entries] == [
        (3, "expect_column_to_exist", {"column": "age"})
    ]
    write_expectations(
        example_dir,
        "- type: expect_column_to_exist\n  kwargs: {column: age}\n  meta: {notes: why}\n",
    )
    assert load_suite(ws, "churn").sha256 != short.sha256


def test_parsing_and_hashing_a_suite_never_imports_great_expectations() -> None:
    seen = run_python(
        "import json, sys\n"
        "from pathlib import Path\n"
        "from modelward.workspace import load\n"
        "from modelward.datachecks import load_suite, suite_sha256\n"
        "ws = load(Path('.'))\n"
        "suite = load_suite(ws, 'churn')\n"
        "print(json.dumps([len(suite.entries), suite_sha256(ws, 'churn') == suite.sha256,\n"
        "                  'great_expectations' in sys.modules, 'pandas' in sys.modules]))\n",
        ROOT,
    )
    assert seen == [13, True, False, False]


# ---------------------------------------------------------------- data errors


def test_a_pin_mismatch_is_a_data_error_naming_the_file(example_dir: Path) -> None:
    edit_csv(example_dir / "data" / "churn" / "churn.csv", {(0, "age"): "45"})
    actual = file_sha256(example_dir / "data" / "churn" / "churn.csv")

    with pytest.raises(DataError) as exc:
        check_dataset(load(example_dir), "churn")
    assert str(exc.value) == (
        f"data/churn/dataset.yaml:7: sha256 of data/churn/churn.csv is {actual}, but the pin "
        "is 8a99991d9de6189e8bc3fb5e2560593ab73d0dabbd195631fd5bedce1fa2df74; "
        "update the pin if the data changed on purpose"
    )

    result = cli("check-data", "churn", "--repo", example_dir)
    assert result.exit_code == 2
    assert result.output == f"modelward: {exc.value}\n"


def test_a_missing_data_file_is_a_data_error_naming_the_file(example_dir: Path) -> None:
    ws = load(example_dir)
    (example_dir / "data" / "churn" / "churn.csv").unlink()

    with pytest.raises(DataError) as exc:
        check_dataset(ws, "churn")
    assert str(exc.value) == "data/churn/dataset.yaml:5: data file not found: data/churn/churn.csv"

    result = cli("check-data", "churn", "--repo", example_dir)
    assert result.exit_code == 2
    assert result.output == (
        "data/churn/dataset.yaml:5: source: file not found: data/churn/churn.csv\n"
    )


# ---------------------------------------------------------------- cache


def cache_entries(instance: Path) -> list[str]:
    folder = instance / ".modelward" / "cache" / "datachecks"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


HIT_SCRIPT = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from modelward.workspace import load\n"
    "from modelward.datachecks import check_dataset\n"
    "r = check_dataset(load(Path('.')), 'churn')\n"
    "print(json.dumps({'result': r.to_dict(), 'gx': 'great_expectations' in sys.modules}))\n"
)


@pytest.mark.slow
def test_a_second_run_is_a_cache_hit_that_does_not_import_great_expectations(
    example_dir: Path,
) -> None:
    first = check_dataset(load(example_dir), "churn")
    assert not first.cached
    assert cache_entries(example_dir) == [f"{first.data_sha256}-{first.suite_sha256}.json"]

    second = run_python(HIT_SCRIPT, example_dir)

    assert second["gx"] is False
    hit = DataCheckResult.from_dict(second["result"])
    assert hit.cached is True
    assert hit == DataCheckResult(**{**first.__dict__, "cached": True})


@pytest.mark.slow
def test_changing_one_expectation_or_one_byte_of_data_misses_the_cache(
    example_dir: Path,
) -> None:
    first = check_dataset(load(example_dir), "churn")
    path = example_dir / CHURN_EXPECTATIONS
    path.write_text(path.read_text().replace("max_value: 100}", "max_value: 101}"))

    suite_changed = check_dataset(load(example_dir), "churn")
    assert not suite_changed.cached
    assert suite_changed.data_sha256 == first.data_sha256
    assert suite_changed.suite_sha256 != first.suite_sha256

    edit_csv(example_dir / "data" / "churn" / "churn.csv", {(0, "monthly_charges"): "43.19"})
    repin(example_dir)
    data_changed = check_dataset(load(example_dir), "churn")
    assert not data_changed.cached
    assert data_changed.data_sha256 != first.data_sha256
    assert data_changed.suite_sha256 == suite_changed.suite_sha256

    assert check_dataset(load(example_dir), "churn").cached
    assert len(cache_entries(example_dir)) == 3


@pytest.mark.slow
def test_a_cache_hit_reports_current_line_numbers(example_dir: Path) -> None:
    break_churn(example_dir)
    check_dataset(load(example_dir), "churn")
    path = example_dir / CHURN_EXPECTATIONS
    path.write_text("# Checks for the churn table.\n\n" + path.read_text())

    hit = check_dataset(load(example_dir), "churn")

    assert hit.cached
    assert [(o.index, o.line) for o in hit.failed] == [(2, 6), (4, 8), (7, 11)]


@pytest.mark.slow
def test_no_cache_runs_gx_again_and_a_damaged_entry_is_rewritten(example_dir: Path) -> None:
    first = check_dataset(load(example_dir), "churn")
    assert not check_dataset(load(example_dir), "churn", use_cache=False).cached
    (entry,) = cache_entries(example_dir)
    (example_dir / ".modelward" / "cache" / "datachecks" / entry).write_text('{"format": 1')

    again = check_dataset(load(example_dir), "churn")

    assert not again.cached
    assert again.expectations == first.expectations
    assert check_dataset(load(example_dir), "churn").cached


# ---------------------------------------------------------------- once per run, quietly


@pytest.mark.slow
def test_a_dataset_used_by_two_models_is_checked_once_per_run(
    example_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    churn = (example_dir / "models" / "churn" / "model.yaml").read_text()
    second = example_dir / "models" / "churn-weekly" / "model.yaml"
    second.parent.mkdir()
    second.write_text(churn.replace("name: churn", "name: churn-weekly"))
    ws = load(example_dir)
    used = [m.record.data.dataset for m in ws.models.values()]
    assert sorted(used) == ["breast-cancer", "breast-cancer", "churn", "churn", "diabetes", "wine"]
    ran: list[str] = []
    real = datachecks.run_suite

    def counting(
        suite: datachecks.Suite, frame: Any, **options: Any
    ) -> tuple[ExpectationOutcome, ...]:
        ran.append(suite.dataset)
        return real(suite, frame, **options)

    monkeypatch.setattr(datachecks, "run_suite", counting)

    results = check_datasets(ws, used, use_cache=False)

    assert sorted(ran) == ["breast-cancer", "churn", "diabetes", "wine"]
    assert sorted(results) == ["breast-cancer", "churn", "diabetes", "wine"]


@pytest.mark.slow
def test_a_check_prints_nothing_and_writes_only_its_cache_entry(
    example_dir: Path, capfd: pytest.CaptureFixture[str], tree_snapshot: Any
) -> None:
    ws: Workspace = load(example_dir)
    before = tree_snapshot(example_dir)

    for name in ("churn", "diabetes"):
        check_dataset(ws, name, use_cache=False)
    write_expectations(example_dir, "- expect_column_to_be_awesome: {column: age}\n")
    with pytest.raises(InvalidInput):
        check_dataset(ws, "churn", use_cache=False)

    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    after = tree_snapshot(example_dir)
    changed = sorted(k for k in after if before.get(k) != after[k])
    assert changed == [
        ".modelward",
        ".modelward/.gitignore",
        ".modelward/cache",
        ".modelward/cache/datachecks",
        *(f".modelward/cache/datachecks/{e}" for e in cache_entries(example_dir)),
        CHURN_EXPECTATIONS,
    ]


# ---------------------------------------------------------------- records


def test_results_round_trip_through_json_with_numpy_values_made_plain() -> None:
    import numpy as np

    outcome = ExpectationOutcome(
        index=1,
        line=3,
        type="expect_column_mean_to_be_between",
        kwargs={"column": "age", "min_value": np.int64(18)},
        success=False,
        unexpected_count=None,
        unexpected_percent=None,
        sample=(np.float64(float("nan")), np.int64(7), "x"),
        observed=np.float64(43.5),
    )
    result = DataCheckResult("churn", "a" * 64, "b" * 64, False, (outcome,), False, "p.yaml")

    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))

    assert data["expectations"][0]["sample"] == [None, 7, "x"]
    assert data["expectations"][0]["observed"] == 43.5
    back = DataCheckResult.from_dict(data)
    assert back.expectations[0].kwargs == {"column": "age", "min_value": 18}
    assert back.to_dict() == data


@pytest.mark.slow
def test_with_an_id_column_failing_rows_are_named_by_id_and_text_is_shown_as_written(
    example_dir: Path,
) -> None:
    edit_csv(
        example_dir / "data" / "churn" / "churn.csv",
        {(10, "age"): "7", (20, "age"): "7", (30, "age"): "150", (40, "region"): "atlántida"},
    )
    repin(example_dir)
    manifest = example_dir / "data" / "churn" / "dataset.yaml"
    manifest.write_text(manifest.read_text() + "id_column: customer_id\n")

    result = cli("check-data", "churn", "--repo", example_dir)

    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[1:3] == [
        f"  {CHURN_EXPECTATIONS}:6: expect_column_values_to_be_between; column age; "
        '3 unexpected (0.06%); e.g. 7 (2 rows), 150; customer_id "C00010", "C00020", "C00030"',
        f"  {CHURN_EXPECTATIONS}:9: expect_column_values_to_be_in_set; column region; "
        '1 unexpected (0.02%); e.g. "atlántida"; customer_id "C00040"',
    ]
    payload = json.loads(
        cli("check-data", "churn", "--repo", example_dir, "--format", "json").output
    )
    age = payload["datasets"]["churn"]["expectations"][4]
    assert (age["sample"], age["sample_counts"], age["row_key"]) == (
        [7, 150],
        [2, 1],
        "customer_id",
    )


def test_an_unknown_id_column_is_a_validate_error(example_dir: Path) -> None:
    manifest = example_dir / "data" / "churn" / "dataset.yaml"
    manifest.write_text(manifest.read_text() + "id_column: customer\n")
    with pytest.raises(InvalidInput) as err:
        load(example_dir)
    assert str(err.value) == (
        "data/churn/dataset.yaml:9: id_column: column 'customer' is not in dataset 'churn'; "
        "did you mean 'customer_id'?"
    )
