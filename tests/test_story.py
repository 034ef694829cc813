"""The whole story, end to end and offline, through the rendered workflows' own steps.

render the template -> push to a bare origin -> a pull request retrains churn with new
params and asks for staging: pending -> two owners approve: success -> merge -> the
promote workflow: tags on origin, one release, status Synced -> `audit --verify` passes
from a fresh clone of origin.

The `run:` steps come from the rendered .github/workflows/ (tests/helpers_workflows.py
runs them with bash); if a workflow's commands change, this test breaks.

Where the forge plugs in: `GitHubSide` binds the runs to the GitHub REST test server
(its `token` and `api_url` go to `Actions(...)`): the pull request and its reviews live
on the server, `approve()` posts the two reviews and runs the same judge job for a
`pull_request_review` event, and the promotion finds the merged pull request there.
`LocalForgeSide` is the same story with no token (the bot's local forge; approvals as
`--approved-by` and `Approved-by:` trailers of the merge commit).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cookiecutter.main as cookiecutter_main
import pytest
from conftest import ROOT
from helpers_workflows import (
    Actions,
    JobResult,
    pull_request_event,
    push_event,
    this_checkouts_pythonpath,
)

pytestmark = pytest.mark.slow
REPOSITORY = "acme/acme-models"


@pytest.fixture(autouse=True)
def _this_checkouts_modelward(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hooks and steps run `python -m modelward` in other folders: use this checkout's."""
    monkeypatch.setenv("PYTHONPATH", this_checkouts_pythonpath())


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def modelward(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelward", *args], cwd=repo, capture_output=True, text=True
    )


def ask_for_staging(manifest: Path, version: str) -> None:
    """churn: a new learning rate, a new version, and staging as its desired stage."""
    text = manifest.read_text()
    text = text.replace("learning_rate: 0.05", "learning_rate: 0.08")
    text = re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M)
    if re.search(r"^stage: ", text, flags=re.M):
        text = re.sub(r"^stage: .*$", "stage: staging", text, count=1, flags=re.M)
    else:  # the `stages:` map
        text = re.sub(r"^stages:.*\n(?:  .*\n)*", "", text, flags=re.M)
        text = text.replace(
            f"version: {version}\n", f"version: {version}\nstages:\n  staging: {version}\n"
        )
    manifest.write_text(text)


class ForgeSide(Protocol):
    token: str
    api_url: str

    def open(self, number: int, author: str, head: str, head_ref: str, base: str) -> None: ...

    def approve(
        self, actions: Actions, opened: JobResult, number: int, author: str, approvers: list[str]
    ) -> int: ...

    def merged(self, number: int, merge: str) -> None: ...

    def releases(self, promoted: JobResult) -> list[str]: ...


@dataclass
class LocalForgeSide:
    """The forge today: no token, so the workflows' `modelward` uses the local forge."""

    token: str = ""
    api_url: str = "http://127.0.0.1:9/api"

    def approve(
        self, actions: Actions, opened: JobResult, number: int, author: str, approvers: list[str]
    ) -> int:
        """The local forge learns approvals from the command line: a reviewer's run on the
        same head, which re-evaluates approvals on the recorded results."""
        args = ["pr", "--base", "origin/main", "--author", author, "--pr-number", str(number)]
        for who in approvers:
            args += ["--approved-by", who]
        proc = modelward(opened.workspace, *args)
        assert "nothing retrained" in proc.stdout, proc.stdout + proc.stderr
        return proc.returncode

    def open(self, number: int, author: str, head: str, head_ref: str, base: str) -> None:
        """Nothing to open: the event payload is all the local forge reads."""

    def merged(self, number: int, merge: str) -> None:
        """The merge commit's trailers are what the local forge reads."""

    def releases(self, promoted: JobResult) -> list[str]:
        return sorted(r.name for r in (promoted.workspace / ".modelward/releases").iterdir())


@dataclass
class GitHubSide:
    """The GitHub REST test server: pull request, reviews, statuses and releases live on it."""

    server: Any

    @property
    def token(self) -> str:
        return str(self.server.token)

    @property
    def api_url(self) -> str:
        return str(self.server.url)

    def open(self, number: int, author: str, head: str, head_ref: str, base: str) -> None:
        from ghserver.server import Pull

        self.server.add_pull(Pull(number, author, head, "main", head_ref=head_ref, base_sha=base))

    def approve(
        self, actions: Actions, opened: JobResult, number: int, author: str, approvers: list[str]
    ) -> int:
        """Reviews on the current head, then the PR workflow's judge job for each
        `pull_request_review` event, as GitHub runs it."""
        pull = self.server.pulls[number]
        result = opened
        for who in approvers:
            review = self.server.add_review(number, who, "APPROVED", pull.head_sha)
            event = pull_request_event(
                "submitted",
                number,
                author=author,
                head_sha=pull.head_sha,
                head_ref=pull.head_ref,
                base_sha=pull.base_sha,
                base_ref=pull.base_ref,
                repository=REPOSITORY,
                review={**review, "state": "approved"},
            )
            result = actions.run_job(
                opened.workspace / ".github/workflows/modelward-pr.yml",
                "judge",
                event_name="pull_request_review",
                event=event,
                sha=pull.head_sha,
                ref=f"refs/pull/{number}/merge",
            )
        judge = result.log("Judge the pull request")
        assert "nothing retrained" in self.server.bot_comments(number)[0]["body"], judge.stdout
        statuses = [s["state"] for s in self.server.statuses[pull.head_sha]]
        assert statuses[0] == "pending" and statuses[-1] == (
            "success" if judge.code == 0 else "pending"
        )
        return judge.code

    def merged(self, number: int, merge: str) -> None:
        pull = self.server.pulls[number]
        pull.merged, pull.merge_commit_sha, pull.state = True, merge, "closed"
        self.server.commit_pulls[merge] = [number]

    def releases(self, promoted: JobResult) -> list[str]:
        return sorted(r.name for r in self.server.releases.values())


