"""The on-merge flow: the manifests a merge changed become registry tags.

For each model whose version or stage changed in before..after: find the merged pull
request and its approvals, re-evaluate the policies of the base (a merge that went
in over a blocking verdict is recorded as a bypass, never hidden), retrain from the
merged commit through the cache and check the metrics against the report reviewers
saw. Only when every model of the merge has passed those checks are the tags made:
registration tags, then assignment tags, pushed together with one `git push --atomic`
(all or nothing). Then the release (artifact, model card, metrics) is published and
a summary is commented on the merged pull request.

Every step is idempotent: a re-run on the same range creates nothing new. When
another promotion pushed the same assignment counter first, the tags this run made
(never pushed) are dropped, the registry is fetched again and the next counter is
used; a registration tag that exists with another payload is a TagConflict.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import git, registry, reportdata
from .baseline import base_model
from .changes import AffectedModel, plan, resolve
from .errors import CheckFailed, TagConflict, UsageError
from .forge.base import Forge, PullRequest
from .governance import governance_at
from .judge import (
    Judge,
    StageChange,
    another_artifact,
    approvals_of,
    artifact_changed,
    registration_evidence,
    stage_changes,
)
from .manifest import Model, Signing, training_digest
from .policy import Candidate, Verdict
from .pr import code_owners, refuse_committed_state, team_handles
from .reportdata import ReportData
from .workspace import Loaded, Workspace, load

METRIC_TOLERANCE = 1e-9
PUSH_ATTEMPTS = 3
"""How often a promotion that lost a race for an assignment counter tries the next one."""


@dataclass(frozen=True)
class Promotion:
    """What happened to one stage of one model (an assignment or an unassignment)."""

    model: str
    version: str
    stage: str
    tags: tuple[str, ...]
    created: tuple[str, ...]
    bypass: bool
    blocking: tuple[str, ...]
    report_checked: bool
    release: str | None
    note: str = ""
    action: str = "assign"
    """assign, or unassign when the manifest's stage map dropped the stage."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "action": self.action,
            "tags": list(self.tags),
            "created": list(self.created),
            "bypass": self.bypass,
            "blocking": list(self.blocking),
            "report_checked": self.report_checked,
            "release": self.release,
            "note": self.note,
        }


@dataclass
class PromoteOutcome:
    before: str
    after: str
    pull_request: int | None
    promotions: list[Promotion] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    comment: str | None = None
    """Where the summary comment on the merged pull request went, if one was posted."""
    governance_bypass: tuple[str, ...] = ()
    """Blocking governance verdicts: policies/ or modelward.yaml merged without approval."""
    bypass: tuple[str, ...] = ()
    """Everything the merge bypassed that no registry tag records (governance files merged
    unapproved, an artifact changed without a version bump, untrusted approvals)."""
    bypass_tag: str | None = None
    """The `modelward/bypass/...` tag that records `bypass` in git."""

    @property
    def bypassed(self) -> list[Promotion]:
        """Promotions recorded as bypasses (a governance bypass marks every one)."""
        return [p for p in self.promotions if p.bypass]

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "pull_request": self.pull_request,
            "promotions": [p.to_dict() for p in self.promotions],
            "skipped": self.skipped,
            "comment": self.comment,
            "governance_bypass": list(self.governance_bypass),
            "bypass": list(self.bypass),
            "bypass_tag": self.bypass_tag,
        }


@dataclass(frozen=True)
class _StageOp:
    """One stage change of one model, judged: the tag it needs and the evidence it records."""

    change: StageChange
    version: str
    """The version assigned (or, for a removal, the version the registry holds there)."""
    evidence: Mapping[str, Any]
    blocking: tuple[str, ...]

    @property
    def action(self) -> str:
        return "unassign" if self.change.removal else "assign"


