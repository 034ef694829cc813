"""The registry is git: registrations and stage assignments are annotated tags.

Tag grammar (the one GTO, iterative/gto, reads and writes, so `gto show` reads ours):

    NAME@vX.Y.Z          registers version X.Y.Z of model NAME
    NAME@vX.Y.Z!         deregisters it
    NAME#STAGE#N         assigns the version at the tag's commit to STAGE (event N)
    NAME#STAGE!#N        unassigns it

N is 1 + the highest counter among all of the model's tags. Order comes from the
counters, never from tag timestamps (they have one-second precision and lie across
machines). A stage tag points at the commit where its version was registered, which is
how GTO finds the version of an assignment; our payload also names it.

The tag message is a human first line, a blank line and a versioned YAML payload
(`modelward: 1` first) holding the evidence of the decision. Tags without that payload
(written by GTO, or lightweight) are still read: their evidence is None.

This module reads every tag with ONE `git for-each-ref` call, and writes tags that are
never moved: an existing tag with another payload or target is a TagConflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from . import git, signing
from .errors import GitError, TagConflict, UsageError

if TYPE_CHECKING:
    from .manifest import Signing

Kind = Literal["register", "deregister", "assign", "unassign"]
KINDS: tuple[Kind, ...] = ("register", "deregister", "assign", "unassign")
PAYLOAD_VERSION = 1
PAYLOAD_KEY = "modelward"

# GTO's own patterns (gto/constants.py): names and stages are lowercase letters, digits,
# '-' and '/', starting and ending with a letter or digit; versions are semver with "v".
NAME = r"[a-z0-9](?:[a-z0-9/-]*[a-z0-9])?"
SEMVER = (
    r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
TAG_RE = re.compile(
    rf"^(?P<model>{NAME})"
    rf"(?:@v(?P<version>{SEMVER})|#(?P<stage>{NAME}))"
    r"(?P<cancel>!?)"
    r"(?:#(?P<counter>[1-9]\d*))?$"
)
NAME_RE = re.compile(rf"^{NAME}$")
SEMVER_RE = re.compile(rf"^{SEMVER}$")


# ---------------------------------------------------------------- tag names


@dataclass(frozen=True, order=True)
class TagName:
    """A parsed registry tag name. `version` is without the leading "v"."""

    model: str
    kind: Kind
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    def __post_init__(self) -> None:
        problem = _tag_problem(self)
        if problem:
            raise UsageError(f"cannot name a registry tag: {problem}")

    def __str__(self) -> str:
        return format_tag(self)


def _tag_problem(t: TagName) -> str | None:
    if not NAME_RE.match(t.model):
        return f"model name {t.model!r} is not a GTO name (lowercase letters, digits, '-', '/')"
    if t.kind not in KINDS:
        return f"unknown tag kind {t.kind!r}"
    if t.kind in ("register", "deregister"):
        if t.version is None or not SEMVER_RE.match(t.version) or t.stage is not None:
            return f"{t.kind} needs a semantic version and no stage (got {t.version!r})"
    else:
        if t.stage is None or not NAME_RE.match(t.stage) or t.version is not None:
            return f"{t.kind} needs a stage name and no version (got {t.stage!r})"
    if t.counter is not None and (isinstance(t.counter, bool) or t.counter < 1):
        return f"counter must be a positive integer (got {t.counter!r})"
    return None


def format_tag(t: TagName) -> str:
    cancel = "!" if t.kind in ("deregister", "unassign") else ""
    body = f"@v{t.version}" if t.kind in ("register", "deregister") else f"#{t.stage}"
    counter = f"#{t.counter}" if t.counter is not None else ""
    return f"{t.model}{body}{cancel}{counter}"


def parse_tag(name: str) -> TagName | None:
    """The registry meaning of a tag name, or None when it is not a registry tag."""
    m = TAG_RE.match(name)
    if m is None:
        return None
    cancel = m["cancel"] == "!"
    counter = int(m["counter"]) if m["counter"] else None
    if m["version"] is not None:
        kind: Kind = "deregister" if cancel else "register"
        return TagName(m["model"], kind, version=m["version"], counter=counter)
    kind = "unassign" if cancel else "assign"
    return TagName(m["model"], kind, stage=m["stage"], counter=counter)


def register_tag(model: str, version: str) -> str:
    return format_tag(TagName(model, "register", version=version))


def deregister_tag(model: str, version: str) -> str:
    return format_tag(TagName(model, "deregister", version=version))


def assign_tag(model: str, stage: str, counter: int) -> str:
    return format_tag(TagName(model, "assign", stage=stage, counter=counter))


def unassign_tag(model: str, stage: str, counter: int) -> str:
    return format_tag(TagName(model, "unassign", stage=stage, counter=counter))


# ---------------------------------------------------------------- evidence payload


@dataclass(frozen=True)
class Verdict:
    """One policy rule's decision as it stood when the tag was written."""

    policy: str
    rule: str
    outcome: str
    """pass | fail | warn | waived | skipped"""
    message: str = ""


