"""What a candidate is compared with: the registered version, else the base branch's model.

The registry's evidence carries the metrics of every registered version, so a
registered baseline is never retrained. Before anything is registered, the model
as it stands on the base branch is trained once in a detached worktree under
`.modelward/base-worktree` and served from its content-addressed cache afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import git
from .errors import ModelwardError
from .governance import Governance
from .manifest import Model, parse
from .policy import Baseline
from .workspace import Loaded, load, state_dir
from .yamlio import load_bytes

if TYPE_CHECKING:
    from .registry import ModelHistory

BASE_WORKTREE = "base-worktree"


def against_stage(model: Model, rules: Governance) -> str | None:
    """The stage the applicable no_regression rules compare against, if any."""
    return next(
        (
            rule.no_regression.against
            for policy in rules.policies.values()
            if model.stage in policy.record.applies_to.stages
            for rule in policy.record.rules
            if rule.no_regression is not None
        ),
        None,
    )


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
    repo: Path, history: Any, model: Model, rules: Governance, merge_base: str
) -> Baseline | None:
    """The baseline no_regression and the report's delta column use for `model`."""
    stage = against_stage(model, rules)
    if stage is None:
        return None
    return from_registry(history, stage) or from_base_branch(repo, merge_base, model.name, stage)
