"""Pooled ITS and matched designs: tables built on demand and shared designs stay right.

The pooled interrupted time series and the matched designs build their paths (and some
diagnostics) when first read, the ITS shares one segmented design between fits, and the
matched DiD reshapes a balanced panel's outcomes instead of pivoting them. These tests
check the tables against direct computations and the shared parts against mix-ups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import InterruptedTimeSeries, MatchedDiD, Panel
from impact.estimators.matching._data import unit_data
from impact.simulations import Scenario, simulate


@pytest.fixture(scope="module")
def school_panel() -> Panel:
    return simulate(Scenario.scottish_schools(), seed=4).panel


def test_pooled_its_paths_are_the_treated_mean_and_the_model_effect(school_panel):
    result = InterruptedTimeSeries().fit(school_panel)
    frame = school_panel.frame
    treated = frame[school_panel.unit].isin(school_panel.treated_units)
    mean = frame.loc[treated].groupby(school_panel.time)[school_panel.outcome].mean()
    paths = result.paths
    np.testing.assert_allclose(paths["observed"], mean.to_numpy(), rtol=1e-12)
    coefficients = result.diagnostics["coefficients"].set_index("term")["estimate"]
    post = paths["time"].to_numpy() >= school_panel.cohorts[0]
    since = np.cumsum(post) - 1  # periods since the interruption (no phase-in)
    model = coefficients["level_change"] * post + coefficients["slope_change"] * np.maximum(
        since, 0
    )
    np.testing.assert_allclose(paths["effect"], model, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(paths["counterfactual"], paths["observed"] - paths["effect"])
    assert set(result.diagnostics) == {"coefficients", "unit_effects"}
    units = result.diagnostics["unit_effects"]["unit"]
    assert sorted(units) == sorted(school_panel.treated_units)


def test_pooled_its_designs_shared_between_fits_follow_the_options(school_panel):
    plain = InterruptedTimeSeries().fit(school_panel)
    phased = InterruptedTimeSeries(phase_in=1).fit(school_panel)
    again = InterruptedTimeSeries().fit(school_panel)
    assert plain.paths["in_fit"].all()
    assert (~phased.paths["in_fit"]).sum() == 1  # the phase-in period is left out
    pd.testing.assert_frame_equal(plain.effects, again.effects)
    pd.testing.assert_frame_equal(plain.paths, again.paths)
    assert not plain.effects.equals(phased.effects)
    # the shared design is read only: a result's table is the result's own copy
    paths = plain.paths
    paths.loc[0, "in_fit"] = False
    assert again.paths["in_fit"].all()


def _balanced_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units, periods = np.arange(40), np.arange(2010, 2016)
    frame = pd.DataFrame(
        {
            "u": np.repeat(units, len(periods)),
            "t": np.tile(periods, len(units)),
        }
    )
    frame["y"] = rng.normal(size=len(frame)).round(1)
    frame.loc[[3, 7], "y"] = -0.0  # negative zeros, which the pivot's cell means keep
    frame["d"] = ((frame["u"] < 12) & (frame["t"] >= 2014)).astype(int)
    return frame


@pytest.mark.parametrize("shuffle", [False, True])
def test_matching_pre_outcomes_equal_the_pivot_of_the_panel(shuffle):
    frame = _balanced_frame()
    if shuffle:  # the Panel sorts its rows: the order of the input does not matter
        frame = frame.sample(frac=1.0, random_state=1)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    data = unit_data(panel, pre_outcomes=3, design="matched DiD")
    view = panel.view()  # the pivot of the Panel's rows, as the general path computes it
    pre = view[view["t"] < 2014]
    pivot = pre.pivot_table(index="u", columns="t", values="y", aggfunc="mean")
    for period in (2011, 2012, 2013):
        column = data.raw[f"y[{period}]"].to_numpy()
        expected = pivot[period].reindex(data.units).to_numpy()
        assert column.tobytes() == expected.tobytes()  # bit for bit, signs of zeros too
    assert "y[2010]" not in data.raw


def test_matched_did_paths_are_weighted_means_of_the_matched_units():
    frame = _balanced_frame(seed=2)
    frame["y"] += np.where(frame["d"] == 1, 1.0, 0.0)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    result = MatchedDiD(pre_periods=2).fit(panel)
    matches = result.diagnostics["matches"].set_index("unit")
    weight = frame["u"].map(matches["weight"])
    treated = frame["u"].map(matches["treated"])
    for group, column in ((False, "control"), (True, "observed")):
        rows = frame[(treated == group) & (weight > 0)]
        w = weight[rows.index]
        expected = (rows["y"] * w).groupby(rows["t"]).sum() / w.groupby(rows["t"]).sum()
        np.testing.assert_allclose(result.paths[column], expected.to_numpy(), rtol=1e-12)
    assert result.effects["term"].tolist()[0] == "att"
    assert impact.get_estimator("matched_did").fit(panel).paths is not None


def test_a_fit_changing_its_design_leaves_the_shared_one_alone():
    its = InterruptedTimeSeries()
    times = pd.Index(range(2001, 2013))
    first = its.design_for(times, [2007])
    columns = list(first.X.columns)
    first.X["extra"] = 1.0  # a caller adding a column to its own design
    first.counterfactual["extra"] = 1.0
    again = its.design_for(times, [2007])
    assert list(again.X.columns) == columns
    assert list(again.counterfactual.columns) == columns
    with pytest.raises(ValueError):
        again.keep[0] = not again.keep[0]  # the shared arrays are read-only
