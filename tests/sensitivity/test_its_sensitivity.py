"""Trend sensitivity of interrupted time series: bias-aware intervals and breakdown bends."""

from __future__ import annotations

import numpy as np
import pytest

from impact.estimators import InterruptedTimeSeries
from impact.exceptions import DesignError
from impact.sensitivity.its import its_breakdown, its_sensitivity

T = np.arange(24.0)
POST = T >= 12
K = np.cumsum(POST)  # 1, 2, ... in the post-programme periods


def _series(effect: float = 3.0, bend: float = 0.0, scale: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    departure = bend * K * (K + 1) / 2  # the untreated path bends by `bend` per period
    return scale * (10 + 0.5 * T + departure + effect * POST + rng.normal(0, 0.3, 24))


def _fit(y):
    return InterruptedTimeSeries.from_series(y, interruption=12, errors="ols")


def test_no_bend_reproduces_the_results_own_intervals():
    result = _fit(_series())
    table = its_sensitivity(result, M=[0.0]).set_index("term")
    effects = result.effects.set_index("term")
    for term in ("level_change", "slope_change", "att"):
        assert table.loc[term, "lb"] == pytest.approx(effects.loc[term, "ci_lower"], rel=1e-9)
        assert table.loc[term, "ub"] == pytest.approx(effects.loc[term, "ci_upper"], rel=1e-9)


def test_the_att_bias_is_the_mean_accumulated_bend():
    """A slope changing by M each period departs by M k (k + 1) / 2 after k periods."""
    result = _fit(_series())
    bias = its_sensitivity(result, M=[1.0], terms=["att"])["bias"].iloc[0]
    k = np.arange(1, 13)
    assert bias == pytest.approx(np.mean(k * (k + 1) / 2))


def test_a_bent_counterfactual_is_covered_when_the_bend_is_allowed():
    bend = 0.05
    result = _fit(_series(effect=3.0, bend=bend))
    att = result.effects.set_index("term").loc["att"]
    truth = 3.0
    assert not att["ci_lower"] <= truth <= att["ci_upper"]  # the bend counted as effect
    row = its_sensitivity(result, M=[bend], terms=["att"]).iloc[0]
    assert row["lb"] <= truth <= row["ub"]


def test_breakdown_scales_with_the_outcome_and_excludes_zero_below_it():
    base = _fit(_series())
    scaled = _fit(_series(scale=10.0))
    m = its_breakdown(base, term="att")
    assert its_breakdown(scaled, term="att") == pytest.approx(10 * m, rel=1e-6)
    below = its_sensitivity(base, M=[0.9 * m], terms=["att"]).iloc[0]
    above = its_sensitivity(base, M=[1.1 * m], terms=["att"]).iloc[0]
    assert below["lb"] > 0 and above["lb"] < 0


def test_a_null_effect_breaks_down_at_zero():
    assert its_breakdown(_fit(_series(effect=0.0)), term="att") == 0.0


def test_seasonal_fits_and_other_results_are_refused():
    seasonal = InterruptedTimeSeries.from_series(_series(), interruption=12, errors="ar",
                                                 seasonal_period=4)  # fmt: skip
    with pytest.raises(DesignError, match="seasonal terms"):
        its_breakdown(seasonal)
    with pytest.raises(DesignError, match="cannot be bounded"):
        its_sensitivity(_fit(_series()), terms=["e=0"])
    with pytest.raises(DesignError, match="non-negative"):
        its_sensitivity(_fit(_series()), M=[-1.0])


# ---------------------------------------------------------------------- AR errors
def _ar_series(n: int = 40, start: int = 20, rho: float = 0.6, seed: int = 1):
    rng = np.random.default_rng(seed)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = rho * noise[i - 1] + rng.normal(0, 0.3)
    t = np.arange(float(n))
    return 10 + 0.5 * t + 3.0 * (t >= start) + noise


@pytest.fixture(scope="module", params=[1, 2])
def ar_fit(request):
    return InterruptedTimeSeries.from_series(_ar_series(), interruption=20, errors="ar",
                                             ar_order=request.param)  # fmt: skip


def _gls_refit_constant(result, term: str) -> float:
    """Refit the segmented regression by statsmodels GLS, the AR coefficients fixed at
    the result's, to each bend of the basis (the departure whose slope changes by 1 from
    post-period j on), and add up how far each moves ``term``."""
    import statsmodels.api as sm

    n, start = len(result.paths), 20
    t = np.arange(float(n))
    X = np.column_stack([np.ones(n), t, t >= start, np.maximum(t - start, 0.0)])
    phi = np.asarray(result.settings["ar_coefficients"])
    # the AR(p) autocovariance by simulation-free recursion on a long impulse response
    psi = np.zeros(4000)
    psi[0] = 1.0
    for i in range(1, len(psi)):
        psi[i] = sum(phi[j] * psi[i - 1 - j] for j in range(len(phi)) if i - 1 - j >= 0)
    acov = np.array([psi[: len(psi) - h] @ psi[h:] for h in range(n)])
    omega = acov[np.abs(t[:, None] - t[None, :]).astype(int)]
    k = np.maximum(t - start + 1, 0.0)  # 1, 2, ... after the interruption
    total = 0.0
    for j in range(1, n - start + 1):
        bend = np.maximum(k - j + 1, 0.0)  # slope up by 1 per period from post-period j on
        params = sm.GLS(bend, X, sigma=omega).fit().params
        level, slope = params[2], params[3]
        effect = {"level_change": level, "slope_change": slope,
                  "att": level + slope * (n - start - 1) / 2}[term]  # fmt: skip
        total += abs(effect)
    return total


@pytest.mark.parametrize("term", ["level_change", "slope_change", "att"])
def test_ar_error_bias_is_the_gls_refit_to_the_bends(ar_fit, term):
    bias = its_sensitivity(ar_fit, M=[1.0], terms=[term])["bias"].iloc[0]
    assert bias == pytest.approx(_gls_refit_constant(ar_fit, term), rel=1e-8)


def test_ar_error_bias_differs_from_the_separate_lines_of_ols(ar_fit):
    # the errors' correlation across the interruption lets the post-programme bend move
    # the pre-programme line: the constant is not the least-squares one
    ols = InterruptedTimeSeries.from_series(_ar_series(), interruption=20, errors="ols")
    for term in ("level_change", "att"):
        ar_bias = its_sensitivity(ar_fit, M=[1.0], terms=[term])["bias"].iloc[0]
        ols_bias = its_sensitivity(ols, M=[1.0], terms=[term])["bias"].iloc[0]
        assert abs(ar_bias - ols_bias) > 0.01 * ols_bias


def test_ar_error_breakdown_and_robustness_summary(ar_fit):
    import impact

    m = its_breakdown(ar_fit, term="level_change")
    assert 0 < m < np.inf
    below, above = its_sensitivity(ar_fit, M=[0.95 * m, 1.05 * m],
                                   terms=["level_change"]).itertuples()  # fmt: skip
    assert below.lb > 0 and above.lb < 0
    table = impact.robustness(ar_fit).table.set_index("aspect")
    assert table.loc["breakdown M of the trend (level_change)", "value"] == pytest.approx(m)
