"""A real repository with churn v1.1.0 registered in staging, made once per test module
(pull request, merge with approval trailers, `modelward promote`) and copied per test."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
from pathlib import Path
from types import ModuleType

from conftest import ROOT, GitRepo, cli, make_repo

CHURN = "models/churn/model.yaml"
ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
}


def generator() -> ModuleType:
    """data/churn/generate.py, imported from its file."""
    spec = importlib.util.spec_from_file_location("churn_generate", ROOT / "data/churn/generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_rows(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def registered_repo(root: Path, home: Path) -> GitRepo:
    """churn 1.1.0 merged to staging with an owner's approval and promoted (tags on origin)."""
    saved = dict(os.environ)
    os.environ.update({**ENV, "HOME": str(home)})
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            del os.environ[name]
    try:
        repo = make_repo(root)
        repo.commit("Keep modelward's work files out of git", {".gitignore": ".modelward/\n"})
        repo.git("push", "-q", "origin", "main")
        before = repo.git("rev-parse", "main")
        repo.git("checkout", "-q", "-b", "churn-staging")
        path = repo.path / CHURN
        text = re.sub(r"^version: .*$", "version: 1.1.0", path.read_text(), count=1, flags=re.M)
        text = re.sub(r"^stages: .*$", "stages: {staging: 1.1.0}", text, count=1, flags=re.M)
        path.write_text(text)
        repo.commit("churn 1.1.0 to staging")
        result = cli("pr", "--repo", repo.path, "--base", "main", "--author", "alice",
                     "--pr-number", "1", "--approved-by", "bob")  # fmt: skip
        assert result.exit_code == 0, result.output
        repo.git("checkout", "-q", "main")
        message = (
            "Merge pull request #1 from alice/churn-staging\n\n"
            "Pull-request-author: alice\nApproved-by: bob"
        )
        repo.git("merge", "--no-ff", "-q", "churn-staging", "-m", message)
        repo.git("branch", "-q", "-D", "churn-staging")
        repo.git("push", "-q", "origin", "main")
        result = cli("promote", "--repo", repo.path, "--before", before)
        assert result.exit_code == 0, result.output
        assert "churn@v1.1.0" in result.output
        return repo
    finally:
        os.environ.clear()
        os.environ.update(saved)


def copy_repo(template: GitRepo, dest: Path) -> GitRepo:
    """A copy of the registered repository (work tree, store and origin) under `dest`."""
    assert template.origin is not None
    shutil.copytree(template.path, dest / "work", symlinks=True)
    shutil.copytree(template.origin, dest / "origin.git", symlinks=True)
    repo = GitRepo(dest / "work", dest / "origin.git")
    repo.git("remote", "set-url", "origin", str(dest / "origin.git"))
    shutil.rmtree(repo.path / ".modelward" / "base-worktree", ignore_errors=True)
    repo.git("worktree", "prune")
    return repo
