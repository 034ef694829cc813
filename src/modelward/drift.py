"""Data drift of new data against a training profile, and performance decay. Pure.

`compare(profile, frame, settings)` takes the reference as the profile that training
stored (evaluation.profile) and the current data as a DataFrame, and returns a
DriftReport; nothing here reads files, git or the registry (monitoring.py does).

The tests follow Evidently's defaults (evidently.legacy.calculations.stattests), which
users already know:

- reference of more than 1,000 non-null rows: a numeric feature with more than 5
  distinct values uses the Wasserstein distance divided by the reference's (population)
  standard deviation; every other feature the Jensen-Shannon distance (natural log).
  Drift when the distance is >= 0.1.
- reference of 1,000 rows or fewer: two-sample Kolmogorov-Smirnov for numeric features
  with more than 5 distinct values, chi-square otherwise; drift when p < 0.05.
- PSI for every feature, reported, not decided on.
- A feature with fewer than `min_sample` non-null current values is "not enough data".
- The dataset drifted when the share of drifted features reaches `drift_share` (0.5).

The reference is a sketch, not raw data, so some numbers are computed from it:
low-cardinality numeric features (at most 50 distinct values) and categorical ones keep
exact value shares, so their tests are exact; a continuous feature's Wasserstein
distance is the one between the piecewise-linear quantile functions of the 101-point
reference sketch and the same sketch of the current data, and its KS statistic uses
the reference's piecewise-linear CDF. docs/drift.md states the error of both.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

BIG_REFERENCE = 1000
"""References with more rows than this use distances; smaller ones use p-values."""
LOW_CARDINALITY = 5
"""Numeric features with at most this many distinct values are tested as categories."""
NEW_CATEGORIES_SHOWN = 10

Test = Literal["wasserstein", "jensenshannon", "ks", "chisquare", "none"]
Status = Literal["ok", "drift", "not enough data"]


@dataclass(frozen=True)
class Settings:
    """Effective thresholds (docs/drift.md): Evidently's defaults unless configured."""

    threshold: float = 0.1
    p_value: float = 0.05
    drift_share: float = 0.5
    min_sample: int = 200
    max_drop: float = 0.05

    @classmethod
    def merged(cls, *layers: Any) -> Settings:
        """Defaults, overridden by each layer's set fields in turn (config, then model)."""
        values = asdict(cls())
        for layer in layers:
            for key in values:
                value = getattr(layer, key, None)
                if value is not None:
                    values[key] = value
        return cls(**values)


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's test against the reference."""

    feature: str
    type: str
    """numeric | categorical (the reference's type)."""
    test: Test
    distance: float | None
    """The test's score: a distance (wasserstein, jensenshannon) or a p-value (ks, chisquare)."""
    threshold: float
    drifted: bool
    psi: float | None
    current_null_share: float
    reference_null_share: float
    status: Status
    n_current: int
    n_reference: int
    score: Literal["distance", "p_value"] = "distance"
    new_categories: tuple[str, ...] = ()
    """Current values the reference never had (only when the reference kept every category)."""
    reference_bins: tuple[tuple[str, float], ...] = ()
    """(label, share) of the reference, for charts."""
    current_bins: tuple[tuple[str, float], ...] = ()

    @property
    def severity(self) -> float:
        """How far past (or short of) its threshold: distance/threshold, threshold/p."""
        if self.distance is None:
            return -1.0
        if self.score == "distance":
            return self.distance / self.threshold
        return self.threshold / max(self.distance, 1e-300)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["new_categories"] = list(self.new_categories)
        out["reference_bins"] = [list(b) for b in self.reference_bins]
        out["current_bins"] = [list(b) for b in self.current_bins]
        return out


@dataclass(frozen=True)
class Decay:
    """The primary metric of the registered model on labelled new data."""

    metric: str
    reference: float
    current: float | None
    max_drop: float
    n: int
    reason: str = ""
    """Why `current` is None."""

    @property
    def drop(self) -> float | None:
        return None if self.current is None else self.reference - self.current

    @property
    def decayed(self) -> bool:
        drop = self.drop
        return drop is not None and drop > self.max_drop

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "drop": self.drop, "decayed": self.decayed}


