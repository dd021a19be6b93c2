"""Scenario subgroups: effects by subgroup, drawn within schools, other draws unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from impact.exceptions import DesignError
from impact.simulations import Scenario, simulate

# sum of y for seed 11, printed by the package before subgroups were added to Scenario
PRESET_SUMS = {
    "scottish_schools": 149763.27342596368,
    "selected_on_trend": 43081.719959140835,
    "small_pilot": 1180.0,
    "staggered_rollout": 86238.81617753892,
}


@pytest.mark.parametrize("name", sorted(PRESET_SUMS))
def test_presets_draw_what_they_drew_before(name):
    sim = simulate(Scenario.presets()[name], seed=11)
    assert float(sim.data["y"].sum()) == pytest.approx(PRESET_SUMS[name], rel=1e-12)


@pytest.mark.parametrize("follow", [False, True])
def test_pupil_subgroups_get_their_effect_and_leave_other_draws_alone(follow):
    base = Scenario(
        n_units=30,
        n_periods=4,
        adoption_period=3,
        pupils_per_unit=20,
        effect=0.5,
        follow_pupils=follow,
    )
    plain = simulate(base, seed=5).data
    sub = simulate(base.replace(subgroup_share=0.2, subgroup_effect=3.0), seed=5).data
    np.testing.assert_array_equal(plain["y0"], sub["y0"])
    treated = sub["treated"] == 1
    in_group = sub["subgroup"] == 1
    assert set(sub.loc[treated & in_group, "tau"]) == {3.0}
    assert set(sub.loc[treated & ~in_group, "tau"]) == {0.5}
    # drawn within schools: every school has pupils in and out of the subgroup
    shares = sub.groupby("unit")["subgroup"].mean()
    assert 0.1 < shares.mean() < 0.3 and (shares > 0).all() and (shares < 1).all()
    if follow:  # a followed pupil keeps its subgroup
        assert (sub.groupby("pupil")["subgroup"].nunique() == 1).all()


def test_school_level_subgroups_and_checks():
    sc = Scenario(
        n_units=40, n_periods=4, adoption_period=3, subgroup_share=0.3, subgroup_effect=2.0
    )
    data = simulate(sc, seed=2).data
    assert (data.groupby("unit")["subgroup"].nunique() == 1).all()
    with pytest.raises(DesignError, match="subgroup_share"):
        Scenario(subgroup_share=1.5)
