"""Training a model from its manifest: deterministic, checked, content-addressed.

`train(ws, name)` locates and pin-checks the data, computes the artifact key and
returns the recorded result on a cache hit (without importing scikit-learn or
pandas). On a miss it builds a scikit-learn Pipeline from the manifest, checks the
estimator and its parameters before fitting, splits deterministically from the
manifest's seed, fits, evaluates, profiles the training data and stores the
artifact. Every problem with the inputs is a ModelwardError naming the file and line.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import platform
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, artifacts
from .dataio import DataFile, locate, read_frame
from .errors import CheckFailed, InvalidInput, UsageError
from .hashing import canonical_hash
from .manifest import BINARY_ONLY_METRICS, MULTICLASS_METRICS, Model
from .workspace import Loaded, Workspace, state_dir

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced (or what a cache hit recorded)."""

    model: str
    version: str
    key: str
    metrics: dict[str, float | None]
    slice_metrics: dict[str, dict[str, dict[str, Any]]]
    """column -> value -> {"n": rows, "metrics": {...}, "reasons": {...} if any is null}."""
    confusion_matrix: dict[str, Any] | None
    data_sha256: str
    suite_sha256: str
    manifest_digest: str
    artifact_sha256: str
    artifact_bytes: int
    artifact_path: str
    versions: dict[str, str]
    fit_seconds: float
    """Seconds of the whole training step: reading, fitting, evaluating, slicing, storing."""
    n_train: int
    n_test: int
    cached: bool
    metric_reasons: dict[str, str] = dataclasses.field(default_factory=dict)
    """Why an overall metric is None."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def manifest_digest(record: Model) -> str:
    """Hash of the whole manifest as validated (defaults filled in, comments ignored)."""
    return canonical_hash(record.model_dump(mode="json", by_alias=True))


def library_versions() -> dict[str, str]:
    v = artifacts.package_version
    return {
        "python": platform.python_version(),
        "scikit-learn": v("scikit-learn"),
        "joblib": v("joblib"),
        "numpy": v("numpy"),
        "pandas": v("pandas"),
        "modelward": __version__,
    }


class TrainingTimeout(CheckFailed):
    """A fit ran past modelward.yaml's training.timeout_minutes (exit 1)."""

    def __init__(self, model: str, minutes: float) -> None:
        self.model, self.minutes = model, minutes
        super().__init__(
            f"training {model} was stopped after {minutes:g} minutes "
            "(modelward.yaml training.timeout_minutes); nothing was stored. "
            "Make the model cheaper to fit (fewer iterations or estimators)"
        )


def train(
    ws: Workspace, name: str, *, force: bool = False, timeout_minutes: float | None = None
) -> TrainResult:
    """Train model `name` (or return its cached result), store it, return what happened.

    The fit runs in a child process that is killed after `timeout_minutes` (default:
    the workspace's training.timeout_minutes; `pr` passes the base branch's).
    """
    state_dir(ws.root)
    loaded, data, suite, key = _inputs(ws, name)
    if not force:
        hit = _from_store(ws, loaded, key)
        if hit is not None:
            return hit
    limit = timeout_minutes if timeout_minutes is not None else ws.config.training.timeout_minutes
    return _fit_and_store(ws, loaded, data, key, suite, manifest_digest(loaded.record), limit)


def cached(ws: Workspace, name: str) -> TrainResult | None:
    """The stored result for the model as it stands now, without training (None: none yet)."""
    loaded, _, _, key = _inputs(ws, name)
    return _from_store(ws, loaded, key)


def _inputs(ws: Workspace, name: str) -> tuple[Loaded[Model], DataFile, str, str]:
    loaded = ws.models.get(name)
    if loaded is None:
        folder = ws.root / "models"
        names = {p.parent.name for p in folder.glob("*/model.yaml")} | set(ws.models)
        known = ", ".join(sorted(names)) or "none"
        raise UsageError(f"unknown model {name!r}; known: {known}")
    record = loaded.record
    data = locate(ws, record.data.dataset)
    suite = artifacts.suite_sha256(ws, record.data.dataset)
    return loaded, data, suite, artifacts.artifact_key(ws, record, data.sha256, suite, data.read)


