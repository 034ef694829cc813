"""Shared fixtures: real git repositories in tmp dirs and guards against real I/O."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from modelward.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PARTS = ("models", "data", "policies", "modelward.yaml")


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's git config or talks to GitHub by accident."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "GIT_")) or name in ("GH_TOKEN", "CI"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")


@dataclass
class GitRepo:
    """A real git work tree (and, optionally, its bare origin) for a test."""

    path: Path
    origin: Path | None = None

    def git(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed:\n{proc.stderr}")
        return proc.stdout.strip()

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for rel, content in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def commit(self, message: str, files: Mapping[str, str | bytes] | None = None) -> str:
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def copy_example(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for part in EXAMPLE_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / part)


def make_repo(root: Path, *, example: bool = True, origin: bool = True) -> GitRepo:
    """A repository committed on main, optionally seeded with the example instance."""
    work = root / "work"
    work.mkdir(parents=True)
    if example:
        copy_example(work)
    repo = GitRepo(work)
    repo.git("init", "-q", "-b", "main")
    repo.commit("Initial example instance")
    if origin:
        bare = root / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        repo.git("remote", "add", "origin", str(bare))
        repo.git("push", "-q", "origin", "main")
        repo.origin = bare
    return repo


@pytest.fixture
def example_repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path)


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A plain copy of the example instance (no git)."""
    copy_example(tmp_path / "instance")
    return tmp_path / "instance"


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def tree_snapshot() -> Iterator[object]:
    def snapshot(path: Path) -> dict[str, float]:
        return {str(p.relative_to(path)): p.stat().st_mtime for p in path.rglob("*")}

    yield snapshot


# ---- the GitHub REST test server

IN_CI = os.environ.get("CI") == "true"  # read before the autouse fixture removes it


@pytest.fixture(autouse=True)
def _no_real_github(monkeypatch: pytest.MonkeyPatch) -> None:
    """A GitHub client pointed anywhere but the loopback test server fails loudly."""
    try:
        import modelward.forge.github as gh
    except ImportError:  # an older tree under test (see PREAMBLE: attack tests on base)
        return
    real = gh.GitHubForge.__init__

    def guarded(self: Any, settings: Any) -> None:
        if not settings.api_url.startswith("http://127.0.0.1:"):
            raise AssertionError(
                f"a test tried to reach {settings.api_url}; use the github fixture"
            )
        real(self, settings)

    monkeypatch.setattr(gh.GitHubForge, "__init__", guarded)


@pytest.fixture(scope="session")
def _github_spec() -> None:
    """GitHub's OpenAPI description, fetched once; missing in CI is a failure, not a skip."""
    from ghserver import spec

    try:
        spec.openapi()
        spec.examples_path()
    except spec.SpecUnavailable as exc:
        if IN_CI:
            pytest.fail(f"GitHub's OpenAPI description is required in CI: {exc}")
        pytest.skip(f"GitHub's OpenAPI description is not available: {exc}")


@pytest.fixture
def github(_github_spec: None) -> Iterator[Any]:
    """A running GitHub REST test server; any request or response off the spec fails."""
    from ghserver import GitHubServer

    server = GitHubServer().start()
    try:
        yield server
    finally:
        server.stop()
    if server.violations:
        pytest.fail(
            "the GitHub test server saw requests or responses that GitHub's OpenAPI "
            "description rejects:\n" + "\n".join(server.violations[:10])
        )