@dataclass(frozen=True)
class DriftReport:
    """Every feature's result and the dataset verdict."""

    features: tuple[FeatureDrift, ...]
    settings: Settings
    n_current: int
    n_reference: int
    approximate: bool
    """The reference profile is an old one (9-point sketch): distances are approximate."""
    decay: Decay | None = None
    notes: tuple[str, ...] = ()

    @property
    def tested(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.status != "not enough data"]

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def share(self) -> float:
        tested = self.tested
        return len(self.drifted) / len(tested) if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.tested) and self.share >= self.settings.drift_share

    @property
    def failed(self) -> bool:
        """Exit 1: the dataset drifted or the model decayed."""
        return self.dataset_drift or (self.decay is not None and self.decay.decayed)

    def ranked(self) -> list[FeatureDrift]:
        """Drifted first, then by how close each came to its threshold."""
        return sorted(self.features, key=lambda f: (not f.drifted, -f.severity, f.feature))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drifted_features": [f.feature for f in self.ranked() if f.drifted],
            "share": self.share,
            "drift_share": self.settings.drift_share,
            "n_current": self.n_current,
            "n_reference": self.n_reference,
            "approximate": self.approximate,
            "settings": asdict(self.settings),
            "features": [f.to_dict() for f in self.ranked()],
            "decay": None if self.decay is None else self.decay.to_dict(),
            "notes": list(self.notes),
            "failed": self.failed,
        }


# ---------------------------------------------------------------- the comparison


def is_approximate(profile: Mapping[str, Any]) -> bool:
    """Profiles written before format 2 hold a 9-point sketch."""
    return int(profile.get("format", 1)) < 2


def compare(
    profile: Mapping[str, Any],
    frame: pd.DataFrame,
    settings: Settings | None = None,
    *,
    decay: Decay | None = None,
) -> DriftReport:
    """Test every profiled feature of `frame` against the profile.

    `frame` must hold every feature of the profile (the caller names a missing one).
    """
    settings = settings or Settings()
    features = profile.get("features", {})
    results = tuple(
        feature_drift(str(name), ref, frame[name], settings) for name, ref in features.items()
    )
    notes: list[str] = []
    approximate = is_approximate(profile)
    if approximate:
        notes.append(
            "the reference profile has the old 9-point sketch: distances of continuous "
            "features are approximate (retrain to store a 101-point profile)"
        )
    short = [f.feature for f in results if f.status == "not enough data"]
    if short:
        notes.append(
            f"not enough data (fewer than {settings.min_sample} non-null values): "
            + ", ".join(short)
        )
    return DriftReport(
        features=results,
        settings=settings,
        n_current=len(frame),
        n_reference=int(profile.get("n_rows", 0)),
        approximate=approximate,
        decay=decay,
        notes=tuple(notes),
    )


def feature_drift(
    name: str, ref: Mapping[str, Any], series: pd.Series, settings: Settings
) -> FeatureDrift:
    if ref.get("type") == "numeric":
        return _numeric(name, ref, series, settings)
    return _categorical(name, ref, series, settings)


def _base(
    name: str, kind: str, ref: Mapping[str, Any], n_current: int, null_share: float
) -> dict[str, Any]:
    return {
        "feature": name,
        "type": kind,
        "current_null_share": null_share,
        "reference_null_share": float(ref.get("null_share") or 0.0),
        "n_current": n_current,
        "n_reference": int(ref.get("n") or 0),
    }


def _too_few(base: dict[str, Any], settings: Settings) -> FeatureDrift:
    return FeatureDrift(
        **base,
        test="none",
        distance=None,
        threshold=settings.threshold,
        drifted=False,
        psi=None,
        status="not enough data",
    )


