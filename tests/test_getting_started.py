"""docs/getting-started.md works as written: its `sh` blocks run in order in an empty folder.

Each block runs in bash with `set -euo pipefail`, from the folder the previous block
ended in, with `modelward` on PATH running this checkout's sources. A block fenced
as ```` ```sh exit=N ```` must exit N; every other block must exit 0.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

GUIDE = ROOT / "docs" / "getting-started.md"
BLOCK_RE = re.compile(r"^```sh(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.M | re.S)

pytestmark = pytest.mark.slow


def blocks(text: str) -> list[tuple[int, str]]:
    """(expected exit code, script) of every ```sh block, in order."""
    out = []
    for match in BLOCK_RE.finditer(text):
        code = re.search(r"exit=(\d+)", match.group("info"))
        out.append((int(code.group(1)) if code else 0, match.group("body")))
    return out


def modelward_on_path(bin_dir: Path) -> None:
    """A `modelward` command that runs this checkout's sources with this interpreter."""
    bin_dir.mkdir()
    shim = bin_dir / "modelward"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m modelward "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)


def run_guide(workdir: Path, tmp_path: Path) -> list[str]:
    """Run every block; return each one's output. Fails at the first unexpected exit."""
    modelward_on_path(tmp_path / "bin")
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
    }
    # `python` in the guide is the interpreter that has scikit-learn
    python = tmp_path / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    cwd_file = tmp_path / "cwd"
    cwd_file.write_text(str(workdir))
    outputs = []
    for i, (expected, body) in enumerate(blocks(GUIDE.read_text()), start=1):
        script = f'set -euo pipefail\ncd "$(cat {cwd_file})"\n{body}\npwd > {cwd_file}\n'
        if expected:
            script = (
                f'set -uo pipefail\ncd "$(cat {cwd_file})"\n{body}\ncode=$?\n'
                f"pwd > {cwd_file}\nexit $code\n"
            )
        proc = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == expected, (
            f"block {i} exited {proc.returncode}, expected {expected}:\n{body}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
        outputs.append(proc.stdout)
    return outputs


def test_the_guide_has_runnable_blocks_for_every_step() -> None:
    scripts = "\n".join(body for _, body in blocks(GUIDE.read_text()))
    for command in ("check-data", "validate", "train", "pr", "promote", "status", "audit"):
        assert re.search(rf"^modelward {command}\b", scripts, re.M), command
    assert "git revert" in scripts


def test_the_getting_started_guide_runs_from_an_empty_folder(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    outputs = run_guide(work, tmp_path)
    repo = work / "tumours-repo"

    tags = subprocess.run(
        ["git", "ls-remote", "--tags", str(work / "origin.git")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split("refs/tags/")[1] for line in tags.splitlines() if "^{}" not in line}
    assert {"tumours@v1.0.0", "tumours@v1.1.0"} <= names
    assert len([n for n in names if n.startswith("tumours#production#")]) == 3
    assert "Synced" in outputs[-2]  # status after the rollback
    history = json.loads((work / "audit.json").read_text())
    production = [
        e["version"]
        for e in history["models"]["tumours"]["events"]
        if e["event"] == "assign" and e["stage"] == "production"
    ]
    assert production == ["1.0.0", "1.1.0", "1.0.0"]
    assert (repo / ".modelward" / "artifacts").is_dir()
