"""`.modelward/`: the bot's own state in a checkout (caches, artifact store, reports).

A module of its own, free of schemas, so that light paths (the local forge on a pull
request that touches no model) can find it without importing pydantic.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".modelward"


def state_dir(root: Path) -> Path:
    """`.modelward/` with a `.gitignore` of `*`, so caches, stores and reports never get
    committed by accident, whatever the repository's own .gitignore says."""
    folder = Path(root) / STATE_DIR
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        ignore.write_text("*\n")
    return folder
