"""`modelward promote`: a merge on the default branch becomes registry tags on origin.

Every test runs the real flow: a repository with a bare origin, a branch that changes a
manifest, `modelward pr` on that branch (it saves the report that promotion cross-checks),
a `--no-ff` merge whose message carries `Approved-by:` trailers, then `modelward promote`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from conftest import GitRepo, cli
from helpers_flow import pushed_example

from modelward.registry import parse_message

BC = "models/breast-cancer/model.yaml"
CHURN = "models/churn/model.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return pushed_example(tmp_path)


def set_fields(repo: GitRepo, manifest: str, **fields: str) -> None:
    path = repo.path / manifest
    text = path.read_text()
    for key, value in fields.items():
        if key == "stages":  # the whole map, block or flow style, becomes `stages: VALUE`
            text, n = re.subn(r"^stages:.*\n(?:  .*\n)*", f"stages: {value}\n", text, flags=re.M)
        else:
            text, n = re.subn(rf"^{key}: .*$", f"{key}: {value}", text, count=1, flags=re.M)
        assert n == 1, f"{manifest} has no top-level {key}"
    path.write_text(text)


def bump(version: str, stage: str = "staging") -> dict[str, str]:
    """A new version, asked for in `stage`."""
    return {"version": version, "stages": f"{{{stage}: {version}}}"}


def merge_pr(
    repo: GitRepo,
    branch: str,
    number: int,
    change: dict[str, dict[str, str]] | None = None,
    *,
    author: str = "erin",
    approvers: tuple[str, ...] = ("dana",),
    revert: str | None = None,
) -> str:
    """Open a pull request on `branch`, run `modelward pr` on it, merge it into main with
    Approved-by trailers and push. Returns the commit main was at before the merge."""
    before = repo.git("rev-parse", "main")
    repo.git("checkout", "-q", "-b", branch, "main")
    if revert:
        repo.git("revert", "--no-edit", "-m", "1", revert)
    else:
        for manifest, fields in (change or {}).items():
            set_fields(repo, manifest, **fields)
        repo.commit(f"Change for pull request #{number}")
    args = ["pr", "--repo", repo.path, "--base", "main", "--author", author]
    args += ["--pr-number", str(number)]
    for who in approvers:
        args += ["--approved-by", who]
    result = cli(*args)
    assert result.exit_code in (0, 1), result.output
    trailers = "\n".join(
        [*(f"Approved-by: {who}" for who in approvers), f"Pull-request-author: {author}"]
    )
    repo.git("checkout", "-q", "main")
    message = f"Merge pull request #{number} from {author}/{branch}\n\n{trailers}"
    repo.git("merge", "--no-ff", "-q", branch, "-m", message)
    repo.git("push", "-q", "origin", "main")
    return before


def promote(repo: GitRepo, before: str, *extra: str) -> Result:
    return cli("promote", "--repo", repo.path, "--before", before, *extra)


def origin_tags(repo: GitRepo) -> dict[str, str]:
    """Tag name -> tag object id, as origin has them."""
    out = repo.git("ls-remote", "--tags", "origin")
    tags = {}
    for line in out.splitlines():
        sha, ref = line.split("\t")
        if not ref.endswith("^{}"):
            tags[ref.removeprefix("refs/tags/")] = sha
    return tags


def payload(repo: GitRepo, tag: str) -> dict[str, object]:
    message = repo.git("for-each-ref", f"refs/tags/{tag}", "--format=%(contents)")
    evidence, problem = parse_message(message + "\n")
    assert evidence is not None, problem
    return evidence.to_payload()


def saved_report(repo: GitRepo, head: str) -> Path:
    return repo.path / ".modelward" / "reports" / f"{head}.json"


# ---------------------------------------------------------------- a new version


def test_promotion_of_a_new_version_tags_origin_and_publishes_the_release(
    repo: GitRepo,
) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    merge = repo.head()
    head = repo.git("rev-parse", "bc-040")

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"promote {before[:12]}..{merge[:12]} (PR #7)",
        "  breast-cancer v0.4.0 -> staging: created breast-cancer@v0.4.0, breast-cancer#staging#1",
    ]
    assert set(origin_tags(repo)) == {"breast-cancer@v0.4.0", "breast-cancer#staging#1"}
    assert repo.git("rev-list", "-n1", "breast-cancer#staging#1") == merge
    report = json.loads(saved_report(repo, head).read_text())["models"][0]
    ev = payload(repo, "breast-cancer#staging#1")
    assert ev["action"] == "assign" and ev["stage"] == "staging"
    assert ev["metrics"] == {m["name"]: m["candidate"] for m in report["metrics"]}
    assert ev["approvers"] == ["dana"]
    assert ev["author"] == "erin"  # the merge commit's Pull-request-author: trailer
    assert ev["pr_number"] == 7
    assert ev["merge_commit"] == merge
    assert ev["bypass"] is False
    assert ev["data_sha256"] == report["hashes"]["data_sha256"]
    assert ev["artifact_sha256"] == report["hashes"]["artifact_sha256"]
    location = str(ev["artifact_location"])
    assert location.startswith(".modelward/artifacts/")  # relative: the same on every clone
    assert {(v["rule"], v["outcome"]) for v in ev["verdicts"]} == {  # type: ignore[attr-defined]
        ("data_checks_pass", "pass"),
        ("required_card_fields", "pass"),
        ("allowed_estimators", "pass"),
        ("approvals", "pass"),
        ("version_bump", "pass"),
    }
    assert payload(repo, "breast-cancer@v0.4.0")["action"] == "register"
    release = repo.path / ".modelward" / "releases" / "breast-cancer@v0.4.0"
    assert sorted(p.name for p in release.iterdir()) == [
        "MODEL_CARD.md",
        "RELEASE.md",
        "metrics.json",
        "model.joblib",
    ]
    assert (release / "model.joblib").read_bytes() == (repo.path / location).read_bytes()
    assert (release / "MODEL_CARD.md").read_text().startswith("# Model card: breast-cancer 0.4.0\n")
    comment = (repo.path / ".modelward" / "comments" / "pr-7.md").read_text()
    assert "`breast-cancer@v0.4.0`, `breast-cancer#staging#1`" in comment


def test_a_rerun_on_the_same_range_creates_nothing(repo: GitRepo) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    assert promote(repo, before).exit_code == 0
    tags = origin_tags(repo)

    again = promote(repo, before)

    assert again.exit_code == 0, again.output
    assert "breast-cancer v0.4.0 -> staging: created nothing new" in again.stdout
    assert origin_tags(repo) == tags  # the very same tag objects
    assert (
        json.loads(promote(repo, before, "--format", "json").stdout)["promotions"][0]["created"]
        == []
    )


def test_a_merge_that_changes_no_version_or_stage_promotes_nothing(repo: GitRepo) -> None:
    before = merge_pr(repo, "docs", 8, {BC: {"description": "Flags suspicious aspirates."}})

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert "skipped breast-cancer: stage map unchanged" in result.stdout
    assert origin_tags(repo) == {}


# ---------------------------------------------------------------- stage order and bypass


def test_straight_to_production_is_a_bypass_and_staging_first_is_not(repo: GitRepo) -> None:
    before = merge_pr(
        repo,
        "churn-prod",
        3,
        {CHURN: {"version": "1.1.0", "stages": "{production: 1.1.0}"}},
        author="alice",
        approvers=("bob", "dave"),
    )

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert "warning: a merge went in over a blocking policy; recorded as a bypass" in result.stderr
    assert (
        "BYPASS: modelward.yaml/promotes_from: version 1.1.0 has never been in staging; "
        "production takes only versions from staging"
    ) in result.stdout
    ev = payload(repo, "churn#production#1")
    assert ev["bypass"] is True
    assert {"policy": "modelward.yaml", "rule": "promotes_from", "outcome": "fail"}.items() <= (
        ev["verdicts"][0].items()  # type: ignore[index]
    )
    assert payload(repo, "churn@v1.1.0")["bypass"] is True

    # 1.2.0 goes to staging first, then to production: the order holds, no bypass.
    before = merge_pr(
        repo,
        "churn-staging",
        4,
        {CHURN: {"version": "1.2.0", "stages": "{staging: 1.2.0, production: 1.1.0}"}},
        author="alice",
        approvers=("bob",),
    )
    assert "BYPASS" not in promote(repo, before).stdout
    before = merge_pr(
        repo,
        "churn-prod-2",
        5,
        {CHURN: {"stages": "{staging: 1.2.0, production: 1.2.0}"}},
        author="alice",
        approvers=("bob", "dave"),
    )

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "churn v1.2.0 -> production: created churn#production#3" in result.stdout
    ev = payload(repo, "churn#production#3")
    assert ev["bypass"] is False
    outcomes = {v["rule"]: v["outcome"] for v in ev["verdicts"]}  # type: ignore[attr-defined]
    assert outcomes["promotes_from"] == "pass"
    assert outcomes["version_bump"] == "pass"  # a stage-only move: the artifact is unchanged
    assert outcomes["fairness_gap"] in ("pass", "waived")
    # the production tag points where 1.2.0 was registered, as GTO expects
    assert repo.git("rev-list", "-n1", "churn#production#3") == repo.git(
        "rev-list", "-n1", "churn@v1.2.0"
    )
    status = json.loads(cli("status", "--repo", repo.path, "--format", "json").stdout)
    churn = next(m for m in status["models"] if m["model"] == "churn")
    assert (churn["status"], churn["actual"]) == (
        "Synced",
        {"staging": "1.2.0", "production": "1.2.0"},
    )


# ---------------------------------------------------------------- conflicts and races


def test_an_existing_tag_with_another_payload_is_a_conflict_and_nothing_is_pushed(
    repo: GitRepo, tmp_path: Path
) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(other)], check=True)
    subprocess.run(
        ["git", "tag", "-a", "breast-cancer@v0.4.0", "-m", "someone else's 0.4.0"],
        cwd=other,
        check=True,
    )
    subprocess.run(["git", "push", "-q", "origin", "--tags"], cwd=other, check=True)
    theirs = origin_tags(repo)

    result = promote(repo, before)

    assert result.exit_code == 3
    assert result.stderr == (
        "modelward: tag breast-cancer@v0.4.0 exists locally with a different payload; "
        "registry tags are never rewritten (bump the version or use the next counter)\n"
    )
    assert origin_tags(repo) == theirs  # no assignment tag went out without its registration
    assert repo.git("tag", "--list", "breast-cancer#*") == ""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def test_two_concurrent_promotions_end_with_one_consistent_set_of_tags(
    repo: GitRepo, tmp_path: Path
) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    clones = []
    for name in ("runner-a", "runner-b"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(repo.origin), str(clone)], check=True)
        clones.append(clone)
    command = [sys.executable, "-m", "modelward", "promote", "--before", before]

    procs = [
        subprocess.Popen(command, cwd=c, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for c in clones
    ]
    done = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]  # type: ignore[union-attr]

    for code, err in done:  # the payloads agree, so the loser's push finds its own tags there
        assert code == 0, err
    assert set(origin_tags(repo)) == {"breast-cancer@v0.4.0", "breast-cancer#staging#1"}
    for clone in clones:
        rerun = subprocess.run(command, cwd=clone, env=_env(), capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert "created nothing new" in rerun.stdout
    assert set(origin_tags(repo)) == {"breast-cancer@v0.4.0", "breast-cancer#staging#1"}


def test_a_promotion_that_loses_the_race_for_a_counter_takes_the_next_one(
    repo: GitRepo, tmp_path: Path
) -> None:
    """Runner B promotes the second merge while runner A, still on the first merge,
    pushes churn's counter 1 between B's planning and B's push (a pre-push hook of B's
    clone runs A's promotion, so the race happens every time, not by luck)."""
    first = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    second = merge_pr(repo, "bc-050", 8, {BC: bump("0.5.0")})
    a, b = tmp_path / "runner-a", tmp_path / "runner-b"
    for clone in (a, b):
        subprocess.run(["git", "clone", "-q", str(repo.origin), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", "--detach", "HEAD~1"], cwd=a, check=True)
    hook = b / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        'for v in $(git rev-parse --local-env-vars); do unset "$v"; done\n'
        f"cd {a} && {sys.executable} -m modelward promote --before {first} >/dev/null\n"
    )
    hook.chmod(0o755)

    result = subprocess.run(
        [sys.executable, "-m", "modelward", "promote", "--before", repo.git("rev-parse", "HEAD~1")],
        cwd=b,
        env=_env(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "created breast-cancer@v0.5.0, breast-cancer#staging#2" in result.stdout
    assert set(origin_tags(repo)) == {
        "breast-cancer@v0.4.0",
        "breast-cancer#staging#1",
        "breast-cancer@v0.5.0",
        "breast-cancer#staging#2",
    }
    repo.git("fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
    assert payload(repo, "breast-cancer#staging#1")["version"] == "0.4.0"
    assert payload(repo, "breast-cancer#staging#2")["version"] == "0.5.0"
    assert second  # both merges are on main; B's tags say 0.5.0 is the one in staging
    status = cli("status", "--repo", repo.path).stdout
    assert "0.5.0 in staging" in status


# ---------------------------------------------------------------- metrics cross-check


def test_metrics_that_differ_from_the_pull_request_report_fail_the_promotion(
    repo: GitRepo,
) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    path = saved_report(repo, repo.git("rev-parse", "bc-040"))
    data = json.loads(path.read_text())
    row = next(m for m in data["models"][0]["metrics"] if m["name"] == "roc_auc")
    actual = row["candidate"]
    row["candidate"] = 0.5
    path.write_text(json.dumps(data))

    result = promote(repo, before)

    assert result.exit_code == 1
    assert result.stderr == (
        f"modelward: breast-cancer: roc_auc is {actual} after retraining the merged commit, "
        "but the pull request's report showed 0.5; the merged result differs from what "
        "reviewers approved, so nothing was promoted\n"
    )
    assert origin_tags(repo) == {}
    assert repo.git("tag", "--list") == ""


def test_without_a_saved_report_the_promotion_says_metrics_were_not_cross_checked(
    repo: GitRepo,
) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    saved_report(repo, repo.git("rev-parse", "bc-040")).unlink()

    result = promote(repo, before)

    assert result.exit_code == 0
    assert "(no pull-request report found: metrics not cross-checked)" in result.stdout


# ---------------------------------------------------------------- rollback


def test_rollback_is_a_new_assignment_event_of_the_old_version(repo: GitRepo) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    assert promote(repo, before).exit_code == 0
    v040_at = repo.head()
    before = merge_pr(repo, "bc-050", 8, {BC: bump("0.5.0")})
    assert promote(repo, before).exit_code == 0
    bad_merge = repo.head()

    before = merge_pr(repo, "rollback", 9, revert=bad_merge)
    assert "version: 0.4.0" in (repo.path / BC).read_text()
    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    assert "breast-cancer v0.4.0 -> staging: created breast-cancer#staging#3" in result.stdout
    assert set(origin_tags(repo)) == {
        "breast-cancer@v0.4.0",
        "breast-cancer#staging#1",
        "breast-cancer@v0.5.0",
        "breast-cancer#staging#2",
        "breast-cancer#staging#3",
    }
    ev = payload(repo, "breast-cancer#staging#3")
    assert ev["version"] == "0.4.0" and ev["pr_number"] == 9
    assert ev["merge_commit"] == repo.head()
    assert repo.git("rev-list", "-n1", "breast-cancer#staging#3") == v040_at
    status = json.loads(cli("status", "--repo", repo.path, "--format", "json").stdout)
    bc = next(m for m in status["models"] if m["model"] == "breast-cancer")
    assert bc["actual"] == {"staging": "0.4.0"} and bc["status"] == "Synced"


# ---------------------------------------------------------------- audit --verify


def test_audit_verify_flags_a_bypass_and_passes_a_clean_promotion(repo: GitRepo) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    assert promote(repo, before).exit_code == 0

    clean = cli("audit", "--repo", repo.path, "--verify", "--format", "json")

    assert clean.exit_code == 0, clean.output
    verification = json.loads(clean.stdout)["verification"]
    assert verification["policies_checked"] == 1
    assert verification["findings"] == [] and verification["skipped"] == []

    before = merge_pr(repo, "bc-050", 8, {BC: bump("0.5.0")}, approvers=())
    assert "BYPASS" in promote(repo, before).stdout
    bypass_base = repo.git("rev-parse", "HEAD^1")

    result = cli("audit", "--repo", repo.path, "--verify", "--format", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["verification"]["findings"] == [
        {
            "model": "breast-cancer",
            "tag": "breast-cancer#staging#2",
            "check": "policy",
            "message": f"staging/approvals would not have passed under the policies of "
            f"{bypass_base[:12]}: 0 approvals (1 required) from owners; membership of "
            "@acme/health-ds is unknown, so its members cannot be counted",
        }
    ]
    assert "modelward: verification found 1 problem(s)" in result.stderr


def test_audit_verify_judges_a_promotion_by_the_policies_of_its_commit(repo: GitRepo) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    assert promote(repo, before).exit_code == 0
    policy = repo.path / "policies" / "staging.yaml"
    policy.write_text(
        policy.read_text().replace(
            "approvals: {min: 1, from: owners, exclude_author: true}",
            "approvals: {min: 2, from: owners, exclude_author: true}",
        )
    )
    repo.commit("Staging now needs two owners' approvals")
    repo.git("push", "-q", "origin", "main")

    tightened = cli("audit", "--repo", repo.path, "--verify")

    assert tightened.exit_code == 0, tightened.output  # 0.4.0 met the rule of its day

    before = merge_pr(repo, "bc-050", 8, {BC: bump("0.5.0")})  # one approval only
    promote(repo, before)
    result = cli("audit", "--repo", repo.path, "--verify", "--format", "json")

    assert result.exit_code == 1
    findings = json.loads(result.stdout)["verification"]["findings"]
    assert [(f["tag"], f["message"].split(":")[0]) for f in findings] == [
        (
            "breast-cancer#staging#2",
            "staging/approvals would not have passed under the policies of "
            + repo.git("rev-parse", "HEAD^1")[:12],
        )
    ]


def test_audit_verify_says_what_it_cannot_recheck_instead_of_passing(repo: GitRepo) -> None:
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    assert promote(repo, before).exit_code == 0
    policy = repo.path / "policies" / "staging.yaml"
    policy.write_text(policy.read_text() + "  - max_artifact_mb: 50\n")
    repo.commit("Staging artifacts must stay under 50 MB")
    retune = {**bump("0.5.0"), "  params": "{C: 0.5, max_iter: 1000}"}  # a new artifact
    before = merge_pr(repo, "bc-050", 8, {BC: retune})
    assert promote(repo, before).exit_code == 0
    ev = payload(repo, "breast-cancer#staging#2")
    (repo.path / str(ev["artifact_location"])).unlink()  # the artifact is gone from here,
    (repo.path / ".modelward/releases/breast-cancer@v0.5.0/model.joblib").unlink()  # release too

    result = cli("audit", "--repo", repo.path, "--verify", "--format", "json")

    verification = json.loads(result.stdout)["verification"]
    assert verification["skipped"] == [
        "breast-cancer#staging#2: cannot re-check: staging/max_artifact_mb: the artifact's "
        "size (it is not stored in this repository)"
    ]
    text = cli("audit", "--repo", repo.path, "--verify").stdout
    assert (
        "  not checked: breast-cancer#staging#2: cannot re-check: staging/max_artifact_mb"
    ) in text
    assert {(f["tag"], f["check"]) for f in verification["findings"]} == {
        ("breast-cancer@v0.5.0", "artifact"),
        ("breast-cancer#staging#2", "artifact"),
    }


def test_a_policy_change_merged_without_governance_approval_is_recorded(repo: GitRepo) -> None:
    """No model moves, yet the merge loosened a policy without its owners: a bypass."""
    staging = (repo.path / "policies/staging.yaml").read_text()
    before = repo.git("rev-parse", "main")
    repo.git("checkout", "-q", "-b", "loosen")
    repo.commit(
        "Drop the approvals rule",
        {
            "policies/staging.yaml": staging.replace(
                "  - approvals: {min: 1, from: owners, exclude_author: true}\n", ""
            )
        },
    )
    repo.git("checkout", "-q", "main")
    message = "Merge pull request #9 from erin/loosen\n\nApproved-by: dana"
    repo.git("merge", "--no-ff", "-q", "loosen", "-m", message)
    repo.git("push", "-q", "origin", "main")

    result = promote(repo, before, "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["promotions"] == []
    assert len(data["governance_bypass"]) == 1
    assert data["governance_bypass"][0].startswith("modelward.yaml/governance: ")
    tag = f"modelward/bypass/{repo.head()[:12]}"
    assert data["bypass_tag"] == tag and tag in origin_tags(repo)
    comment = (repo.path / ".modelward/comments/pr-9.md").read_text()
    assert f"**BYPASS** recorded as `{tag}`" in comment


def test_a_release_lost_after_tagging_is_made_on_the_next_run(repo: GitRepo) -> None:
    """Tags were pushed but the release folder vanished: a re-run publishes it again."""
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})
    assert promote(repo, before).exit_code == 0
    release = repo.path / ".modelward/releases/breast-cancer@v0.4.0"
    shutil.rmtree(release)

    again = promote(repo, before)

    assert again.exit_code == 0, again.output
    assert "created nothing new" in again.stdout
    assert (release / "RELEASE.md").is_file()


@pytest.mark.parametrize(("approver", "bypass"), [("gina", False), ("erin", True)])
def test_a_policy_change_merged_with_a_governance_team_members_approval_is_no_bypass(
    repo: GitRepo, approver: str, bypass: bool
) -> None:
    """gina is a member of the governance team (local.teams of the base): her approval
    counts; erin's own, as the author, never does, team member or not."""
    config = repo.path / "modelward.yaml"
    config.write_text(config.read_text() + "local:\n  teams: {acme/ml-governance: [gina, erin]}\n")
    repo.commit("Local forge: ml-governance members")
    repo.git("push", "-q", "origin", "main")
    before = repo.git("rev-parse", "main")
    repo.git("checkout", "-q", "-b", "legacy")
    staging = (repo.path / "policies/staging.yaml").read_text()
    legacy = staging.replace("name: staging", "name: legacy").replace(
        'models: ["*"]', "models: [legacy-*]"
    )
    assert "models: [legacy-*]" in legacy
    repo.commit("A policy for legacy models", {"policies/legacy.yaml": legacy})
    repo.git("checkout", "-q", "main")
    message = (
        f"Merge pull request #9 from erin/legacy\n\nApproved-by: {approver}\n"
        "Pull-request-author: erin"
    )
    repo.git("merge", "--no-ff", "-q", "legacy", "-m", message)
    repo.git("push", "-q", "origin", "main")

    result = promote(repo, before, "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert bool(data["governance_bypass"]) is bypass, data["governance_bypass"]
    assert (f"modelward/bypass/{repo.head()[:12]}" in origin_tags(repo)) is bypass
