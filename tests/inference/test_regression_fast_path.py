"""The numpy least squares of ``within_regression`` equals statsmodels OLS/WLS to 1e-10.

statsmodels is the reference: the same demeaned regression is fitted with
``sm.OLS``/``sm.WLS`` and its ``cluster``, ``HC1`` and default covariances, then rescaled
by the small-sample factor the module documents.
"""

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from impact.inference.regression import (
    RegressionFit,
    _independent_columns,
    _nested,
    demean,
    within_regression,
)
from impact.inference.wald import wald_row


def random_regression(seed, n_units, n_periods, weighted, coarse_clusters):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    time = np.tile(np.arange(n_periods), n_units)
    treated_units = rng.random(n_units) < 0.4
    treated_units[:2] = [True, False]
    d = (treated_units[unit] & (time >= n_periods // 2)).astype(float)
    x = rng.normal(size=len(unit))
    periods = (time[:, None] == np.arange(1, n_periods)[None, :]).astype(float)
    X = np.column_stack([d, x, periods])
    y = rng.normal(size=n_units)[unit] + 0.3 * time + 1.5 * d + 0.5 * x + rng.normal(size=len(unit))
    weights = rng.uniform(0.2, 3.0, len(unit)) if weighted else None
    clusters = unit // 2 if coarse_clusters else unit
    names = ["att", "x", *(f"period[{t}]" for t in range(1, n_periods))]
    return y, X, names, unit, clusters, weights


def statsmodels_reference(y, X, unit, clusters, weights, inference, small_sample):
    yd, Xd = demean(y, unit, weights), demean(X, unit, weights)
    model = sm.WLS(yd, Xd, weights=weights) if weights is not None else sm.OLS(yd, Xd)
    if inference == "cr1":
        res = model.fit(cov_type="cluster", cov_kwds={"groups": clusters})
    elif inference == "hc1":
        res = model.fit(cov_type="HC1")
    else:
        res = model.fit()
    n, k_within = len(y), X.shape[1]
    k_full = k_within + len(np.unique(unit))
    nested = inference == "cr1" and small_sample == "nested" and _nested(unit, clusters)
    # nested unit effects count as one parameter (the intercept), as fixest and xtreg
    k = k_within + 1 if nested else k_full
    return np.asarray(res.params), np.asarray(res.cov_params()) * (n - k_within) / (n - k)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_units=st.integers(6, 40),
    n_periods=st.integers(2, 6),
    weighted=st.booleans(),
    coarse_clusters=st.booleans(),
    inference=st.sampled_from(["cr1", "hc1", "iid"]),
    small_sample=st.sampled_from(["nested", "full"]),
)
def test_within_regression_equals_statsmodels(
    seed, n_units, n_periods, weighted, coarse_clusters, inference, small_sample
):
    y, X, names, unit, clusters, weights = random_regression(
        seed, n_units, n_periods, weighted, coarse_clusters
    )
    fit = within_regression(
        y,
        X,
        names,
        unit_codes=unit,
        cluster_codes=clusters,
        weights=weights,
        inference=inference,
        small_sample=small_sample,
    )
    params, cov = statsmodels_reference(y, X, unit, clusters, weights, inference, small_sample)
    assert list(fit.params.index) == names
    np.testing.assert_allclose(fit.params.to_numpy(), params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.cov.to_numpy(), cov, rtol=1e-10, atol=1e-14)
    for j, name in enumerate(names):
        assert fit.std_error(name) == pytest.approx(np.sqrt(cov[j, j]), rel=1e-10)


def test_cluster_labels_need_not_be_dense_codes():
    y, X, names, unit, clusters, _ = random_regression(5, 20, 4, False, True)
    dense = within_regression(y, X, names, unit_codes=unit, cluster_codes=clusters)
    sparse = within_regression(y, X, names, unit_codes=unit, cluster_codes=clusters * 7 + 3)
    text = within_regression(
        y, X, names, unit_codes=unit, cluster_codes=np.char.add("s", clusters.astype(str))
    )
    for other in (sparse, text):
        np.testing.assert_array_equal(other.cov.to_numpy(), dense.cov.to_numpy())
        assert other.n_clusters == dense.n_clusters == 10


@settings(max_examples=60, deadline=None)
@given(
    estimate=st.floats(-50, 50),
    se=st.floats(1e-3, 10),
    df=st.one_of(st.integers(1, 10_000).map(float), st.just(float("inf"))),
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
)
def test_wald_equals_scipy_stats(estimate, se, df, alpha):
    from scipy import stats

    dist = stats.t(df) if np.isfinite(df) else stats.norm
    crit = dist.ppf(1 - alpha / 2)
    _, lower, upper, p = wald_row(estimate, se, df, alpha, scale=50.0)
    assert lower == pytest.approx(estimate - crit * se, rel=1e-12, abs=1e-12)
    assert upper == pytest.approx(estimate + crit * se, rel=1e-12, abs=1e-12)
    assert p == pytest.approx(2 * dist.sf(abs(estimate) / se), rel=1e-12, abs=1e-300)


def sequential_columns(X, tol_scale=1e-10):
    """The column-by-column rank check that ``within_regression`` shortcuts."""
    scale = np.sqrt((X**2).sum(axis=0))
    kept = []
    for j in range(X.shape[1]):
        if scale[j] <= tol_scale * max(1.0, float(np.sqrt(len(X)))):
            continue
        trial = X[:, [*kept, j]] / scale[[*kept, j]]
        if np.linalg.matrix_rank(trial, tol=1e-9 * np.sqrt(len(X))) == len(kept) + 1:
            kept.append(j)
    return kept


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 5),
    copies=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=3),
    zero=st.booleans(),
    noise=st.sampled_from([0.0, 1e-13, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2]),
)
def test_one_rank_check_keeps_the_columns_the_sequential_checks_keep(seed, k, copies, zero, noise):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, k))
    for source, at in copies:  # (nearly) collinear columns: scaled copies of others
        copy = X[:, source % X.shape[1]] * 2.0 + noise * rng.normal(size=len(X))
        X = np.insert(X, min(at, X.shape[1]), copy, axis=1)
    if zero:
        X = np.insert(X, 1, 0.0, axis=1)
    names = [f"c{j}" for j in range(X.shape[1])]
    assert _independent_columns(X, names, 0) == sequential_columns(X)


def test_regression_fit_from_arrays_equals_the_labelled_one():
    y, X, names, unit, clusters, _ = random_regression(3, 20, 4, False, False)
    fit = within_regression(y, X, names, unit_codes=unit, cluster_codes=clusters)
    labelled = RegressionFit(
        params=fit.params.copy(),
        cov=fit.cov.copy(),
        df_inference=fit.df_inference,
        n_obs=fit.n_obs,
        n_params=fit.n_params,
        n_clusters=fit.n_clusters,
        dropped=fit.dropped,
    )
    assert list(fit.params.index) == names == fit.names == labelled.names
    assert list(fit.cov.columns) == names
    for name in names:
        assert fit.std_error(name) == labelled.std_error(name)
        assert fit.std_error(name) == float(np.sqrt(fit.cov.loc[name, name]))
        assert fit.coefficient(name) == labelled.coefficient(name) == fit.params[name]
    with pytest.raises(AttributeError):
        fit.n_obs = 3
