"""GitHub's OpenAPI description, fetched by package name and patched where it is wrong.

The description is the npm package `@octokit/openapi`, file `generated/api.github.com.json`,
at the pinned version below. `ensure_spec` fetches it with `npm pack` into a cache folder
(`.cache/github/` at the repository root, or $MODELWARD_SPEC_CACHE) and keeps only that
file. The webhook examples come the same way from `@octokit/webhooks-examples`.

## Local patches (each one says why)

1. Error responses GitHub sends on every operation but the description leaves out
   (the class of omission tracked in github/rest-api-description): 403 (secondary rate limit, "Resource not
   accessible by integration"), 429 and 500/502/503/504 are added as `basic-error` to the
   operations the bot uses when they are not described. Without this, a documented
   behaviour of GitHub (its REST guidance on rate limits) could not be served at all.
2. `teams/list-members-in-org` describes only 200, but GitHub answers 403/404 when the
   token cannot see the team: 403 and 404 are added.
3. `repos/upload-release-asset` is served on its own host (`uploads.github.com`); the
   server rewrites the upload path before checking (no change to the description).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

OPENAPI_PACKAGE = "@octokit/openapi"
OPENAPI_VERSION = "23.0.2"
OPENAPI_FILE = "package/generated/api.github.com.json"
EXAMPLES_PACKAGE = "@octokit/webhooks-examples"
EXAMPLES_VERSION = "7.6.1"
EXAMPLES_FILE = "package/api.github.com/index.json"

ROOT = Path(__file__).resolve().parents[2]

# The operations the bot uses: patch 1 applies to these.
USED_OPERATIONS = {
    "repos/get",
    "pulls/get",
    "pulls/list",
    "pulls/create",
    "pulls/update",
    "issues/add-labels",
    "pulls/list-reviews",
    "issues/list-comments",
    "issues/create-comment",
    "issues/update-comment",
    "issues/delete-comment",
    "repos/create-commit-status",
    "checks/create",
    "checks/update",
    "repos/list-pull-requests-associated-with-commit",
    "repos/get-release-by-tag",
    "repos/create-release",
    "repos/list-release-assets",
    "repos/upload-release-asset",
    "teams/list-members-in-org",
    "repos/get-content",
}
EDGE_ERRORS = ("401", "403", "429", "500", "502", "503", "504")


class SpecUnavailable(RuntimeError):
    """The description could not be fetched (no npm, or no registry)."""


def cache_dir() -> Path:
    return Path(os.environ.get("MODELWARD_SPEC_CACHE") or ROOT / ".cache" / "github")


def _fetch(package: str, version: str, member: str, target: Path) -> Path:
    """`npm pack` the package into a temporary folder and keep only `member`."""
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise SpecUnavailable(f"npm is not installed; cannot fetch {package}@{version}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise SpecUnavailable(f"npm pack {package}@{version} failed: {proc.stderr.strip()}")
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            source = tar.extractfile(member)
            if source is None:
                raise SpecUnavailable(f"{package}@{version} has no {member}")
            partial = target.with_suffix(".partial")
            partial.write_bytes(source.read())
            partial.replace(target)
    return target


def spec_path() -> Path:
    return _fetch(
        OPENAPI_PACKAGE,
        OPENAPI_VERSION,
        OPENAPI_FILE,
        cache_dir() / f"api.github.com-{OPENAPI_VERSION}.json",
    )


def examples_path() -> Path:
    return _fetch(
        EXAMPLES_PACKAGE,
        EXAMPLES_VERSION,
        EXAMPLES_FILE,
        cache_dir() / f"webhooks-examples-{EXAMPLES_VERSION}.json",
    )


@cache
def raw_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(spec_path().read_text())
    _patch(spec)
    return spec


def _patch(spec: dict[str, Any]) -> None:
    error = {
        "description": "error (patched in: GitHub sends it, the description omits it)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}},
    }
    for item in spec["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or op.get("operationId") not in USED_OPERATIONS:
                continue
            for code in EDGE_ERRORS:  # patch 1
                op["responses"].setdefault(code, error)
            if op["operationId"] == "teams/list-members-in-org":  # patch 2
                op["responses"].setdefault("404", error)


@cache
def openapi() -> Any:
    from openapi_core import Config, OpenAPI

    # Full validation of the description takes ~24 s and it is GitHub's, not ours.
    return OpenAPI.from_dict(raw_spec(), config=Config(spec_validator_cls=None))


def example(name: str) -> Any:
    """A deep copy of `components/examples/<name>` (a response body GitHub documents)."""
    value = raw_spec()["components"]["examples"][name]["value"]
    return json.loads(json.dumps(value))


@cache
def _webhook_examples() -> dict[str, list[dict[str, Any]]]:
    data = json.loads(examples_path().read_text())
    return {e["name"]: e["examples"] for e in data}


def webhook_example(event: str, action: str | None = None) -> dict[str, Any]:
    """The first example payload of `event` (with `action`), as a fresh copy."""
    for payload in _webhook_examples()[event]:
        if action is None or payload.get("action") == action:
            return json.loads(json.dumps(payload))
    raise KeyError(f"{event}.{action}")
