"""Synthetic DiD: reference values of R synthdid, inference choices, invariances, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import impact
from impact import Panel, SyntheticDiD
from impact.exceptions import DataError, DesignError, DesignWarning, InferenceWarning

REFERENCE = Path(__file__).parents[1] / "reference" / "synthetic" / "california_prop99.csv"
PROPERTY = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def prop99() -> Panel:
    frame = pd.read_csv(REFERENCE, sep=";")
    return Panel.from_frame(
        frame, unit="State", time="Year", outcome="PacksPerCapita", treated="treated"
    )


def factor_frame(
    *,
    n_controls: int = 30,
    n_treated: int = 1,
    n_periods: int = 12,
    adoption: int = 8,
    effect: float = 3.0,
    noise: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Units on two latent trends; the treated load like an average of two controls."""
    rng = np.random.default_rng(seed)
    n = n_controls + n_treated
    loadings = rng.normal(size=(n, 2))
    loadings[n_controls:] = 0.5 * (loadings[0] + loadings[1])  # inside the controls' hull
    factors = np.cumsum(rng.normal(size=(2, n_periods)), axis=1)
    level = rng.normal(0, 3, n)
    level[n_controls:] = 0.5 * (level[0] + level[1])
    y0 = level[:, None] + 0.3 * np.arange(n_periods) + loadings @ factors
    y0 = y0 + noise * rng.normal(size=y0.shape)
    d = (np.arange(n)[:, None] >= n_controls) & (np.arange(n_periods)[None, :] >= adoption)
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), n_periods),
            "time": np.tile(np.arange(n_periods) + 2001, n),
            "y": (y0 + effect * d).ravel(),
            "d": d.ravel().astype(int),
        }
    )


def panel_of(frame: pd.DataFrame, **kwargs) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d", **kwargs)


# --------------------------------------------------------------------------- reference values
@pytest.mark.parametrize(
    ("method", "expected"),
    [("sdid", -15.60383), ("sc", -19.61966), ("did", -27.34911)],
)
def test_reproduces_r_synthdid_on_proposition_99(prop99, method, expected):
    # R synthdid 0.0.9: synthdid_estimate / sc_estimate / did_estimate with defaults
    # (its README; Arkhangelsky et al. 2021, Table 1); see tests/reference/synthetic
    result = SyntheticDiD(method=method, replications=10).fit(prop99)
    assert result.att.estimate == pytest.approx(expected, abs=1e-4)
    assert result.effects["term"].iloc[1] == "t=1989"
    # the per-period effects average to the overall effect
    per_period = result.effects["estimate"].iloc[1:]
    assert per_period.mean() == pytest.approx(result.att.estimate, abs=1e-9)


def test_placebo_standard_error_on_proposition_99_is_near_the_papers(prop99):
    # random: about 8.4 in the paper, 8 to 9.5 in ports
    result = SyntheticDiD(replications=200, seed=1).fit(prop99)
    assert result.settings["se_method_used"] == "placebo"
    assert 7.0 < result.att.std_error < 11.0
    assert len(result.diagnostics["replicates"]) == 200


def test_weights_are_on_the_simplex_and_reported_by_unit(prop99):
    result = SyntheticDiD(replications=5).fit(prop99)
    units = result.diagnostics["unit_weights"]
    times = result.diagnostics["time_weights"]
    assert units["weight"].sum() == pytest.approx(1.0)
    assert times["weight"].sum() == pytest.approx(1.0)
    assert (units["weight"] >= 0).all() and (times["weight"] >= 0).all()
    assert set(units["unit"]) == set(prop99.never_treated_units)
    assert list(times["time"]) == list(range(1970, 1989))
    paths = result.paths
    post = paths["post"].to_numpy()
    np.testing.assert_allclose(
        paths.loc[post, "effect"], result.effects["estimate"].iloc[1:], atol=1e-9
    )
    # the synthetic DiD time weights: the counterfactual's pre-period gap has zero
    # time-weighted mean
    pre_gap = paths.loc[~post, "effect"].to_numpy()
    assert pre_gap @ times["weight"].to_numpy() == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- inference
