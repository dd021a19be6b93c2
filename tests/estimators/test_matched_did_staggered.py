"""MatchedDiD under staggered adoption: cohort-by-cohort matching, then StaggeredDiD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DesignError, MatchedDiD
from impact.simulations import Scenario, simulate

# improving schools chosen first (selection on their own trend, visible in their
# pre-programme outcomes); two cohorts, most schools never treated; true effect 1.0
SCENARIO = Scenario.staggered_rollout(
    n_units=400,
    n_periods=9,
    cohorts=((6, 0.1), (7, 0.1)),
    selection="trend",
    unit_trend_sd=0.5,
    selection_strength=1.0,
    noise_sd=0.2,
    effect=1.0,
    profile="constant",
)


@pytest.fixture(scope="module")
def sim():
    return simulate(SCENARIO, seed=0)


@pytest.fixture(scope="module")
def matched(sim):
    return MatchedDiD(pre_periods=5).fit(sim.panel)


def test_recovers_the_truth_where_staggered_did_is_biased(sim, matched):
    truth = float(sim.truth.set_index("term")["truth"]["att"])
    plain = impact.StaggeredDiD().fit(sim.panel).att
    assert plain.estimate - truth > 0.5  # parallel trends fail for the whole pool
    att = matched.att
    assert abs(att.estimate - truth) < 0.1 + 2 * att.std_error
    assert abs(att.estimate - truth) < abs(plain.estimate - truth) / 4
    assert att.ci_lower < truth < att.ci_upper or abs(att.estimate - truth) < 0.15


def test_result_is_a_staggered_result_with_cohort_cells(matched):
    effects = matched.effects
    cells = effects[effects["term"] != "att"]
    assert set(cells["group"]) == {2006, 2007}
    dynamic = matched.aggregate("dynamic").effects
    assert "e=0" in set(dynamic["term"])
    assert matched.settings["cohorts_matched"] == (2006, 2007)
    # pre-programme cells: no effect (matching on the lags lines the trends up)
    pre = cells[~cells["post"].astype(bool)]
    assert np.abs(pre["estimate"]).max() < 0.3


def test_clusters_are_matched_sets_linked_by_shared_units(matched):
    s = matched.settings
    assert 12 <= s["n_clusters"] <= s["n_matched_sets"]
    balance = matched.diagnostics["balance"]
    assert set(balance["cohort"]) == {2006, 2007}
    lags = balance[balance["covariate"].str.startswith("y[")]
    assert (lags["smd_after"].abs() < lags["smd_before"].abs()).all()


def test_not_yet_treated_controls_and_errors(sim):
    later = MatchedDiD(pre_periods=5, control="not_yet_treated").fit(sim.panel)
    assert later.settings["control"] == "not_yet_treated"
    assert np.isfinite(later.att.std_error)
    with pytest.raises(DesignError, match="influence functions"):
        MatchedDiD(inference="cr1").fit(sim.panel)


def test_panel_clusters_replace_the_matched_sets(sim, matched):
    p = sim.panel
    frame = p.frame.copy()
    frame["district"] = frame[p.unit].astype(int) // 25
    clustered = impact.Panel.from_frame(
        frame,
        unit=p.unit,
        time=p.time,
        outcome=p.outcome,
        treated=p.treated,
        cluster="district",
    )
    result = MatchedDiD(pre_periods=5).fit(clustered)
    assert result.att.estimate == pytest.approx(matched.att.estimate, rel=1e-10)
    assert 12 <= result.settings["n_clusters"] <= frame["district"].nunique()
    assert np.isfinite(result.att.std_error)
    assert result.att.std_error != pytest.approx(matched.att.std_error, rel=1e-6)


def test_datetime_periods_give_the_same_effects_as_years(sim):
    # the cohort column of datetime periods marks never-treated units with NaT, not 0
    # (this design used to refuse datetime periods outright)
    frame = sim.panel.frame
    dated = frame.assign(
        **{sim.panel.time: pd.to_datetime(frame[sim.panel.time].astype(str), format="%Y")}
    )
    panel = impact.Panel.from_frame(
        dated,
        unit=sim.panel.unit,
        time=sim.panel.time,
        outcome=sim.panel.outcome,
        treated=sim.panel.treated,
    )
    years = MatchedDiD(pre_periods=2).fit(sim.panel).effects
    dates = MatchedDiD(pre_periods=2).fit(panel).effects
    cols = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    np.testing.assert_allclose(dates[cols].to_numpy(), years[cols].to_numpy(), rtol=1e-10)
    assert set(dates["group"].dropna()) == {pd.Timestamp("2006"), pd.Timestamp("2007")}


# ---------------------------------------------------------------- unbalanced panels
def unbalanced_staggered_frame() -> pd.DataFrame:
    """Cohorts 4 and 6 and never-treated units; every fifth unit misses period 8."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(80):
        g = [0, 0, 4, 6][u % 4]
        a, x = rng.normal(), rng.normal()
        for t in range(1, 9):
            if u % 5 == 0 and t == 8:
                continue
            on = g > 0 and t >= g
            rows.append(dict(u=u, t=t, x=x, d=int(on), y=a + x + 0.3 * t + on + rng.normal()))
    return pd.DataFrame(rows)