def _from_store(ws: Workspace, loaded: Loaded[Model], key: str) -> TrainResult | None:
    entry = artifacts.read_entry(ws, key)
    if entry is None:
        return None
    record = loaded.record
    try:
        stored = TrainResult.from_dict(entry.metrics)
    except TypeError as exc:
        store = artifacts.open_store(ws)
        raise artifacts.corrupt(store, key, f"metrics.json is incomplete ({exc})") from None
    return dataclasses.replace(
        stored,
        metrics={m: stored.metrics.get(m) for m in record.evaluation.metrics},
        model=record.name,
        version=record.version,
        manifest_digest=manifest_digest(record),
        artifact_path=entry.artifact_path,
        cached=True,
    )


def train_each(
    ws: Workspace, names: Iterable[str] = (), *, force: bool = False, out: Path | None = None
) -> Iterator[TrainResult]:
    """Train each named model (all when none are named), in order, one result at a time.

    With `out`, each model's model.joblib, metrics.json and profile.json are copied
    there: into `out` itself for one model, into `out/NAME/` for several.
    """
    wanted = list(names) or sorted(ws.models)
    for name in wanted:
        if name not in ws.models:
            train(ws, name)  # raises the unknown-model error before anything is trained
    for name in wanted:
        result = train(ws, name, force=force)
        if out is not None:
            target = out if len(wanted) == 1 else out / name
            artifacts.export_entry(ws, result.key, target, result.to_dict())
        yield result


# ---------------------------------------------------------------- the fit path


def _fit_and_store(
    ws: Workspace,
    loaded: Loaded[Model],
    data: DataFile,
    key: str,
    suite: str,
    digest: str,
    timeout_minutes: float = 30,
) -> TrainResult:
    from . import evaluation

    record, doc = loaded.record, loaded.doc
    started = time.perf_counter()
    frame = read_frame(data)
    features = feature_columns(loaded, list(frame.columns), data.display)
    X, y = frame[features], frame[record.data.target]
    check_target(loaded, y, data.display)
    check_metrics(loaded, y, data.display)
    check_features(loaded, X, data.display)
    slices = slice_frame(loaded, frame, data.display)
    estimator = make_estimator(ws, loaded)
    pipeline = build_pipeline(record.model.preprocess, X, estimator)

    train_idx, test_idx = split(loaded, y)
    X_train, y_train = X.iloc[train_idx], y.iloc[train_idx]
    X_test, y_test = X.iloc[test_idx], y.iloc[test_idx]
    if record.task == "classification" and y_train.nunique() < 2:
        raise InvalidInput(
            [
                doc.problem(
                    ("data", "split"),
                    f"the training split of {data.display} has one class of "
                    f"{record.data.target!r} only ({first(y_train)!r}); a classifier needs "
                    "at least two (stratify: true keeps both in each part)",
                )
            ]
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        try:
            pipeline = fit_within(pipeline, X_train, y_train, timeout_minutes, record.name)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                [
                    doc.problem(
                        ("model",),
                        f"{type(estimator).__name__} could not be fitted on {data.display}: {exc}",
                    )
                ]
            ) from None

    slices = slices.iloc[test_idx]
    try:
        result = evaluation.evaluate(
            pipeline,
            task=record.task,
            metrics=list(record.evaluation.metrics),
            X_test=X_test,
            y_test=y_test,
            slices=slices,
        )
    except evaluation.MetricFailed as exc:
        index = record.evaluation.metrics.index(exc.metric)
        raise InvalidInput(
            [doc.problem(("evaluation", "metrics", index), f"cannot be computed: {exc.reason}")]
        ) from None
    training_profile = evaluation.profile(X_train)

    model_bytes = artifacts.dump_model(pipeline)
    from .hashing import bytes_sha256

    store = artifacts.open_store(ws)
    fit_seconds = time.perf_counter() - started
    outcome = TrainResult(
        model=record.name,
        version=record.version,
        key=key,
        metrics=result.metrics,
        slice_metrics=result.slice_metrics,
        confusion_matrix=result.confusion_matrix,
        data_sha256=data.sha256,
        suite_sha256=suite,
        manifest_digest=digest,
        artifact_sha256=bytes_sha256(model_bytes),
        artifact_bytes=len(model_bytes),
        artifact_path=store.path(key, artifacts.MODEL_FILE),
        versions=library_versions(),
        fit_seconds=fit_seconds,
        n_train=len(train_idx),
        n_test=len(test_idx),
        cached=False,
        metric_reasons=result.reasons,
    )
    artifacts.write_entry(store, key, model_bytes, training_profile, outcome.to_dict())
    return outcome


