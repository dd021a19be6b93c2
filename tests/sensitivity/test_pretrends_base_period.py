"""Pre-test power with a staggered DiD's varying base period (Roth 2022).

With a varying base period each pre-period coefficient compares a period with the one
before it, so under a trend gap growing by ``slope`` per period it has mean ``slope``;
the post-period ones compare with the period before adoption and have mean
``slope * (e + 1)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import impact
from impact.exceptions import DesignError
from impact.sensitivity import (
    EventStudyInputs,
    event_study_inputs,
    honest_sensitivity,
    linear_violation,
    pretest_inputs,
    pretest_power,
    pretrend_power,
    slope_for_power,
)
from impact.sensitivity.pretrends import pretest_power_row

Z = stats.norm.ppf(0.975)


def test_linear_violation_by_base_period():
    times = [-3, -2, -1, 0, 1, 2]
    assert linear_violation(times, base_period="varying").tolist() == [1, 1, 1, 1, 2, 3]
    assert linear_violation([-3, -2, 0, 1]).tolist() == [-2, -1, 1, 2]
    # anticipation moves the post-periods' base back, not the pre-periods' one-step gaps
    varying = linear_violation(times, base_period="varying", anticipation=1)
    assert varying.tolist() == [1, 1, 1, 2, 3, 4]
    with pytest.raises(DesignError, match="base_period='fixed'"):
        linear_violation(times, base_period="fixed")
    with pytest.raises(DesignError, match="anticipation=-1"):
        linear_violation(times, anticipation=-1)


def _power_by_noncentral_chi2(slope, se, means_per_slope):
    """Independent coefficients: each fails the pre-test when (b / se)^2 > z^2, a
    noncentral chi-square with one degree of freedom and noncentrality (mean / se)^2.
    """
    pairs = zip(means_per_slope, se, strict=True)
    passes = [stats.ncx2.cdf(Z**2, 1, (slope * m / s) ** 2) for m, s in pairs]
    return 1.0 - float(np.prod(passes))


def test_varying_base_power_by_hand():
    se = np.array([0.05, 0.04, 0.03, 0.06])  # event times -3, -2, -1 (all estimated), 0
    sigma = np.diag(se**2)
    inputs = EventStudyInputs(np.zeros(4), sigma, 3, 1, (-3, -2, -1, 0), base_period="varying")
    slope = 0.07
    result = pretrend_power(inputs, slope=slope)
    # the hypothesised means: slope at every pre-period, slope * (0 + 1) after
    assert result.table.event_time.tolist() == [-3, -2, -1, 0]
    np.testing.assert_allclose(result.table.violation, [slope, slope, slope, slope])
    assert result.power == pytest.approx(_power_by_noncentral_chi2(slope, se[:3], [1, 1, 1]),
                                         abs=1e-9)  # fmt: skip
    # the slopes detected half and 80% of the time, solved independently
    for power in (0.5, 0.8):
        by_hand = optimize.brentq(
            lambda s, p=power: _power_by_noncentral_chi2(s, se[:3], [1, 1, 1]) - p, 0, 1,
            xtol=1e-12,
        )  # fmt: skip
        assert result.slopes[power] == pytest.approx(by_hand, rel=1e-7)
    # the universal convention would hypothesise means -3s, -2s, -s at -4, -3, -2
    universal = pretest_power(sigma, n_pre=3, slope=slope)
    assert universal == pytest.approx(_power_by_noncentral_chi2(slope, se[:3], [-3, -2, -1]),
                                      abs=1e-9)  # fmt: skip
    assert universal > result.power


def test_varying_base_post_period_means_and_conditional_bias():
    # one pre-period (event time -1) correlated with the post-period (event time 1)
    sigma = np.array([[0.04, 0.0, 0.01], [0.0, 0.05, 0.0], [0.01, 0.0, 0.09]])
    inputs = EventStudyInputs(np.zeros(3), sigma, 1, 2, (-1, 0, 1), base_period="varying")
    slope = 0.25
    result = pretrend_power(inputs, slope=slope)
    np.testing.assert_allclose(result.table.violation, [slope, slope, 2 * slope])
    mu, sd = slope, 0.2
    pre_mean = stats.truncnorm.mean((-Z * sd - mu) / sd, (Z * sd - mu) / sd, loc=mu, scale=sd)
    expected = [slope, 2 * slope + 0.01 / 0.04 * (pre_mean - mu)]
    np.testing.assert_allclose(result.bias_after_pretest.to_numpy(), expected, rtol=1e-7)


def _staggered_panel() -> impact.Panel:
    rng = np.random.default_rng(3)
    n, periods = 90, 8
    df = pd.DataFrame({"u": np.repeat(np.arange(n), periods), "t": np.tile(np.arange(periods), n)})
    cohort = np.where(df.u < 30, 4, np.where(df.u < 60, 6, 0))
    df["d"] = ((cohort > 0) & (df.t >= cohort)).astype(int)
    df["y"] = 0.1 * df.u + df.t + df.d + rng.normal(0, 1, len(df))
    return impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")


@pytest.fixture(scope="module")
def staggered():
    panel = _staggered_panel()
    return {
        base: impact.StaggeredDiD(base_period=base).fit(panel).aggregate("dynamic", min_event=-3)
        for base in ("varying", "universal")
    }


def test_summary_shows_the_power_with_either_base_period(staggered):
    for base, result in staggered.items():
        table = result.summary().tables["diagnostics: pretrend_test"]
        assert {"slope_50_power", "slope_80_power"} <= set(table.columns), base
        inputs = pretest_inputs(result)
        assert inputs.base_period == base
        unit = linear_violation(inputs.event_times, base_period=base)
        expected = slope_for_power(inputs.sigma, n_pre=inputs.n_pre, power=0.8, shape=unit)
        assert table.slope_80_power.iloc[0] == pytest.approx(expected, rel=1e-12)
        assert 0 < table.slope_50_power.iloc[0] < table.slope_80_power.iloc[0]


def test_varying_base_inputs_read_every_pre_period_estimate(staggered):
    inputs = pretest_inputs(staggered["varying"])
    assert inputs.event_times == (-3, -2, -1, 0, 1, 2, 3)
    assert (inputs.n_pre, inputs.n_post) == (3, 4)
    effects = staggered["varying"].effects.set_index("term")
    terms = [f"e={e}" for e in inputs.event_times]
    np.testing.assert_allclose(inputs.betahat, effects.loc[terms, "estimate"])
    np.testing.assert_allclose(np.sqrt(np.diag(inputs.sigma)), effects.loc[terms, "std_error"])


def test_universal_base_power_is_unchanged(staggered):
    # the universal convention's means are slope * (e + 1): the array functions' default
    result = staggered["universal"]
    inputs = event_study_inputs(result)
    row = pretest_power_row(result)
    for power in (0.5, 0.8):
        old = slope_for_power(inputs.sigma, n_pre=inputs.n_pre, power=power)
        assert row[f"slope_{int(100 * power)}_power"] == old
    full = pretrend_power(result, slope=0.05)
    assert full.table.event_time.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    np.testing.assert_allclose(full.table.violation, 0.05 * np.arange(-2, 5))


def test_robust_sets_still_refuse_a_varying_base_period(staggered):
    with pytest.raises(DesignError, match="base_period='universal'"):
        honest_sensitivity(staggered["varying"])
    table = impact.robustness(staggered["varying"]).table
    aspects = table.aspect.tolist()
    assert "design sensitivity" in aspects  # no robust set, and it says why
    power = table.set_index("aspect").loc["pre-trend slope detected with 80% power", "value"]
    assert power == pytest.approx(pretest_power_row(staggered["varying"])["slope_80_power"])
