"""Metrics, slices that cannot be scored, the confusion matrix and the training profile."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from modelward import evaluation


def fitted() -> tuple[Any, pd.DataFrame, pd.Series, pd.DataFrame]:
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.randn(200)})
    y = pd.Series((X["x"] + rng.randn(200) * 0.5 > 0).astype(int))
    # group "pure" holds only positives: roc_auc is undefined there
    group = np.where(y.to_numpy() == 1, np.where(np.arange(200) % 2 == 0, "pure", "mixed"), "mixed")
    return LogisticRegression().fit(X, y), X, y, pd.DataFrame({"group": group})


def test_a_slice_metric_that_cannot_be_computed_is_null_with_the_reason() -> None:
    model, X, y, slices = fitted()
    result = evaluation.evaluate(
        model,
        task="classification",
        metrics=["roc_auc", "accuracy"],
        X_test=X,
        y_test=y,
        slices=slices,
    )
    pure = result.slice_metrics["group"]["pure"]
    assert pure["n"] == int((slices["group"] == "pure").sum())
    assert pure["metrics"]["roc_auc"] is None
    assert pure["reasons"] == {
        "roc_auc": "Only one class is present in y_true. ROC AUC score is not defined in that case."
    }
    assert pure["metrics"]["accuracy"] == pytest.approx(
        float((model.predict(X[slices["group"] == "pure"]) == 1).mean())
    )
    assert "reasons" not in result.slice_metrics["group"]["mixed"]
    assert result.metrics["roc_auc"] is not None


def test_an_overall_metric_that_raises_is_a_metric_failure() -> None:
    model, X, y, slices = fitted()
    with pytest.raises(evaluation.MetricFailed) as err:
        evaluation.evaluate(
            model,
            task="classification",
            metrics=["r2", "neg_mean_gamma_deviance"],
            X_test=X,
            y_test=y,
            slices=slices.iloc[:, :0],
        )
    assert err.value.metric == "neg_mean_gamma_deviance"


def test_the_confusion_matrix_names_its_labels() -> None:
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    y = pd.Series(["no", "no", "no", "yes", "yes", "yes"])
    model = LogisticRegression().fit(X, y)
    assert evaluation.confusion(model, X, y) == {
        "labels": ["no", "yes"],
        "matrix": [[3, 0], [0, 3]],
    }


def test_missing_slice_values_get_their_own_null_group() -> None:
    assert [evaluation.slice_value(v) for v in ("a", 1, 2.0, float("nan"), None, pd.NA)] == [
        "a",
        "1",
        "2",
        "null",
        "null",
        "null",
    ]


def test_a_numeric_profile_has_a_101_point_sketch_moments_and_a_quantile_histogram() -> None:
    series = pd.Series([*range(101), None, None], dtype="float64")
    prof = evaluation.numeric_profile(series)
    assert prof["type"] == "numeric"
    assert prof["n"] == 101
    assert prof["n_distinct"] == 101
    assert prof["null_share"] == pytest.approx(2 / 103)
    assert len(prof["quantiles"]) == 101
    assert prof["quantiles"]["0"] == 0.0
    assert prof["quantiles"]["0.01"] == 1.0
    assert prof["quantiles"]["0.37"] == 37.0
    assert prof["quantiles"]["1"] == 100.0
    assert prof["mean"] == 50.0
    assert prof["std"] == pytest.approx(np.std(np.arange(101), ddof=1))
    assert "frequencies" not in prof  # more than 50 distinct values: the sketch only
    hist = prof["histogram"]
    assert hist["edges"] == pytest.approx(list(np.arange(0.0, 101.0, 5.0)))
    # nothing lies outside the reference's own range; the inner bins agree with numpy's
    # [a, b) ... [a, b] convention
    values = np.arange(101.0)
    assert hist["counts"] == [0, *np.histogram(values, bins=hist["edges"])[0].tolist(), 0]
    assert sum(hist["counts"]) == 101


def test_histogram_cells_below_and_above_the_edges_count_new_values() -> None:
    edges = np.array([0.0, 5.0, 10.0])
    values = np.sort(np.array([-1.0, 0.0, 4.9, 5.0, 10.0, 10.0, 11.0, 12.0]))
    assert evaluation.bin_counts(values, edges) == [1, 2, 3, 2]


def test_a_low_cardinality_numeric_feature_keeps_its_exact_value_shares() -> None:
    prof = evaluation.numeric_profile(pd.Series([0, 0, 1, 1, 1, 2, 2.5, 2.5]))
    assert prof["n_distinct"] == 4
    assert prof["frequencies"] == {"0": 0.25, "1": 0.375, "2": 0.125, "2.5": 0.25}


def test_a_constant_column_puts_every_value_in_one_closed_bin() -> None:
    prof = evaluation.numeric_profile(pd.Series([3.0] * 10))
    assert prof["histogram"] == {"edges": [3.0, 3.0], "counts": [0, 10, 0]}
    assert prof["std"] == 0.0


def test_a_categorical_profile_keeps_the_top_50_and_folds_the_rest_into_other() -> None:
    values = [f"c{i:02d}" for i in range(60) for _ in range(60 - i)] + [None] * 10
    prof = evaluation.categorical_profile(pd.Series(values, dtype="object"))
    total = sum(60 - i for i in range(60))
    assert prof["n"] == total
    assert prof["n_categories"] == 60
    assert prof["null_share"] == pytest.approx(10 / (total + 10))
    assert list(prof["frequencies"])[:2] == ["c00", "c01"]
    assert len(prof["frequencies"]) == 50
    assert prof["frequencies"]["c00"] == pytest.approx(60 / total)
    assert prof["other"] == pytest.approx(sum(60 - i for i in range(50, 60)) / total)


def test_the_profile_types_columns_like_the_preprocessing_does() -> None:
    frame = pd.DataFrame({"n": [1, 2], "s": ["a", "b"], "b": [True, False]})
    prof = evaluation.profile(frame)
    assert prof["format"] == evaluation.PROFILE_FORMAT
    assert prof["n_rows"] == 2
    assert {k: v["type"] for k, v in prof["features"].items()} == {
        "n": "numeric",
        "s": "categorical",
        "b": "categorical",
    }
