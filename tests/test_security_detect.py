"""Change detection cannot be evaded: the attacker is the pull-request author.

The author controls every file in the branch. They want a change to a model's data,
manifest or policy to be left out of the plan (so it is neither re-checked, retrained
nor judged by the policies of the stage it affects). Two ways are closed here:

- spelling a dataset's name in a manifest so that a text search misses it (YAML
  escapes, line continuations, anchors): the plan maps datasets to models from the
  PARSED manifests;
- a symlink where a manifest, dataset file or policy must be: an edit to the link's
  target never shows under the path that matters. Every such link is refused (exit 2)
  by `plan`, `pr` and `validate`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import GitRepo, cli, make_repo

from modelward.changes import plan
from modelward.errors import InvalidInput
from modelward.workspace import load

LINK = "manifests, datasets and policies must be regular files"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path)


def second_diabetes_model(repo: GitRepo, dataset_line: str, description: str = "") -> None:
    """Merge into main a model `sugar` whose manifest spells the dataset `dataset_line`."""
    text = (repo.path / "models/diabetes/model.yaml").read_text()
    text = text.replace("name: diabetes", "name: sugar", 1)
    text = text.replace("  dataset: diabetes\n", dataset_line, 1)
    if description:
        lines = text.splitlines(keepends=True)
        text = "".join(description if ln.startswith("description:") else ln for ln in lines)
    assert dataset_line in text
    repo.commit("Add sugar", {"models/sugar/model.yaml": text})
    # the manifest is a valid model of dataset diabetes, as modelward itself reads it
    assert load(repo.path).models["sugar"].record.data.dataset == "diabetes"


def change_the_data(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    path = repo.path / "data/diabetes/diabetes.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))  # drop one row: the model trains on other data
    repo.commit("Drop a row of diabetes")


SPELLINGS = {
    "hex escape": ('  dataset: "di\\x61betes"\n', ""),
    "unicode escape": ('  dataset: "\\u0064iabetes"\n', ""),
    "line continuation": ('  dataset: "diab\\\n    etes"\n', ""),
    "escaped key and value": ('  "d\\x61taset": "di\\x61betes"\n', ""),
    "alias of an escaped anchor": ("  dataset: *ds\n", 'description: &ds "di\\x61betes"\n'),
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_dataset_change_reaches_a_model_that_spells_the_name_with_yaml_escapes(
    repo: GitRepo, spelling: str
) -> None:
    second_diabetes_model(repo, *SPELLINGS[spelling])
    change_the_data(repo)

    result = plan(repo.path, "main", "HEAD")

    assert {m.name: m.reasons for m in result.models} == {
        "diabetes": ("dataset diabetes: diabetes.csv changed",),
        "sugar": ("dataset diabetes: diabetes.csv changed",),
    }


def test_the_plan_command_lists_the_escaped_model_for_a_data_change(repo: GitRepo) -> None:
    second_diabetes_model(repo, '  dataset: "di\\x61betes"\n')
    change_the_data(repo)

    result = cli("plan", "--repo", repo.path, "--base", "main", "--format", "github-matrix")

    assert result.exit_code == 0, result.output
    assert '"model": "sugar"' in result.output


def test_a_manifest_with_escapes_naming_another_dataset_is_not_affected(repo: GitRepo) -> None:
    second_diabetes_model(repo, '  dataset: "di\\x61betes"\n')
    path = repo.path / "models/sugar/model.yaml"
    path.write_text(path.read_text().replace('"di\\x61betes"', '"ch\\x75rn"'))
    repo.commit("Sugar reads churn now")
    change_the_data(repo)

    assert [m.name for m in plan(repo.path, "main", "HEAD").models] == ["diabetes"]


# ---------------------------------------------------------------- symlinks


def link_in_branch(repo: GitRepo, path: str, target_text: str) -> None:
    """On a branch, replace `path` by a symlink to a file outside the governed folders
    holding `target_text`: later edits of that file would not show under `path`."""
    repo.git("checkout", "-q", "-b", "feature")
    elsewhere = repo.path / "docs" / Path(path).name
    elsewhere.parent.mkdir(exist_ok=True)
    elsewhere.write_text(target_text)
    target = repo.path / path
    target.unlink()
    os.symlink(os.path.relpath(elsewhere, target.parent), target)
    repo.commit(f"Move {path} to docs/")


LINKED = [
    "models/churn/model.yaml",
    "data/diabetes/dataset.yaml",
    "data/diabetes/diabetes.csv",
    "data/churn/expectations.yaml",
    "policies/production.yaml",
]


@pytest.mark.parametrize("path", LINKED)
def test_a_symlinked_manifest_dataset_or_policy_is_refused_by_plan(
    repo: GitRepo, path: str
) -> None:
    link_in_branch(repo, path, (repo.path / path).read_text())

    with pytest.raises(InvalidInput) as caught:
        plan(repo.path, "main", "HEAD")
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: is a symbolic link; {LINK} (a change to the link's target would alter "
        "them without showing in the diff)"
    ]

    result = cli("plan", "--repo", repo.path, "--base", "main")
    assert result.exit_code == 2
    assert result.output.startswith(f"{path}:1: is a symbolic link; ")


@pytest.mark.parametrize("path", LINKED)
def test_a_symlinked_manifest_dataset_or_policy_is_refused_by_validate(
    repo: GitRepo, path: str
) -> None:
    link_in_branch(repo, path, (repo.path / path).read_text())

    result = cli("validate", "--repo", repo.path)

    assert result.exit_code == 2, result.output
    assert f"goes through a symbolic link ({path}); {LINK}" in result.output


def test_a_symlinked_model_folder_is_refused(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    os.symlink("churn", repo.path / "models/churn2")
    repo.commit("churn2 is churn")

    with pytest.raises(InvalidInput, match=r"^models/churn2:1: is a symbolic link; "):
        plan(repo.path, "main", "HEAD")
    result = cli("validate", "--repo", repo.path)
    assert result.exit_code == 2
    assert f"goes through a symbolic link (models/churn2); {LINK}" in result.output


def test_a_pull_request_bringing_a_symlinked_policy_is_refused_before_any_work(
    repo: GitRepo,
) -> None:
    policy = "policies/production.yaml"
    link_in_branch(repo, policy, (repo.path / policy).read_text())

    result = cli("pr", "--repo", repo.path, "--base", "main", "--author", "mallory")

    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"{policy}:1: is a symbolic link; ")
    assert "modelward/governance" not in result.output  # no report, no verdict
