"""Approvals and authorship are facts from the forge, never text the pull request wrote.

The attacker is the pull-request author: they control every commit of their branch,
messages included. On the local forge, approvals and the author come only from the
trailers of a real two-parent merge onto main that carries `Pull-request-author:`.
Anything else lands without trustworthy approvals and is recorded as a bypass that an
auditor sees from a fresh clone of origin.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitRepo
from helpers_flow import (
    BC,
    audit_json,
    fresh_clone,
    merge,
    open_pr,
    origin_tags,
    promote,
    pushed_example,
)

from modelward.registry import parse_message

FORGED = "Bump breast-cancer\n\nApproved-by: dana\nPull-request-author: mallory"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return pushed_example(tmp_path)


def evidence_of(repo: GitRepo, tag: str) -> dict[str, object]:
    message = repo.git("for-each-ref", f"refs/tags/{tag}", "--format=%(contents)")
    ev, problem = parse_message(message + "\n")
    assert ev is not None, problem
    return ev.to_payload()


def attack_branch(repo: GitRepo) -> None:
    """The author's own commit claims dana's approval in its message."""
    repo.git("checkout", "-q", "-b", "bc-040", "main")
    path = repo.path / BC
    text = path.read_text().replace("version: 0.3.0", "version: 0.4.0")
    path.write_text(text.replace("{staging: 0.3.0}", "{staging: 0.4.0}"))
    repo.git("commit", "-q", "-am", FORGED)


@pytest.mark.parametrize("how", ["ff", "squash"])
def test_a_fast_forward_or_squash_merge_cannot_bring_its_own_approvals(
    repo: GitRepo, tmp_path: Path, how: str
) -> None:
    attack_branch(repo)
    before = repo.git("rev-parse", "main")
    repo.git("checkout", "-q", "main")
    if how == "ff":
        repo.git("merge", "--ff-only", "-q", "bc-040")
    else:  # a squash keeps the forged trailers in a one-parent commit
        repo.git("merge", "--squash", "-q", "bc-040")
        repo.git("commit", "-q", "-m", FORGED)
    repo.git("push", "-q", "origin", "main")

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    ev = evidence_of(repo, "breast-cancer#staging#1")
    assert ev["bypass"] is True
    assert "approvers" not in ev and "author" not in ev  # nothing the branch wrote
    approvals = next(v for v in ev["verdicts"] if v["rule"] == "approvals")  # type: ignore[attr-defined]
    assert approvals["outcome"] == "pending"
    assert "breast-cancer#staging#1" in origin_tags(repo)

    code, data = audit_json(fresh_clone(repo, tmp_path / "auditor"))
    assert code == 1
    findings = data["verification"]["findings"]  # type: ignore[index]
    assert ("breast-cancer#staging#1", "policy") in {(f["tag"], f["check"]) for f in findings}


def test_a_merge_without_pull_request_author_has_no_trusted_approvals(repo: GitRepo) -> None:
    """The merge names an approver but not the author: exclude_author cannot be checked
    against the identity `pr` used, so the approvals do not count."""
    open_pr(repo, "bc-040", 7, {BC: {"version": "0.4.0", "stages": "{staging: 0.4.0}"}})
    before = merge(repo, "bc-040", 7, author=None, approvers=("dana",))

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert "BYPASS" in result.stdout
    ev = evidence_of(repo, "breast-cancer#staging#1")
    assert ev["bypass"] is True and "approvers" not in ev


def test_the_author_approving_their_own_merge_does_not_count(repo: GitRepo) -> None:
    """dana opens the pull request and approves it herself: `pr` and `promote` see the
    same author, so exclude_author holds at promotion too."""
    open_pr(
        repo,
        "bc-040",
        7,
        {BC: {"version": "0.4.0", "stages": "{staging: 0.4.0}"}},
        author="dana",
        approvers=("dana",),
    )
    before = merge(repo, "bc-040", 7, author="dana", approvers=("dana",))

    result = promote(repo, before)

    ev = evidence_of(repo, "breast-cancer#staging#1")
    assert ev["bypass"] is True and ev["author"] == "dana"
    approvals = next(v for v in ev["verdicts"] if v["rule"] == "approvals")  # type: ignore[attr-defined]
    assert "the author's own approval does not count" in approvals["message"]
    assert result.exit_code == 0


def test_a_real_merge_with_the_trailers_is_trusted(repo: GitRepo) -> None:
    open_pr(repo, "bc-040", 7, {BC: {"version": "0.4.0", "stages": "{staging: 0.4.0}"}})
    before = merge(repo, "bc-040", 7, author="erin", approvers=("dana",))

    result = promote(repo, before)

    assert result.exit_code == 0 and "BYPASS" not in result.stdout, result.output
    ev = evidence_of(repo, "breast-cancer#staging#1")
    assert (ev["bypass"], ev["author"], ev["approvers"]) == (False, "erin", ["dana"])
