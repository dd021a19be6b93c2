"""The propensity model against statsmodels' ``Logit``, and its separation check.

Reference values are statsmodels' ``Logit(d, add_constant(X)).fit()`` (Newton's method,
statsmodels 0.14), computed in each test on the same data. A fit is compared wherever
statsmodels converges without a warning; coefficients agree to 1e-6 of their size or,
for a coefficient near zero, to 1e-6 logit units per standard deviation of its
covariate.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import impact
from impact.estimators.matching import algorithms
from impact.estimators.matching.propensity import fit_propensity
from impact.exceptions import DesignError, EstimationError

sm = pytest.importorskip("statsmodels.api")


def statsmodels_logit(X: np.ndarray, d: np.ndarray):
    """statsmodels' fit, or None where it fails, warns or does not converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            res = sm.Logit(d.astype(float), sm.add_constant(X, has_constant="add")).fit(disp=0)
        except Exception:  # separation, singular Hessian, overflow, convergence warnings
            return None
    return res if res.mle_retvals["converged"] else None


def assert_same_coefficients(ours: np.ndarray, reference: np.ndarray, X: np.ndarray) -> None:
    unit = np.concatenate([[1.0], 1.0 / X.std(axis=0, ddof=1)])  # 1 logit unit per sd
    error = np.abs(ours - reference) / np.maximum(np.abs(reference), unit)
    assert error.max() < 1e-6, error


def nn_matches(score: np.ndarray, treated: np.ndarray) -> np.ndarray:
    return algorithms.nearest_neighbors(score, treated, ratio=1, replace=False, order="largest")


# ---------------------------------------------------------------- a large comparison pool
@pytest.fixture(scope="module")
def lalonde_cps() -> pd.DataFrame:
    """The NSW treated men against the CPS comparison pool (Dehejia and Wahba 1999)."""
    causaldata = pytest.importorskip("causaldata")
    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    frame = pd.concat([nsw[nsw["treat"] == 1], cps], ignore_index=True)
    frame["age2"] = frame["age"] ** 2
    frame["re74sq"] = frame["re74"] ** 2
    frame["re75sq"] = frame["re75"] ** 2
    frame["id"] = np.arange(len(frame))
    frame["year"] = 1978
    return frame


LALONDE = ["age", "age2", "educ", "re74", "re75", "re74sq", "re75sq"]
LALONDE += ["black", "hisp", "marr", "nodegree"]


def test_cps_comparison_pool_fits_as_statsmodels(lalonde_cps: pd.DataFrame) -> None:
    # 185 treated, 15,992 controls, squared earnings up to 6.4e8: a Newton step from the
    # intercept-only start overshoots, which was once reported as separation
    X = lalonde_cps[LALONDE].to_numpy(dtype=float)
    d = lalonde_cps["treat"].to_numpy() == 1
    assert len(d) > 16_000
    reference = statsmodels_logit(X, d)
    assert reference is not None
    fit = fit_propensity(X, d, LALONDE)
    assert_same_coefficients(fit.coefficients, np.asarray(reference.params), X)
    np.testing.assert_allclose(fit.probability, reference.predict(), rtol=1e-6, atol=1e-12)
    # the same matched sample as on statsmodels' score
    np.testing.assert_array_equal(
        nn_matches(fit.probability, d), nn_matches(reference.predict(), d)
    )


def test_cps_comparison_pool_matches_without_a_separation_error(
    lalonde_cps: pd.DataFrame,
) -> None:
    frame = lalonde_cps.copy()
    d = frame["treat"].to_numpy() == 1
    reference = statsmodels_logit(frame[LALONDE].to_numpy(dtype=float), d)
    frame["statsmodels_score"] = reference.predict()
    common = dict(unit="id", time="year", outcome="re78", treated="treat")
    ours = impact.MatchedComparison().fit(
        impact.Panel.from_frame(frame, covariates=LALONDE, **common)
    )
    theirs = impact.MatchedComparison(distance="statsmodels_score").fit(
        impact.Panel.from_frame(frame, covariates=[*LALONDE, "statsmodels_score"], **common)
    )
    mine, other = ours.diagnostics["matches"], theirs.diagnostics["matches"]
    assert int(mine["matched"].sum()) == 2 * int(d.sum())
    for column in ("weight", "subclass", "matched"):
        np.testing.assert_array_equal(mine[column].to_numpy(), other[column].to_numpy())
    np.testing.assert_allclose(mine["score"], other["score"], rtol=1e-6)


