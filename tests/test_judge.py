"""One judging path: pr, promote and audit's re-check ask `judge` the same questions.

Before it, the three flows answered "did the artifact change?" three ways (training
inputs in pr, registered bytes in promote, recorded bytes in audit): a pull request that
only tightened its dataset's expectations was blocked by version_bump in pr and passed at
promote. These tests pin the one answer, and show the three flows agree on it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import GitRepo, cli
from helpers_flow import (
    CHURN,
    audit_json,
    fresh_clone,
    merge,
    open_pr,
    promote,
    pushed_example,
    status_of,
)

from modelward import registry
from modelward.judge import (
    Judge,
    StageChange,
    approvals_of,
    artifact_changed,
    stage_changes,
)
from modelward.manifest import Config, Model, training_digest
from modelward.workspace import load

OWNERS = ("bob", "dave")
EXPECTATIONS = "data/churn/expectations.yaml"
DATASET = "data/churn/dataset.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return pushed_example(tmp_path)


def churn_at(repo: GitRepo, ref: str) -> Model:
    from modelward.baseline import base_model

    loaded = base_model(repo.path, ref, "churn")
    assert loaded is not None
    return loaded.record


def commit_change(repo: GitRepo, files: dict[str, str]) -> tuple[str, str]:
    base = repo.head()
    repo.commit("A change", files)
    return base, repo.head()


def changed(repo: GitRepo, base: str, head: str, history: object = None, **kw: str) -> object:
    return artifact_changed(
        repo.path,
        history,  # type: ignore[arg-type]
        churn_at(repo, base),
        churn_at(repo, head),
        base,
        head,
        **kw,
    )


# ---------------------------------------------------------------- did the artifact change?


def test_tightened_expectations_change_no_artifact(repo: GitRepo) -> None:
    text = (repo.path / EXPECTATIONS).read_text()
    extra = "  - expect_column_values_to_not_be_null: {column: region}\n"
    base, head = commit_change(repo, {EXPECTATIONS: text + extra})
    assert changed(repo, base, head) is False


def test_a_dataset_description_or_monitoring_change_changes_no_artifact(repo: GitRepo) -> None:
    text = (repo.path / DATASET).read_text()
    base, head = commit_change(
        repo, {DATASET: text.replace("description:", "description: New.", 1)}
    )
    assert changed(repo, base, head) is False


def test_how_the_data_is_read_changes_the_artifact(repo: GitRepo) -> None:
    text = (repo.path / DATASET).read_text()
    base, head = commit_change(repo, {DATASET: text + 'read: {na_values: ["?"]}\n'})
    assert changed(repo, base, head) is True


def test_the_data_file_changes_the_artifact(repo: GitRepo) -> None:
    data = repo.path / "data/churn/churn.csv"
    lines = data.read_text().splitlines(keepends=True)
    base, head = commit_change(repo, {"data/churn/churn.csv": "".join(lines[:-1])})
    assert changed(repo, base, head) is True


def test_training_params_change_the_artifact_but_owners_do_not(repo: GitRepo) -> None:
    text = (repo.path / CHURN).read_text()
    base, head = commit_change(repo, {CHURN: text.replace('"alice", ', "")})
    assert changed(repo, base, head) is False
    base, head = commit_change(repo, {CHURN: text.replace("random_state: 0", "random_state: 1")})
    assert changed(repo, base, head) is True


def test_a_new_model_has_nothing_to_compare_with(repo: GitRepo) -> None:
    head = churn_at(repo, "HEAD")
    assert artifact_changed(repo.path, None, None, head, "HEAD", "HEAD") is None


def test_a_base_version_registered_with_other_data_stays_changed(repo: GitRepo) -> None:
    """The base's version was registered from data that is no longer in git (changed
    behind the registry's back): the same inputs on both commits do not make it unchanged."""
    model = churn_at(repo, "HEAD")
    ev = registry.Evidence(
        model="churn",
        version=model.version,
        action="register",
        training_digest=training_digest(model),
        data_sha256="0" * 64,
    )
    event = registry.Event(
        "churn", "register", model.version, None, None, "churn@v1.0.0", repo.head(), None, None, ev
    )
    history = registry.ModelHistory("churn", [event])
    head = repo.head()
    assert changed(repo, head, head, history) is False  # no data hash to compare with
    assert changed(repo, head, head, history, data_sha256="0" * 64) is False
    assert changed(repo, head, head, history, data_sha256="1" * 64) is True


