"""A Jinja extension that tells the hooks where the template repository is.

cookiecutter passes `_repo_dir` as the user typed it (often "."), relative to a
directory the hooks, which run inside the new project, cannot see. This module lives
in the template repository, so its own path is the answer, resolved when cookiecutter
imports it (listed in `_extensions` of cookiecutter.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2.ext import Extension

ROOT = Path(__file__).resolve().parent.parent


class TemplateRoot(Extension):
    """Adds `modelward_template_root`: the template repository's absolute path."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.globals["modelward_template_root"] = str(ROOT)
