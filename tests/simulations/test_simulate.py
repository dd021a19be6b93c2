"""The simulator: the truth is right by construction, and the same seed gives the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_series_equal

import impact
from impact import Panel
from impact.exceptions import DesignError
from impact.simulations import Scenario, SimulatedPanel, simulate

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw) -> Scenario:
    n_periods = draw(st.integers(2, 6))
    staggered = draw(st.booleans())
    kwargs = {
        "n_units": draw(st.integers(4, 30)),
        "n_periods": n_periods,
        "outcome": draw(st.sampled_from(["continuous", "binary", "count"])),
        "trend": draw(st.floats(-2, 2)),
        "unit_sd": draw(st.floats(0, 3)),
        "noise_sd": draw(st.floats(0, 2)),
        "rho": draw(st.floats(-0.9, 0.9)),
        "effect": draw(st.floats(-3, 3)),
        "profile": draw(st.sampled_from(["constant", "ramp", "decay"])),
        "heterogeneity": draw(st.floats(-1, 1)),
        "anticipation": draw(st.integers(0, 2)),
        "selection": draw(st.sampled_from(["random", "covariate", "level", "trend"])),
        "selection_strength": draw(st.floats(-3, 3)),
        "unit_trend_sd": draw(st.floats(0.1, 1.0)),
        "attrition": draw(st.sampled_from([0.0, 0.2])),
        "attrition_on_outcome": draw(st.floats(-1, 1)),
        "spillover_units": draw(st.integers(0, 2)),
        "spillover_share": draw(st.floats(0, 1)),
        "covariate_effect": draw(st.floats(-1, 1)),
        "covariate_trend": draw(st.floats(-0.5, 0.5)),
    }
    if kwargs["outcome"] == "count":
        kwargs["baseline"] = draw(st.floats(-1, 2))
        kwargs["exposure"] = draw(st.floats(1, 50))
        kwargs["exposure_cv"] = draw(st.floats(0, 0.5))
    pupils = draw(st.sampled_from([None, 1, 3]))
    if pupils is not None:
        kwargs["pupils_per_unit"] = pupils
        kwargs["follow_pupils"] = draw(st.booleans())
        kwargs["pupil_sd"] = draw(st.floats(0, 2))
    if staggered:
        starts = draw(st.lists(st.integers(1, n_periods), min_size=1, max_size=3, unique=True))
        kwargs["cohorts"] = tuple((s, 0.25) for s in starts)
    else:
        kwargs["adoption_period"] = draw(st.integers(1, n_periods))
        kwargs["treated_share"] = draw(st.floats(0.1, 1.0))
    try:
        return Scenario(**kwargs)
    except DesignError:
        assume(False)
        raise


def _event_time(data: pd.DataFrame) -> np.ndarray:
    return np.where(data["cohort"] > 0, data["time"] - data["cohort"], np.iinfo(np.int64).min)


@PROPERTY
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_observed_outcome_is_potential_outcome_plus_effect(scenario, seed):
    data = simulate(scenario, seed=seed).data
    y, y0, tau = data["y"].to_numpy(), data["y0"].to_numpy(), data["tau"].to_numpy()
    treated = data["treated"].to_numpy() == 1
    event = _event_time(data)
    anticipating = (data["cohort"].to_numpy() > 0) & (event < 0) & (event >= -scenario.anticipation)
    spill = data["spillover"].to_numpy() == 1 if "spillover" in data else np.zeros(len(y), bool)
    untouched = ~treated & ~anticipating & ~spill
    # rows the programme does not reach: no effect and the observed outcome is y0
    assert np.all(tau[untouched] == 0)
    np.testing.assert_array_equal(y[untouched], y0[untouched])
    if scenario.outcome == "continuous":
        np.testing.assert_allclose(y, y0 + tau, rtol=0, atol=1e-9)
    else:
        # discrete outcomes: coupled potential outcomes move only in tau's direction
        diff = y - y0
        assert np.all(diff[tau == 0] == 0)
        assert np.all(diff * np.sign(tau) >= 0)
        if scenario.outcome == "binary":
            assert set(np.unique(y)) <= {0.0, 1.0}
            assert np.all(np.abs(tau) <= 1)
    # treatment is absorbing and starts at the cohort
    np.testing.assert_array_equal(treated, (data["cohort"] > 0) & (data["time"] >= data["cohort"]))


@PROPERTY
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_same_seed_gives_identical_frames(scenario, seed):
    first, second = simulate(scenario, seed=seed), simulate(scenario, seed=seed)
    assert_frame_equal(first.data, second.data)
    assert_frame_equal(first.truth, second.truth)
    assert_frame_equal(first.paths, second.paths)
    assert_frame_equal(first.panel.frame, second.panel.frame)
    rng_based = simulate(scenario, seed=np.random.default_rng(seed))
    assert_frame_equal(first.data, rng_based.data)


@PROPERTY
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_truth_is_the_mean_effect_of_each_term(scenario, seed):
    sim = simulate(scenario, seed=seed)
    data, truth = sim.data, sim.truth.set_index("term")
    assert tuple(sim.truth.columns) == impact.simulations.TRUTH_COLUMNS
    assert sim.truth["term"].is_unique
    treated = data.loc[data["treated"] == 1]
    if len(treated):
        assert truth.loc["att", "truth"] == pytest.approx(treated["tau"].mean())
        assert truth.loc["att", "n_obs"] == len(treated)
    ever = data.loc[data["cohort"] > 0]
    by_cell = ever.groupby(["cohort", "time"])["tau"].mean()
    for (g, t), value in by_cell.items():
        assert truth.loc[f"ATT({g},{t})", "truth"] == pytest.approx(value)
    by_event = ever.groupby(ever["time"] - ever["cohort"])["tau"].mean()
    for e, value in by_event.items():
        assert truth.loc[f"e={e}", "truth"] == pytest.approx(value)
        assert truth.loc[f"e={e}", "event_time"] == e
    for t, value in treated.groupby("time")["tau"].mean().items():
        assert truth.loc[f"t={t}", "truth"] == pytest.approx(value)
    for g, value in treated.groupby("cohort")["tau"].mean().items():
        assert truth.loc[f"g={g}", "truth"] == pytest.approx(value)


def test_truth_terms_line_up_with_the_did_estimator():
    sim = simulate(Scenario.scottish_schools(effect=2.0), seed=3)
    result = impact.DifferenceInDifferences().fit(sim.panel)
    scored = result.effects.merge(sim.truth, on="term", how="inner")
    assert scored["term"].tolist() == ["att"]
    assert scored["truth"].iloc[0] == pytest.approx(2.0)
    assert abs(scored["estimate"].iloc[0] - 2.0) < 4 * scored["std_error"].iloc[0]


def test_ramp_is_zero_in_year_one_and_full_by_year_three():
    sim = simulate(Scenario(n_units=30, n_periods=8, effect=3.0, profile="ramp"), seed=0)
    truth = sim.truth.set_index("term")["truth"]
    assert [truth[f"e={e}"] for e in range(4)] == [0.0, 1.5, 3.0, 3.0]
    assert truth["e=-1"] == 0.0


def test_decay_halves_every_half_life_and_callable_profiles_work():
    decay = simulate(Scenario(effect=4.0, profile="decay", half_life=1.0), seed=0)
    truth = decay.truth.set_index("term")["truth"]
    assert [truth[f"e={e}"] for e in range(3)] == [4.0, 2.0, 1.0]
    custom = simulate(Scenario(effect=1.0, profile=lambda e: e + 1.0), seed=0)
    truth = custom.truth.set_index("term")["truth"]
    assert [truth[f"e={e}"] for e in range(4)] == [1.0, 2.0, 3.0, 4.0]


def test_heterogeneity_follows_the_moderator():
    sim = simulate(Scenario(n_units=200, effect=1.0, heterogeneity=0.5), seed=0)
    treated = sim.data.loc[sim.data["treated"] == 1]
    np.testing.assert_allclose(treated["tau"], 1.0 + 0.5 * treated["climate"])


def test_anticipation_reaches_the_periods_before_adoption():
    sim = simulate(Scenario(effect=2.0, anticipation=2, anticipation_share=0.25), seed=0)
    truth = sim.truth.set_index("term")["truth"]
    assert [truth[f"e={e}"] for e in (-3, -2, -1, 0)] == [0.0, 0.5, 0.5, 2.0]
    assert truth["att"] == 2.0


def test_listed_spillover_units_stay_untreated_and_receive_a_share():
    scenario = Scenario(n_units=20, effect=2.0, spillover_units=(1, 2, 3), spillover_share=0.5)
    data = simulate(scenario, seed=0).data
    spill = data.loc[data["unit"].isin([1, 2, 3])]
    assert (spill["treated"] == 0).all() and (spill["spillover"] == 1).all()
    assert np.allclose(spill.loc[spill["time"] >= 2005, "tau"], 1.0)
    assert np.allclose(spill.loc[spill["time"] < 2005, "tau"], 0.0)
    assert simulate(scenario, seed=0).truth.set_index("term").loc["spillover", "truth"] == 1.0


def test_staggered_cohorts_have_the_requested_sizes():
    sim = simulate(Scenario.staggered_rollout(), seed=0)
    assert sim.panel.is_staggered
    sizes = sim.panel.cohort.value_counts().sort_index()
    assert sizes.to_dict() == {2003.0: 40, 2004.0: 40, 2005.0: 40, 2006.0: 40}
    assert len(sim.panel.never_treated_units) == 40
    assert "ATT(2004,2006)" in set(sim.truth["term"])


def test_selection_on_level_picks_struggling_schools():
    sim = simulate(Scenario.scottish_schools(), seed=0)
    first = sim.data.loc[sim.data["time"] == 2001]
    pilot = first["cohort"] > 0
    assert first.loc[pilot, "y0"].mean() < first.loc[~pilot, "y0"].mean() - 3


def test_selection_on_trend_breaks_parallel_trends_by_the_reported_gap():
    gaps = [simulate(Scenario.selected_on_trend(), seed=s).trend_gap for s in range(5)]
    assert all(g > 0.3 for g in gaps)
    random = [
        simulate(Scenario.selected_on_trend(selection="random"), seed=s).trend_gap for s in range(5)
    ]
    assert abs(np.mean(random)) < 0.15


def test_pupils_nested_in_schools():
    rcs = simulate(Scenario(n_units=10, n_periods=3, adoption_period=2, pupils_per_unit=4), seed=0)
    assert rcs.panel.is_repeated_cross_section and len(rcs.data) == 10 * 3 * 4
    assert rcs.data["pupil"].is_unique
    followed = simulate(
        Scenario(n_units=10, n_periods=3, adoption_period=2, pupils_per_unit=4, follow_pupils=True),
        seed=0,
    )
    assert followed.panel.n_units == 40 and followed.panel.cluster == "unit"
    assert followed.panel.n_clusters == 10 and followed.panel.is_balanced


def test_unit_attrition_is_monotone_and_spares_period_one():
    sim = simulate(Scenario(n_units=200, attrition=0.2), seed=0)
    counts = sim.data.groupby("unit")["time"].agg(["min", "max", "count"])
    assert (counts["min"] == 2001).all()
    assert (counts["count"] == counts["max"] - 2001 + 1).all()
    assert 0.2 < 1 - len(sim.data) / (200 * 8) < 0.7


def test_attrition_related_to_the_outcome_removes_high_outcomes():
    sim = simulate(Scenario(n_units=400, attrition=0.2, attrition_on_outcome=2.0), seed=0)
    full = simulate(Scenario(n_units=400), seed=0)
    assert sim.data["y"].mean() < full.data["y"].mean()


def test_count_outcomes_carry_exposure_and_scale_with_it():
    sim = simulate(Scenario.small_pilot(), seed=0)
    data = sim.data
    assert (data["y"] == np.round(data["y"])).all() and (data["y"] >= 0).all()
    assert sim.panel.n_units == 25 and len(sim.panel.treated_units) == 5
    rate = data["y0"].sum() / data["exposure"].sum()
    assert 0.004 < rate < 0.02
    assert sim.true_att < 0


def test_presets_simulate():
    for name, scenario in Scenario.presets().items():
        sim = simulate(scenario, seed=0)
        assert isinstance(sim, SimulatedPanel), name
        assert np.isfinite(sim.true_att)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_units": 1}, "n_units"),
        ({"rho": 1.0}, "rho"),
        ({"outcome": "ordinal"}, "outcome"),
        ({"treated_share": 0.001}, "no unit is treated"),
        ({"cohorts": ((2, 0.6), (3, 0.6))}, "sum to more than 1"),
        ({"adoption_period": 9}, "adoption_period"),
        ({"selection": "trend"}, "unit_trend_sd"),
        ({"spillover_units": 80}, "never treated"),
        ({"noise_sd": -1.0}, "noise_sd"),
        ({"follow_pupils": True}, "pupils_per_unit"),
        ({"panel_covariates": ("z",)}, "panel_covariates"),
        ({"panel_covariates": None}, "must be a tuple of names"),
        ({"treated_share": "half"}, "treated_share='half' must be a number"),
        ({"noise_sd": None}, "noise_sd=None must be a number"),
        ({"effect": (1, 2)}, r"effect=\(1, 2\) must be a number"),
        ({"baseline": "high"}, "baseline='high' must be a number"),
        ({"cohorts": 3}, "must be a tuple of \\(start period, share\\) pairs"),
        ({"cohorts": (1, 2)}, "must be a tuple of \\(start period, share\\) pairs"),
    ],
)
def test_invalid_scenarios_raise_design_errors(changes, match):
    with pytest.raises(DesignError, match=match):
        Scenario(**changes)


@pytest.mark.parametrize("seed", [-1, "x", 1.5, True])
def test_simulate_rejects_invalid_seeds(seed):
    with pytest.raises(DesignError, match="must be a non-negative int"):
        simulate(Scenario(n_units=10, n_periods=4, adoption_period=3), seed=seed)


def test_callable_trend_sets_the_common_path():
    flat = Scenario(n_units=50, unit_sd=0.0, noise_sd=0.0, trend=lambda t: 3.0 * t**2)
    paths = simulate(flat, seed=0).paths
    np.testing.assert_allclose(paths["counterfactual"], 3.0 * np.arange(8) ** 2)


def test_default_trend_is_a_steady_rise():
    sim = simulate(Scenario(n_units=200, noise_sd=0.1), seed=0)
    means = sim.data.groupby("time")["y0"].mean().to_numpy()
    np.testing.assert_allclose(np.diff(means), 0.5, atol=0.1)


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(n_units=12, n_periods=4, adoption_period=3, effect=1.0),
        Scenario(n_units=6, n_periods=3, adoption_period=2, pupils_per_unit=3),
        Scenario(
            n_units=6,
            n_periods=3,
            adoption_period=2,
            pupils_per_unit=2,
            follow_pupils=True,
            panel_covariates=("x",),
        ),
        Scenario(n_units=20, n_periods=4, adoption_period=3, attrition=0.2),
    ],
)
def test_panel_equals_the_panel_of_the_full_data(scenario):
    """The Panel is built from its own columns; it equals the one built from ``data``."""
    sim = simulate(scenario, seed=3)
    panel = sim.panel
    kwargs = {"cluster": panel.cluster} if panel.cluster else {}
    rebuilt = Panel.from_frame(
        sim.data,
        unit=panel.unit,
        time="time",
        outcome="y",
        treated="treated",
        covariates=panel.covariates,
        repeated_cross_section=panel.is_repeated_cross_section,
        **kwargs,
    )
    assert_frame_equal(panel.frame, rebuilt.frame)
    assert_series_equal(panel.cohort, rebuilt.cohort)
    assert sim.data is sim.data  # built once


@PROPERTY
@given(scenario=scenarios(), seed=st.integers(0, 2**16))
def test_simulated_panel_equals_the_checked_panel_of_its_frame(scenario, seed):
    """The simulator's Panel skips the checks; it equals the one from_frame builds."""
    try:
        panel = simulate(scenario, seed=seed).panel
    except DesignError:
        assume(False)
    kwargs = {"cluster": panel.cluster} if panel.cluster else {}
    checked = Panel.from_frame(
        panel.frame,
        unit=panel.unit,
        time=panel.time,
        outcome=panel.outcome,
        treated=panel.treated,
        covariates=panel.covariates,
        repeated_cross_section=panel.is_repeated_cross_section,
        **kwargs,
    )
    assert_frame_equal(panel.view(), checked._frame, check_exact=True)
    assert_series_equal(panel.cohort_view(), checked._cohort, check_exact=True)
    assert panel._cache["n_periods"] == checked._cache["n_periods"]
    for mine, theirs in zip(panel.codes(), checked.codes(), strict=True):
        if isinstance(mine, pd.Index):
            pd.testing.assert_index_equal(mine, theirs, exact=True)
            assert mine.name == theirs.name
        else:
            assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)
            assert not mine.flags.writeable
    for name in Panel.__slots__:
        if name not in ("_cache", "_frame_data", "_cohort"):
            assert getattr(panel, name) == getattr(checked, name), name
    for column in checked._frame.columns:  # the arrays the Panel keeps for estimators
        mine, theirs = panel.values(column), checked.values(column)
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)
        assert not mine.flags.writeable


