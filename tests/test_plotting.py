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


@pytest.fixture
def matching_result():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": range(300), "t": 1, "x": rng.normal(size=300)})
    df["d"] = (rng.random(300) < 1 / (1 + np.exp(-df.x))).astype(int)
    df["y"] = df.x + df.d + rng.normal(size=300)
    panel = impact.Panel.from_frame(
        df, unit="id", time="t", outcome="y", treated="d", covariates=["x"]
    )
    return impact.MatchedComparison(replace=True).fit(panel)


def test_love_plot_and_overlap_plot(matching_result):
    ax = matching_result.plot("balance")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["distance", "x"]
    assert len(ax.collections) == 2  # before and after markers
    plt.close(ax.figure)
    ax = matching_result.plot("overlap")
    assert len(ax.patches) == 4  # all and matched, for each group
    plt.close(ax.figure)


def test_matching_plots_need_matching_diagnostics(result):
    with pytest.raises(DesignError, match="matching result"):
        result.plot("balance")
