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
from typing import Any, Generic, TypeVar

from . import estimators
from .errors import InvalidInput, ModelwardError, Problem
from .expectations import parse_suite
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
from .yamlio import Document, Loc, load_path

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
        """The dataset file, resolved and checked to lie inside the repository, no link."""
        path = self.dataset_dir(dataset.name) / dataset.source
        refuse_links(self.root, path)
        return resolve_inside(self.root, path)

    def expectations_path(self, dataset: Dataset) -> Path:
        path = self.dataset_dir(dataset.name) / dataset.expectations
        refuse_links(self.root, path)
        return resolve_inside(self.root, path)

    warnings: list[Problem] = field(default_factory=list)
    """Problems that stop nothing but that a user should fix (approvals no one can give)."""

    def policies_for(self, model: str, stage: str) -> list[Loaded[Policy]]:
        task = self.models[model].record.task if model in self.models else None
        return [
            p
            for p in self.policies.values()
            if stage in p.record.applies_to.stages
            and any(fnmatch.fnmatchcase(model, g) for g in p.record.applies_to.models)
            and (task is None or task in p.record.applies_to.tasks)
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


class SymlinkRefused(OutsideRepository):
    """A manifest, dataset or policy reached through a symbolic link (exit 2).

    Through a link, a file's content follows another path, so an edit there would alter
    a model, its data or a rule without showing in the diff that `plan` judges."""

    def __init__(self, path: Path, link: str) -> None:
        super().__init__(
            path,
            f"goes through a symbolic link ({link}); manifests, datasets and policies "
            "must be regular files",
        )


def refuse_links(root: Path, path: Path) -> None:
    """SymlinkRefused when `path`, or a folder between `root` and it, is a symlink."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return  # not under root: resolve_inside refuses it
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise SymlinkRefused(path, rel(root, current))


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
    if policy_dir.is_symlink():
        refused = SymlinkRefused(policy_dir, "policies")
        problems.append(Problem("policies", 1, "", f"the folder {refused.reason}"))
    elif policy_dir.is_dir():
        for path in sorted(policy_dir.iterdir()):
            if path.suffix not in (".yaml", ".yml") or not (path.is_file() or path.is_symlink()):
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
    if not path.exists() and not path.is_symlink():
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
        if path.is_file() or path.is_symlink():
            found.append(path)
        elif not any(sub.iterdir()):
            continue
        elif folder.name == "models":
            problems.append(Problem(rel(root, sub), 1, "", f"folder has no {filename}"))
    return found


def _load_one(root: Path, path: Path, schema: type[R], problems: list[Problem]) -> Loaded[R] | None:
    display = rel(root, path)
    try:
        refuse_links(root, path)
        resolve_inside(root, path)
    except OutsideRepository as exc:
        problems.append(Problem(display, 1, "", f"the file {exc.reason}"))
        return None
    try:
        doc = load_path(path, display)
    except InvalidInput as exc:
        problems.extend(exc.problems)
        return None
    try:
        record = parse(doc, schema)
    except InvalidInput as exc:
        problems.extend(exc.problems)
        return _salvage(doc, schema, exc)
    return Loaded(record, doc)


def _salvage(doc: Document, schema: type[R], exc: InvalidInput) -> Loaded[R] | None:
    """The record without its broken optional keys, so cross-file checks still run.

    One pass finds everything: a typo in one key must not hide an unknown stage or a
    metric for the wrong task elsewhere in the file. The load still fails (its
    problems were recorded); the salvaged record only feeds `check`.
    """
    if not isinstance(doc.data, dict):
        return None
    bad = set()
    for problem in exc.problems:
        top = problem.field.split(".")[0].split("[")[0]
        if not top:
            return None
        bad.add(top)
    declared = {f.alias or n: f for n, f in schema.model_fields.items()}
    if any(key in declared and declared[key].is_required() for key in bad):
        return None
    try:
        record = schema.model_validate({k: v for k, v in doc.data.items() if k not in bad})
    except ValueError:  # pydantic's ValidationError: still broken, nothing to salvage
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
    if config_ok:
        problems.extend(_check_coverage(ws, columns))
    if ws.waivers is not None:
        problems.extend(_check_waiver_targets(ws))
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


def _covered(ws: Workspace, policy: Policy) -> list[Loaded[Model]]:
    scope = policy.applies_to
    return [
        m
        for name, m in sorted(ws.models.items())
        if any(fnmatch.fnmatchcase(name, g) for g in scope.models) and m.record.task in scope.tasks
    ]


def _check_coverage(ws: Workspace, columns: dict[str, list[str] | None]) -> list[Problem]:
    """A policy must be able to judge every model it covers (metrics, slices, approvals)."""
    problems: list[Problem] = []
    for policy in ws.policies.values():
        record, doc = policy.record, policy.doc
        for model in _covered(ws, record):
            m = model.record
            other = "regression" if m.task == "classification" else "classification"
            hint = (
                f"; scope the policy with applies_to.tasks: [{other}]"
                if len(record.applies_to.tasks) > 1
                else ""
            )
            for i, rule in enumerate(record.rules):
                metrics: list[tuple[Loc, str]] = []
                if rule.min_metric is not None:
                    metrics += [(("rules", i, "min_metric", k), k) for k in rule.min_metric]
                if rule.no_regression is not None:
                    metrics.append(
                        (("rules", i, "no_regression", "metric"), rule.no_regression.metric)
                    )
                if rule.fairness_gap is not None:
                    metrics.append(
                        (("rules", i, "fairness_gap", "metric"), rule.fairness_gap.metric)
                    )
                for loc, metric in metrics:
                    if metric not in METRICS_BY_TASK[m.task]:
                        problems.append(
                            doc.problem(
                                loc,
                                f"{metric} does not apply to {m.task} model {m.name!r}{hint}",
                            )
                        )
                fg = rule.fairness_gap
                cols = columns.get(m.data.dataset)
                if fg is not None and cols is not None and fg.slice not in cols:
                    problems.append(
                        doc.problem(
                            ("rules", i, "fairness_gap", "slice"),
                            f"column {fg.slice!r} is not in dataset {m.data.dataset!r} of "
                            f"model {m.name!r}; scope the policy with applies_to.models",
                        )
                    )
                if rule.approvals is not None:
                    warning = _unreachable_approvals(ws, rule.approvals, m)
                    if warning:
                        ws.warnings.append(doc.problem(("rules", i, "approvals"), warning))
    return problems


def _unreachable_approvals(ws: Workspace, rule: Any, m: Model) -> str | None:
    """Why `rule` can never pass for model `m`, or None (a team may have any size)."""
    source = rule.from_
    if source == "owners":
        people, where = set(m.owners), f"model {m.name!r} has"
    elif source == "governance":
        gov = ws.config.governance
        people, where = (set(gov.owners) if gov else set()), "governance.owners has"
    else:
        people, where = set(source), "the list has"
    if any(p.startswith("@") and "/" in p for p in people):
        return None
    eligible = len(people) - (1 if rule.exclude_author else 0)
    if eligible >= rule.min:
        return None
    author = " (the author, who may be one of them, does not count)" if rule.exclude_author else ""
    return (
        f"warning: needs {rule.min} approvals but {where} {len(people)} approver(s){author}; "
        f"model {m.name!r} can never pass this rule"
    )


def _check_waiver_targets(ws: Workspace) -> list[Problem]:
    """A waiver must name a model that exists and a rule its policy has."""
    assert ws.waivers is not None
    problems: list[Problem] = []
    models = _model_names(ws)
    for i, waiver in enumerate(ws.waivers.record.waivers):
        if models and not any(fnmatch.fnmatchcase(n, waiver.model) for n in models):
            problems.append(
                ws.waivers.doc.problem(
                    ("waivers", i, "model"),
                    _unknown_of("model", waiver.model, models, "models/"),
                )
            )
        policy = ws.policies.get(waiver.policy)
        if policy is None or waiver.rule == "promotes_from":
            continue
        kinds = [r.kind for r in policy.record.rules]
        if waiver.rule not in kinds:
            problems.append(
                ws.waivers.doc.problem(
                    ("waivers", i, "rule"),
                    f"policy {waiver.policy!r} has no rule {waiver.rule!r}; "
                    f"its rules: {', '.join(kinds)}",
                )
            )
    return problems


def _model_names(ws: Workspace) -> list[str]:
    folder = ws.root / "models"
    names = (
        {p.name for p in folder.iterdir() if (p / "model.yaml").is_file()}
        if folder.is_dir()
        else set()
    )
    return sorted(names | set(ws.models))


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
    columns = _dataset_columns(ws, ds, problems)
    try:
        expectations = ws.expectations_path(record)
        if not expectations.is_file():
            problems.append(
                ds.doc.problem(("expectations",), f"file not found: {rel(ws.root, expectations)}")
            )
        else:
            _check_expectations(ws, ds, expectations, columns, problems)
    except OutsideRepository as exc:
        problems.append(ds.doc.problem(("expectations",), f"{record.expectations!r} {exc.reason}"))
    return columns


def _check_expectations(
    ws: Workspace,
    ds: Loaded[Dataset],
    path: Path,
    columns: list[str] | None,
    problems: list[Problem],
) -> None:
    """Types, kwargs and columns of the expectations file, as datachecks will read it."""
    try:
        doc = load_path(path, rel(ws.root.resolve(), path))
        parse_suite(doc, ds.record.name, columns)
    except InvalidInput as exc:
        problems.extend(exc.problems)


def _dataset_columns(
    ws: Workspace, ds: Loaded[Dataset], problems: list[Problem]
) -> list[str] | None:
    record = ds.record
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
        cols = read_columns(path, record.file_format, record.read.sep, record.read.encoding)
    except (OSError, ValueError) as exc:
        problems.append(ds.doc.problem(("source",), f"cannot read columns: {exc}"))
        return None
    from .dataio import separator_hint

    hint = separator_hint(cols, record.read.sep) if record.file_format == "csv" else None
    if hint:
        problems.append(ds.doc.problem(("source",), hint))
        return None
    if record.id_column is not None and record.id_column not in cols:
        problems.append(
            ds.doc.problem(("id_column",), _missing_column(record.id_column, cols, record.name))
        )
    return cols


def read_columns(path: Path, fmt: str, sep: str = ",", encoding: str = "utf-8") -> list[str]:
    """Column names without loading the data."""
    if fmt == "parquet":
        import pyarrow.parquet as pq  # only repositories with parquet data pay for it

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises its own hierarchy
            raise ValueError(f"not a parquet file ({exc})") from None
    encoding = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    try:
        text = first.decode(encoding)
        header = next(csv.reader([text.rstrip("\r\n")], delimiter=sep), None)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"bad CSV header ({exc}); set read: {{encoding: latin-1}} (or the file's "
            "encoding) in dataset.yaml"
        ) from None
    except csv.Error as exc:
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
    if config_ok:
        spec_problems = list(
            estimators.check(m.model.estimator, m.model.params, config.estimators.allow, ("model",))
        )
        out.extend(doc.problem(loc, message) for loc, message in spec_problems)
        kind = estimators.kind_of(m.model.estimator, m.model.params)
        want = "classifier" if m.task == "classification" else "regressor"
        if kind is not None and kind != want and not spec_problems:
            out.append(
                doc.problem(
                    ("model", "estimator"),
                    f"{m.model.estimator.rsplit('.', 1)[-1]} is a {kind}, but the task is {m.task}",
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
    for i, spec in enumerate(m.evaluation.slices):
        col = spec if isinstance(spec, str) else spec.column
        if not present(col):
            at = (
                ("evaluation", "slices", i)
                if isinstance(spec, str)
                else ("evaluation", "slices", i, "column")
            )
            out.append(doc.problem(at, _missing_column(col, cols, dataset)))
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


def deep_check(ws: Workspace) -> None:
    """`validate --deep`: sha256 pins and the data's dtypes (reads the data; imports pandas).

    Raises InvalidInput with every problem: a pin that does not match, a regression
    target that is not numeric, a classification target with one class.
    """
    from .dataio import locate, read_frame
    from .errors import DataError

    problems: list[Problem] = []
    frames = {}
    for name, ds in sorted(ws.datasets.items()):
        if ds.record.is_remote:
            continue  # fetching is not validation; train and check-data verify the pin
        try:
            frames[name] = read_frame(locate(ws, name))
        except DataError as exc:
            problems.append(Problem(exc.path, exc.line or 1, "", str(exc).split(": ", 1)[-1]))
    for model in ws.models.values():
        m, doc = model.record, model.doc
        frame = frames.get(m.data.dataset)
        if frame is None or m.data.target not in frame.columns:
            continue
        target = frame[m.data.target]
        from .evaluation import is_numeric

        if m.task == "regression" and not is_numeric(target):
            problems.append(
                doc.problem(
                    ("data", "target"),
                    f"the regression target {m.data.target!r} is not numeric "
                    f"(dtype {target.dtype})",
                )
            )
        if m.task == "classification" and target.nunique() < 2:
            problems.append(
                doc.problem(
                    ("data", "target"),
                    f"the target {m.data.target!r} has one class only; a classifier needs two",
                )
            )
    if problems:
        raise InvalidInput(problems)


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
