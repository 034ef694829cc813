"""Where reports, statuses, approvals and releases live: GitHub, or files and stdout.

`FORGES` maps a name to a lazily imported class (PyGithub is imported only when the
GitHub forge is chosen). `auto` is `github` inside GitHub Actions with a token, else
`local`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

FORGES: dict[str, str] = {
    "local": "modelward.forge.local:LocalForge",
    "github": "modelward.forge.github:GitHubForge",
}
CHOICES = ("auto", *FORGES)


def resolve_name(name: str, env: Mapping[str, str]) -> str:
    """`auto` -> github when GITHUB_ACTIONS=true and a token exist, else local."""
    if name != "auto":
        return name
    from ..ci_context import in_actions, token_from

    return "github" if in_actions(env) and token_from(env) else "local"


def forge_class(name: str) -> Any:
    module, _, attr = FORGES[name].partition(":")
    return getattr(importlib.import_module(module), attr)
