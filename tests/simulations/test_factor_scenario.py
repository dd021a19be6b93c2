"""The factor-model (interactive fixed effects) option of Scenario and its one-council preset."""

from __future__ import annotations

import numpy as np
import pytest

import impact
from impact import Scenario
from impact.exceptions import DesignError


def test_one_council_preset():
    scenario = Scenario.one_council()
    assert scenario.n_units == 32 and scenario.n_treated == 1
    assert scenario.n_factors == 2 and scenario.selection == "factor"
    sim = impact.simulate(scenario, seed=3)
    assert len(sim.panel.treated_units) == 1
    assert float(sim.truth.set_index("term").loc["att", "truth"]) == 0.0


def test_untreated_outcomes_have_the_factor_structure():
    # no noise, no unit levels, no common trend: y0 = baseline + loadings @ factors
    scenario = Scenario(
        n_units=20,
        n_periods=10,
        n_factors=2,
        noise_sd=0.0,
        unit_sd=0.0,
        trend=0.0,
        baseline=5.0,
        effect=1.0,
    )
    sim = impact.simulate(scenario, seed=1)
    y0 = sim.data.pivot(index="unit", columns="time", values="y0").to_numpy()
    assert np.linalg.matrix_rank(y0 - 5.0, tol=1e-9) == 2
    without = impact.simulate(scenario.replace(n_factors=0), seed=1)
    assert (
        np.linalg.matrix_rank(
            without.data.pivot(index="unit", columns="time", values="y0").to_numpy(), tol=1e-9
        )
        == 1
    )


def test_selection_on_the_factor_picks_high_loadings():
    # the drifting first factor: units chosen for their loading rise faster
    scenario = Scenario.one_council(noise_sd=0.0, n_units=32, selection_strength=5.0)
    rises = []
    for seed in range(20):
        sim = impact.simulate(scenario, seed=seed)
        y0 = sim.data.pivot(index="unit", columns="time", values="y0")
        change = y0.iloc[:, -1] - y0.iloc[:, 0]
        treated = sim.panel.treated_units[0]
        rises.append(change[treated] - change.drop(treated).mean())
    assert np.mean(rises) > 0


def test_same_seed_same_data():
    a = impact.simulate(Scenario.one_council(), seed=9).data
    b = impact.simulate(Scenario.one_council(), seed=9).data
    assert a.equals(b)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_factors": -1}, "n_factors"),
        ({"factor_sd": -0.5, "n_factors": 1}, "factor_sd"),
        ({"selection": "factor"}, "n_factors"),
        ({"n_factors": 1.5}, "n_factors"),
    ],
)
def test_bad_factor_settings(changes, match):
    with pytest.raises(DesignError, match=match):
        Scenario(**changes)
