"""Signed registry tags: promote signs, `audit --verify` checks against the governed
allowed signers of the default branch. Keys are made by ssh-keygen in tmp (ssh signing
needs no agent); the gpg case runs only where gpg is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, cli, make_repo
from helpers_registry import evidence, ours

from modelward import registry, signing
from modelward.errors import InvalidInput, TagConflict, UsageError
from modelward.manifest import Config, Signing, parse
from modelward.yamlio import load_bytes

ALLOWED = "policies/allowed_signers"
pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")


def ssh_key(folder: Path, name: str) -> Path:
    path = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True
    )
    return path


def allowed_line(principal: str, key: Path) -> str:
    return f'{principal} namespaces="git" {key.with_suffix(".pub").read_text().strip()}\n'


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return {name: ssh_key(folder, name) for name in ("bot", "mallory")}


def enable_signing(repo: GitRepo, key: Path, allowed: str) -> None:
    """Commit registry.signing and the allowed signers on main (a governed change)."""
    config = (repo.path / "modelward.yaml").read_text()
    config += f"registry:\n  signing:\n    format: ssh\n    key: {key}\n"
    config += f"    allowed_signers: {ALLOWED}\n"
    repo.commit("Sign registry tags", {"modelward.yaml": config, ALLOWED: allowed})
    if repo.origin is not None:
        repo.git("push", "-q", "origin", "main")


def bot_signing(key: Path) -> Signing:
    return Signing(format="ssh", key=str(key), allowed_signers=ALLOWED)


@pytest.fixture
def signed_repo(tmp_path: Path, keys: dict[str, Path]) -> GitRepo:
    repo = make_repo(tmp_path, origin=False)
    enable_signing(repo, keys["bot"], allowed_line("modelward-bot", keys["bot"]))
    return repo


def tag(repo: GitRepo, name: str, key: Path | None) -> None:
    ev = evidence(action="register", stage=None, merge_commit=repo.head())
    sign = bot_signing(key) if key is not None else None
    message = registry.format_message(ev)
    assert registry.create_tag(repo.path, name, repo.head(), message, sign=sign) == "created"


# ---------------------------------------------------------------- the schema


def config(text: str) -> Config:
    return parse(load_bytes(text.encode(), "modelward.yaml"), Config)


def test_signing_is_off_unless_configured() -> None:
    assert config("apiVersion: modelward/v1\nkind: Config\n").registry.signing is None


def test_the_allowed_signers_file_must_be_governed() -> None:
    base = "apiVersion: modelward/v1\nkind: Config\nregistry:\n  signing:\n"
    base += "    format: ssh\n    key: ~/.ssh/bot\n"
    with pytest.raises(InvalidInput) as caught:
        config(base + "    allowed_signers: keys/allowed_signers\n")
    assert str(caught.value) == (
        "modelward.yaml:7: registry.signing.allowed_signers: "
        "'keys/allowed_signers' must be a file under policies/ (e.g. policies/allowed_signers), "
        "so that changing who may sign needs governance approval"
    )
    with pytest.raises(InvalidInput, match=r"registry\.signing\.format: "):
        config(base.replace("format: ssh", "format: x509") + f"    allowed_signers: {ALLOWED}\n")


# ---------------------------------------------------------------- signing


def test_a_tag_made_with_signing_verifies_against_the_allowed_signers(
    signed_repo: GitRepo, keys: dict[str, Path]
) -> None:
    tag(signed_repo, "churn@v1.3.0", keys["bot"])

    contents = signed_repo.git("for-each-ref", "--format=%(contents)", "refs/tags/churn@v1.3.0")
    assert "-----BEGIN SSH SIGNATURE-----" in contents
    policy = signing.policy_at(signed_repo.path, "main")
    assert policy is not None
    assert signing.verify(signed_repo.path, policy, ["churn@v1.3.0"]) == {}
    # the payload still reads: the signature is not part of it
    evidence_, problem = registry.parse_message(contents + "\n")
    assert problem is None and evidence_ is not None and evidence_.version == "1.3.0"


def test_re_creating_a_signed_tag_with_the_same_payload_is_a_no_op(
    signed_repo: GitRepo, keys: dict[str, Path]
) -> None:
    tag(signed_repo, "churn@v1.3.0", keys["bot"])
    ev = evidence(action="register", stage=None, merge_commit=signed_repo.head())
    message = registry.format_message(ev)
    head, sign = signed_repo.head(), bot_signing(keys["bot"])

    assert registry.create_tag(signed_repo.path, "churn@v1.3.0", head, message, sign=sign) == (
        "exists"
    )
    other = registry.format_message(evidence(action="register", stage=None, merge_commit="x" * 40))
    with pytest.raises(TagConflict):
        registry.create_tag(signed_repo.path, "churn@v1.3.0", head, other, sign=sign)


def test_a_missing_signing_key_is_a_usage_error_and_no_tag(signed_repo: GitRepo) -> None:
    missing = signed_repo.path.parent / "no-such-key"
    with pytest.raises(UsageError, match=r"registry\.signing\.key: .*no-such-key does not exist"):
        tag(signed_repo, "churn@v1.3.0", missing)
    assert signed_repo.git("tag", "--list") == ""


def test_signing_never_writes_git_config(signed_repo: GitRepo, keys: dict[str, Path]) -> None:
    before = (signed_repo.path / ".git" / "config").read_text()
    tag(signed_repo, "churn@v1.3.0", keys["bot"])
    assert (signed_repo.path / ".git" / "config").read_text() == before
    assert not (Path.home() / ".gitconfig").exists()


def test_unsigned_strips_only_the_trailing_signature() -> None:
    message = "churn 1.3.0\n\nmodelward: 1\n"
    signature = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n"
    assert signing.unsigned(message + signature) == message
    assert signing.unsigned(message) == message


# ---------------------------------------------------------------- audit --verify


def test_audit_verify_reports_unsigned_and_foreign_signed_tags(
    signed_repo: GitRepo, keys: dict[str, Path]
) -> None:
    tag(signed_repo, "churn@v1.3.0", keys["bot"])
    tag(signed_repo, "churn#staging#1", keys["mallory"])  # someone with push rights to tags
    ev = evidence(action="assign", stage="staging", merge_commit=signed_repo.head())
    ours(signed_repo.path, "churn#staging#2", signed_repo.head(), ev)  # unsigned

    result = cli("audit", "--repo", signed_repo.path, "--verify")

    assert result.exit_code == 1, result.output
    where = f"{ALLOWED} on refs/heads/main"
    assert (
        f"  churn#staging#1: signature: its signature is not from a key {where} allows "
        "(or the tag was altered)"
    ) in result.output
    assert (
        f"  churn#staging#2: signature: is not signed; registry.signing requires a signature "
        f"{where} allows"
    ) in result.output
    assert "churn@v1.3.0: signature" not in result.output


def test_audit_verify_uses_the_allowed_signers_of_the_default_branch(
    signed_repo: GitRepo, keys: dict[str, Path]
) -> None:
    tag(signed_repo, "churn@v1.3.0", keys["mallory"])
    # a branch that allows mallory changes nothing: only main's file counts
    signed_repo.git("checkout", "-q", "-b", "allow-mallory")
    signed_repo.commit("Allow mallory", {ALLOWED: allowed_line("mallory", keys["mallory"])})

    result = cli("audit", "--repo", signed_repo.path, "--verify")

    assert result.exit_code == 1, result.output
    assert "churn@v1.3.0: signature: its signature is not from a key" in result.output


def test_good_verdicts_are_cached_per_allowed_signers_and_failures_are_not(
    signed_repo: GitRepo, keys: dict[str, Path]
) -> None:
    tag(signed_repo, "churn@v1.3.0", keys["bot"])
    tag(signed_repo, "churn@v1.4.0", keys["mallory"])
    policy = signing.policy_at(signed_repo.path, "main")
    assert policy is not None
    assert list(signing.verify(signed_repo.path, policy, ["churn@v1.3.0", "churn@v1.4.0"])) == [
        "churn@v1.4.0"
    ]
    cached = list((signed_repo.path / ".modelward/cache/signatures").iterdir())
    good = signed_repo.git("rev-parse", "churn@v1.3.0")
    assert [p.read_text() for p in cached] == [f"{good}\n"]

    # main stops allowing the bot's key: the cached verdict does not carry over
    signed_repo.commit("Rotate the key", {ALLOWED: allowed_line("other", keys["mallory"])})
    rotated = signing.policy_at(signed_repo.path, "main")
    assert rotated is not None
    assert list(signing.verify(signed_repo.path, rotated, ["churn@v1.3.0", "churn@v1.4.0"])) == [
        "churn@v1.3.0"
    ]


def test_without_signing_configured_unsigned_tags_are_no_finding(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, origin=False)
    tag(repo, "churn@v1.3.0", None)
    result = cli("audit", "--repo", repo.path, "--verify")
    assert "signature" not in result.output


# ---------------------------------------------------------------- end to end


def test_promote_signs_its_tags_and_a_hand_pushed_tag_is_a_finding_in_a_fresh_clone(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    from test_promote import BC, bump, merge_pr, promote

    repo = make_repo(tmp_path)
    repo.commit("Keep modelward's work files out of git", {".gitignore": ".modelward/\n"})
    enable_signing(repo, keys["bot"], allowed_line("modelward-bot", keys["bot"]))
    before = merge_pr(repo, "bc-040", 7, {BC: bump("0.4.0")})

    result = promote(repo, before)

    assert result.exit_code == 0, result.output
    tags = repo.git("tag", "--list").split()
    assert tags == ["breast-cancer#staging#1", "breast-cancer@v0.4.0"]
    allowed = repo.path / ALLOWED
    for name in tags:  # plain git agrees: each tag carries the bot's good signature
        repo.git(
            "-c",
            f"gpg.ssh.allowedSignersFile={allowed}",
            "-c",
            "gpg.format=ssh",
            "verify-tag",
            name,
        )
    clone = tmp_path / "auditor"
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(clone)], check=True)
    clean = cli("audit", "--repo", clone, "--verify")
    assert ": signature: " not in clean.output  # (the artifacts live in the bot's store)

    # someone with push rights to tags, not the bot, moves breast-cancer to production
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=mallory",
            "-c",
            "user.email=m@example.com",
            "tag",
            "-a",
            "-m",
            "by hand",
            "breast-cancer#production#2",
            "breast-cancer@v0.4.0^{commit}",
        ],
        cwd=repo.path,
        check=True,
    )
    repo.git("push", "-q", "origin", "breast-cancer#production#2")
    subprocess.run(["git", "fetch", "-q", "--tags"], cwd=clone, check=True)

    result = cli("audit", "--repo", clone, "--verify")

    assert result.exit_code == 1
    assert "breast-cancer#production#2: signature: is not signed" in result.output


# ---------------------------------------------------------------- gpg


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
def test_gpg_signed_tags_verify_against_armored_allowed_keys(tmp_path: Path) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home)}

    def gpg(*args: str) -> bytes:
        return subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *args],
            env={**__import__("os").environ, **env},
            capture_output=True,
            check=True,
        ).stdout

    gpg("--quick-gen-key", "bot@modelward.invalid", "ed25519", "sign", "never")
    gpg("--quick-gen-key", "mallory@example.com", "ed25519", "sign", "never")
    armored = gpg("--armor", "--export", "bot@modelward.invalid").decode()
    repo = make_repo(tmp_path / "r", origin=False)
    config = (repo.path / "modelward.yaml").read_text()
    config += "registry:\n  signing:\n    format: gpg\n    key: bot@modelward.invalid\n"
    config += f"    allowed_signers: {ALLOWED}\n"
    repo.commit("Sign with gpg", {"modelward.yaml": config, ALLOWED: armored})

    mp = pytest.MonkeyPatch()
    mp.setenv("GNUPGHOME", str(home))
    try:
        ev = evidence(action="register", stage=None, merge_commit=repo.head())
        good = Signing(format="gpg", key="bot@modelward.invalid", allowed_signers=ALLOWED)
        bad = Signing(format="gpg", key="mallory@example.com", allowed_signers=ALLOWED)
        message = registry.format_message(ev)
        registry.create_tag(repo.path, "churn@v1.3.0", repo.head(), message, sign=good)
        registry.create_tag(repo.path, "churn@v1.4.0", repo.head(), message, sign=bad)
        policy = signing.policy_at(repo.path, "main")
        assert policy is not None
        problems = signing.verify(repo.path, policy, ["churn@v1.3.0", "churn@v1.4.0"])
    finally:
        mp.undo()
    assert list(problems) == ["churn@v1.4.0"]
    assert problems["churn@v1.4.0"].startswith("its signature is not from a key")


# ---------------------------------------------------------------- bypass records


def loosened_under_signing(tmp_path: Path, keys: dict[str, Path]) -> tuple[GitRepo, str]:
    """Signing on main, then a policy change merged without governance approval and
    promoted: the bypass record is made. Returns the repo and the bypass tag's name."""
    from helpers_flow import merge, promote

    repo = make_repo(tmp_path)
    repo.commit("Keep modelward's work files out of git", {".gitignore": ".modelward/\n"})
    enable_signing(repo, keys["bot"], allowed_line("modelward-bot", keys["bot"]))
    staging = (repo.path / "policies/staging.yaml").read_text()
    rule = "  - approvals: {min: 1, from: owners, exclude_author: true}\n"
    assert rule in staging
    # (no `modelward pr` run: it would judge every model again; the merge goes in anyway)
    repo.git("checkout", "-q", "-b", "loosen", "main")
    repo.commit("Loosen staging", {"policies/staging.yaml": staging.replace(rule, "")})
    result = promote(repo, merge(repo, "loosen", 9, approvers=("dana",)))
    assert result.exit_code == 0, result.output
    return repo, f"modelward/bypass/{repo.head()[:12]}"


