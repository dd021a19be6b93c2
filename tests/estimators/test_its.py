"""Interrupted time series: statsmodels equivalence, published values, designs, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

import impact
from impact import DataError, DesignError, InterruptedTimeSeries, Panel
from impact.estimators.its._design import build_design
from impact.estimators.its._fit import newey_west_lags
from impact.exceptions import InferenceWarning

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "its"


def series(n=48, cut=24, level=-3.0, slope=0.2, noise=0.5, seed=0, rho=0.0):
    rng = np.random.default_rng(seed)
    e = rng.normal(0, noise, n)
    for t in range(1, n):
        e[t] += rho * e[t - 1]
    t = np.arange(n)
    y = 10 + 0.3 * t + level * (t >= cut) + slope * np.maximum(t - cut, 0) + e
    return y, np.arange(2000, 2000 + n)


def coefs(result):
    table = result.diagnostics["coefficients"].set_index("term")
    return table["estimate"].to_numpy(), table["std_error"].to_numpy()


def arima_reference(y, X, p=1):
    """statsmodels' ARIMA with AR(p) errors, fitted in standard units and mapped back.

    Its optimiser stops on absolute tolerances: on an outcome in its raw units (the
    Nile's flows near 1,000) it halts short of the maximum (a lower log-likelihood,
    a constant 0.8 away), and on other units elsewhere. Fitted on the outcome centred
    and scaled to unit variance, it reaches the maximum in any units; returns the
    parameters, standard errors and the fit in raw units.
    """
    from statsmodels.tsa.arima.model import ARIMA

    finite = y[np.isfinite(y)]
    centre, spread = finite.mean(), finite.std()
    res = ARIMA((y - centre) / spread, exog=X, order=(p, 0, 0), trend="n").fit()
    k = np.shape(X)[1]
    values = np.asarray(res.params)
    params = values[:k] * spread
    params[0] += centre  # the constant comes first
    raw = ARIMA(y, exog=X, order=(p, 0, 0), trend="n")
    full = np.concatenate([params, values[k:-1], [values[-1] * spread**2]])
    return params, np.asarray(res.bse)[:k] * spread, raw, full


def quiet_fit(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        return InterruptedTimeSeries.from_series(**kwargs)


# --------------------------------------------------------------------- statsmodels
@pytest.mark.parametrize("errors", ["ols", "hac"])
def test_gaussian_fit_equals_statsmodels(errors):
    y, t = series(seed=1, rho=0.5)
    result = quiet_fit(y=y, time=t, interruption=2024, errors=errors, seasonal_period=12)
    X = build_design(len(y), [24], seasonal_period=12).X.to_numpy()
    if errors == "ols":
        ref = sm.OLS(y, X).fit()
    else:
        ref = sm.OLS(y, X).fit(
            cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(48), "use_correction": True}
        )
    est, se = coefs(result)
    np.testing.assert_allclose(est, ref.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-8, atol=1e-12)
    assert result.settings.get("hac_lags_used") == (3 if errors == "hac" else None)


@pytest.mark.parametrize(
    ("family", "dispersion", "errors"),
    [
        ("poisson", "fixed", "ols"),
        ("poisson", "pearson", "ols"),
        ("poisson", "fixed", "hac"),
        ("negative_binomial", "pearson", "ols"),
    ],
)
def test_count_fit_equals_statsmodels_glm(family, dispersion, errors):
    rng = np.random.default_rng(3)
    n = 60
    pop = rng.uniform(9e4, 1.1e5, n)
    t = np.arange(n)
    mu = pop * np.exp(-7 + 0.004 * t - 0.15 * (t >= 36))
    y = rng.negative_binomial(20, 20 / (20 + mu)).astype(float)
    result = InterruptedTimeSeries.from_series(
        y, t, interruption=36, exposure=pop, family=family, dispersion=dispersion, errors=errors
    )
    X = build_design(n, [36]).X.to_numpy()
    if family == "poisson":
        model = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(pop))
        if errors == "hac":
            ref = model.fit(
                cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(n), "use_correction": True}
            )
        else:
            ref = model.fit(scale="X2" if dispersion == "pearson" else None)
    else:
        alpha = sm.NegativeBinomial(y, X, offset=np.log(pop)).fit(disp=0).params[-1]
        assert result.settings["nb_alpha"] == pytest.approx(alpha, rel=1e-6)
        ref = sm.GLM(
            y,
            X,
            family=sm.families.NegativeBinomial(alpha=result.settings["nb_alpha"]),
            offset=np.log(pop),
        ).fit()
    est, se = coefs(result)
    np.testing.assert_allclose(est, ref.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-8, atol=1e-12)
    level = result.effect("level_change")
    row = result.effects.set_index("term").loc["level_change"]
    assert row["rate_ratio"] == pytest.approx(np.exp(level.estimate))
    assert row["rate_ratio_lower"] == pytest.approx(np.exp(level.ci_lower))


# --------------------------------------------------------------------- Nile
@pytest.fixture(scope="module")
def nile():
    from statsmodels.datasets import nile

    data = nile.load_pandas().data
    return data["volume"].to_numpy(dtype=float), data["year"].to_numpy().astype(int)


def test_nile_level_shift_matches_published_values(nile):
    # Cobb (1978); Durbin and Koopman: regime means 1097.75 and 849.97, step -247.78.
    y, year = nile
    result = InterruptedTimeSeries.from_series(
        y, year, interruption=1899, trend=False, slope_change=False, errors="ols"
    )
    table = result.diagnostics["coefficients"].set_index("term")
    assert table.loc["const", "estimate"] == pytest.approx(1097.75, abs=0.005)
    step = result.effect("level_change")
    assert step.estimate == pytest.approx(-247.78, abs=0.005)
    assert table.loc["const", "estimate"] + step.estimate == pytest.approx(849.97, abs=0.005)
    assert step.std_error == pytest.approx(28.44, abs=0.005)
    assert result.att.estimate == pytest.approx(step.estimate)


def test_nile_hac_and_ar_standard_errors_equal_statsmodels(nile):
    from statsmodels.tsa.arima.model import ARIMA

    y, year = nile
    X = np.column_stack([np.ones(100), (year >= 1899).astype(float)])
    hac = InterruptedTimeSeries.from_series(
        y, year, interruption=1899, trend=False, slope_change=False, errors="hac"
    )
    ref = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": 4, "use_correction": True})
    np.testing.assert_allclose(coefs(hac)[1], ref.bse, rtol=1e-8)
    ar = InterruptedTimeSeries.from_series(
        y, year, interruption=1899, trend=False, slope_change=False, errors="ar", ar_order=1
    )
    params, bse, raw, full = arima_reference(y, X)
    np.testing.assert_allclose(coefs(ar)[0], params, rtol=1e-8)
    np.testing.assert_allclose(coefs(ar)[1], bse, rtol=1e-8)
    # at least the likelihood statsmodels reaches on the raw flows (it stops short there)
    assert raw.loglike(full) >= ARIMA(y, exog=X, order=(1, 0, 0), trend="n").fit().llf
    chosen = InterruptedTimeSeries.from_series(
        y, year, interruption=1899, trend=False, slope_change=False, errors="ar", ar_order="aic"
    )
    aic = chosen.settings["ar_aic"]
    assert chosen.settings["ar_order_used"] == min(aic, key=aic.get)


# --------------------------------------------------------------------- Sicily
@pytest.fixture(scope="module")
def sicily():
    data = pd.read_csv(REFERENCE / "sicily.csv")
    data["date"] = pd.to_datetime({"year": data["year"], "month": data["month"], "day": 1})
    return data


@pytest.mark.parametrize(
    ("params", "published"),
    [
        # Lopez Bernal, Cummins and Gasparrini (2017), model 1: Poisson, step change.
        ({"dispersion": "fixed"}, (0.894, 0.865, 0.925)),
        # Model 3: quasi-Poisson with two harmonic pairs (period 12): the paper's
        # seasonally adjusted estimate, RR 0.885 (95% CI 0.839 to 0.933).
        ({"dispersion": "pearson", "seasonal_period": 12}, (0.885, 0.839, 0.933)),
    ],
)
def test_sicily_smoking_ban_rate_ratios_match_published(sicily, params, published):
    result = InterruptedTimeSeries.from_series(
        sicily["aces"],
        sicily["date"],
        interruption=pd.Timestamp("2005-01-01"),
        exposure=sicily["stdpop"],
        family="poisson",
        errors="ols",
        slope_change=False,
        **params,
    )
    row = result.effects.set_index("term").loc["level_change"]
    got = (row["rate_ratio"], row["rate_ratio_lower"], row["rate_ratio_upper"])
    np.testing.assert_allclose(got, published, atol=5e-4)
    # cases prevented in the post period: negative, and the average is the att
    assert result.effect("cumulative").estimate < 0
    assert result.att.estimate == pytest.approx(result.effect("cumulative").estimate / 23)


# --------------------------------------------------------------------- designs
def test_level_and_slope_change_recovered_and_paths_consistent():
    y, t = series(noise=0.05)
    result = InterruptedTimeSeries.from_series(y, t, interruption=2024, errors="ols")
    assert result.effect("level_change").estimate == pytest.approx(-3.0, abs=0.1)
    assert result.effect("slope_change").estimate == pytest.approx(0.2, abs=0.01)
    paths = result.paths
    post = paths["post"].to_numpy()
    # least squares residuals sum to zero over the post period (the level term)
    assert paths.loc[post, "effect"].mean() == pytest.approx(result.att.estimate, abs=1e-9)
    assert (paths["counterfactual_lower"] <= paths["counterfactual"]).all()
    assert (paths["prediction_lower"] < paths["counterfactual_lower"]).all()
    periods = result.effects.query("kind == 'period'")
    assert len(periods) == post.sum()
    assert periods["estimate"].sum() == pytest.approx(result.effect("cumulative").estimate)


def test_seasonal_dummies_and_fourier_remove_a_seasonal_cycle():
    n = 60
    t = np.arange(n)
    season = 3 * np.sin(2 * np.pi * t / 12) + 1.5 * np.cos(4 * np.pi * t / 12)
    y = 5 + 0.1 * t + season - 2 * (t >= 36) + np.random.default_rng(2).normal(0, 0.1, n)
    for kind in ("fourier", "dummies"):
        result = InterruptedTimeSeries.from_series(
            y, t, interruption=36, seasonal_period=12, seasonal=kind, errors="ols"
        )
        assert result.effect("level_change").estimate == pytest.approx(-2, abs=0.15)
    plain = InterruptedTimeSeries.from_series(y, t, interruption=36, errors="ols")
    assert plain.effect("level_change").std_error > 5 * result.effect("level_change").std_error


def test_phase_in_exclude_and_ramp():
    n, cut, k = 50, 25, 3
    t = np.arange(n)
    ramp = np.clip((t - cut + 1) / (k + 1), 0, 1)
    y = 1 + 0.2 * t + 4 * ramp + np.random.default_rng(5).normal(0, 0.05, n)
    ramped = InterruptedTimeSeries.from_series(
        y, t, interruption=cut, phase_in=k, phase_in_mode="ramp", errors="ols"
    )
    assert ramped.effect("level_change").estimate == pytest.approx(4, abs=0.1)
    excluded = InterruptedTimeSeries.from_series(y, t, interruption=cut, phase_in=k, errors="ols")
    assert excluded.effect("level_change").estimate == pytest.approx(4, abs=0.1)
    assert excluded.n_obs == n - k
    assert not excluded.paths["in_fit"].iloc[cut : cut + k].any()
    naive = InterruptedTimeSeries.from_series(y, t, interruption=cut, errors="ols")
    assert abs(naive.effect("level_change").estimate - 4) > 0.5


def test_several_interruptions():
    t = np.arange(60)
    y = 2 + 0.1 * t + 3 * (t >= 20) - 5 * (t >= 40) + np.random.default_rng(0).normal(0, 0.1, 60)
    result = InterruptedTimeSeries.from_series(
        y, t, interruption=[20, 40], slope_change=False, errors="ols"
    )
    assert result.effect("level_change").estimate == pytest.approx(3, abs=0.15)
    assert result.effect("level_change[2]").estimate == pytest.approx(-5, abs=0.15)


def school_panel(*, effect=0.0, n_schools=30, seed=0, curvature=0.08):
    """Schools with a common accelerating rise in attainment, half in the programme."""
    rng = np.random.default_rng(seed)
    years = np.arange(2008, 2020)
    rows = []
    for school in range(n_schools):
        treated = school < n_schools // 2
        base = rng.normal(50, 3)
        for i, year in enumerate(years):
            on = treated and year >= 2015
            background = 0.2 * i + curvature * i**2  # shared, non-linear
            score = base + background + effect * on + rng.normal(0, 0.3)
            rows.append((school, year, score, int(on)))
    frame = pd.DataFrame(rows, columns=["school", "year", "score", "pilot"])
    return Panel.from_frame(frame, unit="school", time="year", outcome="score", treated="pilot")


@pytest.mark.parametrize("pooled", [False, True])
def test_single_series_its_is_fooled_by_a_common_rise_and_controlled_its_is_not(pooled):
    panel = school_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        single = InterruptedTimeSeries(comparison=False, errors="ols", pooled=pooled).fit(panel)
        controlled = InterruptedTimeSeries(comparison=True, errors="ols", pooled=pooled).fit(panel)
    assert single.settings["design"].endswith("single") or single.settings["design"] == "pooled"
    assert single.att.p_value < 0.001 and single.att.estimate > 1.0  # spurious effect
    assert controlled.att.ci_lower <= 0.0 <= controlled.att.ci_upper
    assert abs(controlled.att.estimate) < 0.3


def test_default_errors_follow_the_design():
    y, t = series(n=30, cut=15)
    assert (
        InterruptedTimeSeries.from_series(y, t, interruption=2015).settings["errors_used"] == "ar"
    )
    counts = np.round(np.abs(y) * 10)
    poisson = InterruptedTimeSeries.from_series(counts, t, interruption=2015, family="poisson")
    assert poisson.settings["errors_used"] == "ols"
    with pytest.raises(DesignError, match="'ar', 'hac', 'ols'"):
        InterruptedTimeSeries(errors="newey")


def test_default_on_a_panel_is_pooled_and_controlled():
    panel = school_panel(effect=1.5)
    result = InterruptedTimeSeries().fit(panel)
    assert result.settings["design"] == "pooled controlled"
    assert result.settings["errors_used"] == "clustered"
    assert result.n_clusters == 30
    assert result.att.ci_lower <= 1.5 <= result.att.ci_upper
    aggregate = InterruptedTimeSeries(pooled=False, errors="ols").fit(panel)
    assert aggregate.settings["design"] == "controlled"
    assert aggregate.att.estimate == pytest.approx(result.att.estimate, abs=1e-9)


def test_pooled_unit_effects_equal_separate_statsmodels_fits():
    panel = school_panel(effect=1.0, n_schools=10)
    result = InterruptedTimeSeries(pooled=True).fit(panel)
    units = result.diagnostics["unit_effects"]
    assert len(units) == 5
    wide = panel.wide()
    diff = wide[2].to_numpy() - wide[[5, 6, 7, 8, 9]].mean(axis=1).to_numpy()
    X = build_design(12, [7]).X.to_numpy()
    ref = sm.OLS(diff, X).fit(
        cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(12), "use_correction": True}
    )
    row = units.set_index("unit").loc[2]
    assert row["level_change"] == pytest.approx(ref.params[2], rel=1e-9)
    assert row["level_change_std_error"] == pytest.approx(ref.bse[2], rel=1e-9)


def test_controlled_counts_use_a_joint_glm():
    rng = np.random.default_rng(8)
    t = np.arange(48)
    background = np.exp(5 + 0.01 * t + 0.0004 * t**2)
    treated = rng.poisson(background * np.exp(-0.2 * (t >= 30)))
    control = rng.poisson(background)
    result = InterruptedTimeSeries.from_series(
        treated, t, interruption=30, comparison_series=control, family="poisson", errors="ols"
    )
    assert result.settings["design"] == "controlled"
    assert result.effect("level_change").estimate == pytest.approx(-0.2, abs=0.08)


def test_short_series_hac_warns():
    y, t = series(n=12, cut=6)
    with pytest.warns(InferenceWarning, match="Newey-West"):
        InterruptedTimeSeries.from_series(y, t, interruption=2006, errors="hac")


def test_diagnostics_tables_equal_statsmodels():
    from statsmodels.stats.stattools import durbin_watson

    y, t = series(seed=4, rho=0.6)
    result = InterruptedTimeSeries.from_series(y, t, interruption=2024, errors="ols")
    tests = result.diagnostics["residual_tests"].set_index("test")
    resid = result.diagnostics["residuals"]["residual"].to_numpy()
    assert tests.loc["durbin_watson", "statistic"] == pytest.approx(durbin_watson(resid))
    assert tests.loc["durbin_watson", "statistic"] < 1.5  # positive autocorrelation
    from statsmodels.tsa.stattools import acf as sm_acf

    table = result.diagnostics["autocorrelation"]
    np.testing.assert_allclose(table["acf"], sm_acf(resid, nlags=len(table), fft=False)[1:])
    assert table.loc[0, "acf"] > 0.2


def test_placebo_interruptions():
    from impact.estimators.its.diagnostics import placebo_interruptions

    y, t = series(n=60, cut=40, level=-4.0, slope=0.0, noise=0.3)
    table = placebo_interruptions(InterruptedTimeSeries(errors="ols"), y, t, interruption=2040)
    assert (table["kind"] == "placebo").sum() == 40 - 3 - 1
    assert table["rank_p_value"].iloc[-1] == pytest.approx(1 / len(table))


# --------------------------------------------------------------------- errors
def test_errors_name_the_problem():
    y, t = series(n=20, cut=10)
    with pytest.raises(DesignError, match="at least 3"):
        InterruptedTimeSeries.from_series(y, t, interruption=2002, errors="ols")
    with pytest.raises(DesignError, match="outside the observed periods"):
        InterruptedTimeSeries.from_series(y, t, interruption=2030)
    with pytest.raises(DataError, match="duplicated"):
        InterruptedTimeSeries.from_series(y, np.r_[t[:-1], t[0]], interruption=2010)
    with pytest.raises(DataError, match="irregularly spaced"):
        InterruptedTimeSeries.from_series(y, np.r_[t[:-1], 2050], interruption=2010)
    counts = np.abs(np.round(y))
    with pytest.raises(DataError, match="negative"):
        InterruptedTimeSeries.from_series(-counts, t, interruption=2010, family="poisson")
    with pytest.raises(DataError, match="exposure must be positive"):
        InterruptedTimeSeries.from_series(
            counts, t, interruption=2010, family="poisson", exposure=np.r_[0.0, np.ones(19)]
        )
    with pytest.raises(DesignError, match="errors="):
        InterruptedTimeSeries(errors="newey")
    with pytest.raises(DesignError, match="ar"):
        InterruptedTimeSeries(family="poisson", errors="ar")
    months = pd.date_range("2020-01-01", periods=20, freq="MS").delete(5)
    with pytest.raises(DataError, match="regular frequency"):
        InterruptedTimeSeries.from_series(y[:19], months, interruption=months[10])


@pytest.mark.parametrize("value", ["yes", None, float("nan"), [1]])
def test_level_and_slope_flags_must_be_booleans(value):
    with pytest.raises(DesignError, match=r"level_change=.* must be True or False"):
        InterruptedTimeSeries(level_change=value)
    with pytest.raises(DesignError, match=r"slope_change=.* must be True or False"):
        InterruptedTimeSeries(slope_change=value)


@pytest.mark.parametrize("value", [2005, 2005.0, "", ()])
def test_interruptions_must_be_a_sequence_of_periods(value):
    with pytest.raises(DesignError, match=r"non-empty sequence of periods, e\.g\."):
        InterruptedTimeSeries(interruptions=value)


def test_hac_lags_beyond_the_series_are_refused():
    y, t = series(n=20, cut=10)
    with pytest.raises(DesignError, match="hac_lags=20 must be smaller than the 20 periods"):
        InterruptedTimeSeries.from_series(y, t, interruption=2010, errors="hac", hac_lags=20)
    panel = school_panel(effect=1.0)
    with pytest.raises(DesignError, match="hac_lags=10000 must be smaller than"):
        InterruptedTimeSeries(pooled=True, errors="hac", hac_lags=10_000).fit(panel)


def test_registered_and_estimate_entry_point():
    panel = school_panel(effect=1.0)
    result = impact.estimate(panel, method="its")
    assert result.estimator == "its"
    assert "its" in impact.available_estimators()


def test_plots_draw_and_are_registered():
    from impact.plotting.its import plot_its, plot_residuals

    y, t = series()
    result = InterruptedTimeSeries.from_series(y, t, interruption=2024, errors="ols")
    ax = plot_its(result, band="prediction")
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert {"observed", "fitted", "counterfactual", "prediction interval"} <= set(labels)
    assert "Durbin-Watson" in plot_residuals(result).get_title()
    assert result.plot(kind="its").get_title() == "Interrupted time series"
    pooled = InterruptedTimeSeries().fit(school_panel())
    assert pooled.plot(kind="its").get_title() == "Interrupted time series"
    with pytest.raises(DesignError, match="residual"):
        plot_residuals(pooled)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_panel_with_one_treated_unit_uses_the_aggregate_controlled_series():
    panel = school_panel(effect=2.0, n_schools=30)
    frame = panel.frame
    frame = frame[(frame["school"] == 0) | (frame["school"] >= 15)]
    one = Panel.from_frame(frame, unit="school", time="year", outcome="score", treated="pilot")
    result = InterruptedTimeSeries(errors="ols").fit(one)
    assert result.settings["design"] == "controlled"
    assert result.settings["n_treated_units"] == 1
    assert result.att.ci_lower > 0
    wide = one.wide()
    direct = InterruptedTimeSeries.from_series(
        wide[0].to_numpy(),
        wide.index,
        interruption=2015,
        comparison_series=wide.drop(columns=0).mean(axis=1).to_numpy(),
        errors="ols",
    )
    cols = ["estimate", "std_error"]
    np.testing.assert_allclose(result.effects[cols], direct.effects[cols], rtol=1e-10)


def test_panel_of_counts_sums_units_and_exposures():
    rng = np.random.default_rng(4)
    rows = []
    for unit in range(6):
        for i, year in enumerate(range(2000, 2030)):
            pop = rng.uniform(800, 1200)
            on = unit < 3 and year >= 2018
            rate = np.exp(-3 + 0.01 * i - 0.3 * on)
            rows.append((unit, year, rng.poisson(pop * rate), pop, int(on)))
    frame = pd.DataFrame(rows, columns=["la", "year", "exclusions", "pupils", "on"])
    panel = Panel.from_frame(
        frame, unit="la", time="year", outcome="exclusions", treated="on", covariates=["pupils"]
    )
    result = InterruptedTimeSeries(
        family="poisson", exposure="pupils", comparison=False, errors="ols"
    ).fit(panel)
    row = result.effects.set_index("term").loc["level_change"]
    assert row["rate_ratio"] == pytest.approx(np.exp(-0.3), abs=0.06)
    treated = frame[frame["la"] < 3].groupby("year")["exclusions"].sum().to_numpy()
    np.testing.assert_allclose(result.paths["observed"], treated)
    with pytest.raises(DesignError, match="covariates"):
        InterruptedTimeSeries(family="poisson", exposure="population").fit(panel)


@settings(max_examples=15, deadline=None)
@given(
    shift=st.floats(-1e4, 1e4, allow_nan=False),
    scale=st.floats(0.01, 100.0),
    errors=st.sampled_from(["ols", "hac"]),
)
def test_series_fit_is_equivariant_in_the_outcome(shift, scale, errors):
    y, t = series(seed=9, rho=0.4)
    base = InterruptedTimeSeries.from_series(y, t, interruption=2024, errors=errors).effects
    moved = InterruptedTimeSeries.from_series(
        y * scale + shift, t, interruption=2024, errors=errors
    ).effects
    np.testing.assert_allclose(moved["estimate"], base["estimate"] * scale, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(moved["std_error"], base["std_error"] * scale, rtol=1e-7)


def test_ar_errors_skip_an_excluded_phase_in_as_missing_periods():

    t = np.arange(40)
    y = 1 + 0.2 * t + 3 * (t >= 23) + np.random.default_rng(1).normal(0, 0.3, 40)
    result = InterruptedTimeSeries.from_series(y, t, interruption=20, phase_in=3, errors="ar")
    design = build_design(40, [20], phase_in=3)
    params, bse, _, _ = arima_reference(np.where(design.keep, y, np.nan), design.X)
    est, se = coefs(result)
    np.testing.assert_allclose(est, params, rtol=1e-8)
    np.testing.assert_allclose(se, bse, rtol=1e-8)
    assert result.n_obs == 37


def test_placebo_interruptions_on_a_panel():
    from impact.estimators.its.diagnostics import placebo_interruptions

    panel = school_panel(effect=2.0)
    table = placebo_interruptions(InterruptedTimeSeries(), panel)
    placebos = table[table["kind"] == "placebo"]
    assert list(placebos["placebo_time"]) == [2011, 2012, 2013]
    assert placebos["estimate"].abs().max() < 0.5
    assert table["estimate"].iloc[-1] == pytest.approx(
        InterruptedTimeSeries().fit(panel).effect("level_change").estimate
    )
    assert table["rank_p_value"].iloc[-1] == pytest.approx(0.25)


def test_aggregate_series_adjusts_for_time_varying_covariates():
    from tests.conftest import make_did_frame

    frame = make_did_frame(n_units=40, n_periods=12, adoption=6, effect=1.0, noise=0.1, seed=3)
    frame["x"] = frame["x"] + 0.5 * (frame["unit"] < 20) * (frame["time"] >= 2007)
    frame["y"] = frame["y"] + 0.3 * 0.5 * (frame["unit"] < 20) * (frame["time"] >= 2007)
    panel = Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["x"]
    )
    result = InterruptedTimeSeries(pooled=False, errors="ols").fit(panel)
    wide_y, wide_x = panel.wide(), panel.wide("x")
    treated = wide_y.columns < 20
    dy = wide_y.loc[:, treated].mean(axis=1) - wide_y.loc[:, ~treated].mean(axis=1)
    dx = wide_x.loc[:, treated].mean(axis=1) - wide_x.loc[:, ~treated].mean(axis=1)
    X = build_design(12, [6], covariates=pd.DataFrame({"x": dx.to_numpy()})).X
    ref = sm.OLS(dy.to_numpy(), X.to_numpy()).fit()
    est, se = coefs(result)
    np.testing.assert_allclose(est, ref.params, rtol=1e-8)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-8)
    assert "x" in result.diagnostics["coefficients"]["term"].tolist()
    assert result.att.ci_lower <= 1.0 <= result.att.ci_upper
