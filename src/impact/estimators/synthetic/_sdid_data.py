"""From a Panel to the matrices of synthetic DiD: checks, cohorts, covariate projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DesignError

if TYPE_CHECKING:
    from impact import Panel

__all__ = ["SdidData", "prepare"]

MIN_PRE_PERIODS = 2


@dataclass(frozen=True)
class SdidData:
    """The outcome as a units x periods matrix, with each unit's adoption period.

    ``adoption[u]`` is the index in ``periods`` of unit ``u``'s first treated period,
    ``-1`` for never-treated units. ``y`` may be the outcome net of covariates.
    """

    y: np.ndarray
    units: pd.Index
    periods: pd.Index
    adoption: np.ndarray
    y_raw: np.ndarray
    covariate_coefficients: pd.Series | None

    @property
    def controls(self) -> np.ndarray:
        return np.flatnonzero(self.adoption < 0)

    def cohorts(self) -> list[tuple[int, np.ndarray]]:
        """``(adoption index, treated unit rows)`` per cohort, earliest first."""
        starts = np.unique(self.adoption[self.adoption >= 0])
        return [(int(a), np.flatnonzero(self.adoption == a)) for a in starts]


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (for messages: ``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _show_cells(units: pd.Index, periods: pd.Index, rows: np.ndarray, cols: np.ndarray) -> str:
    pairs = [
        f"({plain(units[r])!r}, {plain(periods[c])!r})"
        for r, c in zip(rows[:6], cols[:6], strict=True)
    ]
    more = f" and {len(rows) - 6} more" if len(rows) > 6 else ""
    return ", ".join(pairs) + more


def prepare(panel: Panel, *, use_covariates: bool = True) -> SdidData:
    """Check ``panel`` for synthetic DiD and return its outcome matrix and adoption periods.

    Raises
    ------
    DataError
        For an unbalanced panel (the missing unit-period cells are named).
    DesignError
        For a cross-section, sampling weights, no treated or no never-treated unit,
        treatment that switches off, or fewer than two periods before a cohort adopts.
    """
    if panel.is_cross_section:
        raise DesignError(
            "synthetic DiD needs a panel observed over several periods; the Panel holds a "
            f"single period of {panel.time!r}"
        )
    if panel.weights:
        raise DesignError(
            f"synthetic DiD does not use sampling weights (column {panel.weights!r}): its "
            "unit weights are estimated. Build the Panel without weights="
        )
    unit_codes, unit_levels, time_codes, time_levels = panel.codes()
    n_units, n_periods = len(unit_levels), len(time_levels)
    outcome = np.asarray(panel.values(panel.outcome), dtype=float)
    counts = np.bincount(unit_codes * n_periods + time_codes, minlength=n_units * n_periods)
    sums = np.bincount(
        unit_codes * n_periods + time_codes, weights=outcome, minlength=n_units * n_periods
    )
    missing = counts == 0
    if missing.any():
        rows, cols = np.divmod(np.flatnonzero(missing), n_periods)
        raise DataError(
            f"synthetic DiD needs a balanced panel, but {int(missing.sum())} unit-period "
            f"cell(s) of ({panel.unit!r}, {panel.time!r}) have no row: "
            f"{_show_cells(unit_levels, time_levels, rows, cols)}. Fill or impute those "
            "cells, or drop the units (or periods) with gaps"
        )
    with np.errstate(invalid="ignore"):
        y = (sums / counts).reshape(n_units, n_periods)
    periods = pd.Index(time_levels, name=panel.time)
    units = pd.Index(unit_levels, name=panel.unit)
    adoption = _adoption(panel, unit_codes, time_codes, n_units, n_periods)
    if (adoption < 0).all():
        raise DesignError(f"no unit is ever treated in {panel.treated!r}; nothing to estimate")
    if not (adoption < 0).any():
        raise DesignError(
            f"every unit of {panel.unit!r} is treated at some point: synthetic DiD builds "
            "the comparison from never-treated units, and there are none"
        )
    for start in np.unique(adoption[adoption >= 0]):
        if start < MIN_PRE_PERIODS:
            cohort_units = units[adoption == start]
            raise DesignError(
                f"units {[plain(u) for u in cohort_units[:5]]!r} of {panel.unit!r} adopt in period "
                f"{plain(periods[start])!r}, leaving {int(start)} period(s) before adoption; "
                f"synthetic DiD needs at least {MIN_PRE_PERIODS} pre-periods to estimate its "
                "unit and time weights (the noise level is the spread of period-to-period "
                "changes). Drop those units or add earlier periods"
            )
    y_raw = y
    coefficients = None
    if use_covariates and panel.covariates:
        y, coefficients = _project_covariates(panel, y, adoption, unit_codes, time_codes)
    return SdidData(
        y=y,
        units=units,
        periods=periods,
        adoption=adoption,
        y_raw=y_raw,
        covariate_coefficients=coefficients,
    )


def _adoption(
    panel: Panel, unit_codes: np.ndarray, time_codes: np.ndarray, n_units: int, n_periods: int
) -> np.ndarray:
    """Index of each unit's first treated period (-1: never), checking absorbing treatment."""
    treated = np.asarray(panel.values(panel.treated), dtype=float) == 1
    first = np.full(n_units, n_periods, dtype=np.intp)
    np.minimum.at(first, unit_codes[treated], time_codes[treated])
    adoption = np.where(first < n_periods, first, -1)
    expected = (adoption[unit_codes] >= 0) & (time_codes >= adoption[unit_codes])
    switched = expected & ~treated
    if switched.any():
        where = np.flatnonzero(switched)[:5]
        levels = panel.codes()
        cells = ", ".join(
            f"({plain(levels[1][unit_codes[k]])!r}, {plain(levels[3][time_codes[k]])!r})"
            for k in where
        )
        raise DesignError(
            f"treated column {panel.treated!r} switches off after adoption, e.g. in the "
            f"cells {cells} of ({panel.unit!r}, {panel.time!r}); synthetic DiD needs "
            "treatment that stays on once it starts (absorbing)"
        )
    return adoption


