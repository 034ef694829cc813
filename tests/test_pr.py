"""The pull-request flow on real repositories: a base branch, a head branch, the local forge."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GitRepo, cli
from helpers_registry import gto_register

from modelward import registry, yamlio
from modelward.report import MARKER, extract_data

BREAST_CANCER_ROC_AUC = 0.996226


def branch(repo: GitRepo, name: str, edits: dict[str, tuple[str, str]], message: str) -> str:
    """Check out a new branch from main and apply regex edits to files."""
    repo.git("checkout", "-q", "-b", name, "main")
    for rel, (old, new) in edits.items():
        path = repo.path / rel
        text = path.read_text()
        assert re.search(old, text, flags=re.M), f"{rel} has no {old!r}"
        path.write_text(re.sub(old, new, text, count=1, flags=re.M))
    return repo.commit(message)


TUNE_BREAST_CANCER = {
    "models/breast-cancer/model.yaml": (r"C: 1\.0", "C: 0.5"),
}


def to_production(repo: GitRepo) -> None:
    """breast-cancer (staging in the manifest, never registered) straight to production."""
    branch(
        repo,
        "straight-to-prod",
        {
            "models/breast-cancer/model.yaml": (r"^version: 0\.3\.0", "version: 0.4.0"),
        },
        "Bump breast-cancer",
    )
    path = repo.path / "models/breast-cancer/model.yaml"
    path.write_text(
        path.read_text().replace("{staging: 0.3.0}", "{staging: 0.3.0, production: 0.4.0}")
    )
    repo.commit("Move breast-cancer to production")


def run_pr(repo: GitRepo, *args: str) -> tuple[int, str]:
    result = cli("pr", "--repo", repo.path, "--base", "main", *args)
    return result.exit_code, result.output


def test_pull_request_touching_no_model_passes_fast_and_says_so(example_repo: GitRepo) -> None:
    example_repo.git("checkout", "-q", "-b", "docs")
    example_repo.commit("Add notes", {"NOTES.md": "hello\n"})
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.argv = ['modelward', 'pr', '--base', 'main'];"
            "code = 0\n"
            "try:\n    runpy.run_module('modelward', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code or 0\n"
            "heavy = [m for m in ('pandas', 'sklearn', 'great_expectations', 'pydantic', 'jinja2')"
            " if m in sys.modules]\n"
            "print('HEAVY', heavy); sys.exit(code)",
        ],
        cwd=example_repo.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "This pull request changes no model." in proc.stdout
    assert "HEAVY []" in proc.stdout


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display path of every YAML document parsed (the real parser still runs)."""
    seen: list[str] = []
    real = yamlio.Document

    def recording(path: str, data: object, lines: object) -> yamlio.Document:
        seen.append(path)
        return real(path, data, lines)  # type: ignore[arg-type]

    monkeypatch.setattr(yamlio, "Document", recording)
    return seen


def test_a_pull_request_touching_no_model_parses_no_manifest_or_policy(
    example_repo: GitRepo, parsed: list[str]
) -> None:
    example_repo.git("checkout", "-q", "-b", "docs")
    example_repo.commit("Add notes", {"NOTES.md": "hello\n"})
    code, out = run_pr(example_repo, "--author", "erin")
    assert code == 0, out
    assert "This pull request changes no model." in out
    assert parsed == ["modelward.yaml"], "read as plain YAML, for the artifact store's folder"


def test_a_pull_request_touching_no_model_still_refuses_a_committed_store(
    example_repo: GitRepo,
) -> None:
    example_repo.git("checkout", "-q", "-b", "poison")
    config = (example_repo.path / "modelward.yaml").read_text()
    example_repo.commit(
        "Store artifacts in a folder of their own",
        {"modelward.yaml": config.replace("store: .modelward/artifacts", "store: store/")},
    )
    example_repo.git("checkout", "-q", "main")
    example_repo.git("merge", "-q", "--ff-only", "poison")
    example_repo.git("checkout", "-q", "-b", "sneak")
    example_repo.commit("Bring my own metrics", {"store/abc/metrics.json": "{}"})
    code, out = run_pr(example_repo, "--author", "erin")
    assert code == 2
    assert out.strip() == (
        "store/abc/metrics.json:1: caches and artifacts are never read from a "
        "commit (store/abc/metrics.json); remove them from git (modelward keeps "
        "them out with .modelward/.gitignore)"
    )


