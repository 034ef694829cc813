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

from . import git, registry
from .baseline import base_model, inputs_changed, registered
from .changes import AffectedModel, plan, resolve
from .errors import CheckFailed, TagConflict, UsageError
from .forge.base import Forge, PullRequest
from .governance import Governance, governance_at
from .manifest import Model
from .policy import Approvals, Candidate, Verdict, evaluate, evaluate_governance
from .pr import CodeOwners, code_owners, refuse_committed_state, team_handles
from .workspace import Loaded, Workspace, load

METRIC_TOLERANCE = 1e-9
PUSH_ATTEMPTS = 3
"""How often a promotion that lost a race for an assignment counter tries the next one."""


@dataclass(frozen=True)
class Promotion:
    """What happened to one model."""

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
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
        }


@dataclass(frozen=True)
class _Prepared:
    """One model, trained, cross-checked and judged: everything but its tags."""

    loaded: Loaded[Model]
    result: Any
    evidence: Mapping[str, Any]
    blocking: tuple[str, ...]
    report_checked: bool


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
    moved: list[tuple[AffectedModel, Loaded[Model] | None]] = []
    live = [m for m in the_plan.models if m.status != "deleted"]
    ws = load(repo, only_models=[m.name for m in live])
    for affected in live:
        old = base_model(repo, before_sha, affected.name)
        new = ws.models[affected.name].record
        if old is not None and (old.record.version, old.record.stage) == (new.version, new.stage):
            outcome.skipped.append(f"{affected.name}: version and stage unchanged")
            continue
        moved.append((affected, old))
    if not moved and not the_plan.governance_files:
        return outcome
    rules = governance_at(repo, before_sha)
    owners = code_owners(repo, before_sha, [ws.models[a.name].doc.path for a, _ in moved])
    handles = team_handles(
        rules,
        [ws.models[a.name].record.owners for a, _ in moved] + [owners.owners],
        governance=bool(the_plan.governance_files),
    )
    pr = forge.merged_pull_request(after_sha, teams=handles)
    outcome.pull_request = pr.number if pr else None
    governance = evaluate_governance(
        the_plan.governance_files,
        rules.config,
        pr.author if pr else None,
        pr.approvers if pr else (),
    )
    outcome.governance_bypass = tuple(
        f"{v.policy}/{v.rule}: {v.reason}" for v in governance if v.blocking
    )
    if not moved:
        if pr is not None and outcome.governance_bypass:
            outcome.comment = forge.comment(pr, summary_markdown(outcome)).location
        return outcome
    refuse_committed_state(repo, after_sha, ws.config)
    report = forge.saved_report_data(pr.head_sha) if pr else None
    # Every model is trained, cross-checked and judged before any tag is made: a
    # metrics mismatch in one model of the merge promotes none of them.
    prepared = [
        _prepare(
            repo,
            ws,
            rules,
            affected,
            old,
            pr,
            report,
            before_sha,
            after_sha,
            today,
            ci_run_url,
            governance,
            owners,
        )
        for affected, old in moved
    ]
    created, names = _tag_and_push(repo, ws, prepared, after_sha, push, remote)
    for p in prepared:
        name, model = p.loaded.record.name, p.loaded.record
        mine = tuple(n for n in created if _model_of(n) == name)
        release = None
        tag = registry.register_tag(name, model.version)
        if mine or not forge.has_release(tag):  # a release lost to a crash is made again
            release = _publish(ws, forge, p.loaded, p.result, tag).location
        outcome.promotions.append(
            Promotion(
                model=name,
                version=model.version,
                stage=model.stage,
                tags=tuple(n for n in names if _model_of(n) == name),
                created=mine,
                bypass=bool(p.blocking),
                blocking=p.blocking,
                report_checked=p.report_checked,
                release=release,
                note="" if mine else "already promoted; nothing new to tag",
            )
        )
    if pr is not None and created:
        outcome.comment = forge.comment(pr, summary_markdown(outcome)).location
    return outcome


def _model_of(tag: str) -> str | None:
    parsed = registry.parse_tag(tag)
    return parsed.model if parsed else None


