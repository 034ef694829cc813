"""What the manifests of a checkout desire, remembered by every byte validation read.

`status` needs three facts per model (version, stages map, training digest), but
getting them honestly means validating the whole checkout with the schemas, and
importing pydantic and building them costs several times the rest of `status` on a
large registry. Validation is a pure function of its inputs, so its outcome is kept in
`.modelward/cache/desired.json` under a digest of:

- the code: every modelward source file, the Python, pydantic, pydantic-core and
  PyYAML versions;
- the checkout: the absolute root, `modelward.yaml`, the listing of `models/`, `data/`
  (two levels) and `policies/`, and the full bytes of every manifest, dataset manifest
  and policy file;
- what the dataset manifests pointed at when they validated: the kind of every path
  component on the way to each local CSV file and expectations file, the CSV header
  line exactly as `workspace.read_columns` reads it, and the expectations file's bytes.

Only a checkout that validated is remembered, so a broken manifest always takes the
full path and its FILE:LINE errors. Anything that cannot be keyed this way (a symlink
where validation follows one, a parquet dataset, a file over the YAML size limit) is
never remembered. Like the other caches under `.modelward/`, the file is never read
from a commit: `pr` refuses a change that tracks `.modelward/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .statedir import STATE_DIR, state_dir

CACHE_VERSION = 1
CACHE_FILE = Path(STATE_DIR) / "cache" / "desired.json"
MAX_YAML_BYTES = 1 << 20
"""yamlio's size limit: a bigger file fails validation, so it is never remembered."""
CSV_HEADER_BYTES = 1 << 20
"""What workspace.read_columns reads of a CSV file: its first line, up to this size."""
MANIFEST_FOLDERS = (("models", "model.yaml"), ("data", "dataset.yaml"))
DEPENDENCIES = ("pydantic", "pydantic_core", "yaml")


@dataclass(frozen=True)
class Desired:
    """One model's manifest as status compares it with the registry."""

    model: str
    version: str
    stages: dict[str, str]
    training_digest: str


class _Uncacheable(Exception):
    """An input the digest cannot stand for; validate from scratch every time."""


def desired(root: Path) -> dict[str, Desired]:
    """Every model's desired state (folder name -> Desired), from a checkout that
    validates. Raises InvalidInput, with every problem, for one that does not."""
    root = Path(root)
    code = _code_key()
    remembered = _read(root / CACHE_FILE)
    if remembered is not None and remembered.get("code") == code:
        try:
            extras = [(str(how), str(path)) for how, path in remembered["extras"]]
            if _digest(root, extras)[1] == remembered["inputs"]:
                return _decode(remembered["models"])
        except (_Uncacheable, OSError, KeyError, TypeError, ValueError):
            pass  # changed, or not ours to trust: validate
    try:
        before: str | None = _digest(root, [])[0]
    except (_Uncacheable, OSError):
        before = None
    found, extras_now = _validate(root)
    if before is not None and extras_now is not None:
        try:
            checkout, inputs = _digest(root, extras_now)
            # a manifest edited while validation read it must not be remembered as valid
            if checkout == before:
                _write(root, code, extras_now, inputs, found)
        except (_Uncacheable, OSError):
            pass
    return found


def _validate(root: Path) -> tuple[dict[str, Desired], list[tuple[str, str]] | None]:
    """The full path: load and cross-check with the schemas (pydantic imported here)."""
    from . import workspace
    from .manifest import training_digest

    ws = workspace.load(root)
    found = {
        name: Desired(name, m.record.version, dict(m.record.stages), training_digest(m.record))
        for name, m in ws.models.items()
    }
    extras: list[tuple[str, str]] = []
    for loaded in ws.datasets.values():
        record = loaded.record
        folder = ws.dataset_dir(record.name)
        if not record.is_remote:
            if record.file_format != "csv":
                return found, None  # a parquet footer is not worth keying: always validate
            extras.append(("csv", _relative(root, folder / record.source)))
        extras.append(("file", _relative(root, folder / record.expectations)))
    return found, extras


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


# ---------------------------------------------------------------- the digest


