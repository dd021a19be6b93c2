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
    # between the last period before (2003) and the first under the programme (2004),
    # where the demo's trends figure and the event-study plot draw it too
    assert ax.lines[2].get_xdata()[0] == 2003.5
    assert ax.lines[2].get_label() == "programme starts"
    plt.close(fig)


def test_axes_carry_the_users_column_names(did_frame):
    frame = did_frame.rename(columns={"time": "year", "y": "score", "unit": "school"})
    panel = impact.Panel.from_frame(frame, unit="school", time="year", outcome="score", treated="d")
    result = impact.DifferenceInDifferences().fit(panel)
    assert result.settings["columns"] == {"unit": "school", "time": "year", "outcome": "score"}
    assert list(result.paths.columns[:4]) == ["time", "observed", "counterfactual", "effect"]
    ax = result.plot("paths")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("year", "score")
    assert ax.figure.get_layout_engine() is not None  # constrained: nothing cut off on save
    plt.close(ax.figure)
    its = impact.InterruptedTimeSeries().fit(panel)
    ax = its.plot("its")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("year", "score")
    plt.close(ax.figure)


def test_balance_legend_says_before_and_after_matching(did_frame):
    panel = impact.Panel.from_frame(
        did_frame.assign(x=did_frame["unit"] % 3),
        unit="unit", time="time", outcome="y", treated="d", covariates=["x"],
    )  # fmt: skip
    result = impact.MatchedDiD().fit(panel)
    ax = result.plot("balance")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["before matching", "after matching"]
    fig = ax.figure
    fig.canvas.draw()
    # constrained layout: the covariate labels lie inside the saved figure
    box = ax.get_tightbbox(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.y0 >= 0
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
