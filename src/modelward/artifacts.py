"""Content-addressed artifact store: `<store>/<key>/{model.joblib,profile.json,metrics.json}`.

The key is a hash of everything that decides what training produces (the manifest's
task/data/model/evaluation, the data and suite hashes, the scikit-learn and joblib
versions), so the same inputs find the same entry and any change misses it.

An entry is complete when its metrics.json exists: it is written last, and every
file is written to a temporary name in the same directory and renamed into place,
so a run cut off half-way never leaves something that looks like a cache hit.
Loading an artifact checks its sha256 before joblib sees a single byte: a tampered
or corrupted file is an ArtifactError and nothing is unpickled.

The store is a directory inside the repository (default `.modelward/artifacts`,
`artifacts.store` in modelward.yaml) or any fsspec URL (`pip install
'modelward[fsspec]'`). Nothing here imports scikit-learn or pandas, so a cache hit
stays cheap.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .errors import ArtifactError, InvalidInput
from .hashing import bytes_sha256, canonical_hash
from .manifest import Model
from .workspace import OutsideRepository, Workspace, resolve_inside

MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"
PROFILE_FILE = "profile.json"
# Bump when modelward changes what it builds or stores from the same manifest
# (preprocessing, defaults, the profile), so old entries stop matching.
PIPELINE_VERSION = 2
"""2: the stored profile has a 101-point quantile sketch (evaluation.PROFILE_FORMAT 2)."""
KEY_FIELDS = frozenset({"task", "data", "model", "evaluation"})


def suite_sha256(ws: Workspace, dataset_name: str) -> str:
    """The data checks' suite hash, so one suite has one name everywhere."""
    from .datachecks import suite_sha256 as checked_suite_sha256

    return checked_suite_sha256(ws, dataset_name)


def package_version(name: str) -> str:
    """A distribution's version without importing it (cheap on the cache-hit path)."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def artifact_key(
    ws: Workspace,
    model_record: Model,
    data_sha256: str,
    suite_sha256: str,
    read: Mapping[str, Any] | None = None,
) -> str:
    """The store key: what training depends on, in canonical form, hashed.

    version, stage, owners, card and description are left out: bumping a version or
    moving a stage does not retrain an unchanged model.
    """
    del ws  # the key depends on the inputs only, not on where the checkout lives
    manifest = model_record.model_dump(mode="json", by_alias=True, include=set(KEY_FIELDS))
    inputs: dict[str, Any] = {
        "manifest": manifest,
        "data_sha256": data_sha256,
        "suite_sha256": suite_sha256,
        "scikit-learn": package_version("scikit-learn"),
        "joblib": package_version("joblib"),
        "pipeline": PIPELINE_VERSION,
    }
    if read:  # how the CSV is parsed changes the data the model sees
        inputs["read"] = dict(read)
    return canonical_hash(inputs)


def store_root(ws: Workspace) -> Path | str:
    """The store's location: an absolute directory inside the repository, or a URL."""
    configured = ws.config.artifacts.store
    if "://" in configured:
        return configured.rstrip("/")
    try:
        return resolve_inside(ws.root, ws.root / configured)
    except OutsideRepository:
        message = (
            f"{configured!r} resolves outside the repository; give a directory "
            "inside it or a URL such as s3://bucket/prefix"
        )
        doc = ws.config_doc
        if doc is None:
            raise InvalidInput.one("modelward.yaml", 1, "artifacts.store", message) from None
        raise InvalidInput([doc.problem(("artifacts", "store"), message)]) from None


