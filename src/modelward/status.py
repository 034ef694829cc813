"""Desired state (the manifests) against actual state (the registry tags), per model.

Desired is what the checkout's `models/*/model.yaml` say, validated with `workspace.load`
(through desired.py, which remembers a checkout that validated, by its bytes):
run `modelward status` on a checkout of the default branch (as the scheduled and
on-merge workflows do) and it compares the default branch with the registry. Using the
working tree keeps line-accurate validation errors and lets a user preview a branch.
Actual is derived from the tags (registry.read): the version currently in each stage.
Like Argo CD, a model is Synced or OutOfSync, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry
from .desired import desired


@dataclass(frozen=True)
class ModelStatus:
    model: str
    desired_version: str | None
    """The version the manifest builds; None when the registry knows a model that has no
    manifest."""
    desired_stages: dict[str, str] = field(default_factory=dict)
    """stage -> version the manifest's `stages:` map asks for."""
    actual: dict[str, str] = field(default_factory=dict)
    """stage -> version currently there, from the tags."""
    synced: bool = False
    reason: str = ""

    @property
    def state(self) -> str:
        return "Synced" if self.synced else "OutOfSync"

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "status": self.state,
            "desired": {"version": self.desired_version, "stages": dict(self.desired_stages)},
            "actual": dict(self.actual),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StatusReport:
    models: list[ModelStatus]

    @property
    def synced(self) -> bool:
        return all(m.synced for m in self.models)

    def as_dict(self) -> dict[str, Any]:
        return {"synced": self.synced, "models": [m.as_dict() for m in self.models]}


def status(repo: Path) -> StatusReport:
    """Compare every manifest with the registry. Raises InvalidInput for broken manifests."""
    models = desired(Path(repo))
    reg = registry.read(Path(repo))
    out = []
    for name, model in sorted(models.items()):
        history = reg.history(name)
        registered = history.registration_evidence(model.version)
        # compared only when a tag recorded a digest (one made by hand may have none)
        digest = model.training_digest if registered and registered.training_digest else None
        out.append(compare(name, model.version, model.stages, history, digest))
    for name, history in reg.models.items():
        if name not in models:
            out.append(_without_manifest(name, history))
    return StatusReport(sorted(out, key=lambda s: s.model))


def compare(
    name: str,
    version: str,
    stages: Mapping[str, str],
    history: registry.ModelHistory,
    digest: str | None = None,
) -> ModelStatus:
    """The status of one model whose manifest asks for `stages` (stage -> version).

    Every stage is compared: one the manifest asks for must hold that version, put there
    by a tag that carries modelward's evidence (a hand-made or evidence-less tag is not
    the desired state, even with the right version), and a stage the manifest does not
    ask for must hold nothing."""
    actual = history.stage_versions()
    problems: list[str] = []
    registered = history.registration_evidence(version)
    if digest and registered is not None and registered.training_digest not in (None, digest):
        # a merge changed what the manifest trains without bumping the version
        problems.append(f"the manifest builds a different artifact than registered {version}")
    for stage, wanted in stages.items():
        info = history.versions.get(wanted)
        current = actual.get(stage)
        if info is None:
            problems.append(f"desired {wanted} in {stage}, but version {wanted} is not registered")
        elif not info.registered:
            problems.append(f"desired {wanted} in {stage}, but version {wanted} was deregistered")
        elif current is None:
            problems.append(f"desired {wanted} in {stage}, registry has nothing there")
        elif current != wanted:
            problems.append(f"desired {wanted} in {stage}, registry has {current} there")
        else:
            last = _last_assignment(history, stage)
            if last is not None and last.evidence is None:
                problems.append(
                    f"{wanted} in {stage} was put there by {last.tag}, a tag without "
                    "modelward's evidence (made by hand or by another tool)"
                )
    for stage, held in sorted(actual.items()):
        if stage not in stages:
            problems.append(f"registry has {held} in {stage}, which the manifest does not ask for")
    if problems:
        return ModelStatus(name, version, dict(stages), actual, False, "; ".join(problems))
    if not stages:
        return ModelStatus(name, version, {}, actual, True, "no stage desired and none assigned")
    held_text = ", ".join(f"{v} in {s}" for s, v in stages.items())
    return ModelStatus(name, version, dict(stages), actual, True, held_text)


def _last_assignment(history: registry.ModelHistory, stage: str) -> registry.Event | None:
    found = [e for e in history.events if e.kind == "assign" and e.stage == stage]
    return found[-1] if found else None


def _without_manifest(name: str, history: registry.ModelHistory) -> ModelStatus:
    actual = history.stage_versions()
    if not actual:
        return ModelStatus(name, None, {}, actual, True, "no manifest and nothing assigned")
    return ModelStatus(
        name, None, {}, actual, False, f"no manifest in models/, registry has {_holdings(actual)}"
    )


def _holdings(actual: dict[str, str]) -> str:
    return ", ".join(f"{v} in {s}" for s, v in sorted(actual.items()))
