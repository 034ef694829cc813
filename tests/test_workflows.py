"""The repository's GitHub workflows follow the rules DESIGN.md sets for them.

The bot's workflows (modelward-*.yml) are checked here as the root carries them; the
template renders the same files (tests/test_template.py), and one rendering is audited
too. zizmor (offline) and check-jsonschema's GitHub workflow schema must find nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
VARIANTS = sorted((ROOT / ".github" / "workflow-variants").glob("*.yml"))
ALL = WORKFLOWS + VARIANTS
PR = ROOT / ".github/workflows/modelward-pr.yml"
PROMOTE = ROOT / ".github/workflows/modelward-promote.yml"
FANOUT = ROOT / ".github/workflow-variants/modelward-pr-fanout.yml"
BIN = Path(sys.executable).parent


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is installed by the dev extra (pip install -e '.[dev]')"
    return found


def test_there_is_a_ci_workflow_running_the_readme_test_command() -> None:
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    runs = [step.get("run") for job in ci["jobs"].values() for step in job["steps"]]
    assert "make test" in runs


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_actions_are_pinned_by_full_commit_sha_with_the_version_in_a_comment(path: Path) -> None:
    lines = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", path.read_text(), flags=re.M)
    assert lines
    for ref, comment in lines:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s+#\s*v\d+(\.\d+)*", comment), f"{ref}: version comment"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_least_privilege_and_no_pull_request_target(path: Path) -> None:
    text = path.read_text()
    workflow = yaml.safe_load(text)
    permissions = workflow.get("permissions")
    assert isinstance(permissions, dict) and permissions, "top-level permissions are explicit"
    assert all(v in ("read", "none") for v in permissions.values()), "writes only per job"
    assert "write-all" not in text
    assert "pull_request_target" not in load(path)["on"]
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


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_credentials_persist_only_in_the_job_that_pushes(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        pushes = job.get("permissions", {}).get("contents") == "write"
        for step in uses(job, "actions/checkout"):
            persists = step["with"]["persist-credentials"]
            # a job that pushes may keep checkout's credential, or (retrain) push through
            # modelward's own env-scoped credential helper and persist nothing
            assert persists is False or pushes, f"{path.name}:{name}"


def test_the_pr_workflow_judges_the_head_of_every_pull_request() -> None:
    wf = load(PR)
    assert wf["on"] == {
        "pull_request": {"types": ["opened", "synchronize", "reopened", "ready_for_review"]},
        "pull_request_review": {"types": ["submitted", "dismissed"]},
    }
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {
        "group": "modelward-pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    [job] = wf["jobs"].values()
    assert job["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "statuses": "write",
        "checks": "write",
    }
    [checkout] = uses(job, "actions/checkout")
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    assert checkout["with"]["fetch-depth"] == 0
    [python] = uses(job, "actions/setup-python")
    assert python["with"]["cache"] == "pip"
    [restore] = uses(job, "actions/cache/restore")
    [save] = uses(job, "actions/cache/save")
    assert "hashFiles('.modelward/plan.json'" in restore["with"]["key"]
    assert save["with"]["key"] == restore["with"]["key"] and save["if"] == "always()"
    runs = [s["run"] for s in steps(job) if "run" in s]
    assert any("modelward plan" in r and "github-matrix" in r for r in runs)
    assert any(r.startswith("modelward pr ") for r in runs)


def test_the_promote_workflow_serialises_promotions_and_alone_may_write() -> None:
    wf = load(PROMOTE)
    assert wf["on"] == {"push": {"branches": ["main"]}}
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {"group": "modelward-promote", "cancel-in-progress": False}
    [job] = wf["jobs"].values()
    assert job["permissions"]["contents"] == "write"
    [checkout] = uses(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in steps(job) if "run" in s]
    assert any(r.startswith("modelward promote ") for r in runs)


def test_the_fanout_variant_plans_trains_per_model_and_reports_once() -> None:
    jobs = load(FANOUT)["jobs"]
    assert list(jobs) == ["plan", "train", "judge"]
    assert any("--format github-matrix" in s.get("run", "") for s in steps(jobs["plan"]))
    assert jobs["train"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert any("modelward train" in s.get("run", "") for s in steps(jobs["train"]))
    assert uses(jobs["train"], "actions/upload-artifact")
    [download] = uses(jobs["judge"], "actions/download-artifact")
    assert download["with"]["merge-multiple"] is True
    assert [s["run"] for s in steps(jobs["judge"]) if "modelward pr" in s.get("run", "")]
    for name in ("plan", "train"):
        assert jobs[name].get("permissions") is None, "inherits the read-only top level"


def test_zizmor_finds_nothing_in_the_bot_workflows() -> None:
    paths = [str(p) for p in ALL]
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *paths], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


def test_the_workflows_match_githubs_workflow_schema() -> None:
    paths = [str(p) for p in ALL]
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_catches_what_it_is_here_for(tmp_path: Path) -> None:
    """The audit is live: an unpinned action with event text in a script is flagged."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        PR.read_text()
        .replace(
            'run: modelward pr --base "origin/$BASE_REF"',
            'run: modelward pr --base "origin/${{ github.event.pull_request.head.ref }}"',
        )
        .replace("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "actions/checkout@v4")
    )
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "template-injection" in proc.stdout and "unpinned-uses" in proc.stdout
