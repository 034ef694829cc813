"""Desired state (the manifests) against actual state (the registry tags), per model.

Desired is what the checkout's `models/*/model.yaml` say, read with `workspace.load`:
run `modelward status` on a checkout of the default branch (as the scheduled and
on-merge workflows do) and it compares the default branch with the registry. Using the
working tree keeps line-accurate validation errors and lets a user preview a branch.
Actual is derived from the tags (registry.read): the version currently in each stage.
Like Argo CD, a model is Synced or OutOfSync, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry, workspace


@dataclass(frozen=True)
class ModelStatus:
    model: str
    desired_version: str | None
    """None when the registry knows a model that has no manifest."""
    desired_stage: str | None
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
            "desired": {"version": self.desired_version, "stage": self.desired_stage},
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
    ws = workspace.load(Path(repo))
    reg = registry.read(Path(repo))
    out = []
    for name, loaded in sorted(ws.models.items()):
        model = loaded.record
        out.append(compare(name, model.version, model.stage, reg.history(name)))
    for name, history in reg.models.items():
        if name not in ws.models:
            out.append(_without_manifest(name, history))
    return StatusReport(sorted(out, key=lambda s: s.model))


def compare(name: str, version: str, stage: str, history: registry.ModelHistory) -> ModelStatus:
    """The status of one model whose manifest wants `version` in `stage`."""
    actual = history.stage_versions()

    def result(synced: bool, reason: str) -> ModelStatus:
        return ModelStatus(name, version, stage, actual, synced, reason)

    if stage == "none":
        if not actual:
            return result(True, "no stage desired and none assigned")
        return result(False, f"desired no stage, registry has {_holdings(actual)}")
    if stage == "archived":
        holding = sorted(s for s, v in actual.items() if v == version)
        if not holding:
            return result(True, f"{version} archived, no stage holds it")
        return result(False, f"desired {version} archived, registry has it in {', '.join(holding)}")
    if not history.events:
        return result(False, "no registry tags yet")
    info = history.versions.get(version)
    if info is None:
        return result(False, f"version {version} is not registered")
    if not info.registered:
        return result(False, f"version {version} was deregistered")
    current = actual.get(stage)
    if current == version:
        return result(True, f"{version} in {stage}")
    if current is None:
        return result(False, f"desired {version} in {stage}, registry has nothing there")
    return result(False, f"desired {version} in {stage}, registry has {current} there")


def _without_manifest(name: str, history: registry.ModelHistory) -> ModelStatus:
    actual = history.stage_versions()
    if not actual:
        return ModelStatus(name, None, None, actual, True, "no manifest and nothing assigned")
    return ModelStatus(
        name, None, None, actual, False, f"no manifest in models/, registry has {_holdings(actual)}"
    )


def _holdings(actual: dict[str, str]) -> str:
    return ", ".join(f"{v} in {s}" for s, v in sorted(actual.items()))
