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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, git
from .changes import CONFIG_FILE, AffectedModel, Plan, plan, resolve
from .errors import InvalidInput, Problem, UsageError
from .forge.base import Forge, Published, PullRequest, State
from .yamlio import load_bytes

if TYPE_CHECKING:  # pydantic records: imported at run time only when there is work
    from .governance import Governance
    from .judge import Judge
    from .manifest import Config, Model
    from .policy import Verdict
    from .reportdata import ModelReport, ReportData
    from .workspace import Loaded, Workspace

EXIT_BY_SUMMARY = {"pass": 0, "fail": 1, "pending": 1}
STATE_BY_SUMMARY: dict[str, State] = {"pass": "success", "fail": "failure", "pending": "pending"}


@dataclass
class PrOutcome:
    """What `modelward pr` produced: the report, its data, where it went, the exit code."""

    summary: str
    markdown: str
    report: ReportData
    published: list[Published] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        """The machine-readable block, as JSON-able data."""
        return self.report.to_dict()

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
    repo = git.toplevel(Path(repo))
    head_sha = resolve(repo, head, "--head")
    if head_sha != git.rev_parse(repo, "HEAD"):
        raise UsageError(
            f"--head {head} is not the checked-out commit; check it out first "
            "(modelward trains from the working tree)"
        )
    refuse_dirty(repo)
    the_plan = plan(repo, base, head_sha)
    notes = [] if the_plan.models else ["This pull request changes no model."]
    from . import reportdata

    # (a pull request that changes no model has no results to reuse, nor a block to parse)
    saved = reportdata.read(forge.saved_report_data(head_sha)) if the_plan.models else None
    earlier = _reusable(saved, the_plan)
    if earlier is not None:
        notes.append(
            "Approvals re-evaluated on the results recorded for this head; nothing retrained."
        )
    if the_plan.models or the_plan.governance_files:
        pr, models, governance, summary = _judge_change(
            repo, forge, base, the_plan, earlier, teams or {}, today
        )
        notes += forge_notes(pr)
    else:
        # Nothing for a policy to judge: no policy or manifest is even read, so a pull
        # request that touches no model imports neither pydantic nor the ML stack and
        # finishes in a fraction of a second, however many models the repository has.
        refuse_tracked(repo, head_sha, _committed_store(repo, the_plan.base))
        pr = forge.pull_request(head_sha, base)
        models, governance, summary = [], [], "pass"
    report = reportdata.ReportData(
        head_sha=head_sha,
        base=base,
        head=head,
        summary=summary,  # type: ignore[arg-type]
        generated_by=f"modelward {__version__}",
        base_sha=the_plan.base,
        merge_base=the_plan.merge_base,
        pull_request=pr.number,
        models=tuple(models),
        governance=tuple(governance),
        notes=tuple(notes),
    )
    from .report import render_report

    data = report.to_dict()
    markdown = render_report(data)
    state = STATE_BY_SUMMARY[summary]
    published = forge.publish_report(pr, markdown, data, state, _description(summary, report))
    return PrOutcome(summary, markdown, report, published)


def _judge_change(
    repo: Path,
    forge: Forge,
    base: str,
    the_plan: Plan,
    earlier: Sequence[ModelReport] | None,
    teams: Mapping[str, frozenset[str]],
    today: dt.date,
) -> tuple[PullRequest, list[ModelReport], list[Verdict], str]:
    """The pull request, every affected model judged, the governance verdicts, the summary.

    The policies come from the base branch; only the affected models' manifests and
    datasets are loaded from the work tree.
    """
    from .baseline import base_model
    from .governance import governance_at
    from .judge import Judge, approvals_of
    from .policy import summarize
    from .workspace import load

    # the base branch as it is now judges, not the point the branch was cut from
    rules = governance_at(repo, the_plan.base)
    refuse_committed_state(repo, the_plan.head, rules.config)
    live = [m for m in the_plan.models if m.status != "deleted"]
    ws = load(repo, only_models=[m.name for m in live])
    # a deleted model's stages are judged by its base manifest (the base branch's tip)
    gone: dict[str, Loaded[Model]] = {}
    for m in the_plan.models:
        found = base_model(repo, the_plan.base, m.name) if m.name not in ws.models else None
        if found is not None:
            gone[m.name] = found
    paths = [ws.models[m.name].doc.path for m in live] + [g.doc.path for g in gone.values()]
    owners = code_owners(repo, the_plan.base, paths)
    handles = team_handles(
        rules,
        [ws.models[m.name].record.owners for m in live]
        + [g.record.owners for g in gone.values()]
        + [owners.owners],
        governance=bool(the_plan.governance_files),
    )
    pr = forge.pull_request(the_plan.head, base, teams=handles)
    approvals = approvals_of(
        pr, rules.config, local=forge.name == "local", codeowners=owners.rules, teams=teams
    )
    judge = Judge(rules, approvals, today)
    governance = judge.governance(the_plan.governance_files)
    # what may be imported and where artifacts live is the base's decision, too
    ws.config = rules.config
    if earlier is not None:
        # a review event: same head, same base: only the approvals can have changed
        models = [_reapprove(m, ws, judge) for m in earlier]
    else:
        models = _judge_all(repo, ws, judge, the_plan, live)
        deleted = [m for m in the_plan.models if m.status == "deleted"]
        models += [_deleted(m, gone.get(m.name), judge) for m in deleted]
    verdicts = [v for m in models for v in m.verdicts] + governance
    summary = summarize(verdicts) if verdicts else "pass"
    return pr, models, governance, summary


