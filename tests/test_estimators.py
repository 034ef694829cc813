"""Estimator specs: an allow-listed index of scikit-learn, plain bounded params, nesting."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import pytest

from modelward import estimators
from modelward.estimators import INDEX, build, check, kind_of

ALLOW = ["sklearn."]


def problems(path: str, params: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    return list(check(path, params, ALLOW))


def derive_index() -> dict[str, str]:
    """Public estimators of the installed scikit-learn, as INDEX lists them."""
    import sklearn
    from sklearn.base import (
        BaseEstimator,
        ClassifierMixin,
        ClusterMixin,
        OutlierMixin,
        RegressorMixin,
        TransformerMixin,
    )

    kinds = (
        (ClassifierMixin, "classifier"),
        (RegressorMixin, "regressor"),
        (ClusterMixin, "cluster"),
        (OutlierMixin, "outlier"),
        (TransformerMixin, "transformer"),
    )
    out: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sub in sorted(m for m in sklearn.__all__ if not m.startswith("_")):
            try:
                module = importlib.import_module(f"sklearn.{sub}")
            except ImportError:
                continue
            for name in getattr(module, "__all__", []):
                try:
                    obj = getattr(module, name)
                except ImportError:  # experimental, needs an explicit enable_* import
                    continue
                if (
                    isinstance(obj, type)
                    and issubclass(obj, BaseEstimator)
                    and not name.startswith(("_", "Base"))
                ):
                    kind = next((k for mixin, k in kinds if issubclass(obj, mixin)), "other")
                    out.setdefault(f"sklearn.{sub}.{name}", kind)
    return out


def test_the_static_index_matches_the_installed_scikit_learn() -> None:
    assert derive_index() == INDEX


def test_an_unknown_class_suggests_the_public_one() -> None:
    assert problems("sklearn.linear_model.LogisticRegresion", {}) == [
        (
            ("estimator",),
            "'sklearn.linear_model.LogisticRegresion' is not a public scikit-learn estimator; "
            "did you mean 'sklearn.linear_model.LogisticRegression'?",
        )
    ]
    assert problems("sklearn.linear_model._logistic.LogisticRegression", {}) == [
        (
            ("estimator",),
            "'sklearn.linear_model._logistic.LogisticRegression' is private; "
            "name a public import path",
        )
    ]


def test_strings_that_name_callables_are_refused() -> None:
    found = problems(
        "sklearn.linear_model.LogisticRegression",
        {"solver": "sklearn.utils._testing.ignore_warnings", "penalty": "__import__('os')"},
    )
    assert [loc for loc, _ in found] == [("params", "solver"), ("params", "penalty")]
    assert "looks like an import path" in found[0][1]
    assert "is not a plain keyword" in found[1][1]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("max_iter", 1e23, "must be at most 100000 in magnitude (got 1e+23)"),
        ("n_estimators", 10**6, "must be at most 5000 in magnitude (got 1000000)"),
        ("C", float("nan"), "must be a finite number (got nan)"),
        ("alpha", 1e300, "must be at most 1e+09 in magnitude (got 1e+300)"),
        ("memory", "/tmp/cache", "memory is not allowed: it makes the estimator write a cache"),
    ],
)
def test_numbers_are_bounded_and_some_params_refused(name: str, value: Any, message: str) -> None:
    ((loc, text),) = problems("sklearn.linear_model.LogisticRegression", {name: value})
    assert loc == ("params", name)
    assert text.startswith(message)


def test_plain_params_pass() -> None:
    assert (
        problems(
            "sklearn.neural_network.MLPClassifier",
            {"hidden_layer_sizes": [20, 10], "alpha": 1e-4, "solver": "adam", "tol": None},
        )
        == []
    )
    assert problems("sklearn.linear_model.LogisticRegression", {"class_weight": {0: 1, 1: 5}}) == []


STACK = {
    "estimators": [
        {"name": "lr", "estimator": "sklearn.linear_model.LogisticRegression", "params": {}},
        {"name": "tree", "estimator": "sklearn.tree.DecisionTreeClassifier", "params": {}},
    ],
    "final_estimator": {
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"C": 0.5},
    },
}


def test_nested_estimators_are_checked_like_the_outer_one() -> None:
    assert problems("sklearn.ensemble.StackingClassifier", STACK) == []
    bad = {
        "estimators": [
            {"name": "x", "estimator": "os.system", "params": {}},
            {"name": "y", "estimator": "sklearn.svm.SVC", "params": {"max_iter": 1e23}},
        ]
    }
    found = list(check("sklearn.ensemble.VotingClassifier", bad, ALLOW, ("model",)))
    assert found == [
        (
            ("model", "params", "estimators", 0, "estimator"),
            "'os.system' is not allowed; estimators must start with sklearn. "
            "(modelward.yaml estimators.allow)",
        ),
        (
            ("model", "params", "estimators", 1, "params", "max_iter"),
            "must be at most 100000 in magnitude (got 1e+23)",
        ),
    ]


def test_a_pipeline_is_the_kind_of_its_last_step() -> None:
    steps = {
        "steps": [
            {"name": "scale", "estimator": "sklearn.preprocessing.StandardScaler"},
            {"name": "model", "estimator": "sklearn.linear_model.Ridge"},
        ]
    }
    assert kind_of("sklearn.pipeline.Pipeline", steps) == "regressor"
    assert kind_of("sklearn.ensemble.StackingClassifier", STACK) == "classifier"


def test_build_makes_the_whole_tree_seeded() -> None:
    model = build("sklearn.ensemble.StackingClassifier", STACK, seed=5)
    assert [name for name, _ in model.estimators] == ["lr", "tree"]
    assert model.estimators[1][1].random_state == 5
    assert model.final_estimator.C == 0.5
    assert model.final_estimator.random_state == 5
    assert estimators.is_named_list(STACK["estimators"])


def test_the_artifact_key_covers_the_whole_estimator_tree(example_dir: Any) -> None:
    from modelward import artifacts
    from modelward.workspace import load

    def key() -> str:
        ws = load(example_dir)
        return artifacts.artifact_key(ws, ws.models["breast-cancer-stack"].record, "d", "s")

    before = key()
    path = example_dir / "models/breast-cancer-stack/model.yaml"
    path.write_text(path.read_text().replace("max_depth: 3", "max_depth: 4"))
    assert key() != before
