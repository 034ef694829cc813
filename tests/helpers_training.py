"""Helpers shared by the training, evaluation and artifact tests."""

from __future__ import annotations

import re
from pathlib import Path

from modelward import workspace
from modelward.hashing import file_sha256


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def repin(root: Path, dataset: str) -> str:
    """Point the dataset's sha256 pin at the file's current content."""
    folder = root / "data" / dataset
    manifest = folder / "dataset.yaml"
    source = re.search(r"^source: (\S+)", manifest.read_text(), re.M)
    assert source is not None
    sha = file_sha256(folder / source.group(1))
    manifest.write_text(re.sub(r"^sha256: \w+", f"sha256: {sha}", manifest.read_text(), flags=re.M))
    return sha


def rewrite_column(path: Path, column: str, fn: object) -> None:
    """Rewrite one CSV column cell by cell with fn(row_index, value) -> value."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    at = header.index(column)
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        cells[at] = fn(i, cells[at])  # type: ignore[operator]
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")


def store_dir(root: Path) -> Path:
    return root / ".modelward" / "artifacts"


def store_files(root: Path) -> list[str]:
    folder = store_dir(root)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def load(root: Path) -> workspace.Workspace:
    return workspace.load(root)
