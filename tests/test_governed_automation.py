"""The automation is governed like the rules: a pull request that changes `.github/`
(workflows, CODEOWNERS) needs the approval of governance.owners, and a merge without it
is recorded as a bypass.

A same-repository pull request runs its own version of the workflow that judges it, so
the attacker here is the author who rewrites that workflow in the branch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, GitRepo, cli, make_repo

from modelward.changes import is_governance_file, plan
from modelward.report import extract_data

WORKFLOW = ".github/workflows/modelward-pr.yml"
# the author's edit: the judge step now claims two approvals it never got
FORGED = "modelward pr --approved-by bob --approved-by dave"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = make_repo(tmp_path)
    workflow = (ROOT / WORKFLOW).read_text()
    r.commit("Add the bot's workflows", {WORKFLOW: workflow, ".gitignore": ".modelward/\n"})
    r.git("push", "-q", "origin", "main")
    return r


def rewrite_the_judge(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "always-green")
    text = (repo.path / WORKFLOW).read_text()
    assert "modelward pr --base" in text
    repo.commit(
        "Speed up CI",
        {
            WORKFLOW: text.replace("modelward pr --base", f"{FORGED} --base"),
            ".github/CODEOWNERS": "* @erin\n",
        },
    )


@pytest.mark.parametrize(
    ("path", "governed"),
    [
        (".github/workflows/modelward-pr.yml", True),
        (".github/CODEOWNERS", True),
        ("CODEOWNERS", True),
        ("docs/CODEOWNERS", True),
        ("./.github/dependabot.yml", True),
        ("policies/staging.yaml", True),
        ("modelward.yaml", True),
        ("models/churn/model.yaml", False),
        ("github/workflows/x.yml", False),
        ("README.md", False),
    ],
)
def test_which_paths_are_governance_files(path: str, governed: bool) -> None:
    assert is_governance_file(path) is governed


def test_the_plan_lists_workflow_and_codeowners_changes_as_governance(repo: GitRepo) -> None:
    rewrite_the_judge(repo)

    result = plan(repo.path, "main", "HEAD")

    assert result.governance_files == (".github/CODEOWNERS", WORKFLOW)
    assert result.models == ()


def test_an_unapproved_workflow_change_is_pending_and_blocks(repo: GitRepo) -> None:
    rewrite_the_judge(repo)

    result = cli("pr", "--repo", repo.path, "--base", "main", "--author", "erin")

    assert result.exit_code == 1, result.output
    data = extract_data(result.output)
    assert data is not None
    assert data["summary"] == "pending"
    [verdict] = data["governance"]
    assert verdict["rule"] == "governance" and verdict["status"] == "pending"
    assert ".github/CODEOWNERS" in verdict["reason"] and WORKFLOW in verdict["reason"]


def test_only_a_governance_owner_other_than_the_author_approves_it(repo: GitRepo) -> None:
    rewrite_the_judge(repo)
    args = ("pr", "--repo", repo.path, "--base", "main", "--author", "erin")

    by_model_owners = cli(*args, "--approved-by", "bob", "--approved-by", "dave")
    by_governance = cli(*args, "--approved-by", "carol")

    assert by_model_owners.exit_code == 1, "model owners do not govern the automation"
    assert by_governance.exit_code == 0, by_governance.output


def test_a_workflow_change_merged_without_governance_approval_is_a_bypass(repo: GitRepo) -> None:
    before = repo.git("rev-parse", "main")
    rewrite_the_judge(repo)
    repo.git("checkout", "-q", "main")
    message = "Merge pull request #5 from erin/always-green\n\nApproved-by: bob"
    repo.git("merge", "--no-ff", "-q", "always-green", "-m", message)
    repo.git("push", "-q", "origin", "main")

    result = cli("promote", "--repo", repo.path, "--before", before, "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [bypass] = data["governance_bypass"]
    assert bypass.startswith("modelward.yaml/governance: ") and WORKFLOW in bypass
    assert "recorded as a bypass" in result.stderr
