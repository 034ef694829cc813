"""The report's machine-readable block: typed records with a schema version.

A later run trusts the block only as far as `ReportData.from_dict` checks it: a review
event re-judges approvals on its results, promote cross-checks metrics against it. A
block of another schema version, or a malformed one, is no saved report: the run retrains
(or says "not cross-checked"), it never takes the block's word.
"""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest
from conftest import GitRepo, cli

from modelward.report import data_block, extract_data
from modelward.reportdata import (
    REPORT_SCHEMA,
    ModelReport,
    ReportData,
    ReportDataError,
    read,
)

BUMP = {
    "models/breast-cancer/model.yaml": [
        (r"C: 1\.0", "C: 0.5"),
        ("version: 0.3.0", "version: 0.3.1"),
        ("{staging: 0.3.0}", "{staging: 0.3.1}"),
    ]
}


def bumped_branch(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "tune", "main")
    for rel, edits in BUMP.items():
        path = repo.path / rel
        text = path.read_text()
        for old, new in edits:
            text = re.sub(old, new, text, count=1)
        path.write_text(text)
    repo.commit("Tune and bump breast-cancer")


def run_pr(repo: GitRepo, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("pr", "--repo", repo.path, "--base", "main", "--author", "erin", *args)
    data = extract_data(result.output)
    assert data is not None, result.output
    return result.exit_code, data


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real report of the example repository (a tuned, bumped breast-cancer)."""
    from conftest import make_repo

    repo = make_repo(tmp_path_factory.mktemp("report"))
    bumped_branch(repo)
    code, data = run_pr(repo)
    assert code == 1  # pending: staging needs an owner's approval
    return data


def test_a_report_carries_its_schema_version_and_round_trips(judged: dict[str, Any]) -> None:
    assert judged["schema"] == REPORT_SCHEMA
    report = ReportData.from_dict(judged)
    assert report.to_dict() == judged
    model = report.model("breast-cancer")
    assert model is not None and model.version == "0.3.1"
    assert model.metric("roc_auc") is not None
    assert any(v.stage == "staging" and v.rule == "approvals" for v in model.verdicts)


def test_a_compacted_block_still_reads_as_records(judged: dict[str, Any]) -> None:
    for level in ("compact", "minimal"):
        raw = data_block(judged, level)
        block = extract_data(raw)
        assert block is not None
        report = ReportData.from_dict(block)
        assert report.compacted == level
        assert [m.name for m in report.models] == ["breast-cancer"]


def test_a_block_of_another_schema_version_is_no_saved_report(judged: dict[str, Any]) -> None:
    older = {k: v for k, v in judged.items() if k != "schema"}
    assert read(older) is None
    with pytest.raises(ReportDataError, match="schema None"):
        ReportData.from_dict(older)
    assert read({**judged, "schema": REPORT_SCHEMA + 1}) is None


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("summary",), "maybe", "summary"),
        (("models", 0, "metrics", 0, "candidate"), "high", "candidate"),
        (("models", 0, "metrics", 0, "candidate"), float("nan"), "candidate"),
        (("models", 0, "verdicts", 0, "status"), "approved", "verdicts"),
        (("models", 0, "name"), None, "name"),
        (("pull_request",), True, "pull_request"),
        (("models", 0, "baseline"), {"version": "1", "stage": "x", "source": "me"}, "source"),
    ],
)
def test_a_malformed_field_is_refused_naming_it(
    judged: dict[str, Any], path: tuple[str | int, ...], value: object, field: str
) -> None:
    forged = json.loads(json.dumps(judged))
    target: Any = forged
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ReportDataError, match=field):
        ReportData.from_dict(forged)
    assert read(forged) is None


def test_a_review_event_retrains_when_the_saved_block_is_of_another_schema(
    example_repo: GitRepo,
) -> None:
    """The saved block is what a review event trusts instead of retraining: one it cannot
    read as this schema is ignored, and the results are computed again."""
    bumped_branch(example_repo)
    code, first = run_pr(example_repo)
    assert code == 1
    saved = example_repo.path / f".modelward/reports/{first['head_sha']}.json"
    data = json.loads(saved.read_text())
    data["schema"] = 0
    saved.write_text(json.dumps(data))
    store = example_repo.path / ".modelward/artifacts"
    shutil.rmtree(store)

    code, second = run_pr(example_repo, "--approved-by", "dana")

    assert code == 0
    assert store.exists(), "the model was trained again"
    assert not any("nothing retrained" in n for n in second["notes"])
    assert second["schema"] == REPORT_SCHEMA


def test_a_deleted_model_is_a_record_too() -> None:
    record = ModelReport(name="old", status="deleted", reasons=("models/old removed",))
    assert ModelReport.from_dict(record.to_dict()) == record