def _prepare(
    repo: Path,
    ws: Workspace,
    rules: Governance,
    affected: AffectedModel,
    old: Loaded[Model] | None,
    pr: PullRequest | None,
    report: Mapping[str, Any] | None,
    before_sha: str,
    after_sha: str,
    today: dt.date,
    ci_run_url: str | None,
    governance: Sequence[Verdict] = (),
    owners: CodeOwners | None = None,
) -> _Prepared:
    from .datachecks import check_datasets
    from .training import train

    name = affected.name
    loaded = ws.models[name]
    model = loaded.record
    history = registry.read(repo, models=[name]).models.get(name)
    result = train(ws, name)
    report_checked = _check_against_report(name, result.metrics, report)
    checks = check_datasets(ws, [model.data.dataset])[model.data.dataset]
    approvals = Approvals(
        author=pr.author if pr else None,
        approvers=pr.approvers if pr else (),
        # the local forge reads no team membership itself: modelward.yaml's local.teams
        teams={**rules.config.local_teams(), **(pr.teams if pr else {})},
        codeowners=owners.rules if owners else (),
    )
    candidate = Candidate.from_run(
        loaded,
        result,
        checks,
        history=history,
        stages=ws.config.stage_names,
        base_version=old.record.version if old else None,
        changed_artifact=_artifact_changed(
            repo, history, old, model, before_sha, after_sha, result
        ),
    )
    baselines = registered(history, model, rules)
    verdicts = evaluate(
        candidate,
        config=rules.config,
        policies=rules.policies,
        waivers=rules.waivers,
        baseline=next(iter(baselines.values()), None),
        baselines=baselines,
        approvals=approvals,
        today=today,
    ) + list(governance)
    blocking = tuple(f"{v.policy}/{v.rule}: {v.reason}" for v in verdicts if v.blocking)
    evidence = dict(
        model=name,
        version=model.version,
        manifest_digest=result.manifest_digest,
        data_sha256=result.data_sha256,
        artifact_sha256=result.artifact_sha256,
        artifact_location=_portable(repo, result.artifact_path),
        # Every mapping in a fixed order: a fresh fit and a cache hit must write the same
        # payload, or a re-run (or a second runner) would see a conflict with itself.
        metrics={
            k: result.metrics[k]
            for k in model.evaluation.metrics
            if result.metrics.get(k) is not None
        },
        slice_metrics=_slice_scores(result.slice_metrics),
        profile=_portable(repo, f"{_parent(result.artifact_path)}/profile.json"),
        verdicts=tuple(_payload_verdict(v) for v in verdicts),
        waivers=tuple(_payload_waiver(v) for v in verdicts if v.waived),
        bypass=bool(blocking),
        pr_number=pr.number if pr else None,
        pr_url=pr.url if pr else None,
        author=pr.author if pr else None,
        approvers=pr.approvers if pr else (),
        merge_commit=after_sha,
        ci_run_url=ci_run_url,
        library_versions=dict(sorted(result.versions.items())),
    )
    return _Prepared(loaded, result, evidence, blocking, report_checked)


