import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from impact import DataError, DataWarning, Panel

ROLES = {"unit": "unit", "time": "time", "outcome": "y", "treated": "d"}


def build(frame, **kwargs):
    roles = {**ROLES, **kwargs}
    return Panel.from_frame(frame, **roles)


def test_valid_panel_and_derived_attributes(did_frame):
    original = did_frame.copy()
    panel = build(did_frame, covariates=["x"])
    assert_frame_equal(did_frame, original)
    assert panel.n_obs == 240
    assert panel.n_units == 40
    assert panel.n_periods == 6
    assert panel.is_balanced
    assert not panel.is_repeated_cross_section
    assert not panel.is_cross_section
    assert list(panel.cohorts) == [2004]
    assert list(panel.treated_units) == list(range(20))
    assert list(panel.never_treated_units) == list(range(20, 40))
    assert panel.cohort.loc[0] == 2004 and np.isnan(panel.cohort.loc[39])
    wide = panel.wide()
    assert wide.shape == (6, 40)
    assert wide.loc[2001, 3] == did_frame.query("unit == 3 and time == 2001")["y"].item()
    assert panel.n_clusters == 40


def test_panel_is_immutable_and_frame_is_a_copy(did_frame):
    panel = build(did_frame)
    with pytest.raises(AttributeError):
        panel.outcome = "x"
    frame = panel.frame
    frame.loc[0, "y"] = 1e9
    assert panel.frame.loc[0, "y"] != 1e9
    with pytest.raises(TypeError):
        Panel()


def test_cohort_column_equivalent_to_treated(did_frame):
    frame = did_frame.copy()
    frame["first"] = np.where(frame["unit"] < 20, 2004, 0)
    original = frame.copy()
    a = build(did_frame)
    b = Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="first")
    assert_frame_equal(frame, original)
    assert b.cohort_column == "first"
    np.testing.assert_array_equal(a.frame["d"], b.frame[b.treated])
    assert list(b.cohorts) == [2004]
    frame["first"] = np.where(frame["unit"] < 20, 2004, np.nan)
    c = Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="first")
    assert list(c.never_treated_units) == list(range(20, 40))


def test_datetime_time_is_accepted(did_frame):
    frame = did_frame.copy()
    frame["time"] = pd.to_datetime(frame["time"].astype(str) + "-09-01")
    panel = build(frame)
    assert panel.cohorts[0] == pd.Timestamp("2004-09-01")


def test_cross_section_is_a_valid_panel():
    frame = pd.DataFrame(
        {"unit": range(6), "time": 1, "y": np.arange(6.0), "d": [1, 1, 0, 0, 0, 0]}
    )
    panel = build(frame)
    assert panel.is_cross_section
    assert list(panel.treated_units) == [0, 1]


def test_repeated_cross_section_is_detected():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(6), 20),
            "time": np.tile(np.repeat([1, 2], 10), 6),
        }
    )
    frame["pupil"] = np.arange(len(frame))
    frame["d"] = ((frame["unit"] < 3) & (frame["time"] == 2)).astype(int)
    frame["y"] = rng.normal(size=len(frame))
    panel = build(frame)
    assert panel.is_repeated_cross_section
    assert panel.is_balanced
    assert panel.n_clusters == 6


# ---------------------------------------------------------------- one test per DataError
def test_missing_columns_are_named(did_frame):
    with pytest.raises(DataError, match="'score'"):
        build(did_frame, outcome="score")
    with pytest.raises(DataError, match="'age'"):
        build(did_frame, covariates=["age"])


def test_exactly_one_of_treated_and_cohort(did_frame):
    with pytest.raises(DataError, match="exactly one"):
        Panel.from_frame(did_frame, unit="unit", time="time", outcome="y")
    with pytest.raises(DataError, match="exactly one"):
        Panel.from_frame(did_frame, unit="unit", time="time", outcome="y", treated="d", cohort="d")


def test_non_numeric_outcome(did_frame):
    frame = did_frame.assign(y=did_frame["y"].astype(str))
    frame.loc[3, "y"] = "n/a"
    with pytest.raises(DataError, match="outcome column 'y' must be numeric"):
        build(frame)


def test_nan_outcome_errors_by_default(did_frame):
    frame = did_frame.copy()
    frame.loc[[4, 7], "y"] = [np.nan, np.inf]
    with pytest.raises(DataError, match="'y' has 2 missing or infinite"):
        build(frame)


