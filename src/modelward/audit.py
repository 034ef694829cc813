"""The history of every model from the registry tags, and its verification.

`audit` returns every registration and stage event with its evidence (who, when, which
pull request, approvers, metrics, hashes, verdicts, waivers, bypasses). With
`verify=True` it also re-hashes each stored artifact against the sha256 its tag records
and checks that each tag points at a commit on the default branch. Re-evaluating each
promotion against the policies of its day plugs in through `verify_policies`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import git, registry, signing
from .errors import UsageError
from .hashing import file_sha256
from .registry import Event, ModelHistory
from .statedir import STATE_DIR

if TYPE_CHECKING:
    from .policy import Evidence

# manifest and workspace (pydantic) load only for --verify: reading history stays light.
CONFIG_FILE = "modelward.yaml"

PolicyVerifier = Callable[[Path, Event], Sequence[str]]
"""Extension point: given the repository and a stage event that carries evidence,
return the problems found when re-evaluating that promotion against the policies as
they stood at its commit (empty when it still holds). Wired by the policy engine."""


@dataclass(frozen=True)
class Finding:
    """One verification problem, tied to the tag it concerns."""

    model: str
    tag: str
    check: str
    """artifact | default-branch | payload | policy | bypass | loosened | signature"""
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"model": self.model, "tag": self.tag, "check": self.check, "message": self.message}


@dataclass
class Verification:
    default_branch: str
    findings: list[Finding] = field(default_factory=list)
    artifacts_checked: int = 0
    commits_checked: int = 0
    policies_checked: int = 0
    skipped: list[str] = field(default_factory=list)
    """Why some evidence could not be checked here (remote stores, no evidence)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "default_branch": self.default_branch,
            "artifacts_checked": self.artifacts_checked,
            "commits_checked": self.commits_checked,
            "policies_checked": self.policies_checked,
            "findings": [f.as_dict() for f in self.findings],
            "skipped": list(self.skipped),
        }


@dataclass
class AuditReport:
    histories: dict[str, ModelHistory]
    verification: Verification | None = None


CANNOT_RECHECK = "cannot re-check: "
"""Prefix of a verifier message that says evidence is missing, not that a rule failed.

Such messages are listed under `skipped` (shown in every output format), not as
findings: they do not fail `--verify`. A finding means "this promotion would not have
passed its policies"; missing evidence (an older payload, an artifact in a remote store,
team membership) means "not proven either way", and is reported as such."""


def verify_policies_at_commit(repo: Path, event: Event) -> list[str]:
    """Re-evaluate one promotion against the policies as they stood when it was made.

    The policies, config and waivers are those of the merge commit's first parent (the
    base the merge was judged by, as `modelward promote` judges it; read from git
    objects, never from the work tree); the manifest is the one at the merge commit.
    The candidate is rebuilt from the tag's evidence: metrics, slice metrics, author and
    approvers, the recorded data-check verdict, the artifact's size (when the artifact
    is stored in the repository and still hashes to the recorded sha256), the stage
    history and baselines from the registry events before this one (the base branch's
    model, when it was the baseline, from this tag's recorded `baselines`). Waivers are
    judged with `today` = the tag's date. Returns one message per blocking verdict,
    prefixed with CANNOT_RECHECK when the evidence lacks what the rule needs.
    """
    ev = event.evidence
    if ev is None or event.stage is None or event.kind != "assign":
        return []
    merged = ev.merge_commit or event.commit
    if not _commit_exists(repo, merged):
        return [f"{CANNOT_RECHECK}merge commit {merged[:12]} is not in this repository"]
    judged_by = _first_parent(repo, merged)
    context = _RecheckContext.build(repo, event, ev, merged, judged_by)
    if isinstance(context, str):
        return [f"{CANNOT_RECHECK}{context}"]
    verdicts = context.verdicts()
    out = []
    for v in verdicts:
        if not v.blocking:
            continue
        gap = context.missing(v)
        if gap:
            out.append(f"{CANNOT_RECHECK}{v.policy}/{v.rule}: {gap}")
        else:
            out.append(
                f"{v.policy}/{v.rule} would not have passed under the policies of "
                f"{judged_by[:12]}: {v.reason}"
            )
    gaps = {
        f"{v.policy}/{v.rule}": gap
        for v in ev.verdicts
        if v.outcome != "pass" and (gap := context.lacks("baseline", v))
    }
    if ev.bypass and not out and gaps:
        # pr and promote compared with the base branch's model, which no tag records
        out.append(f"{CANNOT_RECHECK}{', '.join(gaps)}: {next(iter(gaps.values()))}")
    if ev.bypass and not out:
        out.append(
            "the tag records a bypass, but its evidence passes the policies of "
            f"{judged_by[:12]}; the recorded verdicts and the evidence disagree"
        )
    return out