def _numeric(
    name: str, ref: Mapping[str, Any], series: pd.Series, settings: Settings
) -> FeatureDrift:
    import numpy as np

    values = series.to_numpy(dtype=float, na_value=np.nan)
    values = np.sort(values[np.isfinite(values)])
    null_share = 1 - values.size / len(series) if len(series) else 0.0
    base = _base(name, "numeric", ref, int(values.size), null_share)
    n_ref = base["n_reference"]
    if values.size < settings.min_sample or not n_ref or ref.get("quantiles") is None:
        return _too_few(base, settings)

    shares = ref.get("frequencies")
    exact = _shares_of_values(shares) if shares else None
    if exact is not None:
        distinct = np.union1d(exact[0], np.unique(values)).size
    else:
        distinct = max(int(ref.get("n_distinct") or 0), LOW_CARDINALITY + 1)
    big = n_ref > BIG_REFERENCE

    if exact is not None:
        cur_x, cur_share = _value_shares(values)
        labels, r, c = _aligned(exact, (cur_x, cur_share))
        psi = population_stability(r, c)
        bins = _bins(labels, r, c)
    else:
        edges = np.asarray(ref["histogram"]["edges"], dtype=float)
        ref_counts = np.asarray(ref["histogram"]["counts"], dtype=float)
        r = ref_counts / ref_counts.sum()
        c = np.asarray(_bin_counts(values, edges), dtype=float) / values.size
        psi = population_stability(r, c)
        bins = _bins(_edge_labels(edges), r, c)

    if distinct > LOW_CARDINALITY:
        std = float(ref.get("std") or 0.0) * math.sqrt(max(n_ref - 1, 0) / n_ref)
        if big:
            if exact is not None:
                w = wasserstein_exact(exact, values)
            else:
                probs, quantiles = _sketch(ref["quantiles"])
                w = wasserstein_sketch(probs, quantiles, values)
            score = w / max(std, 0.001)
            return _scored(base, "wasserstein", score, settings.threshold, psi, bins)
        if exact is not None:
            d = ks_statistic_exact(exact, values)
        else:
            probs, quantiles = _sketch(ref["quantiles"])
            d = ks_statistic_sketch(probs, quantiles, values)
        p = ks_p_value(d, n_ref, int(values.size))
        return _p_scored(base, "ks", p, settings.p_value, psi, bins)
    assert exact is not None  # low cardinality is known only from exact shares
    labels, r, c = _aligned(exact, _value_shares(values))
    if big:
        return _scored(base, "jensenshannon", jensen_shannon(r, c), settings.threshold, psi, bins)
    p = chi_square_p(r * n_ref, c * values.size)
    return _p_scored(base, "chisquare", p, settings.p_value, psi, bins)


def _categorical(
    name: str, ref: Mapping[str, Any], series: pd.Series, settings: Settings
) -> FeatureDrift:
    import numpy as np

    present = series.dropna().map(str)
    null_share = 1 - len(present) / len(series) if len(series) else 0.0
    base = _base(name, "categorical", ref, len(present), null_share)
    n_ref = base["n_reference"]
    if len(present) < settings.min_sample or not n_ref:
        return _too_few(base, settings)
    known: dict[str, float] = {str(k): float(v) for k, v in ref.get("frequencies", {}).items()}
    other = float(ref.get("other") or 0.0)
    counts = present.value_counts()
    total = float(len(present))
    current: dict[str, float] = {}
    unseen: list[tuple[str, int]] = []
    for value, count in counts.items():
        key = str(value)
        if key in known:
            current[key] = current.get(key, 0.0) + count / total
        elif other > 0:  # the reference folded rare values into "other": fold them too
            current[OTHER] = current.get(OTHER, 0.0) + count / total
        else:
            current[key] = count / total
            unseen.append((key, int(count)))
    reference = dict(known)
    if other > 0:
        reference[OTHER] = other
    labels = sorted(set(reference) | set(current), key=lambda k: (-reference.get(k, 0.0), k))
    r = np.array([reference.get(k, 0.0) for k in labels])
    c = np.array([current.get(k, 0.0) for k in labels])
    psi = population_stability(r, c)
    bins = _bins(labels, r, c)
    new = tuple(k for k, _ in sorted(unseen, key=lambda kv: (-kv[1], kv[0])))
    if n_ref > BIG_REFERENCE:
        result = _scored(base, "jensenshannon", jensen_shannon(r, c), settings.threshold, psi, bins)
    else:
        p = chi_square_p(r * n_ref, c * total)
        result = _p_scored(base, "chisquare", p, settings.p_value, psi, bins)
    return FeatureDrift(**{**asdict(result), "new_categories": new[:NEW_CATEGORIES_SHOWN]})


