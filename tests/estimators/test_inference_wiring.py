"""The ``inference`` option of the event study, panel ITS and staggered DiD."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact import (
    DesignError,
    EventStudy,
    InferenceWarning,
    InterruptedTimeSeries,
    Panel,
    StaggeredDiD,
)
from impact.inference import within_regression
from impact.inference.combination import combination_design, infer_combinations
from tests.conftest import make_did_frame
from tests.estimators.staggered_data import make_staggered_frame


def panel_of(frame):
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def many():
    return panel_of(make_did_frame(n_units=40, n_periods=6, seed=1, noise=1.0))


def few():
    frame = make_did_frame(n_units=25, n_periods=6, share_treated=0.2, seed=2, noise=1.0)
    return panel_of(frame)


@contextlib.contextmanager
def no_inference_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        yield


# ------------------------------------------------------------------ combinations
def test_combination_design_keeps_the_fit_and_isolates_the_combination():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.normal(size=50)
    w = {"a": 0.25, "c": 0.75}
    Z, names = combination_design(X, ["a", "b", "c"], w, "theta")
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    g = np.linalg.lstsq(Z, y, rcond=None)[0]
    assert names == ["theta", "b", "c"]
    assert g[0] == pytest.approx(0.25 * b[0] + 0.75 * b[2], abs=1e-10)
    np.testing.assert_allclose(Z @ g, X @ b, atol=1e-10)


@pytest.mark.parametrize("method", ["cr1", "cr2"])
def test_infer_combinations_cr1_equals_the_delta_method(method):
    frame = make_did_frame(n_units=30, n_periods=4, adoption=2, seed=3, noise=1.0)
    unit = frame["unit"].to_numpy()
    post = (frame["time"] >= 2003).to_numpy().astype(float)
    treated = (unit < 15).astype(float)
    e2, e3 = treated * (frame["time"] == 2003), treated * (frame["time"] == 2004)
    X = np.column_stack([e2, e3, *(frame["time"] == t for t in (2002, 2003, 2004))])
    X = X.astype(float)
    names = ["e2", "e3", "t2", "t3", "t4"]
    y = frame["y"].to_numpy()
    out = infer_combinations(
        y, X, names, {"att": {"e2": 0.5, "e3": 0.5}, "e3": {"e3": 1.0}},
        unit_codes=unit, method=method,
    )  # fmt: skip
    fit = within_regression(y, X, names, unit_codes=unit, inference="cr1")
    w = np.array([0.5, 0.5, 0, 0, 0])
    assert out["att"].estimate == pytest.approx(w @ fit.params.to_numpy(), abs=1e-10)
    assert out["e3"].estimate == pytest.approx(fit.params["e3"], abs=1e-10)
    if method == "cr1":
        cov = fit.cov.to_numpy()
        assert out["att"].std_error == pytest.approx(np.sqrt(w @ cov @ w), rel=1e-8)
        assert out["e3"].std_error == pytest.approx(fit.std_error("e3"), rel=1e-8)
    else:
        assert out["att"].df < 29 and out["e3"].df < 29
    assert {r.method for r in out.values()} == {method}
    assert post.sum() > 0


# ------------------------------------------------------------------ event study
def test_event_study_auto_is_cr1_with_many_clusters_and_matches_the_old_default():
    panel = many()
    with no_inference_warning():
        auto = EventStudy().fit(panel)
    cr1 = EventStudy(inference="cr1").fit(panel)
    pd.testing.assert_frame_equal(auto.effects, cr1.effects)
    assert auto.settings["inference_used"] == "cr1"
    assert (auto.settings["n_treated_clusters"], auto.settings["n_control_clusters"]) == (20, 20)
    # the att (a re-parametrized coefficient) equals the delta method on the fit
    lags = auto.effects[auto.effects["event_time"] >= 0]
    assert auto.att.estimate == pytest.approx(lags["estimate"].mean(), abs=1e-10)
    assert auto.diagnostics["pretrend_test"]["covariance"].iloc[0] == "cr1"


def test_event_study_few_treated_clusters_warn_and_use_the_wild_bootstrap():
    panel = few()
    with pytest.warns(InferenceWarning, match="5 treated and 20 control"):
        res = EventStudy(draws=499).fit(panel)
    assert res.settings["inference_used"] == "wild"
    assert res.settings["inference_enumerated"] is False
    eff = res.effects.set_index("term")
    cr1 = EventStudy(inference="cr1").fit(panel).effects.set_index("term")
    # estimates and the studentizing CR1 errors are unchanged; intervals differ
    np.testing.assert_allclose(eff["estimate"], cr1["estimate"], atol=1e-10)
    np.testing.assert_allclose(eff["std_error"], cr1["std_error"], rtol=1e-8)
    est = eff.drop(index="e=-1")
    assert (est["ci_upper"] - est["ci_lower"] != cr1.drop(index="e=-1")["ci_upper"]
            - cr1.drop(index="e=-1")["ci_lower"]).all()  # fmt: skip
    assert (est["p_value"].between(0, 1)).all()
    # seeded: the same seed gives the same bootstrap
    with pytest.warns(InferenceWarning):
        again = EventStudy(draws=499).fit(panel)
    pd.testing.assert_frame_equal(res.effects, again.effects)


def test_event_study_cr2_has_its_own_degrees_of_freedom_and_pretrend_covariance():
    panel = few()
    res = EventStudy(inference="cr2").fit(panel)
    assert res.settings["inference_used"] == "cr2"
    assert res.settings["df_inference"] < 24
    assert res.diagnostics["pretrend_test"]["covariance"].iloc[0] == "cr2"
    cr1 = EventStudy(inference="cr1").fit(panel)
    assert res.att.std_error > cr1.att.std_error


def test_event_study_rejects_randomization_inference():
    with pytest.raises(DesignError, match="inference"):
        EventStudy(inference="randomization")


# ------------------------------------------------------------------ ITS (pooled)
def test_its_pooled_auto_many_clusters_is_cr1_without_warning():
    panel = many()
    with no_inference_warning():
        res = InterruptedTimeSeries(pooled=True).fit(panel)
    assert res.settings["inference_used"] == "cr1"
    explicit = InterruptedTimeSeries(pooled=True, inference="cr1").fit(panel)
    pd.testing.assert_frame_equal(res.effects, explicit.effects)


def test_its_pooled_few_clusters_warn_and_bootstrap_every_row():
    panel = few()
    with pytest.warns(InferenceWarning, match="5 treated and 20 control"):
        res = InterruptedTimeSeries(pooled=True, draws=199).fit(panel)
    assert res.settings["inference_used"] == "wild"
    cr1 = InterruptedTimeSeries(pooled=True, inference="cr1").fit(panel)
    np.testing.assert_allclose(res.effects["estimate"], cr1.effects["estimate"], atol=1e-10)
    assert not np.allclose(res.effects["ci_lower"], cr1.effects["ci_lower"])


def test_its_pooled_without_comparison_counts_all_clusters():
    frame = make_did_frame(n_units=25, n_periods=8, share_treated=0.2, adoption=4, seed=4)
    treated_only = frame[frame["unit"] < 5]
    with pytest.warns(InferenceWarning, match="only 5 clusters"):
        res = InterruptedTimeSeries(pooled=True, draws=199).fit(panel_of(treated_only))
    assert res.settings["inference_used"] == "wild"
    assert "no comparison" in res.settings["inference_reason"]


def test_its_errors_ols_means_iid_and_conflicts_are_errors():
    res = InterruptedTimeSeries(pooled=True, errors="ols").fit(many())
    assert res.settings["inference_used"] == "iid"
    with pytest.raises(DesignError, match="errors='ols'"):
        InterruptedTimeSeries(errors="ols", inference="cr2")


# ------------------------------------------------------------------ staggered
def staggered(n_units, share_never, seed=0):
    frame = make_staggered_frame(n_units=n_units, share_never=share_never, seed=seed,
                                 noise=1.0)  # fmt: skip
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort")


def test_staggered_auto_many_clusters_is_analytic_and_unchanged():
    panel = staggered(60, 0.5)
    with no_inference_warning():
        auto = StaggeredDiD().fit(panel)
    analytic = StaggeredDiD(inference="analytic").fit(panel)
    pd.testing.assert_frame_equal(auto.effects, analytic.effects)
    assert auto.settings["inference_used"] == "analytic"
    assert auto.settings["n_treated_clusters"] == 30


def test_staggered_few_control_clusters_switch_to_t_intervals():
    panel = staggered(40, 0.2)
    with pytest.warns(InferenceWarning, match="32 treated and 8 control"):
        res = StaggeredDiD().fit(panel)
    assert res.settings["inference_used"] == "analytic_t"
    assert res.settings["df_inference"] == 7.0
    analytic = StaggeredDiD(inference="analytic").fit(panel)
    # same estimates and standard errors, wider t(7) intervals, larger p-values
    np.testing.assert_allclose(res.effects["estimate"], analytic.effects["estimate"])
    np.testing.assert_allclose(res.effects["std_error"], analytic.effects["std_error"])
    att, ref = res.att, analytic.att
    crit = stats.t.ppf(0.975, 7)
    assert att.ci_upper - att.ci_lower == pytest.approx(2 * crit * att.std_error)
    assert att.p_value > ref.p_value
    dyn = res.aggregate("dynamic").effects
    dyn_ref = analytic.aggregate("dynamic").effects
    width = dyn["ci_upper"] - dyn["ci_lower"]
    np.testing.assert_allclose(width, 2 * crit * dyn_ref["std_error"], rtol=1e-10)


def test_staggered_webb_bootstrap_is_seeded():
    panel = staggered(40, 0.2)
    est = StaggeredDiD(inference="bootstrap", bootstrap_weights="webb")
    res, again = est.fit(panel), est.fit(panel)
    assert res.settings["inference_weights"] == "webb"
    assert "cband_lower" in res.effects.columns
    pd.testing.assert_frame_equal(res.effects, again.effects)


@pytest.mark.parametrize("weights", ["rademacher", "mammen", "webb"])
def test_staggered_multiplier_weights_give_similar_errors(weights):
    panel = staggered(60, 0.5)
    analytic = StaggeredDiD(inference="analytic").fit(panel).att.std_error
    boot = StaggeredDiD(inference="bootstrap", bootstrap_weights=weights, n_boot=1999)
    assert boot.fit(panel).att.std_error == pytest.approx(analytic, rel=0.15)