def audit(
    repo: Path,
    model: str | None = None,
    *,
    verify: bool = False,
    verify_policies: PolicyVerifier | None = verify_policies_at_commit,
) -> AuditReport:
    """The registry history of every model (or one), optionally verified.

    With `verify`, each promotion is also re-evaluated by `verify_policies` (by default
    against the policies of its commit; None skips that check)."""
    repo = Path(repo)
    reg = registry.read(repo)
    if model is None:
        histories = dict(reg.models)
    elif model in reg.models:
        histories = {model: reg.models[model]}
    elif (repo / "models" / model / "model.yaml").is_file():
        histories = {model: ModelHistory(model)}  # a model that was never promoted
    else:
        close = difflib.get_close_matches(model, list(reg.models), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"no registry tags and no manifest for model {model!r}{hint}")
    report = AuditReport(histories)
    if verify:
        report.verification = _verify(repo, histories, verify_policies)
    return report


def default_branch_ref(repo: Path, branch: str) -> str:
    """The default branch as a local branch, or as origin's when only that is fetched."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        if git.run(repo, "rev-parse", "--verify", "--quiet", ref, check=False).strip():
            return ref
    raise UsageError(
        f"default branch {branch!r} not found (neither refs/heads/{branch} nor "
        f"refs/remotes/origin/{branch}); fetch it or set default_branch in {CONFIG_FILE}"
    )


def _default_branch(repo: Path) -> str:
    from .manifest import Config, parse
    from .yamlio import load_path

    path = repo / CONFIG_FILE
    if not path.is_file():
        return Config.default().default_branch
    return parse(load_path(path, CONFIG_FILE), Config).default_branch


def _verify(
    repo: Path, histories: dict[str, ModelHistory], verify_policies: PolicyVerifier | None
) -> Verification:
    branch = _default_branch(repo)
    ref = default_branch_ref(repo, branch)
    result = Verification(branch)
    bypasses = registry.read_bypasses(repo)
    # governance changes merged without approval: promotions judged after them are
    # judged again under the rules from before the change
    loosening = [b for b in bypasses if b.governance or b.problem]
    on_branch: dict[str, bool] = {}
    hashes: dict[Path, str | None] = {}
    no_evidence = 0
    for name, history in histories.items():
        # the stage events that decide what each stage holds now
        last: dict[str, str] = {}
        for e in history.events:
            if e.kind in ("assign", "unassign") and e.stage:
                last[e.stage] = e.tag
        holding = set(last.values())
        for event in history.events:
            if event.commit not in on_branch:
                on_branch[event.commit] = git.is_ancestor(repo, event.commit, ref)
                result.commits_checked += 1
            if not on_branch[event.commit]:
                result.findings.append(
                    Finding(
                        name,
                        event.tag,
                        "default-branch",
                        f"points at commit {event.commit[:12]}, which is not on {branch}",
                    )
                )
            if event.evidence_problem:
                result.findings.append(Finding(name, event.tag, "payload", event.evidence_problem))
            ev = event.evidence
            if ev is None and event.tag in holding and not event.evidence_problem:
                # a stage moved by hand (or by another tool): nothing shows who approved it
                result.findings.append(
                    Finding(
                        name,
                        event.tag,
                        "payload",
                        f"moves {event.stage} without modelward's evidence (a tag made by hand "
                        "or by another tool): nobody can tell who approved it",
                    )
                )
            if ev is None:
                no_evidence += 1
                continue
            if ev.model != name or (event.version is not None and ev.version != event.version):
                result.findings.append(
                    Finding(
                        name,
                        event.tag,
                        "payload",
                        f"payload names {ev.model} {ev.version}, the tag says "
                        f"{name} {event.version}",
                    )
                )
            problem = _check_artifact(repo, ev, hashes, result)
            if problem:
                result.findings.append(Finding(name, event.tag, "artifact", problem))
            found = False
            if verify_policies is not None and event.kind == "assign":
                result.policies_checked += 1
                for message in verify_policies(repo, event):
                    if message.startswith(CANNOT_RECHECK):
                        result.skipped.append(f"{event.tag}: {message}")
                    else:
                        found = True
                        result.findings.append(Finding(name, event.tag, "policy", message))
                for message in _loosened(repo, event, loosening):
                    result.findings.append(Finding(name, event.tag, "loosened", message))
            if ev.bypass and not found and event.kind in ("assign", "unassign"):
                # a recorded bypass is a finding even when its evidence cannot be re-checked
                failed = [f"{v.policy}/{v.rule}" for v in ev.verdicts if v.outcome != "pass"]
                result.findings.append(
                    Finding(
                        name,
                        event.tag,
                        "bypass",
                        "recorded as a bypass: merged over "
                        + (", ".join(failed) if failed else "a blocking verdict"),
                    )
                )
    for bypass in bypasses:
        what = "; ".join(bypass.findings) or bypass.problem or "no detail recorded"
        result.findings.append(
            Finding(
                ", ".join(bypass.models) or "-",
                bypass.tag,
                "bypass",
                f"merge {bypass.merge_commit[:12]} bypassed governance: {what}",
            )
        )
    if no_evidence:
        result.skipped.append(f"{no_evidence} tag(s) carry no evidence (written by GTO or by hand)")
    signed_by = signing.policy_at(repo, ref)  # registry.signing of the default branch
    owner = {e.tag: name for name, h in histories.items() for e in h.events}
    # a bypass record is a registry tag too: a replaced one could hide what went in
    owner.update({b.tag: ", ".join(b.models) or "-" for b in bypasses})
    flagged: set[str] = set()
    if signed_by is not None:
        for tag, message in signing.verify(repo, signed_by, list(owner)).items():
            result.findings.append(Finding(owner[tag], tag, "signature", message))
            flagged.add(tag)
    for bypass, before, later in _unsigned_since(repo, ref, loosening, signed_by, histories):
        # an unapproved change cannot switch signature checks off, or swap the allowed
        # signers, for the tags after it: they answer to the settings before it too
        for tag, message in signing.verify(repo, before, [t for t in later if t in owner]).items():
            if tag not in flagged:
                result.findings.append(
                    Finding(
                        owner[tag],
                        tag,
                        "signature",
                        f"{message} (the signing settings before {bypass.tag}, which changed "
                        "them without approval)",
                    )
                )
                flagged.add(tag)
    return result


def _unsigned_since(
    repo: Path,
    ref: str,
    loosening: Sequence[registry.Bypass],
    signed_by: signing.Policy | None,
    histories: Mapping[str, ModelHistory],
) -> list[tuple[registry.Bypass, signing.Policy, list[str]]]:
    """Per unapproved governance change that altered the signing settings: the settings
    before it and the registry tags made after it (by their merge commits)."""
    from .errors import ModelwardError

    out: list[tuple[registry.Bypass, signing.Policy, list[str]]] = []
    for bypass in loosening:
        if not _commit_exists(repo, bypass.merge_commit):
            continue
        try:
            before = signing.policy_at(repo, _first_parent(repo, bypass.merge_commit))
        except ModelwardError:
            continue
        if before is None:
            continue
        touched = (CONFIG_FILE, before.signing.allowed_signers)
        if bypass.files and not any(f in touched for f in bypass.files):
            continue  # (no recorded files: the record is damaged, assume the worst)
        if signed_by is not None and (signed_by.signing, signed_by.allowed) == (
            before.signing,
            before.allowed,
        ):
            continue
        # the default branch's commits from the change on (one git call)
        since = {bypass.merge_commit}
        since.update(
            git.run(repo, "rev-list", "--ancestry-path", f"{bypass.merge_commit}..{ref}").split()
        )
        later = [
            e.tag
            for h in histories.values()
            for e in h.events
            if ((e.evidence.merge_commit if e.evidence else None) or e.commit) in since
        ]
        out.append((bypass, before, later))
    return out


def _loosened(repo: Path, event: Event, loosening: Sequence[registry.Bypass]) -> list[str]:
    """A promotion judged under rules an unapproved governance change had loosened: it is
    judged again by the rules that stood before each such change that preceded it."""
    ev = event.evidence
    if not loosening or ev is None or event.kind != "assign" or not event.stage:
        return []
    merged = ev.merge_commit or event.commit
    if not _commit_exists(repo, merged):
        return []
    judged_by = _first_parent(repo, merged)
    out: list[str] = []
    for bypass in loosening:
        if not _commit_exists(repo, bypass.merge_commit) or not git.is_ancestor(
            repo, bypass.merge_commit, judged_by
        ):
            continue
        before = _first_parent(repo, bypass.merge_commit)
        context = _RecheckContext.build(repo, event, ev, merged, before)
        if isinstance(context, str):
            out.append(
                f"judged under rules that {bypass.tag} changed without approval, and cannot be "
                f"judged by the rules before it: {context}"
            )
            continue
        for v in context.verdicts():
            if v.blocking:
                out.append(
                    f"{v.policy}/{v.rule} would not have passed under the rules before the "
                    f"unapproved governance change {bypass.tag}: {v.reason}"
                )
    return out


def _check_artifact(
    repo: Path, ev: registry.Evidence, hashes: dict[Path, str | None], result: Verification
) -> str | None:
    location, expected = ev.artifact_location, ev.artifact_sha256
    if not location or not expected:
        return None
    from .workspace import OutsideRepository

    if "://" in location:
        note = f"remote artifact {location} is not re-hashed here"
        if note not in result.skipped:
            result.skipped.append(note)
        return None
    try:
        path = locate_artifact(repo, ev)
    except OutsideRepository:
        return f"artifact location {location} lies outside the repository"
    if path is None:
        release = f"{STATE_DIR}/releases/{registry.register_tag(ev.model, ev.version)}/"
        return (
            f"artifact {location} is missing: neither the store nor the release folder "
            f"{release} holds it in this clone. Artifacts live where modelward.yaml "
            "artifacts.store says; a local folder is seen by one machine only. Give every "
            "clone and CI job the same store with an fsspec URL (artifacts.store: "
            "s3://bucket/modelward), or copy the store folder here, then verify again"
        )
    if path not in hashes:
        hashes[path] = file_sha256(path)
        result.artifacts_checked += 1
    actual = hashes[path] or ""
    if actual != expected:
        return f"artifact {location} hashes to {actual[:12]}, the tag records {expected[:12]}"
    return None


def locate_artifact(repo: Path, ev: registry.Evidence) -> Path | None:
    """Where this clone holds the artifact a tag records: its store path, else its release.

    The store path comes from the tag's evidence; the local forge's release folder
    (.modelward/releases/MODEL@vVERSION/model.joblib) holds a copy made at promotion.
    Raises OutsideRepository for a recorded location that leaves the repository.
    """
    from .workspace import resolve_inside

    location = ev.artifact_location
    candidates = []
    if location and "://" not in location:
        candidates.append(resolve_inside(repo, repo / location))
    release = repo / STATE_DIR / "releases" / registry.register_tag(ev.model, ev.version)
    candidates.append(release / "model.joblib")
    return next((c for c in candidates if c.is_file()), None)


# ---------------------------------------------------------------- policy re-check


def _commit_exists(repo: Path, sha: str) -> bool:
    out = git.run(repo, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False)
    return bool(out.strip())


def _first_parent(repo: Path, sha: str) -> str:
    parent = git.run(repo, "rev-parse", "--verify", "--quiet", f"{sha}^1", check=False).strip()
    return parent or sha


@dataclass(frozen=True)
class _RecheckContext:
    """Everything `policy.evaluate` needs, rebuilt from a tag's evidence and git."""

    rules: Any
    candidate: Any
    approvals: Any
    baselines: dict[str, Any]
    today: dt.date
    event: Event
    owners: Any = None
    """The owners of the manifest the promotion was judged by (its base's)."""

    @classmethod
    def build(
        cls, repo: Path, event: Event, ev: registry.Evidence, merged: str, judged_by: str
    ) -> _RecheckContext | str:
        """The context, or what is missing to build one."""
        from .baseline import base_model, registered
        from .errors import ModelwardError
        from .governance import governance_at
        from .judge import artifact_bytes, artifact_changed, recorded_data_checks
        from .policy import Approvals, Baseline, Candidate

        try:
            rules = governance_at(repo, judged_by)
        except ModelwardError as exc:
            first = str(exc).splitlines()[0]
            return f"the policies at {judged_by[:12]} do not load ({first})"
        path = f"models/{event.model}/model.yaml"
        loaded = base_model(repo, merged, event.model)
        if loaded is None:
            return f"{path} is missing or invalid at {merged[:12]}"
        older = loaded.record.version != ev.version
        if older and loaded.record.stages.get(event.stage or "") != ev.version:
            return (
                f"{path} at {merged[:12]} describes version {loaded.record.version}, "
                f"the tag {ev.version}"
            )
        if not event.date:
            return "the tag has no date, so waivers cannot be judged"
        today = dt.date.fromisoformat(event.date[:10])
        history = registry.read(repo, models=[event.model]).history(event.model)
        index = next(i for i, e in enumerate(history.events) if e.tag == event.tag)
        earlier = ModelHistory(event.model, history.events[:index])
        stage_history = frozenset(
            e.stage
            for e in earlier.events
            if e.kind == "assign" and e.version == ev.version and e.stage
        )
        base = base_model(repo, judged_by, event.model)
        base_version = base.record.version if base else None
        # the same answer pr and promote gave: the training inputs of the base and the
        # merge, and the base version's registered evidence against this tag's
        changed = artifact_changed(
            repo,
            earlier,
            base.record if base else None,
            loaded.record,
            judged_by,
            merged,
            artifact_sha256=ev.artifact_sha256,
            data_sha256=ev.data_sha256,
        )
        if older:
            # an older registered version assigned again (a rollback): no new artifact
            base_version, changed = ev.version, False
        candidate = Candidate(
            model=loaded,
            metrics=dict(ev.metrics),
            slice_metrics={
                column: {value: {"n": 0, "metrics": dict(scores)} for value, scores in vals.items()}
                for column, vals in ev.slice_metrics.items()
            },
            artifact_sha256=ev.artifact_sha256,
            artifact_bytes=artifact_bytes(repo, ev),
            data_checks_passed=recorded_data_checks(ev),
            changed_artifact=changed,
            base_version=base_version,
            stage_history=stage_history,
            version=ev.version if older else None,
        )
        return cls(
            rules=rules,
            candidate=candidate,
            approvals=Approvals(author=ev.author, approvers=tuple(ev.approvers)),
            # registered baselines are read again from earlier tags; the base branch's
            # model (nothing registered in the compared stage) only this tag records
            baselines={
                **{
                    b.stage: Baseline(b.version, b.stage, dict(b.metrics), "base-branch")
                    for b in ev.baselines
                    if b.source == "base-branch"
                },
                **registered(earlier, loaded.record, rules, event.stage or ""),
            },
            today=today,
            event=event,
            owners=list(base.record.owners) if base is not None else None,
        )

    def verdicts(self) -> list[Any]:
        """The verdicts the judge of pr and promote reaches on the recorded evidence."""
        from .judge import Judge

        judge = Judge(self.rules, self.approvals, self.today, self.owners)
        return judge.stage(self.candidate, self.event.stage or "", self.baselines)

    def missing(self, verdict: Any) -> str | None:
        """What the evidence lacks for this failing rule to be judged, if anything: the
        first gap among the evidence its kind needs (policy.RULE_TABLE)."""
        from .policy import RULE_TABLE

        kind = RULE_TABLE.get(verdict.rule)
        needs = kind.evidence if kind is not None else ()
        return next((gap for need in needs if (gap := self.lacks(need, verdict))), None)

    def lacks(self, need: Evidence, verdict: Any) -> str | None:
        """What the tag or this clone lacks of `need` for this verdict, when its rule's
        kind rests on `need` (None otherwise)."""
        from .policy import RULE_TABLE

        kind = RULE_TABLE.get(verdict.rule)
        if kind is None or need not in kind.evidence:
            return None
        return EVIDENCE_GAPS[need](self, verdict)

    def _recorded(self, verdict: Any) -> str | None:
        ev = self.event.evidence
        found = [
            v.outcome
            for v in (ev.verdicts if ev else ())
            if v.policy == verdict.policy and v.rule == verdict.rule
        ]
        return found[0] if found else None

    def _rules_of(self, verdict: Any) -> list[Any]:
        policy = self.rules.policies.get(verdict.policy)
        if policy is None:
            return []
        return [r for r in policy.record.rules if r.kind == verdict.rule]


