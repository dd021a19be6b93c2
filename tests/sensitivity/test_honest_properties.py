"""Rambachan-Roth sets: cases checkable by hand, invariances, the two test engines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact.exceptions import DesignError
from impact.sensitivity import (
    _arp,
    breakdown_value,
    identified_set,
    original_interval,
    robust_confidence_sets,
)
from impact.sensitivity._arp import truncated_normal_quantile
from impact.sensitivity._flci import optimal_flci, worst_case_bias
from impact.sensitivity._restrictions import polyhedra

Z = 1.959963984540054


# ---------------------------------------------------------------------- identified sets
def test_relative_magnitudes_identified_set_by_hand():
    # pre-period changes of 0.1 each: the post-period change is at most Mbar * 0.1
    beta = [0.2, 0.1, 1.0]
    for mbar in (0.0, 1.0, 2.5):
        lo, hi = identified_set(beta, n_pre=2, n_post=1, restriction="rm", M=mbar)
        assert lo == pytest.approx(1.0 - 0.1 * mbar) and hi == pytest.approx(1.0 + 0.1 * mbar)


def test_smoothness_identified_set_by_hand():
    # a linear pre-trend of slope 0.1 (delta_-2 = -0.2, delta_-1 = -0.1, delta_0 = 0)
    # extrapolates to delta_1 = 0.1, give or take M
    beta = [-0.2, -0.1, 1.0]
    for m in (0.0, 0.05):
        lo, hi = identified_set(beta, n_pre=2, n_post=1, restriction="sd", M=m)
        assert lo == pytest.approx(0.9 - m) and hi == pytest.approx(0.9 + m)


def test_sign_restriction_cuts_the_identified_set():
    beta = [0.2, 0.1, 1.0]  # |delta_1| <= 0.1 Mbar; delta_1 >= 0 leaves theta <= 1
    lo, hi = identified_set(beta, n_pre=2, n_post=1, restriction="rm", M=1.0, sign="positive")
    assert lo == pytest.approx(0.9) and hi == pytest.approx(1.0)


# ---------------------------------------------------------------------- reductions
@pytest.mark.parametrize("method", ["C-LF", "Conditional"])
@pytest.mark.parametrize("n_post", [1, 2])
def test_relative_magnitudes_at_zero_is_the_ordinary_interval(small, method, n_post):
    # Mbar = 0: no post-period violation; the set is l' beta_post -+ z se (to the grid)
    beta, sigma = small
    beta, sigma = beta[: 3 + n_post], sigma[: 3 + n_post, : 3 + n_post]
    row = robust_confidence_sets(beta, sigma, n_pre=3, n_post=n_post, M=[0.0], method=method)
    original = original_interval(beta, sigma, n_pre=3, n_post=n_post)
    step = 40 * np.sqrt(sigma[3, 3]) / 999  # the grid's spacing
    assert row.lb.iloc[0] == pytest.approx(original.lb.iloc[0], abs=step)
    assert row.ub.iloc[0] == pytest.approx(original.ub.iloc[0], abs=step)


def test_smoothness_at_zero_with_one_pre_period_extrapolates_the_line():
    # M = 0, one pre-period: theta = beta_1 - delta_1 with delta_1 = -delta_-1
    beta = np.array([-0.03, 0.2])
    sigma = np.array([[0.01**2, 0.3 * 0.01 * 0.02], [0.3 * 0.01 * 0.02, 0.02**2]])
    row = robust_confidence_sets(beta, sigma, n_pre=1, n_post=1, restriction="sd", M=[0.0])
    estimate = beta[1] + beta[0]
    se = np.sqrt(sigma[0, 0] + sigma[1, 1] + 2 * sigma[0, 1])
    assert row.lb.iloc[0] == pytest.approx(estimate - Z * se, abs=1e-8)
    assert row.ub.iloc[0] == pytest.approx(estimate + Z * se, abs=1e-8)


def test_smoothness_at_zero_is_the_best_unbiased_linear_extrapolation(small):
    # M = 0: the minimum-variance estimator unbiased for any linear trend, -+ z sd
    beta, sigma = small
    flci = optimal_flci(beta, sigma, n_pre=3, l_vec=np.array([1.0, 0.0]), M=0.0, alpha=0.05)
    periods = np.array([-3, -2, -1])
    # minimise v' S v over v = (v_pre, 1, 0) with v_pre' periods = -1 (Lagrange)
    S, c = sigma[:3, :3], sigma[:3, 3]
    kkt = np.block([[2 * S, periods[:, None]], [periods[None, :], np.zeros((1, 1))]])
    v_pre = np.linalg.solve(kkt, np.concatenate([-2 * c, [-1.0]]))[:3]
    v = np.concatenate([v_pre, [1.0, 0.0]])
    assert flci.estimate == pytest.approx(v @ beta, abs=1e-7)
    assert flci.half_length == pytest.approx(Z * np.sqrt(v @ sigma @ v), rel=1e-6)


def test_flci_bias_formula_is_the_worst_case_over_the_restriction(small):
    from scipy.optimize import linprog

    beta, sigma = small
    l_vec = np.array([0.5, 0.5])
    flci = optimal_flci(beta, sigma, n_pre=3, l_vec=l_vec, M=0.02, alpha=0.05)
    piece = polyhedra("smoothness", 0.02, n_pre=3, n_post=2)[0]
    worst = -linprog(-flci.weights, A_ub=piece.A, b_ub=piece.d, bounds=(None, None)).fun
    assert worst_case_bias(flci.weights[:3], l_vec, 0.02) == pytest.approx(worst, rel=1e-7)


def test_flci_is_no_longer_than_a_brute_force_search(small):
    from scipy.optimize import minimize

    from impact.sensitivity._flci import folded_normal_quantile

    beta, sigma = small
    l_vec = np.array([1.0, 0.0])
    flci = optimal_flci(beta, sigma, n_pre=3, l_vec=l_vec, M=0.01, alpha=0.05)

    def length(z):
        v_pre = np.array([z[0], z[1], 0.0])
        v_pre[2] = 1.0 - 3 * z[0] - 2 * z[1]  # v_pre' (-3, -2, -1) = -1
        v = np.concatenate([v_pre, l_vec])
        h = np.sqrt(v @ sigma @ v)
        return h * folded_normal_quantile(worst_case_bias(v_pre, l_vec, 0.01) / h, 0.05)

    rng = np.random.default_rng(0)
    best = min(
        minimize(length, rng.normal(size=2), method="Nelder-Mead",
                 options={"xatol": 1e-10, "fatol": 1e-14}).fun
        for _ in range(10)
    )  # fmt: skip
    assert flci.half_length <= best + 1e-9


# ---------------------------------------------------------------------- invariances
@settings(max_examples=8, deadline=None)
@given(scale=st.floats(1e-3, 1e3), shift_sign=st.sampled_from([1.0, -1.0]))
def test_scaling_the_outcome_scales_the_sets(scale, shift_sign):
    beta = np.array([0.01, -0.005, 0.002, 0.05, 0.06])
    sigma = np.diag([0.01, 0.01, 0.01, 0.012, 0.014]) ** 2
    c = scale * shift_sign
    rm = robust_confidence_sets(beta, sigma, n_pre=3, n_post=2, M=[1.0], lf_draws=1000)
    rm_scaled = robust_confidence_sets(
        c * beta, c**2 * sigma, n_pre=3, n_post=2, M=[1.0], lf_draws=1000
    )
    ends = sorted([c * rm.lb.iloc[0], c * rm.ub.iloc[0]])
    assert rm_scaled.lb.iloc[0] == pytest.approx(ends[0], rel=1e-6, abs=1e-12 * scale)
    assert rm_scaled.ub.iloc[0] == pytest.approx(ends[1], rel=1e-6, abs=1e-12 * scale)
    sd = robust_confidence_sets(beta, sigma, n_pre=3, n_post=2, restriction="sd", M=[0.01])
    sd_scaled = robust_confidence_sets(
        c * beta, c**2 * sigma, n_pre=3, n_post=2, restriction="sd", M=[0.01 * abs(c)]
    )
    ends = sorted([c * sd.lb.iloc[0], c * sd.ub.iloc[0]])
    assert sd_scaled.lb.iloc[0] == pytest.approx(ends[0], rel=1e-5)
    assert sd_scaled.ub.iloc[0] == pytest.approx(ends[1], rel=1e-5)


def test_sets_widen_with_the_bound(medicaid):
    for restriction in ("rm", "sdrm"):
        table = robust_confidence_sets(
            **medicaid.arrays(), restriction=restriction, M=[0.0, 0.5, 1.0, 2.0]
        )
        assert (np.diff(table.lb) <= 1e-12).all() and (np.diff(table.ub) >= -1e-12).all()


def test_shape_restrictions_shrink_the_identified_set_and_the_sets_hold_it(medicaid):
    # (conditional sets need not be nested: added moments change the conditioning)
    beta = medicaid.betahat
    plain = identified_set(beta, n_pre=5, n_post=2, M=1.0)
    for option in ({"sign": "positive"}, {"sign": "negative"}):
        lo, hi = identified_set(beta, n_pre=5, n_post=2, M=1.0, **option)
        assert plain[0] - 1e-12 <= lo <= hi <= plain[1] + 1e-12
        table = robust_confidence_sets(**medicaid.arrays(), M=[1.0], **option)
        assert table.lb.iloc[0] <= lo and hi <= table.ub.iloc[0]


def test_monotone_identified_set_by_hand():
    # increasing delta through delta_0 = 0: delta_1 >= 0 and |delta_1| <= Mbar * 0.1
    lo, hi = identified_set([-0.2, -0.1, 1.0], n_pre=2, n_post=1, M=2.0, monotonic="increasing")
    assert lo == pytest.approx(0.8) and hi == pytest.approx(1.0)


def test_a_restriction_the_pre_trend_contradicts_has_no_identified_set():
    with pytest.raises(DesignError, match=r"identified set is empty"):
        identified_set([0.3, 0.1, 1.0], n_pre=2, n_post=1, monotonic="increasing")


# ---------------------------------------------------------------------- the engines
def test_vertex_enumeration_and_linear_programmes_agree(medicaid, monkeypatch):
    from impact.sensitivity.honest import _Problem

    problem = _Problem(medicaid.betahat, medicaid.sigma, 5, 2, "relative_magnitudes",
                       np.array([0.5, 0.5]), None, None)  # fmt: skip
    thetas = np.linspace(-0.02, 0.12, 8)
    by_vertices = [t.accepts(thetas, alpha=0.05, lf_cv=None) for t in problem.tests(1.0)[:4]]
    monkeypatch.setattr(_arp, "MAX_SUPPORTS", 0)
    tests = problem.tests(1.0)[:4]
    assert all(t.vertices is None for t in tests)
    by_programmes = [t.accepts(thetas, alpha=0.05, lf_cv=None) for t in tests]
    assert np.array_equal(np.array(by_programmes), np.array(by_vertices))
    assert np.array(by_vertices).any() and not np.array(by_vertices).all()


def test_truncated_normal_quantile_keeps_precision_in_the_tails():
    from scipy.stats import truncnorm

    for lo, hi in ((-1.0, 2.0), (0.5, np.inf), (-np.inf, -0.3), (-3.0, -2.0)):
        for p in (0.05, 0.5, 0.95):
            assert truncated_normal_quantile(p, lo, hi) == pytest.approx(
                truncnorm.ppf(p, lo, hi), rel=1e-9
            )
    # far out: the quantile of N(0,1) truncated to [40, inf) is 40 + Exp(40) quantile
    q = truncated_normal_quantile(0.95, 40.0, np.inf)
    assert q == pytest.approx(40 + np.log(20) / 40, rel=1e-3)


def test_breakdown_is_zero_when_the_ordinary_interval_covers_zero(small):
    beta, sigma = small
    beta = beta.copy()
    beta[3] = 0.01  # the first post-period effect is not significant
    assert breakdown_value(beta, sigma, n_pre=3, n_post=2) == 0.0


@pytest.mark.parametrize("restriction", ["relative_magnitudes", "smoothness"])
def test_an_effect_far_from_zero_is_not_lost_off_the_grid(restriction):
    # HonestDiD's grid spans +-20 standard errors around 0: an effect 40 standard
    # errors away was rejected at every grid point and reported as an empty set
    beta = np.array([0.001, -0.002, 2.0, 2.05])
    sigma = np.diag([0.04, 0.04, 0.05, 0.05]) ** 2
    row = robust_confidence_sets(
        beta, sigma, n_pre=2, n_post=2, restriction=restriction, M=[0.0], method="Conditional"
    )
    assert 1.6 < row.lb.iloc[0] < 2.0 < row.ub.iloc[0] < 2.4
    if restriction == "relative_magnitudes":  # Mbar = 0: the ordinary interval
        original = original_interval(beta, sigma, n_pre=2, n_post=2)
        assert row.lb.iloc[0] == pytest.approx(original.lb.iloc[0], abs=40 * 0.05 / 999)