def test_auto_uses_the_jackknife_when_treated_units_are_as_many_as_controls():
    frame = factor_frame(n_controls=10, n_treated=10, noise=0.3)
    result = SyntheticDiD().fit(panel_of(frame))
    assert result.settings["se_method_used"] == "jackknife"
    assert "jackknife" in result.settings["se_method_reason"]


def test_explicit_placebo_needs_more_controls_than_treated():
    frame = factor_frame(n_controls=5, n_treated=5, noise=0.3)
    with pytest.raises(DesignError, match="more never-treated units than treated"):
        SyntheticDiD(se_method="placebo").fit(panel_of(frame))


def test_jackknife_is_refused_with_one_treated_unit():
    with pytest.raises(DesignError, match="single treated unit"):
        SyntheticDiD(se_method="jackknife").fit(panel_of(factor_frame(noise=0.3)))


def test_jackknife_equals_leaving_each_unit_out_by_brute_force():
    frame = factor_frame(n_controls=12, n_treated=4, noise=0.5, seed=3)
    result = SyntheticDiD(se_method="jackknife").fit(panel_of(frame))
    weights = result.diagnostics["unit_weights"].set_index("unit")["weight"]
    lam = result.diagnostics["time_weights"]["weight"].to_numpy()
    wide = frame.pivot(index="unit", columns="time", values="y")
    treated = sorted(frame.loc[frame.d == 1, "unit"].unique())
    adoption = 8

    def estimate(drop):
        keep = [u for u in wide.index if u != drop]
        tr = [u for u in treated if u in keep]
        co = [u for u in keep if u not in treated]
        omega = weights[co].to_numpy() / weights[co].sum()
        d = (
            wide.loc[keep, wide.columns[adoption:]].mean(axis=1)
            - wide.loc[keep, wide.columns[:adoption]].to_numpy() @ lam
        )
        return d[tr].mean() - omega @ d[co].to_numpy()

    leave_out = np.array([estimate(u) for u in wide.index])
    n = len(leave_out)
    expected = np.sqrt((n - 1) / n * ((leave_out - leave_out.mean()) ** 2).sum())
    assert result.att.std_error == pytest.approx(expected, rel=1e-9)


def test_bootstrap_is_reproducible_for_a_seed():
    panel = panel_of(factor_frame(n_controls=15, n_treated=3, noise=0.5))
    first = SyntheticDiD(se_method="bootstrap", replications=30, seed=5).fit(panel)
    second = SyntheticDiD(se_method="bootstrap", replications=30, seed=5).fit(panel)
    other = SyntheticDiD(se_method="bootstrap", replications=30, seed=6).fit(panel)
    assert first.att.std_error == second.att.std_error
    assert first.att.std_error != other.att.std_error
    assert 0 < first.att.std_error < 2


@pytest.mark.parametrize("method", ["sdid", "did"])
def test_parallel_noise_free_data_give_the_effect_and_an_undefined_interval(method):
    # y = unit effect + period effect + 3 D: every placebo estimate is 0, so is the SE
    rng = np.random.default_rng(4)
    frame = factor_frame(effect=0.0)
    unit_effect = rng.normal(0, 5, 31)[frame.unit]
    period_effect = rng.normal(0, 2, 12)[frame.time - 2001]
    frame = frame.assign(y=unit_effect + period_effect + 3.0 * frame.d)
    with pytest.warns(InferenceWarning, match="undefined"):
        result = SyntheticDiD(method=method, replications=20).fit(panel_of(frame))
    assert result.att.estimate == pytest.approx(3.0, abs=1e-9)
    assert result.att.std_error == 0.0
    assert np.isnan(result.att.ci_lower) and np.isnan(result.att.p_value)


