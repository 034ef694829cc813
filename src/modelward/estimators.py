"""Estimators named by manifests: an allow-list index and plain, bounded params.

A manifest's `model:` block is pull-request content that the bot turns into
Python objects, so it is data and nothing more:
- a class is named by its public import path and must be in INDEX (a static
  list of scikit-learn's public estimators; a test compares it with the
  installed version), or start with a prefix modelward.yaml allows;
- params are plain values: numbers (finite, bounded), booleans, null, short
  keyword strings (never a dotted import path or a dunder name), lists of
  those, flat mappings of those (class_weight), and nested estimator specs
  `{estimator: PATH, params: {...}}` or lists of named ones
  `[{name: lr, estimator: PATH, params: {...}}]` for stacking, voting and
  pipeline steps. Every nested class passes the same checks;
- well-known numeric params have bounds (BOUNDS), so `max_iter: 1e23` is an
  error at validate, not an hour of training.

Checking imports nothing; `build` imports the classes (training only).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Loc = tuple[str | int, ...]

IMPORT_PATH_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
KEYWORD_RE = re.compile(r"^[A-Za-z0-9_+\-. ]{0,64}$")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")

GENERAL_BOUND = 1e9
"""No number in params may exceed this in magnitude."""
BOUNDS: dict[str, float] = {
    "max_iter": 100_000,
    "n_estimators": 5_000,
    "max_depth": 1_000,
    "max_leaf_nodes": 100_000,
    "n_neighbors": 10_000,
    "n_iter_no_change": 10_000,
    "max_fun": 1_000_000,
    "n_components": 10_000,
    "n_init": 1_000,
    "n_iter": 10_000,
    "hidden_layer_sizes": 10_000,
    "n_jobs": 64,
    "cv": 50,
    "max_bins": 255,
}
"""Upper bounds of well-known counts (an element-wise bound for lists)."""
REFUSED_PARAMS: dict[str, str] = {
    "memory": "it makes the estimator write a cache to a path of its choosing",
    "callbacks": "it takes code",
}
"""Params that must stay at their default (None), whatever the estimator."""
MAX_LIST = 1_000
MAX_DEPTH = 4
MAX_ESTIMATORS = 32

# scikit-learn public estimators (import path -> kind), from sklearn.<module>.__all__.
# Generated from the installed version; tests/test_estimators.py fails when it changes.
INDEX: dict[str, str] = {
    "sklearn.cluster.AffinityPropagation": "cluster",
    "sklearn.cluster.AgglomerativeClustering": "cluster",
    "sklearn.cluster.Birch": "cluster",
    "sklearn.cluster.BisectingKMeans": "cluster",
    "sklearn.cluster.DBSCAN": "cluster",
    "sklearn.cluster.FeatureAgglomeration": "cluster",
    "sklearn.cluster.HDBSCAN": "cluster",
    "sklearn.cluster.KMeans": "cluster",
    "sklearn.cluster.MeanShift": "cluster",
    "sklearn.cluster.MiniBatchKMeans": "cluster",
    "sklearn.cluster.OPTICS": "cluster",
    "sklearn.cluster.SpectralBiclustering": "other",
    "sklearn.cluster.SpectralClustering": "cluster",
    "sklearn.cluster.SpectralCoclustering": "other",
    "sklearn.compose.ColumnTransformer": "transformer",
    "sklearn.compose.TransformedTargetRegressor": "regressor",
    "sklearn.covariance.EllipticEnvelope": "outlier",
    "sklearn.covariance.EmpiricalCovariance": "other",
    "sklearn.covariance.GraphicalLasso": "other",
    "sklearn.covariance.GraphicalLassoCV": "other",
    "sklearn.covariance.LedoitWolf": "other",
    "sklearn.covariance.MinCovDet": "other",
    "sklearn.covariance.OAS": "other",
    "sklearn.covariance.ShrunkCovariance": "other",
    "sklearn.cross_decomposition.CCA": "regressor",
    "sklearn.cross_decomposition.PLSCanonical": "regressor",
    "sklearn.cross_decomposition.PLSRegression": "regressor",
    "sklearn.cross_decomposition.PLSSVD": "transformer",
    "sklearn.decomposition.DictionaryLearning": "transformer",
    "sklearn.decomposition.FactorAnalysis": "transformer",
    "sklearn.decomposition.FastICA": "transformer",
    "sklearn.decomposition.IncrementalPCA": "transformer",
    "sklearn.decomposition.KernelPCA": "transformer",
    "sklearn.decomposition.LatentDirichletAllocation": "transformer",
    "sklearn.decomposition.MiniBatchDictionaryLearning": "transformer",
    "sklearn.decomposition.MiniBatchNMF": "transformer",
    "sklearn.decomposition.MiniBatchSparsePCA": "transformer",
    "sklearn.decomposition.NMF": "transformer",
    "sklearn.decomposition.PCA": "transformer",
    "sklearn.decomposition.SparseCoder": "transformer",
    "sklearn.decomposition.SparsePCA": "transformer",
    "sklearn.decomposition.TruncatedSVD": "transformer",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis": "classifier",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis": "classifier",
    "sklearn.ensemble.AdaBoostClassifier": "classifier",
    "sklearn.ensemble.AdaBoostRegressor": "regressor",
    "sklearn.ensemble.BaggingClassifier": "classifier",
    "sklearn.ensemble.BaggingRegressor": "regressor",
    "sklearn.ensemble.ExtraTreesClassifier": "classifier",
    "sklearn.ensemble.ExtraTreesRegressor": "regressor",
    "sklearn.ensemble.GradientBoostingClassifier": "classifier",
    "sklearn.ensemble.GradientBoostingRegressor": "regressor",
    "sklearn.ensemble.HistGradientBoostingClassifier": "classifier",
    "sklearn.ensemble.HistGradientBoostingRegressor": "regressor",
    "sklearn.ensemble.IsolationForest": "outlier",
    "sklearn.ensemble.RandomForestClassifier": "classifier",
    "sklearn.ensemble.RandomForestRegressor": "regressor",
    "sklearn.ensemble.RandomTreesEmbedding": "transformer",
    "sklearn.ensemble.StackingClassifier": "classifier",
    "sklearn.ensemble.StackingRegressor": "regressor",
    "sklearn.ensemble.VotingClassifier": "classifier",
    "sklearn.ensemble.VotingRegressor": "regressor",
    "sklearn.feature_extraction.DictVectorizer": "transformer",
    "sklearn.feature_extraction.FeatureHasher": "transformer",
    "sklearn.feature_selection.GenericUnivariateSelect": "transformer",
    "sklearn.feature_selection.RFE": "transformer",
    "sklearn.feature_selection.RFECV": "transformer",
    "sklearn.feature_selection.SelectFdr": "transformer",
    "sklearn.feature_selection.SelectFpr": "transformer",
    "sklearn.feature_selection.SelectFromModel": "transformer",
    "sklearn.feature_selection.SelectFwe": "transformer",
    "sklearn.feature_selection.SelectKBest": "transformer",
    "sklearn.feature_selection.SelectPercentile": "transformer",
    "sklearn.feature_selection.SequentialFeatureSelector": "transformer",
    "sklearn.feature_selection.VarianceThreshold": "transformer",
    "sklearn.frozen.FrozenEstimator": "other",
    "sklearn.gaussian_process.GaussianProcessClassifier": "classifier",
    "sklearn.gaussian_process.GaussianProcessRegressor": "regressor",
    "sklearn.impute.KNNImputer": "transformer",
    "sklearn.impute.MissingIndicator": "transformer",
    "sklearn.impute.SimpleImputer": "transformer",
    "sklearn.isotonic.IsotonicRegression": "regressor",
    "sklearn.linear_model.ARDRegression": "regressor",
    "sklearn.linear_model.BayesianRidge": "regressor",
    "sklearn.linear_model.ElasticNet": "regressor",
    "sklearn.linear_model.ElasticNetCV": "regressor",
    "sklearn.linear_model.GammaRegressor": "regressor",
    "sklearn.linear_model.HuberRegressor": "regressor",
    "sklearn.linear_model.Lars": "regressor",
    "sklearn.linear_model.LarsCV": "regressor",
    "sklearn.linear_model.Lasso": "regressor",
    "sklearn.linear_model.LassoCV": "regressor",
    "sklearn.linear_model.LassoLars": "regressor",
    "sklearn.linear_model.LassoLarsCV": "regressor",
    "sklearn.linear_model.LassoLarsIC": "regressor",
    "sklearn.linear_model.LinearRegression": "regressor",
    "sklearn.linear_model.LogisticRegression": "classifier",
    "sklearn.linear_model.LogisticRegressionCV": "classifier",
    "sklearn.linear_model.MultiTaskElasticNet": "regressor",
    "sklearn.linear_model.MultiTaskElasticNetCV": "regressor",
    "sklearn.linear_model.MultiTaskLasso": "regressor",
    "sklearn.linear_model.MultiTaskLassoCV": "regressor",
    "sklearn.linear_model.OrthogonalMatchingPursuit": "regressor",
    "sklearn.linear_model.OrthogonalMatchingPursuitCV": "regressor",
    "sklearn.linear_model.PassiveAggressiveClassifier": "classifier",
    "sklearn.linear_model.PassiveAggressiveRegressor": "regressor",
    "sklearn.linear_model.Perceptron": "classifier",
    "sklearn.linear_model.PoissonRegressor": "regressor",
    "sklearn.linear_model.QuantileRegressor": "regressor",
    "sklearn.linear_model.RANSACRegressor": "regressor",
    "sklearn.linear_model.Ridge": "regressor",
    "sklearn.linear_model.RidgeCV": "regressor",
    "sklearn.linear_model.RidgeClassifier": "classifier",
    "sklearn.linear_model.RidgeClassifierCV": "classifier",
    "sklearn.linear_model.SGDClassifier": "classifier",
    "sklearn.linear_model.SGDOneClassSVM": "outlier",
    "sklearn.linear_model.SGDRegressor": "regressor",
    "sklearn.linear_model.TheilSenRegressor": "regressor",
    "sklearn.linear_model.TweedieRegressor": "regressor",
    "sklearn.manifold.ClassicalMDS": "other",
    "sklearn.manifold.Isomap": "transformer",
    "sklearn.manifold.LocallyLinearEmbedding": "transformer",
    "sklearn.manifold.MDS": "other",
    "sklearn.manifold.SpectralEmbedding": "other",
    "sklearn.manifold.TSNE": "transformer",
    "sklearn.mixture.BayesianGaussianMixture": "other",
    "sklearn.mixture.GaussianMixture": "other",
    "sklearn.model_selection.FixedThresholdClassifier": "classifier",
    "sklearn.model_selection.GridSearchCV": "other",
    "sklearn.model_selection.RandomizedSearchCV": "other",
    "sklearn.model_selection.TunedThresholdClassifierCV": "classifier",
    "sklearn.multiclass.OneVsOneClassifier": "classifier",
    "sklearn.multiclass.OneVsRestClassifier": "classifier",
    "sklearn.multiclass.OutputCodeClassifier": "classifier",
    "sklearn.multioutput.ClassifierChain": "classifier",
    "sklearn.multioutput.MultiOutputClassifier": "classifier",
    "sklearn.multioutput.MultiOutputRegressor": "regressor",
    "sklearn.multioutput.RegressorChain": "regressor",
    "sklearn.naive_bayes.BernoulliNB": "classifier",
    "sklearn.naive_bayes.CategoricalNB": "classifier",
    "sklearn.naive_bayes.ComplementNB": "classifier",
    "sklearn.naive_bayes.GaussianNB": "classifier",
    "sklearn.naive_bayes.MultinomialNB": "classifier",
    "sklearn.neighbors.KNeighborsClassifier": "classifier",
    "sklearn.neighbors.KNeighborsRegressor": "regressor",
    "sklearn.neighbors.KNeighborsTransformer": "transformer",
    "sklearn.neighbors.KernelDensity": "other",
    "sklearn.neighbors.LocalOutlierFactor": "outlier",
    "sklearn.neighbors.NearestCentroid": "classifier",
    "sklearn.neighbors.NearestNeighbors": "other",
    "sklearn.neighbors.NeighborhoodComponentsAnalysis": "transformer",
    "sklearn.neighbors.RadiusNeighborsClassifier": "classifier",
    "sklearn.neighbors.RadiusNeighborsRegressor": "regressor",
    "sklearn.neighbors.RadiusNeighborsTransformer": "transformer",
    "sklearn.neural_network.BernoulliRBM": "transformer",
    "sklearn.neural_network.MLPClassifier": "classifier",
    "sklearn.neural_network.MLPRegressor": "regressor",
    "sklearn.pipeline.FeatureUnion": "transformer",
    "sklearn.pipeline.Pipeline": "other",
    "sklearn.preprocessing.Binarizer": "transformer",
    "sklearn.preprocessing.FunctionTransformer": "transformer",
    "sklearn.preprocessing.KBinsDiscretizer": "transformer",
    "sklearn.preprocessing.KernelCenterer": "transformer",
    "sklearn.preprocessing.LabelBinarizer": "transformer",
    "sklearn.preprocessing.LabelEncoder": "transformer",
    "sklearn.preprocessing.MaxAbsScaler": "transformer",
    "sklearn.preprocessing.MinMaxScaler": "transformer",
    "sklearn.preprocessing.MultiLabelBinarizer": "transformer",
    "sklearn.preprocessing.Normalizer": "transformer",
    "sklearn.preprocessing.OneHotEncoder": "transformer",
    "sklearn.preprocessing.OrdinalEncoder": "transformer",
    "sklearn.preprocessing.PolynomialFeatures": "transformer",
    "sklearn.preprocessing.PowerTransformer": "transformer",
    "sklearn.preprocessing.QuantileTransformer": "transformer",
    "sklearn.preprocessing.RobustScaler": "transformer",
    "sklearn.preprocessing.SplineTransformer": "transformer",
    "sklearn.preprocessing.StandardScaler": "transformer",
    "sklearn.preprocessing.TargetEncoder": "transformer",
    "sklearn.random_projection.GaussianRandomProjection": "transformer",
    "sklearn.random_projection.SparseRandomProjection": "transformer",
    "sklearn.semi_supervised.LabelPropagation": "classifier",
    "sklearn.semi_supervised.LabelSpreading": "classifier",
    "sklearn.semi_supervised.SelfTrainingClassifier": "classifier",
    "sklearn.svm.LinearSVC": "classifier",
    "sklearn.svm.LinearSVR": "regressor",
    "sklearn.svm.NuSVC": "classifier",
    "sklearn.svm.NuSVR": "regressor",
    "sklearn.svm.OneClassSVM": "outlier",
    "sklearn.svm.SVC": "classifier",
    "sklearn.svm.SVR": "regressor",
    "sklearn.tree.DecisionTreeClassifier": "classifier",
    "sklearn.tree.DecisionTreeRegressor": "regressor",
    "sklearn.tree.ExtraTreeClassifier": "classifier",
    "sklearn.tree.ExtraTreeRegressor": "regressor",
}


def kind_of(path: str, params: Mapping[str, Any] | None = None) -> str | None:
    """classifier, regressor, ... for an indexed class; a Pipeline is its last step."""
    if path == "sklearn.pipeline.Pipeline" and params is not None:
        steps = params.get("steps")
        if isinstance(steps, list) and steps and isinstance(steps[-1], Mapping):
            last = steps[-1]
            if isinstance(last.get("estimator"), str):
                return kind_of(last["estimator"], last.get("params") or {})
        return None
    return INDEX.get(path)


def is_spec(value: Any) -> bool:
    """A nested estimator: a mapping with an `estimator` key."""
    return isinstance(value, Mapping) and "estimator" in value


def is_named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and "name" in v and "estimator" in v for v in value)
    )


def check(
    path: str, params: Mapping[str, Any], allow: Sequence[str], loc: Loc = ()
) -> Iterator[tuple[Loc, str]]:
    """(key path, message) for every problem of an estimator spec; imports nothing."""
    counter = [0]
    yield from _check_class(path, allow, (*loc, "estimator"), counter)
    yield from _check_params(params, (*loc, "params"), allow, 0, counter)


def _check_class(
    path: Any, allow: Sequence[str], loc: Loc, counter: list[int]
) -> Iterator[tuple[Loc, str]]:
    counter[0] += 1
    if counter[0] == MAX_ESTIMATORS + 1:
        yield loc, f"more than {MAX_ESTIMATORS} estimators in one model"
    if not isinstance(path, str) or not IMPORT_PATH_RE.match(path):
        yield loc, f"{path!r} is not an import path like sklearn.linear_model.Ridge"
        return
    if not any(path.startswith(p) for p in allow):
        yield (
            loc,
            f"{path!r} is not allowed; estimators must start with "
            f"{', '.join(allow)} (modelward.yaml estimators.allow)",
        )
        return
    if any(part.startswith("_") for part in path.split(".")):
        yield loc, f"{path!r} is private; name a public import path"
        return
    if path.startswith("sklearn.") and path not in INDEX:
        close = difflib.get_close_matches(path, sorted(INDEX), n=1, cutoff=0.6)
        if not close:
            tail = path.rsplit(".", 1)[-1]
            close = [p for p in sorted(INDEX) if p.rsplit(".", 1)[-1] == tail][:1]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        yield loc, f"{path!r} is not a public scikit-learn estimator{hint}"


def _check_params(
    params: Any, loc: Loc, allow: Sequence[str], depth: int, counter: list[int]
) -> Iterator[tuple[Loc, str]]:
    if not isinstance(params, Mapping):
        yield loc, f"params must be a mapping, got {_short(params)}"
        return
    for name, value in params.items():
        at = (*loc, name)
        if not isinstance(name, str) or not NAME_RE.match(name) or "__" in name:
            yield at, f"{_short(name)} is not a parameter name"
            continue
        if name in REFUSED_PARAMS and value is not None:
            yield at, f"{name} is not allowed: {REFUSED_PARAMS[name]}"
            continue
        yield from _check_value(name, value, at, allow, depth, counter)


def _check_value(
    name: str, value: Any, at: Loc, allow: Sequence[str], depth: int, counter: list[int]
) -> Iterator[tuple[Loc, str]]:
    if is_spec(value) or is_named_list(value):
        if depth + 1 > MAX_DEPTH:
            yield at, f"estimators nest deeper than {MAX_DEPTH} levels"
            return
        specs = [(at, value)] if is_spec(value) else [((*at, i), v) for i, v in enumerate(value)]
        names: set[str] = set()
        for spec_at, spec in specs:
            keys = {"estimator", "params"} | ({"name"} if not is_spec(value) else set())
            for key in spec:
                if key not in keys:
                    yield (
                        (*spec_at, key),
                        f"unknown key {key!r}; allowed: {', '.join(sorted(keys))}",
                    )
            if not is_spec(value):
                label = spec["name"]
                if not isinstance(label, str) or not NAME_RE.match(label) or "__" in label:
                    yield (*spec_at, "name"), f"{_short(label)} is not a step name"
                elif label in names:
                    yield (*spec_at, "name"), f"step name {label!r} is used twice"
                names.add(str(label))
            yield from _check_class(spec["estimator"], allow, (*spec_at, "estimator"), counter)
            yield from _check_params(
                spec.get("params") or {}, (*spec_at, "params"), allow, depth + 1, counter
            )
        return
    problem = _plain(name, value, 0)
    if problem:
        yield at, problem


def _plain(name: str, value: Any, depth: int) -> str | None:
    """None for plain, bounded data; else what is wrong with it."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number (got {value!r})"
        bound = BOUNDS.get(name, GENERAL_BOUND)
        if abs(value) > bound:
            return f"must be at most {bound:g} in magnitude (got {value!r})"
        return None
    if isinstance(value, str):
        if _is_number_text(value):  # YAML 1.1 reads 1e23 (no dot) as text
            return _plain(name, float(value), depth) or (
                f"{value!r} is text, not a number; write it with a dot (e.g. 1.0e3)"
            )
        if IMPORT_PATH_RE.match(value) and not _is_number_text(value):
            return (
                f"{_short(value)} looks like an import path; params are plain values, "
                "name an estimator as {estimator: PATH, params: {...}}"
            )
        if "__" in value or not KEYWORD_RE.match(value):
            return (
                f"{_short(value)} is not a plain keyword; strings in params may use "
                "letters, digits, space, '_', '-', '+' and '.' (at most 64)"
            )
        return None
    if isinstance(value, list):
        if depth >= 2:
            return "lists nest at most two levels"
        if len(value) > MAX_LIST:
            return f"at most {MAX_LIST} items"
        for item in value:
            problem = _plain(name, item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, Mapping):
        if depth >= 1:
            return "mappings inside lists are not plain params"
        for key, item in value.items():
            if isinstance(key, (list, Mapping)) or _plain(name, key, 1):
                return f"key {_short(key)} is not a plain value"
            if isinstance(item, (list, Mapping)):
                return "a mapping param holds plain values only (e.g. class_weight: {0: 1, 1: 5})"
            problem = _plain(name, item, 1)
            if problem:
                return problem
        return None
    return f"{_short(value)} is not a plain value"


def _is_number_text(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- building (imports)


def load_class(path: str) -> Any:
    """Import an allow-listed class (after `check`)."""
    import importlib

    module_name, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def build_params(params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Params with nested specs turned into estimators (checked beforehand)."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if is_spec(value):
            out[name] = build(value["estimator"], value.get("params") or {}, seed)
        elif is_named_list(value):
            out[name] = [
                (str(v["name"]), build(v["estimator"], v.get("params") or {}, seed)) for v in value
            ]
        elif isinstance(value, list):
            out[name] = tuple(value) if name == "hidden_layer_sizes" else list(value)
        else:
            out[name] = value
    return out


def build(path: str, params: Mapping[str, Any], seed: int) -> Any:
    """An estimator, nested ones included, seeded for determinism where it takes a seed."""
    cls = load_class(path)
    kwargs = build_params(params, seed)
    try:
        known = cls().get_params(deep=False)
    except TypeError:  # required constructor arguments (stacking, pipelines)
        import inspect

        known = dict(inspect.signature(cls).parameters)
    if "random_state" in known and "random_state" not in kwargs:
        kwargs["random_state"] = seed
    return cls(**kwargs)
