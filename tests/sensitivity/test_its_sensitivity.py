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


def test_autocorrelated_error_fits_and_other_results_are_refused():
    ar = InterruptedTimeSeries.from_series(_series(), interruption=12)  # errors="ar"
    with pytest.raises(DesignError, match="errors='ols'"):
        its_breakdown(ar)
    with pytest.raises(DesignError, match="cannot be bounded"):
        its_sensitivity(_fit(_series()), terms=["e=0"])
    with pytest.raises(DesignError, match="non-negative"):
        its_sensitivity(_fit(_series()), M=[-1.0])
