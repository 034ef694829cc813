"""The report's machine-readable block as typed records with a schema version.

`pr` builds a `ReportData`; the report renders its `to_dict()`; the forge saves that
dict in the hidden block of the sticky comment (or a file, locally). A later run reads it
back through `ReportData.from_dict`, which checks every field it relies on: a review event
re-judges approvals on the saved results, and `promote` cross-checks the metrics it
retrains against the ones reviewers saw. A block of another schema version, or one whose
fields are not what this version writes, is not trusted: `from_dict` raises and the
caller treats it as no saved report (retrain, or "not cross-checked"), never as data.

Schema versions: 1 is the first typed block (the `schema` key was absent before it; such
a block is read as no saved report). Bump `REPORT_SCHEMA` when a field changes meaning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # policy imports the pydantic schemas; a no-op pull request needs neither
    from .policy import Verdict

REPORT_SCHEMA = 1
Summary = Literal["pass", "fail", "pending"]
SUMMARIES: tuple[Summary, ...] = ("pass", "fail", "pending")


class ReportDataError(ValueError):
    """A saved block this version cannot trust (another schema, or malformed)."""


@dataclass(frozen=True)
class MetricRow:
    """One metric of the report's table: the candidate's value beside the baseline's."""

    name: str
    baseline: float | None
    candidate: float | None
    primary: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "primary": self.primary,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricRow:
        return cls(
            name=_str(data, "name"),
            baseline=_num(data, "baseline"),
            candidate=_num(data, "candidate"),
            primary=_bool(data, "primary"),
        )


@dataclass(frozen=True)
class BaselineRef:
    """What the candidate was compared with in the report (labelled with its stage)."""

    version: str
    stage: str
    source: Literal["registry", "base-branch"]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "stage": self.stage, "source": self.source}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaselineRef:
        source = _str(data, "source")
        if source not in ("registry", "base-branch"):
            raise ReportDataError(f"baseline.source: unknown source {source!r}")
        return cls(_str(data, "version"), _str(data, "stage"), source)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Hashes:
    data_sha256: str | None = None
    suite_sha256: str | None = None
    artifact_sha256: str | None = None
    manifest_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_sha256": self.data_sha256,
            "suite_sha256": self.suite_sha256,
            "artifact_sha256": self.artifact_sha256,
            "manifest_digest": self.manifest_digest,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hashes:
        return cls(*(_opt_str(data, k) for k in cls.__dataclass_fields__))


