"""Approvals from GitHub reviews: which reviewers count, and who requests changes.

GitHub keeps every review a reviewer ever left. What counts is each reviewer's latest
review that is not dismissed (COMMENTED reviews do not change a reviewer's standing):
an APPROVED one counts when it was given on the pull request's current head (unless
`require_current_head` is off); a CHANGES_REQUESTED one is reported so the verdict
stays pending and names who. Bots never count; the author's approval is kept so that
the judge can apply `exclude_author` and say so. Logins are compared case-insensitively,
as GitHub does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

STANDING = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


@dataclass(frozen=True)
class ReviewStanding:
    """The reviewers whose approval counts, and those whose latest review requests changes."""

    approvers: tuple[str, ...]
    changes_requested: tuple[str, ...]
    stale: tuple[str, ...]
    """Reviewers whose latest approval is on an older head (not counted)."""


def is_bot(login: str, kind: str | None = None) -> bool:
    return kind == "Bot" or login.lower().endswith("[bot]")


def standing(
    reviews: Iterable[Mapping[str, Any]],
    *,
    head_sha: str,
    require_current_head: bool = True,
) -> ReviewStanding:
    """Reduce GitHub's review list (oldest first, as the API returns it) to a standing."""
    latest: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for review in reviews:
        who = review.get("user") or {}
        login = str(who.get("login") or "")
        state = str(review.get("state") or "").upper()
        if not login or is_bot(login, who.get("type")) or state not in STANDING:
            continue
        latest[login.lower()] = (login, review)
    approvers: list[str] = []
    changes: list[str] = []
    stale: list[str] = []
    for login, review in latest.values():
        if review["state"] == "CHANGES_REQUESTED":
            changes.append(login)
        elif review["state"] == "APPROVED":
            if require_current_head and review.get("commit_id") != head_sha:
                stale.append(login)
            else:
                approvers.append(login)
    return ReviewStanding(tuple(approvers), tuple(changes), tuple(stale))
