"""Pull requests and merges on real repositories with a bare origin, for the flow tests.

A pull request is a branch off main; `open_pr` runs `modelward pr` on it (which saves the
report promotion cross-checks); `merge` lands it on main the way a forge would (a
two-parent merge whose message carries the trailers) or the way an attacker with push
rights would (fast-forward, squash); `promote` runs `modelward promote`; `fresh_clone`
is what an auditor starts from.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Literal

from click.testing import Result
from conftest import GitRepo, cli, make_repo

CHURN = "models/churn/model.yaml"
BC = "models/breast-cancer/model.yaml"


def pushed_example(tmp_path: Path) -> GitRepo:
    """The example repository with `.modelward/` kept out of git, pushed to its origin."""
    r = make_repo(tmp_path)
    r.commit("Keep modelward's work files out of git", {".gitignore": ".modelward/\n"})
    r.git("push", "-q", "origin", "main")
    return r


def set_fields(repo: GitRepo, manifest: str, **fields: str) -> None:
    """Top-level fields of a manifest; `stages` replaces the whole map (block or flow)."""
    path = repo.path / manifest
    text = path.read_text()
    for key, value in fields.items():
        if key == "stages":
            text, n = re.subn(r"^stages:.*\n(?:  .*\n)*", f"stages: {value}\n", text, flags=re.M)
        else:
            text, n = re.subn(rf"^{key}: .*$", f"{key}: {value}", text, count=1, flags=re.M)
        assert n == 1, f"{manifest} has no top-level {key}"
    path.write_text(text)


def open_pr(
    repo: GitRepo,
    branch: str,
    number: int,
    change: dict[str, dict[str, str]] | None = None,
    *,
    files: dict[str, str] | None = None,
    author: str = "erin",
    approvers: tuple[str, ...] = (),
    revert: str | None = None,
) -> Result:
    """A branch off main with the change, judged by `modelward pr`."""
    repo.git("checkout", "-q", "-b", branch, "main")
    if revert:
        repo.git("revert", "--no-edit", "-m", "1", revert)
    else:
        for manifest, fields in (change or {}).items():
            set_fields(repo, manifest, **fields)
        repo.commit(f"Change for pull request #{number}", files)
    args = ["pr", "--repo", repo.path, "--base", "main", "--author", author]
    args += ["--pr-number", str(number), "--format", "json"]
    for who in approvers:
        args += ["--approved-by", who]
    result = cli(*args)
    assert result.exit_code in (0, 1), result.output
    return result


def merge(
    repo: GitRepo,
    branch: str,
    number: int,
    *,
    author: str | None = "erin",
    approvers: tuple[str, ...] = (),
    how: Literal["merge", "ff", "squash"] = "merge",
) -> str:
    """Land the branch on main and push; returns main's commit before the merge."""
    before = repo.git("rev-parse", "main")
    repo.git("checkout", "-q", "main")
    trailers = [f"Approved-by: {who}" for who in approvers]
    if author is not None:
        trailers.append(f"Pull-request-author: {author}")
    message = f"Merge pull request #{number} from {author}/{branch}\n\n" + "\n".join(trailers)
    if how == "merge":
        repo.git("merge", "--no-ff", "-q", branch, "-m", message)
    elif how == "ff":
        repo.git("merge", "--ff-only", "-q", branch)
    else:
        repo.git("merge", "--squash", "-q", branch)
        repo.git("commit", "-q", "-m", f"Squashed pull request (#{number})\n\n" + message)
    repo.git("push", "-q", "origin", "main")
    return before


def promote(repo: GitRepo, before: str, *extra: str) -> Result:
    return cli("promote", "--repo", repo.path, "--before", before, *extra)


def origin_tags(repo: GitRepo) -> set[str]:
    out = repo.git("ls-remote", "--tags", "origin")
    return {
        line.split("\t")[1].removeprefix("refs/tags/")
        for line in out.splitlines()
        if not line.endswith("^{}")
    }


def fresh_clone(repo: GitRepo, where: Path) -> Path:
    """What an auditor has: a clone of the bare origin, tags included."""
    assert repo.origin is not None
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(where)], check=True)
    return where


def audit_json(path: Path) -> tuple[int, dict[str, object]]:
    result = cli("audit", "--repo", path, "--verify", "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def status_of(path: Path, model: str) -> dict[str, object]:
    data = json.loads(cli("status", "--repo", path, "--format", "json").stdout)
    found: dict[str, object] = next(m for m in data["models"] if m["model"] == model)
    return found
