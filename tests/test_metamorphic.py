"""Metamorphic tests: every registered estimator on generated panels.

Hypothesis draws panels an evaluator may meet (balanced or with missing unit-periods,
one adoption date or staggered cohorts, noise-free or noisy, a shared national rise)
and checks, for every estimator in ``available_estimators()`` with no special case by
name, relations that must hold whatever the data:

- the contract: a fit returns a result whose ``att`` estimate is finite, or raises one
  of the package's own errors; a NaN standard error or interval comes with a warning;
- presentation changes nothing: shuffled rows, another index, unit ids of another type
  and order, periods as datetimes (naive or time-zone aware) or floats, a boolean
  treatment column all give the same effects table;
- the outcome's units: shifting it leaves every statistic unchanged and scaling it by
  ``c`` (from 1e-6 to 1e12) scales estimates, standard errors and intervals by ``c`` and
  leaves p-values unchanged (to 1e-7 relative);
- noise-free additive data (unit effect + period effect + constant effect) give the
  true effect in the difference-in-differences family.

Each test draws 20 examples per estimator (the same ones every run), so a CI run checks
about 300 panels; ``IMPACT_METAMORPHIC_EXAMPLES=N`` draws N fresh examples per test
instead. A failure prints the panel's recipe, which reproduces it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import impact
from impact import Panel
from impact.exceptions import ImpactError, ImpactWarning
from impact.result import EFFECT_COLUMNS

ESTIMATORS = impact.available_estimators()
DID_FAMILY = ("did", "event_study", "staggered_did")
STATISTICS = list(EFFECT_COLUMNS[1:])  # estimate, std_error, ci_lower, ci_upper, p_value
SCALED = ["estimate", "std_error", "ci_lower", "ci_upper"]
# a longer, randomised run: IMPACT_METAMORPHIC_EXAMPLES=500 pytest tests/test_metamorphic.py
_LONG_RUN = os.environ.get("IMPACT_METAMORPHIC_EXAMPLES")
EXAMPLES = settings(
    max_examples=int(_LONG_RUN or 20),
    deadline=None,
    derandomize=_LONG_RUN is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIRST_YEAR = 2010


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a generated panel was drawn; ``repr`` reproduces it."""

    n_units: int
    n_periods: int
    cohorts: tuple[int, ...]  # adoption position of each treated cohort
    share_treated: float
    noise: float
    effect: float
    missing: float  # share of unit-periods dropped at random
    seed: int


