"""The governance files as they stand at a git ref: modelward.yaml, policies, waivers.

A pull request is judged by the policies of its BASE ref, never by the ones it brings
(a pull request cannot relax the rules that judge it), and an audit re-evaluates a
promotion by the policies as they stood at that commit. Both read them here: from git
objects (`git ls-tree` + one `git cat-file --batch`), never from the work tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from . import git
from .changes import resolve
from .errors import InvalidInput, Problem
from .manifest import Config, Policy, Record, Waivers, parse
from .workspace import CONFIG_FILE, Loaded, Workspace, check
from .yamlio import load_bytes

R = TypeVar("R", bound=Record)

POLICY_DIR = "policies"
WAIVERS_STEM = "waivers"


@dataclass(frozen=True)
class Governance:
    """Config, policies (by file stem) and waivers, validated, as of one commit."""

    config: Config
    policies: dict[str, Loaded[Policy]]
    waivers: Loaded[Waivers] | None


def governance_files(repo: Path, ref: str) -> list[str]:
    """modelward.yaml (if present) and policies/*.yaml|yml at `ref`, sorted."""
    paths = git.ls_tree(repo, ref, [CONFIG_FILE, POLICY_DIR])
    return sorted(
        p
        for p in paths
        if p == CONFIG_FILE
        or (
            p.count("/") == 1
            and p.startswith(f"{POLICY_DIR}/")
            and p.endswith((".yaml", ".yml"))
            and not p.rsplit("/", 1)[1].startswith(".")
        )
    )


def governance_at(repo: Path, ref: str) -> Governance:
    """Load and cross-check the governance files committed at `ref`.

    Every problem (YAML, schema, cross-file: a policy's name, unknown stages, a waiver
    of an unknown policy) is collected into one InvalidInput naming file and line.
    An unknown ref is a UsageError (exit 2).
    """
    repo = git.toplevel(Path(repo))
    sha = resolve(repo, ref, "ref")
    paths = governance_files(repo, sha)
    blobs = git.read_blobs(repo, sha, paths)
    problems: list[Problem] = []

    config = Config.default()
    if CONFIG_FILE in blobs:
        loaded_config = _load(blobs[CONFIG_FILE], CONFIG_FILE, Config, problems)
        if loaded_config is not None:
            config = loaded_config.record
    policies: dict[str, Loaded[Policy]] = {}
    waivers: Loaded[Waivers] | None = None
    broken_policies = False
    for path in paths:
        if path == CONFIG_FILE or path not in blobs:
            continue
        stem = path.rsplit("/", 1)[1].rsplit(".", 1)[0]
        if stem == WAIVERS_STEM:
            waivers = _load(blobs[path], path, Waivers, problems)
            continue
        if stem in policies:
            problems.append(
                Problem(path, 1, "", f"policy {stem!r} is also defined in {policies[stem].path}")
            )
            continue
        loaded = _load(blobs[path], path, Policy, problems)
        if loaded is not None:
            policies[stem] = loaded
        else:
            broken_policies = True

    # waivers are checked against the policies only once every policy loads, so that a
    # broken policy is not reported a second time as "unknown policy" in waivers.yaml
    known = Workspace(
        root=repo,
        config=config,
        policies=dict(policies),
        waivers=None if broken_policies else waivers,
    )
    problems.extend(check(known))
    if problems:
        raise InvalidInput(problems)
    return Governance(config=config, policies=policies, waivers=waivers)


def _load(raw: bytes, path: str, schema: type[R], problems: list[Problem]) -> Loaded[R] | None:
    try:
        doc = load_bytes(raw, path)
        return Loaded(parse(doc, schema), doc)
    except InvalidInput as exc:
        problems.extend(exc.problems)
        return None
