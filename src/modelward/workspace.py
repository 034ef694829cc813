"""A checkout: finds every manifest, dataset and policy, and checks how they fit together.

Loading collects every problem before raising, so a user fixes a broken repository
in one round instead of one error per run. Nothing here imports pandas or
scikit-learn: dataset columns come from the CSV header or the parquet footer.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from .errors import InvalidInput, ModelwardError, Problem
from .manifest import (
    METRICS_BY_TASK,
    Config,
    Dataset,
    Model,
    Policy,
    Record,
    Waivers,
    parse,
)
from .statedir import STATE_DIR as STATE_DIR
from .statedir import state_dir as state_dir
from .yamlio import Document, load_path

R = TypeVar("R", bound=Record)

CONFIG_FILE = "modelward.yaml"
WAIVERS_FILE = "waivers.yaml"


@dataclass(frozen=True)
class Loaded(Generic[R]):
    """A validated record with the document it came from (for line numbers)."""

    record: R
    doc: Document

    @property
    def path(self) -> str:
        return self.doc.path


@dataclass
class Workspace:
    """Everything a checkout declares, validated."""

    root: Path
    config: Config
    config_doc: Document | None = None
    models: dict[str, Loaded[Model]] = field(default_factory=dict)
    datasets: dict[str, Loaded[Dataset]] = field(default_factory=dict)
    policies: dict[str, Loaded[Policy]] = field(default_factory=dict)
    waivers: Loaded[Waivers] | None = None

    def dataset_dir(self, name: str) -> Path:
        return self.root / "data" / name

    def data_path(self, dataset: Dataset) -> Path:
        """The dataset file, resolved and checked to lie inside the repository."""
        return resolve_inside(self.root, self.dataset_dir(dataset.name) / dataset.source)

    def expectations_path(self, dataset: Dataset) -> Path:
        return resolve_inside(self.root, self.dataset_dir(dataset.name) / dataset.expectations)

    def policies_for(self, model: str, stage: str) -> list[Loaded[Policy]]:
        return [
            p
            for p in self.policies.values()
            if stage in p.record.applies_to.stages
            and any(fnmatch.fnmatchcase(model, g) for g in p.record.applies_to.models)
        ]


class OutsideRepository(ModelwardError, ValueError):
    """A path that leaves the repository once symlinks are resolved (exit 2)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path} {reason}")


def resolve_inside(root: Path, path: Path) -> Path:
    """Resolve symlinks and refuse anything that lands outside `root`."""
    try:
        real_root = root.resolve()
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: RuntimeError before Python 3.13
        raise OutsideRepository(path, "cannot be resolved (symlink loop?)") from None
    if real != real_root and real_root not in real.parents:
        raise OutsideRepository(path, "resolves outside the repository")
    return real


def rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def load(root: Path, *, only_models: Iterable[str] | None = None) -> Workspace:
    """Load and cross-check a checkout. Raises InvalidInput with every problem found.

    `only_models` limits model loading to those names (their datasets, all policies),
    so that the cost of a pull request grows with what it changed.
    """
    root = Path(root)
    problems: list[Problem] = []
    config, config_doc = _load_config(root, problems)
    ws = Workspace(root=root, config=config, config_doc=config_doc)

    wanted = set(only_models) if only_models is not None else None
    for path in _manifests(root / "models", "model.yaml", problems, root):
        name = path.parent.name
        if wanted is not None and name not in wanted:
            continue
        loaded = _load_one(root, path, Model, problems)
        if loaded is not None:
            ws.models[name] = loaded
    needed = {m.record.data.dataset for m in ws.models.values()} if wanted is not None else None
    for path in _manifests(root / "data", "dataset.yaml", problems, root):
        if needed is not None and path.parent.name not in needed:
            continue
        loaded_ds = _load_one(root, path, Dataset, problems)
        if loaded_ds is not None:
            ws.datasets[path.parent.name] = loaded_ds
    policy_dir = root / "policies"
    if policy_dir.is_dir():
        for path in sorted(policy_dir.iterdir()):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            if path.stem == "waivers":
                ws.waivers = _load_one(root, path, Waivers, problems)
                continue
            loaded_p = _load_one(root, path, Policy, problems)
            if loaded_p is not None:
                ws.policies[path.stem] = loaded_p

    problems.extend(check(ws))
    if problems:
        raise InvalidInput(problems)
    return ws


def _load_config(root: Path, problems: list[Problem]) -> tuple[Config, Document | None]:
    path = root / CONFIG_FILE
    if not path.exists():
        return Config.default(), None
    loaded = _load_one(root, path, Config, problems)
    if loaded is None:
        return Config.default(), None
    return loaded.record, loaded.doc