@dataclass(frozen=True)
class ModelReport:
    """One affected model: what was trained, what it was compared with, the verdicts."""

    name: str
    status: str
    """changed, added, renamed or deleted."""
    version: str | None = None
    stage: str | None = None
    """The stage changes, in words ("staging: 1.0.0 -> 1.1.0"), or the map when none."""
    stages: Mapping[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    judged_owners: tuple[str, ...] | None = None
    """The owners whose approvals counted (the base's manifest's), for a review event."""
    base_version: str | None = None
    metrics: tuple[MetricRow, ...] = ()
    baseline: BaselineRef | None = None
    slices: Mapping[str, Any] = field(default_factory=dict)
    data_checks: Mapping[str, Any] | None = None
    verdicts: tuple[Verdict, ...] = ()
    hashes: Hashes = Hashes()
    artifact_bytes: int | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    cached: bool = False
    error: str | None = None
    key: str | None = None
    trend: tuple[Mapping[str, Any], ...] = ()

    def metric(self, name: str) -> float | None:
        """The candidate's value of `name` in this report (None when not reported)."""
        return next((m.candidate for m in self.metrics if m.name == name), None)

    def with_verdicts(self, verdicts: Sequence[Verdict]) -> ModelReport:
        return replace(self, verdicts=tuple(verdicts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "stages": dict(self.stages),
            "status": self.status,
            "reasons": list(self.reasons),
            "judged_owners": list(self.judged_owners) if self.judged_owners is not None else None,
            "base_version": self.base_version,
            "metrics": [m.to_dict() for m in self.metrics],
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "slices": dict(self.slices),
            "data_checks": dict(self.data_checks) if self.data_checks is not None else None,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "hashes": self.hashes.to_dict(),
            "artifact_bytes": self.artifact_bytes,
            "versions": dict(self.versions),
            "cached": self.cached,
            "error": self.error,
            "key": self.key,
            "trend": [dict(p) for p in self.trend],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelReport:
        """Fields a compacted block empties (reasons, slices, versions) may be missing;
        the ones a later run relies on (identity, metrics, verdicts) may not."""
        owners = data.get("judged_owners")
        baseline = data.get("baseline")
        checks = data.get("data_checks")
        return cls(
            name=_str(data, "name"),
            status=_str(data, "status"),
            version=_opt_str(data, "version"),
            stage=_opt_str(data, "stage"),
            stages={str(k): str(v) for k, v in _map(data, "stages", {}).items()},
            reasons=tuple(str(r) for r in _list(data, "reasons", [])),
            judged_owners=(
                tuple(str(o) for o in _list(data, "judged_owners")) if owners is not None else None
            ),
            base_version=_opt_str(data, "base_version"),
            metrics=tuple(
                MetricRow.from_dict(_as_map(m, "metrics")) for m in _list(data, "metrics")
            ),
            baseline=BaselineRef.from_dict(_as_map(baseline, "baseline")) if baseline else None,
            slices=_map(data, "slices", {}),
            data_checks=_as_map(checks, "data_checks") if checks is not None else None,
            verdicts=_verdicts(data, "verdicts"),
            hashes=Hashes.from_dict(_map(data, "hashes", {})),
            artifact_bytes=_opt_int(data, "artifact_bytes"),
            versions={str(k): str(v) for k, v in _map(data, "versions", {}).items()},
            cached=bool(data.get("cached", False)),
            error=_opt_str(data, "error"),
            key=_opt_str(data, "key"),
            trend=tuple(_as_map(p, "trend") for p in _list(data, "trend", [])),
        )


@dataclass(frozen=True)
class ReportData:
    """Everything the report says, as the hidden block carries it."""

    head_sha: str
    base: str
    head: str
    summary: Summary
    generated_by: str
    base_sha: str | None = None
    merge_base: str | None = None
    pull_request: int | None = None
    models: tuple[ModelReport, ...] = ()
    governance: tuple[Verdict, ...] = ()
    notes: tuple[str, ...] = ()
    compacted: str | None = None
    """Set when the block was cut to fit a comment (see report.data_block)."""
    schema: int = REPORT_SCHEMA

    def model(self, name: str) -> ModelReport | None:
        return next((m for m in self.models if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": self.schema,
            "head_sha": self.head_sha,
            "base": self.base,
            "head": self.head,
            "summary": self.summary,
            "pull_request": self.pull_request,
            "generated_by": self.generated_by,
            "models": [m.to_dict() for m in self.models],
            "governance": [v.to_dict() for v in self.governance],
            "base_sha": self.base_sha,
            "merge_base": self.merge_base,
            "notes": list(self.notes),
        }
        if self.compacted is not None:
            out["compacted"] = self.compacted
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportData:
        """The block, checked; ReportDataError for another schema or a malformed field."""
        if not isinstance(data, Mapping):
            raise ReportDataError("the block is not a JSON object")
        schema = data.get("schema")
        if schema != REPORT_SCHEMA:
            raise ReportDataError(
                f"schema {schema!r}: this modelward reads report schema {REPORT_SCHEMA}"
            )
        summary = _str(data, "summary")
        if summary not in SUMMARIES:
            raise ReportDataError(f"summary: unknown summary {summary!r}")
        return cls(
            head_sha=_str(data, "head_sha"),
            base=_str(data, "base"),
            head=_str(data, "head"),
            summary=summary,
            generated_by=_str(data, "generated_by"),
            base_sha=_opt_str(data, "base_sha"),
            merge_base=_opt_str(data, "merge_base"),
            pull_request=_opt_int(data, "pull_request"),
            models=tuple(
                ModelReport.from_dict(_as_map(m, "models")) for m in _list(data, "models")
            ),
            governance=_verdicts(data, "governance", []),
            notes=tuple(str(n) for n in _list(data, "notes", [])),
            compacted=_opt_str(data, "compacted"),
            schema=REPORT_SCHEMA,
        )


def read(data: Mapping[str, Any] | None) -> ReportData | None:
    """A saved block as records, or None when there is none or it cannot be trusted."""
    if data is None:
        return None
    try:
        return ReportData.from_dict(data)
    except ReportDataError:
        return None


# ---------------------------------------------------------------- field checks

_MISSING: Any = object()


def _get(data: Mapping[str, Any], key: str, default: Any) -> Any:
    value = data.get(key, default)
    if value is _MISSING:
        raise ReportDataError(f"{key}: missing")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = _get(data, key, _MISSING)
    if not isinstance(value, str):
        raise ReportDataError(f"{key}: expected a string (got {value!r})")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ReportDataError(f"{key}: expected a string or null (got {value!r})")
    return value


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ReportDataError(f"{key}: expected a number or null (got {value!r})")
    return value


def _num(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReportDataError(f"{key}: expected a number or null (got {value!r})")
    return float(value)


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = _get(data, key, _MISSING)
    if not isinstance(value, bool):
        raise ReportDataError(f"{key}: expected true or false (got {value!r})")
    return value


def _verdicts(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> tuple[Verdict, ...]:
    """A list of verdicts, each as policy.Verdict reads it (imported only when a block is
    read: the policy engine brings the schemas)."""
    from .policy import Verdict

    try:
        return tuple(Verdict.from_dict(v) for v in _list(data, key, default))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportDataError(f"{key}: {exc}") from None


def _list(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> list[Any]:
    value = _get(data, key, default)
    if not isinstance(value, list | tuple):
        raise ReportDataError(f"{key}: expected a list (got {type(value).__name__})")
    return list(value)


def _map(data: Mapping[str, Any], key: str, default: Any = _MISSING) -> dict[str, Any]:
    value = _get(data, key, default)
    return _as_map(value, key)


def _as_map(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ReportDataError(f"{key}: expected a mapping (got {type(value).__name__})")
    return dict(value)
