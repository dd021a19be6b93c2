"""Identification checks of the regression designs and balancing in staggered DiD.

A design whose effect is not identified from comparison units must raise, never
report the general change over time as the programme's effect; noise-free additive
data ``y = unit effect + period effect + effect * D`` must give the effect exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import impact
from impact import Panel
from impact.estimators import (
    DifferenceInDifferences,
    EventStudy,
    InterruptedTimeSeries,
    StaggeredDiD,
)
from impact.exceptions import DataWarning, DesignError, DesignWarning
from impact.inference.regression import within_regression


# ------------------------------------------------------------------ reproducer A1
def a1_panel() -> Panel:
    """Four units, 2000-2002; the two comparison units are not observed in 2002."""
    rows = [
        dict(
            u=u,
            t=t,
            y={1: 0, 2: 5, 3: 1, 4: 2}[u] + {2000: 0, 2001: 1, 2002: 3}[t],
            d=int(u < 3 and t == 2002),
        )
        for u in (1, 2, 3, 4)
        for t in (2000, 2001, 2002)
        if not (u > 2 and t == 2002)
    ]
    return Panel.from_frame(pd.DataFrame(rows), unit="u", time="t", outcome="y", treated="d")


@pytest.mark.parametrize("design", ["twfe", "2x2"])
def test_did_without_comparison_units_after_adoption_raises(design):
    # the true effect is 0; the general rise in 2002 was credited to the programme
    # (3 with SE 1.9e-16, or 2.5 with p = 0) after period[2002] was dropped silently
    with pytest.raises(DesignError, match=r"comparison.*2002.*periods="):
        impact.estimate(a1_panel(), method="did", design=design)


def test_did_without_comparison_units_after_adoption_raises_with_many_noisy_units():
    rng = np.random.default_rng(4)
    rows = []
    for school in range(40):
        treated = school < 20
        for year in (2000, 2001, 2002):
            if not treated and year == 2002:
                continue
            y = rng.normal(0, 1) + {2000: 0.0, 2001: 1.0, 2002: 3.0}[year] + rng.normal(0, 0.3)
            rows.append(dict(u=school, t=year, y=y, d=int(treated and year == 2002)))
    panel = Panel.from_frame(pd.DataFrame(rows), unit="u", time="t", outcome="y", treated="d")
    with pytest.raises(DesignError, match="2002"):
        DifferenceInDifferences(inference="cr1").fit(panel)


def test_event_study_without_comparison_units_after_adoption_raises():
    with pytest.raises(DesignError, match=r"2002 hold no never-treated or not-yet-treated unit"):
        impact.estimate(a1_panel(), method="event_study")


def test_effect_collinear_with_a_covariate_is_not_identified():
    # a covariate that moves with treatment: the effect cannot be told apart from it
    # (before, the covariate was dropped and the effect kept whatever it held)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"u": np.repeat(np.arange(20), 4), "t": np.tile(np.arange(4), 20)})
    frame["d"] = ((frame.u < 10) & (frame.t >= 2)).astype(int)
    frame["x"] = 2.0 * frame["d"]
    frame["y"] = frame.u + frame.t + frame.d + rng.normal(0, 0.1, len(frame))
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d", covariates=["x"])
    with pytest.raises(DesignError, match=r"'att'.*not identified"):
        DifferenceInDifferences(inference="cr1").fit(panel)


def test_a_dropped_period_effect_is_named_in_a_warning_and_the_settings():
    # unit 99 is observed only in 2004: once unit effects are removed nothing is left
    # of period[2004], which was dropped without a word
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"u": np.repeat(np.arange(20), 3), "t": np.tile([2001, 2002, 2003], 20)})
    frame["d"] = ((frame.u < 10) & (frame.t == 2003)).astype(int)
    frame = pd.concat([frame, pd.DataFrame({"u": [99], "t": [2004], "d": [0]})])
    frame["y"] = frame.u + frame.t + frame.d + rng.normal(0, 0.1, len(frame))
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.warns(DesignWarning, match=r"period\[2004\]"):
        result = DifferenceInDifferences(inference="cr1").fit(panel)
    assert result.settings["dropped_terms"] == ("period[2004]",)
    assert result.att.estimate == pytest.approx(1.0, abs=0.2)


def test_the_reference_period_is_omitted_so_a_balanced_panel_drops_nothing():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"u": np.repeat(np.arange(30), 5), "t": np.tile(np.arange(5), 30)})
    frame["d"] = ((frame.u < 12) & (frame.t >= 3)).astype(int)
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = frame.u + frame.t + frame.d + frame.x + rng.normal(0, 0.1, len(frame))
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d", covariates=["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)
        for design in ("twfe", "2x2"):
            result = DifferenceInDifferences(design=design, inference="cr1").fit(panel)
            assert result.settings["dropped_terms"] == ()
        assert EventStudy(inference="cr1").fit(panel).settings["dropped_terms"] == ()


def test_within_regression_checks_the_effect_terms_last():
    # "d" equals the last period dummy once unit effects are removed: it is the effect
    # that is not identified, not the period effect that should be dropped
    unit = np.repeat(np.arange(4), 3)
    period = np.tile(np.arange(3), 4)
    keep = ~((unit >= 2) & (period == 2))
    unit, period = unit[keep], period[keep]
    d = ((unit < 2) & (period == 2)).astype(float)
    dummies = np.column_stack([(period == 1), (period == 2)]).astype(float)
    y = unit + period.astype(float)
    with pytest.raises(DesignError, match="'d'"):
        within_regression(
            y, np.column_stack([d, dummies]), ["d", "period[1]", "period[2]"], unit_codes=unit
        )


def test_pooled_2x2_on_an_unbalanced_panel_warns():
    # noise-free additive data, effect 1: the pooled design misses it when units are
    # missing from some periods, the one-effect-per-period design does not
    frame = pd.DataFrame({"u": np.repeat(np.arange(4), 3), "t": np.tile([1, 2, 3], 4)})
    frame = frame[~((frame.u == 3) & (frame.t == 2))]
    frame["d"] = ((frame.u < 2) & (frame.t == 3)).astype(int)
    frame["y"] = frame.u + np.array([0.0, 5.0, 6.0])[frame.t - 1] + frame.d
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.warns(DesignWarning, match="design='twfe'"):
        pooled = DifferenceInDifferences(design="2x2", inference="cr1").fit(panel)
    assert abs(pooled.att.estimate - 1.0) > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twfe = DifferenceInDifferences(inference="cr1").fit(panel)
    assert twfe.att.estimate == pytest.approx(1.0, abs=1e-10)


def its_panel_without_comparison_after_2015() -> Panel:
    """Schools with a common jump of 2 in 2015 and no effect; comparisons end in 2014."""
    rng = np.random.default_rng(0)
    rows = []
    for school in range(30):
        treated = school < 15
        base = rng.normal(50, 3)
        for i, year in enumerate(range(2008, 2020)):
            if not treated and year >= 2015:
                continue
            score = base + 0.2 * i + 2.0 * (year >= 2015) + rng.normal(0, 0.3)
            rows.append((school, year, score, int(treated and year >= 2015)))
    frame = pd.DataFrame(rows, columns=["school", "year", "score", "pilot"])
    return Panel.from_frame(frame, unit="school", time="year", outcome="score", treated="pilot")


def test_pooled_its_without_comparison_units_after_the_interruption_raises():
    # the comparison's own jump was dropped as collinear and the common jump of 2
    # credited to the programme (1.97, SE 0.10), with only a warning; the per-period
    # comparison check now names the periods before the regression is reached
    panel = its_panel_without_comparison_after_2015()
    with pytest.raises(DesignError, match=r"no comparison .* 2015, 2016.*comparison=False"):
        InterruptedTimeSeries(comparison=True, errors="ols", pooled=True).fit(panel)


def test_aggregate_its_without_comparison_units_after_the_interruption_raises():
    # the comparison series was NaN after 2014 and the effect NaN, without an error
    panel = its_panel_without_comparison_after_2015()
    with pytest.raises(DesignError, match=r"no comparison unit .* 2015, 2016"):
        InterruptedTimeSeries(comparison=True, errors="ols", pooled=False).fit(panel)


# ------------------------------------------------------------------ reproducer A2
def staggered_frame(*, never: bool, seed: int = 0, periods: int = 8) -> pd.DataFrame:
    """Balanced staggered panel, cohorts adopting in periods 3-6, a constant effect of 1."""
    rng = np.random.default_rng(seed)
    rows = []
    cohorts = [3, 4, 5, 6] + ([0] if never else [])
    unit = 0
    for g in cohorts:
        for _ in range(5):
            unit += 1
            a = rng.normal()
            for t in range(1, periods + 1):
                d = int(g > 0 and t >= g)
                rows.append(dict(u=unit, t=t, g=g, y=a + 0.5 * t + 1.0 * d, d=d))
    return pd.DataFrame(rows)


def test_event_study_without_never_treated_units_raises():
    # without never-treated units the trend was loaded on the event terms after a
    # period effect was dropped: e=0..4 = 1.7..4.5 (true 1), att 3.1 with SE ~1e-15
    frame = staggered_frame(never=False)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.raises(DesignError, match=r"never treated.*normalised.*staggered_did"):
        EventStudy(inference="cr1").fit(panel)


def test_event_study_with_binned_endpoints_is_identified_without_never_treated_units():
    # binning pools several event times in the endpoints: a second normalisation
    frame = staggered_frame(never=False)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.warns(DesignWarning, match=r"6, 7, 8 .* only units already treated"):
        result = EventStudy(leads=2, lags=2, inference="cr1").fit(panel)
    effects = result.effects.set_index("term")["estimate"]
    np.testing.assert_allclose(effects[["e=0", "e=1", "e=2", "att"]], 1.0, atol=1e-10)
    np.testing.assert_allclose(effects[["e=-2", "e=-1"]], 0.0, atol=1e-10)


def test_event_study_warns_about_a_last_period_holding_only_treated_units():
    frame = staggered_frame(never=True)
    frame = frame[~((frame["g"] == 0) & (frame["t"] == 8))]
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.warns(DesignWarning, match=r"period\(s\) 8 .* same in every cohort"):
        result = EventStudy(inference="cr1").fit(panel)
    post = result.effects["event_time"].ge(0) | result.effects["term"].eq("att")
    np.testing.assert_allclose(result.effects.loc[post, "estimate"], 1.0, atol=1e-10)


# ------------------------------------------------------- unbalanced staggered panels
def test_staggered_balances_an_unbalanced_panel_and_counts_the_dropped_units():
    frame = staggered_frame(never=True, seed=3)
    frame["y"] += 3.0 * frame["u"] ** 0.5 * frame["t"] / 8  # unit-specific drift
    rng = np.random.default_rng(5)
    dropped_rows = rng.choice(len(frame), 12, replace=False)
    unbalanced = frame.drop(index=dropped_rows)
    incomplete = unbalanced.groupby("u")["t"].size().lt(8)
    complete = unbalanced[unbalanced["u"].map(~incomplete)]
    panel = Panel.from_frame(unbalanced, unit="u", time="t", outcome="y", cohort="g")
    with pytest.warns(DataWarning, match=f"dropped {int(incomplete.sum())} unit"):
        result = StaggeredDiD(inference="analytic").fit(panel)
    assert result.settings["dropped_incomplete_units"] == int(incomplete.sum())
    assert result.settings["data"] == "panel"
    on_complete = StaggeredDiD(inference="analytic").fit(
        Panel.from_frame(complete, unit="u", time="t", outcome="y", cohort="g")
    )
    pd.testing.assert_frame_equal(result.effects, on_complete.effects)
    kept = StaggeredDiD(inference="analytic", allow_unbalanced_panel=True).fit(panel)
    assert kept.settings["data"] == "unbalanced_panel"
    assert kept.n_obs == len(unbalanced)


def test_staggered_balancing_that_leaves_no_comparison_raises():
    frame = staggered_frame(never=True)
    never_units = frame.loc[frame["g"] == 0, "u"].unique()
    gaps = frame["u"].isin(never_units) & (frame["t"] == 4)
    panel = Panel.from_frame(frame.loc[~gaps], unit="u", time="t", outcome="y", cohort="g")
    with pytest.raises(DesignError, match="allow_unbalanced_panel=True"):
        StaggeredDiD().fit(panel)


def test_allow_unbalanced_panel_must_be_a_bool():
    with pytest.raises(DesignError, match="allow_unbalanced_panel"):
        StaggeredDiD(allow_unbalanced_panel="yes")


# ------------------------------------------ noise-free additive data: the true effect
@st.composite
def additive_panels(draw, *, staggered: bool):
    """``y = a_i + l_t + effect * D_it`` with some cells missing (or none)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_periods = draw(st.integers(3, 7))
    balanced = draw(st.booleans())
    rng = np.random.default_rng(seed)
    effect = float(rng.normal(0, 3))
    if staggered:
        n_cohorts = int(rng.integers(1, min(3, n_periods - 1) + 1))
        cohorts = sorted(rng.choice(np.arange(2, n_periods + 1), n_cohorts, replace=False))
    else:
        cohorts = [int(rng.integers(2, n_periods + 1))]
    groups = [*cohorts, 0]
    per_group = int(rng.integers(3, 6))
    unit_effects = rng.normal(0, 5, per_group * len(groups))
    period_effects = rng.normal(0, 5, n_periods)
    rows = []
    for i, a in enumerate(unit_effects):
        g = int(groups[i // per_group])
        full = i % per_group == 0  # one unit of each group observed throughout
        for t in range(1, n_periods + 1):
            if not (balanced or full) and rng.random() < 0.3:
                continue
            d = int(g > 0 and t >= g)
            rows.append(dict(u=i, t=t, g=g, d=d, y=a + period_effects[t - 1] + effect * d))
    return pd.DataFrame(rows), effect


def _quiet(fit, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few clusters, zero residuals: not under test
        return fit(panel)


@settings(max_examples=25, deadline=None)
@given(additive_panels(staggered=False))
def test_did_recovers_the_effect_of_noise_free_additive_data(case):
    frame, effect = case
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")
    # the 2x2 design pools the periods before and after adoption: exact only when
    # every unit is observed in every period
    for design in ("twfe", "2x2") if panel.is_balanced else ("twfe",):
        result = _quiet(DifferenceInDifferences(design=design, inference="cr1").fit, panel)
        assert result.att.estimate == pytest.approx(effect, abs=1e-10 * (1 + abs(effect)))


@settings(max_examples=25, deadline=None)
@given(additive_panels(staggered=True))
def test_event_study_recovers_the_effect_of_noise_free_additive_data(case):
    frame, effect = case
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")
    result = _quiet(EventStudy(inference="cr1").fit, panel)
    effects = result.effects
    post = effects["event_time"].ge(0) | effects["term"].eq("att")
    tol = 1e-9 * (1 + abs(effect))
    np.testing.assert_allclose(effects.loc[post, "estimate"], effect, atol=tol)
    np.testing.assert_allclose(effects.loc[effects["event_time"].lt(0), "estimate"], 0, atol=tol)


@settings(max_examples=25, deadline=None)
@given(
    additive_panels(staggered=True),
    st.sampled_from(["never_treated", "not_yet_treated"]),
    st.sampled_from(["varying", "universal"]),
)
def test_staggered_did_recovers_the_effect_of_noise_free_additive_data(case, control, base):
    frame, effect = case
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")
    estimator = StaggeredDiD(inference="analytic", control=control, base_period=base)
    result = _quiet(estimator.fit, panel)
    tol = 1e-9 * (1 + abs(effect))
    cells = result.effects.query("term != 'att'")
    post = cells["post"].astype(bool)
    np.testing.assert_allclose(cells.loc[post, "estimate"], effect, atol=tol)
    np.testing.assert_allclose(cells.loc[~post, "estimate"], 0, atol=tol)
    assert result.att.estimate == pytest.approx(effect, abs=tol)
