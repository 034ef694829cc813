"""Where the repository is: the nearest folder at or above a path holding modelward.yaml.

Every command takes `--repo DIR` (default: the current directory) and works on the
repository that contains DIR, found the way git finds its own: walking up the parents
until one holds the marker file.
"""

from __future__ import annotations

from pathlib import Path

from .errors import UsageError

CONFIG_FILE = "modelward.yaml"


def find_root(start: Path) -> Path:
    """The folder at or above `start` that holds modelward.yaml.

    A `start` that does not exist, or is not a folder, or has no modelward.yaml in
    itself or any parent is a UsageError (exit 2) that says which."""
    start = Path(start)
    if not start.exists():
        raise UsageError(f"--repo {start}: no such directory")
    if not start.is_dir():
        raise UsageError(f"--repo {start}: not a directory")
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise UsageError(f"not a modelward repository (no {CONFIG_FILE} in {here} or any parent)")
