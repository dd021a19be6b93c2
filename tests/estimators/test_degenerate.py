"""Degenerate data and outcomes in extreme units (issue 14: A3, A4, A5 and item 2).

A standard error that is zero up to rounding, a single comparison cluster or a
comparison whose outcome never varies must never give a p-value of 0: the estimate
is kept, the interval and p-value are NaN, and an InferenceWarning says the interval
is undefined (see impact.inference.wald). Outcomes measured in very large or very
small units must give the same answers, scaled.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact import Panel
from impact.exceptions import ImpactError, InferenceWarning
from impact.inference.wald import ZERO_SE_RTOL, wald
from impact.inference.wild import wild_cluster_bootstrap
from tests.conftest import make_did_frame

ESTIMATORS = impact.available_estimators()
UNDEFINED = "are undefined and reported as NaN"


def to_panel(frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def fit_recording(name: str, frame: pd.DataFrame, **params):
    """The result (or the ImpactError) and the InferenceWarnings of one fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = impact.get_estimator(name, **params).fit(to_panel(frame))
        except ImpactError as error:
            result = error
    messages = [str(w.message) for w in caught if issubclass(w.category, InferenceWarning)]
    return result, messages


def assert_undefined_or_refused(result, messages) -> None:
    """A typed error, or every p-value and bound NaN (never 0) with the warning."""
    if isinstance(result, ImpactError):
        return
    effects = result.effects
    assert effects["p_value"].isna().all(), effects
    assert effects["ci_lower"].isna().all() and effects["ci_upper"].isna().all(), effects
    assert any(UNDEFINED in m for m in messages), messages


# --------------------------------------------------------------------------- A3
@pytest.mark.parametrize("name", ["did", "event_study", "its", "matched_did"])
def test_constant_outcome_gives_no_interval_and_no_p_value_of_zero(name):
    # A3: gave "att 0 (SE 0; CI nan to nan; p = 0)"
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3).assign(y=5.0)
    result, messages = fit_recording(name, frame)
    att = result.att
    assert att.estimate == pytest.approx(0.0, abs=1e-12)
    assert not att.std_error > 0  # 0, or NaN when the comparison cannot give one
    assert np.isnan(att.ci_lower) and np.isnan(att.ci_upper)
    assert np.isnan(att.p_value)
    assert any(UNDEFINED in m and "'att'" in m for m in messages), messages


@pytest.mark.parametrize("name", ESTIMATORS)
def test_constant_outcome_in_every_estimator(name):
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3).assign(y=-3.25)
    assert_undefined_or_refused(*fit_recording(name, frame))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_outcome_constant_within_the_comparison(name):
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=0.5)
    frame.loc[frame["unit"] >= 10, "y"] = 4.0  # the never-treated units
    assert_undefined_or_refused(*fit_recording(name, frame))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_single_comparison_unit(name):
    # five treated units and one comparison unit: did gave a wild bootstrap p = 0.03
    frame = make_did_frame(n_units=6, n_periods=6, adoption=3, share_treated=5 / 6, noise=0.5)
    assert_undefined_or_refused(*fit_recording(name, frame))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_no_residual_degrees_of_freedom(name):
    # two units, two periods: as many parameters as observations
    frame = pd.DataFrame(
        {"unit": [1, 1, 2, 2], "time": [1, 2, 1, 2], "y": [1.0, 3.0, 2.0, 2.5], "d": [0, 1, 0, 0]}
    )
    assert_undefined_or_refused(*fit_recording(name, frame))


def test_staggered_did_with_one_control_cluster_does_not_call_the_interval_too_narrow():
    frame = make_did_frame(n_units=6, n_periods=6, adoption=3, share_treated=5 / 6, noise=0.5)
    result, messages = fit_recording("staggered_did", frame)
    assert np.isnan(result.att.p_value)
    assert not any("too narrow" in m for m in messages), messages
    assert any("only 1 cluster holds never-treated units" in m for m in messages), messages


def test_one_warning_per_fit_names_every_term():
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3).assign(y=5.0)
    result, messages = fit_recording("event_study", frame)
    undefined = [m for m in messages if UNDEFINED in m]
    assert len(undefined) == 1
    for term in result.effects["term"]:
        if term != "e=-1":  # the reference period: zero by construction, not announced
            assert repr(term) in undefined[0]


