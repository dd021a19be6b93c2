"""Scale and location invariance of every registered estimator (no name special-cased).

Multiplying the outcome by ``c`` must multiply every estimate, standard error and
interval bound by ``c`` and leave p-values unchanged; adding ``c`` must change
nothing; both to 1e-7 relative, for outcomes of magnitude 1e-6 to 1e12. Wild
bootstrap p-values and intervals use the same draws for the same seed, so they too
must agree up to rounding. NaN compares equal to NaN, infinite bounds to themselves.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import impact
from impact import Panel
from impact.exceptions import ImpactError
from tests.conftest import make_did_frame

ESTIMATORS = impact.available_estimators()
RTOL = 1e-7
COLUMNS = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
PROPERTY = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


DESIGNS = ("10 units", "24 units", "one treated unit")


def small_frame(seed: int, design: str) -> pd.DataFrame:
    """A small single-adoption panel: half of 10 or 24 units treated (few clusters, so
    the wild bootstrap is used; a pooled ITS), or one treated unit of 12 (a single
    ITS series with AR errors)."""
    if design == "one treated unit":
        return make_did_frame(
            n_units=12, n_periods=8, adoption=4, share_treated=1 / 12, noise=0.5, seed=seed
        )
    n_units = int(design.split()[0])
    return make_did_frame(n_units=n_units, n_periods=6, adoption=3, noise=0.5, seed=seed)


def effects(name: str, frame: pd.DataFrame) -> pd.DataFrame | type:
    """The effects table, or the type of the ImpactError the estimator raised."""
    cls = impact.registry.get_estimator_class(name)
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    params = {}
    if "seed" in fields:
        params["seed"] = 12345
    if "draws" in fields:
        params["draws"] = 999  # fewer bootstrap draws: the same for both fits
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few-clusters warnings are not the point here
        try:
            return impact.get_estimator(name, **params).fit(panel).effects
        except ImpactError as error:  # e.g. too few units to match: in any units
            return type(error)


def assert_transformed(base: pd.DataFrame, moved: pd.DataFrame, *, factor: float, atol: float):
    """``moved`` is ``base`` with estimates, errors and bounds times ``factor``."""
    if not isinstance(base, pd.DataFrame):
        assert moved is base  # the same error whatever the units
        return
    assert list(moved["term"]) == list(base["term"])
    for column in COLUMNS:
        expected = base[column].to_numpy(dtype=float)
        got = moved[column].to_numpy(dtype=float)
        if column != "p_value":
            got = got / factor
        np.testing.assert_allclose(
            got, expected, rtol=RTOL, atol=atol if column != "p_value" else 1e-12,
            equal_nan=True, err_msg=f"column {column}",
        )  # fmt: skip


@pytest.mark.parametrize("name", ESTIMATORS)
@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    design=st.sampled_from(DESIGNS),
    exponent=st.floats(-6, 12),
)
@example(seed=0, design="10 units", exponent=12.0)  # the extremes are always tried
@example(seed=1, design="24 units", exponent=7.5)
@example(seed=2, design="one treated unit", exponent=-6.0)
@example(seed=3, design="one treated unit", exponent=12.0)
def test_scaling_the_outcome_scales_every_statistic(name, seed, design, exponent):
    frame = small_frame(seed, design)
    base = effects(name, frame)
    factor = 10.0**exponent
    scaled = effects(name, frame.assign(y=frame["y"] * factor))
    # rounding of statistics near zero: relative to the outcome's spread
    assert_transformed(base, scaled, factor=factor, atol=1e-9 * frame["y"].std())


@pytest.mark.parametrize("name", ESTIMATORS)
@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    design=st.sampled_from(DESIGNS),
    exponent=st.sampled_from([-6.0, 0.0, 12.0]),
    shift=st.floats(-1e3, 1e3),
)
@example(seed=0, design="10 units", exponent=12.0, shift=1e3)
@example(seed=1, design="one treated unit", exponent=-6.0, shift=-1e3)
def test_shifting_the_outcome_changes_nothing(name, seed, design, exponent, shift):
    # the shift is in units of the outcome's spread (a larger one rounds the data
    # themselves beyond 1e-7), at the smallest, unit and largest magnitudes
    frame = small_frame(seed, design)
    frame = frame.assign(y=frame["y"] * 10.0**exponent)
    spread = frame["y"].std()
    base = effects(name, frame)
    moved = effects(name, frame.assign(y=frame["y"] + shift * spread))
    assert_transformed(base, moved, factor=1.0, atol=1e-9 * spread * (1 + abs(shift)))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        # each depended on the outcome's units through an absolute tolerance or a
        # solver's relative cut-off (estimates 25% apart, intervals 1e-6 apart)
        ("matching", {"replace": True}),
        ("matching", {"distance": "mahalanobis"}),
        ("matched_did", {"replace": True}),
        ("did", {"inference": "randomization"}),
        ("its", {"errors": "ar", "pooled": False}),
    ],
)
@pytest.mark.parametrize("factor", [1e-6, 1e12])
def test_options_once_sensitive_to_the_units(name, params, factor):
    frame = make_did_frame(n_units=30, n_periods=10, adoption=5, noise=0.5, seed=5)

    def fit(data: pd.DataFrame) -> pd.DataFrame:
        panel = Panel.from_frame(
            data, unit="unit", time="time", outcome="y", treated="d", covariates=["x"]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return impact.get_estimator(name, **params).fit(panel).effects

    base = fit(frame)
    scaled = fit(frame.assign(y=frame["y"] * factor))
    assert_transformed(base, scaled, factor=factor, atol=1e-9 * frame["y"].std())