@dataclass(frozen=True)
class _Prepared:
    """One model, trained when a stage asks for its new version, cross-checked and judged
    per changed stage: everything but its tags."""

    loaded: Loaded[Model]
    result: Any
    """The training result of the manifest's version, or None when no stage asks for it."""
    register: Mapping[str, Any] | None
    """Evidence of the registration of the manifest's version, when a stage asks for it."""
    ops: tuple[_StageOp, ...]
    report_checked: bool

    @property
    def name(self) -> str:
        return self.loaded.record.name


def run(
    repo: Path,
    *,
    forge: Forge,
    before: str,
    after: str = "HEAD",
    push: bool = True,
    remote: str = "origin",
    today: dt.date,
    ci_run_url: str | None = None,
) -> PromoteOutcome:
    """Promote what the merge before..after changed."""
    repo = git.toplevel(Path(repo))
    after_sha = resolve(repo, after, "--after")
    if after_sha != git.rev_parse(repo, "HEAD"):
        raise UsageError(f"--after {after} is not the checked-out commit; check it out first")
    before_sha = resolve(repo, before, "--before")
    if push:
        registry.fetch_tags(repo, remote)
    the_plan = plan(repo, before_sha, after_sha)
    outcome = PromoteOutcome(before_sha, after_sha, None)
    moved: list[tuple[AffectedModel, list[StageChange]]] = []
    live = [m for m in the_plan.models if m.status != "deleted"]
    ws = load(repo, only_models=[m.name for m in live])
    histories = registry.read(repo, models=[m.name for m in the_plan.models]).models
    # a deleted model takes every stage of its base manifest away (each one an unassignment)
    manifests = {m.name: ws.models[m.name] for m in live}
    for affected in the_plan.models:
        gone = None if affected.name in manifests else base_model(repo, before_sha, affected.name)
        if gone is not None:
            manifests[affected.name] = gone
            changes = stage_changes(gone.record, None, ws.config.stage_names)
            if changes:
                moved.append((affected, changes))
    unbumped: list[str] = []
    for affected in live:
        old = base_model(repo, before_sha, affected.name)
        new = ws.models[affected.name].record
        if (
            old is not None
            and old.record.version == new.version
            and artifact_changed(
                repo,
                histories.get(affected.name),
                old.record,
                new,
                before_sha,
                after_sha,
                data_sha256=_data_sha256(ws, new.data.dataset),
            )
        ):
            unbumped.append(
                f"{affected.name}: the artifact changed but version stays {new.version}; "
                "nothing was registered"
            )
        changes = stage_changes(old.record if old else None, new, ws.config.stage_names)
        if not changes:
            outcome.skipped.append(f"{affected.name}: stage map unchanged")
            continue
        moved.append((affected, changes))
    if not moved and not the_plan.governance_files and not unbumped:
        return outcome
    rules = governance_at(repo, before_sha)
    _refuse_off_default_branch(repo, after_sha, rules.config.default_branch)
    owners = code_owners(repo, before_sha, [manifests[a.name].doc.path for a, _ in moved])
    handles = team_handles(
        rules,
        [manifests[a.name].record.owners for a, _ in moved] + [owners.owners],
        governance=bool(the_plan.governance_files),
    )
    merged = forge.merged_pull_request(after_sha, teams=handles)
    outcome.pull_request = merged.number if merged else None
    # approvals count only when the forge vouches for them, for a merge onto `before`
    # (the local forge names the first parent; GitHub names the pull request's base branch,
    # and _refuse_off_default_branch has checked the merge is on it)
    trusted = (
        merged is not None
        and merged.verified
        and merged.base_ref in (before_sha, rules.config.default_branch)
    )
    pr = merged if trusted else None
    # the same judge `pr` built: the base's rules, the forge's approvals (local.teams only
    # on the local forge), the base's CODEOWNERS
    judge = Judge(
        rules,
        approvals_of(pr, rules.config, local=forge.name == "local", codeowners=owners.rules),
        today,
    )
    governance = judge.governance(the_plan.governance_files)
    outcome.governance_bypass = tuple(
        f"{v.policy}/{v.rule}: {v.reason}" for v in governance if v.blocking
    )
    findings = list(outcome.governance_bypass) + unbumped
    if findings and not trusted:
        findings.append(
            f"merge {after_sha[:12]} is not a two-parent merge onto {before_sha[:12]} with a "
            "Pull-request-author: trailer, so it has no trustworthy approvals"
        )
    if findings:
        outcome.bypass = tuple(findings)
        # signed per the BASE's modelward.yaml (the config that judged this merge): the
        # merge being recorded may itself be the unapproved change that drops or swaps
        # registry.signing, and the record of a bypass must not be shaped by the bypass
        outcome.bypass_tag = _record_bypass(
            repo,
            outcome,
            merged,
            the_plan.governance_files,
            push,
            remote,
            sign=rules.config.registry.signing,
        )
    if not moved:
        if merged is not None and findings:
            outcome.comment = forge.comment(merged, summary_markdown(outcome)).location
        return outcome
    refuse_committed_state(repo, after_sha, ws.config)
    report = (
        reportdata.read(forge.saved_report_data(merged.head_sha))
        if merged and merged.verified
        else None
    )
    # Every model is trained, cross-checked and judged before any tag is made: a
    # metrics mismatch in one model of the merge promotes none of them.
    prepared = [
        _prepare(
            repo,
            ws,
            judge,
            manifests[affected.name],
            changes,
            pr,
            report,
            before_sha,
            after_sha,
            ci_run_url,
            governance,
            histories.get(affected.name),
        )
        for affected, changes in moved
    ]
    created, names = _tag_and_push(
        repo, prepared, after_sha, push, remote, sign=ws.config.registry.signing
    )
    for p in prepared:
        name, model = p.name, p.loaded.record
        mine = tuple(n for n in created if _model_of(n) == name)
        mine_names = tuple(n for n in names if _model_of(n) == name)
        release = None
        tag = registry.register_tag(name, model.version)
        if p.result is not None and (tag in mine or not forge.has_release(tag)):
            # a release lost to a crash is made again
            release = _publish(ws, forge, p.loaded, p.result, tag).location
        for op in p.ops:
            op_tags = tuple(n for n in mine_names if _concerns(n, op, model.version))
            op_created = tuple(n for n in mine if n in op_tags)
            outcome.promotions.append(
                Promotion(
                    model=name,
                    version=op.version,
                    stage=op.change.stage,
                    tags=op_tags,
                    created=op_created,
                    bypass=bool(op.blocking),
                    blocking=op.blocking,
                    report_checked=p.report_checked
                    or op.version != model.version
                    or op.action == "unassign",
                    release=release if op.version == model.version else None,
                    note="" if op_created else "already promoted; nothing new to tag",
                    action=op.action,
                )
            )
    if merged is not None and (created or findings):
        outcome.comment = forge.comment(merged, summary_markdown(outcome)).location
    return outcome


