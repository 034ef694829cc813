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
from ghserver import GitHubServer, events
from ghserver.server import Pull

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
        [(BC, r"C: 1\.0", "C: 0.5"), (BC, r"^version: 0\.3\.0", "version: 0.4.0")],
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
