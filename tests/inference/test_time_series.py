import numpy as np
import pytest
import statsmodels.api as sm

from impact.inference.time_series import ols_hac_many


@pytest.mark.parametrize("maxlags", [None, 0, 1, 5])
def test_batched_fits_equal_statsmodels_per_series(maxlags):
    rng = np.random.default_rng(11)
    n = 40
    X = np.column_stack([np.ones(n), np.arange(n), np.arange(n) >= 20, np.sin(np.arange(n))])
    Y = rng.normal(size=(6, n)).cumsum(axis=1)
    batch = ols_hac_many(Y, X, maxlags=maxlags)
    for i, y in enumerate(Y):
        if maxlags is None:
            ref = sm.OLS(y, X).fit()
        else:
            ref = sm.OLS(y, X).fit(
                cov_type="HAC", cov_kwds={"maxlags": maxlags, "use_correction": True}
            )
        np.testing.assert_allclose(batch.params[i], ref.params, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(batch.cov[i], ref.cov_params(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(batch.resid[i], ref.resid, atol=1e-10)
    assert batch.df_resid == n - 4


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="periods"):
        ols_hac_many(np.zeros((2, 5)), np.ones((6, 1)), maxlags=1)
