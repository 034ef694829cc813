"""The on-merge flow: the manifests a merge changed become registry tags.

For each model whose version or stage changed in before..after: find the merged pull
request and its approvals, re-evaluate the policies of the base (a merge that went
in over a blocking verdict is recorded as a bypass, never hidden), retrain from the
merged commit through the cache and check the metrics against the report reviewers
saw, then create the registration and assignment tags and push them atomically.
Every step is idempotent: a re-run on the same range creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import git, registry
from .baseline import base_model
from .changes import plan
from .errors import CheckFailed, UsageError
from .forge.base import Forge, PullRequest
from .governance import governance_at
from .manifest import Model
from .policy import Approvals, Candidate, Verdict, evaluate
from .pr import baseline_for
from .workspace import Loaded, Workspace, load

METRIC_TOLERANCE = 1e-9


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "pull_request": self.pull_request,
            "promotions": [p.to_dict() for p in self.promotions],
            "skipped": self.skipped,
        }


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
    after_sha = git.rev_parse(repo, after)
    if after_sha != git.rev_parse(repo, "HEAD"):
        raise UsageError(f"--after {after} is not the checked-out commit; check it out first")
    before_sha = git.rev_parse(repo, before)
    if push:
        registry.fetch_tags(repo, remote)
    the_plan = plan(repo, before_sha, after_sha)
    outcome = PromoteOutcome(before_sha, after_sha, None)
    moved: list[tuple[str, Loaded[Model] | None]] = []
    live = [m.name for m in the_plan.models if m.status != "deleted"]
    ws = load(repo, only_models=live)
    for name in live:
        old = base_model(repo, before_sha, name)
        new = ws.models[name].record
        if old is not None and (old.record.version, old.record.stage) == (new.version, new.stage):
            outcome.skipped.append(f"{name}: version and stage unchanged")
            continue
        moved.append((name, old))
    if not moved:
        return outcome
    pr = forge.merged_pull_request(after_sha)
    outcome.pull_request = pr.number if pr else None
    rules = governance_at(repo, before_sha)
    report = forge.saved_report_data(pr.head_sha) if pr else None
    for name, old in moved:
        outcome.promotions.append(
            _promote_one(
                repo,
                ws,
                rules,
                name,
                old,
                pr,
                report,
                after_sha,
                push,
                remote,
                today,
                ci_run_url,
                forge,
            )
        )
    return outcome


def _promote_one(
    repo: Path,
    ws: Workspace,
    rules: Any,
    name: str,
    old: Loaded[Model] | None,
    pr: PullRequest | None,
    report: Mapping[str, Any] | None,
    after_sha: str,
    push: bool,
    remote: str,
    today: dt.date,
    ci_run_url: str | None,
    forge: Forge,
) -> Promotion:
    from .datachecks import check_datasets
    from .training import train

    loaded = ws.models[name]
    model = loaded.record
    history = registry.read(repo).models.get(name)
    tag_plan = registry.plan_tags(
        history, name, model.version, model.stage, stages=ws.config.stage_names
    )
    result = train(ws, name)
    report_checked = _check_against_report(name, result.metrics, report)
    checks = check_datasets(ws, [model.data.dataset])[model.data.dataset]
    approvals = Approvals(
        author=pr.author if pr else None, approvers=pr.approvers if pr else (), teams={}
    )
    stage_history = frozenset(
        s
        for s in ws.config.stage_names
        if history is not None and history.was_in_stage(model.version, s)
    )
    candidate = Candidate(
        model=loaded,
        metrics=result.metrics,
        slice_metrics=result.slice_metrics,
        artifact_sha256=result.artifact_sha256,
        artifact_bytes=result.artifact_bytes,
        data_checks_passed=checks.success,
        data_check_failures=tuple(o.type for o in checks.expectations if not o.success),
        changed_artifact=None,
        base_version=old.record.version if old else None,
        stage_history=stage_history,
    )
    verdicts = evaluate(
        candidate,
        config=rules.config,
        policies=rules.policies,
        waivers=rules.waivers,
        baseline=baseline_for(history, model, rules),
        approvals=approvals,
        today=today,
    )
    blocking = tuple(f"{v.policy}/{v.rule}: {v.reason}" for v in verdicts if v.blocking)
    evidence_base = dict(
        model=name,
        version=model.version,
        manifest_digest=result.manifest_digest,
        data_sha256=result.data_sha256,
        artifact_sha256=result.artifact_sha256,
        artifact_location=result.artifact_path,
        metrics={k: v for k, v in result.metrics.items() if v is not None},
        slice_metrics=_slice_scores(result.slice_metrics),
        profile=f"{Path(result.artifact_path).parent.as_posix()}/profile.json",
        verdicts=tuple(_payload_verdict(v) for v in verdicts),
        waivers=tuple(_payload_waiver(v) for v in verdicts if v.waiver is not None),
        bypass=bool(blocking),
        pr_number=pr.number if pr else None,
        pr_url=pr.url if pr else None,
        author=pr.author if pr else None,
        approvers=pr.approvers if pr else (),
        merge_commit=after_sha,
        ci_run_url=ci_run_url,
        library_versions=dict(result.versions),
    )
    created: list[str] = []
    names = list(tag_plan.names)
    if tag_plan.register:
        ev = registry.Evidence(action="register", **evidence_base)  # type: ignore[arg-type]
        if (
            registry.create_tag(repo, tag_plan.register, after_sha, registry.format_message(ev))
            == "created"
        ):
            created.append(tag_plan.register)
    for tag in tag_plan.unassign:
        parsed = registry.parse_tag(tag)
        ev = registry.Evidence(
            action="unassign",
            stage=parsed.stage if parsed else None,
            **evidence_base,  # type: ignore[arg-type]
        )
        if registry.create_tag(repo, tag, after_sha, registry.format_message(ev)) == "created":
            created.append(tag)
    if tag_plan.assign:
        ev = registry.Evidence(action="assign", stage=model.stage, **evidence_base)  # type: ignore[arg-type]
        if (
            registry.create_tag(repo, tag_plan.assign, after_sha, registry.format_message(ev))
            == "created"
        ):
            created.append(tag_plan.assign)
    # Re-push what an earlier, interrupted run may have created but not pushed.
    names += _current_tags(repo, name, model)
    names = list(dict.fromkeys(names))
    if push and names:
        registry.push_tags(repo, remote, names)
    release = None
    if created or tag_plan.register:
        release = _publish(ws, forge, loaded, result, f"{name}@v{model.version}").location
    return Promotion(
        model=name,
        version=model.version,
        stage=model.stage,
        tags=tuple(names),
        created=tuple(created),
        bypass=bool(blocking),
        blocking=blocking,
        report_checked=report_checked,
        release=release,
        note="" if created else "already promoted; nothing new to tag",
    )


def _current_tags(repo: Path, name: str, model: Model) -> list[str]:
    history = registry.read(repo).models.get(name)
    if history is None:
        return []
    out = []
    for event in history.events:
        if event.version == model.version and event.kind == "register":
            out.append(event.tag)
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


def _slice_scores(slices: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for column, values in slices.items():
        for value, entry in values.items():
            scores = {k: float(v) for k, v in (entry.get("metrics") or {}).items() if v is not None}
            out.setdefault(column, {})[str(value)] = scores
    return out


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
    from .report import render_card

    folder = ws.root / ".modelward" / "build" / tag
    folder.mkdir(parents=True, exist_ok=True)
    card = folder / "MODEL_CARD.md"
    dataset = ws.datasets.get(loaded.record.data.dataset)
    card.write_text(
        render_card(loaded.record, dataset.record if dataset else None, result.to_dict())
    )
    metrics = folder / "metrics.json"
    metrics.write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    artifact = (
        (ws.root / result.artifact_path)
        if not Path(result.artifact_path).is_absolute()
        else Path(result.artifact_path)
    )
    files = {"model.joblib": artifact, "MODEL_CARD.md": card, "metrics.json": metrics}
    notes = f"{tag}\n\nartifact sha256: {result.artifact_sha256}\n"
    return forge.publish_release(tag, files, notes)
