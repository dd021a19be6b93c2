"""scikit-learn nuisance models: parity with the built-in models, cross-fitting, seeds.

References used here:
- the built-in logits against ``sklearn.linear_model.LogisticRegression`` without a
  penalty (``C=np.inf``, the spelling of ``penalty=None`` that scikit-learn 1.8+ keeps),
  solved by Newton-Cholesky to ``tol=1e-12``, on LaLonde's NSW/PSID data (R MatchIt's
  ``lalonde``, frozen in tests/reference/matching/lalonde.csv) and on R did's ``mpdta``;
- ``StaggeredDiD`` with ``LogisticRegression``/``LinearRegression`` and no cross-fitting
  against the default estimator (itself checked against R did in
  test_staggered_reference.py);
- the cross-fitted doubly robust ATT against a DML DiD (Chang 2020) built by hand below
  from scikit-learn fits on the same folds.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact._optional import MissingDependencyError
from impact.datasets import load_mpdta
from impact.estimators._learners import (
    cross_fit_folds,
    fresh_learner,
    learner_seeds,
)
from impact.estimators.matching.propensity import fit_propensity
from impact.estimators.staggered._data import prepare
from impact.estimators.staggered._drdid import fit_logit
from impact.exceptions import DesignError, InferenceWarning

sklearn = pytest.importorskip("sklearn")
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402

REF = Path(__file__).resolve().parents[1] / "reference" / "matching"
LALONDE_COVARIATES = ["age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75"]


def exact_logit() -> LogisticRegression:
    """An unpenalised logit solved to convergence."""
    return LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=1000)


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    df = pd.read_csv(REF / "lalonde.csv")
    df["black"] = (df["race"] == "black").astype(float)
    df["hispan"] = (df["race"] == "hispan").astype(float)
    df["year"] = 1978
    return df


@pytest.fixture(scope="module")
def lalonde_panel(lalonde: pd.DataFrame) -> impact.Panel:
    return impact.Panel.from_frame(
        lalonde,
        unit="id",
        time="year",
        outcome="re78",
        treated="treat",
        covariates=LALONDE_COVARIATES,
    )


@pytest.fixture(scope="module")
def mpdta_panel() -> impact.Panel:
    return impact.Panel.from_frame(
        load_mpdta(),
        unit="countyreal",
        time="year",
        outcome="lemp",
        cohort="first_treat",
        covariates=["lpop"],
    )


# ------------------------------------------------- the built-in logits are sklearn's
def test_matching_logit_gives_sklearn_scores_on_lalonde(lalonde: pd.DataFrame) -> None:
    X = lalonde[LALONDE_COVARIATES].to_numpy(dtype=float)
    d = lalonde["treat"].to_numpy() == 1
    ours = fit_propensity(X, d, LALONDE_COVARIATES).probability
    # the scores do not depend on the covariates' units: sklearn gets them standardised
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    theirs = exact_logit().fit(Z, d).predict_proba(Z)[:, 1]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_staggered_logit_gives_sklearn_scores_on_mpdta() -> None:
    df = load_mpdta()
    first = df.groupby("countyreal").first()
    never = first["first_treat"] == 0
    for cohort in (2004, 2006, 2007):
        sample = first[never | (first["first_treat"] == cohort)]
        x = sample[["lpop"]].to_numpy(dtype=float)
        d = (sample["first_treat"] == cohort).to_numpy(dtype=float)
        X = np.column_stack([np.ones(len(d)), x])
        ours = fit_logit(X, d, np.ones(len(d))).fitted
        theirs = exact_logit().fit(x, d).predict_proba(x)[:, 1]
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


# ----------------------------------------------- parametric learners = the default
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_linear_learners_without_cross_fitting_reproduce_the_default(
    mpdta_panel: impact.Panel, method: str, control: str
) -> None:
    default = impact.StaggeredDiD(method=method, control=control).fit(mpdta_panel)
    learned = impact.StaggeredDiD(
        method=method,
        control=control,
        propensity_model=exact_logit(),
        outcome_model=LinearRegression(),
        cross_fit=None,
    ).fit(mpdta_panel)
    a, b = default.effects, learned.effects
    assert list(a["term"]) == list(b["term"])
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=0, atol=1e-6)
    assert learned.settings["propensity_model"].startswith("LogisticRegression")


def test_logit_learner_without_cross_fitting_reproduces_matching(
    lalonde_panel: impact.Panel,
) -> None:
    for method in ("nearest", "weighting"):
        default = impact.MatchedComparison(method=method).fit(lalonde_panel).effects
        learned = (
            impact.MatchedComparison(method=method, propensity_model=exact_logit(), cross_fit=None)
            .fit(lalonde_panel)
            .effects
        )
        row = default["term"] == "att"
        np.testing.assert_allclose(
            learned.loc[row, "estimate"], default.loc[row, "estimate"], rtol=1e-9
        )


# ------------------------------------------------------ cross-fitting: a hand-built DML DiD
def two_period_panel(n: int = 400, seed: int = 3) -> tuple[impact.Panel, float]:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    p = 1 / (1 + np.exp(-(0.5 * x1 - 0.5 * x2)))
    d = rng.random(n) < p
    trend = 1.0 + 0.8 * x1 + 0.3 * x2
    y0 = x1 + rng.normal(size=n)
    y1 = y0 + trend + 2.0 * d + rng.normal(size=n)
    df = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), 2),
            "year": np.tile([2000, 2001], n),
            "y": np.column_stack([y0, y1]).ravel(),
            "cohort": np.repeat(np.where(d, 2001, 0), 2),
            "x1": np.repeat(x1, 2),
            "x2": np.repeat(x2, 2),
        }
    )
    panel = impact.Panel.from_frame(
        df, unit="unit", time="year", outcome="y", cohort="cohort", covariates=["x1", "x2"]
    )
    return panel, 2.0


def test_cross_fitted_dr_is_the_hand_built_dml_did() -> None:
    panel, _ = two_period_panel()
    est = impact.StaggeredDiD(
        propensity_model=LogisticRegression(), outcome_model=LinearRegression(), cross_fit=3, seed=7
    )
    result = est.fit(panel)
    # by hand: the same data, folds and learners, Chang's (2020) score in the
    # normalised (Hajek) form
    data = prepare(
        panel,
        control="never_treated",
        anticipation=0,
        base_period="varying",
        use_covariates=True,
        allow_unbalanced_panel=False,
    )
    Z = data.X[:, 1:]
    d = data.obs_group != data.never
    dy = data.y_by_period[1] - data.y_by_period[0]
    fold_seed, _ = learner_seeds(7)
    folds = cross_fit_folds(3, data.obs_group, seed=fold_seed)
    p, m = np.empty(len(d)), np.empty(len(d))
    for k in range(3):
        test, train = folds == k, folds != k
        p[test] = LogisticRegression().fit(Z[train], d[train]).predict_proba(Z[test])[:, 1]
        control = train & ~d
        m[test] = LinearRegression().fit(Z[control], dy[control]).predict(Z[test])
    r = dy - m
    w_t, w_c = d.astype(float), (~d) * p / (1 - p)
    eta_t, eta_c = (w_t @ r) / w_t.sum(), (w_c @ r) / w_c.sum()
    att = eta_t - eta_c
    phi = w_t * (r - eta_t) / w_t.mean() - w_c * (r - eta_c) / w_c.mean()
    se = np.sqrt(np.sum(phi**2)) / len(d)
    row = result.effects.set_index("term").loc["ATT(2001,2001)"]
    assert row["estimate"] == pytest.approx(att, abs=1e-10)
    assert row["std_error"] == pytest.approx(se, rel=1e-9)
    # Chang's unnormalised estimator, mean((d - p) / (P(d) (1 - p)) (dy - m)), agrees
    # to a small fraction of a standard error
    chang = np.mean((d - p) / (d.mean() * (1 - p)) * r)
    assert abs(chang - att) < 0.1 * se


def test_cross_fitted_boosting_recovers_a_known_effect() -> None:
    panel, truth = two_period_panel(n=1500, seed=11)
    result = impact.StaggeredDiD(
        propensity_model=HistGradientBoostingClassifier(max_iter=40),
        outcome_model=HistGradientBoostingRegressor(max_iter=40),
    ).fit(panel)
    att = result.att
    assert abs(att.estimate - truth) < 4 * att.std_error
    assert 0 < att.std_error < 0.5


# ------------------------------------------------------------------ folds and seeds
def test_folds_keep_clusters_whole_and_balance_strata() -> None:
    strata = np.repeat([0, 1], 50)
    clusters = np.arange(100) // 4
    folds = cross_fit_folds(5, strata, clusters=clusters, seed=1)
    for c in np.unique(clusters):
        assert len(np.unique(folds[clusters == c])) == 1
    by_unit = cross_fit_folds(5, strata, seed=1)
    for s in (0, 1):
        assert np.bincount(by_unit[strata == s], minlength=5).tolist() == [10] * 5
    with pytest.raises(DesignError, match="at least 5 clusters"):
        cross_fit_folds(5, strata[:12], clusters=clusters[:12], seed=0)


def test_learner_random_state_is_filled_from_the_seed_but_never_overridden() -> None:
    filled = fresh_learner(RandomForestClassifier(), 123)
    assert filled.get_params()["random_state"] == 123
    kept = fresh_learner(RandomForestClassifier(random_state=5), 123)
    assert kept.get_params()["random_state"] == 5


def test_same_seed_same_result_other_seed_other_folds() -> None:
    panel, _ = two_period_panel(n=300)

    def fit(seed: int) -> pd.DataFrame:
        return (
            impact.StaggeredDiD(
                propensity_model=RandomForestClassifier(n_estimators=10, min_samples_leaf=20),
                outcome_model=LinearRegression(),
                cross_fit=2,
                seed=seed,
            )
            .fit(panel)
            .effects
        )

    first, again, other = fit(1), fit(1), fit(2)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["estimate"], other["estimate"])


def test_matching_with_a_learner_trims_on_its_scores(lalonde_panel: impact.Panel) -> None:
    result = impact.MatchedComparison(
        propensity_model=HistGradientBoostingClassifier(max_iter=30), common_support="both"
    ).fit(lalonde_panel)
    matches = result.diagnostics["matches"]
    score = matches["score"].to_numpy()
    kept = ~matches["discarded"].to_numpy()
    assert matches["discarded"].any()
    assert np.isfinite(result.att.estimate)
    assert score[kept].min() >= 0 and score[kept].max() <= 1


def test_matched_did_passes_the_learner_on() -> None:
    rng = np.random.default_rng(2)
    level = rng.normal(size=80)
    df = pd.DataFrame({"school": np.repeat(np.arange(80), 6), "year": np.tile(np.arange(6), 80)})
    chosen = df.school.map(pd.Series(level + rng.normal(size=80) > 0.3))
    df["pilot"] = (chosen & (df.year >= 3)).astype(int)
    df["score"] = (
        df.school.map(pd.Series(level)) + 0.2 * df.year + 1.5 * df.pilot + rng.normal(0, 0.1, 480)
    )
    panel = impact.Panel.from_frame(
        df, unit="school", time="year", outcome="score", treated="pilot"
    )
    learned = impact.MatchedDiD(
        distance="propensity", propensity_model=LogisticRegression(), cross_fit=2
    ).fit(panel)
    assert abs(learned.att.estimate - 1.5) < 0.3
    assert "LogisticRegression" in repr(learned.settings["propensity_model"])


# ------------------------------------------------------------------ errors and warnings
def test_bad_learners_and_folds_are_design_errors() -> None:
    with pytest.raises(DesignError, match=r"propensity_model=.*scikit-learn classifier"):
        impact.StaggeredDiD(propensity_model=LogisticRegression)
    with pytest.raises(DesignError, match=r"outcome_model=.*regressor"):
        impact.StaggeredDiD(outcome_model=LogisticRegression)  # a class, not an instance
    with pytest.raises(DesignError, match="cross_fit=1"):
        impact.MatchedComparison(propensity_model=LogisticRegression(), cross_fit=1)


def test_learners_need_covariates_and_a_balanced_panel() -> None:
    panel = impact.Panel.from_frame(
        load_mpdta(), unit="countyreal", time="year", outcome="lemp", cohort="first_treat"
    )
    with pytest.raises(DesignError, match="need covariates"):
        impact.StaggeredDiD(outcome_model=LinearRegression()).fit(panel)


def test_flexible_learner_without_cross_fitting_warns(mpdta_panel: impact.Panel) -> None:
    with pytest.warns(InferenceWarning, match="cross_fit=None"):
        impact.StaggeredDiD(
            propensity_model=RandomForestClassifier(n_estimators=5, max_depth=2),
            cross_fit=None,
        ).fit(mpdta_panel)
    with pytest.warns(InferenceWarning, match="not doubly robust"):
        impact.StaggeredDiD(method="ipw", propensity_model=LogisticRegression()).fit(mpdta_panel)


def test_missing_scikit_learn_names_the_ml_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.base", None)
    with pytest.raises(MissingDependencyError, match=r"impact\[ml\]"):
        fresh_learner(LogisticRegression(), 0)


def test_without_a_learner_cross_fit_is_ignored(mpdta_panel: impact.Panel) -> None:
    # no learner: cross_fit is ignored and nothing about learners is warned or recorded
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        result = impact.StaggeredDiD(cross_fit=None).fit(mpdta_panel)
    assert result.settings["propensity_model"] is None


# ------------------------------------------------------------------ simulations
def test_monte_carlo_with_learners_is_identical_across_backends() -> None:
    from pandas.testing import assert_frame_equal

    from impact.simulations import Scenario, monte_carlo

    scenario = Scenario.staggered_rollout(
        n_units=80,
        n_periods=4,
        cohorts=((3, 0.4),),
        selection="covariate",
        covariate_trend=0.5,
        panel_covariates=("x",),
    )
    estimators = {
        "boosted": impact.StaggeredDiD(
            propensity_model=HistGradientBoostingClassifier(max_iter=10),
            outcome_model=HistGradientBoostingRegressor(max_iter=10),
            cross_fit=2,
        ),
        "forest": impact.MatchedDiD(
            distance="propensity",
            propensity_model=RandomForestClassifier(n_estimators=5, min_samples_leaf=5),
            cross_fit=2,
        ),
    }
    serial = monte_carlo(estimators, scenario, n_reps=4, seed=3, backend="serial")
    workers = monte_carlo(
        estimators, scenario, n_reps=4, seed=3, backend="processes", n_workers=2, chunk_size=1
    )
    assert serial.failures.empty, serial.failures
    assert_frame_equal(serial.to_frame(), workers.to_frame())
    assert_frame_equal(serial.replications, workers.replications)