def fit_within(pipeline: Any, X: Any, y: Any, minutes: float, model: str) -> Any:
    """Fit under a wall-clock limit; past it, TrainingTimeout.

    The fit runs in this process, not in a child: a child forked after this process
    used OpenMP (any HistGradientBoosting predict does) deadlocks in its first parallel
    region, and a pipeline sent back from a spawned child pickles to other bytes than
    one fitted here, so the artifact's sha256 would depend on how it was trained.
    SIGALRM stops the fit at its next Python step; scikit-learn's estimators iterate in
    Python (boosting rounds, trees, optimizer steps), and the parameter bounds keep a
    single C call short. Off the main thread (modelward embedded in a threaded program)
    no signal can be set, and the fit runs without a limit.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return _fit(pipeline, X, y)

    fired = False

    def expired(signum: int, frame: Any) -> None:
        nonlocal fired
        fired = True
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expired)
    # re-armed every second: a library that swallows the first interruption (numpy turns
    # any exception in its PEP 3118 parser into a ValueError) gets the next one
    signal.setitimer(signal.ITIMER_REAL, minutes * 60, 1.0)
    try:
        fitted = _fit(pipeline, X, y)
    except BaseException:
        if fired:
            raise TrainingTimeout(model, minutes) from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:  # interrupted, the interruption swallowed, and finished past the limit
        raise TrainingTimeout(model, minutes)
    return fitted


class _Expired(BaseException):
    """Raised by the alarm; a BaseException, so no `except Exception` in a fit swallows it."""


def _fit(pipeline: Any, X: Any, y: Any) -> Any:
    return pipeline.fit(X, y)


def _missing(col: str, columns: list[str], display: str) -> str:
    close = difflib.get_close_matches(col, columns, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"column {col!r} is not in {display}{hint}"


def feature_columns(loaded: Loaded[Model], columns: list[str], display: str) -> list[str]:
    """The feature columns, in data order; every column the manifest names must exist."""
    record, doc = loaded.record, loaded.doc
    problems = []
    target, spec = record.data.target, record.data.features
    if target not in columns:
        problems.append(doc.problem(("data", "target"), _missing(target, columns, display)))
    for key, names in (("include", spec.include or []), ("exclude", spec.exclude)):
        for i, col in enumerate(names):
            if col not in columns:
                problems.append(
                    doc.problem(("data", "features", key, i), _missing(col, columns, display))
                )
    for i, col in enumerate(record.evaluation.slice_columns):
        if col not in columns:
            problems.append(
                doc.problem(("evaluation", "slices", i), _missing(col, columns, display))
            )
    if problems:
        raise InvalidInput(problems)
    if spec.include is not None:
        chosen = [c for c in columns if c in spec.include]
    else:
        chosen = [c for c in columns if c != target and c not in spec.exclude]
    if not chosen:
        raise InvalidInput([doc.problem(("data", "features"), "no feature columns are left")])
    return chosen


def check_target(loaded: Loaded[Model], y: pd.Series, display: str) -> None:
    from .evaluation import is_numeric

    record, doc = loaded.record, loaded.doc
    target = record.data.target
    missing = int(y.isna().sum())
    if missing:
        raise InvalidInput(
            [
                doc.problem(
                    ("data", "target"),
                    f"{missing} rows of {display} have no value in the target {target!r}",
                )
            ]
        )
    if record.task == "regression" and not is_numeric(y):
        sample = next(iter(y.map(repr).unique()[:1]), "")
        raise InvalidInput(
            [
                doc.problem(
                    ("data", "target"),
                    f"the regression target {target!r} is not numeric in {display} "
                    f"(type {dtype_name(y)}, e.g. {sample})",
                )
            ]
        )
    if record.task == "classification" and y.nunique() < 2:
        raise InvalidInput(
            [
                doc.problem(
                    ("data", "target"),
                    f"the target {target!r} has one class only ({first(y)!r}) in {display}; "
                    "a classifier needs at least two",
                )
            ]
        )


def check_metrics(loaded: Loaded[Model], y: pd.Series, display: str) -> None:
    """Every metric that cannot score this target's number of classes, in one error, pre-fit."""
    record, doc = loaded.record, loaded.doc
    if record.task != "classification":
        return
    classes = sorted(y.dropna().unique().tolist(), key=str)
    if len(classes) <= 2:
        return
    shown = ", ".join(str(c) for c in classes[:5]) + (", ..." if len(classes) > 5 else "")
    problems = []
    for i, metric in enumerate(record.evaluation.metrics):
        if metric not in BINARY_ONLY_METRICS:
            continue
        instead = BINARY_ONLY_METRICS[metric]
        hint = f"use {instead!r} or another of: " if instead else "use one of: "
        problems.append(
            doc.problem(
                ("evaluation", "metrics", i),
                f"{metric!r} is for two classes, but {record.data.target!r} has "
                f"{len(classes)} in {display} ({shown}); {hint}{', '.join(MULTICLASS_METRICS)}",
            )
        )
    if problems:
        raise InvalidInput(problems)


