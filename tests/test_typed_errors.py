"""Typed errors where pandas or numpy used to crash or speak for the package.

Each case raised a pandas/numpy exception, or quoted row positions the caller never
saw, before these checks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import impact
from impact import DataError, DesignError, Panel
from impact.cli._io import read_table


def _cohort_frame(n_units: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for u in range(n_units):
        cohort = (2003, 2004, 0)[u % 3]
        for t in range(2001, 2006):
            d = cohort > 0 and t >= cohort
            rows.append((u, t, u + 0.1 * t + d + rng.normal(), cohort))
    return pd.DataFrame(rows, columns=["u", "t", "y", "g"])


# ---------------------------------------------------------------- categorical units
def test_categorical_units_with_unused_categories_and_a_cohort_column_fit():
    """Categories no row holds reached matched_did, which indexed with NaN codes
    (IndexError: arrays used as indices must be of integer type)."""
    frame = _cohort_frame()
    categorical = frame.assign(u=pd.Categorical(frame["u"], categories=range(40)))
    panel = Panel.from_frame(categorical, unit="u", time="t", outcome="y", cohort="g")
    plain = Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")
    assert panel.n_units == 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = impact.estimate(panel, method="matched_did").att
        want = impact.estimate(plain, method="matched_did").att
    assert got.estimate == pytest.approx(want.estimate, rel=1e-9)
    assert categorical["u"].cat.categories.tolist() == list(range(40))  # caller's frame kept


@pytest.mark.parametrize("method", ["staggered_did", "matched_did"])
def test_categories_in_another_order_than_the_values_give_the_plain_answer(method):
    """Categories s0, s1, ..., s11 sort unlike their values (s1 < s10 < s2): units were
    looked up by sorted value in an index in category order, so an unbalanced panel
    crashed (IndexError: index 12 is out of bounds) or misread the units."""
    frame = _cohort_frame(12).drop(index=3)  # unbalanced
    labels = frame["u"].map(lambda u: f"s{u}")
    categorical = frame.assign(u=pd.Categorical(labels, categories=[f"s{u}" for u in range(12)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = impact.estimate(
            Panel.from_frame(categorical, unit="u", time="t", outcome="y", cohort="g"),
            method=method,
        )
        want = impact.estimate(
            Panel.from_frame(frame.assign(u=labels), unit="u", time="t", outcome="y", cohort="g"),
            method=method,
        )
    assert got.att.estimate == pytest.approx(want.att.estimate, rel=1e-9)
    assert got.att.std_error == pytest.approx(want.att.std_error, rel=1e-9)


# ---------------------------------------------------------------- datetime cohorts
def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(t=pd.to_datetime(frame["t"].astype(str) + "-01-01"))


def test_datetime_periods_with_a_zero_cohort_for_every_unit():
    """A numeric 0 cohort (never treated) with datetime periods raised pandas'
    'Invalid comparison between dtype=datetime64 and ndarray' TypeError."""
    frame = _dated(_cohort_frame(6)).assign(g=0)
    panel = Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")
    assert len(panel.treated_units) == 0
    assert panel.cohort.isna().all()


@pytest.mark.parametrize("never", [0, 0.0])
def test_datetime_periods_with_numeric_cohorts_say_to_use_dates(never):
    frame = _dated(_cohort_frame(6))
    frame["g"] = frame["g"].replace(0, never)
    with pytest.raises(DataError, match=r"cohort column 'g' must hold periods .*\(dates"):
        Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")


def test_datetime_periods_with_zero_and_dates_in_the_cohort_column_say_use_nat():
    frame = _dated(_cohort_frame(6))
    frame["g"] = [pd.Timestamp(f"{g}-01-01") if g else 0 for g in frame["g"]]
    with pytest.raises(DataError, match="NaT, not 0"):
        Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")


def test_datetime_cohorts_with_numeric_periods_are_a_data_error():
    frame = _cohort_frame(6)
    frame["g"] = pd.to_datetime([f"{g}-01-01" if g else None for g in frame["g"]])
    with pytest.raises(DataError, match=r"cohort column 'g' must hold periods .*\(numbers"):
        Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")


# ---------------------------------------------------------------- seeds
SEEDED = [
    name
    for name in impact.available_estimators()
    if "seed" in type(impact.get_estimator(name)).__dataclass_fields__
]


@pytest.mark.parametrize("name", SEEDED)
@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_a_bad_seed_is_a_design_error_on_every_estimator(name, seed):
    """Negative seeds reached numpy.random.default_rng at fit time (ValueError)."""
    cls = type(impact.get_estimator(name))
    with pytest.raises(DesignError, match=r"seed=.* must be a non-negative integer"):
        cls(seed=seed)


@pytest.mark.parametrize("seed", [None, 0, 2**40, np.int64(3), np.random.default_rng(1)])
def test_good_seeds_pass(seed):
    from impact.estimators._base import check_seed

    check_seed(seed)
    impact.DifferenceInDifferences(seed=seed)


# ---------------------------------------------------------------- the caller's labels
@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("y", np.nan, r"outcome column 'y' has 1 missing .* in rows 'row-c'"),
        ("x", np.nan, r"covariate 'x' has missing values in rows 'row-c'"),
        ("d", np.nan, r"treated column 'd' has missing values in rows 'row-c'"),
        ("t", np.nan, r"time column 't' has missing values in rows 'row-c'"),
    ],
)
def test_errors_quote_the_callers_index_labels(column, value, match):
    frame = pd.DataFrame(
        {
            "u": [1, 1, 2, 2, 3, 3],
            "t": [1.0, 2, 1, 2, 1, 2],
            "y": [0.0, 1, 2, 3, 4, 5],
            "d": [0.0, 1, 0, 0, 0, 0],
            "x": [0.5, 1, 2, 3, 4, 5],
        },
        index=[f"row-{c}" for c in "abcdef"],
    )
    frame.loc["row-c", column] = value
    with pytest.raises(DataError, match=match):
        Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d", covariates=["x"])


def test_dropping_rows_keeps_labels_for_later_errors_and_a_fresh_index():
    frame = pd.DataFrame(
        {"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [0.0, np.nan, 2, 3], "d": [0, 1, 0, 0]},
        index=[10, 10, 20, 20],  # duplicated labels, as after a concat
    )
    frame["x"] = [1.0, 2.0, 3.0, np.nan]
    with (
        pytest.warns(impact.DataWarning, match="dropped 1 row"),
        pytest.raises(DataError, match="rows 20"),
    ):
        Panel.from_frame(
            frame, unit="u", time="t", outcome="y", treated="d", covariates=["x"], dropna=True
        )
    with pytest.warns(impact.DataWarning, match="dropped 1 row"):
        panel = Panel.from_frame(
            frame.drop(columns="x"), unit="u", time="t", outcome="y", treated="d", dropna=True
        )
    assert_frame_equal(
        panel.frame,
        pd.DataFrame({"u": [1, 2, 2], "t": [1, 1, 2], "y": [0.0, 2, 3], "d": [0, 0, 0]}),
        check_dtype=False,
    )


# ---------------------------------------------------------------- CSV headers
def test_a_csv_with_a_repeated_column_name_is_a_data_error(tmp_path):
    """pandas renamed the second 'score' to 'score.1' and the run went on with it."""
    path = tmp_path / "pupils.csv"
    path.write_text("unit,time,score,d,score\n1,2001,1.0,0,2.0\n2,2001,3.0,0,4.0\n")
    with pytest.raises(DataError, match=r"more than one column named 'score'.*'score\.1'"):
        read_table(path)


def test_a_csv_whose_names_only_look_alike_is_read(tmp_path):
    path = tmp_path / "pupils.csv"
    path.write_text("score,score.1,Score\n1,2,3\n")
    assert list(read_table(path).columns) == ["score", "score.1", "Score"]