def _refuse_off_default_branch(repo: Path, after_sha: str, branch: str) -> None:
    """Registry tags are made only from the default branch, never from a side branch."""
    from .audit import default_branch_ref

    ref = default_branch_ref(repo, branch)
    if not git.is_ancestor(repo, after_sha, ref):
        raise UsageError(
            f"--after {after_sha[:12]} is not on the default branch {branch}; modelward "
            "promotes only merges on the default branch"
        )


def _record_bypass(
    repo: Path,
    outcome: PromoteOutcome,
    merged: PullRequest | None,
    files: Sequence[str],
    push: bool,
    remote: str,
    *,
    sign: Signing | None = None,
) -> str:
    """The bypass, as an annotated tag in modelward's namespace (signed with `sign`, like
    every registry tag), pushed at once."""
    from .policy import is_governed

    record = registry.Bypass(
        merge_commit=outcome.after,
        findings=outcome.bypass,
        files=tuple(f for f in files if is_governed(f)) if outcome.governance_bypass else (),
        pr_number=merged.number if merged else None,
        author=merged.author if merged else None,
        approvers=merged.approvers if merged else (),
    )
    name, _ = registry.record_bypass(repo, record, sign=sign)
    if push:
        registry.push_tags(repo, remote, [name])
    return name


def _concerns(tag: str, op: _StageOp, manifest_version: str) -> bool:
    """Whether a tag of this merge belongs to one stage operation (its registration
    belongs to the stages that ask for the manifest's version)."""
    parsed = registry.parse_tag(tag)
    if parsed is None:
        return False
    if parsed.kind == "register":
        return op.action == "assign" and op.version == parsed.version == manifest_version
    return parsed.stage == op.change.stage


