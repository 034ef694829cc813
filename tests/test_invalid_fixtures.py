"""Every broken repository under tests/fixtures/invalid/ is refused with its exact message.

A case is a folder holding only the files that replace those of the example instance,
plus `expected.txt`: the exact lines `modelward validate` prints on stderr. Cases that
cannot live in git (a symlink escape, a 10 MB file) are built by SETUP below.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, copy_example

from modelward.cli import main

FIXTURES = ROOT / "tests" / "fixtures" / "invalid"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
# Run through a real interpreter: at least one case of each family.
SUBPROCESS_CASES = {
    "model-unknown-key-suggestion",
    "dataset-symlink-escape",
    "policy-rule-two-kinds",
    "yaml-billion-laughs",
    "yaml-not-utf8",
    "yaml-too-large",
    "many-problems-at-once",
}
LINE_RE = re.compile(r"^[\w./-]+:\d+: \S")


def _symlink_escape(repo: Path) -> None:
    outside = repo.parent / "outside.csv"
    outside.write_text("customer_id,churned\n1,0\n")
    os.symlink("../../../outside.csv", repo / "data" / "churn" / "escape.csv")


def _ten_megabytes(repo: Path) -> None:
    path = repo / "models" / "churn" / "model.yaml"
    path.write_text(path.read_text() + "# padding\n" * 1_000_000)


SETUP: dict[str, Callable[[Path], None]] = {
    "dataset-symlink-escape": _symlink_escape,
    "yaml-too-large": _ten_megabytes,
}


def build_case(case: str, tmp_path: Path) -> Path:
    """A copy of the example instance with the case's files laid over it."""
    repo = tmp_path / "instance"
    copy_example(repo)
    source = FIXTURES / case
    for path in source.rglob("*"):
        if path.is_file() and path.name != "expected.txt":
            target = repo / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    if case in SETUP:
        SETUP[case](repo)
    return repo


def snapshot(path: Path) -> dict[str, float]:
    return {str(p.relative_to(path)): p.lstat().st_mtime for p in path.rglob("*")}


def expected_lines(case: str) -> list[str]:
    return (FIXTURES / case / "expected.txt").read_text().splitlines()


def test_there_are_at_least_thirty_cases_each_with_its_expected_message() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        lines = expected_lines(case)
        assert lines, case
        assert all(LINE_RE.match(line) for line in lines), case


def test_no_case_commits_a_large_file() -> None:
    assert all(p.stat().st_size < 10_000 for p in FIXTURES.rglob("*") if p.is_file())


@pytest.mark.parametrize("case", CASES)
def test_invalid_repository_is_refused_with_its_exact_message(case: str, tmp_path: Path) -> None:
    repo = build_case(case, tmp_path)
    before = snapshot(repo)
    if case in SUBPROCESS_CASES:
        proc = subprocess.run(
            [sys.executable, "-m", "modelward", "validate", "--repo", str(repo)],
            capture_output=True,
            text=True,
        )
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    else:
        result = CliRunner().invoke(main, ["validate", "--repo", str(repo)])
        code, stdout, stderr = result.exit_code, result.stdout, result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert code == 2
    assert stderr.splitlines() == expected_lines(case)
    assert stdout == ""
    assert "Traceback" not in stdout + stderr
    assert snapshot(repo) == before