@settings(max_examples=60, deadline=None)
@given(
    rho=st.floats(-0.99, 0.99),
    n_units=st.integers(1, 30),
    n_periods=st.integers(2, 10),
    seed=st.integers(0, 2**16),
)
def test_ar1_shocks_equal_scipy_lfilter(rho, n_units, n_periods, seed):
    from scipy.signal import lfilter

    from impact.simulations.simulate import _ar1

    shocks = np.random.default_rng(seed).normal(size=(n_units, n_periods))
    scale = float(np.sqrt(1 - rho**2))
    expected = lfilter([scale], [1.0, -rho], shocks, axis=1)
    np.testing.assert_array_equal(_ar1(shocks, rho, scale), expected)


@PROPERTY
@given(scenario=scenarios(), seed=st.integers(0, 2**16))
def test_truth_of_some_terms_equals_the_full_truth(scenario, seed):
    """The runner asks for the terms an estimator reports; the values are the same."""
    try:
        sim = simulate(scenario, seed=seed)
    except DesignError:
        assume(False)
    full = simulate(scenario, seed=seed).truth_values()
    terms = list(full)
    some = [*terms[:: max(1, len(terms) // 4)], "not a term"]
    partial = sim._truth_of(some)  # every term of the kinds asked for
    assert all(t in partial for t in some if t in full) and "not a term" not in partial
    assert partial == {t: full[t] for t in partial}
    assert sim._truth_of(terms) == full
    assert sim.truth_values() == full


def test_simulated_panel_builds_its_frame_only_when_read():
    """A Monte Carlo fit reads the Panel's arrays; the frame is built on first access."""
    sim = simulate(Scenario(n_units=30, n_periods=4, adoption_period=3), seed=2)
    result = impact.DifferenceInDifferences(design="2x2").fit(sim.panel)
    assert not isinstance(sim.panel._frame_data, pd.DataFrame)
    assert result.paths is not None  # the paths read the frame
    assert isinstance(sim.panel._frame_data, pd.DataFrame)
    assert_frame_equal(sim.panel.frame, sim.data[["unit", "time", "y", "treated"]])
