"""`.pre-commit-hooks.yaml` at the root: a rendered repository runs `modelward validate`
before each commit (and `modelward plan` as a preview), from this checkout, with
`pre-commit try-repo` as a user would try it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cookiecutter.main as cookiecutter_main
import pytest
import yaml
from conftest import ROOT
from helpers_workflows import this_checkouts_pythonpath

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _this_checkouts_modelward(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hooks and steps run `python -m modelward` in other folders: use this checkout's."""
    monkeypatch.setenv("PYTHONPATH", this_checkouts_pythonpath())


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    return Path(cookiecutter_main.cookiecutter(str(ROOT), no_input=True, output_dir=str(tmp_path)))


def try_repo(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
    }
    return subprocess.run(
        [str(BIN / "pre-commit"), "try-repo", str(ROOT), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_rendered_config_uses_the_hooks_this_repository_ships(rendered: Path) -> None:
    shipped = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    config = yaml.safe_load((rendered / ".pre-commit-config.yaml").read_text())
    [entry] = config["repos"]
    assert {h["id"] for h in entry["hooks"]} == shipped == {"modelward-validate", "modelward-plan"}


def test_validate_hook_passes_a_valid_repository_and_fails_a_broken_manifest(
    rendered: Path,
) -> None:
    ok = try_repo(rendered, "modelward-validate", "--all-files")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "modelward validate" in ok.stdout and "Passed" in ok.stdout

    manifest = rendered / "models/churn/model.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.0.0", "version: one"))
    broken = try_repo(rendered, "modelward-validate", "--all-files")
    assert broken.returncode == 1
    assert "Failed" in broken.stdout
    assert "models/churn/model.yaml:4: version:" in broken.stdout


def test_plan_hook_previews_what_the_branch_would_retrain(rendered: Path) -> None:
    subprocess.run(["git", "checkout", "-q", "-b", "tune"], cwd=rendered, check=True)
    manifest = rendered / "models/diabetes/model.yaml"
    manifest.write_text(manifest.read_text().replace("alpha: 1.0", "alpha: 0.5"))
    subprocess.run(["git", "commit", "-qam", "Tune diabetes"], cwd=rendered, check=True)

    preview = try_repo(rendered, "modelward-plan", "--all-files", "--hook-stage", "manual")

    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "1 model affected" in preview.stdout
    assert "diabetes" in preview.stdout and "manifest changed" in preview.stdout
