"""The git-tag registry: grammar, payload, reading, writing, planning."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo
from helpers_registry import (
    commit,
    evidence,
    git,
    gto_assign,
    gto_deregister,
    gto_register,
    gto_unassign,
    ours,
)
from hypothesis import given
from hypothesis import strategies as st

from modelward import registry
from modelward.errors import GitError, TagConflict, UsageError
from modelward.registry import (
    Evidence,
    TagName,
    TagPlan,
    create_tag,
    fetch_tags,
    format_message,
    format_tag,
    parse_message,
    parse_tag,
    plan_tags,
    push_tags,
    read,
)

# ---------------------------------------------------------------- grammar

names = st.from_regex(r"\A[a-z0-9](?:[a-z0-9/-]{0,20}[a-z0-9])?\Z")
numbers = st.integers(min_value=0, max_value=10_000).map(str)
prerelease = st.from_regex(r"\A(?:0|[1-9][0-9]{0,3}|[a-z][a-z0-9-]{0,6})\Z")
versions = st.builds(
    lambda a, b, c, pre, build: (
        f"{a}.{b}.{c}" + (f"-{pre}" if pre else "") + (f"+{build}" if build else "")
    ),
    numbers,
    numbers,
    numbers,
    st.none() | prerelease,
    st.none() | st.from_regex(r"\A[0-9a-zA-Z-]{1,8}\Z"),
)
counters = st.none() | st.integers(min_value=1, max_value=10**9)
tag_names = st.one_of(
    st.builds(
        TagName, names, st.sampled_from(["register", "deregister"]), versions, st.none(), counters
    ),
    st.builds(
        lambda m, k, s, c: TagName(m, k, None, s, c),
        names,
        st.sampled_from(["assign", "unassign"]),
        names,
        counters,
    ),
)


@given(tag_names)
def test_tag_names_round_trip(tag: TagName) -> None:
    assert parse_tag(format_tag(tag)) == tag


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("churn@v1.3.0", TagName("churn", "register", version="1.3.0")),
        ("churn@v1.3.0!", TagName("churn", "deregister", version="1.3.0")),
        ("churn#production#4", TagName("churn", "assign", stage="production", counter=4)),
        ("churn#production!#5", TagName("churn", "unassign", stage="production", counter=5)),
        ("churn@v1.3.0#2", TagName("churn", "register", version="1.3.0", counter=2)),
        ("churn#staging", TagName("churn", "assign", stage="staging")),
        ("breast-cancer@v2.0.0-rc.1+b7", TagName("breast-cancer", "register", "2.0.0-rc.1+b7")),
    ],
)
def test_parse_reads_every_form_and_formats_back(name: str, expected: TagName) -> None:
    assert parse_tag(name) == expected
    assert format_tag(expected) == name


@pytest.mark.parametrize(
    "name",
    [
        "churn",
        "v1.3.0",
        "churn@1.3.0",
        "churn@v1.3",
        "churn@v01.3.0",
        "Churn@v1.3.0",
        "-churn@v1.3.0",
        "churn-@v1.3.0",
        "churn@v1.3.0!!",
        "churn#production#0",
        "churn#production#01",
        "churn#production#x",
        "churn#Production#1",
        "churn#production#1#2",
        "churn@deprecated",
        "churn#production!!#1",
        "churn@v1.3.0 ",
    ],
)
def test_parse_rejects_malformed_names(name: str) -> None:
    assert parse_tag(name) is None


def test_tag_name_refuses_parts_gto_cannot_read() -> None:
    with pytest.raises(UsageError) as exc:
        TagName("Churn", "register", version="1.0.0")
    assert str(exc.value) == (
        "cannot name a registry tag: model name 'Churn' is not a GTO name "
        "(lowercase letters, digits, '-', '/')"
    )
    with pytest.raises(UsageError, match=r"assign needs a stage name and no version"):
        TagName("churn", "assign", version="1.0.0")
    with pytest.raises(UsageError, match=r"counter must be a positive integer \(got 0\)"):
        TagName("churn", "assign", stage="production", counter=0)


# ---------------------------------------------------------------- payload


def test_evidence_round_trips_through_the_tag_message() -> None:
    ev = evidence()
    message = format_message(ev)
    assert message.splitlines()[0] == (
        "Promote churn v1.3.0 to production (PR #42, approved by alice, bob)"
    )
    assert message.splitlines()[1] == ""
    assert message.splitlines()[2] == "modelward: 1"
    assert parse_message(message) == (ev, None)


@given(
    st.dictionaries(st.sampled_from(["roc_auc", "f1", "r2"]), st.floats(-1e6, 1e6)),
    st.lists(st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\Z"), max_size=3),
    st.none() | st.integers(1, 10**6),
    st.booleans(),
)
def test_evidence_payload_round_trips(
    metrics: dict[str, float], approvers: list[str], pr: int | None, bypass: bool
) -> None:
    ev = evidence(metrics=metrics, approvers=tuple(approvers), pr_number=pr, bypass=bypass)
    assert Evidence.from_payload(ev.to_payload()) == ev
    assert parse_message(format_message(ev)) == (ev, None)


def test_the_base_branch_baseline_a_promotion_compared_with_round_trips() -> None:
    from modelward.registry import RecordedBaseline

    ev = evidence(baselines=(RecordedBaseline("staging", "0.3.0", {"roc_auc": 0.9962}),))
    payload = ev.to_payload()
    assert payload["baselines"] == [
        {
            "stage": "staging",
            "version": "0.3.0",
            "source": "base-branch",
            "metrics": {"roc_auc": 0.9962},
        }
    ]
    assert parse_message(format_message(ev)) == (ev, None)
    payload["baselines"][0]["metrics"] = {"roc_auc": "high"}
    with pytest.raises(ValueError, match=r"baselines\.metrics\.roc_auc: expected a number"):
        Evidence.from_payload(payload)


def test_a_minimal_evidence_leaves_absent_fields_out() -> None:
    ev = Evidence(model="churn", version="1.0.0", action="register")
    assert ev.to_payload() == {
        "modelward": 1,
        "model": "churn",
        "version": "1.0.0",
        "action": "register",
        "bypass": False,
    }
    assert format_message(ev) == textwrap.dedent(
        """\
        Register churn v1.0.0

        modelward: 1
        model: churn
        version: 1.0.0
        action: register
        bypass: false
        """
    )


def test_messages_without_our_payload_have_no_evidence() -> None:
    assert parse_message("Registering artifact churn version v1.0.0\n") == (None, None)
    assert parse_message("Release notes\n\n- fixed: things\n") == (None, None)


def test_a_broken_payload_is_reported_not_raised() -> None:
    assert parse_message("Promote\n\nmodelward: 1\nmodel: [unclosed\n")[1] is not None
    assert parse_message("Promote\n\nmodelward: 1\nmodel: churn\n") == (
        None,
        "payload does not read: version: expected a string",
    )
    assert parse_message("Promote\n\nmodelward: 2\nmodel: churn\n") == (
        None,
        "payload does not read: modelward: expected payload version 1",
    )


# ---------------------------------------------------------------- reading


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path, example=False, origin=True)


def test_read_returns_register_and_assign_events_with_their_evidence(repo: GitRepo) -> None:
    c1 = commit(repo.path, "churn 1.3.0")
    ours(repo.path, "churn@v1.3.0", c1, evidence(action="register", stage=None))
    ours(repo.path, "churn#production#1", c1, evidence())

    history = read(repo.path).models["churn"]

    assert [(e.kind, e.version, e.stage, e.counter, e.tag) for e in history.events] == [
        ("register", "1.3.0", None, None, "churn@v1.3.0"),
        ("assign", "1.3.0", "production", 1, "churn#production#1"),
    ]
    assign = history.events[1]
    assert assign.commit == c1
    assert assign.tagger == "Test Committer <committer@example.com>"
    assert assign.date is not None and assign.date[:4].isdigit()
    assert assign.evidence == evidence()
    assert history.versions == {"1.3.0": registry.VersionInfo("1.3.0", c1, True)}
    assert history.stage_versions() == {"production": "1.3.0"}


def test_events_are_ordered_by_counter_never_by_tag_date(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    c2 = commit(repo.path, "v2")
    # written with dates that run backwards: the counters still decide
    gto_register(repo.path, "churn", "1.0.0", c1, date="2030-01-05T00:00:00")
    gto_assign(repo.path, "churn", "staging", "1.0.0", c1, 1, date="2030-01-04T00:00:00")
    gto_register(repo.path, "churn", "2.0.0", c2, date="2030-01-03T00:00:00")
    gto_assign(repo.path, "churn", "staging", "2.0.0", c2, 2, date="2030-01-02T00:00:00")
    gto_assign(repo.path, "churn", "production", "1.0.0", c1, 3, date="2030-01-01T00:00:00")

    history = read(repo.path).models["churn"]

    assert [e.tag for e in history.events] == [
        "churn@v1.0.0",
        "churn#staging#1",
        "churn@v2.0.0",
        "churn#staging#2",
        "churn#production#3",
    ]
    assert history.stage_versions() == {"staging": "2.0.0", "production": "1.0.0"}
    assert history.next_counter() == 4


def test_reassignment_and_unassignment_decide_the_current_version(repo: GitRepo) -> None:
    c1, c2 = commit(repo.path, "v1"), commit(repo.path, "v2")
    gto_register(repo.path, "churn", "1.0.0", c1)
    gto_register(repo.path, "churn", "1.1.0", c2)
    gto_assign(repo.path, "churn", "staging", "1.0.0", c1, 1)
    gto_assign(repo.path, "churn", "production", "1.0.0", c1, 2)
    gto_assign(repo.path, "churn", "staging", "1.1.0", c2, 3)
    gto_unassign(repo.path, "churn", "production", "1.0.0", c1, 4)

    history = read(repo.path).models["churn"]

    assert history.stage_versions() == {"staging": "1.1.0"}
    assert history.was_in_stage("1.0.0", "production")
    assert not history.was_in_stage("1.1.0", "production")
    assert history.was_in_stage("1.1.0", "staging")


def test_an_unassignment_of_a_version_no_longer_there_changes_nothing(repo: GitRepo) -> None:
    c1, c2 = commit(repo.path, "v1"), commit(repo.path, "v2")
    gto_register(repo.path, "churn", "1.0.0", c1)
    gto_register(repo.path, "churn", "1.1.0", c2)
    gto_assign(repo.path, "churn", "staging", "1.0.0", c1, 1)
    gto_assign(repo.path, "churn", "staging", "1.1.0", c2, 2)
    gto_unassign(repo.path, "churn", "staging", "1.0.0", c1, 3)

    assert read(repo.path).models["churn"].stage_versions() == {"staging": "1.1.0"}


def test_rollback_assigns_the_older_version_again_as_a_new_event(repo: GitRepo) -> None:
    c1, c2 = commit(repo.path, "v1"), commit(repo.path, "v2")
    ours(repo.path, "churn@v1.2.0", c1, evidence(version="1.2.0", action="register", stage=None))
    ours(repo.path, "churn#production#1", c1, evidence(version="1.2.0"))
    ours(repo.path, "churn@v1.3.0", c2, evidence(action="register", stage=None))
    ours(repo.path, "churn#production#2", c2, evidence())
    ours(repo.path, "churn#production#3", c1, evidence(version="1.2.0", pr_number=43))

    history = read(repo.path).models["churn"]

    assert [(e.counter, e.version) for e in history.events if e.kind == "assign"] == [
        (1, "1.2.0"),
        (2, "1.3.0"),
        (3, "1.2.0"),
    ]
    assert history.stage_versions() == {"production": "1.2.0"}


def test_deregistration_marks_the_version_and_clears_its_stages(repo: GitRepo) -> None:
    c1, c2 = commit(repo.path, "v1"), commit(repo.path, "v2")
    gto_register(repo.path, "churn", "1.0.0", c1)
    gto_register(repo.path, "churn", "1.1.0", c2)
    gto_assign(repo.path, "churn", "staging", "1.0.0", c1, 1)
    gto_assign(repo.path, "churn", "production", "1.1.0", c2, 2)
    gto_deregister(repo.path, "churn", "1.0.0", c1)

    history = read(repo.path).models["churn"]

    assert {v: i.registered for v, i in history.versions.items()} == {
        "1.0.0": False,
        "1.1.0": True,
    }
    assert history.stage_versions() == {"production": "1.1.0"}
    assert [e.tag for e in history.events] == [
        "churn@v1.0.0",
        "churn#staging#1",
        "churn@v1.0.0!",
        "churn@v1.1.0",
        "churn#production#2",
    ]


def test_read_of_named_models_reads_their_tags_only_and_the_same_history(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    for model in ("churn", "churn-v2", "churn2", "a/churn", "fraud"):
        gto_register(repo.path, model, "1.0.0", c1)
        gto_assign(repo.path, model, "staging", "1.0.0", c1, 1)
    gto_deregister(repo.path, "churn", "1.0.0", c1)
    gto_unassign(repo.path, "churn", "staging", "1.0.0", c1, 2)
    git(repo.path, "tag", "churn#production#3", c1)  # lightweight: version from the register

    only = read(repo.path, models=["churn", "fraud"])

    assert list(only.models) == ["churn", "fraud"]
    assert only.models == {k: v for k, v in read(repo.path).models.items() if k in only.models}
    churn = {e.tag: e.version for e in only.models["churn"].events}
    assert churn == {
        "churn@v1.0.0": "1.0.0",
        "churn#staging#1": "1.0.0",
        "churn@v1.0.0!": "1.0.0",
        "churn#staging!#2": "1.0.0",
        "churn#production#3": "1.0.0",
    }
    assert read(repo.path, models=[]).models == {}
    assert read(repo.path, models=["nothing"]).models == {}


def test_gto_written_tags_are_read_with_no_evidence(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    gto_register(repo.path, "churn", "1.0.0", c1)
    gto_assign(repo.path, "churn", "production", "1.0.0", c1, 1)

    events = read(repo.path).models["churn"].events

    assert [(e.kind, e.version, e.stage, e.annotated, e.evidence) for e in events] == [
        ("register", "1.0.0", None, True, None),
        ("assign", "1.0.0", "production", True, None),
    ]
    assert all(e.evidence_problem is None for e in events)


def test_lightweight_tags_that_match_the_grammar_are_read(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    git(repo.path, "tag", "churn@v1.0.0", c1)
    git(repo.path, "tag", "churn#staging#1", c1)

    events = read(repo.path).models["churn"].events

    assert [(e.tag, e.annotated, e.tagger, e.version, e.commit) for e in events] == [
        ("churn@v1.0.0", False, None, "1.0.0", c1),
        ("churn#staging#1", False, None, "1.0.0", c1),
    ]


def test_unrelated_tags_are_ignored(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    for name in ("v1.0.0", "release-2024", "churn@deprecated", "Churn@v1.0.0"):
        git(repo.path, "tag", "-a", name, "-m", "not ours", c1)
    gto_register(repo.path, "churn", "1.0.0", c1)

    reg = read(repo.path)

    assert list(reg.models) == ["churn"]
    assert [e.tag for e in reg.models["churn"].events] == ["churn@v1.0.0"]


def test_a_stage_tag_without_a_registration_takes_its_version_from_the_payload(
    repo: GitRepo,
) -> None:
    c1 = commit(repo.path, "v1")
    ours(repo.path, "churn#staging#1", c1, evidence(stage="staging"))
    gto_assign(repo.path, "diabetes", "staging", "9.9.9", c1, 1)

    reg = read(repo.path)

    assert reg.models["churn"].stage_versions() == {"staging": "1.3.0"}
    assert reg.models["diabetes"].events[0].version is None
    assert reg.models["diabetes"].stage_versions() == {}


def test_next_counter_counts_every_tag_of_the_model_only(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    gto_register(repo.path, "churn", "1.0.0", c1)
    git(repo.path, "tag", "-a", "churn@v1.0.0!#7", "-m", "deregister", c1)
    gto_assign(repo.path, "diabetes", "staging", "1.0.0", c1, 40)

    reg = read(repo.path)

    assert reg.models["churn"].next_counter() == 8
    assert reg.history("breast-cancer").next_counter() == 1


def test_a_payload_that_does_not_read_is_kept_as_a_problem(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    git(repo.path, "tag", "-a", "churn@v1.0.0", "-m", "Register\n\nmodelward: 1\nmodel: 3", c1)

    event = read(repo.path).models["churn"].events[0]

    assert event.evidence is None
    assert event.evidence_problem == "payload does not read: model: expected a string"


# ---------------------------------------------------------------- writing


def _message(**kw: object) -> str:
    return format_message(evidence(**kw))


def test_create_tag_is_idempotent(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    message = _message()

    assert create_tag(repo.path, "churn#production#1", c1, message) == "created"
    assert create_tag(repo.path, "churn#production#1", c1, message) == "exists"

    event = read(repo.path).models["churn"].events[0]
    assert event.evidence == evidence()
    assert git(repo.path, "cat-file", "-t", "churn#production#1") == "tag"


def test_create_tag_refuses_another_payload_under_an_existing_name(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    create_tag(repo.path, "churn#production#1", c1, _message())
    before = git(repo.path, "rev-parse", "churn#production#1")

    with pytest.raises(TagConflict) as exc:
        create_tag(repo.path, "churn#production#1", c1, _message(pr_number=43))

    assert str(exc.value) == (
        "tag churn#production#1 exists locally with a different payload; registry tags are "
        "never rewritten (bump the version or use the next counter)"
    )
    assert git(repo.path, "rev-parse", "churn#production#1") == before


def test_create_tag_refuses_to_move_a_tag(repo: GitRepo) -> None:
    c1, c2 = commit(repo.path, "v1"), commit(repo.path, "v2")
    create_tag(repo.path, "churn#production#1", c1, _message())

    with pytest.raises(TagConflict) as exc:
        create_tag(repo.path, "churn#production#1", c2, _message())

    assert str(exc.value) == (
        f"tag churn#production#1 exists locally at commit {c1[:12]}, not {c2[:12]}; "
        "registry tags are never moved"
    )


def test_create_tag_refuses_names_outside_the_grammar(repo: GitRepo) -> None:
    with pytest.raises(UsageError, match=r"'release-1' is not a registry tag name"):
        create_tag(repo.path, "release-1", "HEAD", "x")


def _clone(repo: GitRepo, dest: Path) -> Path:
    assert repo.origin is not None
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(dest)], check=True)
    return dest


def _remote_tags(repo: GitRepo) -> dict[str, str]:
    assert repo.origin is not None
    out = git(
        repo.origin, "for-each-ref", "--format=%(refname:strip=2) %(*objectname)", "refs/tags"
    )
    return dict(line.split(" ") for line in out.splitlines())


def test_push_tags_publishes_all_tags(repo: GitRepo) -> None:
    c1 = repo.head()
    create_tag(repo.path, "churn@v1.3.0", c1, _message(action="register", stage=None))
    create_tag(repo.path, "churn#production#1", c1, _message())

    push_tags(repo.path, "origin", ["churn@v1.3.0", "churn#production#1"])

    assert _remote_tags(repo) == {"churn@v1.3.0": c1, "churn#production#1": c1}


def test_push_tags_accepts_the_same_content_already_on_the_remote(
    repo: GitRepo, tmp_path: Path
) -> None:
    other = _clone(repo, tmp_path / "other")
    c1 = repo.head()
    create_tag(other, "churn#production#1", c1, _message())
    push_tags(other, "origin", ["churn#production#1"])
    # the same decision re-run elsewhere: a new tag object, same message and target
    create_tag(repo.path, "churn#production#1", c1, _message())
    create_tag(repo.path, "churn#production#2", c1, _message(pr_number=44))

    push_tags(repo.path, "origin", ["churn#production#1", "churn#production#2"])

    assert set(_remote_tags(repo)) == {"churn#production#1", "churn#production#2"}


def test_a_runner_that_lost_the_race_with_the_same_payload_takes_origins_tag_object(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = _clone(repo, tmp_path / "other")
    c1 = repo.head()
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T10:00:00Z")
    create_tag(other, "churn#production#1", c1, _message())
    push_tags(other, "origin", ["churn#production#1"])
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T10:00:07Z")  # a second runner, later
    create_tag(repo.path, "churn#production#1", c1, _message())
    assert git(repo.path, "rev-parse", "churn#production#1") != git(
        other, "rev-parse", "churn#production#1"
    )

    push_tags(repo.path, "origin", ["churn#production#1"])
    fetch_tags(repo.path, "origin")  # a re-run of the promotion fetches first: no conflict

    origin_object = git(repo.origin or Path(), "rev-parse", "churn#production#1")
    assert git(repo.path, "rev-parse", "churn#production#1") == origin_object


def test_fetch_adopts_origins_tag_object_for_an_equal_payload(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = _clone(repo, tmp_path / "other")
    c1 = repo.head()
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T10:00:00Z")
    create_tag(other, "churn#production#1", c1, _message())
    push_tags(other, "origin", ["churn#production#1"])
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T10:00:07Z")
    create_tag(repo.path, "churn#production#1", c1, _message())

    fetch_tags(repo.path, "origin")

    assert git(repo.path, "rev-parse", "churn#production#1") == git(
        other, "rev-parse", "churn#production#1"
    )


def test_push_tags_refuses_a_remote_tag_with_other_content_and_pushes_nothing(
    repo: GitRepo, tmp_path: Path
) -> None:
    other = _clone(repo, tmp_path / "other")
    c1 = repo.head()
    create_tag(other, "churn#production#1", c1, _message(pr_number=41))
    push_tags(other, "origin", ["churn#production#1"])
    create_tag(repo.path, "churn@v1.3.0", c1, _message(action="register", stage=None))
    create_tag(repo.path, "churn#production#1", c1, _message())

    with pytest.raises(TagConflict) as exc:
        push_tags(repo.path, "origin", ["churn@v1.3.0", "churn#production#1"])

    assert str(exc.value) == (
        "tag churn#production#1 exists on origin with a different payload; registry tags "
        "are never rewritten (bump the version or use the next counter)"
    )
    assert set(_remote_tags(repo)) == {"churn#production#1"}  # atomic: no registration either
    assert git(repo.path, "for-each-ref", "refs/modelward") == ""  # scratch refs cleaned up


def test_push_tags_reports_an_unreachable_remote_as_a_git_error(repo: GitRepo) -> None:
    create_tag(repo.path, "churn#production#1", repo.head(), _message())
    git(repo.path, "remote", "add", "gone", str(repo.path.parent / "missing.git"))

    with pytest.raises(GitError):
        push_tags(repo.path, "gone", ["churn#production#1"])


RACER = """
import sys
from pathlib import Path
from modelward.errors import TagConflict
from modelward.registry import create_tag, push_tags
repo, message = Path(sys.argv[1]), sys.argv[2]
create_tag(repo, "churn#production#1", "HEAD", message)
sys.stdin.read()  # wait for the starting gun
try:
    push_tags(repo, "origin", ["churn#production#1"])
    print("pushed")