def _manifests(folder: Path, filename: str, problems: list[Problem], root: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for sub in sorted(folder.iterdir()):
        if not sub.is_dir() or sub.name.startswith("."):
            continue
        path = sub / filename
        if path.is_file():
            found.append(path)
        elif not any(sub.iterdir()):
            continue
        elif folder.name == "models":
            problems.append(Problem(rel(root, sub), 1, "", f"folder has no {filename}"))
    return found


def _load_one(root: Path, path: Path, schema: type[R], problems: list[Problem]) -> Loaded[R] | None:
    display = rel(root, path)
    try:
        resolve_inside(root, path)
    except OutsideRepository as exc:
        problems.append(Problem(display, 1, "", f"the file {exc.reason}"))
        return None
    try:
        doc = load_path(path, display)
        record = parse(doc, schema)
    except InvalidInput as exc:
        problems.extend(exc.problems)
        return None
    return Loaded(record, doc)


# ---------------------------------------------------------------- cross-checks


def check(ws: Workspace) -> list[Problem]:
    """Problems that need more than one file to see."""
    problems: list[Problem] = []
    columns: dict[str, list[str] | None] = {}
    for folder, ds in ws.datasets.items():
        problems.extend(_check_name(ds, folder))
        columns[folder] = _check_dataset(ws, ds, problems)
    for folder, model in ws.models.items():
        problems.extend(_check_name(model, folder))
        problems.extend(_check_model(ws, model, columns))
    # A broken modelward.yaml is reported once; its stages are unknown, not empty.
    config_ok = ws.config_doc is not None or not (ws.root / CONFIG_FILE).exists()
    stages = ws.config.stage_names
    for stem, policy in ws.policies.items():
        problems.extend(_check_name(policy, stem))
        if not config_ok:
            continue
        for i, stage in enumerate(policy.record.applies_to.stages):
            if stage not in stages:
                problems.append(
                    policy.doc.problem(("applies_to", "stages", i), _unknown_stage(stage, stages))
                )
        for i, rule in enumerate(policy.record.rules):
            nr = rule.no_regression
            if nr is not None and nr.against not in stages:
                loc = ("rules", i, "no_regression", "against")
                problems.append(policy.doc.problem(loc, _unknown_stage(nr.against, stages)))
    if ws.waivers is not None:
        # a policy file that failed to load still exists: its own problems say why
        # stage order (rule promotes_from) is judged under the policy name modelward.yaml
        policy_names = _policy_names(ws) | {CONFIG_FILE}
        for i, waiver in enumerate(ws.waivers.record.waivers):
            if waiver.policy not in policy_names:
                problems.append(
                    ws.waivers.doc.problem(
                        ("waivers", i, "policy"),
                        _unknown_of("policy", waiver.policy, policy_names, "policies/"),
                    )
                )
    return problems


def _policy_names(ws: Workspace) -> set[str]:
    folder = ws.root / "policies"
    names = {
        p.stem
        for p in (folder.iterdir() if folder.is_dir() else ())
        if p.suffix in (".yaml", ".yml") and p.stem != "waivers"
    }
    return names | set(ws.policies)


def _check_name(
    loaded: Loaded[Model] | Loaded[Dataset] | Loaded[Policy], expected: str
) -> list[Problem]:
    name = loaded.record.name
    if name != expected:
        where = "file name" if isinstance(loaded.record, Policy) else "folder name"
        return [loaded.doc.problem(("name",), f"{name!r} must equal the {where} {expected!r}")]
    return []


def _unknown_stage(stage: str, stages: tuple[str, ...]) -> str:
    return _unknown_of("stage", stage, stages, "modelward.yaml stages")


def _unknown_of(what: str, value: str, known: Iterable[str], where: str) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known) or 'none'}"
    return f"unknown {what} {value!r} in {where}; {hint}"


def _check_dataset(ws: Workspace, ds: Loaded[Dataset], problems: list[Problem]) -> list[str] | None:
    record = ds.record
    try:
        expectations = ws.expectations_path(record)
        if not expectations.is_file():
            problems.append(
                ds.doc.problem(("expectations",), f"file not found: {rel(ws.root, expectations)}")
            )
    except OutsideRepository as exc:
        problems.append(ds.doc.problem(("expectations",), f"{record.expectations!r} {exc.reason}"))
    if record.is_remote:
        return None
    try:
        path = ws.data_path(record)
    except OutsideRepository as exc:
        problems.append(ds.doc.problem(("source",), f"{record.source!r} {exc.reason}"))
        return None
    if not path.is_file():
        problems.append(ds.doc.problem(("source",), f"file not found: {rel(ws.root, path)}"))
        return None
    try:
        return read_columns(path, record.file_format)
    except (OSError, ValueError) as exc:
        problems.append(ds.doc.problem(("source",), f"cannot read columns: {exc}"))
        return None


