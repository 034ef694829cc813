"""Whatever bytes a user commits, loading fails with a ModelwardError or not at all.

Hypothesis feeds generated YAML documents, random text and bytes, and mutations of
the valid example manifests to the loader, every schema and the whole workspace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, copy_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelward import workspace
from modelward.errors import ModelwardError
from modelward.manifest import Config, Dataset, Model, Policy, Waivers, parse
from modelward.yamlio import load_bytes

SCHEMAS = (Model, Dataset, Policy, Waivers, Config)
EXAMPLES = {
    "models/churn/model.yaml": Model,
    "models/breast-cancer/model.yaml": Model,
    "models/diabetes/model.yaml": Model,
    "data/churn/dataset.yaml": Dataset,
    "data/diabetes/dataset.yaml": Dataset,
    "policies/production.yaml": Policy,
    "policies/staging.yaml": Policy,
    "policies/waivers.yaml": Waivers,
    "modelward.yaml": Config,
}
FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
KEYS = sorted(
    {"apiVersion", "kind", "name", "version", "stage", "data", "rules", "source", "metrics"}
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.dates(),
    st.sampled_from(["Model", "Dataset", "Policy", "modelward/v1", "roc_auc", "1.0.0", "../x"]),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.integers(), st.booleans())
plain = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def check_bytes(raw: bytes) -> None:
    """Load and parse against every schema; only ModelwardError may escape."""
    try:
        doc = load_bytes(raw, "fuzz.yaml")
    except ModelwardError:
        return
    for schema in SCHEMAS:
        with contextlib.suppress(ModelwardError):
            parse(doc, schema)


def dump(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True).encode()


@FAST
@given(plain)
def test_generated_documents_parse_or_fail_cleanly(data: Any) -> None:
    check_bytes(dump(data))


@FAST
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_random_bytes_and_text_parse_or_fail_cleanly(raw: bytes) -> None:
    check_bytes(raw)


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    """Delete a key, change a value's type or insert a key somewhere in the tree."""
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data, key=str)))
        action = draw(st.sampled_from(["delete", "retype", "recurse", "insert"]))
        out = dict(data)
        if action == "delete":
            del out[key]
        elif action == "retype":
            out[key] = draw(plain)
        elif action == "insert":
            out[draw(keys)] = draw(plain)
        else:
            out[key] = _mutate(data[key], draw)
        return out
    if isinstance(data, list) and data:
        i = draw(st.integers(0, len(data) - 1))
        out_list = list(data)
        out_list[i] = _mutate(data[i], draw) if draw(st.booleans()) else draw(plain)
        return out_list
    return draw(plain)


@st.composite
def mutated_example(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(sorted(EXAMPLES)))
    raw = (ROOT / path).read_bytes()
    if draw(st.booleans()):
        data = yaml.safe_load(raw)
        return path, dump(_mutate(data, draw))
    # perturb bytes: overwrite, insert or delete a few
    buf = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(buf) - 1))
        op = draw(st.sampled_from(["set", "insert", "delete"]))
        byte = draw(st.sampled_from([*b":-[]{}&*!|>'\"#\t\n ", *range(256)]))
        if op == "set":
            buf[at] = byte
        elif op == "insert":
            buf.insert(at, byte)
        else:
            del buf[at]
    return path, bytes(buf)


@FAST
@given(mutated_example())
def test_mutated_examples_parse_or_fail_cleanly(case: tuple[str, bytes]) -> None:
    check_bytes(case[1])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "pristine"
    copy_example(path)
    return path


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(case=mutated_example())
def test_mutated_repositories_load_or_fail_cleanly(pristine: Path, case: tuple[str, bytes]) -> None:
    path, raw = case
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(pristine, repo)
        (repo / path).write_bytes(raw)
        try:
            ws = workspace.load(repo)
        except ModelwardError:
            return
        workspace.inventory(ws)  # a repository that loads can also be summarised


def test_generated_dates_survive_the_dump_and_load_round_trip() -> None:
    # guards against a strategy that silently stops producing interesting input
    assert isinstance(load_bytes(dump({"d": dt.date(2026, 1, 1)}), "x").data["d"], dt.date)