def _project_covariates(
    panel: Panel,
    y: np.ndarray,
    adoption: np.ndarray,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
) -> tuple[np.ndarray, pd.Series]:
    """The outcome net of time-varying covariates, their coefficients from untreated cells.

    The "projected" approach of Kranz (2022), as Stata ``sdid``'s ``covariates(, projected)``
    (Clarke, Pailanir, Athey and Imbens 2023): regress the outcome on the covariates with
    unit and period fixed effects in the cells not (yet) treated, then subtract
    ``X beta`` from every cell's outcome. Fixed effects are absorbed by alternating
    demeaning, so the cost does not grow with the number of units squared.
    """
    n_units, n_periods = y.shape
    covariates = panel.covariate_matrix()
    names = list(covariates.columns)
    x_rows = covariates.to_numpy(dtype=float)
    cell = unit_codes * n_periods + time_codes
    counts = np.bincount(cell, minlength=n_units * n_periods)
    x = np.column_stack(
        [np.bincount(cell, weights=col, minlength=n_units * n_periods) / counts for col in x_rows.T]
    )  # (cells, k)
    untreated = ~((adoption[:, None] >= 0) & (np.arange(n_periods)[None, :] >= adoption[:, None]))
    keep = untreated.ravel()
    u = np.repeat(np.arange(n_units), n_periods)[keep]
    t = np.tile(np.arange(n_periods), n_units)[keep]
    z = np.column_stack([y.ravel()[keep], x[keep]])
    z = z - z.mean(axis=0)
    for _ in range(1000):
        before = z.copy()
        z = z - (np.bincount(u, minlength=n_units)[:, None] ** -1.0 * _group_sums(z, u, n_units))[u]
        z = (
            z
            - (np.bincount(t, minlength=n_periods)[:, None] ** -1.0 * _group_sums(z, t, n_periods))[
                t
            ]
        )
        if np.abs(z - before).max() <= 1e-13 * max(np.abs(before).max(), 1e-300):
            break
    xx = z[:, 1:]
    rank = np.linalg.matrix_rank(xx)
    if rank < xx.shape[1]:
        raise DesignError(
            f"the covariates {names!r} do not vary within units and periods among the "
            "untreated cells (or are collinear): after unit and period effects nothing is "
            "left to estimate their coefficients. Drop covariates that are constant within "
            "units or periods"
        )
    beta = np.linalg.lstsq(xx, z[:, 0], rcond=None)[0]
    adjusted = y - (x @ beta).reshape(n_units, n_periods)
    return adjusted, pd.Series(beta, index=names, name="coefficient")


def _group_sums(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    return np.column_stack([np.bincount(codes, weights=col, minlength=size) for col in values.T])