def test_synthetic_did_is_unbiased_where_did_is_not():
    # the treated unit loads on the latent trends like an average of two controls:
    # its path is reproduced by them, not by the average control
    # (a draw where the latent trends diverge: DiD is off by more than 5)
    panel = panel_of(factor_frame(effect=0.0, noise=0.05, seed=3))
    sdid = SyntheticDiD(replications=20).fit(panel).att.estimate
    sc = SyntheticDiD(method="sc", replications=20).fit(panel).att.estimate
    with pytest.warns(DesignWarning, match="RMSPE"):  # the average control misses the path
        did = SyntheticDiD(method="did", replications=20).fit(panel).att.estimate
    assert abs(did) > 5
    assert abs(sc) < 0.2  # the treated unit is a convex combination of two controls
    assert abs(sdid) < abs(did) / 5  # its regularised weights shrink towards uniform


# --------------------------------------------------------------------------- invariances
@PROPERTY
@given(seed=st.integers(0, 1000), shift=st.floats(-1e3, 1e3), scale=st.floats(0.01, 100))
def test_shift_and_scale_of_the_outcome(seed, shift, scale):
    frame = factor_frame(noise=0.3, seed=seed)
    base = SyntheticDiD(replications=20).fit(panel_of(frame)).att
    moved = SyntheticDiD(replications=20).fit(panel_of(frame.assign(y=frame.y * scale + shift)))
    assert moved.att.estimate == pytest.approx(base.estimate * scale, rel=1e-6, abs=1e-6)
    assert moved.att.std_error == pytest.approx(base.std_error * scale, rel=1e-5)


@PROPERTY
@given(seed=st.integers(0, 1000), order=st.randoms(use_true_random=False))
def test_relabelling_units_and_reordering_rows_change_nothing(seed, order):
    frame = factor_frame(noise=0.3, seed=seed)
    rows = list(range(len(frame)))
    order.shuffle(rows)
    labels = [f"council {i}" for i in range(31)]
    order.shuffle(labels)
    other = frame.iloc[rows].assign(unit=frame["unit"].iloc[rows].map(dict(enumerate(labels))))
    for method in ("sdid", "sc"):
        a = SyntheticDiD(method=method, replications=20).fit(panel_of(frame)).effects
        b = SyntheticDiD(method=method, replications=20).fit(panel_of(other)).effects
        cols = ["estimate", "std_error", "ci_lower", "ci_upper"]
        np.testing.assert_allclose(b[cols].to_numpy(), a[cols].to_numpy(), rtol=1e-9)


# --------------------------------------------------------------------------- staggered
def staggered_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, periods = 40, 12
    start = np.full(n, -1)
    start[30:35] = 6
    start[35:] = 9
    loadings = rng.normal(size=n)
    factor = np.cumsum(rng.normal(size=periods))
    y = rng.normal(0, 2, n)[:, None] + np.outer(loadings, factor)
    y = y + 0.3 * rng.normal(size=y.shape)
    d = (start[:, None] >= 0) & (np.arange(periods)[None, :] >= start[:, None])
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), periods),
            "time": np.tile(np.arange(periods) + 2001, n),
            "y": (y + 2.0 * d).ravel(),
            "d": d.ravel().astype(int),
        }
    )


def test_staggered_adoption_averages_cohort_estimates_by_treated_unit_periods():
    frame = staggered_frame()
    result = SyntheticDiD(replications=30).fit(panel_of(frame))
    cohorts = result.diagnostics["cohorts"]
    assert list(cohorts["cohort"]) == [2007, 2010]
    # 5 units x 6 post-periods and 5 units x 3 post-periods
    np.testing.assert_allclose(cohorts["weight"], [30 / 45, 15 / 45])
    assert result.att.estimate == pytest.approx(cohorts["weight"] @ cohorts["estimate"])
    # each cohort's estimate is synthetic DiD on that cohort and the never-treated alone
    for cohort, estimate in zip(cohorts["cohort"], cohorts["estimate"], strict=True):
        first = frame.loc[frame.d == 1].groupby("unit")["time"].min()
        others = first.index[first != cohort]
        alone = SyntheticDiD(replications=5).fit(panel_of(frame[~frame.unit.isin(others)]))
        assert alone.att.estimate == pytest.approx(estimate, abs=1e-9)
    assert result.paths is None
    assert set(result.diagnostics["cohort_paths"]["cohort"]) == {2007, 2010}
    assert abs(result.att.estimate - 2.0) < 3 * result.att.std_error + 0.2