@st.composite
def recipes(draw: st.DrawFn, *, noise_free: bool | None = None) -> Recipe:
    n_periods = draw(st.integers(4, 8))
    staggered = draw(st.booleans())
    positions = list(range(2, n_periods))
    if staggered and len(positions) >= 2:
        cohorts = tuple(sorted(draw(st.sets(st.sampled_from(positions), min_size=2, max_size=3))))
    else:
        cohorts = (draw(st.sampled_from(positions)),)
    if noise_free is None:
        noise = draw(st.sampled_from([0.0, 0.3, 1.0]))
    else:
        noise = 0.0 if noise_free else 0.5
    return Recipe(
        n_units=draw(st.integers(12, 40)),
        n_periods=n_periods,
        cohorts=cohorts,
        share_treated=draw(st.sampled_from([0.25, 0.5])),
        noise=noise,
        effect=draw(st.sampled_from([0.0, 1.5, -2.0])),
        missing=draw(st.sampled_from([0.0, 0.0, 0.08])),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


def make_frame(recipe: Recipe) -> pd.DataFrame:
    """Long frame: y = unit effect + national rise + effect * D (+ noise), a covariate x."""
    rng = np.random.default_rng(recipe.seed)
    n, t = recipe.n_units, recipe.n_periods
    n_treated = max(len(recipe.cohorts), round(recipe.share_treated * n))
    adoption = np.full(n, np.inf)
    adoption[:n_treated] = np.resize(recipe.cohorts, n_treated)
    unit = np.repeat(np.arange(n), t)
    pos = np.tile(np.arange(t), n)
    d = (pos >= adoption[unit]).astype(int)
    level = rng.normal(0, 2, n)
    rise = np.cumsum(rng.uniform(0, 1, t))  # the national rise every unit shares
    x = rng.normal(0, 1, n)[unit]
    y = 50 + level[unit] + rise[pos] + recipe.effect * d
    y = y + rng.normal(0, recipe.noise, len(y)) if recipe.noise else y
    frame = pd.DataFrame({"unit": unit, "time": FIRST_YEAR + pos, "y": y, "d": d, "x": x})
    if recipe.missing:
        keep = rng.uniform(size=len(frame)) >= recipe.missing
        keep[pos == 0] = True  # every unit keeps a first period
        frame = frame[keep].reset_index(drop=True)
    return frame


def to_panel(frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def estimator(name: str) -> Any:
    cls = impact.registry.get_estimator_class(name)
    params = {}
    if dataclasses.is_dataclass(cls) and "seed" in {f.name for f in dataclasses.fields(cls)}:
        params["seed"] = 2026
    return impact.get_estimator(name, **params)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a fit gave: its effects table and warnings, or the package error it raised."""

    effects: pd.DataFrame | None
    error: ImpactError | None
    warned: tuple[str, ...]


def run(name: str, frame: pd.DataFrame) -> Outcome:
    """Fit ``name`` on ``frame``: a result or one of the package's errors, nothing else."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = estimator(name).fit(to_panel(frame))
        except ImpactError as error:
            return Outcome(None, error, ())
    foreign = [w for w in caught if not issubclass(w.category, ImpactWarning)]
    assert not foreign, f"{name}: warnings not of the package's own types: {foreign}"
    return Outcome(result.effects, None, tuple(str(w.message) for w in caught))


def check_contract(name: str, outcome: Outcome) -> None:
    if outcome.effects is None:
        return
    att = outcome.effects.set_index("term").loc["att"]
    assert np.isfinite(att["estimate"]), f"{name}: att estimate {att['estimate']}"
    undefined = not np.isfinite(att[["std_error", "p_value"]].astype(float)).all()
    if undefined or np.isnan(att[["ci_lower", "ci_upper"]].astype(float)).any():
        assert outcome.warned, f"{name}: att {att.to_dict()} without a warning"
    if np.isfinite(att["std_error"]):
        assert att["std_error"] > 0 or att["p_value"] != 0, f"{name}: p = 0 from a zero SE"


def assert_same(
    name: str,
    base: Outcome,
    other: Outcome,
    *,
    magnitude: float,
    transform: Callable | None = None,
) -> None:
    """The two fits agree: both raise the same error type, or give the same statistics.

    Finite values agree to 1e-7 relative to the larger of the value and its standard
    error (an estimate of zero has no relative scale of its own), with a floor of 1e-11
    of the outcome's ``magnitude`` (rounding in a fit of outcomes near 50 leaves
    estimates of about 1e-14 where the truth is 0); infinite and NaN values must match
    exactly.
    """
    if base.error is not None or other.error is not None:
        assert type(base.error) is type(other.error), (
            f"{name}: {base.error!r} against {other.error!r}"
        )
        return
    left, right = base.effects, other.effects
    assert len(left) == len(right), f"{name}: {len(left)} terms against {len(right)}"
    expected = left[STATISTICS].astype(float).copy()
    if transform is not None:
        expected = transform(expected)
    got = right[STATISTICS].astype(float)
    se = np.abs(expected["std_error"].to_numpy())
    for column in STATISTICS:
        a, b = expected[column].to_numpy(), got[column].to_numpy()
        finite = np.isfinite(a)
        assert (np.isfinite(b) == finite).all(), f"{name}: {column} {a} against {b}"
        assert (np.isnan(a) == np.isnan(b)).all(), f"{name}: {column} {a} against {b}"
        assert (a[np.isinf(a)] == b[np.isinf(a)]).all(), f"{name}: {column} {a} against {b}"
        if column == "p_value":
            scale = np.ones_like(a)
        else:
            scale = np.fmax(np.abs(a), np.where(np.isfinite(se), se, 0.0))
            scale = np.fmax(scale, 1e-4 * magnitude)
        gap = np.abs(b[finite] - a[finite])
        assert (gap <= 1e-7 * scale[finite]).all(), (
            f"{name}: {column} {a[finite]} against {b[finite]}"
        )


# -- presentation ---------------------------------------------------------------------


def shuffle_rows(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.iloc[rng.permutation(len(frame))]


def string_index(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    labels = [f"row-{i}" for i in rng.permutation(len(frame))]
    return frame.set_axis(pd.Index(labels), axis=0)


def string_units(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    units = frame["unit"].unique()
    codes = rng.permutation(999)[: len(units)]
    names = {u: f"school {code:03d}" for u, code in zip(units, codes, strict=True)}
    return frame.assign(unit=frame["unit"].map(names))


def datetime_periods(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(time=pd.to_datetime(frame["time"].astype(str) + "-08-01"))


def tz_periods(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    stamps = pd.to_datetime(frame["time"].astype(str) + "-08-01").dt.tz_localize("Europe/London")
    return frame.assign(time=stamps)


def float_periods(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(time=frame["time"].astype(float))


def bool_treatment(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(d=frame["d"].astype(bool))


PRESENTATIONS = {
    f.__name__: f
    for f in (
        shuffle_rows,
        string_index,
        string_units,
        datetime_periods,
        tz_periods,
        float_periods,
        bool_treatment,
    )
}


@pytest.mark.parametrize("name", ESTIMATORS)
@EXAMPLES
@given(recipe=recipes(), presentation=st.sampled_from(sorted(PRESENTATIONS)))
def test_presentation_changes_nothing(name, recipe, presentation):
    frame = make_frame(recipe)
    base = run(name, frame)
    check_contract(name, base)
    changed = PRESENTATIONS[presentation](frame, np.random.default_rng(recipe.seed))
    assert_same(name, base, run(name, changed), magnitude=float(frame["y"].abs().max()))


# -- units of the outcome -------------------------------------------------------------


def _scaled(factor: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def transform(stats: pd.DataFrame) -> pd.DataFrame:
        stats[SCALED] = stats[SCALED] * factor
        return stats

    return transform


@pytest.mark.parametrize("name", ESTIMATORS)
@EXAMPLES
@given(
    recipe=recipes(noise_free=False),
    exponent=st.integers(-6, 12),
    shift=st.sampled_from([-1e3, 1.0, 1e4]),
)
def test_outcome_units_scale_and_shift(name, recipe, exponent, shift):
    frame = make_frame(recipe)
    base = run(name, frame)
    check_contract(name, base)
    factor = 10.0**exponent
    scaled = run(name, frame.assign(y=frame["y"] * factor))
    magnitude = float(frame["y"].abs().max())
    assert_same(name, base, scaled, magnitude=magnitude * factor, transform=_scaled(factor))
    moved = run(name, frame.assign(y=frame["y"] + shift * frame["y"].std()))
    assert_same(name, base, moved, magnitude=magnitude)


# -- noise-free data ------------------------------------------------------------------


@pytest.mark.parametrize("name", DID_FAMILY)
@EXAMPLES
@given(recipe=recipes(noise_free=True))
def test_noise_free_additive_data_give_the_true_effect(name, recipe):
    outcome = run(name, make_frame(recipe))
    check_contract(name, outcome)
    if outcome.error is not None:
        return  # refusing a design (e.g. one adoption date for one estimator) is allowed
    estimates = outcome.effects.set_index("term")["estimate"]
    assert math.isclose(estimates["att"], recipe.effect, abs_tol=1e-8), (
        f"{name}: att {estimates['att']} on noise-free data, truth {recipe.effect}"
    )
