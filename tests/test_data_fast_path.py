"""Panel's shortcuts (codes cached at construction, the cohort built from codes, no
reordering of sorted frames) give exactly the Panel of the general path."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_index_equal, assert_series_equal

import impact.panel._checks
import impact.panel.container
from impact import Panel


def random_frame(seed, n_units, n_periods, share_treated, float_time, shuffle):
    rng = np.random.default_rng(seed)
    unit = np.repeat(rng.choice(1000, n_units, replace=False), n_periods)
    time = np.tile(np.arange(2000, 2000 + n_periods), n_units)
    start = rng.integers(2001, 2000 + n_periods + 1, n_units)
    start[rng.random(n_units) >= share_treated] = 10_000  # never treated
    d = (time >= np.repeat(start, n_periods)).astype(int)
    frame = pd.DataFrame(
        {
            "unit": unit,
            "time": time.astype(float) if float_time else time,
            "y": rng.normal(size=len(unit)),
            "d": d,
        }
    )
    return frame.sample(frac=1.0, random_state=seed) if shuffle else frame


def general_path(frame):
    with pytest.MonkeyPatch.context() as m:
        # the fast path is taken where the Panel and its checks test for plain numbers
        m.setattr(impact.panel.container, "plain_numeric", lambda series: False)
        m.setattr(impact.panel._checks, "plain_numeric", lambda series: False)
        return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n_units=st.integers(2, 12),
    n_periods=st.integers(1, 5),
    share_treated=st.sampled_from([0.0, 0.5, 1.0]),
    float_time=st.booleans(),
    shuffle=st.booleans(),
)
def test_fast_panel_equals_general_path(
    seed, n_units, n_periods, share_treated, float_time, shuffle
):
    frame = random_frame(seed, n_units, n_periods, share_treated, float_time, shuffle)
    fast = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    slow = general_path(frame)
    assert_frame_equal(fast.frame, slow.frame)
    assert_series_equal(fast.cohort, slow.cohort)
    assert_index_equal(fast.treated_units, slow.treated_units)
    assert_index_equal(fast.periods, pd.Index(np.sort(pd.unique(frame["time"])), name="time"))
    assert_index_equal(
        fast.cohorts, pd.Index(np.sort(slow.cohort.dropna().unique()), name="cohort")
    )
    assert fast.n_periods == slow.n_periods == frame["time"].nunique()
    unit_codes, unit_levels, time_codes, time_levels = fast.codes()
    expected_units, expected_unit_levels = pd.factorize(fast.frame["unit"], sort=True)
    expected_times, expected_time_levels = pd.factorize(fast.frame["time"], sort=True)
    np.testing.assert_array_equal(unit_codes, expected_units)
    np.testing.assert_array_equal(time_codes, expected_times)
    assert_index_equal(unit_levels, expected_unit_levels)
    assert_index_equal(time_levels, expected_time_levels)
    with pytest.raises(ValueError):
        unit_codes[0] = 1  # shared, read-only


def test_frame_with_exactly_the_panel_columns_is_copied():
    frame = random_frame(1, 5, 3, 0.5, False, False)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    frame.loc[0, "y"] = 99.0
    assert panel.frame.loc[0, "y"] != 99.0


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=30)
    | st.lists(st.integers(-5, 40), min_size=1, max_size=30)
    | st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30),
    presort=st.booleans(),
)
def test_sorted_codes_equal_pandas_factorize(values, presort):
    array = np.array(sorted(values) if presort else values)
    found = impact.panel._checks.sorted_codes(array)
    codes, levels = pd.factorize(array, sort=True)
    if found is None:  # no shortcut applies: only unsorted floats or wide integer ranges
        assert not presort
        return
    np.testing.assert_array_equal(found[0], codes)
    np.testing.assert_array_equal(found[1].to_numpy(), levels)
    if found[2] is not None:  # sorted values: the first row of each level
        np.testing.assert_array_equal(array[found[2]], levels)
        assert np.all(codes[found[2]] == np.arange(len(levels)))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n_units=st.integers(2, 12),
    n_periods=st.integers(2, 5),
    zero_for_never=st.booleans(),
    float_time=st.booleans(),
    shuffle=st.booleans(),
)
def test_fast_cohort_column_equals_general_path(
    seed, n_units, n_periods, zero_for_never, float_time, shuffle
):
    frame = random_frame(seed, n_units, n_periods, 0.5, float_time, shuffle)
    first = frame["time"].where(frame["d"] == 1).groupby(frame["unit"]).transform("min")
    frame["g"] = first.fillna(0) if zero_for_never else first
    frame = frame.drop(columns="d")
    kwargs = {"unit": "unit", "time": "time", "outcome": "y", "cohort": "g"}
    fast = Panel.from_frame(frame, **kwargs)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(impact.panel.container, "plain_numeric", lambda series: False)
        m.setattr(impact.panel._checks, "plain_numeric", lambda series: False)
        slow = Panel.from_frame(frame, **kwargs)
    assert_frame_equal(fast.frame, slow.frame)
    assert_series_equal(fast.cohort, slow.cohort)


@pytest.mark.parametrize(
    ("g", "message"),
    [
        ([2002, 2002, 2003, 2002], "varies within unit"),
        ([2009, 2009, 0, 0], "not observed periods"),
    ],
)
def test_fast_cohort_column_errors_name_the_fault(g, message):
    frame = pd.DataFrame({"unit": [1, 1, 2, 2], "time": [2002, 2003, 2002, 2003], "y": 1.0, "g": g})
    with pytest.raises(impact.exceptions.DataError, match=message):
        Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="g")


def test_panel_and_caller_frame_stay_independent():
    frame = random_frame(3, 6, 4, 0.5, False, False)
    frame["y"] = (frame["y"] * 10).round().astype(int)  # converted to float by the Panel
    first = frame["time"].where(frame["d"] == 1).groupby(frame["unit"]).transform("min")
    frame["g"] = first.fillna(0).astype(int)
    original = frame.copy(deep=True)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="g")
    assert_frame_equal(frame, original)  # no derived column, no cast reaches the caller
    before = panel.frame
    frame.loc[frame.index[0], "y"] = 10**6
    frame["g"] = 0
    assert_frame_equal(panel.frame, before)  # nor do the caller's later changes
