"""The pull-request report, its machine-readable block, annotations and the model card.

Regenerate the committed snapshot with MODELWARD_UPDATE_SNAPSHOTS=1 pytest tests/test_report.py
and review the diff like any other change.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, cli
from helpers_report import HEAD_SHA, example_report_data, many_models_data
from jinja2.exceptions import UndefinedError

from modelward.report import (
    COMMENT_LIMIT,
    MARKER,
    NOT_PROVIDED,
    TRUNCATION_NOTE,
    data_block,
    extract_data,
    render_card,
    render_report,
    render_summary_line,
    to_annotations,
)
from modelward.workspace import load

SNAPSHOT = Path(__file__).parent / "snapshots" / "report.md"


def body_of(markdown: str) -> str:
    """The visible part of a report (everything before the hidden data block)."""
    return markdown.split("<!-- modelward:data ")[0]


def rows_of(markdown: str, first_cell: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith(f"| {first_cell}")]


# ---------------------------------------------------------------- the snapshot


def test_report_of_the_example_instance_matches_the_snapshot() -> None:
    report = render_report(example_report_data())
    if os.environ.get("MODELWARD_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(report, encoding="utf-8")
    assert report == SNAPSHOT.read_text(encoding="utf-8")


def test_report_shows_deltas_waiver_failing_expectation_and_pending_approval() -> None:
    report = render_report(example_report_data())
    lines = report.splitlines()
    assert lines[0] == MARKER
    assert lines[1] == "## ❌ modelward: blocked — 1 blocking failure in breast-cancer"
    assert "| **roc_auc** (primary) | 0.8712 | 0.8841 | ▲ +0.0129 |" in lines
    assert "| accuracy | 0.8110 | 0.8110 | = 0.0000 |" in lines
    assert "| recall | 0.6655 | 0.6540 | ▼ -0.0115 |" in lines
    assert "| nonbinary | 37 | 0.8520 | 0.6400 | 0.7838 | 0.5833 |" in lines
    (waived,) = rows_of(report, "🟡 waived")
    assert "**Waived** until 2027-06-30 by `carol`: The nonbinary slice" in waived
    assert waived.endswith("| `policies/fairness.yaml:8` |")
    (failing,) = [line for line in lines if line.startswith("| 7 |") and "(0.53%)" in line]
    assert failing == (
        '| 7 | expect_column_values_to_be_between | column="mean_area", min_value=100, '
        "max_value=3000 | 3 (0.53%) | 3120.5, 4254.0, 3432.0 | — |"
    )
    (pending,) = rows_of(report, "⏳ pending")
    assert pending.startswith("| ⏳ pending | staging | approvals | 0 approvals (1 required)")
    assert "_Deleted in this pull request: no metrics._" in report
    assert (
        "| data sha256 | `8a99991d9de6189e8bc3fb5e2560593ab73d0dabbd195631fd5bedce1fa2df74` |"
        in (lines)
    )
    assert "**Hashes** — data `8a99991d9de6` · artifact `9e107d9d372b` (402.7 KB)" in lines
    assert TRUNCATION_NOTE not in report


# ---------------------------------------------------------------- size


def test_thirty_models_fit_the_comment_limit_name_every_model_and_keep_the_data() -> None:
    data = many_models_data(30)
    report = render_report(data)
    assert len(report) <= COMMENT_LIMIT
    visible = body_of(report)
    for model in data["models"]:
        assert f"| **{model['name']}** |" in visible
    assert TRUNCATION_NOTE in visible
    block = extract_data(report, head_sha=HEAD_SHA)
    assert block is not None
    assert [m["name"] for m in block["models"]] == [m["name"] for m in data["models"]]
    # Still enough to re-evaluate approvals without retraining: metrics and verdicts.
    assert block["compacted"] in ("compact", "minimal")
    assert block["models"][0]["metrics"] == data["models"][0]["metrics"]
    assert {v["rule"] for v in block["models"][0]["verdicts"]} >= {
        "data_checks_pass",
        "fairness_gap",
        "approvals",
    }


def test_a_few_large_models_fold_detail_before_dropping_it() -> None:
    data = many_models_data(5)
    report = render_report(data)
    assert len(report) <= COMMENT_LIMIT
    assert TRUNCATION_NOTE in report
    assert "Slice metrics" not in report  # dropped first
    assert "<details open><summary><b>model-00-churn-emea</b>" in report  # fails: open
    assert report.count("| 3 | expect_column_values_to_match_regex |") == 5


def test_hundreds_of_models_are_cut_with_a_note_never_silently() -> None:
    data = many_models_data(400)
    report = render_report(data)
    assert len(report) <= COMMENT_LIMIT
    shown = len(rows_of(body_of(report), "**model-"))
    assert 0 < shown < 400
    assert f"> ⚠️ {400 - shown} more models are not shown in this table." in report
    assert f"> ⚠️ Report cut here: {TRUNCATION_NOTE}." in report
    block = extract_data(report)
    assert block is not None and block["head_sha"] == HEAD_SHA


def test_render_report_honours_a_smaller_limit() -> None:
    report = render_report(example_report_data(), limit=12_000)
    assert len(report) <= 12_000
    assert TRUNCATION_NOTE in report
    for name in ("churn", "breast-cancer", "diabetes"):
        assert f"| **{name}** |" in report


# ---------------------------------------------------------------- data block


def test_extract_data_round_trips_the_report_data() -> None:
    data = example_report_data()
    assert extract_data(render_report(data)) == data
    assert extract_data(render_report(data), head_sha=HEAD_SHA) == data


def test_extract_data_is_none_for_another_head_or_no_block() -> None:
    report = render_report(example_report_data())
    assert extract_data(report, head_sha="0" * 40) is None
    assert extract_data("a comment someone else wrote") is None
    assert extract_data("<!-- modelward:data {not json} -->") is None


def test_data_block_cannot_close_its_comment_early() -> None:
    data = example_report_data()
    data["notes"] = ["evil --> <!-- x --!> ---- end"]
    block = data_block(data)
    inner = block[len("<!-- modelward:data ") : -len(" -->")]
    assert "--" not in inner and ">" not in inner
    assert extract_data(render_report(data))["notes"] == data["notes"]  # type: ignore[index]


def test_non_finite_metrics_become_null_in_the_data_block() -> None:
    data = example_report_data()
    data["models"][0]["metrics"][0]["candidate"] = float("nan")
    block = extract_data(render_report(data))
    assert block is not None and block["models"][0]["metrics"][0]["candidate"] is None


# ---------------------------------------------------------------- strictness and escaping


def test_a_missing_key_raises_instead_of_rendering_an_empty_cell() -> None:
    data = example_report_data()
    del data["head_sha"]
    with pytest.raises(UndefinedError, match="'dict object' has no attribute 'head_sha'"):
        render_report(data)
    data = example_report_data()
    del data["models"][1]["verdicts"][0]["waiver"]
    with pytest.raises(UndefinedError, match="report data has no key 'waiver'"):
        render_report(data)
    data = example_report_data()
    del data["models"][0]["hashes"]["suite_sha256"]
    with pytest.raises(UndefinedError, match="has no attribute 'suite_sha256'"):
        render_report(data)


def test_pipes_html_and_newlines_in_user_text_cannot_break_the_report() -> None:
    data = example_report_data()
    churn = data["models"][0]
    churn["verdicts"][1]["reason"] = "a | b <script>alert(1)</script>\nsecond line & more"
    churn["slices"]["region"]["x|<b>y</b>"] = {"n": 1, "metrics": {"roc_auc": 0.5}}
    data["notes"].append("<img src=x onerror=alert(1)> | note")
    report = render_report(data)
    assert "<script>" not in report and "<img" not in report and "<b>y" not in report
    (row,) = [line for line in report.splitlines() if "data_checks_pass | a" in line]
    assert row == (
        "| ✅ pass | production | data_checks_pass | a \\| b &lt;script&gt;alert(1)&lt;/script&gt;"
        "<br>second line &amp; more | `policies/production.yaml:9` |"
    )
    assert len(re.findall(r"(?<!\\)\|", row)) == 6  # still five cells
    assert "| x\\|&lt;b&gt;y&lt;/b&gt; | 1 | 0.5000 | — | — | — |" in report
    assert "- &lt;img src=x onerror=alert(1)&gt; | note" in report


def test_a_model_whose_training_failed_shows_the_error_prominently() -> None:
    data = example_report_data()
    bc = data["models"][1]
    bc["error"] = "training failed: ValueError: Input X contains NaN <in column mean_area>"
    report = render_report(data)
    assert (
        "> **breast-cancer could not be evaluated:** training failed: ValueError: "
        "Input X contains NaN &lt;in column mean_area&gt;"
    ) in report
    assert "| **breast-cancer** | 0.3.0 → 0.4.0 | staging | changed |" in report
    assert "| ❌ 7/8 | ❌ error · ❌ 1 failed" in report
    assert render_summary_line(data) == (
        "❌ modelward: blocked — 2 blocking failures in breast-cancer"
    )
    bc["error"] = "Traceback (most recent call last):\n  File <x>\nValueError: NaN"
    report = render_report(data)
    assert "<pre>Traceback (most recent call last):\n  File &lt;x&gt;\nValueError: NaN</pre>" in (
        report
    )


# ---------------------------------------------------------------- summary line


def _only(data: dict[str, Any], *names: str) -> dict[str, Any]:
    data["models"] = [m for m in data["models"] if m["name"] in names]
    return data


def test_summary_line_for_each_verdict_kind() -> None:
    data = example_report_data()
    assert (
        render_summary_line(data) == "❌ modelward: blocked — 1 blocking failure in breast-cancer"
    )

    pending = copy.deepcopy(data)
    pending["summary"] = "pending"
    pending["models"][1]["verdicts"][0]["status"] = "pass"
    assert render_summary_line(pending) == (
        "⏳ modelward: waiting for approvals — 1 pending rule in breast-cancer"
    )

    passed = _only(copy.deepcopy(data), "churn", "diabetes")
    passed["summary"] = "pass"
    assert render_summary_line(passed) == "✅ modelward: all checks passed (2 models)"

    warned = copy.deepcopy(passed)
    warned["models"][0]["verdicts"][2].update(status="fail", enforcement="warn")
    assert render_summary_line(warned) == ("✅ modelward: all checks passed (2 models, 1 warning)")

    nothing = _only(copy.deepcopy(data))
    nothing["summary"] = "pass"
    assert render_summary_line(nothing) == "✅ modelward: all checks passed (no model changes)"


def test_summary_line_counts_an_expired_waiver_and_governance_as_failures() -> None:
    data = example_report_data()
    data["models"][0]["verdicts"][4]["waiver"]["expired"] = True
    data["governance"] = [
        {
            "policy": "governance",
            "rule": "approvals",
            "status": "fail",
            "enforcement": "block",
            "reason": "policies/production.yaml changed without approval of @acme/ml-governance",
            "path": "policies/production.yaml",
            "line": 1,
            "waiver": None,
        }
    ]
    assert render_summary_line(data) == (
        "❌ modelward: blocked — 3 blocking failures in churn, breast-cancer, governance"
    )
    report = render_report(data)
    assert "**Waiver expired** on 2027-06-30 by `carol`" in report
    assert "### Governance" in report


# ---------------------------------------------------------------- annotations


def test_annotations_point_at_the_rule_lines_of_failing_and_pending_verdicts() -> None:
    data = example_report_data()
    data["models"][0]["verdicts"][2].update(status="fail", enforcement="warn")
    assert to_annotations(data) == [
        {
            "file": "policies/production.yaml",
            "line": 10,
            "level": "warning",
            "message": "churn: production/min_metric fail: roc_auc 0.8841 >= 0.8000",
        },
        {
            "file": "policies/staging.yaml",
            "line": 8,
            "level": "failure",
            "message": "breast-cancer: staging/data_checks_pass fail: 1 of 8 expectations "
            "failed: expect_column_values_to_be_between (mean_area)",
        },
        {
            "file": "policies/staging.yaml",
            "line": 11,
            "level": "notice",
            "message": "breast-cancer: staging/approvals pending: 0 approvals (1 required) from owners "
            "(@acme/health-ds, dana); the author does not count",
        },
    ]


# ---------------------------------------------------------------- the model card


SECTIONS = [
    "## Model details",
    "## Intended use",
    "## Out-of-scope use",
    "## Limitations",
    "## Ethical considerations",
    "## Training data",
    "## Evaluation",
    "## Caveats and recommendations",
]


def churn_results() -> dict[str, Any]:
    ws = load(ROOT)
    return {
        "metrics": {"roc_auc": 0.8841, "f1": 0.7012, "accuracy": 0.811, "recall": 0.654},
        "slice_metrics": {
            "region": {"east": {"n": 251, "metrics": {"roc_auc": 0.8902, "recall": 0.67}}},
            "gender": {"nonbinary": {"n": 37, "metrics": {"roc_auc": 0.852, "recall": 0.5833}}},
        },
        "confusion_matrix": [[600, 80], [109, 211]],
        "data_sha256": ws.datasets["churn"].record.sha256,
        "artifact_sha256": "9e107d9d372bb6826bd81d3542a419d6e2f1c0b0a1d2e3f405162738495a6b7c",
        "versions": {"scikit-learn": "1.5.2"},
        "n_train": 4000,
        "n_test": 1000,
    }


def test_card_has_every_section_with_training_results() -> None:
    ws = load(ROOT)
    card = render_card(
        ws.models["churn"].record, ws.datasets["churn"].record, churn_results()
    ).splitlines()
    assert [line for line in card if line.startswith("## ")][: len(SECTIONS)] == SECTIONS
    assert card[0] == "# Model card: churn 1.0.0"
    assert "- **Estimator:** `sklearn.ensemble.HistGradientBoostingClassifier`" in card
    assert "- **Owners:** `@acme/risk-ds`, `alice`, `bob`, `dave`" in card
    assert "- **Features:** all columns except churned, customer_id, gender" in card
    assert "- **Split:** 80% train / 20% test, seed 7, stratified" in card
    assert "| **roc_auc** (primary) | 0.8841 |" in card
    assert "| **1** | 109 | 211 |" in card
    assert "| nonbinary | 37 | 0.8520 | — | — | 0.5833 |" in card
    assert "Pricing, credit or any decision that denies a service to a customer." in card


def test_card_says_not_provided_for_every_missing_field() -> None:
    ws = load(ROOT)
    card = render_card(ws.models["diabetes"].record, None, None)
    sections = dict(re.findall(r"^## (.+)\n\n(.+)$", card, flags=re.MULTILINE))
    assert sections["Out-of-scope use"] == NOT_PROVIDED
    assert sections["Ethical considerations"] == NOT_PROVIDED
    assert sections["Caveats and recommendations"] == NOT_PROVIDED
    assert sections["Evaluation"].startswith(f"{NOT_PROVIDED} No training result was given")
    assert sections["Limitations"] == "442 patients; ten baseline variables."
    assert "- **Source:** _Not provided._" in card
    assert "- **Notes on the data:** _Not provided._" in card


def test_card_escapes_html_in_card_fields(example_dir: Path) -> None:
    manifest = example_dir / "models" / "churn" / "model.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "caveats: Retrain", "caveats: <script>alert(1)</script> Retrain"
        )
    )
    result = cli("card", "churn", "--repo", example_dir)
    assert result.exit_code == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Retrain" in result.output
    assert "<script>" not in result.output


def test_card_command_prints_the_card_with_metrics(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(churn_results()))
    result = cli("card", "churn", "--repo", ROOT, "--metrics", metrics)
    assert result.exit_code == 0, result.output
    ws = load(ROOT)
    assert result.output == render_card(
        ws.models["churn"].record, ws.datasets["churn"].record, churn_results()
    )


def test_card_command_names_unknown_models_and_bad_metrics_files(tmp_path: Path) -> None:
    result = cli("card", "chrun", "--repo", ROOT)
    assert result.exit_code == 2
    assert result.output == (
        "modelward: no model 'chrun': models/chrun/model.yaml does not exist; "
        "did you mean 'churn'?\n"
    )
    broken = tmp_path / "metrics.json"
    broken.write_text('{"metrics": {},\n "n_train": }')
    result = cli("card", "churn", "--repo", ROOT, "--metrics", broken)
    assert result.exit_code == 2
    assert result.output == f"modelward: {broken}:2: not valid JSON: Expecting value\n"
    broken.write_text('{"metrics": {}}')
    result = cli("card", "churn", "--repo", ROOT, "--metrics", broken)
    assert result.output == (
        f"modelward: {broken}: missing slice_metrics, n_train, n_test; "
        "expected the metrics.json of `modelward train --out`\n"
    )


def test_an_added_model_has_no_baseline_and_no_deltas() -> None:
    data = _only(example_report_data(), "churn")
    churn = data["models"][0]
    churn.update(status="added", base_version=None, baseline=None)
    for metric in churn["metrics"]:
        metric["baseline"] = None
    report = render_report(data)
    assert "**Metrics** — no baseline to compare with (nothing registered in this stage yet)" in (
        report
    )
    assert "| **roc_auc** (primary) | — | 0.8841 | — |" in report
    assert "| **churn** | 1.1.0 | production | added | roc_auc 0.8841 |" in report


def test_card_command_reads_the_latest_training_result_from_the_store(example_dir: Path) -> None:
    before = cli("card", "diabetes", "--repo", example_dir)
    assert before.exit_code == 0
    assert "No training result was given" in before.output
    assert cli("train", "diabetes", "--repo", example_dir).exit_code == 0
    after = cli("card", "diabetes", "--repo", example_dir)
    assert after.exit_code == 0
    assert "No training result was given" not in after.output
    assert "0.4173" in after.output  # r2 of the example, as the trainer recorded it


def test_card_reads_metrics_from_the_registry_when_the_store_lacks_the_entry(
    tmp_path: Path,
) -> None:
    from conftest import make_repo
    from helpers_registry import evidence, ours

    repo = make_repo(tmp_path)  # a fresh clone: no .modelward/ store
    registered = evidence(
        model="diabetes",
        version="2.1.0",
        action="register",
        stage=None,
        metrics={"r2": 0.4173, "neg_root_mean_squared_error": -56.17},
        slice_metrics={"sex": {"female": {"r2": 0.39}, "male": {"r2": 0.44}}},
    )
    ours(repo.path, "diabetes@v2.1.0", repo.head(), registered)
    result = cli("card", "diabetes", "--repo", repo.path)
    assert result.exit_code == 0, result.output
    assert "No training result was given" not in result.output
    assert "as registered in the tag `diabetes@v2.1.0`" in result.output
    assert "0.4173" in result.output and "0.44" in result.output
    assert not (repo.path / ".modelward" / "artifacts").exists()


# ---------------------------------------------------------------- nothing to judge


NO_MODEL_VARIANTS = {
    "plain": {},
    "numbered": {"pull_request": 42},
    "awkward refs and notes": {
        "base": "origin/`main`|x",
        "head": "feature/<!-- modelward:data {} -->",
        "notes": ["@everyone *look* <b>here</b> | `tick`", "second\nline"],
        "generated_by": "modelward 0.1.0 <script>",
    },
    "no notes": {"notes": []},
}


@pytest.mark.parametrize("extra", list(NO_MODEL_VARIANTS.values()), ids=list(NO_MODEL_VARIANTS))
def test_a_report_with_nothing_to_judge_is_the_templates_text_without_jinja(
    extra: dict[str, Any],
) -> None:
    """A pull request that touches no model skips compiling the template (most of such a
    run's time); what it posts must be byte for byte what the template renders."""
    from modelward.report import nothing_to_judge, render_summary_line, render_with_template

    data: dict[str, Any] = {
        "schema": 1,
        "head_sha": HEAD_SHA,
        "base": "main",
        "head": "HEAD",
        "summary": "pass",
        "pull_request": None,
        "generated_by": "modelward 0.1.0",
        "models": [],
        "governance": [],
        "base_sha": "b" * 40,
        "merge_base": "c" * 40,
        "notes": ["This pull request changes no model."],
        **extra,
    }
    fast = nothing_to_judge(data, render_summary_line(data))
    assert fast == render_with_template(data)
    assert render_report(data) == fast
    assert extract_data(fast) == json.loads(json.dumps(data))
