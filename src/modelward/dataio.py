"""Reading a dataset's file: the pin is checked before any byte is parsed.

Remote sources (a URI with a sha256 pin) are fetched once through fsspec into
`.modelward/cache/data/<sha256>` and verified; later runs read the verified copy.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataError
from .hashing import file_sha256
from .manifest import Dataset
from .workspace import OutsideRepository, Workspace, rel

if TYPE_CHECKING:
    import pandas as pd

CACHE_DIR = Path(".modelward") / "cache"


@dataclass(frozen=True)
class DataFile:
    """A dataset file on disk whose sha256 is known (and matched its pin, if any)."""

    dataset: str
    path: Path
    sha256: str
    format: str
    display: str
    read: dict[str, Any] = field(default_factory=dict)
    """pandas.read_csv keyword arguments from dataset.yaml `read:` (only non-defaults)."""
    manifest: str = ""
    """The dataset.yaml that declares the file, and the line of its `source` (for errors)."""
    line: int | None = None


def locate(ws: Workspace, name: str) -> DataFile:
    """Find, fetch if remote, hash and pin-check the file of dataset `name`."""
    loaded = ws.datasets.get(name)
    if loaded is None:
        raise DataError(f"data/{name}/dataset.yaml", "dataset not found")
    record, doc = loaded.record, loaded.doc
    if record.is_remote:
        assert record.sha256 is not None  # schema guarantees a pin for remote sources
        path = _fetch_remote(ws.root, record)
        display = record.source
    else:
        try:
            path = ws.data_path(record)
        except OutsideRepository:
            raise DataError(
                doc.path,
                f"source {record.source!r} resolves outside the repository",
                doc.line(("source",)),
            ) from None
        display = rel(ws.root.resolve(), path)
        if not path.is_file():
            raise DataError(doc.path, f"data file not found: {display}", doc.line(("source",)))
    sha = file_sha256(path)
    if record.sha256 is not None and sha != record.sha256:
        raise DataError(
            doc.path,
            f"sha256 of {display} is {sha}, but the pin is {record.sha256}; "
            "update the pin if the data changed on purpose",
            doc.line(("sha256",)),
        )
    return DataFile(
        name,
        path,
        sha,
        record.file_format,
        display,
        read=record.read.pandas_kwargs(),
        manifest=doc.path,
        line=doc.line(("source",)),
    )


def read_frame(data: DataFile) -> pd.DataFrame:
    """Load the file into a DataFrame (imports pandas); refuse a file without rows.

    CSV is read with the dataset's `read:` options; parquet keeps the types it stores.
    """
    import pandas as pd

    try:
        if data.format == "parquet":
            frame = pd.read_parquet(data.path)
        else:
            frame = pd.read_csv(data.path, **data.read)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        hint = ""
        if isinstance(exc, UnicodeDecodeError):
            hint = "; set read: {encoding: latin-1} (or the file's encoding) in dataset.yaml"
        where = data.manifest or data.display
        raise DataError(
            where, f"cannot read {data.display} as {data.format}: {exc}{hint}", data.line
        ) from None
    if len(frame) == 0:
        raise DataError(
            data.manifest or data.display,
            f"{data.display} has a header but no rows; there is nothing to check or train on",
            data.line,
        )
    if data.format == "csv":
        one_column = separator_hint([str(c) for c in frame.columns], data.read.get("sep", ","))
        if one_column:
            raise DataError(
                data.manifest or data.display, f"{data.display}: {one_column}", data.line
            )
    return frame


SEPARATORS = (";", "\t", "|", ",")


def separator_hint(columns: list[str], sep: str) -> str | None:
    """A header read as one column that holds another separator: say which `read.sep` to set."""
    if len(columns) != 1:
        return None
    found = next((s for s in SEPARATORS if s != sep and s in columns[0]), None)
    if found is None:
        return None
    shown = "'\\t'" if found == "\t" else repr(found)
    return (
        f"the header is one column {columns[0][:60]!r} that contains {shown}; "
        f"if {shown} separates the fields, set read: {{sep: {shown}}} in dataset.yaml"
    )


def _fetch_remote(root: Path, record: Dataset) -> Path:
    assert record.sha256 is not None
    target = root / CACHE_DIR / "data" / record.sha256
    if target.is_file():
        return target
    try:
        import fsspec
    except ImportError:
        raise DataError(
            f"data/{record.name}/dataset.yaml",
            f"remote source {record.source!r} needs fsspec: pip install 'modelward[fsspec]'",
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".fetch-")
    try:
        with os.fdopen(fd, "wb") as out, fsspec.open(record.source, "rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        if file_sha256(Path(tmp)) != record.sha256:
            raise DataError(record.source, "downloaded content does not match the sha256 pin")
        os.replace(tmp, target)
    except OSError as exc:
        raise DataError(record.source, f"cannot fetch: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
