"""Learners on data that are not a balanced panel: what works, and what the error says.

With the default ``allow_unbalanced_panel=False`` an unbalanced panel is balanced by
dropping the units not observed in every period, and the learners run on what is
left: the same numbers as on that balanced panel built by hand. With
``allow_unbalanced_panel=True`` (and for repeated cross-sections) the rows use the
repeated cross-section estimator, whose cross-fitted influence function is not
implemented: the learners refuse, saying what to do.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact.datasets import load_mpdta
from impact.exceptions import DataWarning, DesignError

pytest.importorskip("sklearn")
from sklearn.ensemble import (
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression


def _unbalanced() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = load_mpdta()
    rng = np.random.default_rng(0)
    units = df["countyreal"].unique()
    gone = rng.choice(units, 40, replace=False)
    drop = df["countyreal"].isin(gone) & (df["year"] == 2005)
    unbalanced = df.loc[~drop].reset_index(drop=True)
    balanced = df.loc[~df["countyreal"].isin(gone)].reset_index(drop=True)
    return unbalanced, balanced


def _panel(df: pd.DataFrame) -> impact.Panel:
    return impact.Panel.from_frame(
        df,
        unit="countyreal",
        time="year",
        outcome="lemp",
        cohort="first_treat",
        covariates=["lpop"],
    )


def _estimator(**kwargs) -> impact.StaggeredDiD:
    return impact.StaggeredDiD(
        propensity_model=LogisticRegression(),
        outcome_model=HistGradientBoostingRegressor(max_iter=20),
        cross_fit=2,
        **kwargs,
    )


def test_learners_run_on_the_balanced_part_of_an_unbalanced_panel() -> None:
    unbalanced, balanced = _unbalanced()
    # forests: deterministic for their seed (lbfgs logits stop at a tolerance that
    # rounding of the inputs moves by 1e-6)
    estimator = impact.StaggeredDiD(
        propensity_model=RandomForestClassifier(n_estimators=5, min_samples_leaf=20),
        outcome_model=RandomForestRegressor(n_estimators=5, min_samples_leaf=20),
        cross_fit=2,
    )
    with pytest.warns(DataWarning, match="40"):
        dropped = estimator.fit(_panel(unbalanced))
    assert dropped.settings["dropped_incomplete_units"] == 40
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        by_hand = estimator.fit(_panel(balanced))
    columns = ["estimate", "std_error"]
    np.testing.assert_allclose(
        dropped.effects[columns].to_numpy(), by_hand.effects[columns].to_numpy(), rtol=1e-10
    )


def test_kept_unbalanced_rows_refuse_learners_saying_what_to_do() -> None:
    unbalanced, _ = _unbalanced()
    with pytest.raises(DesignError, match="allow_unbalanced_panel=False") as caught:
        _estimator(allow_unbalanced_panel=True).fit(_panel(unbalanced))
    message = str(caught.value)
    assert "propensity_model=None, outcome_model=None" in message
    assert "dropped_incomplete_units" in message


def test_repeated_cross_sections_refuse_learners_saying_what_to_do() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for school in range(30):
        cohort = 3 if school < 12 else 0
        for year in range(1, 5):
            for _pupil in range(5):
                x = rng.normal()
                treated = int(cohort and year >= cohort)
                rows.append((school, year, x, treated, x + 2.0 * treated + rng.normal()))
    df = pd.DataFrame(rows, columns=["school", "year", "x", "d", "y"])
    panel = impact.Panel.from_frame(
        df, unit="school", time="year", outcome="y", treated="d", covariates=["x"]
    )
    assert panel.is_repeated_cross_section
    with pytest.raises(DesignError, match="repeated cross-sections") as caught:
        _estimator().fit(panel)
    assert "propensity_model=None, outcome_model=None" in str(caught.value)
