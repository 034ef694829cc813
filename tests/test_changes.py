"""Change detection: which models a branch affects, and why, from a real git diff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GitRepo, cli, make_repo

from modelward.changes import AffectedModel, ChangedFile, default_base, plan
from modelward.errors import GitError, UsageError

ALL = ("breast-cancer", "breast-cancer-stack", "churn", "diabetes", "wine")


def branch(repo: GitRepo, name: str = "feature") -> None:
    repo.git("checkout", "-q", "-b", name)


def edit(repo: GitRepo, path: str, old: str, new: str) -> None:
    target = repo.path / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))


def manifest(repo: GitRepo, name: str, dataset: str, description: str = "A model.") -> str:
    """A copy of the churn manifest under another name (and dataset)."""
    text = (repo.path / "models/churn/model.yaml").read_text()
    text = text.replace("name: churn", f"name: {name}", 1)
    text = text.replace("dataset: churn", f"dataset: {dataset}", 1)
    lines = [
        f"description: {json.dumps(description)}" if line.startswith("description:") else line
        for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


def affected(repo: GitRepo, base: str = "main", head: str = "HEAD") -> dict[str, AffectedModel]:
    return {m.name: m for m in plan(repo.path, base, head).models}


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path)


# ---------------------------------------------------------------- models/NAME/


def test_manifest_edit_affects_only_that_model(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "models/churn/model.yaml", "max_iter: 200", "max_iter: 300")
    repo.commit("More iterations")

    result = plan(repo.path, "main", "HEAD")

    assert result.models == (AffectedModel("churn", "changed", ("manifest changed",)),)
    assert result.governance_files == ()
    assert result.changed_files == (ChangedFile("modified", "models/churn/model.yaml"),)
    assert result.base == repo.git("rev-parse", "main")
    assert result.head == repo.head()
    assert result.merge_base == result.base


def test_other_file_in_a_model_folder_affects_that_model(repo: GitRepo) -> None:
    branch(repo)
    repo.commit("Notes", {"models/diabetes/features.py": "X = 1\n"})

    assert affected(repo) == {
        "diabetes": AffectedModel("diabetes", "changed", ("models/diabetes/features.py added",))
    }


def test_a_folder_under_models_without_manifest_is_not_a_model(repo: GitRepo) -> None:
    branch(repo)
    repo.commit("Scratch", {"models/scratch/notes.md": "todo\n"})

    result = plan(repo.path, "main", "HEAD")

    assert result.models == ()
    assert [f.path for f in result.changed_files] == ["models/scratch/notes.md"]


def test_new_model_is_added(repo: GitRepo) -> None:
    branch(repo)
    repo.commit(
        "New model", {"models/churn-lite/model.yaml": manifest(repo, "churn-lite", "churn")}
    )

    assert affected(repo) == {"churn-lite": AffectedModel("churn-lite", "added", ("new model",))}


def test_deleted_model_is_reported_and_not_trained(repo: GitRepo) -> None:
    branch(repo)
    repo.git("rm", "-q", "-r", "models/diabetes")
    repo.commit("Retire diabetes")

    result = plan(repo.path, "main", "HEAD")

    assert result.models == (AffectedModel("diabetes", "deleted", ("model deleted",)),)
    assert result.to_train == ()
    assert result.to_matrix() == {"include": []}


def test_renamed_model_folder_is_one_renamed_model_with_its_old_name(repo: GitRepo) -> None:
    branch(repo)
    repo.commit("Notes", {"models/breast-cancer/README.md": "About the model.\n"})
    repo.git("mv", "models/breast-cancer", "models/tumour")
    edit(repo, "models/tumour/model.yaml", "name: breast-cancer", "name: tumour")
    repo.commit("Rename breast-cancer to tumour")

    result = plan(repo.path, "main", "HEAD")

    assert result.models == (
        AffectedModel(
            "tumour",
            "renamed",
            ("renamed from breast-cancer", "manifest changed", "models/tumour/README.md added"),
            old_name="breast-cancer",
        ),
    )
    renamed = [f for f in result.changed_files if f.status == "renamed"]
    assert [(f.old_path, f.path) for f in renamed] == [
        ("models/breast-cancer/model.yaml", "models/tumour/model.yaml")
    ]


# ---------------------------------------------------------------- data/DS/


@pytest.fixture
def two_churn_models(repo: GitRepo) -> GitRepo:
    """churn-lite also trains on churn; decoy mentions churn but trains on diabetes."""
    repo.commit(
        "Two more models",
        {
            "models/churn-lite/model.yaml": manifest(repo, "churn-lite", "churn"),
            "models/decoy/model.yaml": manifest(
                repo, "decoy", "diabetes", "Not about churn: dataset: churn is only mentioned."
            ),
        },
    )
    branch(repo)
    return repo


def test_dataset_file_edit_affects_every_model_that_names_the_dataset(
    two_churn_models: GitRepo,
) -> None:
    repo = two_churn_models
    with (repo.path / "data/churn/churn.csv").open("a") as fh:
        fh.write("C99999,99,month-to-month,10,10.0,north,female,0\n")
    repo.commit("More churn rows")

    reason = ("dataset churn: churn.csv changed",)
    assert affected(repo) == {
        "churn": AffectedModel("churn", "changed", reason),
        "churn-lite": AffectedModel("churn-lite", "changed", reason),
    }


def test_dataset_yaml_edit_affects_the_models_of_that_dataset(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "data/diabetes/dataset.yaml", "kind: Dataset", "kind: Dataset\n# reviewed")
    repo.commit("Note on the diabetes data")

    assert affected(repo) == {
        "diabetes": AffectedModel(
            "diabetes", "changed", ("dataset diabetes: dataset.yaml changed",)
        )
    }


def test_expectations_edit_names_the_expectations(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "data/churn/expectations.yaml", "expectations:", "# stricter\nexpectations:")
    repo.commit("Stricter churn expectations")

    assert affected(repo) == {
        "churn": AffectedModel("churn", "changed", ("expectations of churn changed",))
    }


def test_expectations_file_is_the_one_dataset_yaml_names_at_head(repo: GitRepo) -> None:
    branch(repo)
    repo.git("mv", "data/diabetes/expectations.yaml", "data/diabetes/checks.yaml")
    with (repo.path / "data/diabetes/dataset.yaml").open("a") as fh:
        fh.write("expectations: checks.yaml\n")
    repo.commit("Rename the expectations file")

    assert affected(repo)["diabetes"].reasons == (
        "dataset diabetes: expectations.yaml deleted",
        "expectations of diabetes added",
        "dataset diabetes: dataset.yaml changed",
    )


# ---------------------------------------------------------------- policies/


RISK_POLICY = """\
apiVersion: modelward/v1
kind: Policy
name: risk
applies_to: {stages: [production], models: [%s]}
enforcement: %s
rules:
  - min_metric: {roc_auc: 0.7}