OTHER = "(other)"


def _scored(
    base: dict[str, Any],
    test: Test,
    distance: float,
    threshold: float,
    psi: float,
    bins: tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]],
) -> FeatureDrift:
    drifted = distance >= threshold
    return FeatureDrift(
        **base,
        test=test,
        distance=float(distance),
        threshold=threshold,
        drifted=drifted,
        psi=float(psi),
        status="drift" if drifted else "ok",
        score="distance",
        reference_bins=bins[0],
        current_bins=bins[1],
    )


def _p_scored(
    base: dict[str, Any],
    test: Test,
    p: float,
    threshold: float,
    psi: float,
    bins: tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]],
) -> FeatureDrift:
    drifted = p <= threshold if test == "ks" else p < threshold  # as Evidently decides
    return FeatureDrift(
        **base,
        test=test,
        distance=float(p),
        threshold=threshold,
        drifted=drifted,
        psi=float(psi),
        status="drift" if drifted else "ok",
        score="p_value",
        reference_bins=bins[0],
        current_bins=bins[1],
    )


# ---------------------------------------------------------------- helpers on arrays


def _sketch(quantiles: Mapping[str, float | None]) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, values) of a quantile sketch, in order (old or new format)."""
    import numpy as np

    pairs = sorted((float(k), float(v)) for k, v in quantiles.items() if v is not None)
    return np.array([p for p, _ in pairs]), np.array([v for _, v in pairs])


def sorted_quantiles(sorted_values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """numpy's default (linear) quantiles of already sorted values, without re-sorting."""
    import numpy as np

    position = probs * (sorted_values.size - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, sorted_values.size - 1)
    frac = position - low
    out: np.ndarray = sorted_values[low] * (1 - frac) + sorted_values[high] * frac
    return out


def wasserstein_sketch(probs: np.ndarray, ref_q: np.ndarray, sorted_values: np.ndarray) -> float:
    """W1 = integral over p of |Q_ref(p) - Q_cur(p)|, both piecewise linear on `probs`."""
    import numpy as np

    cur_q = sorted_quantiles(sorted_values, probs)
    d = ref_q - cur_q
    d0, d1, h = d[:-1], d[1:], np.diff(probs)
    same = d0 * d1 >= 0
    both = np.abs(d0) + np.abs(d1)
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = np.where(both > 0, (d0**2 + d1**2) / (2 * both), 0.0)
    area = np.where(same, (np.abs(d0) + np.abs(d1)) / 2, crossing)
    return float(np.sum(area * h))


def wasserstein_exact(exact: tuple[np.ndarray, np.ndarray], sorted_values: np.ndarray) -> float:
    """W1 = integral over x of |F_ref(x) - F_cur(x)| with the reference's exact shares."""
    import numpy as np

    ref_x, ref_share = exact
    xs = np.union1d(ref_x, sorted_values)
    f_ref = np.cumsum(ref_share)[np.searchsorted(ref_x, xs, side="right") - 1]
    f_ref = np.where(xs < ref_x[0], 0.0, f_ref)
    f_cur = np.searchsorted(sorted_values, xs, side="right") / sorted_values.size
    return float(np.sum(np.abs(f_ref - f_cur)[:-1] * np.diff(xs)))


def ks_statistic_exact(exact: tuple[np.ndarray, np.ndarray], sorted_values: np.ndarray) -> float:
    import numpy as np

    ref_x, ref_share = exact
    xs = np.union1d(ref_x, sorted_values)
    idx = np.searchsorted(ref_x, xs, side="right") - 1
    f_ref = np.where(idx >= 0, np.cumsum(ref_share)[np.maximum(idx, 0)], 0.0)
    f_cur = np.searchsorted(sorted_values, xs, side="right") / sorted_values.size
    return float(np.max(np.abs(f_ref - f_cur)))


