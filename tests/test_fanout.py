"""Fan-out over runners: the fan-out variant's own jobs, one process and one store per
model, the stores merged, one `modelward pr` that finds every model in the cache and
posts a single report.

The content-addressed store is what makes it work: an entry's key is a hash of what
training depends on, so entries made elsewhere merge as a plain union of folders.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, GitRepo, make_repo
from helpers_workflows import Actions, job_should_run, pull_request_event

from modelward.report import MARKER

pytestmark = pytest.mark.slow
FANOUT = ROOT / ".github/workflow-variants/modelward-pr-fanout.yml"
REPOSITORY = "acme/acme-models"


def tune(repo: GitRepo, manifest: str, old: str, new: str) -> None:
    path = repo.path / manifest
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_two_models_trained_in_separate_stores_merge_and_report_once(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.commit("Ignore modelward's state", {".gitignore": ".modelward/\n"})
    repo.git("push", "-q", "origin", "main")
    assert repo.origin is not None
    base = repo.head()
    repo.git("checkout", "-q", "-b", "tune-two")
    tune(repo, "models/churn/model.yaml", "learning_rate: 0.05", "learning_rate: 0.07")
    tune(repo, "models/diabetes/model.yaml", "alpha: 1.0", "alpha: 0.5")
    head = repo.commit("Tune churn and diabetes")
    repo.git("push", "-q", "origin", "tune-two")
    actions = Actions(repo.origin, tmp_path / "runner", REPOSITORY)
    event = pull_request_event(
        "synchronize",
        3,
        author="alice",
        head_sha=head,
        head_ref="tune-two",
        base_sha=base,
        base_ref="main",
        repository=REPOSITORY,
    )
    common = {"event_name": "pull_request", "event": event, "sha": head, "ref": "refs/pull/3/merge"}

    planned = actions.run_job(FANOUT, "plan", **common)
    assert planned.code == 0, planned.steps
    assert planned.outputs["count"] == "2"
    matrix = json.loads(planned.outputs["matrix"])
    assert [row["model"] for row in matrix["include"]] == ["churn", "diabetes"]
    needs = {"plan": {"result": "success", "outputs": planned.outputs}}

    stores = {}
    for row in matrix["include"]:  # one runner each: its own process, checkout and store
        trained = actions.run_job(FANOUT, "train", matrix=row, needs=needs, **common)
        assert trained.code == 0, [(s.name, s.stdout, s.stderr) for s in trained.steps]
        stores[row["model"]] = {
            p.name for p in (trained.workspace / ".modelward/artifacts").iterdir() if p.is_dir()
        }
    assert all(len(keys) == 1 for keys in stores.values()), stores
    assert stores["churn"].isdisjoint(stores["diabetes"]), "each runner trained its own model"
    uploaded = sorted(p.name for p in actions.artifacts.iterdir())
    assert uploaded == ["modelward-store-churn", "modelward-store-diabetes"]

    needs["train"] = {"result": "success", "outputs": {}}
    assert job_should_run("always() && needs.plan.result == 'success'", needs)
    judged = actions.run_job(FANOUT, "judge", needs=needs, **common)

    judge = judged.log("Judge the pull request")
    assert judge.code in (0, 1), judge.stderr
    merged = {p.name for p in (judged.workspace / ".modelward/artifacts").iterdir() if p.is_dir()}
    assert merged == stores["churn"] | stores["diabetes"], "the downloaded stores, merged"
    reports = sorted((judged.workspace / ".modelward/reports").glob("*.json"))
    assert [r.stem for r in reports] == [head], "one report, for the head"
    data = json.loads(reports[0].read_text())
    assert {m["name"]: m["cached"] for m in data["models"]} == {"churn": True, "diabetes": True}
    assert judge.stdout.count(MARKER) == 1
    assert re.search(r"churn", judged.summary) and re.search(r"diabetes", judged.summary)
