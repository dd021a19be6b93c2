"""Panel.wide places the column by the Panel's codes: the table pivot_table gives."""

import numpy as np
import pandas as pd
import pytest

from impact import Panel
from impact.simulations import Scenario, simulate


def _pivot(panel, values=None):
    return panel.frame.pivot_table(
        index=panel.time, columns=panel.unit, values=values or panel.outcome, aggfunc="mean"
    )


@pytest.mark.parametrize("name", sorted(Scenario.presets()))
def test_wide_equals_pivot_table_on_presets(name):
    panel = simulate(Scenario.presets()[name], seed=4).panel
    wide, pivot = panel.wide(), _pivot(panel)
    pd.testing.assert_frame_equal(wide, pivot, check_exact=True)
    # laid out alike: reductions across units add in the same order, to the last bit
    np.testing.assert_array_equal(wide.mean(axis=1).to_numpy(), pivot.mean(axis=1).to_numpy())


def test_wide_equals_pivot_table_unbalanced_dates_strings_and_integers():
    df = pd.DataFrame(
        {
            "u": ["b", "b", "a", "a", "c"],
            "t": pd.to_datetime(["2020-01-01", "2021-01-01"] * 2 + ["2021-01-01"]),
            "y": [1, 2, 3, 4, 5],
            "d": [0, 1, 0, 0, 0],
        }
    )
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    wide = panel.wide()
    pd.testing.assert_frame_equal(wide, _pivot(panel), check_exact=True)
    assert np.isnan(wide.loc[pd.Timestamp("2020-01-01"), "c"])
    assert wide.columns.tolist() == ["a", "b", "c"]


def test_wide_of_pupils_keeps_cell_means():
    scenario = Scenario.scottish_schools(n_units=12, pupils_per_unit=3, pupil_noise_sd=5.0)
    panel = simulate(scenario, seed=2).panel
    pd.testing.assert_frame_equal(panel.wide(), _pivot(panel), check_exact=True)
