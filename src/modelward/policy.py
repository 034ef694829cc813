"""The policy engine: rules of policies/*.yaml and modelward.yaml -> one verdict per rule.

A pure module. It takes plain inputs (a candidate model with its metrics, the
policies and waivers read from the pull request's *base* ref, the baseline, the
approvals, today's date) and returns verdicts; it never reads git, trains, prints
or looks at the clock. Each verdict carries its policy, its rule, a status
(pass / fail / pending), the policy's enforcement (block / warn), a reason with the
numbers, the manifest line it concerns and the waiver that covered it, if any.

Every record here is a frozen dataclass with `to_dict()` / `from_dict()` (JSON-safe),
because verdicts travel in the report's machine-readable block and in registry tags.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from .manifest import BUILTIN_STAGES, Config, Model, Policy, Rule, Waiver, Waivers, parse
from .manifest import Approvals as ApprovalsRule
from .workspace import Loaded
from .yamlio import Document, Loc

Status = Literal["pass", "fail", "pending"]
Enforcement = Literal["block", "warn"]
Effective = Literal["pass", "fail", "pending", "waived"]

CONFIG_POLICY = "modelward.yaml"
"""Policy name of the verdicts modelward.yaml itself yields (stage order, governance)."""
STAGE_ORDER_RULE = "promotes_from"
GOVERNANCE_RULE = "governance"
BYTES_PER_MB = 1_000_000
EPSILON = 1e-9
"""Slack on gap and drop comparisons, so that 0.85 - 0.80 is not 'more than 0.05'."""

# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class WaiverUse:
    """A waiver of policies/waivers.yaml that matched a failing verdict.

    `expired` waivers are reported but do not apply: the verdict still blocks.
    """

    policy: str
    rule: str
    model: str
    reason: str
    approved_by: tuple[str, ...]
    expires: dt.date
    expired: bool
    path: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "rule": self.rule,
            "model": self.model,
            "reason": self.reason,
            "approved_by": list(self.approved_by),
            "expires": self.expires.isoformat(),
            "expired": self.expired,
            "path": self.path,
            "line": self.line,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaiverUse:
        return cls(
            policy=str(data["policy"]),
            rule=str(data["rule"]),
            model=str(data["model"]),
            reason=str(data["reason"]),
            approved_by=tuple(str(a) for a in data["approved_by"]),
            expires=dt.date.fromisoformat(str(data["expires"])),
            expired=bool(data["expired"]),
            path=str(data["path"]),
            line=int(data["line"]),
        )


@dataclass(frozen=True)
class Verdict:
    """The outcome of one rule for one candidate."""

    policy: str
    """Policy name (the file stem), or `modelward.yaml` for stage order and governance."""
    rule: str
    """Rule kind, e.g. min_metric; `promotes_from` for stage order; `governance`."""
    status: Status
    """pass, fail, or pending (waiting for approvals)."""
    enforcement: Enforcement
    """block: a failure fails the commit status; warn: it is only reported."""
    reason: str
    """What was measured against what, with the numbers."""
    path: str
    """File the verdict concerns (the model manifest, or the governed file)."""
    line: int
    """1-based line in `path`, for an annotation."""
    waiver: WaiverUse | None = None
    """The waiver that matched a failing verdict (live or expired)."""
    stage: str | None = None
    """The stage whose change this verdict judges (None for governance verdicts)."""

    @property
    def waived(self) -> bool:
        return self.status != "pass" and self.waiver is not None and not self.waiver.expired

    @property
    def blocking(self) -> bool:
        """Fail or pending, enforced by `block`, and not covered by a live waiver."""
        return self.status != "pass" and self.enforcement == "block" and not self.waived

    @property
    def effective(self) -> Effective:
        """The status a reader should see: `waived` for a failure a live waiver covers."""
        return "waived" if self.waived else self.status

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "rule": self.rule,
            "status": self.status,
            "enforcement": self.enforcement,
            "reason": self.reason,
            "path": self.path,
            "line": self.line,
            "waiver": self.waiver.to_dict() if self.waiver else None,
            "stage": self.stage,
            "effective": self.effective,
            "blocking": self.blocking,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        status = str(data["status"])
        enforcement = str(data["enforcement"])
        if status not in ("pass", "fail", "pending"):
            raise ValueError(f"unknown verdict status {status!r}")
        if enforcement not in ("block", "warn"):
            raise ValueError(f"unknown enforcement {enforcement!r}")
        waiver = data.get("waiver")
        return cls(
            policy=str(data["policy"]),
            rule=str(data["rule"]),
            status=status,  # type: ignore[arg-type]
            enforcement=enforcement,  # type: ignore[arg-type]
            reason=str(data["reason"]),
            path=str(data["path"]),
            line=int(data["line"]),
            waiver=WaiverUse.from_dict(waiver) if waiver else None,
            stage=None if data.get("stage") is None else str(data["stage"]),
        )


@dataclass(frozen=True)
class Baseline:
    """What the candidate is compared with for no_regression.

    `registry`: the version registered in `stage` (its recorded metrics, no retraining);
    `base-branch`: the model as it is on the base branch, when nothing is registered.
    """

    version: str
    stage: str
    metrics: Mapping[str, float | None]
    source: Literal["registry", "base-branch"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "stage": self.stage,
            "metrics": _metrics_dict(self.metrics),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        source = str(data["source"])
        if source not in ("registry", "base-branch"):
            raise ValueError(f"unknown baseline source {source!r}")
        return cls(
            version=str(data["version"]),
            stage=str(data["stage"]),
            metrics=_metrics_dict(data["metrics"]),
            source=source,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Approvals:
    """Who opened the pull request, who approved it, and (optionally) team membership.

    `teams` maps a handle such as `@acme/risk-ds` to member logins. Without it, team
    handles in owner lists cannot be satisfied: nobody is known to be a member.
    """

    author: str | None = None
    approvers: tuple[str, ...] = ()
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)
    codeowners: tuple[Any, ...] = ()
    """The base branch's CODEOWNERS rules (codeowners.Rule), for `from: codeowners`."""
    unreadable_teams: tuple[str, ...] = ()
    """Teams the forge could not read: their members stay uncounted, and the verdict
    names the permission that would let it read them."""
    changes_requested: tuple[str, ...] = ()
    """Logins whose latest review requests changes: one who would count for a rule keeps
    that rule pending."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "author": self.author,
            "approvers": list(self.approvers),
            "teams": {k: sorted(v) for k, v in sorted(self.teams.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approvals:
        author = data.get("author")
        return cls(
            author=str(author) if author is not None else None,
            approvers=tuple(str(a) for a in data.get("approvers", ())),
            teams={str(k): frozenset(str(m) for m in v) for k, v in data.get("teams", {}).items()},
        )


@dataclass(frozen=True)
class Candidate:
    """A trained model as the policies see it; every number is computed by the caller.

    `slice_metrics`: column -> value -> {"n": rows, "metrics": {metric: value or None}}.
    `changed_artifact`: whether the artifact differs from the base branch's (see
    `judge.artifact_changed`); None when unknown. `base_version`: the manifest's version on
    the base branch, None for a new model. `stage_history`: every stage this version
    has been assigned to (from the registry).
    """

    model: Loaded[Model]
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    slice_metrics: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    artifact_sha256: str | None = None
    artifact_bytes: int | None = None
    data_checks_passed: bool | None = None
    data_check_failures: tuple[str, ...] = ()
    changed_artifact: bool | None = None
    base_version: str | None = None
    stage_history: frozenset[str] = frozenset()
    version: str | None = None
    """The version judged, when it is not the manifest's own: an older registered version
    a stage asks for (its evidence comes from the registry, nothing is retrained)."""

    @property
    def name(self) -> str:
        return self.model.record.name

    @property
    def judged_version(self) -> str:
        return self.version or self.model.record.version

    @classmethod
    def from_run(
        cls,
        model: Loaded[Model],
        result: Any,
        checks: Any,
        *,
        history: Any,
        stages: Sequence[str],
        base_version: str | None,
        changed_artifact: bool | None,
    ) -> Candidate:
        """A candidate from a training result, a data-check result and registry history
        (duck-typed, so this module stays free of the engine's imports)."""
        version = model.record.version
        return cls(
            model=model,
            metrics=result.metrics,
            slice_metrics=result.slice_metrics,
            artifact_sha256=result.artifact_sha256,
            artifact_bytes=result.artifact_bytes,
            data_checks_passed=checks.success,
            data_check_failures=checks.failure_labels(),
            changed_artifact=changed_artifact,
            base_version=base_version,
            stage_history=frozenset(
                s for s in stages if history is not None and history.was_in_stage(version, s)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        doc = self.model.doc
        return {
            "model": {
                "path": doc.path,
                "data": _json_safe(doc.data),
                "lines": [[list(loc), line] for loc, line in doc.lines.items()],
            },
            "metrics": _metrics_dict(self.metrics),
            "slice_metrics": {
                column: {
                    str(value): {
                        "n": int(entry.get("n", 0)),
                        "metrics": _metrics_dict(entry.get("metrics", {})),
                    }
                    for value, entry in values.items()
                }
                for column, values in self.slice_metrics.items()
            },
            "artifact_sha256": self.artifact_sha256,
            "artifact_bytes": self.artifact_bytes,
            "data_checks_passed": self.data_checks_passed,
            "data_check_failures": list(self.data_check_failures),
            "changed_artifact": self.changed_artifact,
            "base_version": self.base_version,
            "stage_history": sorted(self.stage_history),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        raw = data["model"]
        lines = {tuple(loc): int(line) for loc, line in raw["lines"]}
        doc = Document(str(raw["path"]), raw["data"], lines)
        return cls(
            model=Loaded(parse(doc, Model), doc),
            metrics=_metrics_dict(data.get("metrics", {})),
            slice_metrics={
                column: {
                    value: {"n": int(entry["n"]), "metrics": _metrics_dict(entry["metrics"])}
                    for value, entry in values.items()
                }
                for column, values in data.get("slice_metrics", {}).items()
            },
            artifact_sha256=data.get("artifact_sha256"),
            artifact_bytes=data.get("artifact_bytes"),
            data_checks_passed=data.get("data_checks_passed"),
            data_check_failures=tuple(data.get("data_check_failures", ())),
            changed_artifact=data.get("changed_artifact"),
            base_version=data.get("base_version"),
            stage_history=frozenset(data.get("stage_history", ())),
            version=data.get("version"),
        )


# ---------------------------------------------------------------- entry points


def evaluate(
    candidate: Candidate,
    *,
    config: Config,
    policies: Mapping[str, Loaded[Policy]],
    waivers: Loaded[Waivers] | None,
    baseline: Baseline | None,
    approvals: Approvals,
    today: dt.date,
    target_stage: str | None = None,
    baselines: Mapping[str, Baseline] | None = None,
    owners: Sequence[str] | None = None,
) -> list[Verdict]:
    """Every verdict for `candidate` moving into `target_stage` (default: its manifest's).

    `policies`, `config` and `waivers` must come from the pull request's base ref.
    The stage order of modelward.yaml comes first, then each applicable policy (by
    name) with its rules in order. `baseline` serves every no_regression rule whose
    `against` stage it belongs to (a `base-branch` baseline serves any); `baselines`
    may add one per stage.
    """
    stage = target_stage if target_stage is not None else _first_stage(candidate)
    if stage is None or stage in BUILTIN_STAGES:
        return []
    verdicts: list[Verdict] = []
    order = _stage_order(candidate, config, stage)
    if order is not None:
        verdicts.append(_waive(order, candidate.name, waivers, today))
    context = _Context(candidate, config, baseline, dict(baselines or {}), approvals, owners)
    for policy in applicable(policies, candidate.name, stage):
        for rule in policy.record.rules:
            status, reason = context.judge(rule)
            verdict = _verdict(candidate, policy.record, rule.kind, status, reason)
            verdicts.append(_waive(verdict, candidate.name, waivers, today))
    return [replace(v, stage=stage) for v in verdicts]


def _first_stage(candidate: Candidate) -> str | None:
    """The first stage of the manifest's map that asks for the judged version."""
    stages = candidate.model.record.stage_of(candidate.judged_version)
    return stages[0] if stages else None


def applicable(
    policies: Mapping[str, Loaded[Policy]], model: str, stage: str
) -> list[Loaded[Policy]]:
    """Policies whose applies_to covers this stage and model name, by name."""
    if stage in BUILTIN_STAGES:
        return []
    return [
        policies[key]
        for key in sorted(policies)
        if stage in policies[key].record.applies_to.stages
        and any(fnmatch.fnmatchcase(model, g) for g in policies[key].record.applies_to.models)
    ]


def summarize(verdicts: Iterable[Verdict]) -> Status:
    """fail if any verdict blocks with a failure; else pending if any blocks pending; else pass."""
    blocking = [v for v in verdicts if v.blocking]
    if any(v.status == "fail" for v in blocking):
        return "fail"
    if blocking:
        return "pending"
    return "pass"


def evaluate_governance(
    changed_files: Sequence[str],
    config: Config,
    author: str | None,
    approvers: Sequence[str],
    *,
    teams: Mapping[str, frozenset[str]] | None = None,
    unreadable_teams: Sequence[str] = (),
    changes_requested: Sequence[str] = (),
) -> list[Verdict]:
    """A `governance` verdict when a pull request changes policies/, modelward.yaml or .github/.

    `config` is the base ref's. The change needs one approval from governance.owners
    (logins, or members of `@org/team` owners as `teams` maps them), never the author's
    own; a governance owner's latest review requesting changes keeps it pending. Nothing governed changed -> no verdict. Without
    governance.owners in modelward.yaml nobody can approve: the verdict is a warn-level
    failure, visible but not blocking, until governance owners are configured.
    """
    governed = sorted({f.removeprefix("./") for f in changed_files if is_governed(f)})
    if not governed:
        return []
    what = ", ".join(governed)
    if config.governance is None:
        return [
            Verdict(
                CONFIG_POLICY,
                GOVERNANCE_RULE,
                "fail",
                "warn",
                f"changes to {what} are not governed: modelward.yaml names no "
                "governance.owners to approve them",
                governed[0],
                1,
            )
        ]
    tally = _tally(
        config.governance.owners,
        "governance",
        1,
        exclude_author=True,
        approvals=Approvals(
            author,
            tuple(approvers),
            dict(teams or {}),
            unreadable_teams=tuple(unreadable_teams),
            changes_requested=tuple(changes_requested),
        ),
    )
    if tally.satisfied:
        status: Status = "pass"
        reason = f"changes to {what} approved: {tally.text}"
    else:
        status = "pending"
        reason = f"changes to {what} need governance approval: {tally.text}"
    return [Verdict(CONFIG_POLICY, GOVERNANCE_RULE, status, "block", reason, governed[0], 1)]


def is_governed(path: str) -> bool:
    """policies/, modelward.yaml, .github/: one predicate, changes.is_governance_file."""
    from .changes import is_governance_file

    return is_governance_file(path)


def re_evaluate_approvals(
    verdicts: Sequence[Mapping[str, Any]],
    *,
    model: Loaded[Model],
    config: Config,
    policies: Mapping[str, Loaded[Policy]],
    waivers: Loaded[Waivers] | None,
    approvals: Approvals,
    today: dt.date,
    target_stage: str | None = None,
    owners: Sequence[str] | None = None,
) -> list[Verdict]:
    """Recompute only the approvals verdicts of a stored machine-readable block.

    For a review event: the metrics, data checks and artifacts of the stored verdicts
    stand (no retraining); each `approvals` verdict is replaced by one computed from
    the new approvals, in place. Waivers are applied again with `today`, so a waiver
    that expired since the block was stored stops covering its verdict.
    """
    candidate = Candidate(model=model)
    stage = target_stage if target_stage is not None else _first_stage(candidate)
    if stage is None:
        return [Verdict.from_dict(d) for d in verdicts]
    context = _Context(candidate, config, None, {}, approvals, owners)
    fresh: dict[str, list[Verdict]] = {}
    for policy in applicable(policies, candidate.name, stage):
        for rule in policy.record.rules:
            if rule.kind == "approvals":
                status, reason = context.judge(rule)
                verdict = _verdict(candidate, policy.record, rule.kind, status, reason)
                fresh.setdefault(policy.record.name, []).append(
                    replace(_waive(verdict, candidate.name, waivers, today), stage=stage)
                )
    out: list[Verdict] = []
    for stored in (Verdict.from_dict(d) for d in verdicts):
        if stored.rule == "approvals":
            queue = fresh.get(stored.policy)
            if queue:
                out.append(queue.pop(0))
            continue
        if stored.waiver is not None and not stored.waiver.expired:
            stored = _waive(replace(stored, waiver=None), candidate.name, waivers, today)
        out.append(stored)
    for remaining in fresh.values():
        out.extend(remaining)
    return out


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Context:
    candidate: Candidate
    config: Config
    baseline: Baseline | None
    baselines: dict[str, Baseline]
    approvals: Approvals
    owners: Sequence[str] | None = None
    """The owners whose approvals count: the BASE branch's manifest's (a pull request
    cannot name its own judges); None for the candidate's own (a new model)."""

    def judge(self, rule: Rule) -> tuple[Status, str]:
        kind = RULE_TABLE.get(rule.kind)
        if kind is None:  # the schema makes this unreachable
            raise ValueError(f"unknown rule kind {rule.kind!r}")
        return kind.judge(self, rule.value)

    @property
    def model(self) -> Model:
        return self.candidate.model.record

    def required_card_fields(self, fields: list[str]) -> tuple[Status, str]:
        card = self.model.card
        missing = [f for f in fields if not (getattr(card, f, None) or "").strip()]
        if missing:
            return "fail", f"card is missing {', '.join(missing)}"
        return "pass", f"card has {', '.join(fields)}"

    def data_checks_pass(self, required: bool) -> tuple[Status, str]:
        dataset = self.model.data.dataset
        if not required:
            return "pass", "not required (data_checks_pass: false)"
        passed = self.candidate.data_checks_passed
        if passed is None:
            return "fail", f"the data checks of dataset {dataset} did not run"
        if passed:
            return "pass", f"every expectation of dataset {dataset} passed"
        failures = self.candidate.data_check_failures
        if not failures:
            return "fail", f"dataset {dataset} failed its data checks"
        count = f"{len(failures)} expectation{'s' if len(failures) != 1 else ''}"
        return "fail", f"dataset {dataset} failed {count}: {'; '.join(failures)}"

    def min_metric(self, floors: Mapping[str, float]) -> tuple[Status, str]:
        fails: list[str] = []
        passes: list[str] = []
        for metric, floor in floors.items():
            value = _value(self.candidate.metrics, metric)
            if value is None:
                fails.append(self._no_value(metric))
            elif value < floor:
                fails.append(f"{metric} {_pair(value, floor, '<')}")
            else:
                passes.append(f"{metric} {_pair(value, floor, '>=')}")
        if fails:
            return "fail", "; ".join(fails)
        return "pass", "; ".join(passes)

    def _no_value(self, metric: str) -> str:
        if metric in self.candidate.metrics:
            return f"{metric} is undefined for this model"
        return f"{metric} was not computed (add it to evaluation.metrics)"

    def no_regression(self, rule: Any) -> tuple[Status, str]:
        metric, max_drop, against = rule.metric, rule.max_drop, rule.against
        baseline = self._baseline(against)
        if baseline is None:
            return "pass", f"no baseline: nothing registered in {against} yet"
        if baseline.source == "registry" and baseline.version == self.candidate.judged_version:
            return "pass", f"version {baseline.version} is already in {against}; nothing to compare"
        value = _value(self.candidate.metrics, metric)
        if value is None:
            return "fail", self._no_value(metric)
        before = _value(baseline.metrics, metric)
        if before is None:
            where = "on the base branch" if baseline.source == "base-branch" else f"in {against}"
            return "pass", f"no baseline {metric}: version {baseline.version} {where} has none"
        drop = before - value
        numbers = f"({_fmt(before)} -> {_fmt(value)})"
        if drop > max_drop + EPSILON:
            return "fail", f"{metric} dropped {_fmt(drop)} {numbers}, more than {_fmt(max_drop)}"
        if drop > EPSILON:
            return "pass", f"{metric} dropped {_fmt(drop)} {numbers}, within {_fmt(max_drop)}"
        if drop < -EPSILON:
            return "pass", f"{metric} rose {_fmt(-drop)} {numbers}"
        return "pass", f"{metric} unchanged {numbers}"

    def _baseline(self, against: str) -> Baseline | None:
        if against in self.baselines:
            return self.baselines[against]
        base = self.baseline
        if base is None:
            return None
        if base.source == "base-branch" or base.stage == against:
            return base
        return None

    def fairness_gap(self, rule: Any) -> tuple[Status, str]:
        metric, column, max_gap = rule.metric, rule.slice, rule.max_gap
        values = self.candidate.slice_metrics.get(column)
        if values is None:
            if column not in self.model.evaluation.slice_columns:
                return "fail", f"{column} is not among evaluation.slices, so no {metric} per slice"
            return "fail", f"{metric} per {column} was not computed"
        scored: list[tuple[float, str, int]] = []
        skipped: list[str] = []
        for name, entry in values.items():
            value = _value(entry.get("metrics", {}), metric)
            if value is None:
                skipped.append(str(name))
            else:
                scored.append((value, str(name), int(entry.get("n", 0))))
        note = f"; skipped {', '.join(sorted(skipped))} ({metric} undefined)" if skipped else ""
        if len(scored) < 2:
            if not scored and metric not in self.model.evaluation.metrics:
                return "fail", f"{metric} was not computed (add it to evaluation.metrics)"
            # a gap needs two values: a rule that cannot be evaluated fails, never passes
            return "fail", (
                f"fewer than two values of {column} have a {metric}, so the gap cannot be "
                f"evaluated{note}"
            )
        # best first; ties broken by name so the reason is stable
        best = min(scored, key=lambda s: (-s[0], s[1]))
        worst = min(scored, key=lambda s: (s[0], s[1]))
        gap = best[0] - worst[0]
        detail = (
            f"{metric} gap across {column} is {_fmt(gap)} "
            f"({best[1]} {_fmt(best[0])} n={best[2]}, {worst[1]} {_fmt(worst[0])} n={worst[2]})"
        )
        if gap > max_gap + EPSILON:
            return "fail", f"{detail}, more than {_fmt(max_gap)}{note}"
        return "pass", f"{detail}, within {_fmt(max_gap)}{note}"

    def approvals_rule(self, rule: ApprovalsRule) -> tuple[Status, str]:
        source = rule.from_
        if source == "owners":
            eligible: Sequence[str] = self.owners if self.owners is not None else self.model.owners
            label = "owners"
        elif source == "governance":
            if self.config.governance is None:
                return "fail", (
                    "approvals must come from governance, but modelward.yaml names no "
                    "governance.owners"
                )
            eligible, label = self.config.governance.owners, "governance"
        elif source == "codeowners":
            from .codeowners import owners_of

            path = self.candidate.model.doc.path
            eligible, label = owners_of(self.approvals.codeowners, path), "CODEOWNERS"
            if not eligible:
                return "fail", (
                    f"approvals must come from CODEOWNERS, but no rule of the base branch's "
                    f"CODEOWNERS covers {path}"
                )
        else:
            eligible, label = source, f"[{', '.join(source)}]"
        tally = _tally(
            eligible, label, rule.min, exclude_author=rule.exclude_author, approvals=self.approvals
        )
        return ("pass" if tally.satisfied else "pending"), tally.text

    def allowed_estimators(self, patterns: list[str]) -> tuple[Status, str]:
        estimator = self.model.model.estimator
        match = next((p for p in patterns if fnmatch.fnmatchcase(estimator, p)), None)
        if match is None:
            return "fail", f"{estimator} matches none of {', '.join(patterns)}"
        return "pass", f"{estimator} matches {match}"

    def max_artifact_mb(self, limit: float) -> tuple[Status, str]:
        size = self.candidate.artifact_bytes
        if size is None:
            return "fail", "no artifact was built, so its size is unknown"
        mb = size / BYTES_PER_MB
        if mb > limit:
            return "fail", f"artifact is {mb:.2f} MB, more than {limit:g} MB"
        return "pass", f"artifact is {mb:.2f} MB, within {limit:g} MB"

    def version_bump(self, required: bool) -> tuple[Status, str]:
        if not required:
            return "pass", "not required (version_bump: false)"
        version, base = self.model.version, self.candidate.base_version
        if base is None:
            return "pass", "new model: no version on the base branch"
        if version != base:
            return "pass", f"version {base} -> {version}"
        changed = self.candidate.changed_artifact
        if changed is None:
            return "fail", (
                f"cannot tell whether the artifact changed since the base branch; "
                f"version stays {version}"
            )
        if changed:
            return "fail", f"the artifact changed but version stays {version}; bump it"
        return "pass", f"artifact unchanged; version stays {version}"


# ---------------------------------------------------------------- the rule table

Evidence = Literal[
    "metrics",
    "slice_metrics",
    "data_checks",
    "artifact_bytes",
    "changed_artifact",
    "approvals",
    "baseline",
    "card",
    "estimator",
]
"""What a verdict rests on. `audit --verify` re-judges a promotion from its tag, and says
which of these the tag (or this clone) lacks instead of calling the rule failed:
metrics, slice_metrics, data_checks (the recorded outcome) and approvals (who approved;
team membership is not recorded) come from the tag; artifact_bytes from the stored
artifact; baseline from earlier tags (the metrics registered in a stage) or this one (the
base branch's model it recorded); card and estimator from the manifest at the merge
commit, and changed_artifact from the training inputs of the merge and its base
(judge.artifact_changed), which git always has."""

EVIDENCE: tuple[Evidence, ...] = get_args(Evidence)


@dataclass(frozen=True)
class RuleKind:
    """One kind of policy rule, in one place: how it is judged, the manifest line its
    verdict points at, and the evidence a re-check needs. A new kind is a field of
    manifest.Rule, a judge function and a row of RULE_TABLE."""

    name: str
    """The key in a policy's `rules:` list (a field of manifest.Rule)."""
    judges: str
    """What it judges, in a line (the reference's table in docs/policy.md shows it)."""
    judge: Callable[[_Context, Any], tuple[Status, str]]
    """(context, the rule's value) -> status and reason."""
    loc: Loc
    """Key path in models/NAME/model.yaml that the verdict's line points at."""
    evidence: tuple[Evidence, ...]
    """What the verdict rests on, in the order a re-check reports the first gap."""


def _kinds(*kinds: RuleKind) -> dict[str, RuleKind]:
    return {k.name: k for k in kinds}


RULE_TABLE: Mapping[str, RuleKind] = _kinds(
    RuleKind(
        "required_card_fields",
        "the named model card fields are filled in",
        _Context.required_card_fields,
        ("card",),
        ("card",),
    ),
    RuleKind(
        "data_checks_pass",
        "every expectation of the model's dataset passed",
        _Context.data_checks_pass,
        ("data", "dataset"),
        ("data_checks",),
    ),
    RuleKind(
        "min_metric",
        "each metric reaches its floor",
        _Context.min_metric,
        ("evaluation", "metrics"),
        ("metrics",),
    ),
    RuleKind(
        "no_regression",
        "a metric drops at most max_drop against the version in a stage",
        _Context.no_regression,
        ("evaluation", "metrics"),
        ("metrics", "baseline"),
    ),
    RuleKind(
        "fairness_gap",
        "a metric's spread across a slice column's values is at most max_gap",
        _Context.fairness_gap,
        ("evaluation", "slices"),
        ("slice_metrics",),
    ),
    RuleKind(
        "approvals",
        "enough eligible people approved the pull request",
        _Context.approvals_rule,
        ("owners",),
        ("approvals",),
    ),
    RuleKind(
        "allowed_estimators",
        "the estimator's import path matches a glob",
        _Context.allowed_estimators,
        ("model", "estimator"),
        ("estimator",),
    ),
    RuleKind(
        "max_artifact_mb",
        "the artifact is at most this many megabytes",
        _Context.max_artifact_mb,
        ("model",),
        ("artifact_bytes",),
    ),
    RuleKind(
        "version_bump",
        "a changed artifact has a new version",
        _Context.version_bump,
        ("version",),
        ("changed_artifact",),
    ),
)
"""Every policy rule kind, by name: exactly the fields of manifest.Rule (a test checks)."""


@dataclass(frozen=True)
class BuiltinRule:
    """A rule no policy lists and none can switch off; its verdicts' policy is
    `modelward.yaml`. Judged by the flows (stage order here, the version checks in
    judge.builtin_version_checks, governance in evaluate_governance)."""

    name: str
    judges: str
    loc: Loc | None
    """Key path in the manifest; None when the verdict points at the governed file."""


BUILTIN_RULES: Mapping[str, BuiltinRule] = {
    b.name: b
    for b in (
        BuiltinRule(
            STAGE_ORDER_RULE,
            "a version enters the stage only after the stage it promotes from",
            ("stages",),  # the verdict points at the stage's own entry: ("stages", STAGE)
        ),
        BuiltinRule(
            "version_bump",
            "a changed artifact has a new version, whatever the policies",
            ("version",),
        ),
        BuiltinRule(
            "immutable_version",  # judge.IMMUTABLE_RULE
            "a registered version keeps its artifact forever",
            ("version",),
        ),
        BuiltinRule(
            GOVERNANCE_RULE,
            "a change to policies/, modelward.yaml or .github/ has governance approval",
            None,
        ),
    )
}

RULE_LOCS: Mapping[str, Loc] = {
    **{b.name: b.loc for b in BUILTIN_RULES.values() if b.loc is not None},
    **{k.name: k.loc for k in RULE_TABLE.values()},
}
"""The manifest line each rule concerns (a key path in models/NAME/model.yaml): a view
of RULE_TABLE and BUILTIN_RULES."""


def _stage_order(candidate: Candidate, config: Config, stage: str) -> Verdict | None:
    spec = config.stage(stage)
    if spec is None or spec.promotes_from is None:
        return None
    before = spec.promotes_from
    version = candidate.judged_version
    if before in candidate.stage_history:
        status: Status = "pass"
        reason = f"version {version} was in {before} before {stage}"
    else:
        status = "fail"
        reason = f"version {version} has never been in {before}; {stage} takes only versions from {before}"
    doc = candidate.model.doc
    return Verdict(
        CONFIG_POLICY,
        STAGE_ORDER_RULE,
        status,
        "block",
        reason,
        doc.path,
        doc.line((*RULE_LOCS[STAGE_ORDER_RULE], stage)),
    )


def _verdict(
    candidate: Candidate, policy: Policy, kind: str, status: Status, reason: str
) -> Verdict:
    doc = candidate.model.doc
    return Verdict(
        policy.name, kind, status, policy.enforcement, reason, doc.path, doc.line(RULE_LOCS[kind])
    )


# ---------------------------------------------------------------- approvals


@dataclass(frozen=True)
class _Tally:
    satisfied: bool
    text: str


def _tally(
    eligible: Sequence[str],
    label: str,
    needed: int,
    *,
    exclude_author: bool,
    approvals: Approvals,
) -> _Tally:
    """Count distinct approvers who are in `eligible` (directly or through a known team).

    A latest review requesting changes from someone who would count (eligible, and not
    the excluded author) keeps the tally unsatisfied however many approved; one from
    anyone else does not."""
    logins = {_norm(e) for e in eligible if not _is_team(e)}
    teams = {_norm(k): {_norm(m) for m in v} for k, v in approvals.teams.items()}
    handles = [_norm(e) for e in eligible if _is_team(e)]
    unknown_teams = [e for e in eligible if _is_team(e) and _norm(e) not in teams]
    unreadable = {_norm(t) for t in approvals.unreadable_teams}
    author = _norm(approvals.author) if approvals.author else None

    def counts(who: str) -> bool:
        return who in logins or any(who in teams.get(h, ()) for h in handles)

    objecting = [
        raw.strip().lstrip("@")
        for raw in dict.fromkeys(approvals.changes_requested)
        if counts(_norm(raw)) and not (exclude_author and _norm(raw) == author)
    ]

    counted: list[str] = []
    seen: set[str] = set()
    author_approved = False
    ignored: list[str] = []
    for raw in approvals.approvers:
        who = _norm(raw)
        if not who or who in seen:
            continue
        seen.add(who)
        shown = raw.strip().lstrip("@")
        if exclude_author and who == author:
            author_approved = True
            continue
        if counts(who):
            counted.append(shown)
        else:
            ignored.append(shown)

    satisfied = len(counted) >= needed and not objecting
    text = f"{len(counted)} approval{'' if len(counted) == 1 else 's'} ({needed} required) from {label}"
    if counted:
        text += f" ({', '.join(counted)})"
    notes = []
    if objecting:
        notes.append(f"changes requested by {', '.join(objecting)} (latest review)")
    if author_approved:
        notes.append("the author's own approval does not count")
    if ignored and not satisfied:
        why = f"not among the known {label}" if unknown_teams else f"not in {label}"
        notes.append(f"not counted: {', '.join(ignored)} ({why})")
    if unknown_teams and not satisfied:
        which = ", ".join(unknown_teams)
        notes.append(f"membership of {which} is unknown, so its members cannot be counted")
        if any(_norm(t) in unreadable for t in unknown_teams):
            from .forge.base import TEAM_PERMISSION

            notes.append(TEAM_PERMISSION)
    return _Tally(satisfied, "; ".join([text, *notes]))


def _norm(login: str) -> str:
    return login.strip().lstrip("@").lower()


def _is_team(handle: str) -> bool:
    return "/" in handle


# ---------------------------------------------------------------- waivers


def _waive(
    verdict: Verdict, model: str, waivers: Loaded[Waivers] | None, today: dt.date
) -> Verdict:
    """Attach the waiver that matches a non-passing verdict: a live one if any."""
    if verdict.status == "pass" or waivers is None:
        return verdict
    matches = [
        (i, w)
        for i, w in enumerate(waivers.record.waivers)
        if w.policy == verdict.policy
        and w.rule == verdict.rule
        and fnmatch.fnmatchcase(model, w.model)
    ]
    if not matches:
        return verdict
    # a live waiver wins; among equals the one that lasts longest, then the first written
    i, chosen = max(matches, key=lambda m: (m[1].live(today), m[1].expires, -m[0]))
    use = _use(chosen, waivers.doc.path, waivers.doc.line(("waivers", i)), today)
    reason = verdict.reason
    if use.expired:
        reason += f"; waiver expired {use.expires.isoformat()} ({use.path}:{use.line})"
    return replace(verdict, reason=reason, waiver=use)


def _use(waiver: Waiver, path: str, line: int, today: dt.date) -> WaiverUse:
    return WaiverUse(
        policy=waiver.policy,
        rule=waiver.rule,
        model=waiver.model,
        reason=waiver.reason,
        approved_by=tuple(waiver.approved_by),
        expires=waiver.expires,
        expired=not waiver.live(today),
        path=path,
        line=line,
    )


# ---------------------------------------------------------------- numbers


def _value(metrics: Mapping[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _pair(value: float, bound: float, op: str) -> str:
    """`0.7712 < 0.8000`, with more digits when four would print two equal numbers."""
    digits = 4
    while digits < 10 and _fmt(value, digits) == _fmt(bound, digits) and value != bound:
        digits += 2
    return f"{_fmt(value, digits)} {op} {_fmt(bound, digits)}"


def _metrics_dict(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    return {str(k): _value(metrics, k) for k in metrics}


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
