"""drift: Evidently's default tests, computed from a training profile, on known distributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, wasserstein_distance

from modelward import drift, evaluation


def sample(n: int, seed: int, *, shift: float = 0.0, mix: tuple[float, ...] = (0.5, 0.3, 0.2)):
    """Four features: continuous, count (> 5 values), binary, categorical."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, n) + shift * 10.0,
            "visits": rng.poisson(3.0, n),
            "member": rng.integers(0, 2, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=list(mix)),
        }
    )


def report_for(
    reference: pd.DataFrame, current: pd.DataFrame, **settings: float
) -> drift.DriftReport:
    conf = drift.Settings(**settings)  # type: ignore[arg-type]
    return drift.compare(evaluation.profile(reference), current, conf)


def by_name(report: drift.DriftReport) -> dict[str, drift.FeatureDrift]:
    return {f.feature: f for f in report.features}


@pytest.mark.parametrize("n", [1_000, 40_000, 1_000_000])
def test_the_same_distribution_does_not_drift(n: int) -> None:
    report = report_for(sample(n, 1), sample(n, 2))
    assert [f.feature for f in report.drifted] == []
    assert not report.dataset_drift and not report.failed
    for f in report.features:
        assert f.psi is not None and f.psi < 0.1  # "no significant change" by the PSI rule


def test_evidently_picks_the_test_by_reference_size_and_distinct_values() -> None:
    small = by_name(report_for(sample(1_000, 1), sample(1_000, 2)))
    assert {k: (f.test, f.score) for k, f in small.items()} == {
        "income": ("ks", "p_value"),
        "visits": ("ks", "p_value"),
        "member": ("chisquare", "p_value"),
        "plan": ("chisquare", "p_value"),
    }
    big = by_name(report_for(sample(1_001, 1), sample(1_000, 2)))
    assert {k: (f.test, f.threshold) for k, f in big.items()} == {
        "income": ("wasserstein", 0.1),
        "visits": ("wasserstein", 0.1),
        "member": ("jensenshannon", 0.1),
        "plan": ("jensenshannon", 0.1),
    }


@pytest.mark.parametrize("n", [1_000, 40_000])
def test_a_one_std_shift_in_one_numeric_feature_is_detected_and_nothing_else(n: int) -> None:
    report = report_for(sample(n, 1), sample(n, 2, shift=1.0))
    assert [f.feature for f in report.drifted] == ["income"]
    assert report.share == pytest.approx(0.25)
    assert not report.dataset_drift  # one feature of four is below drift_share 0.5
    income = by_name(report)["income"]
    assert income.psi is not None and income.psi > 0.5


@pytest.mark.parametrize("n", [1_000, 40_000])
def test_a_changed_category_mix_is_detected_and_nothing_else(n: int) -> None:
    report = report_for(sample(n, 1), sample(n, 2, mix=(0.3, 0.3, 0.4)))
    assert [f.feature for f in report.drifted] == ["plan"]


def test_the_dataset_drifts_when_the_share_of_drifted_features_reaches_drift_share() -> None:
    reference = sample(5_000, 1)
    current = sample(5_000, 2, shift=1.0, mix=(0.2, 0.3, 0.5))
    report = report_for(reference, current)
    assert sorted(f.feature for f in report.drifted) == ["income", "plan"]
    assert report.share == 0.5 and report.dataset_drift and report.failed
    assert not report_for(reference, current, drift_share=0.75).dataset_drift


def test_the_normed_wasserstein_distance_matches_scipy_on_the_same_columns() -> None:
    reference, current = sample(200_000, 1), sample(200_000, 2, shift=0.3)
    found = by_name(report_for(reference, current))
    for column in ("income", "visits"):
        expected = wasserstein_distance(reference[column], current[column]) / np.std(
            reference[column]
        )
        # count data keeps exact value shares: exact; a continuous one goes through the
        # 101-point sketch: within 0.005 of the raw-data figure
        tolerance = 1e-9 if column == "visits" else 0.005
        assert found[column].distance == pytest.approx(expected, abs=tolerance)


def test_the_ks_p_value_agrees_with_scipy_for_small_references() -> None:
    reference, current = sample(800, 1), sample(800, 2, shift=0.15)
    found = by_name(report_for(reference, current))
    expected = ks_2samp(reference["income"], current["income"], method="asymp").pvalue
    assert found["income"].distance == pytest.approx(expected, rel=0.35, abs=0.01)
    visits = ks_2samp(reference["visits"], current["visits"], method="asymp").pvalue
    assert found["visits"].distance == pytest.approx(visits, rel=1e-6)


