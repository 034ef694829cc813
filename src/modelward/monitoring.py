"""The drift check of one model: find its reference, read the new data, compare, score.

The reference is the training profile of the version the registry assigns to the
model's furthest stage (the last of modelward.yaml's stage order that holds one), read
through the tag's evidence from the artifact store; `against="head"` uses the model as
committed instead (training through the cache). The comparison itself is drift.py.
"""

from __future__ import annotations

import glob
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import artifacts, drift, registry
from .errors import ArtifactError, DataError, UsageError
from .hashing import bytes_sha256
from .workspace import OutsideRepository, Workspace, resolve_inside

if TYPE_CHECKING:
    import pandas as pd

HEAD = "head"


@dataclass(frozen=True)
class Reference:
    """What new data is compared with: a registered version (or the committed head)."""

    model: str
    version: str
    source: Literal["registry", "head"]
    stage: str | None
    profile: dict[str, Any]
    metrics: dict[str, float]
    artifact_location: str
    artifact_sha256: str
    tag: str | None = None

    def label(self) -> str:
        where = f"{self.stage} (tag {self.tag})" if self.stage else "the manifest as committed"
        return f"{self.model} v{self.version}, {where}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "source": self.source,
            "stage": self.stage,
            "tag": self.tag,
            "n_rows": self.profile.get("n_rows"),
            "profile_format": self.profile.get("format", 1),
        }


@dataclass(frozen=True)
class NewData:
    """The current data: where it came from, its content hash, and the frame."""

    display: str
    sha256: str
    location: str
    """An fsspec URI, or the file's path."""
    frame: pd.DataFrame = field(repr=False)
    raw: bytes = field(default=b"", repr=False)
    """The file's bytes (what a retraining pull request commits)."""

    @property
    def is_uri(self) -> bool:
        return "://" in self.location


@dataclass(frozen=True)
class DriftResult:
    model: str
    reference: Reference
    data: NewData
    report: drift.DriftReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reference": self.reference.to_dict(),
            "data": {"source": self.data.display, "sha256": self.data.sha256},
            **self.report.to_dict(),
        }


def settings(ws: Workspace, name: str) -> drift.Settings:
    """Evidently's defaults, then modelward.yaml's `monitoring:`, then the model's."""
    return drift.Settings.merged(ws.config.monitoring, ws.models[name].record.monitoring)


def check(
    ws: Workspace, name: str, data: str, *, against: str | None = None, cwd: Path | None = None
) -> DriftResult:
    """Compare new data (a file, relative to `cwd`, or a URI) with the model's reference."""
    _known(ws, name)
    ref = reference(ws, name, against)
    new = read_data(data, cwd=cwd or Path.cwd())
    return _compare(ws, name, ref, new)


def check_source(ws: Workspace, name: str, *, against: str | None = None) -> DriftResult:
    """Compare the newest data of the model's `monitoring.source` with its reference."""
    spec = source_of(ws, name)
    if spec is None:
        raise UsageError(f"model {name!r} has no monitoring.source; give --data")
    ref = reference(ws, name, against)
    return _compare(ws, name, ref, read_source(ws, spec))


def monitored(ws: Workspace) -> list[str]:
    """Models with a monitoring source (their own, or their dataset's)."""
    return [name for name in sorted(ws.models) if source_of(ws, name) is not None]


def source_of(ws: Workspace, name: str) -> str | None:
    record = ws.models[name].record
    if record.monitoring.source is not None:
        return record.monitoring.source
    dataset = ws.datasets.get(record.data.dataset)
    return dataset.record.monitoring.source if dataset is not None else None


def _known(ws: Workspace, name: str) -> None:
    if name not in ws.models:
        known = ", ".join(sorted(ws.models)) or "none"
        raise UsageError(f"unknown model {name!r}; known: {known}")


# ---------------------------------------------------------------- the reference


