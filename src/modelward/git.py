"""Thin, typed access to the git command line: the registry, the diff and the base branch.

Every call goes through `run`, which turns a failing git into a GitError (exit 3) that
quotes git's own message.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import GitError

NULL_SHA = "0" * 40


def run(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> str:
    """Run git in `repo` and return its stdout as text."""
    return run_bytes(repo, *args, input=input, check=check).decode("utf-8", "replace")


def run_bytes(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=repo, input=input, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise GitError(args, "git is not installed or not on PATH") from None
    except NotADirectoryError:
        raise GitError(args, f"{repo} is not a directory") from None
    if check and proc.returncode != 0:
        raise GitError(args, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def rev_parse(repo: Path, ref: str) -> str:
    """Full commit sha of `ref`."""
    return run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()


def merge_base(repo: Path, a: str, b: str) -> str:
    return run(repo, "merge-base", a, b).strip()


def show(repo: Path, ref: str, path: str) -> bytes | None:
    """Content of `path` at `ref`, or None when it does not exist there."""
    proc = subprocess.run(
        ["git", "cat-file", "blob", f"{ref}:{path}"], cwd=repo, capture_output=True, check=False
    )
    if proc.returncode != 0:
        # distinguish "no such path" from "no such ref"
        rev_parse(repo, ref)
        return None
    return proc.stdout


def ls_tree(repo: Path, ref: str, paths: Sequence[str] = ()) -> list[str]:
    """File paths at `ref` (recursively), optionally limited to `paths` prefixes."""
    out = run(repo, "ls-tree", "-r", "--name-only", "-z", ref, "--", *paths)
    return [p for p in out.split("\0") if p]


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    proc = subprocess.run(
        ["git", "merge-base", "--is-ancestor", ancestor, descendant],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise GitError(("merge-base", "--is-ancestor", ancestor, descendant), proc.stderr.decode())
    return proc.returncode == 0


def toplevel(path: Path) -> Path:
    return Path(run(path, "rev-parse", "--show-toplevel").strip())
