"""One judging path: what a change asks of each stage, and the candidate each stage judges.

The pull-request flow, the promotion and audit's re-check all ask the same questions:
which entries of a manifest's `stages:` map changed, which version each changed stage
now asks for, and what that version looks like to the policies. A stage may ask for the
manifest's own version (trained from the commit) or for an older registered version
(judged from its registered evidence, never retrained). A removed entry is judged by the
approvals rules of that stage only: taking a model out of production needs production's
approvals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import registry
from .hashing import file_sha256
from .manifest import Config, Model, training_digest
from .policy import (
    CONFIG_POLICY,
    RULE_LOCS,
    Approvals,
    Baseline,
    Candidate,
    Verdict,
    evaluate,
    evaluate_governance,
    re_evaluate_approvals,
)
from .workspace import Loaded

if TYPE_CHECKING:
    from .forge.base import PullRequest
    from .governance import Governance


@dataclass(frozen=True)
class StageChange:
    """One entry of the stage map that differs between the base and the merged manifest."""

    stage: str
    before: str | None
    """The version the base's manifest asked for in this stage (None: no entry)."""
    after: str | None
    """The version this manifest asks for (None: the entry was removed, an unassignment)."""

    @property
    def removal(self) -> bool:
        return self.after is None

    def describe(self) -> str:
        if self.after is None:
            return f"{self.stage}: {self.before} removed"
        if self.before is None:
            return f"{self.stage}: {self.after}"
        return f"{self.stage}: {self.before} -> {self.after}"


def stage_changes(
    old: Model | None, new: Model | None, order: Sequence[str] = (), *, rebuilt: bool = False
) -> list[StageChange]:
    """Every stage whose entry was added, moved or removed, in the stage order of
    modelward.yaml (stages it does not know come last, by name). With `rebuilt` (the
    artifact of an unchanged version changed), the stages that keep asking for the
    manifest's version are changes too: what they would serve is new."""
    before = dict(old.stages) if old is not None else {}
    after = dict(new.stages) if new is not None else {}
    names = [s for s in order if s in before or s in after]
    names += sorted((set(before) | set(after)) - set(names))
    version = new.version if new is not None else None
    return [
        StageChange(s, before.get(s), after.get(s))
        for s in names
        if before.get(s) != after.get(s) or (rebuilt and after.get(s) == version)
    ]


@dataclass(frozen=True)
class StageJudgement:
    """One changed stage, judged: the version it now holds and the verdicts of moving it."""

    change: StageChange
    version: str | None
    """The version judged for the stage (None: a removal, or a version that cannot be
    assigned because it was never registered)."""
    verdicts: tuple[Verdict, ...]
    baselines: Mapping[str, Baseline]
    """The baselines the no_regression rules compared with, per stage."""