"""


def test_policy_edit_affects_exactly_the_models_its_globs_cover(repo: GitRepo) -> None:
    repo.commit(
        "Risk policy and a second churn model",
        {
            "policies/risk.yaml": RISK_POLICY % ('"churn*"', "block"),
            "models/churn-lite/model.yaml": manifest(repo, "churn-lite", "churn"),
        },
    )
    branch(repo)
    repo.commit(
        "Risk policy only warns", {"policies/risk.yaml": RISK_POLICY % ('"churn*"', "warn")}
    )

    result = plan(repo.path, "main", "HEAD")

    assert result.models == (
        AffectedModel("churn", "changed", ("policy risk changed",)),
        AffectedModel("churn-lite", "changed", ("policy risk changed",)),
    )
    assert result.governance_files == ("policies/risk.yaml",)


def test_narrowing_a_policy_rechecks_the_models_it_used_to_cover(repo: GitRepo) -> None:
    repo.commit("Risk policy", {"policies/risk.yaml": RISK_POLICY % ('"*"', "block")})
    branch(repo)
    repo.commit("Risk covers churn only", {"policies/risk.yaml": RISK_POLICY % ("churn", "block")})

    assert sorted(affected(repo)) == list(ALL)


def test_new_policy_affects_the_models_it_covers(repo: GitRepo) -> None:
    branch(repo)
    repo.commit("Risk policy", {"policies/risk.yaml": RISK_POLICY % ('"diab*"', "block")})

    assert affected(repo) == {
        "diabetes": AffectedModel("diabetes", "changed", ("policy risk added",))
    }


def test_waivers_edit_affects_only_the_models_of_the_changed_waivers(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "policies/waivers.yaml", "expires: 2027-06-30", "expires: 2027-09-30")
    with (repo.path / "policies/waivers.yaml").open("a") as fh:
        fh.write(
            "  - policy: staging\n    rule: version_bump\n    model: diabetes\n"
            "    reason: Relabelled data only.\n    approved_by: [carol]\n    expires: 2026-01-31\n"
        )
    repo.commit("Extend the churn waiver, waive diabetes version bump")

    result = plan(repo.path, "main", "HEAD")

    assert result.models == (
        AffectedModel("churn", "changed", ("waiver fairness/fairness_gap changed",)),
        AffectedModel("diabetes", "changed", ("waiver staging/version_bump added",)),
    )
    assert result.governance_files == ("policies/waivers.yaml",)


def test_modelward_yaml_edit_affects_every_model(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "modelward.yaml", 'owners: ["@acme/ml-governance", "carol"]', "owners: [carol]")
    repo.commit("Governance owners")

    result = plan(repo.path, "main", "HEAD")

    assert result.models == tuple(
        AffectedModel(name, "changed", ("modelward.yaml changed",)) for name in ALL
    )
    assert result.governance_files == ("modelward.yaml",)


# ---------------------------------------------------------------- the range


def test_change_touching_no_model_is_an_empty_plan(repo: GitRepo) -> None:
    branch(repo)
    repo.commit("Docs", {"README.md": "# Our models\n", "scripts/tool.py": "print(1)\n"})

    result = plan(repo.path, "main", "HEAD")

    assert result.models == ()
    assert result.governance_files == ()
    assert len(result.changed_files) == 2
    assert result.to_matrix() == {"include": []}


def test_changes_on_base_after_the_branch_point_do_not_appear(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "models/churn/model.yaml", "max_iter: 200", "max_iter: 300")
    repo.commit("Churn change on the branch")
    repo.git("checkout", "-q", "main")
    edit(repo, "models/diabetes/model.yaml", "version: 2.1.0", "version: 2.1.1")
    edit(repo, "modelward.yaml", "default_branch: main", "default_branch: main # base")
    main_head = repo.commit("Diabetes and config change on main")

    result = plan(repo.path, "main", "feature")

    assert [m.name for m in result.models] == ["churn"]
    assert result.governance_files == ()
    assert result.base == main_head
    assert result.merge_base == repo.git("merge-base", "main", "feature")


def test_plan_from_a_subdirectory_sees_the_whole_repository(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "data/churn/expectations.yaml", "expectations:", "# stricter\nexpectations:")
    repo.commit("Stricter churn expectations")

    result = plan(repo.path / "models", "main", "HEAD")

    assert [(m.name, m.reasons) for m in result.models] == [
        ("churn", ("expectations of churn changed",))
    ]


def test_plan_to_dict_is_json_ready(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "models/churn/model.yaml", "max_iter: 200", "max_iter: 300")
    repo.commit("More iterations")

    data = json.loads(json.dumps(plan(repo.path, "main", "HEAD").to_dict()))

    assert data["models"] == [
        {"name": "churn", "status": "changed", "reasons": ["manifest changed"], "old_name": None}
    ]
    assert data["base_ref"] == "main" and data["head_ref"] == "HEAD"


def test_unknown_ref_is_a_usage_error(repo: GitRepo) -> None:
    with pytest.raises(UsageError) as caught:
        plan(repo.path, "no-such-branch", "HEAD")
    assert str(caught.value) == (
        f"--base 'no-such-branch' does not name a commit in {repo.path} "
        "(no branch, tag or commit of that name; fetch it first?)"
    )


def test_ref_that_looks_like_an_option_is_refused(repo: GitRepo) -> None:
    with pytest.raises(UsageError, match=r"^--head '--output=x' is not a valid git ref$"):
        plan(repo.path, "main", "--output=x")


def test_plan_outside_a_git_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        plan(tmp_path, "main", "HEAD")


def test_default_base_is_the_remote_default_branch_when_it_exists(repo: GitRepo) -> None:
    assert default_base(repo.path) == "origin/main"


def test_default_base_falls_back_to_the_local_branch_of_modelward_yaml(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, origin=False)
    edit(repo, "modelward.yaml", "default_branch: main", "default_branch: trunk")
    repo.commit("Trunk")

    assert default_base(repo.path) == "trunk"


# ---------------------------------------------------------------- the command


def test_plan_command_prints_reasons_and_governance_files(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "models/churn/model.yaml", "max_iter: 200", "max_iter: 300")
    edit(repo, "policies/staging.yaml", "min: 1", "min: 2")
    repo.commit("Churn and staging approvals")

    result = cli("plan", "--repo", repo.path, "--base", "main")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("plan: main (")
    assert "5 models affected" in lines
    assert "  churn                changed  manifest changed; policy staging changed" in lines
    assert lines[-2:] == [
        "governance files changed (need approval of governance owners):",
        "  policies/staging.yaml",
    ]


def test_plan_command_github_matrix_fans_out_models_to_train(repo: GitRepo) -> None:
    branch(repo)
    edit(repo, "models/churn/model.yaml", "max_iter: 200", "max_iter: 300")
    repo.git("rm", "-q", "-r", "models/diabetes")
    repo.commit("Churn change, diabetes retired")

    result = cli("plan", "--repo", repo.path, "--format", "github-matrix")

    assert result.exit_code == 0, result.output
    assert result.output == '{"include": [{"model": "churn", "reasons": "manifest changed"}]}\n'


def test_plan_command_github_matrix_of_an_empty_plan_is_an_empty_include(repo: GitRepo) -> None:
    result = cli("plan", "--repo", repo.path, "--format", "github-matrix")

    assert result.exit_code == 0, result.output
    assert result.output == '{"include": []}\n'


def test_plan_command_with_a_bad_ref_exits_2(repo: GitRepo) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "modelward", "plan", "--repo", str(repo.path), "--base", "nope"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"modelward: --base 'nope' does not name a commit in {repo.path} "
        "(no branch, tag or commit of that name; fetch it first?)\n"
    )
    assert proc.stdout == ""


def test_plan_on_200_models_touching_none_imports_no_heavy_library(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    text = (repo.path / "models/diabetes/model.yaml").read_text()
    repo.commit(
        "200 models",
        {
            f"models/m{i:03d}/model.yaml": text.replace("name: diabetes", f"name: m{i:03d}")
            for i in range(200)
        },
    )
    branch(repo)
    repo.commit("Docs", {"README.md": "# Models\n"})
    script = (
        "import sys\n"
        "from modelward.cli import main\n"
        f"main(['plan', '--repo', {str(repo.path)!r}, '--base', 'main', '--format', 'json'], "
        "standalone_mode=False)\n"
        "heavy = sorted(m for m in ('pandas', 'sklearn', 'great_expectations', 'pydantic', "
        "'numpy', 'pyarrow', 'github') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.rsplit("HEAVY", 1)[0])["models"] == []
    assert proc.stdout.rstrip().endswith("HEAVY []")