def test_unbalanced_staggered_panel_is_balanced_before_matching() -> None:
    # StaggeredDiD balanced each cohort's matched units after matching: the incomplete
    # ones were dropped but their matched partners stayed, the balance and sample-size
    # tables described units not estimated on, and the DataWarning came once per cohort
    # advising allow_unbalanced_panel=True, which MatchedDiD refuses
    frame = unbalanced_staggered_frame()
    spec = dict(unit="u", time="t", outcome="y", treated="d", covariates=["x"])
    with pytest.warns(impact.DataWarning) as caught:
        result = MatchedDiD().fit(impact.Panel.from_frame(frame, **spec))
    balancing = [w for w in caught if "not observed in all" in str(w.message)]
    assert len(balancing) == 1
    message = str(balancing[0].message)
    assert "16 units of 'u' (8 treated, 8 comparison)" in message
    assert "before matching" in message
    assert "pass allow_unbalanced_panel" not in message  # not an option of MatchedDiD
    assert result.settings["dropped_incomplete_units"] == 16
    # the same fit as on the complete units alone: diagnostics describe the sample used
    complete = frame[frame.groupby("u")["t"].transform("size") == 8]
    expected = MatchedDiD().fit(impact.Panel.from_frame(complete, **spec))
    pd.testing.assert_frame_equal(result.effects, expected.effects)
    for name in ("balance", "sample_sizes", "matches"):
        pd.testing.assert_frame_equal(result.diagnostics[name], expected.diagnostics[name])
    sizes = result.diagnostics["sample_sizes"]
    all_rows = sizes[sizes["sample"] == "all"]
    assert all_rows["treated"].tolist() == [16.0, 16.0]
    assert all_rows["control"].tolist() == [32.0, 32.0]
    matched = result.diagnostics["matches"]
    assert not matched.loc[matched["matched"], "unit"].isin(frame["u"][frame["u"] % 5 == 0]).any()


def test_unbalanced_staggered_panel_without_complete_never_treated_units_says_what_to_do() -> None:
    frame = unbalanced_staggered_frame()
    never = frame["u"] % 4 < 2
    frame = frame[~(never & (frame["t"] == 1))]  # no never-treated unit observed in period 1
    panel = impact.Panel.from_frame(
        frame, unit="u", time="t", outcome="y", treated="d", covariates=["x"]
    )
    with pytest.raises(DesignError, match=r"no never-treated unit .* control='not_yet_treated'"):
        MatchedDiD().fit(panel)


@pytest.mark.parametrize("sds", [-1000, 1e5])
def test_cells_zero_by_construction_stay_undefined_under_a_shift(sds):
    """The pre-periods matched on give ATT(g, t) = 0 up to rounding; with the outcome
    shifted far from zero that rounding grew with the level and, at -1,000 SDs, passed the
    zero-SE rule as a standard error of 2e-11 (now the outcome enters the group-time
    estimation measured from its mean)."""
    import warnings

    from tests.test_metamorphic import Recipe, make_frame

    recipe = Recipe(
        n_units=21, n_periods=4, cohorts=(2, 3), share_treated=0.5, noise=0.5, effect=0.0,
        missing=0.0, seed=0,
    )  # fmt: skip
    frame = make_frame(recipe)

    def fit(y):
        panel = impact.Panel.from_frame(
            frame.assign(y=y), unit="unit", time="time", outcome="y", treated="d"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MatchedDiD().fit(panel).effects.set_index("term")

    base, moved = fit(frame["y"]), fit(frame["y"] + sds * frame["y"].std())
    assert base["std_error"].isna().equals(moved["std_error"].isna())
    np.testing.assert_allclose(moved["std_error"].dropna(), base["std_error"].dropna(), rtol=1e-6)
