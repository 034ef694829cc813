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

from . import registry
from .hashing import file_sha256
from .manifest import Config, Model, Policy, Waivers
from .policy import Approvals, Candidate, Verdict, re_evaluate_approvals
from .workspace import Loaded


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


def training_digest(model: Model) -> str:
    """The digest of what decides the artifact (not version, stages, owners or card)."""
    from .hashing import canonical_hash

    return canonical_hash(
        model.model_dump(mode="json", include={"task", "data", "model", "evaluation"})
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
    from .policy import CONFIG_POLICY, RULE_LOCS

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
    registered evidence records. The training inputs decide when the tag records them (a
    retrain on another machine need not give the same bytes); else the artifact's bytes."""
    if ev.training_digest and ev.data_sha256:
        return training_digest(model) != ev.training_digest or data_sha256 != ev.data_sha256
    return bool(ev.artifact_sha256) and artifact_sha256 != ev.artifact_sha256


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
    for event in history.events:
        if event.kind == "register" and event.version == version and event.evidence:
            return event.evidence
    return None


def judge_removal(
    loaded: Loaded[Model],
    stage: str,
    *,
    config: Config,
    policies: Mapping[str, Loaded[Policy]],
    waivers: Loaded[Waivers] | None,
    approvals: Approvals,
    today: dt.date,
    owners: Sequence[str] | None = None,
) -> list[Verdict]:
    """The verdicts of taking the model out of `stage`: that stage's approvals rules."""
    return re_evaluate_approvals(
        [],
        model=loaded,
        config=config,
        policies=policies,
        waivers=waivers,
        approvals=approvals,
        today=today,
        target_stage=stage,
        owners=owners,
    )


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
