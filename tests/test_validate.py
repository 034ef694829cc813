"""`modelward validate`: light, machine-readable, and honest about its own bugs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, cli

from modelward import workspace
from modelward.cli import main

HEAVY = ("pandas", "sklearn", "great_expectations", "github", "pyarrow")

PROBE = """
import sys
from modelward.cli import main
try:
    main(["validate", "--repo", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
print("IMPORTED", ",".join(heavy), "EXIT", code, file=sys.stderr)
"""


def _imported_by_validate(repo: Path) -> tuple[list[str], str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(repo), ",".join(HEAVY)],
        capture_output=True,
        text=True,
    )
    last = proc.stderr.strip().splitlines()[-1]
    modules, _, code = last.removeprefix("IMPORTED ").partition(" EXIT ")
    return [m for m in modules.split(",") if m], code


def test_validate_imports_no_heavy_library_on_a_csv_repository() -> None:
    modules, code = _imported_by_validate(ROOT)
    assert code == "0"
    assert modules == []


def test_validate_importtime_lists_no_heavy_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelward", "validate", "--repo", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert imported.isdisjoint(HEAVY), imported & set(HEAVY)
    assert "yaml" in imported  # the probe does see imports


def test_parquet_columns_are_the_only_reason_to_import_pyarrow(example_dir: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"age": [50], "sex": ["male"], "bmi": [22.0], "progression": [100.0]})
    pq.write_table(table, example_dir / "data" / "diabetes" / "diabetes.parquet")
    dataset = example_dir / "data" / "diabetes" / "dataset.yaml"
    text = dataset.read_text().replace("source: diabetes.csv", "source: diabetes.parquet")
    dataset.write_text("\n".join(x for x in text.splitlines() if not x.startswith("sha256")))
    modules, code = _imported_by_validate(example_dir)
    assert code == "0"
    assert modules == ["pyarrow"]


def test_validate_json_on_an_invalid_repository_lists_every_problem(example_dir: Path) -> None:
    model = example_dir / "models" / "churn" / "model.yaml"
    model.write_text(model.read_text().replace("primary: roc_auc", "primary: roc_acu"))
    policy = example_dir / "policies" / "staging.yaml"
    policy.write_text(policy.read_text().replace("enforcement: block", "enforcement: strict"))
    result = cli("validate", "--repo", example_dir, "--format", "json")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload.pop("error") == {
        "type": "InvalidInput",
        "exit_code": 2,
        "message": "models/churn/model.yaml:26: evaluation.primary: unknown metric 'roc_acu'; "
        "did you mean 'roc_auc'?\npolicies/staging.yaml:6: enforcement: must be 'block' or "
        "'warn' (got 'strict')",
    }
    assert payload == {
        "valid": False,
        "problems": [
            {
                "path": "models/churn/model.yaml",
                "line": 26,
                "field": "evaluation.primary",
                "message": "unknown metric 'roc_acu'; did you mean 'roc_auc'?",
            },
            {
                "path": "policies/staging.yaml",
                "line": 6,
                "field": "enforcement",
                "message": "must be 'block' or 'warn' (got 'strict')",
            },
        ],
    }


def test_an_unexpected_exception_is_reported_as_a_bug_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(path: Path, fmt: str, *options: str) -> list[str]:
        raise RuntimeError("header reader exploded")

    monkeypatch.setattr(workspace, "read_columns", broken)
    result = CliRunner().invoke(main, ["validate", "--repo", str(ROOT)])
    assert result.exit_code == 4
    assert result.stderr == (
        "modelward: unexpected error: RuntimeError: header reader exploded\n"
        "This is a bug in modelward. Run again with --traceback and report the output.\n"
    )
    assert "Traceback" not in result.output


def test_traceback_flag_lets_an_unexpected_exception_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(path: Path, fmt: str, *options: str) -> list[str]:
        raise RuntimeError("header reader exploded")

    monkeypatch.setattr(workspace, "read_columns", broken)
    result = CliRunner().invoke(main, ["--traceback", "validate", "--repo", str(ROOT)])
    assert isinstance(result.exception, RuntimeError)
    assert result.exc_info is not None
    frames = [frame.name for frame in __import__("traceback").extract_tb(result.exc_info[2])]
    assert "broken" in frames and "load" in frames
