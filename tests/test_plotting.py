import matplotlib.pyplot as plt
import pytest

import impact
from impact import DesignError, plotting


@pytest.fixture
def result(did_frame):
    panel = impact.Panel.from_frame(did_frame, unit="unit", time="time", outcome="y", treated="d")
    return impact.DifferenceInDifferences().fit(panel)


def test_plot_paths_returns_axes_and_marks_intervention(result):
    fig, ax = plt.subplots()
    out = result.plot("paths", ax=ax)
    assert out is ax
    assert len(ax.lines) == 3  # observed, counterfactual, intervention line
    assert ax.lines[2].get_xdata()[0] == 2004
    plt.close(fig)


def test_plot_effects(result):
    ax = plotting.plot_effects(result)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["att"]
    plt.close(ax.figure)


def test_unknown_kind_and_missing_paths(result):
    with pytest.raises(DesignError, match="unknown plot kind"):
        result.plot("nope")
    bare = impact.ImpactResult(estimator="x", effects=result.effects, n_obs=1, n_units=1)
    with pytest.raises(DesignError, match="no paths"):
        bare.plot("paths")
