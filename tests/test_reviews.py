"""Approvals from GitHub reviews, as a pure function."""

from __future__ import annotations

from typing import Any

from modelward.forge.reviews import standing

HEAD, OLD = "a" * 40, "b" * 40


def review(login: str, state: str, commit: str = HEAD, kind: str = "User") -> dict[str, Any]:
    return {"user": {"login": login, "type": kind}, "state": state, "commit_id": commit}


def test_the_latest_non_comment_review_per_reviewer_counts() -> None:
    st = standing(
        [
            review("ann", "CHANGES_REQUESTED"),
            review("ann", "APPROVED"),
            review("bo", "APPROVED"),
            review("bo", "CHANGES_REQUESTED"),
            review("cy", "APPROVED"),
            review("cy", "COMMENTED"),
            review("di", "APPROVED"),
            review("di", "DISMISSED"),
        ],
        head_sha=HEAD,
    )
    assert st.approvers == ("ann", "cy")
    assert st.changes_requested == ("bo",)


def test_an_approval_on_an_older_head_is_stale_unless_relaxed() -> None:
    reviews = [review("ann", "APPROVED", OLD)]
    assert standing(reviews, head_sha=HEAD).stale == ("ann",)
    assert standing(reviews, head_sha=HEAD).approvers == ()
    assert standing(reviews, head_sha=HEAD, require_current_head=False).approvers == ("ann",)


def test_bots_never_count_and_logins_compare_case_insensitively() -> None:
    st = standing(
        [
            review("renovate[bot]", "APPROVED"),
            review("helper", "APPROVED", kind="Bot"),
            review("Ann", "CHANGES_REQUESTED"),
            review("ann", "APPROVED"),
        ],
        head_sha=HEAD,
    )
    assert st.approvers == ("ann",)
    assert st.changes_requested == ()