# ---------------------------------------------------------------- the judge


def test_stage_changes_name_moves_additions_and_removals_in_stage_order(repo: GitRepo) -> None:
    model = churn_at(repo, "HEAD")
    old = model.model_copy(update={"stages": {"production": "0.9.0", "staging": "1.0.0"}})
    new = model.model_copy(update={"stages": {"staging": "1.0.0", "canary": "1.0.0"}})
    found = stage_changes(old, new, ["staging", "production"])
    assert [c.describe() for c in found] == ["production: 0.9.0 removed", "canary: 1.0.0"]


def test_a_version_nobody_registered_is_a_blocking_verdict_not_a_pass(repo: GitRepo) -> None:
    from modelward.governance import governance_at

    rules = governance_at(repo.path, "HEAD")
    ws = load(repo.path, only_models=["churn"])
    judge = Judge(rules, approvals_of(None, rules.config, local=True), dt.date(2026, 11, 30))
    [judged] = judge.changes(
        repo.path,
        ws.models["churn"],
        [StageChange("staging", None, "0.0.1")],
        candidate=None,
        history=None,
        base_ref="HEAD",
    )
    assert judged.version is None
    [verdict] = judged.verdicts
    assert verdict.blocking and verdict.status == "fail"
    assert "neither this manifest's version" in verdict.reason


def test_local_teams_count_only_on_the_local_forge() -> None:
    config = Config.model_validate(
        {
            "apiVersion": "modelward/v1",
            "kind": "Config",
            "local": {"teams": {"@acme/risk-ds": ["carol"]}},
        }
    )
    assert approvals_of(None, config, local=True).teams == {"@acme/risk-ds": frozenset({"carol"})}
    assert approvals_of(None, config, local=False).teams == {}


# ---------------------------------------------------------------- the three flows agree


def test_pr_promote_and_audit_agree_that_tightened_expectations_need_no_version_bump(
    repo: GitRepo,
) -> None:
    land = {CHURN: {"version": "1.1.0", "stages": "{staging: 1.1.0}"}}
    open_pr(repo, "c110", 1, change=land, approvers=OWNERS)
    result = promote(repo, merge(repo, "c110", 1, approvers=OWNERS))
    assert result.exit_code == 0, result.output

    text = (repo.path / EXPECTATIONS).read_text()
    tighter = text + "  - expect_column_values_to_not_be_null: {column: region}\n"
    judged = open_pr(repo, "tighten", 2, files={EXPECTATIONS: tighter}, approvers=OWNERS)
    assert judged.exit_code == 0, judged.output
    assert "version_bump" not in judged.stdout or '"fail"' not in judged.stdout

    result = promote(repo, merge(repo, "tighten", 2, approvers=OWNERS))
    assert result.exit_code == 0, result.output
    assert "BYPASS" not in result.stdout
    assert "modelward/bypass/" not in repo.git("tag", "--list")

    # (the repository itself: a fresh clone lacks the locally stored artifacts)
    code, report = audit_json(repo.path)
    assert code == 0, str(report["verification"])
    assert status_of(repo.path, "churn")["status"] == "Synced"


