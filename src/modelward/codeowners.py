"""CODEOWNERS: who owns a path, with GitHub's rule that the last matching pattern wins.

GitHub reads the first of `.github/CODEOWNERS`, `CODEOWNERS` and `docs/CODEOWNERS`; the
caller reads it from the pull request's **base** ref, so a pull request cannot name its
own owners.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return compile_pattern(self.pattern)


def parse(text: str) -> list[Rule]:
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        pattern, *owners = line.split()
        rules.append(Rule(pattern.replace("\\#", "#"), tuple(owners), number))
    return rules


def owners_of(rules: Sequence[Rule], path: str) -> tuple[str, ...]:
    """The owners of `path` (repository-relative, forward slashes): the last match wins."""
    path = path.lstrip("/")
    for rule in reversed(rules):
        if rule.regex.search(path):
            return rule.owners
    return ()


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A gitignore-style CODEOWNERS pattern as a regular expression over a path."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("/.*")
            i += 3
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    prefix = "^" if anchored else "(?:^|/)"
    # a pattern matches the path itself or anything below it (a directory)
    suffix = "/" if directory else "(?:$|/)"
    return re.compile(prefix + "".join(out) + suffix)


def at_ref(repo: Path, ref: str) -> tuple[Rule, ...]:
    """The CODEOWNERS rules at `ref`: the first of LOCATIONS that exists, as GitHub reads."""
    from . import git

    blobs = git.read_blobs(repo, ref, list(LOCATIONS))
    for location in LOCATIONS:
        if location in blobs:
            return tuple(parse(blobs[location].decode("utf-8", errors="replace")))
    return ()
