"""Content hashes that name data, suites, manifests and artifacts.

One definition of "canonical" so that a hash computed by the data checks, the
trainer and the registry agree byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, dates as ISO strings: stable across runs and machines."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)


def canonical_hash(value: Any) -> str:
    return bytes_sha256(canonical_json(value).encode("utf-8"))


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot hash a {type(value).__name__}")
