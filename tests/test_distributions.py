"""The normal / t / chi-square / F helpers give exactly scipy.stats's numbers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from impact._distributions import Normal, StudentT, chi2_sf, f_sf, reference

X = np.array(
    [-np.inf, -40.0, -8.3, -2.0, -1e-300, -0.0, 0.0, 1e-12, 0.7, 1.96, 6.0, 38.5, np.inf, np.nan]
)
Q = np.array([0.0, 1e-300, 1e-12, 0.025, 0.25, 0.5, 0.75, 0.975, 1 - 1e-12, 1.0, -0.1, 1.1, np.nan])
DF = [0.5, 1, 2, 3.7, 12, 39, 271.0, 1e6, np.inf]


def _same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(a, b)  # NaNs in the same places, otherwise identical


def test_normal_equals_scipy():
    z = Normal()
    _same(z.cdf(X), stats.norm.cdf(X))
    _same(z.sf(X), stats.norm.sf(X))
    _same(z.ppf(Q), stats.norm.ppf(Q))
    _same(z.isf(Q), stats.norm.isf(Q))


@pytest.mark.parametrize("df", DF)
def test_student_t_equals_scipy(df):
    t, ref = StudentT(df), stats.t(df)
    _same(t.cdf(X), ref.cdf(X))
    _same(t.sf(X), ref.sf(X))
    _same(t.ppf(Q), ref.ppf(Q))
    _same(t.isf(Q), ref.isf(Q))


@pytest.mark.parametrize("k", [1, 2, 5, 17.5])
def test_chi2_sf_equals_scipy(k):
    x = np.array([0.0, 1e-8, 0.3, 3.841459, 20.0, 400.0, np.inf, np.nan])
    _same(chi2_sf(x, k), stats.chi2.sf(x, k))


@pytest.mark.parametrize(("dfn", "dfd"), [(1, 10), (3, 39.0), (7, 1e5), (2.5, 4)])
def test_f_sf_equals_scipy(dfn, dfd):
    x = np.array([0.0, 1e-8, 0.3, 4.964603, 20.0, 400.0, np.inf, np.nan])
    _same(f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))


@given(
    x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    q=st.floats(min_value=0.0, max_value=1.0),
    df=st.floats(min_value=0.05, max_value=1e7),
)
def test_scalars_equal_scipy(x, q, df):
    _same(Normal().sf(x), stats.norm.sf(x))
    _same(Normal().ppf(q), stats.norm.ppf(q))
    _same(StudentT(df).sf(x), stats.t.sf(x, df))
    _same(StudentT(df).ppf(q), stats.t.ppf(q, df))


def test_scalar_in_scalar_out():
    assert np.ndim(Normal().ppf(0.975)) == 0
    assert np.ndim(StudentT(5).sf(1.0)) == 0
    assert isinstance(float(chi2_sf(3.0, 2)), float)


def test_reference_is_normal_for_missing_or_infinite_df():
    assert isinstance(reference(None), Normal)
    assert isinstance(reference(np.inf), Normal)
    t = reference(8)
    assert isinstance(t, StudentT) and t.df == 8.0
