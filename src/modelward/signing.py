"""Signed registry tags: promote signs them, `audit --verify` checks them.

With `registry.signing` in modelward.yaml, every tag promote creates is signed with
`git tag --sign`, the signing format and key passed as `git -c` options (the user's
and the machine's git config are never written). `audit --verify` checks every
registry tag with `git verify-tag` against the allowed signers as committed on the
default branch (an ssh allowed-signers file, or armored OpenPGP public keys imported
into a throwaway keyring): a tag that is unsigned, signed by another key or altered
after signing is a finding. A signature does not change what a tag means: the payload
is the message before it, and re-running promote compares payloads, not signatures.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import git
from .errors import GitError, UsageError
from .statedir import state_dir

if TYPE_CHECKING:  # the registry reads tags without pydantic; only types come from here
    from .manifest import Signing

CONFIG_FILE = "modelward.yaml"
SIGNATURE_STARTS = (
    "-----BEGIN SSH SIGNATURE-----",
    "-----BEGIN PGP SIGNATURE-----",
    "-----BEGIN SIGNED MESSAGE-----",
)
BATCH = 200  # tags per `git verify-tag` call (keeps the command line short)


def unsigned(contents: str) -> str:
    """A tag message without the signature git appends to it (git's own rule: the
    signature starts at the last line that opens one)."""
    cut = len(contents)
    pos = 0
    for line in contents.splitlines(keepends=True):
        if line.startswith(SIGNATURE_STARTS):
            cut = pos
        pos += len(line)
    return contents[:cut]


# ---------------------------------------------------------------- signing


def git_options(signing: Signing | None, repo: Path) -> list[str]:
    """`git -c` options that make `git tag --sign` use the configured key."""
    if signing is None:
        return []
    key = os.path.expandvars(os.path.expanduser(signing.key))
    if signing.format == "ssh":
        if not key.startswith("key::"):
            path = Path(key) if Path(key).is_absolute() else Path(repo) / key
            if not path.is_file():
                raise UsageError(
                    f"registry.signing.key: {path} does not exist; promote signs registry "
                    "tags with it (modelward.yaml registry.signing)"
                )
            key = str(path)
        return ["-c", "gpg.format=ssh", "-c", f"user.signingKey={key}"]
    return ["-c", "gpg.format=openpgp", "-c", f"user.signingKey={key}"]


def sign_flag(signing: Signing | None) -> str:
    """`git tag`'s flag: sign with the configured key, or never sign (whatever tag.gpgSign
    says in someone's git config)."""
    return "--sign" if signing is not None else "--no-sign"


# ---------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Policy:
    """What verification needs: the signing settings and the allowed signers' bytes, both
    as committed on the default branch."""

    signing: Signing
    allowed: bytes | None
    ref: str


def policy_at(repo: Path, ref: str) -> Policy | None:
    """The signing settings of modelward.yaml at `ref` (None when signing is off)."""
    from .manifest import Config, parse
    from .yamlio import load_bytes

    raw = git.read_blobs(repo, ref, [CONFIG_FILE]).get(CONFIG_FILE)
    if raw is None:
        return None
    signing = parse(load_bytes(raw, f"{CONFIG_FILE} at {ref}"), Config).registry.signing
    if signing is None:
        return None
    allowed = git.read_blobs(repo, ref, [signing.allowed_signers]).get(signing.allowed_signers)
    return Policy(signing, allowed, ref)