def _no_data_checks(ctx: _RecheckContext, verdict: Any) -> str | None:
    if ctx.candidate.data_checks_passed is None:
        return "the tag records no data-check outcome"
    return None


def _no_artifact_bytes(ctx: _RecheckContext, verdict: Any) -> str | None:
    if ctx.candidate.artifact_bytes is None:
        return "the artifact's size (it is not stored in this repository)"
    return None


def _no_metrics(ctx: _RecheckContext, verdict: Any) -> str | None:
    c = ctx.candidate
    declared = c.model.record.evaluation.metrics
    wanted = [m for r in ctx._rules_of(verdict) for m in _metric_names(r.value)]
    lost = sorted({m for m in wanted if m not in c.metrics and m in declared})
    return f"the tag records no {', '.join(lost)}" if lost else None


def _metric_names(value: Any) -> list[str]:
    """The metrics a rule's value names: the keys of a floor mapping, or its `metric`."""
    return [str(m) for m in value] if isinstance(value, dict) else [str(value.metric)]


def _no_slice_metrics(ctx: _RecheckContext, verdict: Any) -> str | None:
    c = ctx.candidate
    lost = [
        r.value.slice
        for r in ctx._rules_of(verdict)
        if r.value.slice not in c.slice_metrics
        and r.value.slice in c.model.record.evaluation.slice_columns
    ]
    return f"the tag records no metrics per {', '.join(lost)}" if lost else None


