"""The checks of a Scenario's fields, run once when it is built.

Every field's type and range, and the combinations that cannot be simulated; the first
field out of range is a DesignError naming it.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np

from impact.simulations.scenario import (
    _REAL_FIELDS,
    OUTCOMES,
    PROFILES,
    SELECTIONS,
    VIOLATION_SHAPES,
    _fail,
)

if TYPE_CHECKING:
    from impact.simulations.scenario import Scenario

__all__ = ["check_scenario"]


def check_scenario(scenario: Scenario) -> None:
    """Raise a DesignError naming the first field of ``scenario`` that is out of range."""
    for name in (
        "n_units",
        "n_periods",
        "first_period",
        "adoption_period",
        "anticipation",
        "violation_start",
        "n_factors",
    ):
        value = getattr(scenario, name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            _fail(f"{name}={value!r} must be an integer")
    for name in _REAL_FIELDS:
        value = getattr(scenario, name)
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            _fail(f"{name}={value!r} must be a number")
    if not isinstance(scenario.cohorts, tuple | list) or any(
        not isinstance(pair, tuple | list)
        or len(pair) != 2
        or not all(isinstance(v, int | float | np.number) for v in pair)
        for pair in scenario.cohorts
    ):
        _fail(
            f"cohorts={scenario.cohorts!r} must be a tuple of (start period, share) pairs, "
            "e.g. ((3, 0.3), (5, 0.3))"
        )
    if isinstance(scenario.panel_covariates, str) or not isinstance(
        scenario.panel_covariates, tuple | list
    ):
        _fail(
            f"panel_covariates={scenario.panel_covariates!r} must be a tuple of names, e.g. ('x',)"
        )
    for f in fields(scenario):
        value = getattr(scenario, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            _fail(f"{f.name}={value!r} must be finite")
    if scenario.n_units < 2:
        _fail(f"n_units={scenario.n_units} must be at least 2")
    if not 0 <= scenario.subgroup_share < 1:
        _fail(f"subgroup_share={scenario.subgroup_share!r} must be in [0, 1)")
    if scenario.n_periods < 1:
        _fail(f"n_periods={scenario.n_periods} must be at least 1")
    if scenario.pupils_per_unit is not None and (
        isinstance(scenario.pupils_per_unit, bool)
        or not isinstance(scenario.pupils_per_unit, int | np.integer)
        or scenario.pupils_per_unit < 1
    ):
        _fail(f"pupils_per_unit={scenario.pupils_per_unit!r} must be None or a positive integer")
    if scenario.follow_pupils and scenario.pupils_per_unit is None:
        _fail("follow_pupils=True needs pupils_per_unit (pupils to follow)")
    if scenario.outcome not in OUTCOMES:
        _fail(f"outcome={scenario.outcome!r} is not valid; choose one of {OUTCOMES}")
    if scenario.selection not in SELECTIONS:
        _fail(f"selection={scenario.selection!r} is not valid; choose one of {SELECTIONS}")
    if not (callable(scenario.profile) or scenario.profile in PROFILES):
        _fail(f"profile={scenario.profile!r} must be one of {PROFILES} or a callable")
    if not (callable(scenario.violation_shape) or scenario.violation_shape in VIOLATION_SHAPES):
        _fail(
            f"violation_shape={scenario.violation_shape!r} must be one of {VIOLATION_SHAPES} "
            "or a callable of event time"
        )
    if not (callable(scenario.trend) or isinstance(scenario.trend, int | float)):
        _fail(f"trend={scenario.trend!r} must be a number (per period) or a callable of time")
    for name in (
        "unit_sd",
        "unit_trend_sd",
        "noise_sd",
        "pupil_sd",
        "pupil_noise_sd",
        "exposure_cv",
    ):
        if getattr(scenario, name) < 0:
            _fail(f"{name}={getattr(scenario, name)!r} is a standard deviation: it must be >= 0")
    if not -1 < scenario.rho < 1:
        _fail(f"rho={scenario.rho!r} must lie strictly between -1 and 1")
    if scenario.exposure <= 0:
        _fail(f"exposure={scenario.exposure!r} must be positive")
    if scenario.half_life <= 0:
        _fail(f"half_life={scenario.half_life!r} must be positive (periods)")
    if scenario.anticipation < 0:
        _fail(f"anticipation={scenario.anticipation!r} must be >= 0 periods")
    if not 0 <= scenario.attrition < 1:
        _fail(f"attrition={scenario.attrition!r} must lie in [0, 1)")
    if scenario.n_factors < 0:
        _fail(f"n_factors={scenario.n_factors!r} must be >= 0")
    if scenario.factor_sd < 0:
        _fail(f"factor_sd={scenario.factor_sd!r} is a standard deviation: it must be >= 0")
    if scenario.selection == "factor" and scenario.n_factors == 0:
        _fail("selection='factor' needs latent factors: set n_factors >= 1")
    if scenario.selection == "trend" and scenario.unit_trend_sd == 0:
        _fail("selection='trend' needs unit-specific trends: set unit_trend_sd > 0")
    bad_cov = [c for c in scenario.panel_covariates if c not in ("x", "climate")]
    if bad_cov:
        _fail(f"panel_covariates {bad_cov!r} are not simulated; choose from 'x', 'climate'")
    # adoption
    if scenario.cohorts:
        for pair in scenario.cohorts:
            if len(pair) != 2:
                _fail(f"cohorts entry {pair!r} must be a (start period, share) pair")
            start, share = pair
            if not 1 <= start <= scenario.n_periods:
                _fail(f"cohort start {start!r} must be a period in 1..{scenario.n_periods}")
            if not 0 < share <= 1:
                _fail(f"cohort share {share!r} must lie in (0, 1]")
        starts = [p[0] for p in scenario.cohorts]
        if len(set(starts)) != len(starts):
            _fail(f"cohorts {scenario.cohorts!r} repeat a start period; merge their shares")
        if sum(p[1] for p in scenario.cohorts) > 1 + 1e-9:
            _fail(f"cohort shares {scenario.cohorts!r} sum to more than 1")
    else:
        if not 1 <= scenario.adoption_period <= scenario.n_periods:
            _fail(
                f"adoption_period={scenario.adoption_period} must be a period in "
                f"1..{scenario.n_periods}"
            )
        if not 0 < scenario.treated_share <= 1:
            _fail(f"treated_share={scenario.treated_share!r} must lie in (0, 1]")
    sizes = scenario.cohort_sizes
    if sum(sizes.values()) == 0:
        _fail(
            f"no unit is treated: the shares give 0 of {scenario.n_units} units; raise "
            "treated_share or n_units"
        )
    n_never = scenario.n_units - sum(sizes.values())
    spill = scenario.spillover_units
    if isinstance(spill, tuple | list):
        labels = list(spill)
        if any(not 1 <= int(u) <= scenario.n_units for u in labels):
            _fail(f"spillover_units {labels!r} must be unit labels in 1..{scenario.n_units}")
        n_spill = len(set(labels))
    elif isinstance(spill, int | np.integer) and not isinstance(spill, bool) and spill >= 0:
        n_spill = int(spill)
    else:
        _fail(f"spillover_units={spill!r} must be a count or a tuple of unit labels")
    if n_spill > n_never:
        _fail(f"{n_spill} spillover unit(s) requested but only {n_never} unit(s) are never treated")