except TagConflict as exc:
    print("conflict:", exc)
"""


def test_two_concurrent_pushes_of_one_tag_name_end_with_one_winner(
    repo: GitRepo, tmp_path: Path
) -> None:
    clones = [_clone(repo, tmp_path / f"clone{i}") for i in (1, 2)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(clone), f"Promote (run {i})\n\nmodelward: 1\n"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, clone in enumerate(clones)
    ]
    outputs = [r.communicate("go", timeout=60) for r in racers]

    results = sorted(out.strip() for out, _ in outputs)
    assert [r.returncode for r in racers] == [0, 0], [err for _, err in outputs]
    assert results[1] == "pushed"
    assert results[0].startswith("conflict: tag churn#production#1 exists on origin with a")
    winner = clones[[out.strip() for out, _ in outputs].index("pushed")]
    assert git(repo.origin or Path(), "rev-parse", "churn#production#1") == git(
        winner, "rev-parse", "churn#production#1"
    )


def test_fetch_tags_brings_remote_tags_and_refuses_to_clobber(
    repo: GitRepo, tmp_path: Path
) -> None:
    other = _clone(repo, tmp_path / "other")
    c1 = repo.head()
    create_tag(other, "churn#production#1", c1, _message(pr_number=41))
    create_tag(other, "churn@v1.3.0", c1, _message(action="register", stage=None))
    push_tags(other, "origin", ["churn#production#1", "churn@v1.3.0"])

    fetch_tags(repo.path, "origin")
    assert read(repo.path).models["churn"].stage_versions() == {"production": "1.3.0"}

    git(repo.path, "tag", "-d", "churn#production#1")
    create_tag(repo.path, "churn#production#1", c1, _message(pr_number=99))
    with pytest.raises(TagConflict) as exc:
        fetch_tags(repo.path, "origin")
    assert "churn#production#1" in str(exc.value)


# ---------------------------------------------------------------- planning


def test_plan_tags_registers_a_new_version_and_takes_the_next_counter(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    gto_register(repo.path, "churn", "1.2.0", c1)
    gto_assign(repo.path, "churn", "staging", "1.2.0", c1, 1)
    history = read(repo.path).models["churn"]

    assert plan_tags(history, "churn", "1.3.0", "staging") == TagPlan(
        register="churn@v1.3.0", assign="churn#staging#2"
    )
    assert plan_tags(history, "churn", "1.2.0", "production") == TagPlan(
        assign="churn#production#2"
    )
    assert plan_tags(history, "churn", "1.2.0", "staging") == TagPlan()
    assert plan_tags(None, "diabetes", "0.1.0", "staging").names == [
        "diabetes@v0.1.0",
        "diabetes#staging#1",
    ]


def test_plan_tags_unassigns_for_archived_and_none(repo: GitRepo) -> None:
    c1, c2 = commit(repo.path, "v1"), commit(repo.path, "v2")
    gto_register(repo.path, "churn", "1.2.0", c1)
    gto_register(repo.path, "churn", "1.3.0", c2)
    gto_assign(repo.path, "churn", "staging", "1.3.0", c2, 1)
    gto_assign(repo.path, "churn", "production", "1.2.0", c1, 2)
    history = read(repo.path).models["churn"]

    assert plan_tags(history, "churn", "1.2.0", "archived") == TagPlan(
        unassign=("churn#production!#3",)
    )
    assert plan_tags(history, "churn", "1.3.0", "none").names == [
        "churn#production!#3",
        "churn#staging!#4",
    ]


def test_plan_tags_refuses_a_deregistered_version_and_unknown_stages(repo: GitRepo) -> None:
    c1 = commit(repo.path, "v1")
    gto_register(repo.path, "churn", "1.2.0", c1)
    gto_deregister(repo.path, "churn", "1.2.0", c1)
    history = read(repo.path).models["churn"]

    with pytest.raises(UsageError) as exc:
        plan_tags(history, "churn", "1.2.0", "staging")
    assert str(exc.value) == (
        "churn 1.2.0 was deregistered (churn@v1.2.0!); bump the version to register it again"
    )
    with pytest.raises(UsageError, match=r"unknown stage 'prod'; stages: staging, production"):
        plan_tags(history, "churn", "1.3.0", "prod", stages=("staging", "production"))
