"""The repository's GitHub workflows follow the rules DESIGN.md sets for them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_there_is_a_ci_workflow_running_the_readme_test_command() -> None:
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    runs = [step.get("run") for job in ci["jobs"].values() for step in job["steps"]]
    assert "make test" in runs


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_full_commit_sha(path: Path) -> None:
    uses = re.findall(r"uses:\s*(\S+)", path.read_text())
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_no_pull_request_target(path: Path) -> None:
    text = path.read_text()
    workflow = yaml.safe_load(text)
    permissions = workflow.get("permissions")
    assert isinstance(permissions, dict) and permissions, "top-level permissions are explicit"
    assert "write-all" not in text
    assert "pull_request_target" not in text
    for job in workflow["jobs"].values():
        assert "timeout-minutes" in job
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), "event text reaches scripts through env"


def test_the_drift_workflow_is_scheduled_and_only_its_retrain_job_may_write() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/modelward-drift.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert workflow["concurrency"]["group"] == "modelward-drift"
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert jobs["drift"]["permissions"] == {"contents": "read"}
    assert jobs["retrain"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    runs = [step.get("run", "") for job in jobs.values() for step in job["steps"]]
    assert any("modelward drift --all" in run for run in runs)
    assert any('modelward retrain "$MODEL"' in run for run in runs)
