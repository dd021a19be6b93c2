"""Plots of staggered designs draw without error and mark what they should."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from impact import DesignError, EventStudy, Panel, StaggeredDiD
from impact.diagnostics import bacon_decomposition
from impact.plotting.staggered import plot_bacon, plot_event_study, plot_group_time
from tests.estimators.staggered_data import make_staggered_frame


@pytest.fixture(scope="module")
def panel():
    frame = make_staggered_frame(n_units=60, cohorts=(2, 5), seed=0)
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort")


def test_event_study_plot_of_staggered_result_with_uniform_band(panel):
    result = StaggeredDiD(bootstrap=True, n_boot=199, seed=1).fit(panel)
    ax = plot_event_study(result)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "uniform band" in labels and "adoption" in labels
    plt.close("all")


def test_event_study_plot_marks_the_reference_period(panel):
    ax = EventStudy().fit(panel).plot(kind="event_study")
    assert "reference" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close("all")


def test_group_time_and_bacon_plots(panel):
    result = StaggeredDiD().fit(panel)
    ax = result.plot(kind="group_time")
    assert len(ax.get_legend().get_texts()) == 2
    ax = plot_group_time(result)
    ax = plot_bacon(bacon_decomposition(panel))
    assert ax.get_xlabel() == "weight"
    ax = bacon_decomposition(panel).plot()
    plt.close("all")


def test_event_study_plot_needs_event_times(panel):
    result = StaggeredDiD().fit(panel).aggregate("group")
    with pytest.raises(DesignError, match="event times"):
        plot_event_study(result)