def team_handles(
    rules: Governance, owner_lists: Sequence[Sequence[str]], *, governance: bool
) -> list[str]:
    """The `@org/team` handles whose members the judge may need (read from the base):
    the affected models' owners, policy lists and, when governance files changed, the
    governance owners. Each costs one API call on GitHub, so no more are asked for."""
    found: list[str] = []
    if governance and rules.config.governance is not None:
        found += rules.config.governance.owners
    for owners in owner_lists:
        found += owners
    for policy in rules.policies.values():
        for rule in policy.record.rules:
            if rule.approvals is not None and isinstance(rule.approvals.from_, list):
                found += rule.approvals.from_
    return list(dict.fromkeys(h.lower() for h in found if "/" in h))


@dataclass(frozen=True)
class CodeOwners:
    rules: tuple[Any, ...]
    owners: tuple[str, ...]
    """Everyone CODEOWNERS names for the given paths (for team lookups)."""


def code_owners(repo: Path, ref: str, paths: Sequence[str]) -> CodeOwners:
    """The base branch's CODEOWNERS and the owners it gives `paths`."""
    from .codeowners import at_ref, owners_of

    rules = at_ref(repo, ref)
    found = [o for p in paths for o in owners_of(rules, p)]
    return CodeOwners(rules, tuple(dict.fromkeys(found)))


def forge_notes(pr: PullRequest) -> list[str]:
    """What the forge could not establish, said once in the report."""
    from .forge.base import TEAM_PERMISSION

    notes = []
    if pr.unreadable_teams:
        notes.append(
            f"Membership of {', '.join(pr.unreadable_teams)} could not be read, so its "
            f"members' approvals stay pending: {TEAM_PERMISSION}."
        )
    if pr.changes_requested:
        notes.append(f"Changes requested by {', '.join(pr.changes_requested)}.")
    return notes


JUDGED_PATHS = ("models", "data", "policies", CONFIG_FILE)


def refuse_dirty(repo: Path) -> None:
    """The report is saved under the head SHA, so the work tree must hold exactly that
    commit: uncommitted or untracked files under models/, data/, policies/ or
    modelward.yaml would be judged (and cached) as if the commit held them."""
    out = git.run(repo, "status", "--porcelain", "--untracked-files=all", "--", *JUDGED_PATHS)
    files = [line[3:] for line in out.splitlines() if line.strip()]
    if files:
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        raise UsageError(
            f"the working tree differs from the checked-out commit ({shown}); commit or stash "
            "the changes: modelward judges only committed content"
        )


def _description(summary: str, report: ReportData) -> str:
    n = len(report.models)
    return {
        "pass": f"all checks passed ({n} models)",
        "fail": "blocked by policy",
        "pending": "waiting for approvals",
    }[summary]


def _reusable(saved: ReportData | None, the_plan: Plan) -> list[ModelReport] | None:
    """The per-model results of an earlier report for this head, when they still hold
    (a block of another schema version, or a malformed one, was already read as None)."""
    if saved is None or (saved.base_sha, saved.merge_base) != (the_plan.base, the_plan.merge_base):
        return None
    if saved.compacted in ("names", "bare"):
        return None  # the block was cut to fit a comment: it no longer holds the verdicts
    if sorted(m.name for m in saved.models) != sorted(m.name for m in the_plan.models):
        return None
    if any(m.error for m in saved.models):
        return None
    return list(saved.models)


def _reapprove(model: ModelReport, ws: Workspace, judge: Judge) -> ModelReport:
    """A stored model result with only its approvals verdicts judged again."""
    from dataclasses import replace

    from .policy import Verdict

    if model.status == "deleted":
        return model
    by_stage: dict[str | None, list[dict[str, Any]]] = {}
    for v in model.verdicts:
        by_stage.setdefault(v.stage, []).append(v.to_dict())
    # the owners recorded when the model was judged (the base's), as the first run used
    owners = list(model.judged_owners) if model.judged_owners is not None else None
    judge = replace(judge, owners=owners)
    out: list[Verdict] = []
    for stage, stored in by_stage.items():
        if stage is None:
            out += [Verdict.from_dict(v) for v in stored]
            continue
        out += judge.reapprove(stored, ws.models[model.name], stage)
    return model.with_verdicts(out)