def test_projected_covariates_remove_a_time_varying_confounder():
    frame = factor_frame(noise=0.2, effect=1.0, seed=2)
    rng = np.random.default_rng(0)
    # a covariate that rises in the treated unit after adoption and moves the outcome
    x = rng.normal(size=len(frame)) + 3.0 * frame["d"]
    frame = frame.assign(x=x, y=frame["y"] + 2.0 * x)
    with_x = SyntheticDiD(replications=20).fit(panel_of(frame, covariates=["x"]))
    with pytest.warns(DesignWarning, match="RMSPE"):  # the confounder spoils the fit
        without = SyntheticDiD(replications=20, covariates="ignore").fit(
            panel_of(frame, covariates=["x"])
        )
    assert with_x.diagnostics["covariates"]["coefficient"].iloc[0] == pytest.approx(2.0, abs=0.1)
    assert abs(with_x.att.estimate - 1.0) < 0.5
    assert abs(without.att.estimate - 1.0) > 4.0


# --------------------------------------------------------------------------- bad input
def test_missing_cells_are_a_data_error_naming_them():
    frame = factor_frame(noise=0.3)
    gap = frame.drop(index=frame.index[(frame.unit == 3) & (frame.time == 2004)])
    with pytest.raises(DataError, match=r"\(3, 2004\)"):
        SyntheticDiD().fit(panel_of(gap))


def test_too_few_pre_periods_is_a_design_error():
    frame = factor_frame(adoption=1, n_periods=6)
    with pytest.raises(DesignError, match="at least 2 pre-periods"):
        SyntheticDiD().fit(panel_of(frame))


def test_no_comparison_units_is_a_design_error():
    frame = factor_frame(n_controls=0, n_treated=3)
    with pytest.raises(DesignError, match="never-treated"):
        SyntheticDiD().fit(panel_of(frame))


def test_treatment_that_switches_off_is_a_design_error():
    frame = factor_frame(noise=0.3)
    frame.loc[(frame.unit == 30) & (frame.time == 2011), "d"] = 0
    panel = panel_of(frame, absorbing=False)
    with pytest.raises(DesignError, match="switches off"):
        SyntheticDiD().fit(panel)


def test_sampling_weights_are_refused():
    frame = factor_frame(noise=0.3).assign(w=1.0)
    with pytest.raises(DesignError, match="weights"):
        SyntheticDiD().fit(panel_of(frame, weights="w"))


def test_a_treated_unit_outside_the_hull_warns_with_its_relative_rmspe():
    frame = factor_frame(noise=0.1, effect=0.0)
    treated = frame.unit == 30
    # a pre-period path no weighted average of the controls can follow
    frame.loc[treated, "y"] += 25.0 * np.sin(frame.loc[treated, "time"].to_numpy() * 1.3)
    with pytest.warns(DesignWarning, match="RMSPE") as caught:
        result = SyntheticDiD(method="sc", replications=5).fit(panel_of(frame))
    assert result.diagnostics["fit"]["relative_rmspe"].iloc[0] > 0.25
    assert "times the outcome's standard deviation" in str(caught[0].message)


def test_a_good_fit_does_not_warn(prop99):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)
        SyntheticDiD(replications=5).fit(prop99)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "synth"}, "method"),
        ({"se_method": "wild"}, "se_method"),
        ({"replications": 1}, "replications"),
        ({"covariates": "optimized"}, "covariates"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_bad_hyperparameters(params, match):
    with pytest.raises(DesignError, match=match):
        SyntheticDiD(**params)


def test_registered_and_exported():
    assert impact.get_estimator("synthetic_did", method="sc").method == "sc"
    assert impact.estimators.SyntheticDiD is SyntheticDiD
