"""Scoring a fitted pipeline and profiling its training data.

Metrics are scikit-learn scorer names, computed with `get_scorer(name)(pipeline, X, y)`
on the held-out rows, overall and per value of every slice column. A metric that is
not defined on a slice (roc_auc on a slice with one class, precision with no
predicted positives) is recorded as null with scikit-learn's reason instead of a
made-up number. The profile (quantiles, histograms, category shares) is what drift
checks compare new data with later.

Everything returned is plain JSON data: floats, ints, strings, None.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PROFILE_FORMAT = 2
"""2: a 101-point quantile sketch, histogram edges at reference quantiles, exact value
shares of low-cardinality numeric features. 1 (no `format` key): 9 quantiles, 10 bins."""
QUANTILES = tuple(i / 100 for i in range(101))
HISTOGRAM_STEP = 5
"""Histogram edges are the reference quantiles 0, 5, 10, ..., 100 % (duplicates merged)."""
TOP_CATEGORIES = 50
"""Categories kept by name; numeric features with at most this many distinct values
also keep their exact value shares."""
NULL_SLICE = "null"


@dataclass(frozen=True)
class Evaluation:
    """Metrics on the test rows: overall, per slice value, and the confusion matrix."""

    metrics: dict[str, float | None]
    reasons: dict[str, str] = field(default_factory=dict)
    """Why an overall metric is None (scikit-learn's message)."""
    slice_metrics: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """column -> value -> {"n": rows, "metrics": {...}, "reasons": {...} when any is null}."""
    confusion_matrix: dict[str, Any] | None = None
    """{"labels": [...], "matrix": [[...]]}; rows are true labels, columns predictions."""


class MetricFailed(Exception):
    """A metric raised on the whole test set (e.g. roc_auc for a multiclass target)."""

    def __init__(self, metric: str, reason: str) -> None:
        self.metric, self.reason = metric, reason
        super().__init__(f"{metric}: {reason}")


def score(
    pipeline: Any, metrics: list[str], X: pd.DataFrame, y: pd.Series
) -> tuple[dict[str, float | None], dict[str, str], dict[str, str]]:
    """(values, reasons for None values, errors raised) for each metric on (X, y)."""
    from sklearn.exceptions import UndefinedMetricWarning

    values: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in metrics:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = float(_scorer(name, pipeline)(pipeline, X, y))
            except ValueError as exc:
                values[name], reasons[name], errors[name] = None, str(exc), str(exc)
                continue
        undefined = [
            str(w.message) for w in caught if issubclass(w.category, UndefinedMetricWarning)
        ]
        if undefined or not math.isfinite(value):
            values[name] = None
            reasons[name] = undefined[0] if undefined else f"the value is {value}"
        else:
            values[name] = value
    return values, reasons, errors


def _scorer(name: str, pipeline: Any) -> Any:
    """scikit-learn's scorer; log loss knows every class, so a slice missing one still scores."""
    from sklearn.metrics import get_scorer, log_loss

    classes = getattr(pipeline, "classes_", None)
    if name != "neg_log_loss" or classes is None:
        return get_scorer(name)

    def neg_log_loss(estimator: Any, X: pd.DataFrame, y: pd.Series) -> float:
        return -float(log_loss(y, estimator.predict_proba(X), labels=list(classes)))

    return neg_log_loss


def evaluate(
    pipeline: Any,
    *,
    task: str,
    metrics: list[str],
    X_test: pd.DataFrame,
    y_test: pd.Series,
    slices: pd.DataFrame,
) -> Evaluation:
    """Score the pipeline on the test rows; `slices` holds the slice columns of those rows.

    Raises MetricFailed when a metric cannot be computed on the whole test set.
    """
    overall, reasons, errors = score(pipeline, metrics, X_test, y_test)
    for name, reason in errors.items():
        raise MetricFailed(name, reason)
    per_slice: dict[str, dict[str, dict[str, Any]]] = {}
    for column in slices.columns:
        groups: dict[str, dict[str, Any]] = {}
        keys = slices[column].map(slice_value)
        for value in sorted(set(keys)):
            mask = (keys == value).to_numpy()
            values, why, _ = score(pipeline, metrics, X_test[mask], y_test[mask])
            group: dict[str, Any] = {"n": int(mask.sum()), "metrics": values}
            if why:
                group["reasons"] = why
            groups[value] = group
        per_slice[str(column)] = groups
    matrix = confusion(pipeline, X_test, y_test) if task == "classification" else None
    return Evaluation(overall, reasons, per_slice, matrix)


def slice_value(value: Any) -> str:
    """The JSON key of a slice value: its text, `null` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NULL_SLICE
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return NULL_SLICE
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def confusion(pipeline: Any, X: pd.DataFrame, y: pd.Series) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    labels = list(pipeline.classes_)
    matrix = confusion_matrix(y, pipeline.predict(X), labels=labels)
    return {
        "labels": [plain(label) for label in labels],
        "matrix": [[int(c) for c in row] for row in matrix],
    }


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def is_numeric(series: pd.Series) -> bool:
    """Numeric features get imputation and scaling; everything else is categorical."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return bool(is_numeric_dtype(series) and not is_bool_dtype(series))


def quantile_key(q: float) -> str:
    """The JSON key of a quantile probability: `0`, `0.01`, ..., `0.5`, ..., `1`."""
    return f"{q:g}"


def profile(frame: pd.DataFrame) -> dict[str, Any]:
    """Per feature: its distribution in the training rows, for later drift checks.

    numeric: a 101-point quantile sketch (0, 1, ..., 100 %), mean, std, distinct count,
    null share, and a histogram whose `edges` are the reference quantiles at 0, 5, ...,
    100 % (duplicates merged); `counts` has len(edges) + 1 cells: (-inf, e0), [e0, e1),
    ..., [e_k-1, e_k] (the last inner bin is closed), (e_k, inf). A feature with at
    most 50 distinct values also keeps the exact share of each value (`frequencies`).
    categorical: the shares of the 50 most frequent values among non-null rows
    (ties broken by value), the share of all `other` values, and the null share.
    """
    return {
        "format": PROFILE_FORMAT,
        "n_rows": len(frame),
        "features": {
            str(column): (
                numeric_profile(frame[column])
                if is_numeric(frame[column])
                else categorical_profile(frame[column])
            )
            for column in frame.columns
        },
    }


def numeric_profile(series: pd.Series) -> dict[str, Any]:
    import numpy as np

    n = len(series)
    values = np.sort(series.dropna().to_numpy(dtype=float))
    out: dict[str, Any] = {
        "type": "numeric",
        "n": int(values.size),
        "null_share": (n - values.size) / n if n else 0.0,
    }
    if values.size == 0:
        return {
            **out,
            "n_distinct": 0,
            "quantiles": None,
            "mean": None,
            "std": None,
            "histogram": None,
        }
    qs = np.quantile(values, QUANTILES, method="linear")
    edges = np.unique(qs[::HISTOGRAM_STEP])
    if edges.size == 1:  # a constant column: one closed bin [v, v]
        edges = np.repeat(edges, 2)
    distinct, counts_of = np.unique(values, return_counts=True)
    out["n_distinct"] = int(distinct.size)
    if distinct.size <= TOP_CATEGORIES:
        out["frequencies"] = {
            value_key(float(v)): int(c) / values.size
            for v, c in zip(distinct, counts_of, strict=True)
        }
    return {
        **out,
        "quantiles": {quantile_key(q): _number(v) for q, v in zip(QUANTILES, qs, strict=True)},
        "mean": _number(values.mean()),
        "std": _number(values.std(ddof=1)) if values.size > 1 else None,
        "histogram": {"edges": [float(e) for e in edges], "counts": bin_counts(values, edges)},
    }


def value_key(value: float) -> str:
    """The JSON key of a numeric value: `3` for 3.0, `2.5` for 2.5 (float() reads it back)."""
    return str(int(value)) if value.is_integer() else repr(value)


def bin_counts(sorted_values: Any, edges: Any) -> list[int]:
    """Counts of (-inf, e0), [e0, e1), ..., [e_k-1, e_k], (e_k, inf) in sorted values."""
    import numpy as np

    cuts = np.searchsorted(sorted_values, edges, side="left")
    last = int(np.searchsorted(sorted_values, edges[-1], side="right"))
    bounds = [0, *(int(c) for c in cuts[:-1]), last, int(sorted_values.size)]
    return [int(c) for c in np.diff(bounds)]


def categorical_profile(series: pd.Series) -> dict[str, Any]:
    n = len(series)
    present = series.dropna().map(str)
    total = len(present)
    counts = present.value_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    top = ranked[:TOP_CATEGORIES]
    shown = sum(int(c) for _, c in top)
    return {
        "type": "categorical",
        "n": total,
        "null_share": (n - total) / n if n else 0.0,
        "n_categories": len(ranked),
        "frequencies": {str(k): int(c) / total for k, c in top} if total else {},
        "other": (total - shown) / total if total else 0.0,
    }
