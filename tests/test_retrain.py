"""`modelward retrain`: one retraining pull request per model, on a real registered repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from conftest import GitRepo, cli
from helpers_drift import copy_repo, generator, registered_repo, write_rows

from modelward import retrain
from modelward.hashing import file_sha256

BRANCH = "modelward/retrain/churn"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return registered_repo(tmp_path_factory.mktemp("registered"), tmp_path_factory.mktemp("home"))


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return copy_repo(template, tmp_path)


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    gen = generator()
    folder = tmp_path_factory.mktemp("retrain-snapshots")
    return {
        "q4": write_rows(folder / "2026-q4.csv", gen.next_quarter()),
        "q1": write_rows(folder / "2027-q1.csv", gen.rows(5000, 21, price_mean=90.0)),
    }


def run(repo: GitRepo, data: Path, *extra: str) -> Result:
    return cli("retrain", "churn", "--repo", repo.path, "--data", data, *extra)


def branches(repo: GitRepo) -> list[str]:
    out = repo.git("for-each-ref", "--format=%(refname:short)", "refs/heads/modelward/")
    return out.splitlines()


def test_retrain_makes_one_branch_and_a_second_run_makes_none(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    main_before = repo.git("rev-parse", "main")
    first = run(repo, snapshots["q4"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"opened: opened the retraining pull request on {BRANCH}")
    assert branches(repo) == [BRANCH]
    head = repo.git("rev-parse", BRANCH)
    # one bot commit on top of the default branch; the checkout is untouched
    assert repo.git("rev-parse", f"{BRANCH}~1") == main_before
    assert repo.git("rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert repo.git("status", "--porcelain") == ""
    assert repo.git("log", "-1", "--format=%an", BRANCH) == retrain.BOT_NAME
    changed = repo.git("diff", "--name-only", "main", BRANCH).splitlines()
    assert changed == [
        "data/churn/churn.csv",
        "data/churn/dataset.yaml",
        "models/churn/model.yaml",
    ]
    sha = file_sha256(snapshots["q4"])
    assert repo.git("show", f"{BRANCH}:data/churn/churn.csv") == snapshots["q4"].read_text().strip()
    assert f"sha256: {sha}" in repo.git("show", f"{BRANCH}:data/churn/dataset.yaml")
    assert "version: 1.2.0" in repo.git("show", f"{BRANCH}:models/churn/model.yaml")
    message = repo.git("log", "-1", "--format=%B", BRANCH)
    assert message.startswith("Retrain churn 1.2.0 on new data (drift in monthly_charges")
    assert "DRIFT: 4 of 7 features drifted" in message
    assert (
        f'Modelward-Retrain: {{"fingerprint": "{sha}", "model": "churn", "reference": "1.1.0"}}'
        in message
    )

    # the local forge prints the body: marker, drift summary, one chart per drifted feature
    body = first.stdout.split("\n", 2)[2]
    assert retrain.parse_marker(body) == {
        "model": "churn",
        "reference": "1.1.0",
        "fingerprint": sha,
    }
    assert body.count("```mermaid") == 4
    record = json.loads((repo.path / ".modelward/retrain/churn.json").read_text())
    assert record["current"]["labels"] == ["retrain", "drift", "model:churn"]

    second = run(repo, snapshots["q4"])
    assert second.exit_code == 0, second.output
    assert second.stdout.startswith("unchanged: the open retraining pull request")
    assert branches(repo) == [BRANCH]
    assert repo.git("rev-parse", BRANCH) == head


def test_the_branch_validates_and_pr_judges_it(repo: GitRepo, snapshots: dict[str, Path]) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    repo.git("checkout", "-q", BRANCH)
    valid = cli("validate", "--repo", repo.path)
    assert valid.exit_code == 0, valid.output
    judged = cli(
        "pr", "--repo", repo.path, "--base", "main", "--author", retrain.BOT_NAME,
        "--pr-number", "7", "--format", "json",
    )  # fmt: skip
    assert judged.exit_code in (0, 1), judged.output
    data = json.loads(judged.stdout)
    models = {m["name"]: m for m in data["models"]}
    assert models["churn"]["version"] == "1.2.0"
    # the bot is the author: approvals from owners are still missing, so it is not merged
    # on its own say-so
    assert judged.exit_code == 1


def test_new_data_updates_the_open_request_in_place(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    first = repo.git("rev-parse", BRANCH)
    again = run(repo, snapshots["q1"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"updated: updated the retraining pull request on {BRANCH}")
    assert branches(repo) == [BRANCH]
    assert repo.git("rev-parse", BRANCH) != first
    assert repo.git("rev-parse", f"{BRANCH}~1") == repo.git("rev-parse", "main")
    assert f"sha256: {file_sha256(snapshots['q1'])}" in repo.git(
        "show", f"{BRANCH}:data/churn/dataset.yaml"
    )


def test_once_a_person_commits_the_bot_comments_instead_of_rewriting(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    repo.git("checkout", "-q", BRANCH)
    repo.commit("Tune the learning rate for the new data", {"notes.md": "tuned\n"})
    theirs = repo.git("rev-parse", BRANCH)
    repo.git("checkout", "-q", "main")
    result = run(repo, snapshots["q1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"commented: someone committed to {BRANCH}")
    assert repo.git("rev-parse", BRANCH) == theirs
    comment = repo.path / ".modelward/comments" / f"{theirs}.md"
    assert "the branch was not changed because a person has committed to it" in comment.read_text()


def test_data_closed_without_merging_is_not_proposed_again_but_new_data_is(
    repo: GitRepo, snapshots: dict[str, Path]
) -> None:
    assert run(repo, snapshots["q4"]).exit_code == 0
    repo.git("branch", "-q", "-D", BRANCH)  # closed without merging
    again = run(repo, snapshots["q4"])
    assert again.exit_code == 0
    assert again.stdout.startswith("rejected: a retraining pull request with this data")
    assert branches(repo) == []
    fresh = run(repo, snapshots["q1"])
    assert fresh.stdout.startswith("opened:"), fresh.output
    assert branches(repo) == [BRANCH]
    assert run(repo, snapshots["q4"]).stdout.startswith("rejected:")


def test_open_retraining_requests_are_capped(repo: GitRepo, snapshots: dict[str, Path]) -> None:
    config = repo.path / "modelward.yaml"
    config.write_text(config.read_text() + "monitoring: {max_open_prs: 0}\n")
    repo.commit("No retraining pull requests for now")
    result = run(repo, snapshots["q4"])
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "capped: 0 retraining pull requests are open, the cap is 0 (monitoring.max_open_prs"
    )
    assert branches(repo) == []


def test_the_version_bump_and_pin_edit_keep_comments_and_layout() -> None:
    assert retrain.minor_bump("1.2.3") == "1.3.0"
    assert retrain.minor_bump("0.9.0-rc.1") == "0.10.0"
    text = "name: churn\nversion: 1.0.0   # the built version\nstage: none\n"
    assert retrain._set_line(text, 2, "version", "1.1.0") == (
        "name: churn\nversion: 1.1.0   # the built version\nstage: none\n"
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("stages: {}   # none yet\n", "stages: {staging: 1.2.0}\n"),
        (
            "stages: {staging: 1.1.0, production: 1.0.0}\n",
            "stages: {staging: 1.2.0, production: 1.0.0}\n",
        ),
        (
            "stages:\n  staging: 1.1.0   # kept\n  production: 1.0.0\n",
            "stages:\n  staging: 1.2.0   # kept\n  production: 1.0.0\n",
        ),
        ("stages:\n  production: 1.0.0\n", "stages:\n  staging: 1.2.0\n  production: 1.0.0\n"),
        ("", "stages: {staging: 1.2.0}\n"),
    ],
)
def test_the_retrained_version_asks_for_the_entry_stage_and_keeps_the_others(
    before: str, after: str
) -> None:
    text = f"name: churn\nversion: 1.1.0\n{before}owners: [alice]\n"

    assert retrain._set_stage(text, "staging", "1.2.0") == (
        f"name: churn\nversion: 1.1.0\n{after}owners: [alice]\n"
    )