def first(series: pd.Series) -> Any:
    """The first value as a plain Python object: `0`, not numpy 2's `np.int64(0)`."""
    return series.iloc[:1].tolist()[0]


def dtype_name(series: pd.Series) -> str:
    """`str` for text under pandas 2 (object) and 3 (str) alike; else the dtype's name."""
    from pandas.api.types import is_string_dtype

    return "str" if is_string_dtype(series) else str(series.dtype)


def check_features(loaded: Loaded[Model], X: pd.DataFrame, display: str) -> None:
    """Refuse features the pipeline would fit badly: empty, dates, or too many categories."""
    from .evaluation import is_numeric

    record, doc = loaded.record, loaded.doc
    empty = [str(c) for c in X.columns if X[c].isna().all()]
    if empty:
        names = ", ".join(repr(c) for c in empty)
        raise InvalidInput(
            [
                doc.problem(
                    ("data", "features"),
                    f"feature {names} has no values in {display} (all missing); "
                    "exclude it in data.features",
                )
            ]
        )
    problems = []
    for column in X.columns:
        kind = temporal_kind(X[column])
        if kind is not None:
            problems.append(
                doc.problem(
                    ("data", "features"),
                    f"feature {str(column)!r} holds {kind} in {display}; a date is not a "
                    f"feature: add {str(column)!r} to data.features.exclude (or derive a "
                    "number from it, such as an age in days, in the data)",
                )
            )
    limit = record.data.features.max_categories
    if record.model.preprocess == "auto":
        for column in X.columns:
            if is_numeric(X[column]) or temporal_kind(X[column]) is not None:
                continue
            distinct = int(X[column].nunique())
            if distinct > limit:
                problems.append(
                    doc.problem(
                        ("data", "features"),
                        f"feature {str(column)!r} has {distinct} distinct values in {display}, "
                        f"more than max_categories ({limit}); one-hot encoding would make a "
                        "column of each: exclude it (an identifier?) or raise "
                        "data.features.max_categories",
                    )
                )
    if problems:
        raise InvalidInput(problems)


DATE_RE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\S*$"


def temporal_kind(series: pd.Series) -> str | None:
    """'dates (datetime64[ns])', 'date strings (e.g. '2024-01-31')' or None."""
    from pandas.api.types import is_datetime64_any_dtype, is_string_dtype, is_timedelta64_dtype

    if is_datetime64_any_dtype(series) or is_timedelta64_dtype(series):
        return f"dates ({series.dtype})"
    if not (is_string_dtype(series) or series.dtype == object):
        return None
    sample = series.dropna().astype(str).unique()[:100]
    if len(sample) == 0 or not all(_looks_like_date(v) for v in sample):
        return None
    return f"date strings (e.g. {sample[0]!r})"


def _looks_like_date(text: str) -> bool:
    import re

    import pandas as pd

    if not re.match(DATE_RE, text.strip()):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pd.Timestamp(text.strip())
        except (ValueError, TypeError, OverflowError):
            return False
    return True


MAX_SLICE_VALUES = 50


def slice_frame(loaded: Loaded[Model], frame: pd.DataFrame, display: str) -> pd.DataFrame:
    """One column per slice: the column as is, or its bin labels; at most 50 values each."""
    import pandas as pd

    from .evaluation import is_numeric

    doc = loaded.doc
    out: dict[str, pd.Series] = {}
    problems = []
    for i, spec in enumerate(loaded.record.evaluation.slices):
        where = ("evaluation", "slices", i)
        if isinstance(spec, str):
            column = frame[spec]
            distinct = int(column.nunique())
            if distinct > MAX_SLICE_VALUES:
                example = f"{{column: {spec}, bins: [...]}}"
                fix = f"bin it: {example}" if is_numeric(column) else "slice a coarser column"
                problems.append(
                    doc.problem(
                        where,
                        f"slice column {spec!r} has {distinct} distinct values in {display}, "
                        f"more than {MAX_SLICE_VALUES}; {fix}",
                    )
                )
                continue
            out[spec] = column
            continue
        column = frame[spec.column]
        if not is_numeric(column):
            problems.append(
                doc.problem(
                    (*where, "column"),
                    f"binned slice column {spec.column!r} is not numeric in {display} "
                    f"(type {dtype_name(column)})",
                )
            )
            continue
        edges = spec.bins
        labels = [f"[{a:g}, {b:g})" for a, b in itertools.pairwise(edges)]
        cut = pd.cut(column, bins=edges, right=False, labels=labels)
        out[spec.column] = cut.astype(object).where(cut.notna(), None)
    if problems:
        raise InvalidInput(problems)
    return pd.DataFrame(out, index=frame.index)


