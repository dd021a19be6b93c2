"""Rosenbaum bounds, E-values and the matching standard errors against independent checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from impact.estimators.matching import algorithms
from impact.estimators.matching.sensitivity import critical_gamma, e_value, rosenbaum_bounds
from impact.estimators.matching.variance import abadie_imbens, ipw_att

# Rosenbaum (2002), Observational Studies, chapter 4: blood lead of 33 exposed children
# and their matched controls (Morton et al. 1982), as in R rbounds::psens's example.
EXPOSED = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45, 39,
           22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27]  # fmt: skip
CONTROL = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9, 14,
           21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13]  # fmt: skip
LEAD = np.subtract(EXPOSED, CONTROL)


def exact_upper_bound(differences: np.ndarray, gamma: float) -> float:
    """P(T >= t) when each rank is positive independently with prob Gamma/(1+Gamma).

    An independent computation: the exact distribution of the bounding statistic by
    convolution over doubled ranks (integers, since average ranks are multiples of 1/2).
    """
    d = differences[differences != 0]
    ranks = np.rint(2 * stats.rankdata(np.abs(d))).astype(int)
    t_obs = int(ranks[d > 0].sum())
    p = gamma / (1 + gamma)
    dist = np.zeros(ranks.sum() + 1)
    dist[0] = 1.0
    for r in ranks:
        shifted = np.zeros_like(dist)
        shifted[r:] = dist[:-r]
        dist = (1 - p) * dist + p * shifted
    return float(dist[t_obs:].sum())


def test_no_hidden_bias_gives_the_wilcoxon_normal_approximation():
    table = rosenbaum_bounds(LEAD, gammas=[1.0])
    expected = stats.wilcoxon(LEAD, alternative="greater", method="approx", correction=False)
    assert table.loc[0, "p_value_upper"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert table.loc[0, "p_value_lower"] == pytest.approx(expected.pvalue, rel=1e-9)


@pytest.mark.parametrize("gamma", [1.5, 2.0, 3.0, 4.0, 5.0])
def test_upper_bound_approximates_the_exact_bounding_distribution(gamma):
    # rbounds' normal approximation (no continuity correction): rough with 33 pairs...
    normal = rosenbaum_bounds(LEAD, gammas=[gamma]).loc[0, "p_value_upper"]
    assert normal == pytest.approx(exact_upper_bound(LEAD, gamma), abs=0.015)
    # ...and close with 200 pairs, which checks its mean and variance
    d = np.random.default_rng(5).normal(0.45, 1.0, size=200)
    g = 1.0 + (gamma - 1.0) / 2
    normal = rosenbaum_bounds(d, gammas=[g]).loc[0, "p_value_upper"]
    assert normal == pytest.approx(exact_upper_bound(d, g), abs=0.006)


def test_critical_gamma_is_where_the_upper_bound_crosses_alpha():
    gamma = critical_gamma(LEAD, alpha=0.05)
    just_below, just_above = rosenbaum_bounds(LEAD, gammas=[gamma - 1e-3, gamma + 1e-3])[
        "p_value_upper"
    ]
    assert just_below < 0.05 < just_above
    assert critical_gamma(np.array([1.0, -1.0, 0.5, -0.4])) == 1.0


def test_bounds_bracket_and_move_apart_with_gamma():
    table = rosenbaum_bounds(LEAD, gammas=[1.0, 1.5, 2.0, 3.0])
    assert (table["p_value_lower"] <= table["p_value_upper"]).all()
    assert (np.diff(table["p_value_upper"]) > 0).all()


def test_e_value_vanderweele_ding_example():
    # VanderWeele and Ding (2017), Annals of Internal Medicine 167:268-274: an observed
    # risk ratio of 3.9 (95% CI 1.8 to 8.7) has E-value 7.26, and 3.0 for the lower limit.
    assert e_value(3.9) == pytest.approx(7.26, abs=0.005)
    assert e_value(1.8) == pytest.approx(3.0, abs=0.005)
    assert e_value(1 / 3.9) == pytest.approx(e_value(3.9))


def test_abadie_imbens_reduces_to_paired_variance_without_reuse():
    rng = np.random.default_rng(0)
    y = rng.normal(size=10)
    x = np.arange(10.0)
    treated = np.zeros(10, bool)
    treated[:5] = True
    mm = np.arange(5, 10).reshape(5, 1)  # every control used once: K (K - 1) = 0
    est = abadie_imbens(y, np.arange(5), mm, x, ~treated)
    diffs = y[:5] - y[5:]
    assert est.estimate == pytest.approx(diffs.mean())
    assert est.std_error == pytest.approx(np.sqrt(((diffs - diffs.mean()) ** 2).sum()) / 5)


def test_abadie_imbens_adds_the_reuse_term():
    # one control used by all three treated units: K = 3, adds K (K - 1) s2 / N1^2
    y = np.array([1.0, 2.0, 3.0, 0.0, 10.0, 20.0])
    x = np.array([0.0, 0.1, 0.2, 0.1, 5.0, 6.0])
    treated = np.array([True, True, True, False, False, False])
    mm = np.array([[3], [3], [3]])
    est = abadie_imbens(y, np.arange(3), mm, x, ~treated)
    s2 = 2 / 3 * (0.0 - (10.0 + 20.0) / 2) ** 2  # J = 2 nearest other controls
    term1 = ((y[:3] - 0.0 - 2.0) ** 2).sum()
    assert est.std_error == pytest.approx(np.sqrt((term1 + 6 * s2) / 9))


def test_ipw_sandwich_matches_a_numerical_jacobian():
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(size=n)
    d = rng.random(n) < 1 / (1 + np.exp(-(0.3 + x)))
    y = x + d + rng.normal(size=n)
    from impact.estimators.matching.propensity import fit_propensity

    fit = fit_propensity(x[:, None], d, ["x"])
    Z = fit.design
    est = ipw_att(y, d, Z, fit.linear_predictor)

    def moments(theta):
        beta, mu1, mu0 = theta[:2], theta[2], theta[3]
        eta = Z @ beta
        p = 1 / (1 + np.exp(-eta))
        return np.column_stack(
            [(d - p)[:, None] * Z, d * (y - mu1), (1 - d) * np.exp(eta) * (y - mu0)]
        )

    w0 = (~d) * np.exp(fit.linear_predictor)
    theta = np.r_[fit.params, y[d].mean(), (w0 * y).sum() / w0.sum()]
    jac = np.empty((4, 4))
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-6
        jac[:, j] = (moments(theta + step).mean(0) - moments(theta - step).mean(0)) / 2e-6
    g = moments(theta)
    inv = np.linalg.inv(jac)
    cov = inv @ (g.T @ g / n) @ inv.T / n
    se = np.sqrt(cov[2, 2] + cov[3, 3] - 2 * cov[2, 3])
    assert est.estimate == pytest.approx(theta[2] - theta[3])
    assert est.std_error == pytest.approx(se, rel=1e-5)


def test_greedy_scalar_matching_follows_matchit_rules():
    # sorted scores: treated at 0.50 takes the left control on a tie (0.45 vs 0.55)
    score = np.array([0.50, 0.45, 0.55, 0.90, 0.20])
    treated = np.array([True, False, False, True, False])
    mm = algorithms.nearest_neighbors(score, treated, order="largest")
    # 0.90 goes first (largest) and takes 0.55; 0.50 then takes 0.45
    assert mm.ravel().tolist() == [1, 2]
    mm = algorithms.nearest_neighbors(score, treated, order="smallest")
    assert mm.ravel().tolist() == [1, 2]
    # with a caliper of 0.1 the treated unit at 0.90 finds nobody
    mm = algorithms.nearest_neighbors(score, treated, caliper=0.1)
    assert mm.ravel().tolist() == [1, -1]


def test_greedy_without_replacement_never_reuses_and_tree_agrees_with_brute_force():
    rng = np.random.default_rng(2)
    points = rng.normal(size=(300, 3))
    treated = rng.random(300) < 0.3
    mm = algorithms.nearest_neighbors(points, treated, ratio=2, order="data")
    used = mm[mm >= 0]
    assert len(used) == len(np.unique(used))
    rep = algorithms.nearest_neighbors(points, treated, replace=True)
    t, c = np.flatnonzero(treated), np.flatnonzero(~treated)
    brute = c[((points[t][:, None, :] - points[c][None, :, :]) ** 2).sum(-1).argmin(1)]
    assert rep.ravel().tolist() == brute.tolist()


def test_cem_coarsening_and_weights():
    import pandas as pd

    frame = pd.DataFrame({"age": [10, 11, 19, 20, 30], "girl": [0, 0, 1, 1, 0]})
    codes = algorithms.coarsen(frame, {"age": [15.0, 25.0]})
    assert codes.tolist() == [0, 0, 1, 1, 2]
    w, sub = algorithms.stratum_weights(codes, np.array([True, False, True, False, True]))
    assert w.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert sub.tolist() == [0, 0, 1, 1, -1]


def test_drop_collinear_with_more_columns_than_rows_keeps_a_full_rank_set():
    from impact.estimators.matching.variance import _drop_collinear

    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(4), [1, 1, 0, 0], rng.normal(size=(4, 4))])
    kept = _drop_collinear(X)
    assert kept.shape == (4, 4)  # the rank: intercept, treatment and two covariates
    assert np.linalg.matrix_rank(kept) == 4
    assert np.array_equal(kept[:, :2], X[:, :2])


@pytest.mark.parametrize(
    ("n", "covariates", "clusters", "message"),
    [
        (3, 2, None, "3 units with positive weight for 3 regression coefficients"),
        (2, 0, [0, 1], "2 units with positive weight for 2 regression coefficients"),
        (4, 0, [0, 0, 0, 0], "forms 1 matched set"),
    ],
)
def test_a_matched_sample_too_small_for_a_standard_error_is_refused(
    n, covariates, clusters, message
):
    from impact.estimators.matching.variance import weighted_regression
    from impact.exceptions import DesignError

    rng = np.random.default_rng(1)
    d = np.arange(n) % 2
    X = rng.normal(size=(n, covariates)) if covariates else None
    groups = None if clusters is None else np.array(clusters)
    with pytest.raises(DesignError, match=message):
        weighted_regression(rng.normal(size=n), d, X, np.ones(n), clusters=groups)
