"""Thin, typed access to the git command line: the registry, the diff and the base branch.

Every call goes through `run`, which turns a failing git into a GitError (exit 3) that
quotes git's own message.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import GitError, UsageError

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
        if not Path(repo).is_dir():
            raise UsageError(f"{repo} does not exist") from None
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


# ---- batch reads (changes, governance): one git process for many files


_BATCH_HEADER = re.compile(rb"[0-9a-f]{40,64} ([a-z]+) ([0-9]+)")


def read_blobs(repo: Path, ref: str, paths: Sequence[str]) -> dict[str, bytes]:
    """Contents of the files `paths` at `ref`; paths that are not files there are left out.

    Two git processes whatever the number of paths: `git ls-tree` finds the blob ids and
    one `git cat-file --batch` reads them. (Asking cat-file for `ref:path` instead
    re-reads the parent tree per path: quadratic in a folder of thousands of models.)
    """
    wanted = set(paths)
    oids: dict[str, str] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 1000):  # keep the command line short
        out = run(
            repo, "ls-tree", "-r", "-z", "--full-tree", ref, "--", *ordered[start : start + 1000]
        )
        for entry in out.split("\0"):
            meta, _, path = entry.partition("\t")
            fields = meta.split()
            if len(fields) == 3 and fields[1] == "blob" and path in wanted:
                oids[path] = fields[2]
    if not oids:
        return {}
    names = list(oids)
    request = "".join(f"{oids[name]}\n" for name in names).encode()
    out_bytes = run_bytes(repo, "cat-file", "--batch", input=request)
    found: dict[str, bytes] = {}
    pos = 0
    for name in names:
        end = out_bytes.index(b"\n", pos)
        line = out_bytes[pos:end]
        header = _BATCH_HEADER.fullmatch(line)
        pos = end + 1
        if header is None:
            raise GitError(("cat-file", "--batch"), f"unexpected reply for {name}: {line!r}")
        size = int(header[2])
        found[name] = out_bytes[pos : pos + size]
        pos += size + 1
    return found


def grep_files(
    repo: Path,
    ref: str,
    patterns: Sequence[str],
    pathspecs: Sequence[str],
    *,
    extended: bool = False,
) -> list[str]:
    """Paths at `ref` (within `pathspecs`) with a line matching any of `patterns`.

    Fixed strings matched as whole words by default; `extended=True` takes POSIX
    extended regular expressions as they are (the caller draws the word boundaries)."""
    if not patterns:
        return []
    args = ["grep", "-l", "-z", "-I", "--no-color"]
    args += ["-E"] if extended else ["-F", "-w"]
    for pattern in patterns:
        args += ["-e", pattern]
    args += [ref, "--", *pathspecs]
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    if proc.returncode == 1 and not proc.stderr:  # no match
        return []
    if proc.returncode != 0:
        raise GitError(args, proc.stderr.decode("utf-8", "replace"))
    prefix = f"{ref}:"
    return [p.removeprefix(prefix) for p in proc.stdout.decode("utf-8", "replace").split("\0") if p]


_ERE_SPECIAL = re.compile(r"([.\[\](){}*+?|^$\\])")


def ere_literal(text: str) -> str:
    """`text` as a POSIX extended regular expression that matches exactly it."""
    return _ERE_SPECIAL.sub(r"\\\1", text)