# ------------------------------------------------------- the relative tolerance
@pytest.mark.parametrize("factor", [1e-6, 1.0, 1e12])
@pytest.mark.parametrize("name", ["did", "event_study", "its"])
def test_a_fit_without_error_gives_no_p_value_of_zero_in_any_units(name, factor):
    # noise-free additive data: standard errors of ~1e-16 times the outcome gave
    # p-values of 0 (or 1e-270); the rule is relative, so it holds in any units
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=0.0)
    frame = frame.assign(y=(frame["y"] - 0.3 * frame["x"]) * factor)
    result, messages = fit_recording(name, frame, inference="cr1")
    att = result.att
    assert att.estimate == pytest.approx(2.0 * factor, rel=1e-9)
    assert att.std_error == 0.0 and np.isnan(att.p_value)
    assert any(UNDEFINED in m for m in messages), messages


@pytest.mark.parametrize("factor", [1e-9, 1.0])
def test_genuine_small_standard_errors_are_kept(factor):
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=1e-3)
    frame = frame.assign(y=(frame["y"] - 0.3 * frame["x"]) * factor)
    result, messages = fit_recording("did", frame, inference="cr1")
    att = result.att
    assert 0 < att.std_error < 1e-3 * factor
    assert np.isfinite([att.ci_lower, att.ci_upper, att.p_value]).all()
    assert not any(UNDEFINED in m for m in messages)


def test_wald_treats_rounding_as_zero_relative_to_the_scale():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        se, lower, upper, p = wald(
            [3.0, 3e12, 3e-9],
            [1.9e-16, 1.9e-4, 1e-10],
            None,
            0.05,
            scale=[8.0, 8e12, 8e-9],
            terms=["a", "b", "c"],
        )
    # 1.9e-4 on a scale of 8e12 is rounding; 1e-10 on a scale of 8e-9 is not
    assert se.tolist()[:2] == [0.0, 0.0] and np.isnan(p[:2]).all()
    assert np.isfinite([lower[2], upper[2], p[2]]).all()
    assert len(caught) == 1 and "'a', 'b'" in str(caught[0].message)
    assert ZERO_SE_RTOL < 1e-10


# --------------------------------------------------------------------------- A4
@pytest.mark.parametrize("factor", [1e7, 1e8])
def test_matched_did_wild_interval_does_not_depend_on_the_units(factor):
    # A4: x 1e7 gave an interval excluding the estimate, x 1e8 an interval of ~(0, 0)
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=0.5, seed=1)
    base, _ = fit_recording("matched_did", frame)
    scaled, _ = fit_recording("matched_did", frame.assign(y=frame["y"] * factor))
    assert scaled.settings["inference_used"] == "wild"
    att, big = base.att, scaled.att
    assert big.ci_lower <= big.estimate <= big.ci_upper
    for field in ("estimate", "std_error", "ci_lower", "ci_upper"):
        assert getattr(big, field) / factor == pytest.approx(getattr(att, field), rel=1e-7)
    assert big.p_value == att.p_value


def test_wild_bootstrap_ignores_the_units_of_the_other_regressors():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(10), 4)
    d = (g < 4).astype(float)
    lag = rng.normal(size=40)
    X = np.column_stack([d, np.ones(40), lag])
    y = 0.5 * d + lag + rng.normal(size=40)
    base = wild_cluster_bootstrap(X, y, g, draws=999, seed=0)
    big = wild_cluster_bootstrap(X * [1.0, 1.0, 1e9], y, g, draws=999, seed=0)
    assert big.estimate == pytest.approx(base.estimate, rel=1e-9)
    assert big.p_value == base.p_value
    assert (big.ci_lower, big.ci_upper) == pytest.approx((base.ci_lower, base.ci_upper), rel=1e-7)


# --------------------------------------------------------------------------- A5
@pytest.mark.parametrize("name", ["matching", "matched_did"])
def test_matched_designs_survive_outcomes_of_1e15(name):
    # A5: both collapsed to ~0 (4e-30) once outcomes reached ~1e15
    frame = make_did_frame(n_units=10, n_periods=6, adoption=3, seed=3)
    base, _ = fit_recording(name, frame)
    big, _ = fit_recording(name, frame.assign(y=frame["y"] * 1e15))
    cols = ["estimate", "std_error"]
    np.testing.assert_allclose(
        big.effects[cols].to_numpy() / 1e15, base.effects[cols].to_numpy(), rtol=1e-7
    )


def test_staggered_standard_errors_survive_small_units():
    # R did's absolute rule (se * sqrt(n) <= 1.5e-7 is missing) made every standard
    # error NaN for an outcome in small units
    frame = make_did_frame(n_units=20, n_periods=6, adoption=3, noise=0.02, seed=3)
    base, _ = fit_recording("staggered_did", frame, inference="analytic")
    small, _ = fit_recording(
        "staggered_did", frame.assign(y=frame["y"] * 1e-9), inference="analytic"
    )
    assert np.isfinite(small.att.std_error)
    assert small.att.std_error / 1e-9 == pytest.approx(base.att.std_error, rel=1e-7)