def test_jensen_shannon_and_psi_follow_evidently_definitions() -> None:
    r, c = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    from scipy.spatial.distance import jensenshannon

    assert drift.jensen_shannon(r, c) == pytest.approx(jensenshannon(r, c))
    assert drift.population_stability(r, c) == pytest.approx(float(np.sum((r - c) * np.log(r / c))))
    # an empty cell on one side gets a tiny share instead of 0, as in Evidently
    assert drift.population_stability(np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2])) > 1


def test_a_feature_with_too_few_values_is_not_enough_data_not_drift() -> None:
    reference = sample(5_000, 1)
    current = sample(5_000, 2, shift=3.0)
    current.loc[current.index[150:], "income"] = np.nan
    report = report_for(reference, current)
    income = by_name(report)["income"]
    assert income.status == "not enough data" and not income.drifted
    assert income.current_null_share == pytest.approx(0.97)
    assert "income" not in [f.feature for f in report.tested]
    assert any("not enough data" in note and "income" in note for note in report.notes)


def test_null_share_changes_and_new_categories_are_reported() -> None:
    reference = sample(5_000, 1)
    current = sample(5_000, 2)
    current.loc[current.index[:500], "visits"] = np.nan
    current.loc[current.index[:300], "plan"] = "enterprise"
    found = by_name(report_for(reference, current))
    assert found["visits"].reference_null_share == 0.0
    assert found["visits"].current_null_share == pytest.approx(0.1)
    assert found["plan"].new_categories == ("enterprise",)
    assert found["income"].new_categories == ()


def test_an_old_nine_point_profile_still_reads_with_a_note_that_it_is_approximate() -> None:
    reference, current = sample(5_000, 1), sample(5_000, 2, shift=1.0)
    old = evaluation.profile(reference)
    del old["format"]
    income = old["features"]["income"]
    income["quantiles"] = {
        k: v for k, v in income["quantiles"].items() if float(k) in evaluation_old_points()
    }
    del income["n_distinct"]
    report = drift.compare(old, current)
    assert report.approximate
    assert any("approximate" in note for note in report.notes)
    assert [f.feature for f in report.drifted] == ["income"]
    assert by_name(report)["income"].distance == pytest.approx(1.0, abs=0.1)


def evaluation_old_points() -> set[float]:
    return {0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0}


def test_the_report_ranks_drifted_features_first_then_by_distance() -> None:
    report = report_for(sample(5_000, 1), sample(5_000, 2, shift=2.0, mix=(0.45, 0.3, 0.25)))
    ranked = [f.feature for f in report.ranked()]
    assert ranked[0] == "income"
    severities = [f.severity for f in report.ranked() if not f.drifted]
    assert severities == sorted(severities, reverse=True)


def test_the_json_form_carries_the_documented_fields() -> None:
    data = report_for(sample(2_000, 1), sample(2_000, 2)).to_dict()
    assert set(data) >= {"dataset_drift", "share", "drift_share", "features", "decay"}
    assert set(data["features"][0]) >= {
        "feature",
        "type",
        "test",
        "distance",
        "threshold",
        "drifted",
        "psi",
        "current_null_share",
        "reference_null_share",
    }


def test_decay_is_a_drop_of_the_primary_metric_beyond_max_drop() -> None:
    assert drift.decay("roc_auc", 0.9, 0.84, max_drop=0.05, n=500).decayed
    assert not drift.decay("roc_auc", 0.9, 0.86, max_drop=0.05, n=500).decayed
    assert not drift.decay("roc_auc", 0.9, None, max_drop=0.05, n=500, reason="one class").decayed
    failing = drift.DriftReport(
        (),
        drift.Settings(),
        0,
        0,
        False,
        decay=drift.decay("roc_auc", 0.9, 0.5, max_drop=0.05, n=500),
    )
    assert failing.failed and not failing.dataset_drift


def test_settings_layer_model_over_config_over_defaults() -> None:
    from modelward.manifest import Monitoring, RepoMonitoring

    conf = RepoMonitoring(threshold=0.2, drift_share=0.3)
    model = Monitoring(threshold=0.15)
    merged = drift.Settings.merged(conf, model)
    assert merged == drift.Settings(threshold=0.15, drift_share=0.3)
