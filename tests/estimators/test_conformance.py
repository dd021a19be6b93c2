"""The conformance suite: one generic check over every registered estimator.

Every estimator, with its default hyperparameters, must handle the standard panel:
balanced, 40 units over 8 periods, half of them treated from the fifth period on,
unit effects, a common linear trend, low noise and a constant effect. No estimator is
special-cased by name here.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import impact
from impact import ImpactResult, Panel
from impact.result import EFFECT_COLUMNS
from tests.conftest import make_did_frame

ESTIMATORS = impact.available_estimators()
TRUE_EFFECT = 2.0
PROPERTY = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def standard_frame(*, seed: int = 0, effect: float = TRUE_EFFECT) -> pd.DataFrame:
    return make_did_frame(n_units=40, n_periods=8, adoption=4, effect=effect, noise=0.1, seed=seed)


def to_panel(frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def make_estimator(name: str):
    cls = impact.registry.get_estimator_class(name)
    params = {}
    if dataclasses.is_dataclass(cls) and "seed" in {f.name for f in dataclasses.fields(cls)}:
        params["seed"] = 12345
    return impact.get_estimator(name, **params)


def fit(name: str, frame: pd.DataFrame) -> ImpactResult:
    return make_estimator(name).fit(to_panel(frame))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_returns_result_with_canonical_columns(name):
    result = fit(name, standard_frame())
    assert isinstance(result, ImpactResult)
    assert tuple(result.effects.columns[: len(EFFECT_COLUMNS)]) == EFFECT_COLUMNS
    assert result.estimator == name
    att = result.att
    assert np.isfinite([att.estimate, att.std_error, att.ci_lower, att.ci_upper]).all()
    assert att.ci_lower <= att.estimate <= att.ci_upper
    assert 0 <= att.p_value <= 1


@pytest.mark.parametrize("name", ESTIMATORS)
def test_leaves_panel_and_frame_untouched(name):
    frame = standard_frame()
    original = frame.copy()
    panel = to_panel(frame)
    before = panel.frame
    make_estimator(name).fit(panel)
    assert_frame_equal(frame, original)
    assert_frame_equal(panel.frame, before)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_is_deterministic(name):
    frame = standard_frame(seed=4)
    assert_frame_equal(fit(name, frame).effects, fit(name, frame).effects)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_recovers_a_constant_effect(name):
    att = fit(name, standard_frame(seed=1)).att
    assert abs(att.estimate - TRUE_EFFECT) < 0.1 + 3 * att.std_error
    assert att.std_error < 0.5
    assert att.ci_lower <= TRUE_EFFECT <= att.ci_upper


@pytest.mark.parametrize("name", ESTIMATORS)
def test_interval_covers_zero_when_there_is_no_effect(name):
    att = fit(name, standard_frame(seed=2, effect=0.0)).att
    assert att.ci_lower <= 0.0 <= att.ci_upper


@pytest.mark.parametrize("name", ESTIMATORS)
@PROPERTY
@given(seed=st.integers(0, 10_000), shift=st.floats(-1e3, 1e3, allow_nan=False))
def test_shifting_the_outcome_leaves_the_estimate_unchanged(name, seed, shift):
    frame = standard_frame(seed=seed)
    base = fit(name, frame).att
    moved = fit(name, frame.assign(y=frame["y"] + shift)).att
    assert moved.estimate == pytest.approx(base.estimate, abs=1e-6)
    assert moved.std_error == pytest.approx(base.std_error, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("name", ESTIMATORS)
@PROPERTY
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0))
def test_scaling_the_outcome_scales_the_estimate(name, seed, scale):
    frame = standard_frame(seed=seed)
    base = fit(name, frame).att
    scaled = fit(name, frame.assign(y=frame["y"] * scale)).att
    assert scaled.estimate == pytest.approx(base.estimate * scale, rel=1e-6, abs=1e-9)
    assert scaled.std_error == pytest.approx(base.std_error * scale, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name", ESTIMATORS)
@PROPERTY
@given(seed=st.integers(0, 10_000), order=st.randoms(use_true_random=False))
def test_shuffling_rows_and_relabelling_units_changes_nothing(name, seed, order):
    frame = standard_frame(seed=seed)
    base = fit(name, frame).effects
    rows = list(range(len(frame)))
    order.shuffle(rows)
    labels = list(range(1000, 1040))
    order.shuffle(labels)
    relabelled = frame.iloc[rows].assign(unit=frame["unit"].iloc[rows].map(dict(enumerate(labels))))
    other = fit(name, relabelled).effects
    cols = list(EFFECT_COLUMNS[1:])
    assert list(other["term"]) == list(base["term"])
    np.testing.assert_allclose(other[cols].to_numpy(), base[cols].to_numpy(), rtol=1e-7, atol=1e-9)