@dataclass(frozen=True)
class Judge:
    """Who judges and by which rules: the base branch's policies, waivers and config, the
    approvals the forge vouches for, the base's owners of the model, and the day.

    `pr`, `promote` and audit's re-check each build one and ask it the same questions,
    so a change that passed review passes at promote on the same evidence, and an
    auditor's re-check reaches the same verdicts from the tag's evidence."""

    rules: Governance
    approvals: Approvals
    today: dt.date
    owners: Sequence[str] | None = None
    """The owners whose approvals count (the base's manifest's); None for a new model."""

    def stage(
        self, candidate: Candidate, stage: str, baselines: Mapping[str, Baseline]
    ) -> list[Verdict]:
        """The verdicts of `candidate` moving into `stage`, compared with `baselines`."""
        return evaluate(
            candidate,
            config=self.rules.config,
            policies=self.rules.policies,
            waivers=self.rules.waivers,
            baseline=next(iter(baselines.values()), None),
            baselines=baselines,
            approvals=self.approvals,
            today=self.today,
            target_stage=stage,
            owners=self.owners,
        )

    def removal(self, loaded: Loaded[Model], stage: str) -> list[Verdict]:
        """The verdicts of taking the model out of `stage`: that stage's approvals rules
        (nothing else of the stage's policies judges a version leaving it)."""
        return self.reapprove([], loaded, stage)

    def reapprove(
        self, stored: Sequence[Mapping[str, Any]], loaded: Loaded[Model], stage: str
    ) -> list[Verdict]:
        """Stored verdicts of one stage with only the approvals judged again (a review)."""
        return re_evaluate_approvals(
            stored,
            model=loaded,
            config=self.rules.config,
            policies=self.rules.policies,
            waivers=self.rules.waivers,
            approvals=self.approvals,
            today=self.today,
            target_stage=stage,
            owners=self.owners,
        )

    def governance(self, files: Sequence[str]) -> list[Verdict]:
        """The governance verdict of a change to policies/, modelward.yaml or .github/."""
        a = self.approvals
        return evaluate_governance(
            files,
            self.rules.config,
            a.author,
            a.approvers,
            teams=a.teams,
            unreadable_teams=a.unreadable_teams,
            changes_requested=a.changes_requested,
        )

    def changes(
        self,
        repo: Path,
        loaded: Loaded[Model],
        changes: Sequence[StageChange],
        *,
        candidate: Candidate | None,
        history: registry.ModelHistory | None,
        base_ref: str,
    ) -> list[StageJudgement]:
        """Every changed entry of the stage map judged by that stage's policies: the
        manifest's own version as `candidate` (compared with the registered version of
        each no_regression stage, else the base branch's model), an older registered
        version from its evidence (never retrained), a removal by the stage's approvals."""
        from .baseline import for_candidate, registered

        model = loaded.record
        order = self.rules.config.stage_names
        out: list[StageJudgement] = []
        for c in changes:
            if c.after is None:
                out.append(StageJudgement(c, None, tuple(self.removal(loaded, c.stage)), {}))
                continue
            if c.after == model.version:
                if candidate is None:
                    raise ValueError(f"stage {c.stage} asks for {c.after}, which was not trained")
                judged: Candidate | None = candidate
                baselines = for_candidate(repo, history, model, self.rules, base_ref, c.stage)
            else:
                judged = registered_candidate(repo, loaded, history, c.after, order)
                baselines = registered(history, model, self.rules, c.stage)
            if judged is None:
                out.append(StageJudgement(c, None, (unassignable(loaded, c, model.version),), {}))
                continue
            out.append(
                StageJudgement(c, c.after, tuple(self.stage(judged, c.stage, baselines)), baselines)
            )
        return out


def unassignable(loaded: Loaded[Model], change: StageChange, version: str) -> Verdict:
    """A stage that asks for a version this manifest does not build and nobody registered."""
    return Verdict(
        CONFIG_POLICY,
        "stages",
        "fail",
        "block",
        f"stages.{change.stage} asks for {change.after}, which is neither this manifest's "
        f"version ({version}) nor a registered version",
        loaded.doc.path,
        loaded.doc.line((*RULE_LOCS["promotes_from"], change.stage)),
        stage=change.stage,
    )


def approvals_of(
    pr: PullRequest | None,
    config: Config,
    *,
    local: bool,
    codeowners: tuple[Any, ...] = (),
    teams: Mapping[str, frozenset[str]] | None = None,
) -> Approvals:
    """The approvals a judge counts: the forge's facts about the pull request (none when
    there is no trusted one). The local forge reads no team membership itself, so
    modelward.yaml's `local.teams` (the base's) stands in for it there, and only there."""
    known = {**(config.local_teams() if local else {}), **(teams or {})}
    if pr is None:
        return Approvals(teams=known, codeowners=codeowners)
    return Approvals(
        author=pr.author,
        approvers=pr.approvers,
        teams={**known, **pr.teams},
        codeowners=codeowners,
        unreadable_teams=pr.unreadable_teams,
        changes_requested=pr.changes_requested,
    )


def builtin_version_checks(
    loaded: Loaded[Model],
    *,
    base_version: str | None,
    changed_artifact: bool,
    history: registry.ModelHistory | None,
    artifact_sha256: str | None,
    data_sha256: str | None,
) -> list[Verdict]:
    """The version rules no policy can switch off, like stage order: an artifact that
    changed needs a new version, and a version once registered keeps its artifact
    forever (across deleted and re-added models, and every branch)."""
    model = loaded.record
    line = loaded.doc.line(RULE_LOCS["version_bump"])
    out: list[Verdict] = []
    if base_version == model.version and changed_artifact:
        out.append(
            Verdict(
                CONFIG_POLICY,
                "version_bump",
                "fail",
                "block",
                f"the artifact changed but version stays {model.version}; bump it",
                loaded.doc.path,
                line,
            )
        )
    ev = registration_evidence(history, model.version) if history is not None else None
    if ev is not None and another_artifact(ev, model, artifact_sha256, data_sha256):
        out.append(
            Verdict(
                CONFIG_POLICY,
                IMMUTABLE_RULE,
                "fail",
                "block",
                f"version {model.version} is registered with another artifact "
                f"({(ev.artifact_sha256 or '?')[:12]}); a registered version never changes: "
                "bump the version",
                loaded.doc.path,
                line,
            )
        )
    return out