def ks_statistic_sketch(probs: np.ndarray, ref_q: np.ndarray, sorted_values: np.ndarray) -> float:
    """sup |F_ref - F_cur| with F_ref piecewise linear through the sketch points."""
    import numpy as np

    xs = np.union1d(ref_q, sorted_values)
    f_ref = np.interp(xs, ref_q, probs, left=0.0, right=1.0)
    right = np.searchsorted(sorted_values, xs, side="right") / sorted_values.size
    left = np.searchsorted(sorted_values, xs, side="left") / sorted_values.size
    return float(max(np.max(np.abs(f_ref - right)), np.max(np.abs(f_ref - left))))


def ks_p_value(d: float, n: int, m: int) -> float:
    """Two-sided p-value of the two-sample KS statistic (scipy's asymptotic method)."""
    from scipy.stats import kstwo

    en = n * m / (n + m)
    return float(min(1.0, max(0.0, kstwo.sf(d, round(en)))))


def chi_square_p(expected_counts: np.ndarray, observed: np.ndarray) -> float:
    """Evidently's chi-square: expected = reference counts scaled to the current size."""
    import numpy as np
    from scipy.stats import chi2

    expected = expected_counts * (observed.sum() / expected_counts.sum())
    if expected.size < 2:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(expected > 0, (observed - expected) ** 2 / expected, np.inf)
    cells = np.where((expected == 0) & (observed == 0), 0.0, cells)
    stat = float(np.sum(cells))
    return 0.0 if math.isinf(stat) else float(chi2.sf(stat, expected.size - 1))


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """scipy.spatial.distance.jensenshannon(p, q) with the natural log (Evidently's)."""
    import numpy as np

    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(math.sqrt(max(float(np.sum(left) + np.sum(right)) / 2, 0.0)))


def population_stability(r: np.ndarray, c: np.ndarray) -> float:
    """PSI with Evidently's zero filling (a tiny share instead of 0 on either side)."""
    import numpy as np

    def filled(x: np.ndarray) -> np.ndarray:
        x = x.astype(float).copy()
        nonzero = x[x > 0]
        if nonzero.size == 0:
            return x
        low = float(nonzero.min())
        x[x == 0] = low / 10**6 if low <= 0.0001 else 0.0001
        return x

    rf, cf = filled(r), filled(c)
    return float(np.sum((rf - cf) * np.log(rf / cf)))


def _shares_of_values(shares: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    pairs = sorted((float(k), float(v)) for k, v in shares.items())
    return np.array([k for k, _ in pairs]), np.array([v for _, v in pairs])


def _value_shares(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    xs, counts = np.unique(sorted_values, return_counts=True)
    return xs, counts / sorted_values.size


def _aligned(
    ref: tuple[np.ndarray, np.ndarray], cur: tuple[np.ndarray, np.ndarray]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    import numpy as np

    xs = np.union1d(ref[0], cur[0])
    r = np.zeros(xs.size)
    c = np.zeros(xs.size)
    r[np.searchsorted(xs, ref[0])] = ref[1]
    c[np.searchsorted(xs, cur[0])] = cur[1]
    return [_number_label(float(x)) for x in xs], r, c


def _bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> list[int]:
    from .evaluation import bin_counts

    return bin_counts(sorted_values, edges)


def _number_label(x: float) -> str:
    return str(int(x)) if x.is_integer() else f"{x:.4g}"


def _edge_labels(edges: Sequence[float] | np.ndarray) -> list[str]:
    """Labels of the histogram cells: under e0, e0 to e1, ..., over ek."""
    labels = [f"under {_number_label(float(edges[0]))}"]
    for a, b in itertools.pairwise(edges):
        labels.append(f"{_number_label(float(a))} to {_number_label(float(b))}")
    labels.append(f"over {_number_label(float(edges[-1]))}")
    return labels


def _bins(
    labels: Sequence[str], r: np.ndarray, c: np.ndarray
) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    return (
        tuple((str(k), float(v)) for k, v in zip(labels, r, strict=True)),
        tuple((str(k), float(v)) for k, v in zip(labels, c, strict=True)),
    )


# ---------------------------------------------------------------- decay


def decay(
    metric: str,
    reference: float,
    current: float | None,
    *,
    max_drop: float,
    n: int,
    reason: str = "",
) -> Decay:
    """The registered model's primary metric then (registered) and now (on new labels)."""
    return Decay(metric, reference, current, max_drop, n, reason)