@dataclass(frozen=True)
class WaiverUse:
    """A waiver that turned a failing rule into a pass for this promotion."""

    policy: str
    rule: str
    reason: str = ""
    approved_by: tuple[str, ...] = ()
    expires: str | None = None


@dataclass(frozen=True)
class RecordedBaseline:
    """A baseline no earlier tag records: the base branch's model, trained at promote
    because nothing was registered in the compared stage. Recorded so that `audit
    --verify` can judge no_regression again from git alone."""

    stage: str
    version: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    source: str = "base-branch"

    def to_payload(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "version": self.version,
            "source": self.source,
            "metrics": {k: float(v) for k, v in self.metrics.items()},
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> RecordedBaseline:
        return cls(
            stage=_str(data, "stage"),
            version=_str(data, "version"),
            metrics=_scores(data.get("metrics") or {}, "baselines.metrics"),
            source=_str(data, "source"),
        )


@dataclass(frozen=True)
class Evidence:
    """What a registry tag records about the decision it makes (the YAML payload)."""

    model: str
    version: str
    action: Kind
    stage: str | None = None
    manifest_digest: str | None = None
    training_digest: str | None = None
    """Digest of the part of the manifest that decides the artifact (judge.training_digest):
    `status` compares it with the manifest to see a different artifact under one version."""
    data_sha256: str | None = None
    artifact_sha256: str | None = None
    artifact_location: str | None = None
    """Where the artifact is stored: a path relative to the repository or a store URL."""
    metrics: Mapping[str, float] = field(default_factory=dict)
    slice_metrics: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    """slice column -> value -> metric -> score"""
    profile: str | None = None
    """Reference to the training-data profile (used by drift)."""
    verdicts: tuple[Verdict, ...] = ()
    waivers: tuple[WaiverUse, ...] = ()
    bypass: bool = False
    """True when the merge went in although a blocking policy failed."""
    pr_number: int | None = None
    pr_url: str | None = None
    author: str | None = None
    approvers: tuple[str, ...] = ()
    merge_commit: str | None = None
    ci_run_url: str | None = None
    library_versions: Mapping[str, str] = field(default_factory=dict)
    baselines: tuple[RecordedBaseline, ...] = ()
    """The base-branch baselines no_regression compared with (registered ones are read
    from earlier tags)."""

    def to_payload(self) -> dict[str, Any]:
        """A plain mapping for YAML: `modelward: 1` first, absent fields left out."""
        out: dict[str, Any] = {PAYLOAD_KEY: PAYLOAD_VERSION}
        out["model"] = self.model
        out["version"] = self.version
        out["action"] = self.action
        for key in _OPTIONAL_SCALARS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.metrics:
            out["metrics"] = {k: float(v) for k, v in self.metrics.items()}
        if self.slice_metrics:
            out["slice_metrics"] = {
                col: {val: {m: float(s) for m, s in ms.items()} for val, ms in vals.items()}
                for col, vals in self.slice_metrics.items()
            }
        if self.verdicts:
            out["verdicts"] = [
                {"policy": v.policy, "rule": v.rule, "outcome": v.outcome, "message": v.message}
                for v in self.verdicts
            ]
        if self.waivers:
            out["waivers"] = [_waiver_payload(w) for w in self.waivers]
        out["bypass"] = self.bypass
        if self.approvers:
            out["approvers"] = list(self.approvers)
        if self.library_versions:
            out["library_versions"] = dict(self.library_versions)
        if self.baselines:
            out["baselines"] = [b.to_payload() for b in self.baselines]
        return out

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Evidence:
        """The inverse of to_payload. Raises ValueError naming the first bad field."""
        if data.get(PAYLOAD_KEY) != PAYLOAD_VERSION:
            raise ValueError(f"{PAYLOAD_KEY}: expected payload version {PAYLOAD_VERSION}")
        model, version, action = _str(data, "model"), _str(data, "version"), _str(data, "action")
        if action not in KINDS:
            raise ValueError(f"action: expected one of {', '.join(KINDS)}")
        kwargs: dict[str, Any] = {"model": model, "version": version, "action": action}
        for key in _OPTIONAL_SCALARS:
            if data.get(key) is not None:
                kwargs[key] = _int(data, key) if key == "pr_number" else _str(data, key)
        kwargs["metrics"] = _scores(data.get("metrics") or {}, "metrics")
        slices = data.get("slice_metrics") or {}
        if not isinstance(slices, dict):
            raise ValueError("slice_metrics: expected a mapping")
        kwargs["slice_metrics"] = {
            str(col): {
                str(val): _scores(ms, f"slice_metrics.{col}.{val}")
                for val, ms in _mapping(vals, f"slice_metrics.{col}").items()
            }
            for col, vals in slices.items()
        }
        kwargs["verdicts"] = tuple(
            Verdict(
                policy=_str(v, "policy"),
                rule=_str(v, "rule"),
                outcome=_str(v, "outcome"),
                message=str(v.get("message") or ""),
            )
            for v in _records(data.get("verdicts") or [], "verdicts")
        )
        kwargs["waivers"] = tuple(
            WaiverUse(
                policy=_str(w, "policy"),
                rule=_str(w, "rule"),
                reason=str(w.get("reason") or ""),
                approved_by=_strings(w.get("approved_by") or [], "waivers.approved_by"),
                expires=None if w.get("expires") is None else str(w["expires"]),
            )
            for w in _records(data.get("waivers") or [], "waivers")
        )
        bypass = data.get("bypass", False)
        if not isinstance(bypass, bool):
            raise ValueError("bypass: expected true or false")
        kwargs["bypass"] = bypass
        kwargs["approvers"] = _strings(data.get("approvers") or [], "approvers")
        libs = _mapping(data.get("library_versions") or {}, "library_versions")
        kwargs["library_versions"] = {str(k): str(v) for k, v in libs.items()}
        kwargs["baselines"] = tuple(
            RecordedBaseline.from_payload(b)
            for b in _records(data.get("baselines") or [], "baselines")
        )
        return cls(**kwargs)

    def headline(self) -> str:
        """The human first line of the tag message."""
        what = {
            "register": f"Register {self.model} v{self.version}",
            "deregister": f"Deregister {self.model} v{self.version}",
            "assign": f"Promote {self.model} v{self.version} to {self.stage}",
            "unassign": f"Remove {self.model} v{self.version} from {self.stage}",
        }[self.action]
        extra = []
        if self.pr_number is not None:
            extra.append(f"PR #{self.pr_number}")
        if self.approvers:
            extra.append(f"approved by {', '.join(self.approvers)}")
        if self.bypass:
            extra.append("BYPASSED POLICIES")
        return f"{what} ({', '.join(extra)})" if extra else what


_OPTIONAL_SCALARS = (
    "stage",
    "manifest_digest",
    "training_digest",
    "data_sha256",
    "artifact_sha256",
    "artifact_location",
    "profile",
    "pr_number",
    "pr_url",
    "author",
    "merge_commit",
    "ci_run_url",
)


def _waiver_payload(w: WaiverUse) -> dict[str, Any]:
    out: dict[str, Any] = {"policy": w.policy, "rule": w.rule, "reason": w.reason}
    out["approved_by"] = list(w.approved_by)
    if w.expires is not None:
        out["expires"] = w.expires
    return out


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string")
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key}: expected an integer")
    return value