def _model_of(tag: str) -> str | None:
    parsed = registry.parse_tag(tag)
    return parsed.model if parsed else None


def _prepare(
    repo: Path,
    ws: Workspace,
    judge: Judge,
    loaded: Loaded[Model],
    changes: Sequence[StageChange],
    pr: PullRequest | None,
    report: ReportData | None,
    before_sha: str,
    after_sha: str,
    ci_run_url: str | None,
    governance: Sequence[Verdict],
    history: registry.ModelHistory | None,
) -> _Prepared:
    from dataclasses import replace

    from .datachecks import check_with_base
    from .training import train

    model = loaded.record
    name = model.name
    old = base_model(repo, before_sha, name)
    # the base's owners, as pr used
    judge = replace(judge, owners=list(old.record.owners) if old is not None else None)
    versions = history.versions if history is not None else {}
    stages = judge.rules.config.stage_names
    pr_fields = dict(
        pr_number=pr.number if pr else None,
        pr_url=pr.url if pr else None,
        author=pr.author if pr else None,
        approvers=pr.approvers if pr else (),
        merge_commit=after_sha,
        ci_run_url=ci_run_url,
    )
    # every named version must be assignable before anything is trained or tagged
    for c in changes:
        if c.after is None or c.after == model.version:
            continue
        info = versions.get(c.after)
        if info is None or (
            history is not None and registration_evidence(history, c.after) is None
        ):
            raise CheckFailed(
                f"{name}: stages.{c.stage} asks for {c.after}, which is neither this manifest's "
                f"version ({model.version}) nor a registered version with evidence; nothing was "
                "promoted"
            )
        if not info.registered:
            raise CheckFailed(
                f"{name}: stages.{c.stage} asks for {c.after}, which was deregistered; nothing "
                "was promoted"
            )
    result = None
    report_checked = False
    trained: Mapping[str, Any] = {}
    candidate = None
    if any(c.after == model.version for c in changes):
        result = train(ws, name, timeout_minutes=judge.rules.config.training.timeout_minutes)
        report_checked = _check_against_report(name, result.metrics, report)
        # the base's suite judges as well, as in `pr`
        checks = check_with_base(repo, ws, [model.data.dataset], before_sha)[model.data.dataset]
        candidate = Candidate.from_run(
            loaded,
            result,
            checks,
            history=history,
            stages=stages,
            base_version=old.record.version if old else None,
            changed_artifact=artifact_changed(
                repo,
                history,
                old.record if old else None,
                model,
                before_sha,
                after_sha,
                artifact_sha256=result.artifact_sha256,
                data_sha256=result.data_sha256,
            ),
        )
        ev = registration_evidence(history, model.version) if history is not None else None
        if ev is not None and another_artifact(
            ev, model, result.artifact_sha256, result.data_sha256
        ):
            raise CheckFailed(
                f"{name}: version {model.version} is registered with another artifact "
                f"({(ev.artifact_sha256 or '?')[:12]}); a registered version never changes, so "
                "nothing was promoted: bump the version"
            )
        trained = dict(
            manifest_digest=result.manifest_digest,
            training_digest=training_digest(model),
            data_sha256=result.data_sha256,
            artifact_sha256=result.artifact_sha256,
            artifact_location=_portable(repo, result.artifact_path),
            # Every mapping in a fixed order: a fresh fit and a cache hit must write the
            # same payload, or a re-run (or a second runner) would see a conflict.
            metrics={
                k: result.metrics[k]
                for k in model.evaluation.metrics
                if result.metrics.get(k) is not None
            },
            slice_metrics=_slice_scores(result.slice_metrics),
            profile=_portable(repo, f"{_parent(result.artifact_path)}/profile.json"),
            library_versions=dict(sorted(result.versions.items())),
        )
    ops: list[_StageOp] = []
    current = history.stage_versions() if history is not None else {}
    judged = judge.changes(
        repo, loaded, changes, candidate=candidate, history=history, base_ref=before_sha
    )
    for j in judged:
        c = j.change
        verdicts = list(j.verdicts) + list(governance)
        if c.after is None:
            held = current.get(c.stage) or c.before or model.version
            fields: Mapping[str, Any] = _recorded_fields(history, held)
        else:
            held = c.after
            fields = trained if c.after == model.version else _recorded_fields(history, held)
        blocking = tuple(f"{v.policy}/{v.rule}: {v.reason}" for v in verdicts if v.blocking)
        evidence = dict(
            model=name,
            version=held,
            **fields,
            verdicts=tuple(_payload_verdict(v) for v in verdicts),
            waivers=tuple(_payload_waiver(v) for v in verdicts if v.waived),
            bypass=bool(blocking),
            # what no earlier tag records: the base branch's model no_regression compared
            # with (so audit --verify can judge the rule again)
            baselines=tuple(
                registry.RecordedBaseline(
                    s, b.version, {k: v for k, v in b.metrics.items() if v is not None}, b.source
                )
                for s, b in sorted(j.baselines.items())
                if b.source != "registry"
            ),
            **pr_fields,
        )
        ops.append(_StageOp(c, held, evidence, blocking))
    register = None
    if result is not None:
        assigning = [op for op in ops if op.action == "assign" and op.version == model.version]
        blocking = tuple(b for op in assigning for b in op.blocking)
        register = dict(
            model=name,
            version=model.version,
            **trained,
            verdicts=tuple(v for op in assigning for v in op.evidence["verdicts"]),
            waivers=tuple(w for op in assigning for w in op.evidence["waivers"]),
            bypass=bool(blocking),
            **pr_fields,
        )
    return _Prepared(loaded, result, register, tuple(ops), report_checked)