def test_a_bypass_recorded_with_signing_on_is_signed_and_verifies_from_a_fresh_clone(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    from helpers_flow import audit_json, fresh_clone, origin_tags

    repo, name = loosened_under_signing(tmp_path, keys)

    assert name in origin_tags(repo)
    clone = fresh_clone(repo, tmp_path / "auditor")
    contents = subprocess.run(
        ["git", "for-each-ref", "--format=%(contents)", f"refs/tags/{name}"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "-----BEGIN SSH SIGNATURE-----" in contents
    # plain git agrees: the bot's key, as the allowed signers of main list it
    allowed = f"gpg.ssh.allowedSignersFile={clone / ALLOWED}"
    subprocess.run(
        ["git", "-c", "gpg.format=ssh", "-c", allowed, "verify-tag", name],
        cwd=clone,
        capture_output=True,
        check=True,
    )
    code, data = audit_json(clone)
    assert code == 1  # the bypass itself is a finding; its signature is not
    findings = data["verification"]["findings"]  # type: ignore[index]
    assert [(f["tag"], f["check"]) for f in findings] == [(name, "bypass")]
    # the payload reads through the signature: the loosened file is named
    assert "policies/staging.yaml" in findings[0]["message"]


@pytest.mark.parametrize("forger", [None, "mallory"], ids=["unsigned", "foreign-signed"])
def test_a_bypass_record_replaced_by_someone_with_tag_push_rights_is_a_signature_finding(
    tmp_path: Path, keys: dict[str, Path], forger: str | None
) -> None:
    from helpers_flow import audit_json, fresh_clone

    repo, name = loosened_under_signing(tmp_path, keys)
    # the attacker: clones origin, rewrites the record to blame another file, deletes the
    # tag on origin and pushes the forgery under the same name at the same commit
    attacker = fresh_clone(repo, tmp_path / "attacker")
    original = subprocess.run(
        ["git", "for-each-ref", "--format=%(contents)", f"refs/tags/{name}"],
        cwd=attacker,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    forged = signing.unsigned(original).replace("policies/staging.yaml", "policies/README.md")
    assert forged != signing.unsigned(original)

    def run(*args: str) -> None:
        subprocess.run(["git", *args], cwd=attacker, capture_output=True, check=True)

    run("tag", "-d", name)
    run("push", "-q", "origin", f":refs/tags/{name}")
    who = ["-c", "user.name=mallory", "-c", "user.email=m@example.com"]
    if forger is not None:
        who += ["-c", "gpg.format=ssh", "-c", f"user.signingKey={keys[forger]}"]
    how = "--sign" if forger is not None else "--no-sign"
    run(*who, "tag", how, "--cleanup=verbatim", "-m", forged, name, repo.head())
    run("push", "-q", "origin", f"refs/tags/{name}")

    code, data = audit_json(fresh_clone(repo, tmp_path / "auditor"))

    assert code == 1
    findings = {
        (f["tag"], f["check"]): f["message"]
        for f in data["verification"]["findings"]  # type: ignore[index]
    }
    assert set(findings) == {(name, "bypass"), (name, "signature")}
    assert "policies/README.md" in findings[(name, "bypass")]  # the forged claim reads ...
    why = "is not signed" if forger is None else "its signature is not from a key"
    assert findings[(name, "signature")].startswith(why)  # ... and is caught


def test_re_running_promote_makes_no_second_bypass_tag(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    from helpers_flow import fresh_clone, origin_tags

    repo, name = loosened_under_signing(tmp_path, keys)
    before = repo.git("rev-parse", "HEAD^1")
    recorded = repo.git("ls-remote", "origin", f"refs/tags/{name}")
    runner = fresh_clone(repo, tmp_path / "runner")  # another machine, another tagger date

    for where in (repo.path, runner):
        result = cli("promote", "--repo", where, "--before", before)
        assert result.exit_code == 0, result.output

    assert [t for t in origin_tags(repo) if t.startswith("modelward/bypass/")] == [name]
    assert repo.git("ls-remote", "origin", f"refs/tags/{name}") == recorded


def test_a_runner_holding_its_own_signed_copy_of_a_record_takes_origins_on_fetch(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runners record the same bypass; their signatures differ (another tagger date)
    while the payloads are equal. The one whose push lost fetches before its re-run: it
    takes origin's tag object instead of failing with "tags differ"."""
    repo = make_repo(tmp_path)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(repo.origin), str(other)], check=True)
    record = registry.Bypass(merge_commit=repo.head(), findings=("staging/approvals: 0 of 1",))
    sign = bot_signing(keys["bot"])
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T10:00:00Z")
    name, _ = registry.record_bypass(other, record, sign=sign)
    registry.push_tags(other, "origin", [name])
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-01T10:00:07Z")
    assert registry.record_bypass(repo.path, record, sign=sign) == (name, True)

    registry.fetch_tags(repo.path, "origin")

    assert repo.git("rev-parse", name) == repo.git("-C", str(other), "rev-parse", name)
    assert registry.record_bypass(repo.path, record, sign=sign) == (name, False)


def test_an_unapproved_merge_that_switches_signing_off_does_not_switch_audit_off(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """The attacker merges, without governance approval, a modelward.yaml without
    `registry.signing`; every later promotion then makes unsigned tags. The merge is a
    bypass finding, and the tags after it still answer to the signing settings before it."""
    from helpers_flow import audit_json, fresh_clone, merge, promote
    from test_promote import BC, bump, merge_pr

    repo = make_repo(tmp_path)
    repo.commit("Keep modelward's work files out of git", {".gitignore": ".modelward/\n"})
    enable_signing(repo, keys["bot"], allowed_line("modelward-bot", keys["bot"]))
    config = (repo.path / "modelward.yaml").read_text()
    unsigned = config[: config.index("registry:\n  signing:")]
    repo.git("checkout", "-q", "-b", "unsign", "main")
    repo.commit("Stop signing", {"modelward.yaml": unsigned})
    result = promote(repo, merge(repo, "unsign", 9, approvers=("dana",)))  # not governance
    assert result.exit_code == 0, result.output
    assert "bypass recorded as tag" in result.stdout
    # a later, properly approved promotion: the merged config no longer signs
    assert promote(repo, merge_pr(repo, "bc-040", 10, {BC: bump("0.4.0")})).exit_code == 0

    code, data = audit_json(fresh_clone(repo, tmp_path / "auditor"))

    assert code == 1
    signature = {
        f["tag"]: f["message"]
        for f in data["verification"]["findings"]  # type: ignore[index]
        if f["check"] == "signature"
    }
    assert set(signature) == {"breast-cancer@v0.4.0", "breast-cancer#staging#1"}
    assert all(
        "is not signed" in m and "changed them without approval" in m for m in signature.values()
    )