IMMUTABLE_RULE = "immutable_version"


def another_artifact(
    ev: registry.Evidence, model: Model, artifact_sha256: str | None, data_sha256: str | None
) -> bool:
    """Whether `model` (trained on data `data_sha256`) builds another artifact than the
    registered evidence records (unknown counts as another: a registered version is only
    re-registered when it provably builds the same artifact)."""
    differs = _differs(ev, model, artifact_sha256, data_sha256)
    return bool(ev.artifact_sha256) if differs is None else differs


def _differs(
    ev: registry.Evidence, model: Model, artifact_sha256: str | None, data_sha256: str | None
) -> bool | None:
    """The one comparison of an artifact with a registered one. The training inputs decide
    when the tag records them (a retrain on another machine need not give the same bytes);
    else the artifact's bytes; None when neither side has what the other records."""
    if ev.training_digest and ev.data_sha256 and data_sha256:
        return training_digest(model) != ev.training_digest or data_sha256 != ev.data_sha256
    if ev.artifact_sha256 and artifact_sha256:
        return artifact_sha256 != ev.artifact_sha256
    return None


def artifact_changed(
    repo: Path,
    history: registry.ModelHistory | None,
    old: Model | None,
    new: Model,
    base_ref: str,
    head_ref: str,
    *,
    artifact_sha256: str | None = None,
    data_sha256: str | None = None,
) -> bool | None:
    """Whether the manifest at `head_ref` builds another artifact than the base's version:
    the one answer `pr`, `promote` (version_bump and the unbumped-bypass check) and audit's
    re-check share. Changed when what trains the model differs between the two commits
    (its manifest's training fields, the dataset's file and how it is read; not the
    expectations, which judge the data but do not shape the model), or when the base's
    version is registered with evidence of another artifact (a version changed behind
    the registry's back stays changed). None for a new model (nothing to compare with)."""
    from .baseline import inputs_changed

    if old is None:
        return None
    if inputs_changed(repo, base_ref, head_ref, old, new):
        return True
    ev = registration_evidence(history, old.version) if history is not None else None
    return bool(ev is not None and _differs(ev, new, artifact_sha256, data_sha256))


def registered_candidate(
    repo: Path,
    loaded: Loaded[Model],
    history: registry.ModelHistory | None,
    version: str,
    stages: Sequence[str],
) -> Candidate | None:
    """An older registered version as the policies see it, from its registration tag's
    evidence (metrics, slice metrics, artifact, data-check outcome). None when the version
    was never registered with evidence."""
    if history is None:
        return None
    ev = registration_evidence(history, version)
    if ev is None:
        return None
    return Candidate(
        model=loaded,
        metrics=dict(ev.metrics),
        slice_metrics={
            column: {value: {"n": 0, "metrics": dict(scores)} for value, scores in vals.items()}
            for column, vals in ev.slice_metrics.items()
        },
        artifact_sha256=ev.artifact_sha256,
        artifact_bytes=artifact_bytes(repo, ev),
        data_checks_passed=recorded_data_checks(ev),
        changed_artifact=False,
        base_version=version,
        stage_history=frozenset(s for s in stages if history.was_in_stage(version, s)),
        version=version,
    )


def registration_evidence(history: registry.ModelHistory, version: str) -> registry.Evidence | None:
    """The evidence of the registration tag of `version` (the first one that has any)."""
    return history.registration_evidence(version)


def artifact_bytes(repo: Path, ev: registry.Evidence) -> int | None:
    """The stored artifact's size, when it is in the repository and its hash matches."""
    from .workspace import OutsideRepository, resolve_inside

    location = ev.artifact_location
    if not location or not ev.artifact_sha256 or "://" in location:
        return None
    try:
        path = resolve_inside(repo, repo / location)
    except OutsideRepository:
        return None
    if not path.is_file() or file_sha256(path) != ev.artifact_sha256:
        return None
    return path.stat().st_size


def recorded_data_checks(ev: registry.Evidence) -> bool | None:
    """The data-check outcome the evidence records (None: it records none)."""
    outcomes = [v.outcome for v in ev.verdicts if v.rule == "data_checks_pass"]
    if not outcomes:
        return None
    return all(o == "pass" for o in outcomes)