@pytest.fixture(params=["github", "local"])
def forge_side(request: pytest.FixtureRequest) -> ForgeSide:
    """The story on the GitHub REST test server, and on the local forge."""
    if request.param == "local":
        return LocalForgeSide()
    server = request.getfixturevalue("github")
    server.repo = REPOSITORY.split("/")[1]
    server.teams[("acme", "risk-ds")] = ["frank"]
    return GitHubSide(server)


def test_render_review_approve_merge_promote_audit(tmp_path: Path, forge_side: ForgeSide) -> None:
    # 1. render the template
    repo = Path(cookiecutter_main.cookiecutter(str(ROOT), no_input=True, output_dir=str(tmp_path)))
    workflows = repo / ".github/workflows"

    # 2. push to a bare origin
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    actions = Actions(origin, tmp_path / "runner", REPOSITORY, forge_side.token, forge_side.api_url)

    # 3. alice opens a pull request: churn retrained with new params, asking for staging
    base = git(repo, "rev-parse", "main")
    git(repo, "checkout", "-q", "-b", "tune-churn")
    ask_for_staging(repo / "models/churn/model.yaml", "1.1.0")
    git(
        repo,
        "-c",
        "user.name=alice",
        "-c",
        "user.email=alice@example.com",
        "commit",
        "-qam",
        "Tune churn: faster learning rate; ask for staging",
    )
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "push", "-q", "origin", "tune-churn")
    forge_side.open(1, "alice", head, "tune-churn", base)
    event = pull_request_event(
        "opened",
        1,
        author="alice",
        head_sha=head,
        head_ref="tune-churn",
        base_sha=base,
        base_ref="main",
        repository=REPOSITORY,
    )
    opened = actions.run_job(
        workflows / "modelward-pr.yml",
        "judge",
        event_name="pull_request",
        event=event,
        sha="0" * 40,
        ref="refs/pull/1/merge",  # a test merge commit: the bot must not use it
    )
    judge = opened.log("Judge the pull request")
    assert judge.code == 1, judge.stdout + judge.stderr
    assert git(opened.workspace, "rev-parse", "HEAD") == head
    assert "churn" in opened.log("Plan").stdout
    assert "pending" in opened.summary.lower()
    assert "approvals" in opened.summary

    # 4. bob and dave (owners of churn) approve: success
    assert forge_side.approve(actions, opened, 1, "alice", ["bob", "dave"]) == 0

    # 5. merge, then the promote workflow on the push to main
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "-c",
        "user.name=bob",
        "-c",
        "user.email=bob@example.com",
        "merge",
        "--no-ff",
        "-q",
        "tune-churn",
        "-m",
        "Merge pull request #1 from alice/tune-churn\n\nApproved-by: bob\nApproved-by: dave\n"
        "Pull-request-author: alice",
    )
    merge = git(repo, "rev-parse", "HEAD")
    git(repo, "push", "-q", "origin", "main")
    forge_side.merged(1, merge)
    promoted = actions.run_job(
        workflows / "modelward-promote.yml",
        "promote",
        event_name="push",
        event=push_event(base, merge, "refs/heads/main", REPOSITORY, "bob"),
        sha=merge,
        ref="refs/heads/main",
    )
    assert promoted.code == 0, [(s.name, s.code, s.stdout, s.stderr) for s in promoted.steps]
    tags = git(repo, "ls-remote", "--tags", "origin").splitlines()
    names = sorted(line.split("refs/tags/")[1] for line in tags if "^{}" not in line)
    assert names == ["churn#staging#1", "churn@v1.1.0"]
    assert forge_side.releases(promoted) == ["churn@v1.1.0"]
    status = promoted.log("Desired against actual").stdout
    [churn] = [line.split() for line in status.splitlines() if line.split()[:1] == ["churn"]]
    assert "staging=1.1.0" in churn and "Synced" in churn, status

    # 6. an auditor clones origin and verifies, with the artifact store the promotion
    #    wrote (a shared store in practice: `artifacts.store` may be any fsspec URL)
    fresh = tmp_path / "auditor"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    without_store = modelward(fresh, "audit", "churn", "--verify")
    assert without_store.returncode == 1, "verify re-hashes the artifact: it must be there"
    assert "model.joblib is missing" in without_store.stdout
    shutil.copytree(promoted.workspace / ".modelward/artifacts", fresh / ".modelward/artifacts")
    audit = modelward(fresh, "audit", "churn", "--verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "churn: 2 events" in audit.stdout
    assert "bob, dave" in audit.stdout
    assert "no problems" in audit.stdout