def _mapping(value: Any, where: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping")
    return value


def _scores(value: Any, where: str) -> dict[str, float]:
    out = {}
    for k, v in _mapping(value, where).items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ValueError(f"{where}.{k}: expected a number")
        out[str(k)] = float(v)
    return out


def _records(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{where}: expected a list of mappings")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list")
    return tuple(str(v) for v in value)


def format_message(evidence: Evidence, headline: str | None = None) -> str:
    """The annotated tag message: human first line, blank line, YAML payload."""
    first = (headline or evidence.headline()).strip()
    if "\n" in first:
        raise UsageError("a tag headline must be one line")
    body = yaml.safe_dump(evidence.to_payload(), sort_keys=False, allow_unicode=True)
    return f"{first}\n\n{body}"


def parse_message(message: str) -> tuple[Evidence | None, str | None]:
    """(evidence, problem) from a tag message. Tolerant: a message without our payload
    (GTO's own, a hand-written one) is (None, None); a payload that claims to be ours but
    does not read is (None, why)."""
    _, sep, rest = message.partition("\n\n")
    if not sep:
        return None, None
    cut = rest.find("-----BEGIN ")  # a signed tag carries its signature after the message
    if cut >= 0:
        rest = rest[:cut]
    if f"{PAYLOAD_KEY}:" not in rest:
        return None, None
    try:
        data = yaml.safe_load(rest)
    except yaml.YAMLError as exc:
        return None, f"payload is not YAML ({str(exc).splitlines()[0]})"
    if not isinstance(data, dict) or PAYLOAD_KEY not in data:
        return None, None
    try:
        return Evidence.from_payload(data), None
    except ValueError as exc:
        return None, f"payload does not read: {exc}"


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Event:
    """One registry tag as an event in a model's history."""

    model: str
    kind: Kind
    version: str | None
    """For stage events: the version registered at the tag's commit, else the payload's."""
    stage: str | None
    counter: int | None
    tag: str
    commit: str
    tagger: str | None
    date: str | None
    """The tagger date (ISO 8601), for display only: order comes from counters."""
    evidence: Evidence | None
    annotated: bool = True
    evidence_problem: str | None = None


@dataclass(frozen=True)
class VersionInfo:
    version: str
    commit: str
    registered: bool
    """False once a deregistration tag exists for it."""


@dataclass
class ModelHistory:
    """Every registry event of one model, in counter order."""

    name: str
    events: list[Event] = field(default_factory=list)

    @property
    def versions(self) -> dict[str, VersionInfo]:
        out: dict[str, VersionInfo] = {}
        for e in self.events:
            if e.kind == "register" and e.version is not None:
                out[e.version] = VersionInfo(e.version, e.commit, True)
        for e in self.events:
            if e.kind == "deregister" and e.version in out:
                out[e.version] = VersionInfo(e.version, out[e.version].commit, False)
        return out

    def stage_versions(self) -> dict[str, str]:
        """The current version in each stage: the last assignment wins, an unassignment
        or a deregistration of that version clears the stage."""
        current: dict[str, str] = {}
        for e in self.events:
            if e.kind == "assign" and e.stage and e.version:
                current[e.stage] = e.version
            elif e.kind == "unassign" and e.stage:
                if e.version is None or current.get(e.stage) == e.version:
                    current.pop(e.stage, None)
            elif e.kind == "deregister":
                for stage in [s for s, v in current.items() if v == e.version]:
                    del current[stage]
        return current

    def next_counter(self) -> int:
        return 1 + max((e.counter for e in self.events if e.counter is not None), default=0)

    def was_in_stage(self, version: str, stage: str) -> bool:
        return any(
            e.kind == "assign" and e.version == version and e.stage == stage for e in self.events
        )

    def registration_evidence(self, version: str) -> Evidence | None:
        """The evidence of the registration tag of `version` (the first one that has any).

        judge.registration_evidence asks this; status asks it without importing the schemas."""
        for event in self.events:
            if event.kind == "register" and event.version == version and event.evidence:
                return event.evidence
        return None


@dataclass
class Registry:
    models: dict[str, ModelHistory] = field(default_factory=dict)

    def history(self, model: str) -> ModelHistory:
        return self.models.get(model) or ModelHistory(model)


FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(*objecttype)",
    "%(taggername)",
    "%(taggeremail)",
    "%(creatordate:iso-strict)",
    "%(contents)",
)
FORMAT = "%00".join(FIELDS) + "%00"


