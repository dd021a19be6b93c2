"""Appraisal plots: each kind draws on the given Axes and returns it."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from scipy import stats

from impact import DesignError, ImpactResult
from impact.economics import BenefitStream, CostStream, appraise
from impact.plotting.economics import APPRAISAL_PLOT_KINDS


@pytest.fixture
def appraisal():
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [-1.2],
            "std_error": [0.5],
            "ci_lower": [-2.2],
            "ci_upper": [-0.2],
            "p_value": [0.02],
        }
    )
    result = ImpactResult(estimator="hand", effects=effects, n_obs=50, n_units=25)
    return appraise(
        result,
        costs=[CostStream("workers", amount=stats.uniform(30_000, 10_000), duration=3)],
        benefits=[
            BenefitStream("provision", value=18_000, duration=2, bearer="education authority"),
            BenefitStream("families", value=stats.uniform(1_000, 3_000), bearer="families"),
        ],
        direction="decrease",
        effect_periods=3,
        horizon=20,
        n_draws=300,
        seed=0,
    )


@pytest.mark.parametrize("kind", sorted(APPRAISAL_PLOT_KINDS))
def test_every_kind_draws_on_given_axes(appraisal, kind):
    fig, ax = plt.subplots()
    out = appraisal.plot(kind, ax=ax)
    assert out is ax
    assert ax.get_title()
    assert ax.has_data()
    plt.close(fig)


def test_cash_flow_bars_match_present_values(appraisal):
    ax = appraisal.plot("cash_flow")
    heights = sorted(round(p.get_height(), 6) for p in ax.patches if p.get_height() < 0)
    costs = appraisal.cash_flows().query("kind == 'cost' and amount > 0")["present_value"]
    assert heights == sorted(round(-v, 6) for v in costs)
    plt.close(ax.figure)


def test_tornado_has_one_bar_per_uncertain_input(appraisal):
    ax = appraisal.plot("tornado")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == {"effect", "workers: amount", "families: value"}
    plt.close(ax.figure)


def test_unknown_kind_and_no_draws(appraisal):
    with pytest.raises(DesignError, match="ceac"):
        appraisal.plot("pie")
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [1.0],
            "std_error": [0.5],
            "ci_lower": [0.0],
            "ci_upper": [2.0],
            "p_value": [0.05],
        }
    )
    result = ImpactResult(estimator="hand", effects=effects, n_obs=5, n_units=5)
    bare = appraise(result, costs=[CostStream("c", amount=1.0)], benefits=[], horizon=2, n_draws=0)
    with pytest.raises(DesignError, match="n_draws"):
        bare.plot("npv")