def test_a_pull_request_touching_one_model_parses_only_its_files(
    example_repo: GitRepo, parsed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = example_repo.git("rev-parse", "main").strip()
    for model, version in (("churn", "1.3.0"), ("diabetes", "2.0.0"), ("breast-cancer", "0.2.0")):
        gto_register(example_repo.path, model, version, base)
    messages: list[str] = []
    real_parse_message = registry.parse_message

    def recording(message: str) -> object:
        messages.append(message.splitlines()[0])
        return real_parse_message(message)

    monkeypatch.setattr(registry, "parse_message", recording)
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    code, out = run_pr(example_repo, "--author", "erin")
    assert code == 1, out
    models = sorted(p for p in parsed if "models/" in p)
    datasets = sorted(p for p in parsed if p.startswith("data/"))
    # at head (work tree) and at the merge base (git), nothing of churn or diabetes
    assert models == ["models/breast-cancer/model.yaml"] * 2
    assert set(datasets) == {
        "data/breast-cancer/dataset.yaml",
        "data/breast-cancer/expectations.yaml",
    }
    assert {p for p in parsed if "policies/" in p} == {
        "policies/fairness.yaml",
        "policies/production.yaml",
        "policies/staging.yaml",
        "policies/waivers.yaml",
    }, "policies are few: all are read (the base's judge, the head's are validated)"
    assert messages == ["Registering artifact breast-cancer version v0.2.0"]


def test_a_change_without_approvals_is_pending_and_blocks(example_repo: GitRepo) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    head = example_repo.commit("Bump breast-cancer")
    code, out = run_pr(example_repo, "--author", "erin")
    assert code == 1
    assert MARKER in out
    data = extract_data(out, head_sha=head)
    assert data is not None and data["summary"] == "pending"
    approvals = [v for v in data["models"][0]["verdicts"] if v["rule"] == "approvals"]
    assert approvals[0]["status"] == "pending"
    saved = json.loads((example_repo.path / f".modelward/reports/{head}.json").read_text())
    assert saved["summary"] == "pending"


def test_an_owner_approval_passes_but_the_authors_own_does_not(example_repo: GitRepo) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    example_repo.commit("Bump breast-cancer")
    code, _ = run_pr(example_repo, "--author", "dana", "--approved-by", "dana")
    assert code == 1, "the author's own approval must not count"
    code, out = run_pr(example_repo, "--author", "erin", "--approved-by", "dana")
    assert code == 0, out
    assert "passed" in out.splitlines()[0] or "✅" in out


def test_an_unbumped_changed_model_fails_version_bump(example_repo: GitRepo) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer without a bump")
    code, out = run_pr(example_repo, "--author", "erin", "--approved-by", "dana")
    assert code == 1
    data = extract_data(out)
    assert data is not None
    bump = [v for v in data["models"][0]["verdicts"] if v["rule"] == "version_bump"]
    assert bump[0]["status"] == "fail"
    assert bump[0]["reason"] == "the artifact changed but version stays 0.3.0; bump it"


def test_stage_order_blocks_production_without_staging(example_repo: GitRepo) -> None:
    to_production(example_repo)
    code, out = run_pr(
        example_repo, "--author", "erin", "--approved-by", "dana", "--approved-by", "x"
    )
    assert code == 1
    data = extract_data(out)
    assert data is not None
    order = [v for v in data["models"][0]["verdicts"] if v["rule"] == "promotes_from"]
    assert order[0]["status"] == "fail"
    assert "staging" in order[0]["reason"]


def test_a_head_branch_policy_loosening_loosens_nothing(example_repo: GitRepo) -> None:
    """The pull request deletes the approvals rule; it is still judged by the base's."""
    branch(example_repo, "loosen", TUNE_BREAST_CANCER, "Tune breast-cancer")
    files = {
        "policies/staging.yaml": (example_repo.path / "policies/staging.yaml")
        .read_text()
        .replace("  - approvals: {min: 1, from: owners, exclude_author: true}\n", ""),
    }
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    files["models/breast-cancer/model.yaml"] = (
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    example_repo.commit("Loosen staging and bump", files)
    code, out = run_pr(example_repo, "--author", "erin")
    assert code == 1
    data = extract_data(out)
    assert data is not None
    rules = {v["rule"]: v["status"] for v in data["models"][0]["verdicts"]}
    assert rules["approvals"] == "pending", "the base branch's approvals rule still applies"
    assert [v["rule"] for v in data["governance"]] == ["governance"]
    assert data["governance"][0]["status"] in ("pending", "fail")


def test_the_head_must_be_checked_out(example_repo: GitRepo) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune")
    example_repo.git("checkout", "-q", "main")
    result = cli("pr", "--repo", example_repo.path, "--base", "main", "--head", "tune")
    assert result.exit_code == 2
    assert "is not the checked-out commit" in result.output


@pytest.mark.slow
def test_report_file_gets_the_same_markdown(example_repo: GitRepo, tmp_path: Path) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune")
    target = tmp_path / "report.md"
    code, out = run_pr(example_repo, "--author", "erin", "--report", str(target))
    assert target.read_text().strip() == out.strip()
    assert code == 1


def test_without_a_registry_the_base_branchs_model_is_the_baseline(example_repo: GitRepo) -> None:
    """No version is registered in production yet: no_regression compares with main's model."""
    path = example_repo.path / "models/breast-cancer/model.yaml"
    example_repo.git("checkout", "-q", "-b", "prod")
    text = path.read_text().replace("C: 1.0", "C: 0.01").replace("version: 0.3.0", "version: 0.4.0")
    example_repo.commit(
        "Regularise harder, ship to production",
        {
            "models/breast-cancer/model.yaml": text.replace(
                "{staging: 0.3.0}", "{staging: 0.3.0, production: 0.4.0}"
            )
        },
    )
    code, out = run_pr(example_repo, "--author", "erin")
    data = extract_data(out)
    assert data is not None and code == 1
    model = data["models"][0]
    assert model["baseline"] == {"version": "0.3.0", "stage": "production", "source": "base-branch"}
    roc = next(m for m in model["metrics"] if m["name"] == "roc_auc")
    assert roc["baseline"] == pytest.approx(BREAST_CANCER_ROC_AUC, abs=1e-6)
    assert roc["candidate"] != roc["baseline"]
    # the base branch's model is trained once: a second run is served from its cache
    tree = example_repo.path / ".modelward/base-worktree"
    entries = sorted(p.name for p in (tree / ".modelward/artifacts").iterdir())
    run_pr(example_repo, "--author", "erin")
    assert sorted(p.name for p in (tree / ".modelward/artifacts").iterdir()) == entries
    assert example_repo.git("status", "--porcelain") == "", ".modelward/ never shows in git status"


def test_a_review_event_re_evaluates_approvals_without_retraining(example_repo: GitRepo) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    example_repo.commit("Bump breast-cancer")
    code, first = run_pr(example_repo, "--author", "erin")
    assert code == 1
    store = example_repo.path / ".modelward/artifacts"
    shutil.rmtree(store)  # a retrain would write the store entry again
    code, second = run_pr(example_repo, "--author", "erin", "--approved-by", "dana")
    assert code == 0
    assert not store.exists(), "nothing was retrained"
    data = extract_data(second)
    assert data is not None
    assert data["notes"] == [
        "Approvals re-evaluated on the results recorded for this head; nothing retrained."
    ]
    before = extract_data(first)
    assert before is not None
    assert data["models"][0]["metrics"] == before["models"][0]["metrics"]
    # a new head is judged afresh
    example_repo.commit("Another change", {"NOTES.md": "x\n"})
    code, _ = run_pr(example_repo, "--author", "erin", "--approved-by", "dana")
    assert code == 0
    assert store.exists()


def test_a_change_that_commits_caches_or_artifacts_is_refused(example_repo: GitRepo) -> None:
    """A pull request must not hand the bot its own 'cached' metrics."""
    example_repo.git("checkout", "-q", "-b", "poison")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    example_repo.write({".modelward/artifacts/abc/metrics.json": "{}"})
    example_repo.git("add", "-f", ".modelward/artifacts/abc/metrics.json", "models")
    example_repo.git("commit", "-q", "-m", "Bring my own metrics")
    code, out = run_pr(example_repo, "--author", "erin")
    assert code == 2
    assert out.strip() == (
        ".modelward/artifacts/abc/metrics.json:1: caches and artifacts are never read from a "
        "commit (.modelward/artifacts/abc/metrics.json); remove them from git (modelward keeps "
        "them out with .modelward/.gitignore)"
    )


def test_rules_added_to_the_base_after_the_branch_point_apply(example_repo: GitRepo) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    head = example_repo.commit("Bump")
    example_repo.git("checkout", "-q", "main")
    staging = example_repo.path / "policies/staging.yaml"
    example_repo.commit(
        "Raise the staging floor",
        {"policies/staging.yaml": staging.read_text() + "  - min_metric: {roc_auc: 0.999}\n"},
    )
    example_repo.git("checkout", "-q", head)
    code, out = run_pr(example_repo, "--author", "erin", "--approved-by", "dana")
    data = extract_data(out)
    assert data is not None and code == 1
    floor = [v for v in data["models"][0]["verdicts"] if v["rule"] == "min_metric"]
    assert [v["status"] for v in floor] == ["fail"]


def test_a_waiver_change_alone_does_not_count_as_a_changed_artifact(example_repo: GitRepo) -> None:
    waivers = example_repo.path / "policies/waivers.yaml"
    example_repo.git("checkout", "-q", "-b", "waive")
    example_repo.commit(
        "Waive data checks for breast-cancer",
        {
            "policies/waivers.yaml": waivers.read_text()
            + "  - policy: staging\n    rule: data_checks_pass\n    model: breast-cancer\n"
            "    reason: relabelling\n    approved_by: [carol]\n    expires: 2099-01-01\n"
        },
    )
    _, out = run_pr(example_repo, "--author", "erin", "--approved-by", "dana")
    data = extract_data(out)
    assert data is not None
    # the stage map is unchanged, so no stage judges it; and no built-in check fails
    assert [v for v in data["models"][0]["verdicts"] if v["status"] != "pass"] == []


def test_bad_refs_and_sub_folders(example_repo: GitRepo) -> None:
    result = cli("pr", "--repo", example_repo.path, "--base", "main", "--head", "nope")
    assert result.exit_code == 2
    assert "--head 'nope' does not name a commit" in result.output
    example_repo.git("checkout", "-q", "-b", "docs")
    example_repo.commit("Notes", {"NOTES.md": "x\n"})
    result = cli("pr", "--repo", example_repo.path / "models", "--base", "main")
    assert result.exit_code == 0, result.output


def _approvals_reason(out: str, head: str) -> str:
    data = extract_data(out, head_sha=head)
    assert data is not None
    verdicts = [v for v in data["models"][0]["verdicts"] if v["rule"] == "approvals"]
    return str(verdicts[0]["reason"])


def test_local_teams_in_the_base_modelward_yaml_let_a_team_member_approve(
    example_repo: GitRepo,
) -> None:
    config = example_repo.path / "modelward.yaml"
    config.write_text(config.read_text() + "local:\n  teams: {acme/health-ds: [frank]}\n")
    example_repo.commit("Local forge: health-ds members")
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    head = example_repo.commit("Bump breast-cancer")
    code, out = run_pr(example_repo, "--author", "erin", "--approved-by", "frank")
    assert code == 0, out
    assert _approvals_reason(out, head) == "1 approval (1 required) from owners (frank)"


def test_a_team_member_the_forge_cannot_see_is_not_called_a_non_owner(
    example_repo: GitRepo,
) -> None:
    branch(example_repo, "tune", TUNE_BREAST_CANCER, "Tune breast-cancer")
    bump = example_repo.path / "models/breast-cancer/model.yaml"
    bump.write_text(
        bump.read_text()
        .replace("version: 0.3.0", "version: 0.3.1")
        .replace("{staging: 0.3.0}", "{staging: 0.3.1}")
    )
    # the pull request cannot make itself a team member: teams come from the base
    config = example_repo.path / "modelward.yaml"
    config.write_text(config.read_text() + "local:\n  teams: {acme/health-ds: [frank]}\n")
    head = example_repo.commit("Bump breast-cancer and add frank to the team")
    code, out = run_pr(example_repo, "--author", "erin", "--approved-by", "frank")
    assert code == 1
    assert _approvals_reason(out, head) == (
        "0 approvals (1 required) from owners; not counted: frank (not among the known owners); "
        "membership of @acme/health-ds is unknown, so its members cannot be counted"
    )


UNUSED_POLICY = """\
apiVersion: modelward/v1
kind: Policy
name: legacy
description: For models not written yet; it affects no model today.
applies_to: {stages: [staging], models: ["legacy-*"]}
enforcement: block
rules:
  - data_checks_pass: true
"""


def _governance_team_change(repo: GitRepo) -> str:
    """The base names the governance team's members (local.teams); the branch adds a policy."""
    config = repo.path / "modelward.yaml"
    config.write_text(
        config.read_text() + "local:\n  teams: {acme/ml-governance: [gina, hal, erin]}\n"
    )
    repo.commit("Local forge: ml-governance members")
    repo.git("checkout", "-q", "-b", "legacy", "main")
    return repo.commit("A policy for legacy models", {"policies/legacy.yaml": UNUSED_POLICY})


def _governance_verdict(out: str, head: str) -> dict[str, object]:
    data = extract_data(out, head_sha=head)
    assert data is not None and data["models"] == []
    (verdict,) = data["governance"]
    return dict(verdict)


def test_a_policy_change_approved_by_governance_team_members_passes(
    example_repo: GitRepo,
) -> None:
    head = _governance_team_change(example_repo)
    args = ("--author", "erin", "--approved-by", "gina", "--approved-by", "hal")
    code, out = run_pr(example_repo, *args)
    assert code == 0, out
    verdict = _governance_verdict(out, head)
    assert (verdict["status"], verdict["reason"]) == (
        "pass",
        "changes to policies/legacy.yaml approved: 2 approvals (1 required) from governance "
        "(gina, hal)",
    )


def test_the_authors_own_approval_as_a_governance_team_member_does_not_count(
    example_repo: GitRepo,
) -> None:
    head = _governance_team_change(example_repo)
    code, out = run_pr(example_repo, "--author", "erin", "--approved-by", "erin")
    assert code == 1, out
    verdict = _governance_verdict(out, head)
    assert (verdict["status"], verdict["reason"]) == (
        "pending",
        "changes to policies/legacy.yaml need governance approval: 0 approvals (1 required) "
        "from governance; the author's own approval does not count",
    )
