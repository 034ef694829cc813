"""modelward: GitOps for machine-learning models."""

from __future__ import annotations

import os
import sys


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _from_dist_info_name() or _from_metadata()
    raise AttributeError(f"module 'modelward' has no attribute {name!r}")


def _from_dist_info_name() -> str | None:
    """The version in the name of the installed `modelward-VERSION.dist-info` folder.

    importlib.metadata costs ~40 ms at start-up (a no-model pull request spends ~0.4 s in
    all); the installer writes the version into the folder's name. This takes the first
    sys.path entry that holds modelward's metadata, as importlib.metadata does, and
    gives up (None) on anything else it might read there: an egg-info, two folders, a
    zip file on the path."""
    for entry in sys.path:
        folder = entry or "."
        if os.path.isfile(folder):
            return None  # a zip archive: importlib.metadata looks inside
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        ours = [n for n in names if _is_metadata_of_modelward(n)]
        if not ours:
            continue
        if len(ours) == 1 and ours[0].startswith("modelward-") and ours[0].endswith(".dist-info"):
            return ours[0][len("modelward-") : -len(".dist-info")]
        return None
    return None


def _is_metadata_of_modelward(name: str) -> bool:
    lower = name.lower()
    if not lower.endswith((".dist-info", ".egg-info", ".egg")):
        return False
    return lower.startswith("modelward") and lower[len("modelward") : len("modelward") + 1] in (
        "-",
        ".",
    )


def _from_metadata() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modelward")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0"
