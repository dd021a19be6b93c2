"""Hand-built staggered panels with known group-time effects, shared by the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def dynamic_effect(event_time: np.ndarray) -> np.ndarray:
    """True effect by periods since adoption: nothing on impact, then building up."""
    e = np.asarray(event_time)
    return np.where(e < 0, 0.0, 1.0 * e)


def make_staggered_frame(
    *,
    n_units: int = 300,
    n_periods: int = 8,
    cohorts: tuple[int, ...] = (3, 5),
    share_never: float = 0.34,
    noise: float = 0.05,
    seed: int = 0,
    first_period: int = 2001,
    effect=dynamic_effect,
    covariate_trend: float = 0.0,
) -> pd.DataFrame:
    """Balanced staggered panel: cohorts adopt at the given (0-based) period positions.

    ``y = unit effect + 0.5 t + covariate_trend * x * t + effect(t - g) + noise``; the
    column ``cohort`` holds the adoption year (0 for never treated) and ``truth`` the
    unit's true effect in that period.
    """
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    pos = np.tile(np.arange(n_periods), n_units)
    n_never = round(share_never * n_units)
    groups = np.full(n_units, -1)
    treated_ids = np.arange(n_never, n_units)
    groups[treated_ids] = np.array(cohorts)[np.arange(len(treated_ids)) % len(cohorts)]
    g = groups[unit]
    x_unit = rng.normal(0, 1, n_units)
    x = x_unit[unit]
    event = np.where(g >= 0, pos - g, -1)
    truth = np.where(g >= 0, effect(event), 0.0)
    y = (
        rng.normal(0, 1, n_units)[unit]
        + 0.5 * pos
        + covariate_trend * x * pos
        + truth
        + rng.normal(0, noise, len(unit))
    )
    return pd.DataFrame(
        {
            "unit": unit,
            "time": pos + first_period,
            "y": y,
            "cohort": np.where(g >= 0, g + first_period, 0),
            "d": ((g >= 0) & (pos >= g)).astype(int),
            "x": x,
            "truth": truth,
        }
    )


def make_pupil_frame(
    *,
    n_schools: int = 60,
    pupils: int = 8,
    n_periods: int = 5,
    cohorts: tuple[int, ...] = (2, 3),
    effect: float = 1.5,
    seed: int = 0,
    first_period: int = 2011,
) -> pd.DataFrame:
    """Repeated cross-section: each year a new cohort of pupils in each school."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_schools), n_periods * pupils)
    pos = np.tile(np.repeat(np.arange(n_periods), pupils), n_schools)
    groups = np.full(n_schools, -1)
    groups[n_schools // 3 :] = np.array(cohorts)[np.arange(n_schools - n_schools // 3) % 2]
    g = groups[school]
    treated = (g >= 0) & (pos >= g)
    x = rng.normal(0, 1, len(school))
    y = (
        rng.normal(0, 1, n_schools)[school]
        + 0.3 * pos
        + 0.5 * x
        + effect * treated
        + rng.normal(0, 0.5, len(school))
    )
    return pd.DataFrame(
        {
            "school": school,
            "year": pos + first_period,
            "y": y,
            "x": x,
            "cohort": np.where(g >= 0, g + first_period, 0),
            "w": rng.uniform(0.5, 2.0, len(school)),
        }
    )