# ---------------------------------------------------------------- estimator and pipeline


def make_estimator(ws: Workspace, loaded: Loaded[Model]) -> Any:
    """Import the allow-listed estimator (nested ones too), check its task and params."""

    from sklearn.base import BaseEstimator, is_classifier, is_regressor
    from sklearn.utils._param_validation import InvalidParameterError

    from . import estimators

    record, doc = loaded.record, loaded.doc
    path = record.model.estimator
    where = ("model", "estimator")
    spec_problems = list(
        estimators.check(path, record.model.params, ws.config.estimators.allow, ("model",))
    )
    if spec_problems:
        raise InvalidInput([doc.problem(loc, message) for loc, message in spec_problems])
    try:
        cls = estimators.load_class(path)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput([doc.problem(where, f"cannot import {path!r}: {exc}")]) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        raise InvalidInput([doc.problem(where, f"{path!r} is not a scikit-learn estimator class")])
    label = cls.__name__
    seed = record.data.split.seed
    try:
        params = estimators.build_params(record.model.params, seed)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise InvalidInput([doc.problem(("model", "params"), f"cannot build: {exc}")]) from None
    needed = required_params(cls)
    absent = [n for n in needed if n not in params]
    if absent:
        names = ", ".join(absent)
        raise InvalidInput(
            [doc.problem(where, f"{label} needs {names} in model.params (no default)")]
        )
    base = {n: params[n] for n in needed}
    try:
        probe = cls(**base)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            [doc.problem(("model", "params"), f"{label} cannot be built: {exc}")]
        ) from None
    kind_ok = is_classifier(probe) if record.task == "classification" else is_regressor(probe)
    if not kind_ok:
        want = "classifier" if record.task == "classification" else "regressor"
        raise InvalidInput(
            [doc.problem(where, f"{label} is not a {want}, but the task is {record.task}")]
        )
    known = sorted(probe.get_params(deep=False))
    problems = []
    for name, value in params.items():
        loc = ("model", "params", name)
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            problems.append(doc.problem(loc, f"unknown parameter of {label}; {hint}"))
            continue
        single = cls(**base).set_params(**{name: value})
        validate = getattr(single, "_validate_params", None)
        if callable(validate):
            try:
                validate()
            except InvalidParameterError as exc:
                problems.append(doc.problem(loc, str(exc)))
    if problems:
        raise InvalidInput(problems)
    if "random_state" in known and "random_state" not in params:
        params["random_state"] = seed
    return cls(**params)


def required_params(cls: type) -> list[str]:
    """Constructor parameters without a default (sklearn's meta-estimators have some)."""
    import inspect

    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def build_pipeline(preprocess: str, X: pd.DataFrame, estimator: Any) -> Any:
    """auto: numeric -> median imputation + scaling; the rest -> mode + one-hot; none: as is."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from .evaluation import is_numeric

    if preprocess == "none":
        return Pipeline([("model", estimator)])
    numeric = [c for c in X.columns if is_numeric(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(
            (
                "numeric",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                numeric,
            )
        )
    if categorical:
        steps.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        (
                            "onehot",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                        ),
                    ]
                ),
                categorical,
            )
        )
    return Pipeline([("preprocess", ColumnTransformer(steps)), ("model", estimator)])


def split(loaded: Loaded[Model], y: pd.Series) -> tuple[list[int], list[int]]:
    """Row positions of the training and test parts; the same for the same seed."""
    from sklearn.model_selection import train_test_split

    spec, doc = loaded.record.data.split, loaded.doc
    positions = list(range(len(y)))
    try:
        train_idx, test_idx = train_test_split(
            positions,
            test_size=spec.test_size,
            random_state=spec.seed,
            stratify=y if spec.stratify else None,
        )
    except ValueError as exc:
        field = "stratify" if spec.stratify else "test_size"
        raise InvalidInput(
            [doc.problem(("data", "split", field), f"cannot split the data: {exc}")]
        ) from None
    return sorted(train_idx), sorted(test_idx)