def verify(repo: Path, policy: Policy, tags: Sequence[str]) -> dict[str, str]:
    """Tag name -> why its signature does not hold, for each of `tags` that fails.

    A tag object is immutable (its id hashes its message and signature), so a verdict
    "good" holds for as long as the allowed signers are the same bytes: such verdicts are
    kept in `.modelward/cache/`, keyed by the allowed signers' sha256, and later runs check
    only tags they have not seen good. Failures are never cached."""
    tags = list(dict.fromkeys(tags))
    where = f"{policy.signing.allowed_signers} on {policy.ref}"
    if not tags:
        return {}
    if policy.allowed is None:
        return {t: f"cannot be verified: {where} does not exist" for t in tags}
    objects = _tag_objects(repo, tags)
    cache = _cache_file(repo, policy)
    known = set(cache.read_text().split()) if cache.is_file() else set()
    todo = [t for t in tags if t in objects and objects[t][0] not in known]
    good = {t for t in tags if t in objects and objects[t][0] in known}
    if todo:
        with tempfile.TemporaryDirectory(prefix="mw-sig-") as tmp:
            options, env = _verifier(policy, Path(tmp))
            for start in range(0, len(todo), BATCH):
                good |= _verified(repo, options, env, todo[start : start + BATCH])
        fresh = {objects[t][0] for t in todo if t in good}
        if fresh:
            _write(cache, "".join(f"{oid}\n" for oid in sorted(known | fresh)))
    return {
        t: (
            f"its signature is not from a key {where} allows (or the tag was altered)"
            if objects.get(t, ("", False))[1]
            else f"is not signed; registry.signing requires a signature {where} allows"
        )
        for t in tags
        if t not in good
    }


def _cache_file(repo: Path, policy: Policy) -> Path:
    assert policy.allowed is not None
    key = hashlib.sha256(policy.signing.format.encode() + b"\0" + policy.allowed).hexdigest()
    return state_dir(repo) / "cache" / "signatures" / f"{key}.txt"


def _write(path: Path, text: str) -> None:
    """Replace `path` whole (a reader never sees half a cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _verifier(policy: Policy, tmp: Path) -> tuple[list[str], dict[str, str]]:
    """git options and environment that verify against the allowed signers only."""
    assert policy.allowed is not None
    env = dict(os.environ)
    if policy.signing.format == "ssh":
        allowed = tmp / "allowed_signers"
        allowed.write_bytes(policy.allowed)
        options = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={allowed}"]
        options += ["-c", "gpg.ssh.revocationFile=", "-c", "gpg.minTrustLevel=fully"]
        return options, env
    home = tmp / "gnupg"
    home.mkdir(mode=0o700)
    (home / "gpg.conf").write_text("trust-model always\nno-autostart\n")
    env["GNUPGHOME"] = str(home)
    proc = subprocess.run(
        ["gpg", "--batch", "--quiet", "--import"],
        input=policy.allowed,
        capture_output=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(("gpg", "--import"), proc.stderr.decode("utf-8", "replace"))
    return ["-c", "gpg.format=openpgp", "-c", "gpg.program=gpg"], env


def _verified(repo: Path, options: list[str], env: dict[str, str], tags: list[str]) -> set[str]:
    """The tags among `tags` whose signature holds: `git verify-tag --format` prints only
    those (one git process per batch)."""
    names = [f"refs/tags/{t}" for t in tags]
    proc = subprocess.run(
        ["git", *options, "verify-tag", "--format=%(refname)", "--", *names],
        cwd=repo,
        capture_output=True,
        env=env,
        check=False,
    )
    printed = proc.stdout.decode("utf-8", "replace").splitlines()
    return {line.removeprefix("refs/tags/") for line in printed if line}


def _tag_objects(repo: Path, tags: list[str]) -> dict[str, tuple[str, bool]]:
    """Annotated tag name -> (tag object id, carries a signature), in one git call.
    Lightweight tags are left out: they cannot carry a signature."""
    out = git.run(
        repo,
        "for-each-ref",
        "--format=%(refname)%00%(objecttype)%00%(objectname)%00%(contents:signature)%00",
        *(f"refs/tags/{t}" for t in tags),
    )
    wanted = set(tags)
    parts = out.split("\0")
    found = {}
    for i in range(0, len(parts) - 3, 4):
        ref, otype, oid, signature = parts[i].lstrip("\n"), parts[i + 1], parts[i + 2], parts[i + 3]
        name = ref.removeprefix("refs/tags/")
        if otype == "tag" and name in wanted:
            found[name] = (oid, bool(signature.strip()))
    return found