def read_columns(path: Path, fmt: str) -> list[str]:
    """Column names without loading the data."""
    if fmt == "parquet":
        import pyarrow.parquet as pq  # only repositories with parquet data pay for it

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises its own hierarchy
            raise ValueError(f"not a parquet file ({exc})") from None
    with path.open(newline="", encoding="utf-8-sig") as fh:
        try:
            header = next(csv.reader(fh), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"bad CSV header ({exc})") from None
    if not header:
        raise ValueError("the CSV file has no header row")
    return header


def _check_model(
    ws: Workspace, model: Loaded[Model], columns: dict[str, list[str] | None]
) -> list[Problem]:
    m, doc = model.record, model.doc
    out: list[Problem] = []
    config = ws.config
    config_ok = ws.config_doc is not None or not (ws.root / CONFIG_FILE).exists()
    for stage in m.stages:
        if config_ok and stage not in config.stage_names:
            out.append(doc.problem(("stages", stage), _unknown_stage(stage, config.stage_names)))
    prefixes = config.estimators.allow
    if config_ok and not any(m.model.estimator.startswith(p) for p in prefixes):
        allowed = ", ".join(prefixes)
        out.append(
            doc.problem(
                ("model", "estimator"),
                f"{m.model.estimator!r} is not allowed; estimators must start with "
                f"{allowed} (modelward.yaml estimators.allow)",
            )
        )
    known = METRICS_BY_TASK[m.task]
    for i, metric in enumerate(m.evaluation.metrics):
        if metric not in known:
            out.append(
                doc.problem(
                    ("evaluation", "metrics", i), f"metric {metric!r} does not apply to {m.task}"
                )
            )
    if m.evaluation.primary not in m.evaluation.metrics:
        out.append(
            doc.problem(
                ("evaluation", "primary"),
                f"{m.evaluation.primary!r} is not one of evaluation.metrics",
            )
        )
    if m.task == "regression" and m.data.split.stratify:
        out.append(
            doc.problem(("data", "split", "stratify"), "stratify applies to classification only")
        )
    dataset = m.data.dataset
    if dataset not in ws.datasets:
        if not (ws.root / "data" / dataset / "dataset.yaml").is_file():
            out.append(
                doc.problem(
                    ("data", "dataset"),
                    _unknown_of("dataset", dataset, _dataset_names(ws), "data/"),
                )
            )
        return out
    cols = columns.get(dataset)
    if cols is None:
        return out
    present: Callable[[str], bool] = set(cols).__contains__
    if not present(m.data.target):
        out.append(doc.problem(("data", "target"), _missing_column(m.data.target, cols, dataset)))
    features = m.data.features
    for key, names in (("include", features.include or []), ("exclude", features.exclude)):
        for i, col in enumerate(names):
            if not present(col):
                out.append(
                    doc.problem(("data", "features", key, i), _missing_column(col, cols, dataset))
                )
    if m.data.target in (features.include or []):
        out.append(doc.problem(("data", "features", "include"), "the target cannot be a feature"))
    for i, col in enumerate(m.evaluation.slices):
        if not present(col):
            out.append(
                doc.problem(("evaluation", "slices", i), _missing_column(col, cols, dataset))
            )
    return out


def _dataset_names(ws: Workspace) -> list[str]:
    folder = ws.root / "data"
    return (
        sorted(p.name for p in folder.iterdir() if (p / "dataset.yaml").is_file())
        if folder.is_dir()
        else []
    )


def _missing_column(col: str, cols: list[str], dataset: str) -> str:
    close = difflib.get_close_matches(col, cols, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"column {col!r} is not in dataset {dataset!r}{hint}"


def inventory(ws: Workspace) -> dict[str, object]:
    """A plain summary of what the checkout declares (for `validate` and the demo)."""
    return {
        "models": [
            {
                "name": n,
                "version": m.record.version,
                "stages": dict(m.record.stages),
                "task": m.record.task,
                "estimator": m.record.model.estimator,
                "dataset": m.record.data.dataset,
                "primary": m.record.evaluation.primary,
            }
            for n, m in sorted(ws.models.items())
        ],
        "datasets": [
            {"name": n, "source": d.record.source, "format": d.record.file_format}
            for n, d in sorted(ws.datasets.items())
        ],
        "policies": [
            {
                "name": n,
                "stages": p.record.applies_to.stages,
                "enforcement": p.record.enforcement,
                "rules": [r.kind for r in p.record.rules],
            }
            for n, p in sorted(ws.policies.items())
        ],
        "waivers": [
            {"policy": w.policy, "rule": w.rule, "model": w.model, "expires": w.expires.isoformat()}
            for w in (ws.waivers.record.waivers if ws.waivers else [])
        ],
        "stages": list(ws.config.stage_names),
    }