@dataclass(frozen=True)
class _RawTag:
    name: str
    object_type: str
    object: str
    commit: str | None
    tagger: str | None
    date: str | None
    contents: str


def _for_each_ref(repo: Path, *patterns: str) -> list[_RawTag]:
    out = git.run(repo, "for-each-ref", f"--format={FORMAT}", *(patterns or ("refs/tags",)))
    parts = out.split("\0")
    width = len(FIELDS)
    tags = []
    for i in range(0, len(parts) - width + 1, width):
        ref, otype, oname, peeled, ptype, tname, temail, date, contents = parts[i : i + width]
        ref = ref.lstrip("\n")
        name = ref.removeprefix("refs/tags/")
        if otype == "tag":
            commit = peeled if ptype == "commit" else None
            tagger = f"{tname} {temail}".strip() or None
        else:
            commit = oname if otype == "commit" else None
            tagger = None
        tags.append(_RawTag(name, otype, oname, commit, tagger, date or None, contents))
    return tags


def read(repo: Path, models: Iterable[str] | None = None) -> Registry:
    """Every model's history from every registry tag, in one git call.

    With `models`, only those models' tags are listed (git filters them by name) and
    parsed, so reading one model's history costs the same in a repository of thousands.
    """
    wanted = None if models is None else set(models)
    patterns: list[str] = []
    if wanted is not None:
        if not wanted:
            return Registry()
        patterns = [f"refs/tags/{m}{sep}*" for m in sorted(wanted) for sep in ("@", "#")]
    parsed: list[tuple[TagName, _RawTag]] = []
    for raw in _for_each_ref(Path(repo), *patterns):
        tag = parse_tag(raw.name)  # a name check first: unrelated tags cost nothing more
        if tag is None or raw.commit is None:
            continue
        if wanted is None or tag.model in wanted:  # a pattern is a glob: confirm the name
            parsed.append((tag, raw))
    registered_at: dict[tuple[str, str], str] = {}
    for tag, raw in parsed:
        if tag.kind == "register" and raw.commit is not None and tag.version is not None:
            registered_at[(tag.model, raw.commit)] = tag.version
    registry = Registry()
    for tag, raw in parsed:
        annotated = raw.object_type == "tag"
        evidence, problem = parse_message(raw.contents) if annotated else (None, None)
        version = tag.version
        if version is None:
            version = registered_at.get((tag.model, raw.commit or ""))
            if version is None and evidence is not None:
                version = evidence.version
        event = Event(
            model=tag.model,
            kind=tag.kind,
            version=version,
            stage=tag.stage,
            counter=tag.counter,
            tag=raw.name,
            commit=raw.commit or "",
            tagger=raw.tagger,
            date=raw.date,
            evidence=evidence,
            annotated=annotated,
            evidence_problem=problem,
        )
        registry.models.setdefault(tag.model, ModelHistory(tag.model)).events.append(event)
    for history in registry.models.values():
        history.events = _ordered(history.events)
    registry.models = dict(sorted(registry.models.items()))
    return registry


