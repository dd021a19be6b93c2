"""Plots of synthetic control results draw what they should."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from impact import DesignError, Panel
from impact.estimators import DifferenceInDifferences, SyntheticControl
from tests.estimators.synthetic_data import make_factor_frame


@pytest.fixture(scope="module")
def result():
    frame = make_factor_frame(n_donors=10, n_periods=26, adoptions=(21,), noise=0.2, seed=2)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    return SyntheticControl().fit(panel)


def labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_trajectories_show_treated_and_synthetic(result):
    ax = result.plot(kind="trajectories")
    assert {"treated", "synthetic control", "programme starts"} <= set(labels(ax))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), result.paths["counterfactual"])
    plt.close("all")


def test_gaps_shade_the_conformal_intervals(result):
    ax = result.plot(kind="gaps")
    assert "conformal interval" in labels(ax)
    plt.close("all")


def test_unit_weights_sorted_with_largest_on_top(result):
    ax = result.plot(kind="unit_weights", top=3)
    bars = [p.get_width() for p in ax.patches]
    assert len(bars) == 3 and bars == sorted(bars)
    top = result.diagnostics["unit_weights"]["weight"].max()
    assert bars[-1] == pytest.approx(top)
    plt.close("all")


def test_placebo_gaps_draw_one_line_per_placebo(result):
    ax = result.plot(kind="placebo_gaps")
    # 10 placebos, the treated gap, two legend handles, the zero line, the start line
    assert len(ax.lines) == 10 + 1 + 2 + 2
    few = result.plot(kind="placebo_gaps", exclude_poor_fit=1.0)
    assert len(few.lines) < len(ax.lines)
    plt.close("all")


def test_other_results_are_refused():
    frame = make_factor_frame()
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    did = DifferenceInDifferences().fit(panel)
    with pytest.raises(DesignError, match="no 'placebo_gaps' diagnostics"):
        did.plot(kind="placebo_gaps")


def test_html_report_embeds_the_synthetic_control_plots(result, tmp_path):
    from impact.reports.result import write_report

    path = write_report(result, tmp_path / "report.html", plots=("trajectories", "placebo_gaps"))
    text = path.read_text(encoding="utf-8")
    assert "unit_weights" in text and "predictor_balance" in text
    assert text.count("<img") >= 2
    plt.close("all")
