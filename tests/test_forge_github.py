"""The GitHub forge against the GitHub REST test server, in process: the sticky comment,
the status, annotations, approvals from reviews, teams, releases, faults and permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ghserver import Fault, GitHubServer
from ghserver.server import Pull

from modelward.errors import ForgeError
from modelward.forge.base import PullRequest
from modelward.forge.github import GitHubForge, Settings
from modelward.report import MARKER, render_report

HEAD = "a" * 40
OLD = "b" * 40
TOKEN = "ghs_test_token"


def forge(server: GitHubServer, **kw: Any) -> GitHubForge:
    options: dict[str, Any] = {
        "timeout": 1,
        "write_spacing": 0,
        "max_wait": 5,
        "run_url": "https://github.com/acme/models/actions/runs/1",
        "pr_number": 7,
        "pr_author": "erin",
        **kw,
    }
    settings = Settings(repository="acme/models", token=TOKEN, api_url=server.url, **options)
    return GitHubForge(settings)


def data(n_verdicts: int = 1, summary: str = "pending") -> dict[str, Any]:
    verdicts = [
        {
            "policy": "staging",
            "rule": "approvals",
            "status": "pending",
            "enforcement": "block",
            "reason": f"0 of 2 approvals ({i})",
            "path": "models/churn/model.yaml",
            "line": 10 + i,
            "waiver": None,
        }
        for i in range(n_verdicts)
    ]
    return {
        "head_sha": HEAD,
        "base": "main",
        "head": HEAD,
        "summary": summary,
        "pull_request": 7,
        "generated_by": "modelward test",
        "models": [
            {
                "name": "churn",
                "version": "1.0.0",
                "stage": "staging",
                "status": "modified",
                "reasons": [],
                "base_version": None,
                "metrics": [],
                "baseline": None,
                "slices": {},
                "data_checks": None,
                "verdicts": verdicts,
                "hashes": {
                    "data_sha256": "1" * 64,
                    "suite_sha256": "2" * 64,
                    "artifact_sha256": "3" * 64,
                    "manifest_digest": "4" * 64,
                },
                "artifact_bytes": None,
                "versions": {},
                "cached": False,
                "error": None,
            }
        ],
        "governance": [],
        "base_sha": OLD,
        "merge_base": OLD,
        "notes": [],
    }


@pytest.fixture
def server(github: GitHubServer) -> GitHubServer:
    github.add_pull(Pull(7, "erin", HEAD, "main"))
    return github


def publish(f: GitHubForge, d: dict[str, Any] | None = None, state: str = "pending") -> Any:
    d = d or data()
    pr = PullRequest(7, "erin", HEAD, "main")
    return f.publish_report(pr, render_report(d), d, state, "waiting for approvals")  # type: ignore[arg-type]


def reports(server: GitHubServer) -> list[dict[str, Any]]:
    return [c for c in server.bot_comments(7) if c["body"].startswith(MARKER)]


# ---------------------------------------------------------------- the sticky comment


def test_the_report_is_found_across_pages_and_edited_in_place(server: GitHubServer) -> None:
    for i in range(120):  # four pages of 30 before the report: never a second one
        server.add_comment(7, "bob", f"comment {i}")
    publish(forge(server))
    publish(forge(server), data(2))
    assert len(reports(server)) == 1
    assert "(1)" in reports(server)[0]["body"]


def test_a_quoted_report_in_another_users_comment_is_never_edited(server: GitHubServer) -> None:
    quoted = server.add_comment(7, "mallory", f"{MARKER}\nfake report")
    publish(forge(server))
    assert quoted["body"] == f"{MARKER}\nfake report"
    assert len(reports(server)) == 1


def test_duplicates_keep_the_oldest_updated_and_the_rest_deleted(server: GitHubServer) -> None:
    oldest = server.add_comment(7, server.bot_login, f"{MARKER}\nold one")
    server.add_comment(7, server.bot_login, f"{MARKER}\nold two")
    publish(forge(server))
    assert [c["id"] for c in reports(server)] == [oldest["id"]]
    assert "churn" in reports(server)[0]["body"]


def test_an_unchanged_report_is_not_written_again(server: GitHubServer) -> None:
    publish(forge(server))
    server.reset_calls()
    publish(forge(server))
    writes = [c for c in server.calls if c.method in ("POST", "PATCH") and "comments" in c.path]
    assert writes == []


def test_a_configured_bot_login_finds_its_own_comment(server: GitHubServer) -> None:
    server.bot_login = "modelward-app[bot]"
    publish(forge(server, bot_login="modelward-app[bot]"))
    publish(forge(server, bot_login="modelward-app[bot]"), data(2))
    assert len(reports(server)) == 1


# ---------------------------------------------------------------- status and check run


def test_status_on_the_head_with_a_short_description_and_the_run_url(
    server: GitHubServer,
) -> None:
    f = forge(server)
    f.set_status(HEAD, "pending", "x" * 300)
    (status,) = server.statuses[HEAD]
    assert status["context"] == "modelward/governance"
    assert len(status["description"]) == 140
    assert status["target_url"] == "https://github.com/acme/models/actions/runs/1"


def test_120_annotations_arrive_in_batches_of_at_most_50_on_manifest_lines(
    server: GitHubServer,
) -> None:
    publish(forge(server), data(120))
    assert server.annotation_batches == [50, 50, 20]
    (run,) = server.check_runs.values()
    assert [a["start_line"] for a in run["annotations"]] == [10 + i for i in range(120)]
    assert {a["path"] for a in run["annotations"]} == {"models/churn/model.yaml"}
    assert run["conclusion"] == "neutral"


# ---------------------------------------------------------------- faults


FAULTS = [
    Fault("POST", r"/issues/7/comments$", "applied-502"),
    Fault("POST", r"/issues/7/comments$", "5xx"),
    Fault("POST", r"/issues/7/comments$", "secondary"),
    Fault("POST", r"/statuses/", "429"),
    Fault("POST", r"/statuses/", "applied-502"),
    Fault("GET", r"/issues/7/comments$", "slow", delay=1.5),
    Fault("GET", r"/issues/7/comments$", "5xx"),
    Fault("PATCH", r"/check-runs/", "secondary"),
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.kind}-{f.method}-{f.path}")
def test_each_fault_leaves_the_same_end_state_as_a_clean_run(
    server: GitHubServer, fault: Fault
) -> None:
    server.faults.append(fault)
    publish(forge(server), data(60))
    assert fault.hits == 1
    assert len(reports(server)) == 1
    assert [s["state"] for s in server.statuses[HEAD]][-1] == "pending"
    (run,) = server.check_runs.values()
    assert len(run["annotations"]) == 60


def test_a_rate_limit_longer_than_the_bound_gives_up_with_one_line(server: GitHubServer) -> None:
    server.faults.append(Fault("POST", r"/statuses/", "secondary", times=100))
    with pytest.raises(ForgeError) as info:
        forge(server, max_wait=2).set_status(HEAD, "pending", "x")
    message = str(info.value)
    assert "\n" not in message and "gave up" in message and TOKEN not in message


# ---------------------------------------------------------------- permissions


def test_a_read_only_token_posts_nothing_and_says_what_it_could_not(
    server: GitHubServer,
) -> None:
    server.readonly = True
    emitted: list[str] = []
    f = forge(server, emit=emitted.append)
    publish(f, data(3))
    assert server.comments[7] == [] and server.statuses == {} and server.check_runs == {}
    assert [d.split(":")[0] for d in f.denied] == ["report comment", "commit status", "check run"]
    assert (
        emitted[0] == "::notice file=models/churn/model.yaml,line=10::" + emitted[0].split("::")[2]
    )
    assert len(emitted) == 3


# ---------------------------------------------------------------- approvals


def test_latest_review_per_reviewer_on_the_current_head(server: GitHubServer) -> None:
    server.add_review(7, "hana", "APPROVED", OLD)  # stale: before the last push
    server.add_review(7, "Ivan", "APPROVED", HEAD)
    server.add_review(7, "joe", "APPROVED", HEAD)
    server.add_review(7, "joe", "CHANGES_REQUESTED", HEAD)  # joe's latest
    server.add_review(7, "kim", "APPROVED", HEAD)
    server.add_review(7, "kim", "COMMENTED", HEAD)  # a comment does not withdraw it
    server.add_review(7, "lee", "APPROVED", HEAD, dismissed=True)
    server.add_review(7, "dependabot[bot]", "APPROVED", HEAD)
    f = forge(server)
    pr = f.pull_request(HEAD, "main")
    assert pr.approvers == ("Ivan", "kim")
    assert pr.changes_requested == ("joe",)
    assert pr.verified and pr.author == "erin"
    assert any("hana" in n for n in f.notes)


def test_require_current_head_false_counts_older_approvals(server: GitHubServer) -> None:
    server.add_review(7, "hana", "APPROVED", OLD)
    pr = forge(server, require_current_head=False).pull_request(HEAD, "main")
    assert pr.approvers == ("hana",)


def test_team_members_are_read_and_unreadable_teams_named(server: GitHubServer) -> None:
    server.teams[("acme", "risk-ds")] = ["Alice", "bob"]
    server.unreadable_teams.add(("acme", "secret"))
    pr = forge(server).pull_request(HEAD, "main", teams=["@acme/risk-ds", "@ACME/secret"])
    assert pr.teams == {"@acme/risk-ds": frozenset({"alice", "bob"})}
    assert pr.unreadable_teams == ("@acme/secret",)


def test_the_merged_pull_request_of_a_commit_with_its_final_head(server: GitHubServer) -> None:
    merge = "c" * 40
    p = server.pulls[7]
    p.merged, p.merge_commit_sha = True, merge
    server.commit_pulls[merge] = [7]
    server.add_review(7, "hana", "APPROVED", HEAD)
    server.add_review(7, "ivan", "APPROVED", OLD)
    pr = forge(server, pr_number=None).merged_pull_request(merge)
    assert pr is not None
    assert (pr.number, pr.author, pr.head_sha, pr.approvers) == (7, "erin", HEAD, ("hana",))
    assert forge(server).merged_pull_request("d" * 40) is None


# ---------------------------------------------------------------- releases and comments


def test_release_reuse_uploads_only_missing_assets(server: GitHubServer, tmp_path: Path) -> None:
    files = {}
    for name in ("model.joblib", "metrics.json", "MODEL_CARD.md"):
        files[name] = tmp_path / name
        files[name].write_bytes(name.encode())
    f = forge(server)
    assert not f.has_release("churn@v1.0.0")
    server.faults.append(Fault("POST", r"/uploads/.*/assets$", "5xx"))
    with pytest.raises(ForgeError):
        f.publish_release("churn@v1.0.0", files, "# card")
    (release,) = server.releases.values()
    assert set(release.assets) == set()
    f.publish_release("churn@v1.0.0", files, "# card")
    f.publish_release("churn@v1.0.0", files, "# card")
    (release,) = server.releases.values()
    assert sorted(release.assets) == sorted(files) and release.body == "# card"
    assert release.assets["metrics.json"] == b"metrics.json"


def test_the_promotion_comment_is_posted_once(server: GitHubServer) -> None:
    pr = PullRequest(7, "erin", HEAD, "main", merge_commit="c" * 40)
    f = forge(server)
    f.comment(pr, "promoted churn")
    f.comment(pr, "promoted churn")
    forge(server).comment(pr, "promoted churn")
    assert len(server.bot_comments(7)) == 1


def test_github_enterprise_server_under_api_v3(_github_spec: None) -> None:
    server = GitHubServer(prefix="/api/v3").start()
    try:
        server.add_pull(Pull(7, "erin", HEAD, "main"))
        server.add_review(7, "hana", "APPROVED", HEAD)
        f = GitHubForge(
            Settings(
                repository="acme/models",
                token=TOKEN,
                api_url=server.api,
                write_spacing=0,
                pr_number=7,
                pr_author="erin",
            )
        )
        assert f.pull_request(HEAD, "main").approvers == ("hana",)
        publish(f)
        publish(f, data(2))
        assert len(reports(server)) == 1 and server.statuses[HEAD]
        assert all(c.path.startswith("/api/v3/") for c in server.calls)
    finally:
        server.stop()
    assert server.violations == []