def _no_changed_artifact(ctx: _RecheckContext, verdict: Any) -> str | None:
    c = ctx.candidate
    if c.changed_artifact is None:
        return (
            f"no recorded artifact of version {c.base_version} to compare with, so "
            "whether the artifact changed is unknown"
        )
    return None


def _no_team_membership(ctx: _RecheckContext, verdict: Any) -> str | None:
    if (
        "membership of" in verdict.reason
        and "not counted:" in verdict.reason
        and ctx._recorded(verdict) == "pass"
    ):
        # approvers were counted through a team then (the forge knew its members);
        # the tag names the approvers but not the team's membership at that time
        return "team membership at the time is not recorded"
    return None


def _no_baseline(ctx: _RecheckContext, verdict: Any) -> str | None:
    if any(r.value.against not in ctx.baselines for r in ctx._rules_of(verdict)):
        return (
            "the baseline was the base branch's model, whose metrics this tag does not "
            "record (made before modelward recorded them)"
        )
    return None


def _in_the_manifest(ctx: _RecheckContext, verdict: Any) -> str | None:
    """Read from the manifest at the merge commit, which git always has."""
    return None


EVIDENCE_GAPS: Mapping[Evidence, Callable[[_RecheckContext, Any], str | None]] = {
    "metrics": _no_metrics,
    "slice_metrics": _no_slice_metrics,
    "data_checks": _no_data_checks,
    "artifact_bytes": _no_artifact_bytes,
    "changed_artifact": _no_changed_artifact,
    "approvals": _no_team_membership,
    "baseline": _no_baseline,
    "card": _in_the_manifest,
    "estimator": _in_the_manifest,
}
"""Per evidence name (policy.Evidence): what a re-check from a tag lacks of it, if anything."""


# ---------------------------------------------------------------- plain data


def event_dict(event: Event) -> dict[str, Any]:
    """An event as JSON-ready data (evidence as its payload, or null)."""
    return {
        "counter": event.counter,
        "tag": event.tag,
        "event": event.kind,
        "version": event.version,
        "stage": event.stage,
        "commit": event.commit,
        "tagger": event.tagger,
        "date": event.date,
        "annotated": event.annotated,
        "evidence": event.evidence.to_payload() if event.evidence else None,
        "evidence_problem": event.evidence_problem,
    }


def as_dict(report: AuditReport) -> dict[str, Any]:
    return {
        "models": {
            name: {
                "versions": {
                    v: "registered" if info.registered else "deregistered"
                    for v, info in sorted(
                        h.versions.items(), key=lambda kv: registry.semver_key(kv[0])
                    )
                },
                "stages": h.stage_versions(),
                "events": [event_dict(e) for e in h.events],
            }
            for name, h in report.histories.items()
        },
        "verification": report.verification.as_dict() if report.verification else None,
    }