def reference(ws: Workspace, name: str, against: str | None) -> Reference:
    """The registered version in `against` (default: the furthest stage holding one), or
    the model as committed when `against` is "head"."""
    _known(ws, name)
    if against == HEAD:
        return _head(ws, name)
    stages = ws.config.stage_names
    if against is not None and against not in stages:
        raise UsageError(
            f"--against {against!r} is not a stage of modelward.yaml "
            f"({', '.join(stages)}) or 'head'"
        )
    history = registry.read(ws.root, models=[name]).history(name)
    assigned = history.stage_versions()
    order = [against] if against is not None else list(reversed(stages))
    stage = next((s for s in order if s in assigned), None)
    if stage is None:
        where = f"stage {against!r}" if against else f"any stage ({', '.join(stages)})"
        raise UsageError(
            f"no version of {name!r} is assigned to {where} in the registry; "
            "run with --against head to compare with the model as committed"
        )
    version = assigned[stage]
    evidence, tag = _evidence(history, version)
    if evidence is None or not evidence.profile or not evidence.artifact_location:
        raise ArtifactError(
            f"the registry holds no training profile for {name} v{version} "
            "(its tags carry no modelward evidence); run with --against head"
        )
    raw = artifacts.read_location(ws, evidence.profile)
    if raw is None:
        raise ArtifactError(
            f"the training profile of {name} v{version} is not in the artifact store "
            f"({evidence.profile}, recorded by tag {tag}); restore the store "
            f"({ws.config.artifacts.store}) or run with --against head"
        )
    return Reference(
        model=name,
        version=version,
        source="registry",
        stage=stage,
        profile=_profile_json(raw, evidence.profile),
        metrics=dict(evidence.metrics),
        artifact_location=evidence.artifact_location,
        artifact_sha256=evidence.artifact_sha256 or "",
        tag=tag,
    )


def _evidence(
    history: registry.ModelHistory, version: str
) -> tuple[registry.Evidence | None, str | None]:
    """The registration's evidence of `version` (else the latest event's that has one)."""
    found: tuple[registry.Evidence | None, str | None] = (None, None)
    for event in history.events:
        if event.version != version or event.evidence is None or not event.evidence.profile:
            continue
        if event.kind == "register":
            return event.evidence, event.tag
        found = (event.evidence, event.tag)
    return found


def _profile_json(raw: bytes, where: str) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ArtifactError(f"{where} is not JSON ({exc})") from None
    if not isinstance(value, dict) or not isinstance(value.get("features"), dict):
        raise ArtifactError(f"{where} is not a training profile")
    return value


def _head(ws: Workspace, name: str) -> Reference:
    from .training import train

    result = train(ws, name)
    return Reference(
        model=name,
        version=result.version,
        source="head",
        stage=None,
        profile=artifacts.load_profile(ws, result.key),
        metrics={k: v for k, v in result.metrics.items() if v is not None},
        artifact_location=result.artifact_path,
        artifact_sha256=result.artifact_sha256,
    )


# ---------------------------------------------------------------- the new data


def read_data(spec: str, *, cwd: Path) -> NewData:
    """A file (relative to `cwd`) or an fsspec URI, read whole, hashed, parsed."""
    if "://" in spec:
        return _parse(spec, _fetch(spec), spec)
    path = Path(spec)
    if not path.is_absolute():
        path = cwd / path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(spec, "file not found") from None
    except OSError as exc:
        raise DataError(spec, f"cannot read: {exc}") from None
    return _parse(spec, raw, str(path))


def read_source(ws: Workspace, spec: str) -> NewData:
    """`monitoring.source`: a URI, a file, or a glob (the last match in name order)."""
    if "://" in spec:
        return read_data(spec, cwd=ws.root)
    matches = sorted(glob.glob(spec, root_dir=ws.root)) if glob.has_magic(spec) else [spec]
    if not matches:
        raise DataError(spec, "monitoring.source matches no file in the repository")
    try:
        path = resolve_inside(ws.root, ws.root / matches[-1])
    except OutsideRepository:
        raise DataError(matches[-1], "resolves outside the repository") from None
    return read_data(str(path.relative_to(ws.root.resolve())), cwd=ws.root.resolve())