def test_nan_outcome_dropped_with_warning(did_frame):
    frame = did_frame.copy()
    frame.loc[[4, 7], "y"] = np.nan
    with pytest.warns(DataWarning, match="dropped 2 row"):
        panel = build(frame, dropna=True)
    assert panel.n_obs == len(frame) - 2
    assert not panel.is_balanced


def test_text_time_column(did_frame):
    frame = did_frame.assign(time=did_frame["time"].astype(str) + "/yr")
    with pytest.raises(DataError, match="time column 'time' must be numeric"):
        build(frame)


def test_duplicated_unit_period_rows(did_frame):
    frame = pd.concat([did_frame, did_frame.iloc[[5]]], ignore_index=True)
    with pytest.raises(DataError, match=r"\('unit', 'time'\)"):
        build(frame)
    with pytest.raises(DataError, match="more than one row"):
        build(frame, repeated_cross_section=False)


def test_treated_values_other_than_zero_one(did_frame):
    frame = did_frame.copy()
    frame.loc[2, "d"] = 2
    with pytest.raises(DataError, match="treated column 'd' must hold only 0 and 1, found 2"):
        build(frame)
    frame = did_frame.assign(d=np.where(did_frame["d"] == 1, "yes", "no"))
    with pytest.raises(DataError, match="treated column 'd'"):
        build(frame)


def test_non_absorbing_treatment(did_frame):
    frame = did_frame.copy()
    frame.loc[(frame["unit"] == 0) & (frame["time"] == 2006), "d"] = 0
    with pytest.raises(DataError, match=r"switches from 1 back to 0 for unit.*0"):
        build(frame)
    panel = build(frame, absorbing=False)
    assert not panel.absorbing


def test_treated_differs_within_unit_period():
    frame = pd.DataFrame(
        {
            "unit": np.repeat([1, 2, 3], 8),
            "time": np.tile(np.repeat([1, 2], 4), 3),
            "y": np.arange(24.0),
        }
    )
    frame["d"] = ((frame["unit"] == 1) & (frame["time"] == 2)).astype(int)
    frame.loc[7, "d"] = 0
    with pytest.raises(DataError, match="differs between rows of the same unit-period"):
        build(frame)


def test_cohort_value_not_observed(did_frame):
    frame = did_frame.assign(first=np.where(did_frame["unit"] < 20, 2010, 0))
    with pytest.raises(DataError, match=r"cohort column 'first' holds value.*2010"):
        Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="first")


def test_cohort_varies_within_unit(did_frame):
    frame = did_frame.assign(first=np.where(did_frame["unit"] < 20, 2004, 0))
    frame.loc[0, "first"] = 2003
    with pytest.raises(DataError, match="cohort column 'first' varies within unit"):
        Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="first")


def test_empty_frame(did_frame):
    with pytest.raises(DataError, match="empty"):
        build(did_frame.iloc[:0])


def test_one_unit_only(did_frame):
    with pytest.raises(DataError, match="unit column 'unit' holds a single unit"):
        build(did_frame[did_frame["unit"] == 0])


def test_covariate_with_nan(did_frame):
    frame = did_frame.copy()
    frame.loc[9, "x"] = np.nan
    with pytest.raises(DataError, match="covariate 'x' has missing values in rows 9"):
        build(frame, covariates=["x"])


def test_constant_covariate(did_frame):
    frame = did_frame.assign(c=1.0)
    with pytest.raises(DataError, match="covariate 'c' is constant"):
        build(frame, covariates=["c"])


def test_missing_unit_and_time_values(did_frame):
    frame = did_frame.astype({"unit": float, "time": float})
    frame.loc[1, "unit"] = np.nan
    with pytest.raises(DataError, match="unit column 'unit' has missing"):
        build(frame)
    frame = did_frame.astype({"time": float})
    frame.loc[1, "time"] = np.nan
    with pytest.raises(DataError, match="time column 'time' has missing"):
        build(frame)


def test_bad_weights(did_frame):
    frame = did_frame.assign(w=1.0)
    frame.loc[0, "w"] = -1
    with pytest.raises(DataError, match="weights column 'w'"):
        build(frame, weights="w")


