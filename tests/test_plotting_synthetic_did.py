"""Plots of synthetic DiD results."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import impact
from impact.exceptions import DesignError


@pytest.fixture(scope="module")
def result():
    panel = impact.simulate(impact.Scenario.one_council(), seed=2).panel
    return impact.SyntheticDiD(replications=30).fit(panel)


@pytest.mark.parametrize("kind", ["synthdid", "sdid_unit_weights", "sdid_replicates", "paths"])
def test_each_kind_draws(result, kind):
    ax = result.plot(kind=kind)
    assert ax.get_title()
    assert ax.has_data()
    plt.close("all")


def test_time_weights_are_drawn_as_bars(result):
    ax = result.plot(kind="synthdid")
    n_pre = int((~result.paths["post"]).sum())
    assert len(ax.patches) == n_pre
    plt.close("all")


def test_other_results_are_refused(did_frame):
    panel = impact.Panel.from_frame(did_frame, unit="unit", time="time", outcome="y", treated="d")
    other = impact.DifferenceInDifferences().fit(panel)
    with pytest.raises(DesignError, match="SyntheticDiD"):
        other.plot(kind="synthdid")
