"""CODEOWNERS: GitHub's rule, the last matching pattern wins."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import cli, make_repo

from modelward.codeowners import owners_of, parse

TEXT = """\
# comment
*                       @acme/everyone
/models/                @acme/ml
models/churn/           @acme/risk-ds alice
*.md                    @acme/docs
/models/**/model.yaml   @acme/ml-leads   # trailing comment
docs/                   @acme/docs-team
"""


def test_the_last_matching_pattern_wins() -> None:
    rules = parse(TEXT)
    assert owners_of(rules, "models/churn/model.yaml") == ("@acme/ml-leads",)
    assert owners_of(rules, "models/churn/data.csv") == ("@acme/risk-ds", "alice")
    assert owners_of(rules, "models/x/README.md") == ("@acme/docs",)
    assert owners_of(rules, "setup.py") == ("@acme/everyone",)
    assert owners_of(rules, "a/docs/guide.txt") == ("@acme/docs-team",)


def test_an_anchored_pattern_matches_only_at_the_root() -> None:
    rules = parse("/models/ @a\n")
    assert owners_of(rules, "models/x.yaml") == ("@a",)
    assert owners_of(rules, "sub/models/x.yaml") == ()


def test_no_rule_no_owner_and_line_numbers_are_kept() -> None:
    rules = parse("\n# x\n*.py @py\n")
    assert owners_of(rules, "a.txt") == ()
    assert rules[0].line == 3


def test_from_codeowners_counts_the_base_branchs_owners_never_the_heads(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    staging = repo.path / "policies/staging.yaml"
    staging.write_text(
        staging.read_text().replace(
            "approvals: {min: 1, from: owners", "approvals: {min: 1, from: codeowners"
        )
    )
    repo.commit(
        "Owners from CODEOWNERS",
        {
            ".gitignore": ".modelward/\n",
            ".github/CODEOWNERS": "* @acme/all\nmodels/breast-cancer/ zed\n",
        },
    )
    repo.git("checkout", "-q", "-b", "feature")
    bc = repo.path / "models/breast-cancer/model.yaml"
    text = bc.read_text().replace("C: 1.0", "C: 0.5").replace("version: 0.3.0", "version: 0.4.0")
    text = text.replace("{staging: 0.3.0}", "{staging: 0.4.0}")
    # the pull request names its own friend as the owner: it must not count
    repo.commit(
        "Tune", {"models/breast-cancer/model.yaml": text, ".github/CODEOWNERS": "* mallory\n"}
    )
    base = ["pr", "--repo", repo.path, "--base", "main", "--author", "erin", "--format", "json"]
    friend = cli(*base, "--approved-by", "mallory")
    verdicts = json.loads(friend.output)["models"][0]["verdicts"]
    (rule,) = [v for v in verdicts if v["rule"] == "approvals"]
    assert (
        rule["status"] == "pending" and "0 approvals (1 required) from CODEOWNERS" in rule["reason"]
    )
    owner = cli(*base, "--approved-by", "ZED")
    verdicts = json.loads(owner.output)["models"][0]["verdicts"]
    (rule,) = [v for v in verdicts if v["rule"] == "approvals"]
    assert rule["status"] == "pass", rule["reason"]
