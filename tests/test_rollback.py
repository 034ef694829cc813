"""Rollback is a revert: the stage map is the desired state, so reverting the pull request
that moved production assigns the earlier version again, from its registered evidence.

The scenario of issue 8: 1.1.0 goes to staging and then production; 1.2.0 goes to
staging and then production; `git revert -m 1` of the last merge. After promote,
production is 1.1.0 again, `status` is Synced and `audit` shows the reassignment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GitRepo, cli
from helpers_flow import (
    CHURN,
    audit_json,
    fresh_clone,
    merge,
    open_pr,
    origin_tags,
    promote,
    pushed_example,
    status_of,
)

OWNERS = ("bob", "dave")  # two of churn's owners: production needs two approvals


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return pushed_example(tmp_path)


def land(repo: GitRepo, branch: str, number: int, **kw: object) -> None:
    """Open, judge, merge (a real merge with the approvals) and promote one change."""
    open_pr(repo, branch, number, approvers=OWNERS, **kw)  # type: ignore[arg-type]
    before = merge(repo, branch, number, approvers=OWNERS)
    result = promote(repo, before)
    assert result.exit_code == 0, result.output
    assert "BYPASS" not in result.stdout, result.stdout


def test_reverting_the_merge_that_moved_production_puts_the_old_version_back(
    repo: GitRepo, tmp_path: Path
) -> None:
    land(repo, "c110", 1, change={CHURN: {"version": "1.1.0", "stages": "{staging: 1.1.0}"}})
    land(repo, "c110-prod", 2, change={CHURN: {"stages": "{staging: 1.1.0, production: 1.1.0}"}})
    retune = {
        "version": "1.2.0",
        "stages": "{staging: 1.2.0, production: 1.1.0}",
        "  params": "{max_iter: 200, learning_rate: 0.05, max_leaf_nodes: 15, random_state: 1}",
    }
    land(repo, "c120", 3, change={CHURN: retune})
    land(repo, "c120-prod", 4, change={CHURN: {"stages": "{staging: 1.2.0, production: 1.2.0}"}})
    assert status_of(repo.path, "churn")["actual"] == {"staging": "1.2.0", "production": "1.2.0"}
    bad_merge = repo.head()

    open_pr(repo, "rollback", 5, revert=bad_merge, approvers=OWNERS)
    assert "production: 1.1.0" in (repo.path / CHURN).read_text()
    before = merge(repo, "rollback", 5, approvers=OWNERS)
    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert "churn v1.1.0 -> production: created churn#production#" in result.stdout
    assert "BYPASS" not in result.stdout
    new_tag = next(t for t in result.stdout.split() if t.startswith("churn#production#"))
    assert new_tag in origin_tags(repo)
    # nothing was retrained or registered: 1.1.0 comes from its registered evidence
    assert {t for t in origin_tags(repo) if "@v" in t} == {"churn@v1.1.0", "churn@v1.2.0"}
    assert repo.git("rev-list", "-n1", new_tag) == repo.git("rev-list", "-n1", "churn@v1.1.0")

    clone = tmp_path / "auditor"
    fresh_clone(repo, clone)
    status = status_of(clone, "churn")
    assert status["status"] == "Synced", status
    assert status["actual"] == {"staging": "1.2.0", "production": "1.1.0"}

    history = json.loads(cli("audit", "churn", "--repo", clone, "--format", "json").stdout)
    production = [
        (e["version"], e["evidence"]["pr_number"])
        for e in history["models"]["churn"]["events"]
        if e["event"] == "assign" and e["stage"] == "production"
    ]
    assert production == [("1.1.0", 2), ("1.2.0", 4), ("1.1.0", 5)]  # history only grows
    # (the artifacts live in the runner's store, so verification runs where they are)
    code, verified = audit_json(repo.path)
    assert code == 0, verified["verification"]