def test_missing_cluster_values(did_frame):
    frame = did_frame.assign(school=(did_frame["unit"] // 2).astype(float))
    frame.loc[0, "school"] = np.nan
    with pytest.raises(DataError, match="cluster column 'school'"):
        build(frame, cluster="school")


def test_outcome_cannot_be_covariate(did_frame):
    with pytest.raises(DataError, match="'y' is the outcome"):
        build(did_frame, covariates=["y"])


def test_not_a_dataframe():
    with pytest.raises(DataError, match="DataFrame"):
        Panel.from_frame({"a": [1]}, unit="a", time="a", outcome="a", treated="a")


def test_categorical_covariates_are_one_hot_encoded(did_frame):
    frame = did_frame.assign(region=np.where(did_frame["unit"] % 3 == 0, "north", "south"))
    panel = build(frame, covariates=["x", "region"])
    matrix = panel.covariate_matrix()
    assert list(matrix.columns) == ["x", "region[south]"]
    assert matrix.dtypes.eq(float).all()


def test_unit_column_mixing_unorderable_types(did_frame):
    df = did_frame.astype({"unit": object})
    df.loc[df["unit"] == 0, "unit"] = "zero"
    with pytest.raises(DataError, match="unit column 'unit' mixes value types \\(int, str\\)"):
        Panel.from_frame(df, unit="unit", time="time", outcome="y", treated="d")


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "boolean"])
def test_treated_with_nullable_missing_values(did_frame, dtype):
    df = did_frame.astype({"d": dtype})
    df.loc[5, "d"] = pd.NA
    with pytest.raises(DataError, match="treated column 'd' has missing values in rows 5"):
        Panel.from_frame(df, unit="unit", time="time", outcome="y", treated="d")


def test_infinite_time_values(did_frame):
    df = did_frame.astype({"time": float})
    df.loc[3, "time"] = np.inf
    with pytest.raises(DataError, match="time column 'time' has infinite values in rows 3"):
        Panel.from_frame(df, unit="unit", time="time", outcome="y", treated="d")


def test_multiindex_columns_and_duplicated_column_names(did_frame):
    kw = dict(unit="unit", time="time", outcome="y", treated="d")
    nested = did_frame.set_axis(pd.MultiIndex.from_product([did_frame.columns, [""]]), axis=1)
    with pytest.raises(DataError, match="several levels of column labels"):
        Panel.from_frame(nested, **kw)
    doubled = pd.concat([did_frame, did_frame[["y"]]], axis=1)
    with pytest.raises(DataError, match="column name\\(s\\) 'y' appear more than once"):
        Panel.from_frame(doubled, **kw)


def test_columns_in_the_index_are_pointed_at(did_frame):
    indexed = did_frame.set_index(["unit", "time"])
    with pytest.raises(DataError, match=r"index levels: call df\.reset_index"):
        Panel.from_frame(indexed, unit="unit", time="time", outcome="y", treated="d")


def test_object_covariates_holding_numbers(did_frame):
    kw = dict(unit="unit", time="time", outcome="y", treated="d", covariates=["x"])
    numbers = did_frame.astype({"x": object})
    with pytest.raises(DataError, match="covariate 'x' holds numbers in an object column"):
        Panel.from_frame(numbers, **kw)
    mixed = numbers.copy()
    mixed.loc[5, "x"] = "abc"
    with pytest.raises(DataError, match="covariate 'x' mixes value types \\(float, str\\)"):
        Panel.from_frame(mixed, **kw)


def test_constant_covariate_value_shown_plainly(did_frame):
    df = did_frame.assign(c=1.0)
    with pytest.raises(DataError, match=r"\(1\.0 in every row\)"):
        Panel.from_frame(df, unit="unit", time="time", outcome="y", treated="d", covariates=["c"])


@pytest.mark.parametrize("group", ["ever-treated", "never-treated"])
def test_weights_zero_for_a_whole_group(did_frame, group):
    treated_unit = did_frame.groupby("unit")["d"].transform("max") == 1
    zero = treated_unit if group == "ever-treated" else ~treated_unit
    df = did_frame.assign(w=np.where(zero, 0.0, 1.0))
    with pytest.raises(DataError, match=f"'w' is zero for every {group} unit"):
        Panel.from_frame(df, unit="unit", time="time", outcome="y", treated="d", weights="w")


@pytest.mark.parametrize("column", ["y", "x"])
def test_values_whose_squares_overflow(did_frame, column):
    df = did_frame.assign(**{column: did_frame[column] * 1e300})
    kw = dict(unit="unit", time="time", outcome="y", treated="d", covariates=["x"])
    with pytest.raises(DataError, match=r"holds values as large as .*e\+300.*rescale it"):
        Panel.from_frame(df, **kw)