def test_pr_and_promote_agree_that_a_new_way_to_read_the_data_needs_a_version_bump(
    repo: GitRepo, tmp_path: Path
) -> None:
    land = {CHURN: {"version": "1.1.0", "stages": "{staging: 1.1.0}"}}
    open_pr(repo, "c110", 1, change=land, approvers=OWNERS)
    assert promote(repo, merge(repo, "c110", 1, approvers=OWNERS)).exit_code == 0

    text = (repo.path / DATASET).read_text() + 'read: {na_values: ["?"]}\n'
    judged = open_pr(repo, "reread", 2, files={DATASET: text}, approvers=OWNERS)
    assert judged.exit_code == 1, judged.output
    assert "the artifact changed but version stays 1.1.0" in judged.stdout

    # merged over the block: promote records the same finding as a bypass, in git
    result = promote(repo, merge(repo, "reread", 2, approvers=OWNERS))
    assert "the artifact changed but version stays 1.1.0" in result.stdout, result.output
    clone = fresh_clone(repo, tmp_path / "auditor")
    code, report = audit_json(clone)
    assert code == 1
    assert "the artifact changed but version stays 1.1.0" in str(report)


def test_a_review_event_reapproves_through_the_same_judge(repo: GitRepo) -> None:
    """The second run on the same head re-judges only approvals, with the owners the first
    run recorded: the base's, not a list the pull request wrote."""
    change = {CHURN: {"version": "1.1.0", "stages": "{staging: 1.1.0}", "owners": '["erin"]'}}
    first = open_pr(repo, "c110", 1, change=change, author="erin")
    assert first.exit_code == 1
    again = cli(
        "pr", "--repo", repo.path, "--base", "main", "--author", "erin", "--pr-number", "1",
        "--approved-by", "erin", "--format", "json",
    )  # fmt: skip
    assert again.exit_code == 1, again.output
    assert "nothing retrained" in again.stdout
    approved = cli(
        "pr", "--repo", repo.path, "--base", "main", "--author", "erin", "--pr-number", "1",
        "--approved-by", "bob", "--format", "json",
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output


# ---------------------------------------------------------------- deleting a model


DIABETES = "models/diabetes/model.yaml"  # no waiver names it: it can be deleted


def delete_diabetes(repo: GitRepo, branch: str, number: int, **kw: object) -> None:
    repo.git("checkout", "-q", "-b", branch, "main")
    repo.git("rm", "-q", "-r", "models/diabetes")
    repo.git("commit", "-q", "-m", f"Retire diabetes (#{number})")
    args: list[str | Path] = ["pr", "--repo", repo.path, "--base", "main", "--author", "frank"]
    args += ["--pr-number", str(number), "--format", "json"]
    for who in kw.get("approvers", ()):  # type: ignore[attr-defined]
        args += ["--approved-by", who]
    result = cli(*args)
    assert result.exit_code == kw.get("code", 0), result.output


def land_diabetes_in_staging(repo: GitRepo) -> None:
    land = {DIABETES: {"stages": "{staging: 2.1.0}"}}
    open_pr(repo, "d210", 1, change=land, author="frank", approvers=("erin",))
    before = merge(repo, "d210", 1, author="frank", approvers=("erin",))
    assert promote(repo, before).exit_code == 0


def test_deleting_a_model_takes_it_out_of_its_stages_with_their_approvals(repo: GitRepo) -> None:
    land_diabetes_in_staging(repo)
    # without approvals the deletion waits for staging's owners, like removing the entry
    delete_diabetes(repo, "retire-unapproved", 2, code=1)
    repo.git("checkout", "-q", "main")
    delete_diabetes(repo, "retire", 3, approvers=("erin",))

    result = promote(repo, merge(repo, "retire", 3, author="frank", approvers=("erin",)))

    assert result.exit_code == 0, result.output
    assert "BYPASS" not in result.stdout
    assert "diabetes#staging!#" in result.stdout, result.stdout
    assert not status_of(repo.path, "diabetes").get("actual")


def test_a_model_deleted_without_approvals_is_a_bypass_in_git(
    repo: GitRepo, tmp_path: Path
) -> None:
    """The attacker deletes the manifest to take a model out of staging unapproved."""
    land_diabetes_in_staging(repo)
    delete_diabetes(repo, "retire", 2, code=1)

    result = promote(repo, merge(repo, "retire", 2, author="frank"))

    assert "BYPASS" in result.stdout, result.output
    clone = fresh_clone(repo, tmp_path / "auditor")
    code, report = audit_json(clone)
    assert code == 1
    assert "diabetes#staging!#" in str(report) and "bypass" in str(report).lower()
