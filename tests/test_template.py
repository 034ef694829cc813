"""The cookiecutter template renders a working model repository from the root's one
example instance.

Rendering uses cookiecutter's own Python API (the hooks run as they do for a user).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import cookiecutter.main as cookiecutter_main
import pytest
import yaml
from conftest import ROOT, cli
from cookiecutter.exceptions import FailedHookException
from helpers_workflows import this_checkouts_pythonpath

TEMPLATE_DIR = ROOT / "{{cookiecutter.repo_slug}}"
# what the root and a default rendering share, byte for byte
SHARED = ("models", "data", "policies", "modelward.yaml")
WORKFLOW_GLOBS = (".github/workflows/modelward-*.yml", ".github/workflow-variants/*.yml")


@pytest.fixture(autouse=True)
def _this_checkouts_modelward(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hooks and steps run `python -m modelward` in other folders: use this checkout's."""
    monkeypatch.setenv("PYTHONPATH", this_checkouts_pythonpath())


def render(out: Path, **answers: str) -> Path:
    path = cookiecutter_main.cookiecutter(
        str(ROOT), no_input=True, output_dir=str(out), extra_context=answers
    )
    return Path(path)


def files_under(base: Path, rel: str) -> dict[str, bytes]:
    target = base / rel
    if target.is_file():
        return {rel: target.read_bytes()}
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in sorted(target.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def shared_files(base: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for rel in SHARED:
        found.update(files_under(base, rel))
    for pattern in WORKFLOW_GLOBS:
        for p in sorted(base.glob(pattern)):
            found[p.relative_to(base).as_posix()] = p.read_bytes()
    return found


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default rendering for the read-only checks (isolated like conftest does it)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        env.setenv("PYTHONPATH", this_checkouts_pythonpath())
        return render(tmp_path_factory.mktemp("render"))


def test_the_defaults_render_the_root_instance_byte_for_byte(rendered: Path) -> None:
    root, copy = shared_files(ROOT), shared_files(rendered)
    assert any(k.endswith(".csv") for k in root), "the CSVs are part of the comparison"
    assert ".github/workflows/modelward-pr.yml" in root
    assert sorted(copy) == sorted(root)
    for rel, content in root.items():
        assert copy[rel] == content, f"{rel} differs from the root's"


def test_there_is_one_copy_of_each_example_file_in_the_repository() -> None:
    """The template directory holds only what is specific to a new repository."""
    template_files = {
        p.relative_to(TEMPLATE_DIR).as_posix() for p in TEMPLATE_DIR.rglob("*") if p.is_file()
    }
    assert template_files == {
        "README.md",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/CODEOWNERS",
    }
    by_content: dict[bytes, list[str]] = {}
    for rel in git(ROOT, "ls-files").splitlines():
        if (ROOT / rel).is_file():
            by_content.setdefault((ROOT / rel).read_bytes(), []).append(rel)
    for rel, content in shared_files(ROOT).items():
        assert by_content[content] == [rel], f"{rel} has copies: {by_content[content]}"


def test_the_rendered_repository_is_a_valid_git_repository_on_its_default_branch(
    rendered: Path,
) -> None:
    assert git(rendered, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(rendered, "status", "--porcelain") == "", "everything is in the first commit"
    assert git(rendered, "log", "--format=%s") == "Repository created from the modelward template"
    result = cli("validate", "--repo", rendered, "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(m["name"] for m in json.loads(result.stdout)["models"]) == [
        "breast-cancer",
        "breast-cancer-stack",
        "churn",
        "diabetes",
        "wine",
    ]


def test_codeowners_give_models_and_data_to_owners_and_the_rest_to_governance(
    rendered: Path,
) -> None:
    lines = [
        line.split()
        for line in (rendered / ".github/CODEOWNERS").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines == [
        ["/models/", "@acme/risk-ds", "@acme/health-ds"],
        ["/data/", "@acme/risk-ds", "@acme/health-ds"],
        ["/policies/", "@acme/ml-governance"],
        ["/modelward.yaml", "@acme/ml-governance"],
        ["/.github/", "@acme/ml-governance"],
    ]


def test_the_readme_speaks_to_each_reader_and_says_how_to_protect_the_repository(
    rendered: Path,
) -> None:
    readme = (rendered / "README.md").read_text()
    for heading in ("data scientists", "reviewers", "auditors", "administrators"):
        assert f"## For {heading}" in readme
    for must in (
        "current head",
        "author's own",
        "modelward audit churn --verify",
        "git tag -n",
        "`modelward/governance`",
        "**GitHub Actions** app",
        "Require review from Code Owners",
        "`*@v*` and `*#*`",
        "creations, updates and deletions",
        '"Allow GitHub Actions to create and approve\npull requests"** off',
    ):
        assert must in readme, must


def test_answers_reach_config_workflows_codeowners_and_readme(tmp_path: Path) -> None:
    repo = render(
        tmp_path,
        project_name="Risk models",
        repo_slug="risk-models",
        github_owner="bank",
        default_branch="trunk",
        governance_team="@bank/model-risk",
        model_owners="@bank/quants, zoe",
        python_version="3.12",
        modelward_requirement="modelward==9.9.9",
    )
    assert repo.name == "risk-models"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "trunk"
    config = yaml.safe_load((repo / "modelward.yaml").read_text())
    assert config["default_branch"] == "trunk"
    assert config["governance"]["owners"] == ["@bank/model-risk", "carol"]
    promote = yaml.safe_load((repo / ".github/workflows/modelward-promote.yml").read_text())
    assert promote[True]["push"]["branches"] == ["trunk"]  # YAML 1.1 reads `on` as True
    for path in [*repo.glob(".github/workflows/*.yml"), *repo.glob(".github/workflow-variants/*")]:
        text = path.read_text()
        assert 'python-version: "3.12"' in text and "3.11" not in text, path.name
        assert "MODELWARD_REQUIREMENT: modelward==9.9.9" in text, path.name
    assert "/models/          @bank/quants zoe" in (repo / ".github/CODEOWNERS").read_text()
    readme = (repo / "README.md").read_text()
    assert readme.startswith("# Risk models\n") and "`trunk`" in readme
    assert "`bank/risk-models`" in readme
    assert "rev: v9.9.9" in (repo / ".pre-commit-config.yaml").read_text()
    workflows = [str(p) for pattern in WORKFLOW_GLOBS for p in sorted(repo.glob(pattern))]
    bin_dir = Path(sys.executable).parent
    zizmor = subprocess.run(
        [str(bin_dir / "zizmor"), "--offline", "--no-progress", *workflows],
        capture_output=True,
        text=True,
    )
    assert zizmor.returncode == 0 and "No findings" in zizmor.stdout, zizmor.stdout
    schema = [str(bin_dir / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    checked = subprocess.run([*schema, *workflows], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_without_examples_the_instance_is_empty_and_valid(tmp_path: Path) -> None:
    repo = render(tmp_path, include_examples="no", governance_team="@acme/gov")
    result = cli("validate", "--repo", repo, "--format", "json")
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["models"] == [] and summary["datasets"] == [] and summary["waivers"] == []
    assert sorted(p["name"] for p in summary["policies"]) == ["production", "staging"]
    assert yaml.safe_load((repo / "modelward.yaml").read_text())["governance"]["owners"] == [
        "@acme/gov"
    ]
    assert git(repo, "ls-files", "models", "data").splitlines() == [
        "data/.gitkeep",
        "models/.gitkeep",
    ]
    assert (repo / ".github/workflows/modelward-pr.yml").is_file()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"repo_slug": "acme models"}, "repo_slug: 'acme models': a GitHub repository name"),
        ({"repo_slug": "models.git"}, "repo_slug: 'models.git'"),
        ({"repo_slug": "../escape"}, "repo_slug: '../escape'"),
        ({"governance_team": "@acme/ml governance"}, "governance_team: '@acme/ml governance'"),
        ({"model_owners": "@acme/-risk"}, "model_owners: '@acme/-risk'"),
        ({"default_branch": "main..x"}, "default_branch: 'main..x': git refuses"),
        ({"default_branch": "feature/"}, "default_branch: 'feature/': git refuses"),
        ({"default_branch": "main #x"}, "default_branch: 'main #x': git refuses"),
        ({"github_owner": "acme-"}, "github_owner: 'acme-'"),
        ({"python_version": "three"}, "python_version: 'three'"),
        ({"modelward_requirement": "modelward"}, "modelward_requirement: 'modelward'"),
        (
            {"modelward_requirement": "modelward==1.0; curl x | sh"},
            "modelward_requirement: 'modelward==1.0; curl x | sh'",
        ),
    ],
)
def test_answers_git_or_github_would_refuse_abort_and_leave_nothing_behind(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], message: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(FailedHookException):
        render(out, **answers)
    err = capfd.readouterr().err
    assert "modelward template: invalid answers, nothing was generated:" in err
    assert message in err
    assert not out.exists() or list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["out"])


def test_the_default_requirement_pins_this_version_of_modelward() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    defaults = json.loads((ROOT / "cookiecutter.json").read_text())
    assert defaults["modelward_requirement"] == f"modelward=={version}"


def test_the_command_line_renders_a_repository_that_validates(tmp_path: Path) -> None:
    """`cookiecutter . --no-input -o DIR`, as the issue and docs/template.md show it."""
    proc = subprocess.run(
        [sys.executable, "-m", "cookiecutter", ".", "--no-input", "-o", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "valid: 5 models, 4 datasets, 3 policies, 2 waivers" in proc.stdout
    assert (tmp_path / "acme-models/.git").is_dir()
