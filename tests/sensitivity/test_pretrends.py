"""Pre-trend power (Roth 2022): the `pretrends` README's He and Wang (2017) example.

Data and numbers frozen in tests/reference/sensitivity (he_wang.csv, README.md), with
the reasons for each tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact.exceptions import DesignError
from impact.sensitivity import (
    EventStudyInputs,
    pretest_power,
    pretrend_power,
    slope_for_power,
)

DATA = Path(__file__).parents[1] / "reference" / "sensitivity" / "he_wang.csv"
SLOPE_50 = 0.05205871
MEAN_AFTER_PRETEST = [-0.09230764, -0.05555285, -0.02790950, 0.0,
                      0.06490184, 0.12084694, 0.16946498, 0.22453827]  # fmt: skip


@pytest.fixture(scope="module")
def he_wang() -> EventStudyInputs:
    table = pd.read_csv(DATA)
    sigma = table[[f"sigma_{j}" for j in range(1, 8)]].to_numpy()
    return EventStudyInputs(table.beta.to_numpy(), sigma, 3, 4, tuple(table.t))


def test_slope_detected_half_the_time(he_wang):
    slope = slope_for_power(he_wang.sigma, n_pre=3, power=0.5, threshold=1.96)
    assert slope == pytest.approx(SLOPE_50, abs=1e-4)
    # and it is what the name says, to the precision of the probabilities
    assert pretest_power(he_wang.sigma, n_pre=3, slope=slope, threshold=1.96) == pytest.approx(
        0.5, abs=1e-6
    )


def test_power_bayes_factor_likelihood_ratio_and_means_after_pretesting(he_wang):
    result = pretrend_power(he_wang, slope=SLOPE_50, threshold=1.96)
    assert result.power == pytest.approx(0.4999776, abs=3e-4)
    assert result.bayes_factor == pytest.approx(0.56901, abs=3e-4)
    assert result.likelihood_ratio == pytest.approx(0.1057627, rel=1e-6)
    assert result.table.event_time.tolist() == [-4, -3, -2, -1, 0, 1, 2, 3]
    np.testing.assert_allclose(result.table.mean_after_pretest, MEAN_AFTER_PRETEST, atol=2e-5)
    np.testing.assert_allclose(
        result.table.violation, SLOPE_50 * np.array([-3, -2, -1, 0, 1, 2, 3, 4])
    )
    assert result.bias_after_pretest.index.tolist() == [0, 1, 2, 3]
    assert result.slopes[0.5] < result.slopes[0.8]


def test_one_pre_period_by_hand():
    # with one pre-period the power is a normal tail sum, the truncated mean closed form
    from scipy.stats import norm, truncnorm

    sigma = np.array([[0.04, 0.012], [0.012, 0.09]])
    slope = 0.3
    power = pretest_power(sigma, n_pre=1, slope=slope)
    z = norm.ppf(0.975)
    mu = -slope  # the violation at event time -2
    assert power == pytest.approx(norm.sf((z * 0.2 - mu) / 0.2) + norm.cdf((-z * 0.2 - mu) / 0.2))
    result = pretrend_power(EventStudyInputs(np.zeros(2), sigma, 1, 1, (-2, 0)), slope=slope)
    pre_mean = truncnorm.mean((-z * 0.2 - mu) / 0.2, (z * 0.2 - mu) / 0.2, loc=mu, scale=0.2)
    post = slope + 0.012 / 0.04 * (pre_mean - mu)
    assert result.bias_after_pretest.loc[0] == pytest.approx(post, rel=1e-7)


def test_scaling_the_outcome_scales_the_slopes(he_wang):
    base = slope_for_power(he_wang.sigma, n_pre=3, power=0.8)
    assert slope_for_power(100.0 * he_wang.sigma, n_pre=3, power=0.8) == pytest.approx(
        10.0 * base, rel=1e-6
    )


def test_errors_name_the_value():
    with pytest.raises(DesignError, match=r"power=0.01 must lie between the pre-test's size"):
        slope_for_power(np.eye(2), n_pre=2, power=0.01)
    with pytest.raises(DesignError, match="either slope"):
        pretest_power(np.eye(2), n_pre=2)
    with pytest.raises(DesignError, match=r"n_pre=0 must be a positive integer"):
        pretest_power(np.eye(2), n_pre=0, slope=1.0)
    with pytest.raises(DesignError, match="expected an ImpactResult or EventStudyInputs"):
        pretrend_power((np.zeros(2), np.eye(2)))


def test_the_event_study_summary_shows_the_pre_tests_power():
    """Roth (2022): the slopes the pre-test detects half the time and 80% of the time."""
    import numpy as np
    import pandas as pd

    import impact
    from impact.sensitivity import slope_for_power
    from impact.sensitivity.results import event_study_inputs

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    df["y"] = df.u + df.t + df.d + rng.normal(0, 0.5, len(df))
    panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    result = impact.EventStudy(inference="cr1").fit(panel)
    shown = result.summary().tables["diagnostics: pretrend_test"]
    inputs = event_study_inputs(result)
    expected = slope_for_power(inputs.sigma, n_pre=inputs.n_pre, power=0.8)
    assert shown["slope_80_power"].iloc[0] == expected
    assert shown["slope_50_power"].iloc[0] < expected
    assert "slope_80_power" not in result.diagnostics["pretrend_test"]  # display only