def _artifact_changed(
    repo: Path,
    history: registry.ModelHistory | None,
    old: Loaded[Model] | None,
    model: Model,
    before_sha: str,
    after_sha: str,
    result: Any,
) -> bool | None:
    """Whether the artifact differs from the base branch's (for version_bump).

    When the base's version is registered, its tag records the artifact sha256: compare
    bytes. Otherwise compare the training inputs, as the pull-request flow does."""
    if old is None:
        return None
    if history is not None:
        for event in history.events:
            ev = event.evidence
            if (
                event.kind == "register"
                and event.version == old.record.version
                and ev is not None
                and ev.artifact_sha256
            ):
                return bool(ev.artifact_sha256 != result.artifact_sha256)
    return inputs_changed(repo, before_sha, after_sha, old.record, model)


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
    ws: Workspace,
    prepared: Sequence[_Prepared],
    after_sha: str,
    push: bool,
    remote: str,
) -> tuple[list[str], list[str]]:
    """Create the tags of every prepared model and push them in one atomic push.

    Returns (tags created by this run, every tag that makes the merge's state). On a
    lost race for an assignment counter the unpushed tags of this attempt are deleted,
    the remote's tags fetched and the tags planned again with the next counter."""
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        created: list[str] = []
        names: list[str] = []
        try:
            reg = registry.read(repo, models=[p.evidence["model"] for p in prepared])
            for p in prepared:
                made, wanted = _create_tags(
                    repo, ws, reg.models.get(p.evidence["model"]), p, after_sha
                )
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
    ws: Workspace,
    history: registry.ModelHistory | None,
    p: _Prepared,
    after_sha: str,
) -> tuple[list[str], list[str]]:
    model = p.loaded.record
    name = model.name
    tag_plan = registry.plan_tags(
        history, name, model.version, model.stage, stages=ws.config.stage_names
    )
    versions = history.versions if history is not None else {}
    # A stage tag points at the commit where its version was registered: that is how
    # GTO reads the version of an assignment (our payload names the merge commit too).
    registered_at = versions[model.version].commit if model.version in versions else after_sha
    current = history.stage_versions() if history is not None else {}
    created: list[str] = []

    def make(tag: str, target: str, ev: registry.Evidence) -> None:
        message = registry.format_message(ev)
        sign = ws.config.registry.signing
        if registry.create_tag(repo, tag, target, message, sign=sign) == "created":
            created.append(tag)

    register = registry.register_tag(name, model.version)
    if tag_plan.register or registered_at == after_sha:
        # This merge registers the version: an existing registration tag at this commit
        # must be exactly ours (a re-run); with another payload it is a TagConflict.
        make(register, after_sha, registry.Evidence(action="register", **p.evidence))
    for tag in tag_plan.unassign:
        parsed = registry.parse_tag(tag)
        stage = parsed.stage if parsed else None
        held = current.get(stage or "", model.version)
        target = versions[held].commit if held in versions else registered_at
        fields = {**p.evidence, "version": held}
        make(tag, target, registry.Evidence(action="unassign", stage=stage, **fields))
    if tag_plan.assign:
        ev = registry.Evidence(action="assign", stage=model.stage, **p.evidence)
        make(tag_plan.assign, registered_at, ev)
    # Re-push what an earlier, interrupted run may have created but not pushed.
    wanted = list(dict.fromkeys([*tag_plan.names, *_current_tags(history, model)]))
    return created, wanted


def _current_tags(history: registry.ModelHistory | None, model: Model) -> list[str]:
    if history is None:
        return []
    out = [e.tag for e in history.events if e.version == model.version and e.kind == "register"]
    assigns = [e for e in history.events if e.kind == "assign" and e.stage == model.stage]
    if assigns and assigns[-1].version == model.version:
        out.append(assigns[-1].tag)
    return out


def _check_against_report(
    name: str, metrics: Mapping[str, float | None], report: Mapping[str, Any] | None
) -> bool:
    """The retrained metrics must equal what the pull request's report showed."""
    if report is None:
        return False
    entry = next((m for m in report.get("models", []) if m.get("name") == name), None)
    if entry is None:
        return False
    for row in entry.get("metrics", []):
        shown, now = row.get("candidate"), metrics.get(row.get("name"))
        same = (shown is None and now is None) or (
            shown is not None
            and now is not None
            and abs(float(shown) - float(now)) <= METRIC_TOLERANCE
        )
        if not same:
            raise CheckFailed(
                f"{name}: {row.get('name')} is {now} after retraining the merged commit, but the "
                f"pull request's report showed {shown}; the merged result differs from what "
                "reviewers approved, so nothing was promoted"
            )
    return True


def summary_markdown(outcome: PromoteOutcome) -> str:
    """The comment posted on the merged pull request."""
    from .markup import code, text

    lines = [f"### modelward promoted {outcome.after[:12]}", ""]
    if outcome.governance_bypass:
        lines.append("- **BYPASS**: governance files merged without the required approval:")
        lines += [f"  - {text(b)}" for b in outcome.governance_bypass]
    for p in outcome.promotions:
        created = ", ".join(code(t) for t in p.created) or "nothing new"
        lines.append(f"- **{text(p.model)}** v{text(p.version)} -> {text(p.stage)}: {created}")
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
