"""CODEOWNERS: GitHub's rule, the last matching pattern wins."""

from __future__ import annotations

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
