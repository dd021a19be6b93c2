"""Goodman-Bacon decomposition: its weighted 2x2 estimates reproduce TWFE exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact import DesignError, Panel
from impact.diagnostics import bacon_decomposition
from tests.estimators.staggered_data import make_staggered_frame


def panel_of(frame):
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort")


@settings(max_examples=15, deadline=None)
@given(
    cohorts=st.lists(st.integers(0, 6), min_size=1, max_size=4, unique=True),
    share_never=st.sampled_from([0.0, 0.2, 0.5]),
    n_units=st.integers(12, 60),
    seed=st.integers(0, 1000),
)
def test_weighted_comparisons_reproduce_the_twfe_coefficient(cohorts, share_never, n_units, seed):
    frame = make_staggered_frame(
        n_units=n_units, n_periods=7, cohorts=tuple(cohorts), share_never=share_never, seed=seed
    )
    panel = panel_of(frame)
    timings = set(frame.groupby("unit")["cohort"].first())
    first = frame["time"].min()
    switchers = {c for c in timings if c > first}  # units treated from the start never switch
    if len(timings) < 2 or not switchers:
        with pytest.raises(DesignError):
            bacon_decomposition(panel)
        return
    out = bacon_decomposition(panel)
    c = out.comparisons
    assert (c["weight"] >= -1e-12).all()
    assert c["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(out.twfe, abs=1e-8)


def test_comparison_types_and_a_hand_computed_2x2():
    frame = make_staggered_frame(n_units=90, n_periods=8, cohorts=(2, 5), seed=1)
    out = bacon_decomposition(panel_of(frame))
    c = out.comparisons.set_index(["type", "treated", "control"])
    assert set(out.comparisons["type"]) == {
        "treated vs never treated",
        "earlier vs later treated",
        "later vs earlier treated",
    }
    # later cohort (2006) against the earlier one (2003) after 2003: window 2003-2008
    means = frame.groupby(["cohort", "time"])["y"].mean().unstack()
    gap = means.loc[2006] - means.loc[2003]
    by_hand = gap.loc[2006:2008].mean() - gap.loc[2003:2005].mean()
    got = c.loc[("later vs earlier treated", 2006, 2003), "estimate"]
    assert got == pytest.approx(by_hand, abs=1e-12)
    # growing effects make the already-treated comparison negative
    assert got < 0
    summary = out.by_type()
    assert summary["weight"].sum() == pytest.approx(1.0)


def test_unbalanced_panel_is_a_design_error():
    frame = make_staggered_frame(n_units=30, seed=2).iloc[1:]
    with pytest.raises(DesignError, match="balanced"):
        bacon_decomposition(panel_of(frame))
