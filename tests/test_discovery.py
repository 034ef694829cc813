"""Repository discovery: --repo names any folder inside the repository, as with git."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitRepo, cli

from modelward import git
from modelward.discovery import find_root
from modelward.errors import UsageError


def test_the_root_is_the_nearest_folder_holding_modelward_yaml(example_dir: Path) -> None:
    assert find_root(example_dir / "models" / "churn") == example_dir.resolve()
    assert find_root(example_dir) == example_dir.resolve()


def test_a_nested_repository_is_found_before_the_outer_one(example_dir: Path) -> None:
    inner = example_dir / "vendor" / "other"
    inner.mkdir(parents=True)
    (inner / "modelward.yaml").write_text("apiVersion: modelward/v1\nkind: Config\n")
    assert find_root(inner / ".") == inner.resolve()


def test_every_command_works_from_a_sub_folder(example_repo: GitRepo) -> None:
    result = cli("validate", "--repo", example_repo.path / "data" / "churn")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: 5 models, 4 datasets")


def test_the_default_repo_is_the_current_folder_or_a_parent(
    example_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    example_repo.git("checkout", "-q", "-b", "feature")
    example_repo.commit("Tune", {"models/churn/notes.md": "tuned\n"})
    monkeypatch.chdir(example_repo.path / "models" / "churn")

    result = cli("plan", "--base", "main", "--format", "github-matrix")

    assert result.exit_code == 0, result.output
    assert '"model": "churn"' in result.output


def test_a_folder_outside_any_repository_exits_2_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "somewhere"
    folder.mkdir()
    result = cli("status", "--repo", folder)
    assert result.exit_code == 2
    assert result.output == (
        "modelward: not a modelward repository "
        f"(no modelward.yaml in {folder.resolve()} or any parent)\n"
    )


@pytest.mark.parametrize("command", ["validate", "plan", "status", "audit"])
def test_a_repo_that_does_not_exist_exits_2_and_says_so(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "no-such-dir"
    result = cli(command, "--repo", missing)
    assert result.exit_code == 2
    assert result.output == f"modelward: --repo {missing}: no such directory\n"


def test_a_repo_that_is_a_file_exits_2(example_dir: Path) -> None:
    result = cli("validate", "--repo", example_dir / "modelward.yaml")
    assert result.exit_code == 2
    assert result.output.endswith("modelward.yaml: not a directory\n")


def test_git_in_a_missing_folder_is_a_usage_error_not_a_missing_git(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no-such-dir does not exist$"):
        git.run(tmp_path / "no-such-dir", "status")
