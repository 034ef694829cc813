"""The manifest reference, rendered from the schemas so that it cannot drift.

Every table row comes from a pydantic field of manifest.py: its key (alias), type,
default and docstring (read here from the source: asking pydantic to attach docstrings
costs every command that validates a manifest a parse of manifest.py). scripts/gen_reference.py writes the result into README.md
between the reference markers, and a test checks the README still equals `embed()`.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import inspect
import itertools
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .manifest import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    AppliesTo,
    Approvals,
    ApprovalSettings,
    Artifacts,
    BinnedSlice,
    Card,
    Config,
    Dataset,
    DatasetMonitoring,
    DataSpec,
    Estimator,
    Estimators,
    Evaluation,
    FairnessGap,
    Features,
    GitHubSettings,
    Governance,
    LocalForge,
    Metric,
    Model,
    Monitoring,
    NoRegression,
    Policy,
    ReadOptions,
    Record,
    RegistryConfig,
    RepoMonitoring,
    Rule,
    Signing,
    Split,
    Stage,
    Training,
    Waiver,
    Waivers,
)

SECTIONS: tuple[tuple[str, tuple[type[Record], ...]], ...] = (
    (
        "models/NAME/model.yaml",
        (Model, Card, DataSpec, Features, Split, Estimator, Evaluation, BinnedSlice, Monitoring),
    ),
    ("data/NAME/dataset.yaml", (Dataset, ReadOptions, DatasetMonitoring)),
    ("policies/NAME.yaml", (Policy, AppliesTo, Rule, NoRegression, FairnessGap, Approvals)),
    ("policies/waivers.yaml", (Waivers, Waiver)),
    (
        "modelward.yaml",
        (
            Config,
            Stage,
            Artifacts,
            Governance,
            Estimators,
            Training,
            RegistryConfig,
            Signing,
            RepoMonitoring,
            LocalForge,
            GitHubSettings,
            ApprovalSettings,
        ),
    ),
)
HEADER = (
    "<!-- Generated from src/modelward/manifest.py by scripts/gen_reference.py; "
    "do not edit by hand. -->"
)
_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dt.date: "date",
    Any: "any",
}


START = "<!-- reference:start -->"
END = "<!-- reference:end -->"


def embed(readme: str) -> str:
    """`readme` with the text between the reference markers replaced by the reference."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README has no {START} ... {END} block")
    return f"{head}{START}\n{markdown_reference()}{END}{tail}"


def markdown_reference() -> str:
    """The whole reference: one table per record, grouped by file (README headings: ###)."""
    out = [HEADER, ""]
    for title, records in SECTIONS:
        out += [f"### {title}", ""]
        for record in records:
            out += _record_section(record)
    out += [
        "### Metrics",
        "",
        "scikit-learn scorer names (`sklearn.metrics.get_scorer_names()`); higher is better.",
        "",
        f"- classification: {', '.join(f'`{m}`' for m in sorted(CLASSIFICATION_METRICS))}",
        f"- regression: {', '.join(f'`{m}`' for m in sorted(REGRESSION_METRICS))}",
        "",
    ]
    return "\n".join(out)


def _record_section(record: type[Record]) -> list[str]:
    doc = (record.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    rows = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    docs = field_docs(record)
    for name, info in record.model_fields.items():
        key = info.alias or name
        default = "required" if info.is_required() else f"`{_flow(_default(info))}`"
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (f"`{key}`", type_name(info.annotation), default, docs.get(name, ""))
            )
            + " |"
        )
    return [f"#### {record.__name__}", "", doc, "", *rows, ""]


def field_docs(record: type[Record]) -> dict[str, str]:
    """Each field's docstring: the string right below it in the class that declares it
    (the class that last annotated the field, as pydantic counts fields)."""
    out = {}
    for name in record.model_fields:
        owner = next(c for c in record.__mro__ if name in vars(c).get("__annotations__", {}))
        doc = _attribute_docstrings(owner).get(name)
        if doc is not None:
            out[name] = doc
    return out


@functools.cache
def _attribute_docstrings(cls: type) -> dict[str, str]:
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    out: dict[str, str] = {}
    for previous, node in itertools.pairwise(body):
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            out[previous.target.id] = inspect.cleandoc(node.value.value)
    return out


def _default(info: Any) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return None if info.default is PydanticUndefined else info.default


def type_name(annotation: Any) -> str:
    """A reader's name for a field type: `list of string`, `[Card](#card)`, ..."""
    if annotation == Metric:
        return "metric name"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin is Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(names)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    return str(annotation)


def _flow(value: Any) -> str:
    """A default in YAML flow style."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
