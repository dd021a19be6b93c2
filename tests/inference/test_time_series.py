import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from impact.inference.time_series import BatchFit, ols_hac_many


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


def test_rounding_below_a_zero_variance_gives_nan_without_a_numpy_warning():
    # seen in `impact validate small_pilot.toml --designs did,its --reps 500`: a pilot unit
    # whose three pre-period rates lie on a line has a zero variance for its level and
    # trend, which rounding made negative (-3e-15): sqrt warned "invalid value", and the
    # warning leaked into the study's warnings table
    cov = np.diag([-2.66e-15, -3.04e-15, 0.437, 0.3025])[None]
    batch = BatchFit(params=np.zeros((1, 4)), cov=cov, resid=np.zeros((1, 6)), df_resid=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        se = batch.std_errors
    assert np.isnan(se[0, :2]).all()  # unknown, not a precise zero
    assert se[0, 2:].tolist() == pytest.approx([0.437**0.5, 0.3025**0.5])


def test_the_validation_draw_that_leaked_a_numpy_warning_fits_cleanly():
    from pathlib import Path

    import impact
    from impact.cli._scenario import read_scenario
    from impact.simulations import simulate
    from impact.simulations._runner import child_seed

    # replication 28 of `impact validate examples/scenarios/small_pilot.toml` (seed 7)
    read = read_scenario(Path(__file__).parents[2] / "examples/scenarios/small_pilot.toml")
    seed = np.random.default_rng(child_seed(np.random.SeedSequence(read.seed), 28))
    sim = simulate(read.scenario, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        warnings.simplefilter("error", RuntimeWarning)
        result = impact.get_estimator("its").fit(sim.panel)
    assert np.isfinite(result.diagnostics["unit_effects"]["att_std_error"]).all()
