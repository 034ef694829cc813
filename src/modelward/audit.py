"""The history of every model from the registry tags, and its verification.

`audit` returns every registration and stage event with its evidence (who, when, which
pull request, approvers, metrics, hashes, verdicts, waivers, bypasses). With
`verify=True` it also re-hashes each stored artifact against the sha256 its tag records
and checks that each tag points at a commit on the default branch. Re-evaluating each
promotion against the policies of its day plugs in through `verify_policies`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import git, registry
from .errors import UsageError
from .hashing import file_sha256
from .registry import Event, ModelHistory

# manifest and workspace (pydantic) load only for --verify: reading history stays light.
CONFIG_FILE = "modelward.yaml"

PolicyVerifier = Callable[[Path, Event], Sequence[str]]
"""Extension point: given the repository and a stage event that carries evidence,
return the problems found when re-evaluating that promotion against the policies as
they stood at its commit (empty when it still holds). Wired by the policy engine."""


@dataclass(frozen=True)
class Finding:
    """One verification problem, tied to the tag it concerns."""

    model: str
    tag: str
    check: str
    """artifact | default-branch | payload | policy"""
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"model": self.model, "tag": self.tag, "check": self.check, "message": self.message}


@dataclass
class Verification:
    default_branch: str
    findings: list[Finding] = field(default_factory=list)
    artifacts_checked: int = 0
    commits_checked: int = 0
    policies_checked: int = 0
    skipped: list[str] = field(default_factory=list)
    """Why some evidence could not be checked here (remote stores, no evidence)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "default_branch": self.default_branch,
            "artifacts_checked": self.artifacts_checked,
            "commits_checked": self.commits_checked,
            "policies_checked": self.policies_checked,
            "findings": [f.as_dict() for f in self.findings],
            "skipped": list(self.skipped),
        }


@dataclass
class AuditReport:
    histories: dict[str, ModelHistory]
    verification: Verification | None = None


def audit(
    repo: Path,
    model: str | None = None,
    *,
    verify: bool = False,
    verify_policies: PolicyVerifier | None = None,
) -> AuditReport:
    """The registry history of every model (or one), optionally verified."""
    repo = Path(repo)
    reg = registry.read(repo)
    if model is None:
        histories = dict(reg.models)
    elif model in reg.models:
        histories = {model: reg.models[model]}
    elif (repo / "models" / model / "model.yaml").is_file():
        histories = {model: ModelHistory(model)}  # a model that was never promoted
    else:
        close = difflib.get_close_matches(model, list(reg.models), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"no registry tags and no manifest for model {model!r}{hint}")
    report = AuditReport(histories)
    if verify:
        report.verification = _verify(repo, histories, verify_policies)
    return report


def default_branch_ref(repo: Path, branch: str) -> str:
    """The default branch as a local branch, or as origin's when only that is fetched."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        if git.run(repo, "rev-parse", "--verify", "--quiet", ref, check=False).strip():
            return ref
    raise UsageError(
        f"default branch {branch!r} not found (neither refs/heads/{branch} nor "
        f"refs/remotes/origin/{branch}); fetch it or set default_branch in {CONFIG_FILE}"
    )


def _default_branch(repo: Path) -> str:
    from .manifest import Config, parse
    from .yamlio import load_path

    path = repo / CONFIG_FILE
    if not path.is_file():
        return Config.default().default_branch
    return parse(load_path(path, CONFIG_FILE), Config).default_branch


def _verify(
    repo: Path, histories: dict[str, ModelHistory], verify_policies: PolicyVerifier | None
) -> Verification:
    branch = _default_branch(repo)
    ref = default_branch_ref(repo, branch)
    result = Verification(branch)
    on_branch: dict[str, bool] = {}
    hashes: dict[Path, str | None] = {}
    no_evidence = 0
    for name, history in histories.items():
        for event in history.events:
            if event.commit not in on_branch:
                on_branch[event.commit] = git.is_ancestor(repo, event.commit, ref)
                result.commits_checked += 1
            if not on_branch[event.commit]:
                result.findings.append(
                    Finding(
                        name,
                        event.tag,
                        "default-branch",
                        f"points at commit {event.commit[:12]}, which is not on {branch}",
                    )
                )
            if event.evidence_problem:
                result.findings.append(Finding(name, event.tag, "payload", event.evidence_problem))
            ev = event.evidence
            if ev is None:
                no_evidence += 1
                continue
            if ev.model != name or (event.version is not None and ev.version != event.version):
                result.findings.append(
                    Finding(
                        name,
                        event.tag,
                        "payload",
                        f"payload names {ev.model} {ev.version}, the tag says "
                        f"{name} {event.version}",
                    )
                )
            problem = _check_artifact(repo, ev, hashes, result)
            if problem:
                result.findings.append(Finding(name, event.tag, "artifact", problem))
            if verify_policies is not None and event.kind == "assign":
                result.policies_checked += 1
                for message in verify_policies(repo, event):
                    result.findings.append(Finding(name, event.tag, "policy", message))
    if no_evidence:
        result.skipped.append(f"{no_evidence} tag(s) carry no evidence (written by GTO or by hand)")
    return result


def _check_artifact(
    repo: Path, ev: registry.Evidence, hashes: dict[Path, str | None], result: Verification
) -> str | None:
    location, expected = ev.artifact_location, ev.artifact_sha256
    if not location or not expected:
        return None
    from .workspace import OutsideRepository, resolve_inside

    if "://" in location:
        note = f"remote artifact {location} is not re-hashed here"
        if note not in result.skipped:
            result.skipped.append(note)
        return None
    try:
        path = resolve_inside(repo, repo / location)
    except OutsideRepository:
        return f"artifact location {location} lies outside the repository"
    if path not in hashes:
        hashes[path] = file_sha256(path) if path.is_file() else None
        result.artifacts_checked += 1
    actual = hashes[path]
    if actual is None:
        return f"artifact {location} is missing"
    if actual != expected:
        return f"artifact {location} hashes to {actual[:12]}, the tag records {expected[:12]}"
    return None


# ---------------------------------------------------------------- plain data


def event_dict(event: Event) -> dict[str, Any]:
    """An event as JSON-ready data (evidence as its payload, or null)."""
    return {
        "counter": event.counter,
        "tag": event.tag,
        "event": event.kind,
        "version": event.version,
        "stage": event.stage,
        "commit": event.commit,
        "tagger": event.tagger,
        "date": event.date,
        "annotated": event.annotated,
        "evidence": event.evidence.to_payload() if event.evidence else None,
        "evidence_problem": event.evidence_problem,
    }


def as_dict(report: AuditReport) -> dict[str, Any]:
    return {
        "models": {
            name: {
                "versions": {
                    v: "registered" if info.registered else "deregistered"
                    for v, info in sorted(
                        h.versions.items(), key=lambda kv: registry.semver_key(kv[0])
                    )
                },
                "stages": h.stage_versions(),
                "events": [event_dict(e) for e in h.events],
            }
            for name, h in report.histories.items()
        },
        "verification": report.verification.as_dict() if report.verification else None,
    }