def _fetch(uri: str) -> bytes:
    try:
        import fsspec
    except ImportError:
        raise DataError(
            uri, "reading a URI needs fsspec: pip install 'modelward[fsspec]'"
        ) from None
    try:
        with fsspec.open(uri, "rb") as fh:
            data: bytes = fh.read()
    except (OSError, ValueError, ImportError) as exc:
        raise DataError(uri, f"cannot fetch: {exc}") from None
    return data


def data_format(name: str) -> str:
    return "parquet" if name.lower().endswith((".parquet", ".pq")) else "csv"


def _parse(display: str, raw: bytes, location: str) -> NewData:
    import pandas as pd

    fmt = data_format(location)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(io.BytesIO(raw))
        else:
            frame = pd.read_csv(io.BytesIO(raw))
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(display, f"cannot read {fmt}: {exc}") from None
    return NewData(display, bytes_sha256(raw), location, frame, raw)


# ---------------------------------------------------------------- the comparison


def _compare(ws: Workspace, name: str, ref: Reference, new: NewData) -> DriftResult:
    conf = settings(ws, name)
    features = list(ref.profile["features"])
    frame = new.frame
    missing = [f for f in features if f not in frame.columns]
    if missing:
        names = ", ".join(repr(f) for f in missing)
        raise DataError(
            new.display,
            f"column {names} is missing; {ref.model} v{ref.version} was trained on it",
        )
    _check_types(ref, new)
    if len(frame) < conf.min_sample:
        raise DataError(
            new.display,
            f"{len(frame)} rows are too few to test for drift; every column needs at least "
            f"{conf.min_sample} (monitoring.min_sample), e.g. column {features[0]!r}",
        )
    report = drift.compare(ref.profile, frame[features], conf)
    target = ws.models[name].record.data.target
    if target in frame.columns:
        report = _with_decay(ws, name, ref, new, report, conf)
    return DriftResult(name, ref, new, report)


def _check_types(ref: Reference, new: NewData) -> None:
    from .evaluation import is_numeric

    for feature, prof in ref.profile["features"].items():
        column = new.frame[feature]
        if prof.get("type") == "numeric" and not is_numeric(column) and column.notna().any():
            sample = column.dropna().iloc[0]
            raise DataError(
                new.display,
                f"column {feature!r} holds text (e.g. {sample!r}), but "
                f"{ref.model} v{ref.version} was trained on numbers there",
            )


def _with_decay(
    ws: Workspace,
    name: str,
    ref: Reference,
    new: NewData,
    report: drift.DriftReport,
    conf: drift.Settings,
) -> drift.DriftReport:
    """Score the reference's own artifact on the labelled rows; compare the primary metric."""
    from dataclasses import replace

    from .evaluation import score

    record = ws.models[name].record
    primary = record.evaluation.primary
    target = record.data.target
    labelled = new.frame[new.frame[target].notna()]
    if primary not in ref.metrics:
        note = f"no decay check: the reference records no {primary} to compare with"
        return replace(report, notes=(*report.notes, note))
    if len(labelled) < conf.min_sample:
        note = (
            f"no decay check: {len(labelled)} labelled rows, fewer than "
            f"{conf.min_sample} (monitoring.min_sample)"
        )
        return replace(report, notes=(*report.notes, note))
    if ref.source == "head":
        pipeline = artifacts.load_located(
            ws, _portable(ws, ref.artifact_location), ref.artifact_sha256
        )
    else:
        pipeline = artifacts.load_located(ws, ref.artifact_location, ref.artifact_sha256)
    features = list(ref.profile["features"])
    values, reasons, _ = score(pipeline, [primary], labelled[features], labelled[target])
    result = drift.decay(
        primary,
        ref.metrics[primary],
        values.get(primary),
        max_drop=conf.max_drop,
        n=len(labelled),
        reason=reasons.get(primary, ""),
    )
    return replace(report, decay=result)


def _portable(ws: Workspace, location: str) -> str:
    if "://" in location:
        return location
    path = Path(location)
    root = ws.root.resolve()
    return path.resolve().relative_to(root).as_posix() if path.is_absolute() else location
