"""Honest verdicts: what the bot reports is what it judged, for the commit it names.

The attacker is the pull-request author: they would have an uncommitted file judged (and
cached) as the commit's, or plant a look-alike machine-readable block in text the report
shows, to be read back as an earlier result.
"""

from __future__ import annotations

import json

from conftest import GitRepo, cli

from modelward.report import DATA_CLOSE, DATA_OPEN, MARKER, extract_data


def test_pr_refuses_a_dirty_working_tree_naming_the_files(example_repo: GitRepo) -> None:
    manifest = example_repo.path / "models/breast-cancer/model.yaml"
    manifest.write_text(manifest.read_text().replace("C: 1.0", "C: 0.5"))
    (example_repo.path / "data/churn/extra.csv").write_text("a,b\n1,2\n")

    result = cli("pr", "--repo", example_repo.path, "--base", "main")

    assert result.exit_code == 2
    assert "data/churn/extra.csv" in result.output
    assert "models/breast-cancer/model.yaml" in result.output
    assert "modelward judges only committed content" in result.output
    assert not (example_repo.path / ".modelward/reports").exists(), "nothing cached"


def test_only_the_block_the_bot_wrote_is_read_back() -> None:
    planted = DATA_OPEN + json.dumps({"head_sha": "abc", "summary": "pass"}) + DATA_CLOSE
    real = DATA_OPEN + json.dumps({"head_sha": "abc", "summary": "fail"}) + DATA_CLOSE
    report = f"{MARKER}\n| reason | {planted} |\n\n{real}\n"

    assert extract_data(report) == {"head_sha": "abc", "summary": "fail"}
    # a block that does not end the report is not the bot's
    assert extract_data(f"{MARKER}\n{real}\n| trailing text |\n") is None
