"""`modelward retrain --forge github`: the retraining pull request on GitHub, over real HTTP
against the GitHub REST test server (every request and response checked against GitHub's
OpenAPI description), from a real registered repository whose bare origin the server's
pull requests are opened on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import Result
from conftest import GitRepo, cli
from ghserver import GitHubServer
from ghserver.server import Pull
from helpers_drift import copy_repo, generator, registered_repo, write_rows

from modelward import retrain
from modelward.errors import ForgeError
from modelward.forge.base import Proposal
from modelward.forge.github import CREDENTIAL_HELPER, TOKEN_ENV, GitHubForge, Settings
from modelward.hashing import file_sha256

BRANCH = "modelward/retrain/churn"
TOKEN = "ghs_test_token"
LABELS = ["retrain", "drift", "model:churn"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return registered_repo(tmp_path_factory.mktemp("registered"), tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    gen = generator()
    folder = tmp_path_factory.mktemp("retrain-snapshots")
    return {
        "q4": write_rows(folder / "2026-q4.csv", gen.next_quarter()),
        "q1": write_rows(folder / "2027-q1.csv", gen.rows(5000, 21, price_mean=90.0)),
    }


@pytest.fixture
def repo(
    template: GitRepo, tmp_path: Path, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> GitRepo:
    """The registered repository in a scheduled GitHub Actions run, on the test server."""
    repo = copy_repo(template, tmp_path)
    github.origin = repo.origin
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_EVENT_NAME": "schedule",
        "MODELWARD_GITHUB_WRITE_SPACING": "0",
        "MODELWARD_GITHUB_TIMEOUT": "5",
        "MODELWARD_GITHUB_MAX_WAIT": "5",
    }.items():
        monkeypatch.setenv(name, value)
    return repo


def run(repo: GitRepo, data: Path) -> Result:
    return cli("retrain", "churn", "--repo", repo.path, "--data", data, "--forge", "github")


def on_origin(repo: GitRepo, branch: str = BRANCH) -> str:
    assert repo.origin is not None
    return subprocess.run(
        ["git", "--git-dir", str(repo.origin), "rev-parse", "--verify", "--quiet", branch],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def test_retrain_opens_one_labelled_pull_request_and_a_second_run_makes_none(
    repo: GitRepo,
    github: GitHubServer,
    snapshots: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every git command the bot runs is logged, to prove the token is never in argv
    shim, log = tmp_path / "bin", tmp_path / "git-argv.log"
    shim.mkdir()
    real_git = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    (shim / "git").write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real_git} "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")

    first = run(repo, snapshots["q4"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"opened: opened the retraining pull request on {BRANCH}")
    assert list(github.pulls) == [1]
    pull = github.pulls[1]
    assert (pull.author, pull.head_ref, pull.base_ref, pull.state) == (
        github.bot_login,
        BRANCH,
        "main",
        "open",
    )
    assert pull.labels == LABELS
    assert pull.title.startswith("Retrain churn 1.2.0 on new data (drift in monthly_charges")
    assert pull.body is not None and pull.body.startswith("<!-- modelward:retrain ")
    assert retrain.parse_marker(pull.body) == {
        "model": "churn",
        "reference": "1.1.0",
        "fingerprint": file_sha256(snapshots["q4"]),
    }
    head = on_origin(repo)
    assert head == pull.head_sha == repo.git("rev-parse", BRANCH)
    assert repo.git("log", "-1", "--format=%an", head) == retrain.BOT_NAME

    github.reset_calls()
    second = run(repo, snapshots["q4"])
    assert second.exit_code == 0, second.output
    assert second.stdout.startswith("unchanged: the open retraining pull request")
    assert list(github.pulls) == [1] and on_origin(repo) == head
    assert [c.method for c in github.calls] == ["GET", "GET"]  # open ones, this model's closed

    argv = log.read_text()
    assert "push" in argv and "fetch" in argv
    assert TOKEN not in argv
    # the helper in argv names only the variable; git gets the token from the environment
    filled = subprocess.run(
        [real_git, "-c", f"credential.helper={CREDENTIAL_HELPER}", "credential", "fill"],
        input="protocol=https\nhost=github.com\n\n",
        capture_output=True,
        text=True,
        env={**os.environ, TOKEN_ENV: TOKEN},
        check=True,
    ).stdout
    assert f"password={TOKEN}" in filled.splitlines()


def test_new_data_updates_the_open_pull_request_in_place(
    repo: GitRepo, github: GitHubServer, snapshots: dict[str, Path]
) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    first = on_origin(repo)
    again = run(repo, snapshots["q1"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"updated: updated the retraining pull request on {BRANCH}")
    assert list(github.pulls) == [1]
    assert on_origin(repo) not in ("", first)
    assert github.pulls[1].head_sha == on_origin(repo)
    marker = retrain.parse_marker(github.pulls[1].body or "")
    assert marker is not None and marker["fingerprint"] == file_sha256(snapshots["q1"])
    assert github.pulls[1].labels == LABELS


def test_data_closed_without_merging_is_not_proposed_again_but_new_data_is(
    repo: GitRepo, github: GitHubServer, snapshots: dict[str, Path]
) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    github.pulls[1].state = "closed"  # "not this data" (the branch stays, as on GitHub)
    again = run(repo, snapshots["q4"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("rejected: a retraining pull request with this data")
    assert list(github.pulls) == [1]
    fresh = run(repo, snapshots["q1"])
    assert fresh.exit_code == 0, fresh.output
    assert fresh.stdout.startswith("opened:"), fresh.output
    assert list(github.pulls) == [1, 2]
    assert github.pulls[2].state == "open" and github.pulls[2].labels == LABELS
    assert github.pulls[2].head_sha == on_origin(repo)
    assert run(repo, snapshots["q4"]).stdout.startswith("rejected:")


def test_a_person_committing_to_the_branch_turns_the_update_into_a_comment(
    repo: GitRepo, github: GitHubServer, snapshots: dict[str, Path], tmp_path: Path
) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    body = github.pulls[1].body
    # a person pushes to the branch from their own clone; the bot's checkout never saw it
    person = GitRepo(tmp_path / "person")
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(person.path)], check=True)
    person.git("checkout", "-q", BRANCH)
    theirs = person.commit("Tune the learning rate for the new data", {"notes.md": "tuned\n"})
    person.git("push", "-q", "origin", BRANCH)
    repo.git("branch", "-q", "-D", BRANCH)  # as in a fresh Actions checkout

    result = run(repo, snapshots["q1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"commented: someone committed to {BRANCH}")
    assert on_origin(repo) == theirs  # not rewritten
    assert github.pulls[1].body == body  # the pull request still describes its data
    comments = github.bot_comments(1)
    assert len(comments) == 1
    assert (
        "the branch was not changed because a person has committed to it" in (comments[0]["body"])
    )
    assert list(github.pulls) == [1]


def test_a_push_racing_the_bot_is_never_overwritten(
    repo: GitRepo, github: GitHubServer, snapshots: dict[str, Path], tmp_path: Path
) -> None:
    """The push is leased on the tip the bot fetched: a person's push after the fetch
    makes the bot fail (exit 3), not erase their commit."""

    assert run(repo, snapshots["q4"]).exit_code == 0
    settings = Settings("acme/models", TOKEN, api_url=github.url, checkout=repo.path)
    forge = GitHubForge(settings)
    forge.retrain_requests("churn")  # fetched: the lease is the bot's own tip
    person = GitRepo(tmp_path / "person")
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(person.path)], check=True)
    person.git("checkout", "-q", BRANCH)
    theirs = person.commit("A person's change", {"notes.md": "mine\n"})
    person.git("push", "-q", "origin", BRANCH)

    proposal = Proposal(
        model="churn", branch=BRANCH, base_ref="origin/main", head_sha=repo.git("rev-parse", "main"),
        title="t", body="b", labels=tuple(LABELS), reference="1.1.0", fingerprint="f",
    )  # fmt: skip
    with pytest.raises(ForgeError, match="git push failed"):
        forge.propose(proposal)
    assert on_origin(repo) == theirs


def test_a_closed_pull_request_someone_else_opened_does_not_suppress_the_data(
    repo: GitRepo, github: GitHubServer, snapshots: dict[str, Path]
) -> None:
    """An attacker who opens and closes a look-alike pull request (same branch, the
    marker with this data's fingerprint) cannot make the bot skip the data."""
    fingerprint = file_sha256(snapshots["q4"])
    body = retrain.marker("churn", "1.1.0", fingerprint) + "\nnot this data"
    github.add_pull(
        Pull(1, "mallory", "0" * 40, "main", head_ref=BRANCH, state="closed", body=body)
    )
    result = run(repo, snapshots["q4"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("opened:"), result.output
    assert list(github.pulls) == [1, 2]
    assert github.pulls[2].author == github.bot_login and github.pulls[2].labels == LABELS
