"""The test server itself: it speaks GitHub's contract and catches what does not."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from ghserver import Fault, GitHubServer
from ghserver.server import Pull

TOKEN = "ghs_test_token"


def call(
    server: GitHubServer, method: str, path: str, body: Any = None, token: str = TOKEN
) -> tuple[int, Any, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method)
    req.add_header("Authorization", f"token {token}")
    req.add_header("Accept", "application/vnd.github+json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), dict(err.headers)


def test_comments_are_paginated_thirty_a_page_with_link_headers(github: GitHubServer) -> None:
    github.add_pull(Pull(7, "alice", "a" * 40, "main"))
    for i in range(65):
        github.add_comment(7, "bob", f"comment {i}")
    status, first, headers = call(github, "GET", "/repos/acme/models/issues/7/comments")
    assert status == 200 and len(first) == 30
    assert 'rel="next"' in headers["Link"] and "page=3" in headers["Link"]
    _, third, headers = call(github, "GET", "/repos/acme/models/issues/7/comments?page=3")
    assert [c["body"] for c in third] == [f"comment {i}" for i in range(60, 65)]
    assert 'rel="next"' not in headers["Link"]
    assert github.api_calls() == 1  # pages after the first are not counted


def test_a_request_the_description_rejects_is_a_violation(github: GitHubServer) -> None:
    github.add_pull(Pull(7, "alice", "a" * 40, "main"))
    status, _, _ = call(github, "POST", "/repos/acme/models/statuses/" + "a" * 40, {"x": 1})
    assert status == 422  # GitHub refuses it too
    assert github.violations[0].startswith("request POST /repos/acme/models/statuses/")
    assert "'state' is a required property" in github.violations[0]
    github.violations.clear()  # this test wanted the violation


def test_a_read_only_token_gets_403_on_every_write(github: GitHubServer) -> None:
    github.add_pull(Pull(7, "alice", "a" * 40, "main"))
    github.readonly = True
    status, body, _ = call(github, "POST", "/repos/acme/models/issues/7/comments", {"body": "x"})
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    assert call(github, "GET", "/repos/acme/models/issues/7/comments")[0] == 200
    assert github.comments[7] == []


def test_a_502_after_applying_keeps_the_write(github: GitHubServer) -> None:
    github.add_pull(Pull(7, "alice", "a" * 40, "main"))
    github.faults.append(Fault("POST", r"/comments$", "applied-502"))
    status, _, _ = call(github, "POST", "/repos/acme/models/issues/7/comments", {"body": "x"})
    assert status == 502 and len(github.comments[7]) == 1


@pytest.mark.parametrize(("kind", "status"), [("secondary", 403), ("429", 429), ("5xx", 503)])
def test_faults_before_applying_change_nothing(
    github: GitHubServer, kind: str, status: int
) -> None:
    github.add_pull(Pull(7, "alice", "a" * 40, "main"))
    github.faults.append(Fault("POST", r"/comments$", kind))
    got, _body, headers = call(
        github, "POST", "/repos/acme/models/issues/7/comments", {"body": "x"}
    )
    assert got == status and github.comments[7] == []
    if kind != "5xx":
        assert headers["Retry-After"] == "1"


def test_a_wrong_token_is_refused(github: GitHubServer) -> None:
    github.add_pull(Pull(7, "alice", "a" * 40, "main"))
    assert call(github, "GET", "/repos/acme/models/pulls/7", token="nope")[0] == 401
