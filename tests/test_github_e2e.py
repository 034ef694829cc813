"""End to end on GitHub: `modelward pr` and `modelward promote` as subprocesses in a
GitHub Actions environment (GITHUB_* variables, an event file built from GitHub's own
example payloads), against the GitHub REST test server and a real git repository with a
bare origin. The server checks every request and response against GitHub's OpenAPI
description; any mismatch fails the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, GitRepo, make_repo
from ghserver import Fault, GitHubServer, events
from ghserver.server import Pull

from modelward.forge.base import TEAM_PERMISSION
from modelward.report import MARKER, extract_data

BC = "models/breast-cancer/model.yaml"
TOKEN = "ghs_test_token"
TEST_MERGE_SHA = "f" * 40  # GITHUB_SHA on pull_request events: a test merge commit
NUMBER = 7


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    calls: int
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Actions:
    """A repository on GitHub (the test server) and the Actions runs made on it."""

    repo: GitRepo
    server: GitHubServer
    tmp: Path
    base_sha: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, event_name: str, payload: dict[str, Any]) -> dict[str, str]:
        event = events.write(self.tmp, payload, f"{event_name}-{len(self.server.calls)}.json")
        summary, output = self.tmp / "summary.md", self.tmp / "output.txt"
        for f in (summary, output):
            f.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        env.update(
            PYTHONPATH=str(ROOT / "src"),
            GITHUB_ACTIONS="true",
            GITHUB_TOKEN=TOKEN,
            GITHUB_REPOSITORY="acme/models",
            GITHUB_API_URL=self.server.url,
            GITHUB_SERVER_URL="https://github.com",
            GITHUB_RUN_ID="4242",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(event),
            GITHUB_SHA=TEST_MERGE_SHA if event_name != "push" else payload["after"],
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_OUTPUT=str(output),
            MODELWARD_GITHUB_WRITE_SPACING="0",
            MODELWARD_GITHUB_TIMEOUT="2",
            MODELWARD_GITHUB_MAX_WAIT="5",
        )
        env.update(self.extra_env)
        return env

    def run(self, command: str, event_name: str, payload: dict[str, Any], *extra: str) -> Run:
        self.server.reset_calls()
        env = self.env(event_name, payload)
        proc = subprocess.run(
            [sys.executable, "-m", "modelward", *extra, command, "--repo", str(self.repo.path)],
            cwd=self.repo.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        outputs = dict(
            line.split("=", 1)
            for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines()
            if "=" in line
        )
        return Run(
            proc.returncode,
            proc.stdout,
            proc.stderr,
            self.server.api_calls(),
            Path(env["GITHUB_STEP_SUMMARY"]).read_text(),
            outputs,
        )

    def push_commit(self, message: str, edits: list[tuple[str, str, str]]) -> str:
        for rel, old, new in edits:
            path = self.repo.path / rel
            text = path.read_text()
            assert re.search(old, text, flags=re.M), f"{rel} has no {old!r}"
            path.write_text(re.sub(old, new, text, count=1, flags=re.M))
        sha = self.repo.commit(message)
        if NUMBER in self.server.pulls:
            self.server.pulls[NUMBER].head_sha = sha
        return sha

    def pr(self, action: str = "synchronize", **kw: Any) -> Run:
        head = self.repo.head()
        payload = events.pull_request(
            action,
            number=NUMBER,
            author="erin",
            head_sha=head,
            base_sha=self.base_sha,
            **kw,
        )
        return self.run("pr", "pull_request", payload)

    def review(self, reviewer: str, state: str = "APPROVED") -> Run:
        head = self.repo.head()
        self.server.add_review(NUMBER, reviewer, state, head)
        payload = events.review(
            state,
            reviewer=reviewer,
            number=NUMBER,
            author="erin",
            head_sha=head,
            base_sha=self.base_sha,
        )
        return self.run("pr", "pull_request_review", payload)

    def report_comments(self) -> list[dict[str, Any]]:
        return [c for c in self.server.bot_comments(NUMBER) if c["body"].startswith(MARKER)]

    def governance_statuses(self, sha: str) -> list[str]:
        return [
            s["state"]
            for s in self.server.statuses.get(sha, [])
            if s["context"] == "modelward/governance"
        ]


@pytest.fixture
def gh(tmp_path: Path, github: GitHubServer) -> Iterator[Actions]:
    repo = make_repo(tmp_path / "repo")
    # the base branch: staging needs two owner approvals; breast-cancer is owned by a team
    staging = repo.path / "policies/staging.yaml"
    staging.write_text(
        staging.read_text().replace("{min: 1, from: owners", "{min: 2, from: owners")
    )
    repo.commit("Two approvals for staging", {".gitignore": ".modelward/\n"})
    repo.git("push", "-q", "origin", "main")
    base = repo.head()
    repo.git("checkout", "-q", "-b", "feature")
    actions = Actions(repo, github, tmp_path, base_sha=base)
    actions.push_commit(
        "Tune breast-cancer",
        [
            (BC, r"C: 1\.0", "C: 0.5"),
            (BC, r"^version: 0\.3\.0", "version: 0.4.0"),
            (BC, r"^stages: \{staging: 0\.3\.0\}", "stages: {staging: 0.4.0}"),
        ],
    )
    github.add_pull(Pull(NUMBER, "erin", repo.head(), "main", base_sha=base))
    github.teams[("acme", "health-ds")] = ["Hana", "Ivan", "erin"]
    yield actions


def test_sticky_comment_is_edited_in_place_over_three_synchronize_runs(gh: Actions) -> None:
    for i in range(35):  # other people's comments, one quoting an old report
        body = f"> {MARKER}\n> quoted report" if i == 3 else f"comment {i}"
        gh.server.add_comment(NUMBER, "bob", body)
    first = gh.pr("opened")
    assert first.code == 1, first.stderr  # pending: approvals missing
    assert len(gh.report_comments()) == 1
    comment_id = gh.report_comments()[0]["id"]
    for c in ("0.4", "0.3"):
        gh.push_commit(f"C={c}", [(BC, r"C: [0-9.]+", f"C: {c}")])
        run = gh.pr()
        assert run.code == 1, run.stderr
    reports = gh.report_comments()
    assert [c["id"] for c in reports] == [comment_id]  # one comment, edited in place
    assert extract_data(reports[0]["body"], gh.repo.head()) is not None
    assert reports[0]["body"].startswith(MARKER)
    assert gh.server.comments[NUMBER][3]["body"] == f"> {MARKER}\n> quoted report"
    assert len(gh.server.comments[NUMBER]) == 36
    assert first.calls <= 10, f"a pull-request run made {first.calls} API calls"


def test_status_sits_on_the_head_sha_never_on_github_sha(gh: Actions) -> None:
    run = gh.pr("opened")
    head = gh.repo.head()
    assert gh.governance_statuses(head) == ["pending"]
    assert TEST_MERGE_SHA not in gh.server.statuses
    status = gh.server.statuses[head][0]
    assert status["target_url"] == "https://github.com/acme/models/actions/runs/4242"
    assert len(status["description"]) <= 140
    assert run.outputs["verdict"] == "pending"
    assert json.loads(run.outputs["models"]) == ["breast-cancer"]
    assert "breast-cancer" in run.summary and run.summary.startswith(MARKER)


def forbid_the_engine(gh: Actions) -> None:
    """From here on the engine cannot run: importing scikit-learn or Great Expectations
    (as training and data checks do) fails the process."""
    poison = gh.tmp / "poison"
    for module in ("sklearn", "great_expectations"):
        (poison / module).mkdir(parents=True, exist_ok=True)
        (poison / module / "__init__.py").write_text(
            f"raise ImportError('the engine was called: {module} imported on a review run')\n"
        )
    gh.extra_env["PYTHONPATH"] = f"{poison}{os.pathsep}{ROOT / 'src'}"


def test_stale_then_team_approvals_turn_pending_into_success_without_training(
    gh: Actions,
) -> None:
    first = gh.pr("opened")
    assert (first.code, first.outputs["verdict"]) == (1, "pending"), first.stderr
    gh.server.add_review(NUMBER, "Hana", "APPROVED", gh.repo.head())  # then a push
    gh.push_commit("C=0.4", [(BC, r"C: [0-9.]+", "C: 0.4")])
    head = gh.repo.head()
    second = gh.pr()
    assert second.outputs["verdict"] == "pending"  # Hana's approval is on an older head
    assert "0 approvals (2 required)" in gh.report_comments()[0]["body"]
    forbid_the_engine(gh)
    hana = gh.review("hana")
    assert hana.code == 1 and hana.outputs.get("verdict") == "pending", hana.stderr
    ivan = gh.review("IVAN")
    assert (ivan.code, ivan.outputs["verdict"]) == (0, "pass"), ivan.stderr
    assert gh.governance_statuses(head) == ["pending", "pending", "success"]
    body = gh.report_comments()[0]["body"]
    assert "nothing retrained" in body and "2 approvals (2 required)" in body
    assert len(gh.report_comments()) == 1
    assert ivan.calls <= 6, f"a review run made {ivan.calls} API calls: {gh.server.calls}"
    print(f"API calls: pr run {second.calls}, review run {ivan.calls}")


def test_each_fault_on_a_real_run_leaves_one_comment_and_the_right_status(gh: Actions) -> None:
    gh.server.faults += [
        Fault("POST", r"/issues/7/comments$", "applied-502"),
        Fault("POST", r"/statuses/", "secondary"),
        Fault("GET", r"/pulls/7/reviews$", "slow", delay=3),
        Fault("POST", r"/check-runs$", "429"),
    ]
    run = gh.pr("opened")
    assert run.code == 1, run.stderr
    assert all(f.hits == 1 for f in gh.server.faults)
    assert len(gh.report_comments()) == 1
    assert gh.governance_statuses(gh.repo.head()) == ["pending"]


def test_a_fork_pull_request_with_a_read_only_token_judges_and_posts_nothing(
    gh: Actions,
) -> None:
    gh.server.readonly = True
    run = gh.pr("opened", fork=True)
    assert (run.code, run.outputs["verdict"]) == (1, "pending"), run.stderr
    assert gh.server.bot_comments(NUMBER) == [] and gh.server.statuses == {}
    assert gh.server.check_runs == {}
    assert run.stderr.count("could not post to GitHub") == 1
    assert "Resource not accessible by integration" in run.stderr
    assert "Traceback" not in run.stderr
    assert "::notice file=models/breast-cancer/model.yaml,line=" in run.stdout
    assert "breast-cancer" in run.summary


def test_the_token_never_appears_in_logs_reports_errors_or_tracebacks(gh: Actions) -> None:
    gh.extra_env["GITHUB_TOKEN"] = TOKEN
    ok = gh.pr("opened")
    gh.server.faults.append(Fault("GET", r"/pulls/7/reviews$", "5xx", times=100))
    failed = gh.run(
        "pr",
        "pull_request",
        events.pull_request(
            "synchronize",
            number=NUMBER,
            author="erin",
            head_sha=gh.repo.head(),
            base_sha=gh.base_sha,
        ),
        "--traceback",
    )
    assert failed.code == 3, failed.stderr
    assert failed.stderr.strip().count("\n") == 0  # one line: the reason
    assert "gave up" in failed.stderr
    for text in (ok.stdout, ok.stderr, ok.summary, failed.stdout, failed.stderr):
        assert TOKEN not in text
    for comment in gh.server.comments[NUMBER]:
        assert TOKEN not in comment["body"]


def approve_and_merge(gh: Actions) -> str:
    """Two members of the owning team approve the final head; the pull request is merged
    with a plain merge commit (no Approved-by trailers: GitHub's reviews are the facts)."""
    head = gh.repo.head()
    gh.server.add_review(NUMBER, "hana", "APPROVED", head)
    gh.server.add_review(NUMBER, "ivan", "APPROVED", head)
    run = gh.pr("opened")
    assert run.code == 0, run.stderr
    gh.repo.git("checkout", "-q", "main")
    gh.repo.git(
        "merge", "--no-ff", "-q", "feature", "-m", "Merge pull request #7 from erin/feature"
    )
    merge = gh.repo.head()
    gh.repo.git("push", "-q", "origin", "main")
    pull = gh.server.pulls[NUMBER]
    pull.merged, pull.merge_commit_sha = True, merge
    gh.server.commit_pulls[merge] = [NUMBER]
    return merge


def promotion_comments(gh: Actions) -> list[dict[str, Any]]:
    return [
        c
        for c in gh.server.bot_comments(NUMBER)
        if c["body"].startswith("<!-- modelward:promotion")
    ]


def test_a_merge_push_makes_one_release_and_one_comment_and_a_rerun_nothing_more(
    gh: Actions,
) -> None:
    merge = approve_and_merge(gh)
    payload = events.push(before=gh.base_sha, after=merge)
    first = gh.run("promote", "push", payload)
    assert first.code == 0, first.stderr + first.stdout
    (release,) = gh.server.releases.values()
    assert release.tag == release.name == "breast-cancer@v0.4.0"
    assert sorted(release.assets) == ["MODEL_CARD.md", "metrics.json", "model.joblib"]
    assert release.body.startswith(release.assets["MODEL_CARD.md"].decode())
    (comment,) = promotion_comments(gh)
    assert "breast-cancer@v0.4.0" in comment["body"]
    assert "BYPASS" not in comment["body"] and "BYPASS" not in first.stdout

    again = gh.run("promote", "push", payload)
    assert again.code == 0, again.stderr
    assert len(gh.server.releases) == 1 and len(release.assets) == 3
    assert [c["id"] for c in promotion_comments(gh)] == [comment["id"]]

    audit = subprocess.run(
        [sys.executable, "-m", "modelward", "audit", "breast-cancer", "--repo", str(gh.repo.path)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
    )
    assert audit.returncode == 0, audit.stderr
    row = next(line for line in audit.stdout.splitlines() if "register" in line)
    assert "#7" in row and "erin" in row and "hana, ivan" in row
    assert "Test Author" not in audit.stdout  # the git author is not the pull request's
    assert "BYPASS" not in audit.stdout  # approved through a team: not a bypass


LEGACY_POLICY = """\
apiVersion: modelward/v1
kind: Policy
name: legacy
description: For models not written yet; it affects no model today.
applies_to: {stages: [staging], models: ["legacy-*"]}
enforcement: block
rules:
  - data_checks_pass: true
"""


@pytest.fixture
def gov(tmp_path: Path, github: GitHubServer) -> Actions:
    """A pull request that only adds a policy: governance.owners (@acme/ml-governance,
    carol) must approve it; erin, its author, is a member of the team."""
    repo = make_repo(tmp_path / "repo")
    repo.commit("Ignore work files", {".gitignore": ".modelward/\n"})
    repo.git("push", "-q", "origin", "main")
    base = repo.head()
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("A policy for legacy models", {"policies/legacy.yaml": LEGACY_POLICY})
    github.add_pull(Pull(NUMBER, "erin", repo.head(), "main", base_sha=base))
    github.teams[("acme", "ml-governance")] = ["Gina", "hal", "erin"]
    return Actions(repo, github, tmp_path, base_sha=base)


def governance_reason(gov: Actions) -> str:
    data = extract_data(gov.report_comments()[0]["body"], gov.repo.head())
    assert data is not None
    (verdict,) = data["governance"]
    return str(verdict["reason"])


def test_a_policy_change_approved_by_two_governance_team_members_passes_and_is_no_bypass(
    gov: Actions,
) -> None:
    head = gov.repo.head()
    gov.server.add_review(NUMBER, "erin", "APPROVED", head)  # the author: never counts
    alone = gov.pr("opened")
    assert (alone.code, alone.outputs["verdict"]) == (1, "pending"), alone.stderr
    assert "the author's own approval does not count" in governance_reason(gov)
    gov.server.add_review(NUMBER, "gina", "APPROVED", head)
    gov.server.add_review(NUMBER, "hal", "APPROVED", head)
    both = gov.pr()
    assert (both.code, both.outputs["verdict"]) == (0, "pass"), both.stderr
    assert gov.governance_statuses(head) == ["pending", "success"]
    assert governance_reason(gov) == (
        "changes to policies/legacy.yaml approved: 2 approvals (1 required) from governance "
        "(gina, hal); the author's own approval does not count"
    )

    gov.repo.git("checkout", "-q", "main")
    gov.repo.git("merge", "--no-ff", "-q", "feature", "-m", "Merge pull request #7")
    merge = gov.repo.head()
    gov.repo.git("push", "-q", "origin", "main")
    pull = gov.server.pulls[NUMBER]
    pull.merged, pull.merge_commit_sha = True, merge
    gov.server.commit_pulls[merge] = [NUMBER]
    promoted = gov.run("promote", "push", events.push(before=gov.base_sha, after=merge))
    assert promoted.code == 0, promoted.stderr + promoted.stdout
    assert "BYPASS" not in promoted.stdout and "bypass" not in promoted.stderr
    tags = gov.repo.git("ls-remote", "--tags", "origin")
    assert "modelward/bypass/" not in tags


def test_a_governance_team_the_token_cannot_read_stays_pending_naming_the_permission(
    gov: Actions,
) -> None:
    gov.server.unreadable_teams.add(("acme", "ml-governance"))
    head = gov.repo.head()
    gov.server.add_review(NUMBER, "gina", "APPROVED", head)
    gov.server.add_review(NUMBER, "hal", "APPROVED", head)
    run = gov.pr("opened")
    assert (run.code, run.outputs["verdict"]) == (1, "pending"), run.stderr
    assert gov.governance_statuses(head) == ["pending"]
    reason = governance_reason(gov)
    assert "membership of @acme/ml-governance is unknown" in reason
    assert reason.endswith(TEAM_PERMISSION)


def test_changes_requested_hold_the_verdict_only_from_someone_who_would_count(
    gov: Actions,
) -> None:
    head = gov.repo.head()
    gov.server.add_review(NUMBER, "gina", "APPROVED", head)
    gov.server.add_review(NUMBER, "zed", "CHANGES_REQUESTED", head)  # not a governance owner
    bystander = gov.pr("opened")
    assert (bystander.code, bystander.outputs["verdict"]) == (0, "pass"), bystander.stderr
    gov.server.add_review(NUMBER, "hal", "CHANGES_REQUESTED", head)  # a team member
    owner = gov.pr()
    assert (owner.code, owner.outputs["verdict"]) == (1, "pending"), owner.stderr
    assert governance_reason(gov) == (
        "changes to policies/legacy.yaml need governance approval: 1 approval (1 required) "
        "from governance (gina); changes requested by hal (latest review)"
    )
    assert gov.governance_statuses(head) == ["success", "pending"]
