"""Refuse template values that GitHub or git would refuse, before anything is written.

cookiecutter renders this file with the answers, runs it in the new project's folder
and deletes that folder when it exits non-zero, so a bad answer leaves nothing behind.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# GitHub: a login is 1-39 alphanumerics or single hyphens, not starting or ending with one;
# a team slug is lowercase alphanumerics, hyphens and underscores after '@org/'.
LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
TEAM = rf"@{LOGIN}/[A-Za-z0-9][A-Za-z0-9_.-]*"
OWNER = rf"(?:{TEAM}|@?{LOGIN})"
REPO_SLUG = r"[A-Za-z0-9._-]{1,100}"
PYTHON = r"3\.[0-9]{1,2}"
# a pip requirement for modelward, pinned; no spaces, quotes or shell characters because
# it is written into the workflows
REQUIREMENT = r"modelward(?:\[[a-z0-9,_-]+\])?(?:===?|~=)[0-9][0-9A-Za-z.+!-]*"


def problems(answers: dict[str, str]) -> list[str]:
    found: list[str] = []

    def check(name: str, ok: bool, why: str) -> None:
        if not ok:
            found.append(f"{name}: {answers.get(name)!r}: {why}")

    slug = str(answers.get("repo_slug", ""))
    check(
        "repo_slug",
        re.fullmatch(REPO_SLUG, slug) is not None
        and slug not in (".", "..")
        and not slug.lower().endswith(".git"),
        "a GitHub repository name is 1-100 letters, digits, '.', '-' or '_' "
        "(no spaces, not '.', '..' or ending in '.git')",
    )
    check(
        "github_owner",
        re.fullmatch(LOGIN, str(answers.get("github_owner", ""))) is not None,
        "a GitHub user or organisation is 1-39 letters, digits or single hyphens, "
        "not starting or ending with a hyphen",
    )
    check(
        "governance_team",
        re.fullmatch(OWNER, str(answers.get("governance_team", ""))) is not None,
        "expected a team as @org/team-slug or a GitHub login",
    )
    owners = str(answers.get("model_owners", "")).replace(",", " ").split()
    check(
        "model_owners",
        bool(owners) and all(re.fullmatch(OWNER, o) for o in owners),
        "expected one or more teams (@org/team-slug) or GitHub logins, space-separated",
    )
    branch = str(answers.get("default_branch", ""))
    check("default_branch", valid_branch(branch), "git refuses this branch name")
    check(
        "python_version",
        re.fullmatch(PYTHON, str(answers.get("python_version", ""))) is not None,
        "expected a Python 3 version such as 3.11",
    )
    check(
        "include_examples",
        answers.get("include_examples") in ("yes", "no"),
        "expected yes or no",
    )
    check(
        "modelward_requirement",
        re.fullmatch(REQUIREMENT, str(answers.get("modelward_requirement", ""))) is not None,
        "expected a pinned requirement such as modelward==0.1.0",
    )
    check(
        "modelward_repo",
        re.fullmatch(r"(?:https://|git@|file://)[^\s'\"]+", str(answers.get("modelward_repo", "")))
        is not None,
        "expected the git URL of modelward (https://..., git@... or file://...)",
    )
    return found


def valid_branch(name: str) -> bool:
    """`git check-ref-format --branch`, git's own rule, on a YAML-safe alphabet."""
    # letters, digits, '.', '_', '-', '/' only: the name is written into YAML unquoted
    if not re.fullmatch(r"[A-Za-z0-9._/-]+", name) or name.startswith("-"):
        return False
    proc = subprocess.run(
        ["git", "check-ref-format", "--branch", name], capture_output=True, text=True
    )
    return proc.returncode == 0


def main() -> int:
    found = problems(ANSWERS)
    if not found:
        return 0
    print("modelward template: invalid answers, nothing was generated:", file=sys.stderr)
    for line in found:
        print(f"  {line}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