class Store:
    """A place that holds entries; local directory or fsspec filesystem."""

    location: str

    def path(self, key: str, name: str) -> str:
        raise NotImplementedError

    def read(self, key: str, name: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        raise NotImplementedError

    def write(self, key: str, name: str, data: bytes) -> None:
        """Write atomically: readers see the old file or the whole new one."""
        raise NotImplementedError


class LocalStore(Store):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def path(self, key: str, name: str) -> str:
        return str(self.root / key / name)

    def read(self, key: str, name: str) -> bytes | None:
        try:
            return (self.root / key / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArtifactError(f"cannot read {self.path(key, name)}: {exc}") from None

    def write(self, key: str, name: str, data: bytes) -> None:
        try:
            atomic_write(self.root / key / name, data)
        except OSError as exc:
            raise ArtifactError(f"cannot write {self.path(key, name)}: {exc}") from None


class FsspecStore(Store):
    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError:
            raise ArtifactError(
                f"the artifact store {url!r} is a URL, which needs fsspec: "
                "pip install 'modelward[fsspec]'"
            ) from None
        try:
            self.fs, self.base = fsspec.core.url_to_fs(url)
        except (ValueError, ImportError) as exc:
            raise ArtifactError(f"cannot open the artifact store {url!r}: {exc}") from None
        self.location = url
        self.protocol = url.split("://", 1)[0]

    def _fs_path(self, key: str, name: str) -> str:
        return f"{self.base.rstrip('/')}/{key}/{name}"

    def path(self, key: str, name: str) -> str:
        return f"{self.location}/{key}/{name}"

    def read(self, key: str, name: str) -> bytes | None:
        try:
            data: bytes = self.fs.cat_file(self._fs_path(key, name))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArtifactError(f"cannot read {self.path(key, name)}: {exc}") from None
        return data

    def write(self, key: str, name: str, data: bytes) -> None:
        final = self._fs_path(key, name)
        tmp = f"{self.base.rstrip('/')}/{key}/.tmp-{os.getpid()}-{name}"
        try:
            self.fs.makedirs(f"{self.base.rstrip('/')}/{key}", exist_ok=True)
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, final)
        except OSError as exc:
            raise ArtifactError(f"cannot write {self.path(key, name)}: {exc}") from None


def open_store(ws: Workspace) -> Store:
    root = store_root(ws)
    return FsspecStore(root) if isinstance(root, str) else LocalStore(root)


def atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a shared store must be readable
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def dump_model(obj: Any) -> bytes:
    """The joblib pickle of `obj`, as bytes (hashed before anything is written)."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Entry:
    """A complete store entry: its metrics record (the artifact is verified against it)."""

    key: str
    metrics: dict[str, Any]
    artifact_path: str


def write_entry(
    store: Store, key: str, model_bytes: bytes, profile: dict[str, Any], metrics: dict[str, Any]
) -> None:
    """Model, then profile, then metrics.json last: only a whole entry is ever a hit."""
    store.write(key, MODEL_FILE, model_bytes)
    store.write(key, PROFILE_FILE, json_bytes(profile))
    store.write(key, METRICS_FILE, json_bytes(metrics))


def corrupt(store: Store, key: str, why: str) -> ArtifactError:
    return ArtifactError(
        f"store entry {store.path(key, '').rstrip('/')} is corrupt: {why}; "
        "run `modelward train` with --force to retrain and replace it"
    )


def read_entry(ws: Workspace, key: str) -> Entry | None:
    """The complete entry for `key` with its artifact verified, or None (a miss).

    An entry whose metrics.json is unreadable or whose model.joblib does not hash to
    the recorded sha256 is an ArtifactError: it is reported, never silently replaced.
    """
    store = open_store(ws)
    raw = store.read(key, METRICS_FILE)
    if raw is None:
        return None
    try:
        metrics = json.loads(raw)
        recorded = metrics["artifact_sha256"]
        if not isinstance(recorded, str):
            raise TypeError("artifact_sha256 is not a string")
    except (ValueError, KeyError, TypeError) as exc:
        raise corrupt(store, key, f"{METRICS_FILE} is not a valid record ({exc})") from None
    model = store.read(key, MODEL_FILE)
    if model is None:
        raise corrupt(store, key, f"{MODEL_FILE} is missing")
    actual = bytes_sha256(model)
    if actual != recorded:
        raise corrupt(store, key, f"{MODEL_FILE} has sha256 {actual}, recorded {recorded}")
    if store.read(key, PROFILE_FILE) is None:
        raise corrupt(store, key, f"{PROFILE_FILE} is missing")
    return Entry(key, metrics, store.path(key, MODEL_FILE))


def load_artifact(ws: Workspace, key: str, sha256: str) -> Any:
    """Verify the stored model.joblib against `sha256`, then (and only then) unpickle it."""
    store = open_store(ws)
    data = store.read(key, MODEL_FILE)
    if data is None:
        raise ArtifactError(f"artifact not found: {store.path(key, MODEL_FILE)}")
    actual = bytes_sha256(data)
    if actual != sha256:
        raise ArtifactError(
            f"{store.path(key, MODEL_FILE)} has sha256 {actual}, expected {sha256}; "
            "refusing to load it"
        )
    import joblib

    return joblib.load(io.BytesIO(data))


def load_profile(ws: Workspace, key: str) -> dict[str, Any]:
    """The training-data profile of an entry (for drift checks)."""
    store = open_store(ws)
    raw = store.read(key, PROFILE_FILE)
    if raw is None:
        raise ArtifactError(f"profile not found: {store.path(key, PROFILE_FILE)}")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise corrupt(store, key, f"{PROFILE_FILE} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise corrupt(store, key, f"{PROFILE_FILE} is not a JSON object")
    return value


def export_entry(ws: Workspace, key: str, out: Path, metrics: dict[str, Any]) -> None:
    """Copy an entry's verified model and profile into `out` and write `metrics` there."""
    store = open_store(ws)
    model = store.read(key, MODEL_FILE)
    if model is None or bytes_sha256(model) != metrics["artifact_sha256"]:
        raise corrupt(store, key, f"{MODEL_FILE} is missing or does not match its sha256")
    profile = store.read(key, PROFILE_FILE)
    if profile is None:
        raise corrupt(store, key, f"{PROFILE_FILE} is missing")
    try:
        atomic_write(out / MODEL_FILE, model)
        atomic_write(out / PROFILE_FILE, profile)
        atomic_write(out / METRICS_FILE, json_bytes(metrics))
    except OSError as exc:
        raise ArtifactError(f"cannot write to {out}: {exc}") from None


def read_location(ws: Workspace, location: str) -> bytes | None:
    """The bytes at a location a registry tag recorded (a path inside the repository or a
    store URL), or None when nothing is there."""
    if "://" in location:
        folder, _, name = location.rpartition("/")
        root, _, key = folder.rpartition("/")
        return FsspecStore(root).read(key, name)
    try:
        path = resolve_inside(ws.root, ws.root / location)
    except OutsideRepository:
        raise ArtifactError(f"{location!r} resolves outside the repository") from None
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactError(f"cannot read {location}: {exc}") from None


def load_located(ws: Workspace, location: str, sha256: str) -> Any:
    """Verify the artifact a registry tag points at against its sha256, then unpickle it."""
    data = read_location(ws, location)
    if data is None:
        raise ArtifactError(
            f"artifact not found: {location}; restore the artifact store "
            f"({ws.config.artifacts.store}) or compare with --against head"
        )
    actual = bytes_sha256(data)
    if actual != sha256:
        raise ArtifactError(
            f"{location} has sha256 {actual}, the registry recorded {sha256}; refusing to load it"
        )
    import joblib

    return joblib.load(io.BytesIO(data))