def _code_key() -> str:
    """modelward's own sources and the versions of what validation runs on."""
    h = hashlib.sha256(f"{CACHE_VERSION}\0{sys.version}\0".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    for name in DEPENDENCIES:
        h.update(f"\0{name}={_installed(name)}".encode())
    return h.hexdigest()


def _installed(module: str) -> str:
    """The dist-info names next to a top-level module, found without importing it."""
    for entry in sys.path:
        folder = Path(entry or ".")
        if (folder / module).is_dir() or (folder / f"{module}.py").is_file():
            prefix = {"yaml": "pyyaml-"}.get(module, module.lower() + "-")
            try:
                names = os.listdir(folder)
            except OSError:
                return "?"
            dists = sorted(n for n in names if n.lower().startswith(prefix) and "-" in n)
            return ",".join(dists) or f"{folder}"
    return "missing"


def _digest(root: Path, extras: list[tuple[str, str]]) -> tuple[str, str]:
    """The digest of the checkout's manifests and listings, and of those plus `extras`."""
    h = hashlib.sha256(str(root.resolve()).encode() + b"\0")

    def add(*parts: str | bytes) -> None:
        for part in parts:
            h.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogateescape"))
            h.update(b"\0")

    config = root / "modelward.yaml"
    add("modelward.yaml", _kind(config))
    if _kind(config) == "f":
        add(_yaml_bytes(config))
    for folder, manifest in MANIFEST_FOLDERS:
        add(folder, _kind(root / folder))
        for sub in _listing(root / folder):
            kind = _kind(sub)
            add(sub.name, kind)
            if kind.startswith("l"):
                raise _Uncacheable(sub)  # validation follows it
            if kind != "d":
                continue
            for entry in _listing(sub):
                add(entry.name, _kind(entry))
                if entry.name == manifest and _kind(entry) == "f":
                    add(_yaml_bytes(entry))
    policies = root / "policies"
    add("policies", _kind(policies))
    for entry in _listing(policies):
        kind = _kind(entry)
        add(entry.name, kind)
        if kind == "f" and entry.suffix in (".yaml", ".yml"):
            add(_yaml_bytes(entry))
    checkout = h.hexdigest()
    for how, relative in extras:
        path = root
        add(how, relative)
        for part in Path(relative).parts:
            path = path / part
            add(part, _kind(path))
        if how == "csv":
            with path.open("rb") as fh:
                add(fh.readline(CSV_HEADER_BYTES))
        else:
            add(_yaml_bytes(path))
    return checkout, h.hexdigest()


def _kind(path: Path) -> str:
    """What lstat says: f(ile), d(irectory), l(ink) and its target, - (absent), o(ther)."""
    try:
        if path.is_symlink():
            return "l" + os.readlink(path)
        if path.is_dir():
            return "d"
        if path.is_file():
            return "f"
        return "o" if path.exists() else "-"
    except OSError:
        return "?"


def _listing(folder: Path) -> list[Path]:
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(folder.iterdir())


def _yaml_bytes(path: Path) -> bytes:
    if path.stat().st_size > MAX_YAML_BYTES:
        raise _Uncacheable(path)
    return path.read_bytes()


# ---------------------------------------------------------------- the file


def _read(cache: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _decode(models: Any) -> dict[str, Desired]:
    if not isinstance(models, list):
        raise ValueError("models")
    out = {}
    for m in models:
        stages = m["stages"]
        if not isinstance(stages, list):
            raise ValueError("stages")
        item = Desired(
            str(m["model"]),
            str(m["version"]),
            {str(s): str(v) for s, v in stages},
            str(m["training_digest"]),
        )
        out[item.model] = item
    return out


def _write(
    root: Path,
    code: str,
    extras: list[tuple[str, str]],
    inputs: str,
    found: dict[str, Desired],
) -> None:
    """Replace the file whole; a checkout that cannot be written to is simply not cached."""
    data = {
        "code": code,
        "extras": [list(e) for e in extras],
        "inputs": inputs,
        "models": [
            {
                "model": d.model,
                "version": d.version,
                "stages": [[s, v] for s, v in d.stages.items()],
                "training_digest": d.training_digest,
            }
            for d in found.values()
        ],
    }
    cache = root / CACHE_FILE
    try:
        state_dir(root)
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, cache)
    except OSError:
        pass
