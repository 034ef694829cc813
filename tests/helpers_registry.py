"""Write registry tags into real repositories the way GTO and modelward write them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from modelward.registry import Evidence, Verdict, WaiverUse, format_message


def git(repo: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def annotated(repo: Path, name: str, target: str, message: str, *, date: str | None = None) -> None:
    """`git tag -a NAME -m MESSAGE REF`, which is exactly how GTO creates its tags."""
    env = {"GIT_COMMITTER_DATE": date} if date else None
    git(repo, "tag", "-a", name, "-m", message, target, env=env)


def gto_register(repo: Path, model: str, version: str, target: str, **kw: str) -> str:
    """A registration as `gto register MODEL REF --version vX.Y.Z` writes it."""
    name = f"{model}@v{version}"
    annotated(repo, name, target, f"Registering artifact {model} version v{version}", **kw)
    return name


def gto_deregister(repo: Path, model: str, version: str, target: str, **kw: str) -> str:
    name = f"{model}@v{version}!"
    annotated(repo, name, target, f"Deregistering artifact {model} version v{version}", **kw)
    return name


def gto_assign(
    repo: Path, model: str, stage: str, version: str, target: str, counter: int, **kw: str
) -> str:
    """An assignment as `gto assign MODEL --version vX.Y.Z --stage STAGE` writes it."""
    name = f"{model}#{stage}#{counter}"
    message = f"Assigning stage {stage} to artifact {model} version v{version}"
    annotated(repo, name, target, message, **kw)
    return name


def gto_unassign(
    repo: Path, model: str, stage: str, version: str, target: str, counter: int, **kw: str
) -> str:
    name = f"{model}#{stage}!#{counter}"
    message = f"Unassigning stage '{stage}' to artifact '{model}' version 'v{version}'"
    annotated(repo, name, target, message, **kw)
    return name


def evidence(model: str = "churn", version: str = "1.3.0", **overrides: object) -> Evidence:
    """A full payload, as the promote flow writes it."""
    base: dict[str, object] = {
        "model": model,
        "version": version,
        "action": "assign",
        "stage": "production",
        "manifest_digest": "d" * 64,
        "data_sha256": "a" * 64,
        "artifact_sha256": "b" * 64,
        "artifact_location": f".modelward/artifacts/{'b' * 64}/model.joblib",
        "metrics": {"roc_auc": 0.912, "f1": 0.7, "accuracy": 0.85},
        "slice_metrics": {"gender": {"f": {"recall": 0.71}, "m": {"recall": 0.69}}},
        "profile": f".modelward/profiles/{'c' * 64}.json",
        "verdicts": (
            Verdict("production-gate", "min_metric", "pass", "roc_auc 0.912 >= 0.80"),
            Verdict("production-gate", "fairness_gap", "waived", "gap 0.06 > 0.05"),
        ),
        "waivers": (
            WaiverUse(
                "production-gate", "fairness_gap", "new slice data", ("carol",), "2030-01-01"
            ),
        ),
        "bypass": False,
        "pr_number": 42,
        "pr_url": "https://github.com/acme/models/pull/42",
        "author": "dana",
        "approvers": ("alice", "bob"),
        "merge_commit": "e" * 40,
        "ci_run_url": "https://github.com/acme/models/actions/runs/7",
        "library_versions": {"scikit-learn": "1.5.0", "modelward": "0.1.0"},
    }
    base.update(overrides)
    return Evidence(**base)  # type: ignore[arg-type]


def ours(repo: Path, name: str, target: str, ev: Evidence, *, date: str | None = None) -> None:
    """A tag as modelward writes it (verbatim message with the YAML payload)."""
    env = {"GIT_COMMITTER_DATE": date} if date else None
    git(
        repo,
        "tag",
        "--annotate",
        "--cleanup=verbatim",
        "--file=-",
        name,
        target,
        env=env,
        input=format_message(ev),
    )