def _deleted(m: AffectedModel, base: Loaded[Model] | None, judge: Judge) -> ModelReport:
    """A deleted model takes every stage of its base manifest away: each is a removal,
    judged by that stage's approvals rules (with the base's owners), as a removed entry is."""
    from dataclasses import replace

    from .judge import stage_changes
    from .reportdata import ModelReport

    if base is None:
        return ModelReport(name=m.name, status="deleted", reasons=tuple(m.reasons))
    judge = replace(judge, owners=list(base.record.owners))
    changes = stage_changes(base.record, None, judge.rules.config.stage_names)
    verdicts = [v for c in changes for v in judge.removal(base, c.stage)]
    return ModelReport(
        name=m.name,
        status="deleted",
        version=base.record.version,
        stage="; ".join(c.describe() for c in changes) or None,
        reasons=tuple(m.reasons),
        judged_owners=tuple(base.record.owners),
        verdicts=tuple(verdicts),
    )


def refuse_committed_state(repo: Path, ref: str, config: Config) -> None:
    """Caches and artifacts are never taken from the change under review.

    A commit that carries `.modelward/` or the artifact store could hand the bot its own
    "cached" metrics; such a change is invalid input, not something to trust.
    """
    refuse_tracked(repo, ref, config.artifacts.store)


def _committed_store(repo: Path, ref: str) -> str:
    """`artifacts.store` of modelward.yaml at `ref`, read as plain YAML (no schema).

    For a pull request that changes no model: the file is not validated then, so a value
    that is not a string is read as the default store, which lies under `.modelward/`.
    """
    raw = git.read_blobs(repo, ref, [CONFIG_FILE]).get(CONFIG_FILE)
    data = load_bytes(raw, CONFIG_FILE).data if raw is not None else None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    store = artifacts.get("store") if isinstance(artifacts, dict) else None
    return store if isinstance(store, str) and store else ".modelward"


def refuse_tracked(repo: Path, ref: str, store: str) -> None:
    """InvalidInput when `ref` tracks files under `.modelward/` or the artifact `store`."""
    folders = [".modelward"]
    if "://" not in store:
        folders.append(store.strip("/"))
    tracked = git.run(repo, "ls-tree", "-r", "--name-only", ref, "--", *folders).split()
    if tracked:
        shown = ", ".join(tracked[:3]) + (
            f" and {len(tracked) - 3} more" if len(tracked) > 3 else ""
        )
        raise InvalidInput(
            [
                Problem(
                    tracked[0],
                    1,
                    "",
                    f"caches and artifacts are never read from a commit ({shown}); "
                    "remove them from git (modelward keeps them out with .modelward/.gitignore)",
                )
            ]
        )


def _judge_all(
    repo: Path, ws: Workspace, judge: Judge, the_plan: Plan, live: list[AffectedModel]
) -> list[ModelReport]:
    """Each affected dataset is checked once and the registry read once, for all models."""
    from . import registry
    from .datachecks import check_with_base

    if not live:
        return []
    datasets = sorted({ws.models[m.name].record.data.dataset for m in live})
    # the data must pass the base branch's suite too: a pull request that deletes the
    # expectation its data fails is still judged by it
    checks = check_with_base(repo, ws, datasets, the_plan.base)
    histories = registry.read(repo, models=[m.name for m in live]).models
    return [_judge(repo, ws, judge, the_plan, m, checks, histories.get(m.name)) for m in live]


