"""The fast paths of the matching building blocks against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impact.estimators.matching import algorithms
from impact.estimators.matching.balance import balance_table
from impact.estimators.matching.propensity import fit_propensity
from impact.estimators.matching.variance import abadie_imbens


def test_propensity_newton_in_blocks_matches_statsmodels_logit():
    # more rows than one block of the Newton pass, the last block partial
    rng = np.random.default_rng(3)
    n = 20_001
    X = np.column_stack(
        [rng.normal(size=n), rng.integers(0, 2, n), 50 + 10 * rng.normal(size=n)]
    ).astype(float)
    eta = -1.0 + 0.8 * X[:, 0] + 0.5 * X[:, 1] + 0.03 * (X[:, 2] - 50)
    d = rng.random(n) < 1 / (1 + np.exp(-eta))
    fit = fit_propensity(X, d, ["a", "b", "c"])
    ref = sm.Logit(d.astype(float), sm.add_constant(X)).fit(disp=0, tol=1e-12, maxiter=100)
    np.testing.assert_allclose(fit.linear_predictor, ref.fittedvalues, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.probability, ref.predict(), rtol=0, atol=1e-10)


def _ecdf_direct(x, treated, w):
    """eCDF mean and max gaps at every distinct value, by direct evaluation."""
    values = np.unique(x)
    wt, wc = np.where(treated, w, 0.0), np.where(~treated, w, 0.0)
    f_t = np.array([wt[x <= v].sum() for v in values]) / wt.sum()
    f_c = np.array([wc[x <= v].sum() for v in values]) / wc.sum()
    gaps = np.abs(f_t - f_c)
    return gaps.mean(), gaps.max()


@pytest.mark.parametrize("ties", [False, True])
def test_balance_ecdf_matches_direct_evaluation(ties):
    rng = np.random.default_rng(4 + ties)
    n = 600
    x = rng.integers(0, 40, n).astype(float) if ties else rng.normal(size=n)
    treated = rng.random(n) < 0.3
    # matching weights: a part of the units unmatched, unequal control weights
    w = np.where(rng.random(n) < 0.6, rng.uniform(0.2, 3.0, n), 0.0)
    w[np.flatnonzero(treated)[:3]] = 1.0
    w[np.flatnonzero(~treated)[:3]] = 1.0
    table = balance_table(pd.DataFrame({"x": x}), treated, w)
    mean_gap, max_gap = _ecdf_direct(x, treated, w)
    assert table.loc[0, "ecdf_mean_after"] == pytest.approx(mean_gap, rel=1e-12, abs=1e-15)
    assert table.loc[0, "ecdf_max_after"] == pytest.approx(max_gap, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("ties", [False, True])
def test_nearest_score_with_replacement_is_the_closest_control(ties):
    rng = np.random.default_rng(6)
    n = 500
    score = rng.integers(0, 30, n) / 30 if ties else rng.random(n)
    treated = rng.random(n) < 0.3
    got = algorithms.nearest_neighbors(score, treated, replace=True)[:, 0]
    controls = np.flatnonzero(~treated)
    for row, unit in enumerate(np.flatnonzero(treated)):
        gap = np.abs(score[controls] - score[unit])
        best = controls[gap == gap.min()]
        equal = best[score[best] == score[unit]]
        below = best[score[best] < score[unit]]
        # ties in distance: the control on the left in score order; among controls with
        # equal scores the first in data order on the right, the last on the left
        if len(equal):
            expected = equal.min()
        else:
            expected = below.max() if len(below) else best.min()
        assert got[row] == expected


def test_multivariate_matching_and_shared_tree_give_the_direct_answers():
    rng = np.random.default_rng(7)
    n = 800
    X = rng.normal(size=(n, 3))
    treated = rng.random(n) < 0.25
    points = algorithms.whiten(X, "mahalanobis")
    controls = np.flatnonzero(~treated)
    tree = algorithms.control_tree(points[controls])
    got = algorithms.nearest_neighbors(points, treated, replace=True, ratio=2, tree=tree)
    for row, unit in enumerate(np.flatnonzero(treated)):
        dist = ((points[controls] - points[unit]) ** 2).sum(axis=1)
        assert got[row].tolist() == controls[np.argsort(dist)[:2]].tolist()
    y = X[:, 0] + rng.normal(size=n)
    t_index = np.flatnonzero(treated)
    shared = abadie_imbens(y, t_index, got, points, ~treated, tree=tree)
    own = abadie_imbens(y, t_index, got, points, ~treated)
    assert shared == own


def test_mahalanobis_whitening_of_constant_covariates_is_all_ties():
    # no covariate varies (found on a simulated four-school panel with a binary
    # outcome): every unit is as close as any other, as with the Euclidean scaling,
    # instead of a failed Cholesky factorisation
    from impact.estimators.matching.algorithms import whiten

    X = np.full((6, 2), 3.0)
    for kind in ("mahalanobis", "euclidean"):
        assert np.array_equal(whiten(X, kind), np.zeros((6, 2)))