def _recorded_fields(history: registry.ModelHistory | None, version: str) -> dict[str, Any]:
    """The artifact evidence a registered version's registration tag records."""
    ev = registration_evidence(history, version) if history is not None else None
    if ev is None:
        return {}
    return dict(
        manifest_digest=ev.manifest_digest,
        data_sha256=ev.data_sha256,
        artifact_sha256=ev.artifact_sha256,
        artifact_location=ev.artifact_location,
        metrics=dict(ev.metrics),
        slice_metrics=dict(ev.slice_metrics),
        profile=ev.profile,
        library_versions=dict(ev.library_versions),
    )


def _data_sha256(ws: Workspace, dataset: str) -> str | None:
    """The sha256 of a dataset's file, for comparing with registered evidence (None when
    the file cannot be read here: the training inputs then decide alone)."""
    from . import dataio
    from .errors import ModelwardError

    try:
        return dataio.locate(ws, dataset).sha256
    except ModelwardError:
        return None


def _parent(location: str) -> str:
    return location.rsplit("/", 1)[0] if "/" in location else "."


def _portable(repo: Path, location: str) -> str:
    """A store location as the payload records it: relative to the repository when the
    store lies inside it (the same bytes on every clone and CI runner), else as is."""
    if "://" in location:
        return location
    path = Path(location)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _tag_and_push(
    repo: Path,
    prepared: Sequence[_Prepared],
    after_sha: str,
    push: bool,
    remote: str,
    *,
    sign: Signing | None = None,
) -> tuple[list[str], list[str]]:
    """Create the tags of every prepared model and push them in one atomic push.

    Returns (tags created by this run, every tag that makes the merge's state). On a
    lost race for an assignment counter the unpushed tags of this attempt are deleted,
    the remote's tags fetched and the tags planned again with the next counter."""
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        created: list[str] = []
        names: list[str] = []
        try:
            reg = registry.read(repo, models=[p.name for p in prepared])
            for p in prepared:
                made, wanted = _create_tags(repo, reg.models.get(p.name), p, after_sha, sign=sign)
                created += made
                names += wanted
            if push and names:
                registry.push_tags(repo, remote, names)
            return created, names
        except TagConflict:
            _delete_local(repo, created)
            if (
                not push
                or attempt == PUSH_ATTEMPTS
                or not _lost_a_counter_race(repo, remote, created)
            ):
                raise
            registry.fetch_tags(repo, remote)
    raise AssertionError("unreachable")  # pragma: no cover