def _ordered(events: list[Event]) -> list[Event]:
    """Counter order. Tags without a counter (GTO's registrations, and its rare 'simple'
    stage tags) are placed by what they refer to, never by their timestamp: a
    registration just before the first counted event of its version (after all of them
    when it has none yet), a deregistration just after the last one, a counterless stage
    tag (its name can exist only once) before every counted event."""
    end = 1 + max((e.counter for e in events if e.counter is not None), default=0)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for e in events:
        if e.counter is not None and e.version is not None:
            first[e.version] = min(first.get(e.version, e.counter), e.counter)
            last[e.version] = max(last.get(e.version, e.counter), e.counter)

    def key(e: Event) -> tuple[int, int, tuple[Any, ...], str]:
        v = _semver_key(e.version)
        if e.counter is not None:
            return (e.counter, 1, v, e.tag)
        if e.kind == "register":
            return (first.get(e.version or "", end), 0, v, e.tag)
        if e.kind == "deregister":
            return (last.get(e.version or "", end), 2, v, e.tag)
        return (0, 1, v, e.tag)

    return sorted(events, key=key)


def _semver_key(version: str | None) -> tuple[Any, ...]:
    if version is None:
        return ()
    core, _, pre = version.split("+", 1)[0].partition("-")
    nums = tuple(int(p) for p in core.split("."))
    pre_key: tuple[Any, ...] = (
        (1,)
        if not pre
        else (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    )
    return (*nums, pre_key)


def semver_key(version: str) -> tuple[Any, ...]:
    """Sort key of a semantic version (prereleases before their release)."""
    return _semver_key(version)


# ---------------------------------------------------------------- writing


def create_tag(
    repo: Path, name: str, commit: str, message: str, *, sign: Signing | None = None
) -> Literal["created", "exists"]:
    """Create annotated tag `name` at `commit`, idempotently; signed with `sign` if given.

    An existing tag with the identical message and target is "exists"; one with another
    message or target raises TagConflict. Tags are never moved or overwritten.
    """
    if parse_tag(name) is None:
        raise UsageError(f"{name!r} is not a registry tag name")
    repo = Path(repo)
    target = git.rev_parse(repo, commit)
    if not target:
        raise UsageError(f"cannot tag {commit!r}: no such commit")
    if not message.endswith("\n"):
        message += "\n"
    return "created" if _write_tag(repo, name, target, message, sign) else "exists"


def _write_tag(repo: Path, name: str, target: str, message: str, sign: Signing | None) -> bool:
    """Write annotated tag `name` (True), or find it already written identically (False);
    TagConflict when it exists with another message or target. Never moves a tag."""
    existing = _local_tag(repo, name)
    if existing is None:
        try:
            git.run(
                repo,
                *signing.git_options(sign, repo),
                "tag",
                "--annotate",
                "--cleanup=verbatim",
                "--file=-",
                signing.sign_flag(sign),
                name,
                target,
                input=message.encode("utf-8"),
            )
            return True
        except GitError:
            existing = _local_tag(repo, name)  # someone else created it meanwhile
            if existing is None:
                raise
    _check_same(name, existing, target, message, where="locally")
    return False


def _local_tag(repo: Path, name: str) -> _RawTag | None:
    found = [t for t in _for_each_ref(repo, f"refs/tags/{name}") if t.name == name]
    return found[0] if found else None


def _check_same(name: str, existing: _RawTag, target: str, message: str, where: str) -> None:
    if existing.object_type != "tag":
        raise TagConflict(f"tag {name} exists {where} as a lightweight tag; it is never replaced")
    if existing.commit != target:
        raise TagConflict(
            f"tag {name} exists {where} at commit {(existing.commit or '?')[:12]}, "
            f"not {target[:12]}; registry tags are never moved"
        )
    if signing.unsigned(existing.contents) != signing.unsigned(message):
        raise TagConflict(
            f"tag {name} exists {where} with a different payload; registry tags are never "
            "rewritten (bump the version or use the next counter)"
        )


def push_tags(repo: Path, remote: str, names: Sequence[str], *, attempts: int = 3) -> None:
    """Push tags with `git push --atomic`: all or none.

    A tag that exists on the remote with the same message and target is fine; with other
    content it is a TagConflict naming it (whoever pushed first won the race).
    """
    repo = Path(repo)
    pending = list(dict.fromkeys(names))
    local = {n: _local_tag(repo, n) for n in pending}
    for n, t in local.items():
        if t is None:
            raise UsageError(f"cannot push tag {n}: it does not exist locally")
    for _ in range(attempts):
        if not pending:
            return
        specs = [f"refs/tags/{n}:refs/tags/{n}" for n in pending]
        try:
            git.run(repo, "push", "--atomic", "--quiet", remote, *specs)
            return
        except GitError as exc:
            failure = exc
        remote_tags = _remote_tags(repo, remote, pending)
        for n in list(pending):
            theirs, mine = remote_tags.get(n), local[n]
            if theirs is None or mine is None:
                continue
            _check_same(n, theirs, mine.commit or "", mine.contents, where="on " + remote)
            _adopt(repo, n, theirs)
            pending.remove(n)  # identical content: nothing to push
            if theirs.object != mine.object:
                # the same tag made by another runner (another tagger date): adopt the
                # remote's object, so this clone and the remote agree byte for byte
                git.run(
                    repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/tags/{n}:refs/tags/{n}"
                )
        if len(pending) == len(specs) and not remote_tags:
            raise failure  # nothing changed on the remote: the push failed for another reason
    if pending:
        raise failure


def _remote_tags(repo: Path, remote: str, names: Iterable[str]) -> dict[str, _RawTag]:
    """The remote's copies of `names` (those it has), read via a private fetch namespace."""
    wanted = list(names)
    listing = git.run(repo, "ls-remote", "--tags", remote, *(f"refs/tags/{n}" for n in wanted))
    present = set()
    for line in listing.splitlines():
        _, _, ref = line.partition("\t")
        if ref.startswith("refs/tags/") and not ref.endswith("^{}"):
            present.add(ref.removeprefix("refs/tags/"))
    names_present = [n for n in wanted if n in present]
    if not names_present:
        return {}
    scratch = "refs/modelward/remote-tags/"
    specs = [f"+refs/tags/{n}:{scratch}{n}" for n in names_present]
    git.run(repo, "fetch", "--quiet", "--no-tags", remote, *specs)
    try:
        found = _for_each_ref(repo, scratch)
    finally:
        for n in names_present:
            git.run(repo, "update-ref", "-d", f"{scratch}{n}", check=False)
    return {t.name.removeprefix(scratch): t for t in found}


def _adopt(repo: Path, name: str, theirs: _RawTag) -> None:
    """Take the remote's tag object for a tag whose payload and target equal ours.

    Two runners that tag the same promotion make equal payloads but different tag
    objects (the tagger's timestamp differs); the one origin holds is the record.
    """
    mine = _local_tag(repo, name)
    if mine is not None and mine.object != theirs.object:
        git.run(repo, "update-ref", f"refs/tags/{name}", theirs.object, mine.object)


def fetch_tags(repo: Path, remote: str) -> None:
    """Fetch every tag from `remote`. A local tag that differs from the remote's copy in
    payload or target is a TagConflict (tags are never overwritten, neither here nor
    there); one that differs only in its tag object (another runner's timestamp or
    signature) takes the remote's object."""
    repo = Path(repo)
    try:
        git.run(repo, "fetch", remote, "refs/tags/*:refs/tags/*")
        return
    except GitError as exc:
        clobbered = re.findall(r"\[rejected\]\s+(\S+)\s+->\s+\S+\s+\(would clobber", exc.stderr)
        if not clobbered:
            raise
    theirs_by_name = _remote_tags(repo, remote, clobbered)
    differ = []
    for name in clobbered:
        mine, theirs = _local_tag(repo, name), theirs_by_name.get(name)
        if (
            mine is None
            or theirs is None
            or theirs.object_type != "tag"
            or mine.commit != theirs.commit
            # signatures differ between runners (they sign the tagger date): payloads count
            or signing.unsigned(mine.contents) != signing.unsigned(theirs.contents)
        ):
            differ.append(name)
    if differ:
        raise TagConflict(
            f"tags differ between this repository and {remote}: {', '.join(differ)}; "
            "registry tags are never overwritten"
        )
    for name in clobbered:
        _adopt(repo, name, theirs_by_name[name])
    git.run(repo, "fetch", remote, "refs/tags/*:refs/tags/*")


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class TagPlan:
    """The tags that make `version` of a model registered and in `stage`, in order."""

    register: str | None = None
    assign: str | None = None
    unassign: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [n for n in (self.register, *self.unassign, self.assign) if n]


def plan_tags(
    history: ModelHistory | None,
    model: str,
    version: str,
    stage: str | None,
    *,
    stages: Sequence[str] = (),
) -> TagPlan:
    """Which tags to create so that the registry matches a manifest.

    - for a stage: the registration tag when `version` is not registered yet, and the
      next assignment tag unless `version` is already current there;
    - for "archived": unassignments of every stage that holds `version`;
    - for "none" (or None): unassignments of every stage that holds any version.
    Counters follow each other from history.next_counter().
    """
    history = history or ModelHistory(model)
    counter = history.next_counter()
    current = history.stage_versions()
    if stage in (None, "none", "archived"):
        holding = sorted(s for s, v in current.items() if stage in (None, "none") or v == version)
        return TagPlan(
            unassign=tuple(unassign_tag(model, s, counter + i) for i, s in enumerate(holding))
        )
    if stages and stage not in stages:
        raise UsageError(f"unknown stage {stage!r}; stages: {', '.join(stages)}")
    info = history.versions.get(version)
    if info is not None and not info.registered:
        raise UsageError(
            f"{model} {version} was deregistered ({deregister_tag(model, version)}); "
            "bump the version to register it again"
        )
    register = register_tag(model, version) if info is None else None
    if current.get(stage) == version:
        return TagPlan(register=register)
    return TagPlan(register=register, assign=assign_tag(model, stage, counter))


# ---------------------------------------------------------------- bypass records

BYPASS_PREFIX = "modelward/bypass/"
"""Tags in modelward's own namespace, outside GTO's grammar (no `@v`, no `#`): GTO ignores
them, and every clone of the remote sees them. One per merge that bypassed governance."""
BYPASS_KIND = "bypass"


@dataclass(frozen=True)
class Bypass:
    """A merge that went in without what governance required, recorded in git.

    `findings` are the blocking verdicts as `policy/rule: reason` lines; `files` the
    governance files the merge changed (when that is what bypassed)."""

    merge_commit: str
    findings: tuple[str, ...]
    files: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    pr_number: int | None = None
    author: str | None = None
    approvers: tuple[str, ...] = ()
    ci_run_url: str | None = None
    tag: str = ""
    problem: str | None = None
    """Why the payload did not read (the bypass is still a finding)."""

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {PAYLOAD_KEY: PAYLOAD_VERSION, "kind": BYPASS_KIND}
        out["merge_commit"] = self.merge_commit
        out["findings"] = list(self.findings)
        if self.files:
            out["files"] = list(self.files)
        if self.models:
            out["models"] = list(self.models)
        for key in ("pr_number", "author", "ci_run_url"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.approvers:
            out["approvers"] = list(self.approvers)
        return out

    @property
    def governance(self) -> bool:
        """Whether governance files went in unapproved (so later rules may be loosened)."""
        return bool(self.files)


def bypass_tag(merge_commit: str) -> str:
    return f"{BYPASS_PREFIX}{merge_commit[:12]}"


def record_bypass(repo: Path, bypass: Bypass, *, sign: Signing | None = None) -> tuple[str, bool]:
    """Create the annotated bypass tag of a merge (idempotent); (name, created).

    Signed with `sign` like every registry tag, so that whoever can push tags cannot
    replace the record (say which files were loosened) unnoticed: `audit --verify`
    checks its signature. An existing tag with the same payload and target is kept
    whether or not it is signed (payloads are compared without their signatures)."""
    repo = Path(repo)
    name = bypass_tag(bypass.merge_commit)
    body = yaml.safe_dump(bypass.to_payload(), sort_keys=False, allow_unicode=True)
    headline = f"BYPASS: merge {bypass.merge_commit[:12]} went in without required approval"
    if bypass.pr_number is not None:
        headline += f" (PR #{bypass.pr_number})"
    message = f"{headline}\n\n{body}"
    return name, _write_tag(repo, name, bypass.merge_commit, message, sign)


def read_bypasses(repo: Path) -> list[Bypass]:
    """Every recorded bypass, in one git call. A tag whose payload does not read is still
    a bypass (with `problem` set): deleting evidence never hides one."""
    out: list[Bypass] = []
    for raw in _for_each_ref(Path(repo), f"refs/tags/{BYPASS_PREFIX}"):
        commit = raw.commit or ""
        _, _, rest = signing.unsigned(raw.contents).partition("\n\n")
        try:
            data = yaml.safe_load(rest) if rest.strip() else None
        except yaml.YAMLError:
            data = None
        if not isinstance(data, dict) or data.get("kind") != BYPASS_KIND:
            out.append(Bypass(commit, (), tag=raw.name, problem="the tag carries no payload"))
            continue
        number = data.get("pr_number")
        out.append(
            Bypass(
                merge_commit=commit,
                findings=tuple(str(f) for f in data.get("findings") or ()),
                files=tuple(str(f) for f in data.get("files") or ()),
                models=tuple(str(m) for m in data.get("models") or ()),
                pr_number=number if isinstance(number, int) else None,
                author=None if data.get("author") is None else str(data["author"]),
                approvers=tuple(str(a) for a in data.get("approvers") or ()),
                tag=raw.name,
            )
        )
    return out
