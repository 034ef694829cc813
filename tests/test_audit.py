"""`modelward audit`: the history from tags, and its verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import GitRepo, cli, make_repo
from helpers_registry import commit, evidence, git, gto_assign, gto_register, ours

from modelward.audit import audit
from modelward.errors import UsageError
from modelward.registry import Event

ARTIFACT = b"pretend joblib bytes of churn 1.3.0"
SHA = hashlib.sha256(ARTIFACT).hexdigest()
LOCATION = f".modelward/artifacts/{SHA}/model.joblib"


@pytest.fixture
def promoted(tmp_path: Path) -> GitRepo:
    """churn 1.2.0 by GTO, then 1.3.0 registered and promoted by modelward with evidence."""
    repo = make_repo(tmp_path, example=True, origin=False)
    c1 = repo.head()
    gto_register(repo.path, "churn", "1.2.0", c1, date="2030-01-01T10:00:00+00:00")
    gto_assign(repo.path, "churn", "production", "1.2.0", c1, 1, date="2030-01-01T11:00:00+00:00")
    c2 = commit(repo.path, "Merge pull request #42: churn 1.3.0")
    store = repo.path / LOCATION
    store.parent.mkdir(parents=True)
    store.write_bytes(ARTIFACT)
    ev = evidence(artifact_sha256=SHA, artifact_location=LOCATION, merge_commit=c2)
    reg = evidence(action="register", stage=None, artifact_sha256=SHA, artifact_location=LOCATION)
    ours(repo.path, "churn@v1.3.0", c2, reg, date="2030-02-01T10:00:00+00:00")
    ours(repo.path, "churn#production#2", c2, ev, date="2030-02-01T10:00:01+00:00")
    return repo


def test_audit_text_shows_who_when_what_and_the_evidence(promoted: GitRepo) -> None:
    result = cli("audit", "churn", "--repo", promoted.path)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "churn: 4 events; now production=1.3.0"
    assert [line.split()[:5] for line in lines[3:7]] == [
        ["-", "2030-01-01", "10:00", "register", "1.2.0"],
        ["1", "2030-01-01", "11:00", "assign", "1.2.0"],
        ["-", "2030-02-01", "10:00", "register", "1.3.0"],
        ["2", "2030-02-01", "10:00", "assign", "1.3.0"],
    ]
    assert "no evidence" in lines[4]
    promotion = lines[6]
    for cell in (
        "production",
        "#42",
        "dana",
        "alice, bob",
        "roc_auc=0.912 f1=0.7 accuracy=0.85",
        "a" * 12,
        SHA[:12],
        "1 pass, 1 waived; 1 waiver(s)",
    ):
        assert cell in promotion


def test_audit_json_carries_every_event_with_its_full_payload(promoted: GitRepo) -> None:
    result = cli("audit", "--repo", promoted.path, "--format", "json")

    assert result.exit_code == 0
    data = json.loads(result.output)
    churn = data["models"]["churn"]
    assert churn["versions"] == {"1.2.0": "registered", "1.3.0": "registered"}
    assert churn["stages"] == {"production": "1.3.0"}
    assert [e["tag"] for e in churn["events"]] == [
        "churn@v1.2.0",
        "churn#production#1",
        "churn@v1.3.0",
        "churn#production#2",
    ]
    last = churn["events"][-1]
    assert last["evidence"]["pr_number"] == 42
    assert last["evidence"]["approvers"] == ["alice", "bob"]
    assert last["evidence"]["waivers"][0]["approved_by"] == ["carol"]
    assert last["evidence"]["verdicts"][1] == {
        "policy": "production-gate",
        "rule": "fairness_gap",
        "outcome": "waived",
        "message": "gap 0.06 > 0.05",
    }
    assert churn["events"][1]["evidence"] is None
    assert data["verification"] is None


def test_audit_markdown_has_a_table_and_the_verdicts_of_each_promotion(promoted: GitRepo) -> None:
    result = cli("audit", "churn", "--repo", promoted.path, "--format", "markdown")

    assert result.exit_code == 0
    out = result.output
    assert out.startswith("# Registry audit\n\n## churn\n\n4 events; now production=1.3.0.\n")
    assert "| # | date | event | version | stage | pr | author | approvers |" in out
    assert "Test Committer &lt;committer@example.com&gt;" in out
    assert (
        "- `churn#production#2` ([PR #42](https://github.com/acme/models/pull/42))\n"
        "  - production-gate / min_metric: **pass** roc_auc 0.912 &gt;= 0.80\n"
        "  - production-gate / fairness_gap: **waived** gap 0.06 &gt; 0.05\n"
        "  - waiver production-gate / fairness_gap (approved by carol, expires 2030-01-01): "
        "new slice data\n"
    ) in out


def test_audit_verify_passes_on_an_untouched_registry(promoted: GitRepo) -> None:
    result = cli("audit", "--repo", promoted.path, "--verify")

    assert result.exit_code == 0, result.output
    assert (
        "verification: 1 artifact(s) re-hashed, 2 commit(s) checked against main: no problems"
    ) in result.output
    assert "not checked: 2 tag(s) carry no evidence (written by GTO or by hand)" in result.output


def test_audit_verify_catches_a_tampered_artifact(promoted: GitRepo) -> None:
    stored = promoted.path / LOCATION
    data = bytearray(stored.read_bytes())
    data[0] ^= 0xFF
    stored.write_bytes(bytes(data))
    tampered = hashlib.sha256(bytes(data)).hexdigest()

    result = cli("audit", "--repo", promoted.path, "--verify")

    assert result.exit_code == 1
    message = f"artifact {LOCATION} hashes to {tampered[:12]}, the tag records {SHA[:12]}"
    assert f"  churn@v1.3.0: artifact: {message}" in result.output
    assert f"  churn#production#2: artifact: {message}" in result.output
    assert "modelward: verification found 2 problem(s)" in result.output


def test_audit_verify_reports_a_missing_artifact_without_crashing(promoted: GitRepo) -> None:
    (promoted.path / LOCATION).unlink()

    report = audit(promoted.path, "churn", verify=True)

    assert report.verification is not None
    missing = (
        f"artifact {LOCATION} is missing: neither the store nor the release folder "
        ".modelward/releases/churn@v1.3.0/ holds it in this clone. Artifacts live where "
        "modelward.yaml artifacts.store says; a local folder is seen by one machine only. "
        "Give every clone and CI job the same store with an fsspec URL (artifacts.store: "
        "s3://bucket/modelward), or copy the store folder here, then verify again"
    )
    assert [(f.tag, f.check, f.message) for f in report.verification.findings] == [
        ("churn@v1.3.0", "artifact", missing),
        ("churn#production#2", "artifact", missing),
    ]


def test_audit_verify_finds_the_artifact_in_the_release_folder_when_the_store_lacks_it(
    promoted: GitRepo,
) -> None:
    stored = promoted.path / LOCATION
    release = promoted.path / ".modelward/releases/churn@v1.3.0/model.joblib"
    release.parent.mkdir(parents=True)
    stored.rename(release)

    report = audit(promoted.path, "churn", verify=True)

    assert report.verification is not None
    assert report.verification.findings == []
    assert report.verification.artifacts_checked == 1
    release.write_bytes(b"not the artifact")
    again = audit(promoted.path, "churn", verify=True).verification
    assert again is not None
    assert [f.message[:60] for f in again.findings] == [f"artifact {LOCATION} hashes to "[:60]] * 2


def test_audit_verify_catches_a_tag_on_a_commit_off_the_default_branch(
    promoted: GitRepo,
) -> None:
    promoted.git("checkout", "-q", "-b", "side")
    side = commit(promoted.path, "unmerged experiment")
    promoted.git("checkout", "-q", "main")
    gto_assign(promoted.path, "churn", "staging", "9.9.9", side, 3)

    result = cli("audit", "churn", "--repo", promoted.path, "--verify", "--format", "json")

    assert result.exit_code == 1
    findings = json.loads(result.stdout)["verification"]["findings"]
    assert findings == [
        {
            "model": "churn",
            "tag": "churn#staging#3",
            "check": "default-branch",
            "message": f"points at commit {side[:12]}, which is not on main",
        },
        {  # and it was made by hand: nothing shows who approved the move
            "model": "churn",
            "tag": "churn#staging#3",
            "check": "payload",
            "message": "moves staging without modelward's evidence (a tag made by hand or by "
            "another tool): nobody can tell who approved it",
        },
    ]


def test_audit_verify_calls_the_policy_extension_point_for_each_promotion(
    promoted: GitRepo,
) -> None:
    seen: list[str] = []

    def verify_policies(repo: Path, event: Event) -> list[str]:
        seen.append(event.tag)
        return ["min_metric: roc_auc 0.912 < 0.95 under the policies of that commit"]

    report = audit(promoted.path, verify=True, verify_policies=verify_policies)

    assert seen == ["churn#production#2"]  # only stage events that carry evidence
    assert report.verification is not None
    assert report.verification.policies_checked == 1
    assert [(f.tag, f.check) for f in report.verification.findings] == [
        ("churn#production#2", "policy")
    ]


def test_audit_of_a_model_without_tags_is_empty_and_of_an_unknown_one_an_error(
    promoted: GitRepo,
) -> None:
    assert audit(promoted.path, "diabetes").histories["diabetes"].events == []
    with pytest.raises(UsageError) as exc:
        audit(promoted.path, "chrun")
    assert (
        str(exc.value)
        == "no registry tags and no manifest for model 'chrun'; did you mean 'churn'?"
    )
    result = cli("audit", "chrun", "--repo", promoted.path)
    assert result.exit_code == 2


def test_audit_verify_uses_origin_default_branch_when_there_is_no_local_one(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path, example=True, origin=True)
    c1 = repo.head()
    gto_register(repo.path, "churn", "1.0.0", c1)
    repo.git("fetch", "-q", "origin")
    repo.git("checkout", "-q", "--detach")
    repo.git("branch", "-D", "main")

    report = audit(repo.path, verify=True)

    assert report.verification is not None and report.verification.ok
    git(repo.path, "update-ref", "-d", "refs/remotes/origin/main")
    with pytest.raises(UsageError, match=r"default branch 'main' not found"):
        audit(repo.path, verify=True)
