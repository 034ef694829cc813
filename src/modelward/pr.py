"""The pull-request flow: plan -> data checks -> train -> baselines -> policies -> report.

Policies and modelward.yaml come from the base ref (a pull request cannot relax
the rules that judge it); manifests, data and code come from the head, which must
be the checked-out commit. Work is done once per affected dataset and model (only
their manifests, datasets and registry tags are read), so the cost grows with the
change, not with the repository. A pull request that touches no model and no
governance file has nothing for a policy to judge: it reads no policy or manifest and
finishes without importing pydantic or the ML stack (benchmarks/bench_pr.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, git
from .changes import AffectedModel, Plan, plan
from .errors import ModelwardError, UsageError
from .forge.base import Forge, Published, PullRequest, State

if TYPE_CHECKING:  # pydantic records: imported at run time only when there is work
    from .governance import Governance
    from .manifest import Model
    from .policy import Approvals, Baseline
    from .workspace import Loaded, Workspace

EXIT_BY_SUMMARY = {"pass": 0, "fail": 1, "pending": 1}
STATE_BY_SUMMARY: dict[str, State] = {"pass": "success", "fail": "failure", "pending": "pending"}


@dataclass
class PrOutcome:
    """What `modelward pr` produced: the report, its data, where it went, the exit code."""

    summary: str
    markdown: str
    data: dict[str, Any]
    published: list[Published] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_BY_SUMMARY[self.summary]


def run(
    repo: Path,
    *,
    forge: Forge,
    base: str,
    head: str = "HEAD",
    today: dt.date,
    teams: Mapping[str, frozenset[str]] | None = None,
) -> PrOutcome:
    """Judge the change base...head and publish one report through the forge."""
    head_sha = git.rev_parse(repo, head)
    if head_sha != git.rev_parse(repo, "HEAD"):
        raise UsageError(
            f"--head {head} is not the checked-out commit; check it out first "
            "(modelward trains from the working tree)"
        )
    the_plan = plan(repo, base, head_sha)
    pr = forge.pull_request(head_sha, base)
    if the_plan.models or the_plan.governance_files:
        models, governance, summary = _judge_change(repo, the_plan, pr, teams or {}, today)
    else:
        # Nothing for a policy to judge: the policies and manifests are not even read,
        # so a pull request that touches no model imports neither pydantic nor the ML
        # stack and finishes in a fraction of a second, however many models there are.
        models, governance, summary = [], [], "pass"
    data: dict[str, Any] = {
        "head_sha": head_sha,
        "base": base,
        "head": head,
        "summary": summary,
        "pull_request": pr.number,
        "generated_by": f"modelward {__version__}",
        "models": models,
        "governance": governance,
        "notes": [] if the_plan.models else ["This pull request changes no model."],
    }
    from .report import render_report

    markdown = render_report(data)
    state = STATE_BY_SUMMARY[summary]
    published = forge.publish_report(pr, markdown, data, state, _description(summary, data))
    return PrOutcome(summary, markdown, data, published)


def _judge_change(
    repo: Path,
    the_plan: Plan,
    pr: PullRequest,
    teams: Mapping[str, frozenset[str]],
    today: dt.date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Every affected model judged, the governance verdicts, and the summary of both.

    The policies come from the merge base; only the affected models' manifests and
    datasets are loaded from the work tree.
    """
    from .governance import governance_at
    from .policy import Approvals, Verdict, evaluate_governance, summarize
    from .workspace import load

    rules = governance_at(repo, the_plan.merge_base)
    approvals = Approvals(author=pr.author, approvers=pr.approvers, teams=teams)
    governance = evaluate_governance(
        the_plan.governance_files, rules.config, approvals.author, approvals.approvers
    )
    live = [m for m in the_plan.models if m.status != "deleted"]
    ws = load(repo, only_models=[m.name for m in live])
    models = [_judge(repo, ws, rules, the_plan, m, approvals, today) for m in live]
    models += [_deleted(m) for m in the_plan.models if m.status == "deleted"]
    verdicts = [Verdict.from_dict(v) for m in models for v in m["verdicts"]] + governance
    summary = summarize(verdicts) if verdicts else "pass"
    return models, [v.to_dict() for v in governance], summary


def _description(summary: str, data: Mapping[str, Any]) -> str:
    n = len(data["models"])
    return {
        "pass": f"all checks passed ({n} models)",
        "fail": "blocked by policy",
        "pending": "waiting for approvals",
    }[summary]