# ---------------------------------------------------------------- generated designs
@st.composite
def earnings_designs(draw):
    """Earnings-like covariates (zeros and a long tail) and their squares, 1 to 1e18."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(200, 3000))
    scale = 10.0 ** draw(st.floats(0.0, 9.0))
    sigma = draw(st.floats(0.3, 2.0))
    zero_share = draw(st.floats(0.0, 0.5))
    rng = np.random.default_rng(seed)
    e = np.where(rng.random(n) < zero_share, 0.0, rng.lognormal(0.0, sigma, n))
    z = rng.normal(size=n)
    b = (rng.random(n) < 0.3).astype(float)
    x = scale * e
    X = np.column_stack([x, x**2, z, b])
    eta = -3.0 - np.log1p(e) + 0.5 * z + 0.4 * b + 1.0 * (e == 0)
    d = rng.random(n) < 1.0 / (1.0 + np.exp(-eta))
    return X, d


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(earnings_designs())
def test_fit_equals_statsmodels_wherever_statsmodels_converges(design) -> None:
    X, d = design
    if d.sum() < 5:
        return
    reference = statsmodels_logit(X, d)
    if reference is None:
        return
    fit = fit_propensity(X, d, ["earnings", "earnings_sq", "z", "b"])
    assert_same_coefficients(fit.coefficients, np.asarray(reference.params), X)
    np.testing.assert_array_equal(
        nn_matches(fit.probability, d), nn_matches(reference.predict(), d)
    )


def test_extreme_but_finite_scores_are_not_separation() -> None:
    # fitted logits reach about 60 at the maximum likelihood estimate, which exists:
    # a check on |linear predictor| > 50 took this for separation
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=500), rng.normal(size=500)
    rng = np.random.default_rng(5)
    d = rng.random(500) < 1.0 / (1.0 + np.exp(-12.0 * x1))
    X = np.column_stack([x1, x2])
    reference = statsmodels_logit(X, d)
    assert reference is not None
    fit = fit_propensity(X, d, ["x1", "x2"])
    assert np.abs(fit.linear_predictor).max() > 30
    assert_same_coefficients(fit.coefficients, np.asarray(reference.params), X)


# ---------------------------------------------------------------- near separation
def statsmodels_newton(X: np.ndarray, d: np.ndarray):
    """statsmodels' Newton fit allowed 100 steps, or None where it does not converge.

    Near separation statsmodels' ``exp`` overflows on its way (a RuntimeWarning, not a
    failure); every other warning still disqualifies the reference.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "overflow encountered in exp", RuntimeWarning)
        try:
            res = sm.Logit(d.astype(float), sm.add_constant(X, has_constant="add")).fit(
                disp=0, method="newton", maxiter=100
            )
        except Exception:
            return None
    return res if res.mle_retvals["converged"] else None


def test_near_separation_with_a_tiny_overlap_fits_as_statsmodels() -> None:
    # one control and one treated unit 1e-4 on the wrong side of zero: the maximum
    # likelihood estimate exists, with a slope of about 1767; statsmodels' Newton
    # (0.15) converges in 35 steps to a score of 1e-16. Fitted logits pass -709 on
    # the way, where exp(-eta) overflowed the deviance to inf and every step was
    # halved away: "did not converge in 100 Newton steps"
    rng = np.random.default_rng(0)
    n = 200
    x = np.r_[rng.uniform(0.001, 1, n), -rng.uniform(0.001, 1, n)]
    d = np.r_[np.ones(n), np.zeros(n)]
    x[n], x[0] = 1e-4, -1e-4
    reference = statsmodels_newton(x[:, None], d)
    assert reference is not None
    assert np.abs(reference.params[1]) > 1000
    fit = fit_propensity(x[:, None], d, ["x"])
    assert_same_coefficients(fit.coefficients, np.asarray(reference.params), x[:, None])


@st.composite
def near_separated_designs(draw):
    """Covariates on scales 1e-3 to 1e6 split by a hyperplane, with a few units moved
    a distance of 1e-7 to 1e-1 (standardised) across it: the estimate exists but is
    large, and fitted logits reach hundreds or thousands."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(50, 2000))
    k = draw(st.integers(1, 3))
    crossing = draw(st.integers(1, 3))
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-3.0, 6.0, k)
    centres = scales * rng.normal(0.0, 3.0, k)
    Z = rng.normal(size=(n, k))
    w = rng.normal(size=k)
    w /= np.linalg.norm(w)
    side = Z @ w
    d = side > 0
    moved = rng.choice(n, 2 * crossing, replace=False)
    target = np.r_[-np.ones(crossing), np.ones(crossing)] * 10.0 ** rng.uniform(
        -7.0, -1.0, 2 * crossing
    )
    Z[moved] += (target - side[moved])[:, None] * w
    d[moved] = np.r_[np.ones(crossing, dtype=bool), np.zeros(crossing, dtype=bool)]
    return Z * scales + centres, d


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_separated_designs())
def test_near_separated_fit_equals_statsmodels_wherever_statsmodels_converges(design) -> None:
    X, d = design
    reference = statsmodels_newton(X, d)
    if reference is None:
        return
    fit = fit_propensity(X, d, [f"x{j}" for j in range(X.shape[1])])
    assert_same_coefficients(fit.coefficients, np.asarray(reference.params), X)


# ---------------------------------------------------------------- separation
def test_complete_separation_on_a_combination_of_covariates_is_a_design_error() -> None:
    # neither covariate separates the groups on its own; their sum does
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=400), rng.normal(size=400)
    with pytest.raises(DesignError, match="perfectly separate"):
        fit_propensity(np.column_stack([x1, x2]), x1 + x2 > 0, ["x1", "x2"])


def test_quasi_complete_separation_is_a_design_error() -> None:
    # every unit with b = 1 is treated; the others overlap
    rng = np.random.default_rng(2)
    b = (rng.random(400) < 0.1).astype(float)
    d = (rng.random(400) < 0.3) | (b == 1)
    with pytest.raises(DesignError, match="perfectly separate"):
        fit_propensity(np.column_stack([rng.normal(size=400), b]), d, ["x", "b"])


def test_collinear_covariates_are_an_estimation_error_not_separation() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    d = rng.random(300) < 0.4
    with pytest.raises(EstimationError, match="collinear"):
        fit_propensity(np.column_stack([x, 2.0 * x + 1.0]), d, ["x", "x2"])
