"""Learners on data that are not a balanced panel.

With the default ``allow_unbalanced_panel=False`` an unbalanced panel is balanced by
dropping the units not observed in every period, and the learners run on what is
left: the same numbers as on that balanced panel built by hand. With
``allow_unbalanced_panel=True``, and for repeated cross-sections, the cells use the
repeated cross-section doubly robust estimator with cross-fitted learners
(:mod:`impact.estimators.staggered._learned_rcs`); without cross-fitting the learners
refuse, saying what to do.

Reference value: DoubleML 0.11.4, ``DoubleMLDIDCS(DoubleMLDIDData(df, "y", "d",
t_col="t", x_cols=["x1", "x2"]), ml_g=LinearRegression(), ml_m=LogisticRegression(),
score="observational", in_sample_normalization=True, n_folds=2).fit(
external_predictions={"d": {"ml_g_d0_t0": g00, "ml_g_d0_t1": g01, "ml_g_d1_t0": g10,
"ml_g_d1_t1": g11, "ml_m": m_hat}})``, on the data and predictions that
``_doubleml_case`` builds: ``coef = 1.4264703963976582`` (its standard error,
0.24486, does not centre each normalised term at its own mean, as R ``DRDID`` and
this package do: 0.22856 here, so only the estimate is compared).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact._threads import learner_thread_budget
from impact.datasets import load_mpdta
from impact.estimators.staggered._learned_rcs import orthogonal_rcs_att
from impact.exceptions import DataWarning, DesignError

pytest.importorskip("sklearn")
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression

DOUBLEML_COEF = 1.4264703963976582


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


def _pupils(seed: int, n_schools: int = 120, pupils: int = 10) -> impact.Panel:
    """New pupils each year; trends and adoption both depend on x squared; effect 1."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=n_schools)
    adopts = centre**2 + rng.normal(0, 0.5, n_schools) > 1.0
    school = np.repeat(np.arange(n_schools), 4 * pupils)
    year = np.tile(np.repeat(np.arange(1, 5), pupils), n_schools)
    x = centre[school] + rng.normal(0, 0.5, len(school))
    d = (adopts[school] & (year >= 3)).astype(int)
    y = rng.normal(size=n_schools)[school] + 0.5 * x**2 * year + d + rng.normal(size=len(d))
    df = pd.DataFrame({"school": school, "year": year, "x": x, "d": d, "y": y})
    return impact.Panel.from_frame(
        df, unit="school", time="year", outcome="y", treated="d", covariates=["x"]
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


def _doubleml_case():
    rng = np.random.default_rng(20251203)
    n = 400
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x1))).astype(float)
    t = (rng.random(n) < 0.5).astype(float)
    y = (
        1.0
        + x1
        + 0.5 * x2**2
        + t * (0.3 + 0.2 * x1)
        + d * (0.5 + x2)
        + 1.5 * d * t
        + rng.normal(size=n)
    )
    m_hat = 1 / (1 + np.exp(-(0.1 + 0.4 * x1)))
    mu = {
        (False, False): 1.0 + 0.9 * x1 + 0.4 * x2**2,
        (False, True): 1.3 + 1.1 * x1 + 0.4 * x2**2,
        (True, False): 1.4 + 0.8 * x1 + 0.9 * x2,
        (True, True): 3.2 + 1.2 * x1 + 1.1 * x2,
    }
    return y, d == 1, t == 1, m_hat, mu


def test_repeated_cross_section_score_matches_doubleml() -> None:
    y, d, t, m_hat, mu = _doubleml_case()
    att, phi = orthogonal_rcs_att(y, d, t, np.ones(len(y)), "dr", m_hat, mu)
    np.testing.assert_allclose(att, DOUBLEML_COEF, rtol=1e-10)
    assert abs(phi.mean()) < 1e-12  # an influence function has mean zero
    # weights of one are no weights; doubling every weight changes nothing
    again, phi2 = orthogonal_rcs_att(y, d, t, np.full(len(y), 2.0) / 2.0, "dr", m_hat, mu)
    np.testing.assert_allclose([again, *phi2], [att, *phi], rtol=1e-12)


def test_cross_fitted_learners_recover_the_effect_from_pupil_cross_sections() -> None:
    panel = _pupils(seed=0)
    assert panel.is_repeated_cross_section
    # one OpenMP thread: boosting on a few thousand rows gains nothing from more
    with warnings.catch_warnings(), learner_thread_budget(1):
        warnings.simplefilter("ignore")
        default = impact.StaggeredDiD().fit(panel).att
        learned = impact.StaggeredDiD(
            propensity_model=HistGradientBoostingClassifier(max_iter=30),
            outcome_model=HistGradientBoostingRegressor(max_iter=30),
            cross_fit=3,
        ).fit(panel)
    att = learned.att
    assert learned.settings["cross_fit"] == 3
    assert abs(default.estimate - 1.0) > 4 * default.std_error  # the logit/linear DR fails
    assert abs(att.estimate - 1.0) < 3 * att.std_error
    assert np.isfinite(att.std_error) and att.std_error > 0


def test_kept_unbalanced_rows_use_the_cross_section_estimator() -> None:
    unbalanced, _ = _unbalanced()
    estimator = impact.StaggeredDiD(
        propensity_model=LogisticRegression(),
        outcome_model=RandomForestRegressor(n_estimators=5, min_samples_leaf=20),
        cross_fit=2,
        allow_unbalanced_panel=True,
    )
    result = estimator.fit(_panel(unbalanced))
    assert result.settings["dropped_incomplete_units"] == 0
    assert np.isfinite(result.att.std_error)
    # the influence functions are summed by county: as many as counties observed
    assert result.n_units == unbalanced["countyreal"].nunique()


def test_without_cross_fitting_these_rows_refuse_learners_saying_what_to_do() -> None:
    unbalanced, _ = _unbalanced()
    estimator = impact.StaggeredDiD(
        propensity_model=LogisticRegression(), cross_fit=None, allow_unbalanced_panel=True
    )
    with pytest.raises(DesignError, match="cross_fit=5") as caught:
        estimator.fit(_panel(unbalanced))
    message = str(caught.value)
    assert "propensity_model=None, outcome_model=None" in message
    assert "allow_unbalanced_panel=False" in message
    with pytest.raises(DesignError, match="repeated cross-sections"):
        impact.StaggeredDiD(propensity_model=LogisticRegression(), cross_fit=None).fit(
            _pupils(seed=1)
        )
