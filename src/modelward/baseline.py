"""What a candidate is compared with: the registered version, else the base branch's model.

The registry's evidence carries the metrics of every registered version, so a
registered baseline is never retrained. Before anything is registered, the model
as it stands on the base branch is trained once in a detached worktree under
`.modelward/base-worktree` and served from its content-addressed cache afterwards.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import git
from .errors import ModelwardError
from .governance import Governance
from .manifest import Model, parse, training_fields
from .policy import Baseline, applicable
from .workspace import Loaded, load, state_dir
from .yamlio import load_bytes

if TYPE_CHECKING:
    from .registry import ModelHistory

BASE_WORKTREE = "base-worktree"


def against_stages(model: Model, rules: Governance, stage: str) -> list[str]:
    """The stages the no_regression rules that judge `model` moving into `stage` compare
    against."""
    stages: list[str] = []
    for policy in applicable(rules.policies, model.name, stage):
        for rule in policy.record.rules:
            nr = rule.no_regression
            if nr is not None and nr.against not in stages:
                stages.append(nr.against)
    return stages


def registered(
    history: ModelHistory | None, model: Model, rules: Governance, stage: str
) -> dict[str, Baseline]:
    """Registered baselines only, per stage (promotion and audit never train the base)."""
    found = {s: from_registry(history, s) for s in against_stages(model, rules, stage)}
    return {s: b for s, b in found.items() if b is not None}


def from_registry(history: ModelHistory | None, stage: str) -> Baseline | None:
    """The version the registry holds in `stage`, with the metrics its tags recorded."""
    if history is None:
        return None
    version = history.stage_versions().get(stage)
    if version is None:
        return None
    metrics: dict[str, float] = {}
    for event in history.events:
        if event.version == version and event.evidence is not None and event.evidence.metrics:
            metrics = dict(event.evidence.metrics)
    return Baseline(version=version, stage=stage, metrics=metrics, source="registry")


def base_model(repo: Path, ref: str, name: str) -> Loaded[Model] | None:
    """The model's manifest at `ref`, if it existed there and is valid."""
    path = f"models/{name}/model.yaml"
    raw = git.show(repo, ref, path)
    if raw is None:
        return None
    try:
        doc = load_bytes(raw, path)
        return Loaded(parse(doc, Model), doc)
    except ModelwardError:
        return None


def from_base_branch(repo: Path, ref: str, name: str, stage: str) -> Baseline | None:
    """Train (or fetch from cache) the model as it is at `ref`; None if it did not exist."""
    from .training import train

    before = base_model(repo, ref, name)
    if before is None:
        return None
    tree = _worktree_at(repo, ref)
    try:
        result = train(load(tree, only_models=[name]), name)
    except ModelwardError:
        return None  # a base that cannot train is no baseline; the head is judged alone
    metrics = {k: v for k, v in result.metrics.items() if v is not None}
    return Baseline(
        version=before.record.version, stage=stage, metrics=metrics, source="base-branch"
    )


def _worktree_at(repo: Path, ref: str) -> Path:
    """A detached worktree at `ref`, kept between runs so its artifact cache survives."""
    sha = git.rev_parse(repo, ref)
    tree = state_dir(repo) / BASE_WORKTREE
    if (tree / ".git").exists():
        git.run(tree, "checkout", "--quiet", "--detach", "--force", sha)
    else:
        git.run(repo, "worktree", "prune")
        git.run(repo, "worktree", "add", "--quiet", "--detach", "--force", str(tree), sha)
    return tree


def for_candidate(
    repo: Path,
    history: ModelHistory | None,
    model: Model,
    rules: Governance,
    base_ref: str,
    stage: str,
) -> dict[str, Baseline]:
    """Per compared stage: the registered version, else the base branch's model."""
    out = registered(history, model, rules, stage)
    missing = [s for s in against_stages(model, rules, stage) if s not in out]
    if missing:
        base = from_base_branch(repo, base_ref, model.name, missing[0])
        if base is not None:
            out.update({s: replace(base, stage=s) for s in missing})
    return out


def inputs_changed(repo: Path, base_ref: str, head_ref: str, old: Model, new: Model) -> bool:
    """Whether what trains the model differs between two commits: its training fields, or
    its dataset's file and the dataset.yaml fields that decide how it is read. A change to
    the expectations, the description or the monitoring settings changes no artifact."""
    if training_fields(old) != training_fields(new):
        return True
    dataset = new.data.dataset
    return _data_inputs(repo, base_ref, dataset) != _data_inputs(repo, head_ref, dataset)


DATASET_TRAINING_KEYS = ("source", "format", "sha256", "read")
"""The dataset.yaml fields that decide which rows a model is trained on."""


def _data_inputs(repo: Path, ref: str, dataset: str) -> tuple[str, str]:
    """The dataset's training-relevant fields (canonical JSON) and its file's blob id at
    `ref` (a remote source is identified by its sha256 pin, which is among the fields)."""
    import json
    import posixpath

    folder = f"data/{dataset}"
    path = f"{folder}/dataset.yaml"
    raw = git.read_blobs(repo, ref, [path]).get(path)
    try:
        data = load_bytes(raw, path).data if raw is not None else None
    except ModelwardError:
        return ("unreadable", raw.hex() if raw is not None else "")
    fields = {k: data.get(k) for k in DATASET_TRAINING_KEYS} if isinstance(data, dict) else {}
    source = fields.get("source")
    blob = ""
    if isinstance(source, str) and "://" not in source:
        target = posixpath.normpath(posixpath.join(folder, source))
        blob = git.run(
            repo, "rev-parse", "--verify", "--quiet", f"{ref}:{target}", check=False
        ).strip()
    return (json.dumps(fields, sort_keys=True, default=str), blob)