def _deleted(m: AffectedModel) -> dict[str, Any]:
    return {
        "name": m.name,
        "version": None,
        "stage": None,
        "status": "deleted",
        "reasons": list(m.reasons),
        "base_version": None,
        "metrics": [],
        "baseline": None,
        "slices": {},
        "data_checks": None,
        "verdicts": [],
        "hashes": {},
        "artifact_bytes": None,
        "versions": {},
        "cached": False,
        "error": None,
    }


def base_model(repo: Path, ref: str, name: str) -> Loaded[Model] | None:
    """The model's manifest at the base ref, if it existed there and is valid."""
    from .manifest import Model, parse
    from .workspace import Loaded
    from .yamlio import load_bytes

    path = f"models/{name}/model.yaml"
    raw = git.show(repo, ref, path)
    if raw is None:
        return None
    try:
        doc = load_bytes(raw, f"{ref[:12]}:{path}")
        return Loaded(parse(doc, Model), doc)
    except ModelwardError:
        return None


def _judge(
    repo: Path,
    ws: Workspace,
    rules: Governance,
    the_plan: Plan,
    affected: AffectedModel,
    approvals: Approvals,
    today: dt.date,
) -> dict[str, Any]:
    from . import registry
    from .datachecks import check_datasets
    from .policy import Candidate, evaluate
    from .training import train

    loaded = ws.models[affected.name]
    model = loaded.record
    checks = check_datasets(ws, [model.data.dataset])[model.data.dataset]
    result = train(ws, affected.name)
    before = base_model(repo, the_plan.merge_base, affected.name)
    history = registry.read(repo, models=[affected.name]).models.get(affected.name)
    baseline = baseline_for(history, model, rules)
    stage_history = frozenset(
        s
        for s in rules.config.stage_names
        if history is not None and history.was_in_stage(model.version, s)
    )
    changed_artifact = before is not None and (
        _training_fields(before.record) != _training_fields(model)
        or any("data" in r or "expectations" in r for r in affected.reasons)
    )
    candidate = Candidate(
        model=loaded,
        metrics=result.metrics,
        slice_metrics=result.slice_metrics,
        artifact_sha256=result.artifact_sha256,
        artifact_bytes=result.artifact_bytes,
        data_checks_passed=checks.success,
        data_check_failures=tuple(
            f"{o.type} {o.kwargs.get('column', '')}".strip()
            for o in checks.expectations
            if not o.success
        ),
        changed_artifact=changed_artifact,
        base_version=before.record.version if before else None,
        stage_history=stage_history,
    )
    verdicts = evaluate(
        candidate,
        config=rules.config,
        policies=rules.policies,
        waivers=rules.waivers,
        baseline=baseline,
        approvals=approvals,
        today=today,
    )
    return {
        "name": affected.name,
        "version": model.version,
        "stage": model.stage,
        "status": affected.status,
        "reasons": list(affected.reasons),
        "base_version": before.record.version if before else None,
        "metrics": [
            {
                "name": name,
                "baseline": baseline.metrics.get(name) if baseline else None,
                "candidate": result.metrics.get(name),
                "primary": name == model.evaluation.primary,
            }
            for name in model.evaluation.metrics
        ],
        "baseline": (
            {"version": baseline.version, "stage": baseline.stage, "source": baseline.source}
            if baseline
            else None
        ),
        "slices": result.slice_metrics,
        "data_checks": checks.to_dict(),
        "verdicts": [v.to_dict() for v in verdicts],
        "hashes": {
            "data_sha256": result.data_sha256,
            "suite_sha256": result.suite_sha256,
            "artifact_sha256": result.artifact_sha256,
            "manifest_digest": result.manifest_digest,
        },
        "artifact_bytes": result.artifact_bytes,
        "versions": dict(result.versions),
        "cached": result.cached,
        "error": None,
        "key": result.key,
    }


def _training_fields(model: Model) -> Any:
    return model.model_dump(mode="json", include={"task", "data", "model", "evaluation"})


def baseline_for(history: Any, model: Model, rules: Governance) -> Baseline | None:
    """The registered version in the stage the no_regression rules compare against.

    Its metrics come from the tag's evidence: the baseline is never retrained.
    """
    from .policy import Baseline

    if history is None:
        return None
    stage = next(
        (
            rule.no_regression.against
            for policy in rules.policies.values()
            if model.stage in policy.record.applies_to.stages
            for rule in policy.record.rules
            if rule.no_regression is not None
        ),
        None,
    )
    if stage is None:
        return None
    version = history.stage_versions().get(stage)
    if version is None:
        return None
    metrics: dict[str, float] = {}
    for event in history.events:
        if event.version == version and event.evidence is not None and event.evidence.metrics:
            metrics = dict(event.evidence.metrics)
    return Baseline(version=version, stage=stage, metrics=metrics, source="registry")