def _lost_a_counter_race(repo: Path, remote: str, created: Sequence[str]) -> bool:
    """Whether one of the assignment tags this attempt made is now on the remote (with
    another payload): someone else took that counter, so the next one is free to try."""
    stage_tags = [
        n for n in created if (t := registry.parse_tag(n)) and t.kind in ("assign", "unassign")
    ]
    if not stage_tags:
        return False
    listing = git.run(repo, "ls-remote", "--tags", remote, *(f"refs/tags/{n}" for n in stage_tags))
    return bool(listing.strip())


def _delete_local(repo: Path, names: Sequence[str]) -> None:
    """Drop tags this run created and never pushed (nobody else has seen them)."""
    for n in names:
        git.run(repo, "tag", "-d", n, check=False)


def _create_tags(
    repo: Path,
    history: registry.ModelHistory | None,
    p: _Prepared,
    after_sha: str,
    *,
    sign: Signing | None = None,
) -> tuple[list[str], list[str]]:
    """The registration of the manifest's version (when a stage asks for it and it is new),
    then one assignment or unassignment per changed stage whose registry state differs."""
    model = p.loaded.record
    name = model.name
    history = history or registry.ModelHistory(name)
    versions = history.versions
    current = history.stage_versions()
    counter = history.next_counter()
    created: list[str] = []
    wanted: list[str] = []

    def make(tag: str, target: str, ev: registry.Evidence) -> None:
        wanted.append(tag)
        message = registry.format_message(ev)
        if registry.create_tag(repo, tag, target, message, sign=sign) == "created":
            created.append(tag)

    register = registry.register_tag(name, model.version)
    info = versions.get(model.version)
    if p.register is not None:
        if info is not None and not info.registered:
            raise CheckFailed(
                f"{name} {model.version} was deregistered; bump the version to register it again"
            )
        if info is None or info.commit == after_sha:
            # This merge registers the version: an existing registration tag at this commit
            # must be exactly ours (a re-run); with another payload it is a TagConflict.
            make(register, after_sha, registry.Evidence(action="register", **p.register))
        else:
            wanted.append(register)
    for op in p.ops:
        stage = op.change.stage
        if op.action == "unassign":
            held = current.get(stage)
            if held is None:
                wanted += _last_tag(history, stage, "unassign")
                continue
            target = versions[held].commit if held in versions else after_sha
            fields = {**op.evidence, "version": held}
            tag = registry.unassign_tag(name, stage, counter)
            make(tag, target, registry.Evidence(action="unassign", stage=stage, **fields))
            counter += 1
            continue
        if current.get(stage) == op.version:
            wanted += _last_tag(history, stage, "assign")
            continue
        # A stage tag points at the commit where its version was registered: that is how
        # GTO reads the version of an assignment (our payload names the merge commit too).
        target = versions[op.version].commit if op.version in versions else after_sha
        tag = registry.assign_tag(name, stage, counter)
        make(tag, target, registry.Evidence(action="assign", stage=stage, **op.evidence))
        counter += 1
    return created, list(dict.fromkeys(wanted))


