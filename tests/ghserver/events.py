"""Webhook event payloads for the GitHub Actions context, from GitHub's own examples.

Each starts from `@octokit/webhooks-examples` and sets only what a run reads: the
repository's full name and default branch, the pull request's number, author, head and
base (SHAs and refs), and whether the head lives in a fork. What was derived, because
the examples have no such payload:

- `pull_request_review` **approved**: the `submitted` example (its review is
  `commented`) with `review.state` set to `approved` and `review.commit_id` to the head.
- a **merged** `pull_request` `closed`: the `closed` example (not merged) with `merged`
  true, `merged_at` set and `merge_commit_sha` the merge commit. (modelward promote reads
  the `push` event; this payload is for workflows that gate on the merge.)
- `push` to the default branch: the example pushes a tag (`refs/tags/simple-tag`);
  `ref` becomes `refs/heads/<default>` and `before`/`after` the pushed range.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .spec import webhook_example

STAMP = "2026-01-01T00:00:00Z"


def _repository(payload: dict[str, Any], full_name: str, default_branch: str) -> None:
    owner, name = full_name.split("/")
    repo = payload["repository"]
    repo.update(full_name=full_name, name=name, default_branch=default_branch, fork=False)
    repo["owner"] = {**repo["owner"], "login": owner}


def _pull(
    payload: dict[str, Any],
    *,
    number: int,
    author: str,
    head_sha: str,
    base_sha: str,
    base_ref: str,
    full_name: str,
    fork: bool,
) -> None:
    payload["number"] = number
    pr = payload["pull_request"]
    pr.update(number=number, state="open", merged=False, merged_at=None, merge_commit_sha=None)
    pr["user"] = {**pr["user"], "login": author}
    pr["head"] = {**pr["head"], "sha": head_sha, "ref": "feature", "label": f"{author}:feature"}
    pr["base"] = {**pr["base"], "sha": base_sha, "ref": base_ref, "label": base_ref}
    base_repo = {**pr["base"]["repo"], "full_name": full_name, "fork": False}
    head_name = f"{author}/{full_name.split('/')[1]}" if fork else full_name
    pr["head"]["repo"] = {**pr["head"]["repo"], "full_name": head_name, "fork": fork}
    pr["base"]["repo"] = base_repo


def pull_request(
    action: str,
    *,
    number: int,
    author: str,
    head_sha: str,
    base_sha: str,
    base_ref: str = "main",
    full_name: str = "acme/models",
    fork: bool = False,
) -> dict[str, Any]:
    """`pull_request` opened / synchronize (from their examples)."""
    payload = webhook_example("pull_request", action)
    _repository(payload, full_name, base_ref)
    _pull(
        payload,
        number=number,
        author=author,
        head_sha=head_sha,
        base_sha=base_sha,
        base_ref=base_ref,
        full_name=full_name,
        fork=fork,
    )
    return payload


def review(
    state: str,
    *,
    reviewer: str,
    number: int,
    author: str,
    head_sha: str,
    base_sha: str,
    base_ref: str = "main",
    full_name: str = "acme/models",
) -> dict[str, Any]:
    """`pull_request_review` submitted, with the review's state (derived for approved)."""
    payload = webhook_example("pull_request_review", "submitted")
    _repository(payload, full_name, base_ref)
    _pull(
        payload,
        number=number,
        author=author,
        head_sha=head_sha,
        base_sha=base_sha,
        base_ref=base_ref,
        full_name=full_name,
        fork=False,
    )
    payload["review"].update(state=state.lower(), commit_id=head_sha, submitted_at=STAMP)
    payload["review"]["user"] = {**payload["review"]["user"], "login": reviewer}
    return payload


def push(
    *, before: str, after: str, default_branch: str = "main", full_name: str = "acme/models"
) -> dict[str, Any]:
    """`push` to the default branch (derived from the tag-push example)."""
    payload = webhook_example("push")
    _repository(payload, full_name, default_branch)
    payload.update(ref=f"refs/heads/{default_branch}", before=before, after=after, base_ref=None)
    return payload


def merged(
    *, number: int, author: str, head_sha: str, base_sha: str, merge_sha: str
) -> dict[str, Any]:
    """`pull_request` closed and merged (derived from the unmerged closed example)."""
    payload = pull_request(
        "closed", number=number, author=author, head_sha=head_sha, base_sha=base_sha
    )
    payload["pull_request"].update(
        state="closed", merged=True, merged_at=STAMP, closed_at=STAMP, merge_commit_sha=merge_sha
    )
    return payload


def write(tmp: Path, payload: dict[str, Any], name: str = "event.json") -> Path:
    path = tmp / name
    path.write_text(json.dumps(payload))
    return path