def _judge(
    repo: Path,
    ws: Workspace,
    judge: Judge,
    the_plan: Plan,
    affected: AffectedModel,
    checks_by_dataset: Mapping[str, Any],
    history: Any,
) -> ModelReport:
    """One model: trained once, then every changed entry of its stage map judged by that
    stage's policies (the judge module: the same path promote and audit take)."""
    from dataclasses import replace

    from .baseline import base_model, from_registry
    from .judge import artifact_changed, builtin_version_checks, stage_changes
    from .policy import Candidate
    from .training import train
    from .trend import points as trend_points

    loaded = ws.models[affected.name]
    model = loaded.record
    checks = checks_by_dataset[model.data.dataset]
    rules = judge.rules
    result = train(ws, affected.name, timeout_minutes=rules.config.training.timeout_minutes)
    before = base_model(repo, the_plan.merge_base, affected.name)
    # who judges comes from the base branch's tip: the pull request cannot name its owners
    same = the_plan.base == the_plan.merge_base
    tip = before if same else base_model(repo, the_plan.base, affected.name)
    owners = list(tip.record.owners) if tip is not None else None
    judge = replace(judge, owners=owners)
    reasons = list(affected.reasons)
    if owners is not None and owners != list(model.owners):
        reasons.append(
            f"owners change from {', '.join(owners)} to {', '.join(model.owners)}; the change "
            "takes effect after merge (approvals now count the base branch's owners)"
        )
    order = rules.config.stage_names
    base_version = before.record.version if before else None
    changed_artifact = artifact_changed(
        repo,
        history,
        before.record if before else None,
        model,
        the_plan.merge_base,
        the_plan.head,
        artifact_sha256=result.artifact_sha256,
        data_sha256=result.data_sha256,
    )
    changes = stage_changes(
        before.record if before else None,
        model,
        order,
        rebuilt=bool(changed_artifact) and base_version == model.version,
    )
    candidate = Candidate.from_run(
        loaded,
        result,
        checks,
        history=history,
        stages=order,
        base_version=base_version,
        changed_artifact=changed_artifact,
    )
    verdicts: list[Verdict] = builtin_version_checks(
        loaded,
        base_version=base_version,
        changed_artifact=bool(changed_artifact),
        history=history,
        artifact_sha256=result.artifact_sha256,
        data_sha256=result.data_sha256,
    )
    judged = judge.changes(
        repo, loaded, changes, candidate=candidate, history=history, base_ref=the_plan.base
    )
    shown: Any = None
    for j in judged:
        verdicts += j.verdicts
        if shown is None and j.version == model.version:
            # the report's baseline: what the registry holds in the target stage,
            # whether or not a no_regression rule names that stage
            shown = from_registry(history, j.change.stage) or next(iter(j.baselines.values()), None)
    from .reportdata import BaselineRef, Hashes, MetricRow, ModelReport

    return ModelReport(
        name=affected.name,
        status=affected.status,
        version=model.version,
        stage="; ".join(c.describe() for c in changes) or _stages_text(model.stages),
        stages=dict(model.stages),
        reasons=tuple(reasons),
        judged_owners=tuple(owners) if owners is not None else None,
        base_version=base_version,
        metrics=tuple(
            MetricRow(
                name=name,
                baseline=shown.metrics.get(name) if shown else None,
                candidate=result.metrics.get(name),
                primary=name == model.evaluation.primary,
            )
            for name in model.evaluation.metrics
        ),
        baseline=BaselineRef(shown.version, shown.stage, shown.source) if shown else None,
        slices=result.slice_metrics,
        data_checks=checks.to_dict(),
        verdicts=tuple(verdicts),
        hashes=Hashes(
            data_sha256=result.data_sha256,
            suite_sha256=result.suite_sha256,
            artifact_sha256=result.artifact_sha256,
            manifest_digest=result.manifest_digest,
        ),
        artifact_bytes=result.artifact_bytes,
        versions=dict(result.versions),
        cached=result.cached,
        key=result.key,
        trend=tuple(
            trend_points(
                history,
                # the stage this change moves (the last one named), else the first it asks for
                changes[-1].stage if changes else next(iter(model.stages), None),
                model.evaluation.primary,
                model.version,
                result.metrics.get(model.evaluation.primary),
            )
        ),
    )


def _stages_text(stages: Mapping[str, str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in stages.items()) or "none"


def default_base(repo: Path) -> str:
    """The base of a pull request when `--base` is not given: the default branch as the
    BASE says it, never as the pull request's own modelward.yaml does (a pull request
    must not choose the branch, and so the policies, that judge it).

    The remote's default branch (`origin/HEAD`) is asked first, else `main`; the
    modelward.yaml committed there names the default branch (`origin/<branch>` when
    fetched). Only a repository with neither reads it from HEAD, as a last resort."""
    repo = git.toplevel(Path(repo))
    symref = git.run(
        repo, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False
    ).strip()
    start = symref.removeprefix("refs/remotes/origin/") if symref else "main"
    trusted = next((r for r in (f"origin/{start}", start) if _exists(repo, r)), None)
    branch = _configured_branch(repo, trusted or "HEAD") or start
    return f"origin/{branch}" if _exists(repo, f"origin/{branch}") else branch


def _exists(repo: Path, ref: str) -> bool:
    out = git.run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return bool(out.strip())


def _configured_branch(repo: Path, ref: str) -> str | None:
    raw = git.read_blobs(repo, git.rev_parse(repo, ref), [CONFIG_FILE]).get(CONFIG_FILE)
    if raw is None:
        return None
    doc = load_bytes(raw, CONFIG_FILE)
    value = doc.data.get("default_branch") if isinstance(doc.data, dict) else None
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidInput(
            [doc.problem(("default_branch",), f"expected a branch name (got {value!r})")]
        )
    return value