def _last_tag(history: registry.ModelHistory, stage: str, kind: str) -> list[str]:
    """The latest tag of `kind` in `stage` (re-pushed when an earlier run made it)."""
    found = [e.tag for e in history.events if e.kind == kind and e.stage == stage]
    return found[-1:]


def _check_against_report(
    name: str, metrics: Mapping[str, float | None], report: ReportData | None
) -> bool:
    """The retrained metrics must equal what the pull request's report showed (a block of
    another schema, or a malformed one, is no report: the promotion says it was not
    cross-checked)."""
    entry = report.model(name) if report is not None else None
    if entry is None:
        return False
    for row in entry.metrics:
        shown, now = row.candidate, metrics.get(row.name)
        same = (shown is None and now is None) or (
            shown is not None and now is not None and abs(shown - float(now)) <= METRIC_TOLERANCE
        )
        if not same:
            raise CheckFailed(
                f"{name}: {row.name} is {now} after retraining the merged commit, but the "
                f"pull request's report showed {shown}; the merged result differs from what "
                "reviewers approved, so nothing was promoted"
            )
    return True


def summary_markdown(outcome: PromoteOutcome) -> str:
    """The comment posted on the merged pull request."""
    from .markup import code, text

    lines = [f"### modelward promoted {outcome.after[:12]}", ""]
    if outcome.bypass:
        lines.append(
            f"- **BYPASS** recorded as {code(outcome.bypass_tag or '')}: this merge went in "
            "without what governance requires:"
        )
        lines += [f"  - {text(b)}" for b in outcome.bypass]
    for p in outcome.promotions:
        created = ", ".join(code(t) for t in p.created) or "nothing new"
        arrow = "removed from" if p.action == "unassign" else "->"
        lines.append(f"- **{text(p.model)}** v{text(p.version)} {arrow} {text(p.stage)}: {created}")
        if p.bypass:
            lines.append("  - **BYPASS**: merged over blocking policy verdicts:")
            lines += [f"    - {text(b)}" for b in p.blocking]
        if p.release:
            lines.append(f"  - release: {text(p.release)}")
    return "\n".join(lines) + "\n"


def _slice_scores(slices: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for column, values in slices.items():
        for value, entry in values.items():
            scores = {k: float(v) for k, v in (entry.get("metrics") or {}).items() if v is not None}
            out.setdefault(column, {})[str(value)] = dict(sorted(scores.items()))
    return {c: dict(sorted(values.items())) for c, values in sorted(out.items())}


def _payload_verdict(v: Verdict) -> registry.Verdict:
    return registry.Verdict(policy=v.policy, rule=v.rule, outcome=v.effective, message=v.reason)


def _payload_waiver(v: Verdict) -> registry.WaiverUse:
    w = v.waiver
    assert w is not None
    return registry.WaiverUse(
        policy=v.policy,
        rule=v.rule,
        reason=w.reason,
        approved_by=tuple(w.approved_by),
        expires=str(w.expires),
    )


def _publish(ws: Workspace, forge: Forge, loaded: Loaded[Model], result: Any, tag: str) -> Any:
    from .forge.local import write_atomic
    from .report import render_card

    folder = ws.root / ".modelward" / "build" / tag
    dataset = ws.datasets.get(loaded.record.data.dataset)
    card = folder / "MODEL_CARD.md"
    write_atomic(
        card,
        render_card(loaded.record, dataset.record if dataset else None, result.to_dict()).encode(),
    )
    metrics = folder / "metrics.json"
    write_atomic(metrics, json.dumps(result.to_dict(), indent=2, sort_keys=True).encode())
    artifact = Path(result.artifact_path)
    if not artifact.is_absolute():
        artifact = ws.root / artifact
    files = {"model.joblib": artifact, "MODEL_CARD.md": card, "metrics.json": metrics}
    # the release body is the model card, with the artifact's digest to check a download
    notes = f"{card.read_text()}\n\nartifact sha256: `{result.artifact_sha256}`\n"
    return forge.publish_release(tag, files, notes)
