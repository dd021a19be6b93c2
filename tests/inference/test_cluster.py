"""CR1/CR2/CR3 covariances and Satterthwaite degrees of freedom against references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from impact.inference import cluster_robust, demean
from impact.inference.coefficient import infer_coefficient

REFERENCE = Path(__file__).parents[1] / "reference" / "inference"


@pytest.fixture(scope="module")
def chicks() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "chickweight.csv")


@pytest.fixture(scope="module")
def produc() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "produc.csv")


def ols(X, y):
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    return beta, y - X @ beta


def test_cr2_and_satterthwaite_equal_clubsandwich_coef_test_example(chicks):
    # clubSandwich coef_test help page: lm(weight ~ Diet * Time, data = ChickWeight),
    # vcov = "CR2", cluster = Chick, test = "Satterthwaite"
    t, d = chicks["Time"].to_numpy(float), chicks["Diet"].to_numpy()
    X = np.column_stack(
        [np.ones(len(t))]
        + [(d == k).astype(float) for k in (2, 3, 4)]
        + [t]
        + [t * (d == k) for k in (2, 3, 4)]
    )
    beta, resid = ols(X, chicks["weight"].to_numpy(float))
    out = cluster_robust(X, resid, chicks["Chick"].to_numpy(), kind="cr2", df_for=[5, 6, 7])
    se = np.sqrt(np.diag(out.cov))[5:]
    df = out.df[5:]
    p = 2 * stats.t.sf(np.abs(beta[5:] / se), df)
    np.testing.assert_allclose(np.round(beta[5:], 2), [1.77, 4.58, 2.87])
    np.testing.assert_allclose(np.round(se, 2), [1.49, 1.35, 1.01])
    np.testing.assert_allclose(np.round(df, 1), [18.8, 18.8, 18.3])
    np.testing.assert_allclose(np.round(p, 4), [0.2497, 0.0031, 0.0105])
    assert out.n_clusters == 50


def test_cr2_matrix_and_df_equal_clubsandwich_lm_robust_example(chicks):
    # clubSandwich vcovCR.lm_robust help page: weight ~ Time + Diet:Time, cluster Chick
    t, d = chicks["Time"].to_numpy(float), chicks["Diet"].to_numpy()
    X = np.column_stack([np.ones(len(t)), t] + [t * (d == k) for k in (2, 3, 4)])
    _, resid = ols(X, chicks["weight"].to_numpy(float))
    out = cluster_robust(X, resid, chicks["Chick"].to_numpy(), kind="cr2", df_for=None)
    printed = np.array(
        [
            [3.9317840, -0.7851508, -0.2560762, -0.0750498, 0.2695861],
            [-0.7851508, 0.4360726, -0.3314209, -0.3436398, -0.3665016],
            [-0.2560762, -0.3314209, 1.3680862, 0.3475327, 0.3482061],
            [-0.0750498, -0.3436398, 0.3475327, 1.1195632, 0.3483146],
            [0.2695861, -0.3665016, 0.3482061, 0.3483146, 0.5416587],
        ]
    )
    np.testing.assert_allclose(out.cov, printed, atol=6e-8)
    np.testing.assert_allclose(np.round(out.df, 1), [48.7, 31.4, 19.0, 19.0, 18.4])


def test_cr2_with_absorbed_unit_effects_equals_clubsandwich_produc(produc):
    # clubSandwich vcovCR.lm_robust help page: Produc, fixed_effects = ~state,
    # cluster = state, type = "CR2" (unit effects absorbed here by demeaning)
    unit = pd.factorize(produc["state"])[0]
    y = np.log(produc["gsp"].to_numpy(float))
    X = np.column_stack(
        [
            np.log(produc["pcap"]),
            np.log(produc["pc"]),
            np.log(produc["emp"]),
            produc["unemp"],
        ]
    )
    Xd, yd = demean(X, unit), demean(y, unit)
    _, resid = ols(Xd, yd)
    out = cluster_robust(Xd, resid, unit, kind="cr2", absorbed_codes=unit)
    printed = np.array(
        [
            [3.900840e-03, -7.382313e-04, -2.4837779e-03, -7.825846e-05],
            [-7.382313e-04, 4.177767e-03, -4.0101610e-03, -9.960967e-05],
            [-2.483778e-03, -4.010161e-03, 7.3152051e-03, 1.736024e-04],
            [-7.825846e-05, -9.960967e-05, 1.736024e-04, 6.745842e-06],
        ]
    )
    np.testing.assert_allclose(out.cov, printed, rtol=2e-6)


def test_absorbing_unit_effects_leaves_cr2_and_df_unchanged(produc):
    # The same regression with explicit state dummies gives the same CR2 and df.
    unit = pd.factorize(produc["state"])[0]
    y = np.log(produc["gsp"].to_numpy(float))
    X = np.column_stack([np.log(produc["pcap"]), np.log(produc["pc"]), produc["unemp"]])
    dummies = (unit[:, None] == np.arange(unit.max() + 1)).astype(float)
    full = np.column_stack([X, dummies])
    _, resid_full = ols(full, y)
    explicit = cluster_robust(full, resid_full, unit, kind="cr2", df_for=[0, 1, 2])
    Xd, yd = demean(X, unit), demean(y, unit)
    _, resid = ols(Xd, yd)
    absorbed = cluster_robust(Xd, resid, unit, kind="cr2", df_for=[0, 1, 2], absorbed_codes=unit)
    np.testing.assert_allclose(absorbed.cov, explicit.cov[:3, :3], rtol=1e-8)
    np.testing.assert_allclose(absorbed.df[:3], explicit.df[:3], rtol=1e-8)


def test_cr1_equals_statsmodels_cluster(chicks):
    # statsmodels' cluster covariance uses Stata's G/(G-1) (N-1)/(N-K) factor
    t, d = chicks["Time"].to_numpy(float), chicks["Diet"].to_numpy()
    X = np.column_stack([np.ones(len(t)), t] + [t * (d == k) for k in (2, 3, 4)])
    y = chicks["weight"].to_numpy(float)
    _, resid = ols(X, y)
    groups = chicks["Chick"].to_numpy()
    ref = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})
    out = cluster_robust(X, resid, groups, kind="cr1")
    np.testing.assert_allclose(out.cov, ref.cov_params(), rtol=1e-10)
    assert np.all(out.df == 49)


def test_cr3_is_the_jackknife_of_clubsandwich():
    # CR3 = sum over clusters of (b - b_(-g))(b - b_(-g))', the leave-one-cluster-out
    # jackknife without its (G-1)/G factor (clubSandwich's definition).
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(9), 5)
    X = np.column_stack([np.ones(45), rng.normal(size=45), (g < 3).astype(float)])
    y = X @ [1.0, 0.5, 0.2] + rng.normal(size=9)[g] + rng.normal(size=45)
    beta, resid = ols(X, y)
    out = cluster_robust(X, resid, g, kind="cr3")
    deltas = np.array([beta - ols(X[g != h], y[g != h])[0] for h in range(9)])
    np.testing.assert_allclose(out.cov, deltas.T @ deltas, rtol=1e-8)


def test_cr2_with_singleton_clusters_is_hc2():
    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(30), rng.normal(size=30)])
    y = X @ [1.0, 2.0] + rng.normal(size=30) * (1 + np.abs(X[:, 1]))
    _, resid = ols(X, y)
    out = cluster_robust(X, resid, np.arange(30), kind="cr2")
    ref = sm.OLS(y, X).fit(cov_type="HC2")
    np.testing.assert_allclose(out.cov, ref.cov_params(), rtol=1e-10)


def test_imbens_kolesar_df_differs_only_with_correlated_residuals():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(10), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    n = len(g)
    X = np.column_stack([np.ones(n), (g < 3) + 0.5 * rng.normal(size=n)])
    y = 2 * rng.normal(size=10)[g] + rng.normal(size=n)
    _, resid = ols(X, y)
    bm = cluster_robust(X, resid, g, kind="cr2", df_for=[1])
    ik = cluster_robust(X, resid, g, kind="cr2", df_for=[1], df_method="imbens-kolesar")
    assert bm.df[1] != pytest.approx(ik.df[1])
    assert 1 < ik.df[1] < 9
    np.testing.assert_allclose(bm.cov, ik.cov)


def test_infer_coefficient_cr2_uses_satterthwaite_df():
    rng = np.random.default_rng(0)
    unit = np.repeat(np.arange(20), 4)
    post = np.tile([0.0, 0.0, 1.0, 1.0], 20)
    d = post * (unit < 4)
    y = rng.normal(size=20)[unit] + post + rng.normal(size=80)
    X = np.column_stack([d, post])
    out = infer_coefficient(y, X, ["att", "post"], unit_codes=unit, method="cr2")
    Xd, yd = demean(X, unit), demean(y, unit)
    _, resid = ols(Xd, yd)
    ref = cluster_robust(Xd, resid, unit, kind="cr2", df_for=[0], absorbed_codes=unit)
    assert out.std_error == pytest.approx(ref.std_error(0))
    assert out.df == pytest.approx(ref.df[0])
    assert out.df < 19
    crit = stats.t.ppf(0.975, out.df)
    assert out.ci_upper == pytest.approx(out.estimate + crit * out.std_error)
