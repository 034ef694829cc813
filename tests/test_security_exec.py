"""Pull-request content is data, never code: each class of attack, as the author would try it.

Every test plays the pull-request author, who controls every file of the branch,
on a real repository with a bare origin, through the real command line (a fresh
interpreter, as CI runs it). Where the attack could run a command, a marker file
outside the repository must never appear. Each test fails on the code before this
change (commit 4b65dce): see docs/security.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo

CHURN_EXPECTATIONS = "data/churn/expectations.yaml"


def run(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelward", *args, "--repo", str(repo.path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=900,
    )


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = make_repo(tmp_path)
    repo.git("checkout", "-q", "-b", "attack")
    return repo


def append(repo: GitRepo, rel: str, text: str) -> None:
    path = repo.path / rel
    path.write_text(path.read_text() + text)


def replace(repo: GitRepo, rel: str, old: str, new: str) -> None:
    path = repo.path / rel
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def expectations_line(repo: GitRepo, needle: str) -> int:
    lines = (repo.path / CHURN_EXPECTATIONS).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# ---------------------------------------------------------------- expectations


@pytest.mark.slow
def test_a_row_condition_never_reaches_dataframe_query(repo: GitRepo, tmp_path: Path) -> None:
    marker = tmp_path / "pwned-by-row-condition"
    append(
        repo,
        CHURN_EXPECTATIONS,
        "  - expect_column_values_to_not_be_null:\n"
        "      column: age\n"
        "      condition_parser: pandas\n"
        f"      row_condition: '@pd.io.common.os.system(\"touch {marker}\") == 0'\n",
    )
    repo.commit("Only check adults")
    line = expectations_line(repo, "row_condition")

    for command in (["check-data", "churn"], ["validate"]):
        proc = run(repo, *command)
        assert not marker.exists(), command
        assert proc.returncode == 2, (command, proc.stderr)
        assert f"{CHURN_EXPECTATIONS}:{line}: expectations[13]: row_condition is refused" in (
            proc.stderr
        )
        assert "Traceback" not in proc.stderr


def test_an_expectation_kwarg_outside_the_allow_list_is_refused_at_validate(
    repo: GitRepo,
) -> None:
    append(
        repo,
        CHURN_EXPECTATIONS,
        "  - expect_column_values_to_match_json_schema:\n"
        "      column: region\n"
        "      json_schema: {$ref: 'file:///etc/passwd'}\n"
        "  - expect_column_values_to_be_between: {column: customer_id, min_value: 1,\n"
        "      max_value: {$PARAMETER: upper}}\n"
        "  - unexpected_rows_expectation: {unexpected_rows_query: 'SELECT 1'}\n",
    )
    repo.commit("More checks")

    proc = run(repo, "validate")

    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.splitlines()
    assert lines == [
        f"{CHURN_EXPECTATIONS}:18: expectations[13]: kwarg 'json_schema' of "
        "expect_column_values_to_match_json_schema must be a mapping of plain values "
        "(got {'$ref': 'file:///etc/passwd'})",
        f"{CHURN_EXPECTATIONS}:20: expectations[14]: kwarg 'max_value' of "
        "expect_column_values_to_be_between must be a number or a date (suite parameters "
        "and other mappings are not allowed) (got {'$PARAMETER': 'upper'})",
        f"{CHURN_EXPECTATIONS}:21: expectations[15]: expectation type "
        "'unexpected_rows_expectation' is not allowed: it runs a query the pull request wrote",
    ]


# ---------------------------------------------------------------- estimator params


def test_estimator_params_are_plain_bounded_data(repo: GitRepo) -> None:
    replace(
        repo,
        "models/breast-cancer/model.yaml",
        "params: {C: 1.0, max_iter: 1000}",
        "params: {C: 1.0, max_iter: 100000000000000000000000, "
        "solver: sklearn.utils._testing.ignore_warnings, "
        "class_weight: \"__import__('os').system('id')\"}",
    )
    replace(
        repo,
        "models/diabetes/model.yaml",
        "estimator: sklearn.linear_model.Ridge",
        "estimator: sklearn.utils._testing.MinimalRegressor",
    )
    repo.commit("Tune")

    proc = run(repo, "validate")

    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.splitlines() == [
        "models/breast-cancer/model.yaml:19: model.params.class_weight: "
        "\"__import__('os').system('id')\" is not a plain keyword; strings in params may use "
        "letters, digits, space, '_', '-', '+' and '.' (at most 64)",
        "models/breast-cancer/model.yaml:19: model.params.max_iter: must be at most 100000 in "
        "magnitude (got 100000000000000000000000)",
        "models/breast-cancer/model.yaml:19: model.params.solver: "
        "'sklearn.utils._testing.ignore_warnings' looks like an import path; params are plain "
        "values, name an estimator as {estimator: PATH, params: {...}}",
        "models/diabetes/model.yaml:17: model.estimator: "
        "'sklearn.utils._testing.MinimalRegressor' is private; name a public import path",
    ]


def test_a_nested_estimator_is_allow_listed_too(repo: GitRepo) -> None:
    replace(
        repo,
        "models/breast-cancer/model.yaml",
        "  estimator: sklearn.linear_model.LogisticRegression\n"
        "  params: {C: 1.0, max_iter: 1000}\n",
        "  estimator: sklearn.ensemble.BaggingClassifier\n"
        "  params:\n"
        "    estimator: {estimator: subprocess.Popen, params: {args: [touch, x]}}\n",
    )
    repo.commit("Bagging")

    proc = run(repo, "validate")

    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.splitlines() == [
        "models/breast-cancer/model.yaml:20: model.params.estimator.estimator: "
        "'subprocess.Popen' is not allowed; estimators must start with sklearn. "
        "(modelward.yaml estimators.allow)",
    ]


# ---------------------------------------------------------------- file names


def test_a_file_name_with_shell_or_markdown_characters_is_refused(repo: GitRepo) -> None:
    replace(repo, "data/churn/dataset.yaml", "source: churn.csv", "source: 'churn`id`|x.csv'")
    repo.commit("Rename")

    proc = run(repo, "validate")

    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == (
        "data/churn/dataset.yaml:5: source: 'churn`id`|x.csv' is not a safe file name: use "
        "letters, digits, '.', '_', '-' and '/' (no spaces, quotes, backticks or other shell "
        "and Markdown characters)"
    )


# ---------------------------------------------------------------- rendered text


@pytest.mark.slow
def test_report_text_never_pings_anyone_or_forges_the_marker(repo: GitRepo) -> None:
    replace(
        repo,
        "models/breast-cancer/model.yaml",
        "version: 0.3.0",
        "version: 0.4.0",
    )
    replace(
        repo,
        "models/breast-cancer/model.yaml",
        'owners: ["@acme/health-ds", "dana"]',
        'owners: ["@acme/health-ds", "dana", "@octocat"]',
    )
    replace(
        repo,
        "models/breast-cancer/model.yaml",
        "  intended_use: Second reader",
        "  intended_use: >-\n"
        "    {{ cycler.__init__.__globals__.os.system('id') }} @everyone\n"
        "    <!-- modelward:report --> [click](https://evil.example) Second reader",
    )
    repo.commit("Card and owners")

    proc = run(repo, "pr", "--base", "main", "--author", "mallory")
    card = run(repo, "card", "breast-cancer")

    assert proc.returncode in (0, 1), proc.stderr
    # what GitHub renders: everything but the machine-readable block (an HTML comment)
    visible, _, block = proc.stdout.partition("<!-- modelward:data ")
    assert visible.count("<!-- modelward:report -->") == 1
    assert "<!--" not in visible.replace("<!-- modelward:report -->", "", 1)
    assert "-->" not in block.rstrip().removesuffix("-->")
    assert "@acme" not in visible and "@octocat" not in visible
    assert "@\u200dacme/health-ds" in visible
    assert card.returncode == 0, card.stderr
    assert "{{ cycler.__init__.__globals__.os.system('id') }} @\u200deveryone" in card.stdout
    assert "&lt;!-- modelward:report --&gt; [click\\](https://evil.example)" in card.stdout
    assert "<!--" not in card.stdout


# ---------------------------------------------------------------- time limit


@pytest.mark.slow
def test_training_past_the_base_branch_time_limit_stops_with_exit_1(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    append(repo, "modelward.yaml", "training:\n  timeout_minutes: 0.01\n")
    repo.commit("A tight limit for the test")
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "attack")
    # the head raises its own limit and asks for an hour of boosting: the base's limit holds
    replace(repo, "modelward.yaml", "timeout_minutes: 0.01", "timeout_minutes: 600")
    replace(
        repo,
        "models/churn/model.yaml",
        "params: {max_iter: 200, learning_rate: 0.05, max_leaf_nodes: 15, random_state: 0}",
        "params: {max_iter: 90000, learning_rate: 0.05, early_stopping: false, random_state: 0}",
    )
    repo.commit("More boosting")

    proc = run(repo, "pr", "--base", "main", "--author", "mallory")

    assert proc.returncode == 1, proc.stdout + proc.stderr
    # the head's own 600 minutes do not count: the first model fitted stops at 0.6 s
    assert re.search(
        r"^modelward: training [a-z-]+ was stopped after 0.01 minutes "
        r"\(modelward.yaml training.timeout_minutes\); nothing was stored\.",
        proc.stderr,
    ), proc.stderr
    assert "Traceback" not in proc.stderr
