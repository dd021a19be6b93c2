"""The synthetic control problems of a Panel: one per treated unit, and its placebos.

Reads the Panel once into periods x units arrays (the outcome and each column a
predictor averages), checks what the method needs (a balanced outcome, comparison
units, periods before each adoption, predictors that vary) and builds, for a treated
unit or a placebo, the arrays the weights are fitted to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DesignError

if TYPE_CHECKING:
    from impact import Panel

__all__ = [
    "PanelArrays",
    "PredictorSpec",
    "Problem",
    "build_problem",
    "normalize_predictors",
    "read_panel",
]

PredictorSpec = tuple[str, tuple[Any, ...] | None]
"""A predictor: a column and the periods its mean is taken over (None: the pre-periods)."""


def normalize_predictors(predictors: Any) -> tuple[PredictorSpec, ...] | None:
    """Normalise the ``predictors`` hyperparameter to ``((column, periods or None), ...)``.

    Each entry is a column name (its mean over the pre-periods, or over
    ``predictor_periods``), or a pair ``(column, periods)``: the mean over the given
    periods (one period gives that period's value, a lagged outcome when the column is
    the outcome).

    Examples
    --------
    >>> normalize_predictors(["x", ("y", range(1960, 1962)), ("y", 1969)])
    (('x', None), ('y', (1960, 1961)), ('y', (1969,)))
    """
    if predictors is None:
        return None
    if isinstance(predictors, str | bytes) or not isinstance(predictors, Iterable):
        raise DesignError(
            f"predictors={predictors!r} must be a sequence of column names or (column, "
            "periods) pairs, e.g. predictors=['income', ('y', range(1960, 1970))]"
        )
    specs: list[PredictorSpec] = []
    for entry in predictors:
        if isinstance(entry, str):
            specs.append((entry, None))
            continue
        if isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[0], str):
            column, periods = entry
            if isinstance(periods, str | bytes) or not isinstance(periods, Iterable):
                periods = (periods,)
            periods = tuple(p.item() if isinstance(p, np.generic) else p for p in periods)
            if not periods:
                raise DesignError(f"predictor {column!r} is given an empty list of periods")
            specs.append((column, periods))
            continue
        raise DesignError(
            f"predictor {entry!r} is neither a column name nor a (column, periods) pair"
        )
    if not specs:
        raise DesignError("predictors is empty; leave it None for the outcome-only variant")
    return tuple(specs)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def predictor_label(column: str, periods: Sequence[Any] | None) -> str:
    """A readable name for a predictor, e.g. ``gdpcap[1960:1969]``."""
    if periods is None:
        return column
    labels = [str(int(p)) if isinstance(p, int | np.integer) else str(p) for p in periods]
    if len(periods) == 1:
        return f"{column}[{labels[0]}]"
    numeric = all(isinstance(p, int | np.integer) for p in periods)
    if numeric and list(periods) == list(range(periods[0], periods[-1] + 1)):
        return f"{column}[{labels[0]}:{labels[-1]}]"
    return f"{column}[{','.join(labels)}]"


@dataclass(frozen=True)
class PanelArrays:
    """The Panel as arrays: periods, units, the outcome and predictor columns, adoption."""

    periods: pd.Index
    units: pd.Index
    outcome: str
    tables: dict[str, np.ndarray]  # column -> (T, N)
    adoption: dict[Any, int]  # treated unit -> position of its first treated period
    donors: np.ndarray  # positions of never-treated units


def read_panel(panel: Panel, columns: Iterable[str]) -> PanelArrays:
    """Read the outcome and ``columns`` as balanced periods x units arrays.

    Raises a DataError naming the missing unit-period cells, a DesignError when there
    are no treated or no never-treated units, or a treated unit has no period before
    its adoption.
    """
    frame = panel.frame
    unit, time, outcome = panel.unit, panel.time, panel.outcome
    t_codes, periods = pd.factorize(frame[time], sort=True)
    u_codes, units = pd.factorize(frame[unit], sort=True)
    periods, units = pd.Index(periods), pd.Index(units)
    n_t, n_u = len(periods), len(units)
    cell = t_codes * n_u + u_codes
    counts = np.bincount(cell, minlength=n_t * n_u)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0)
        shown = ", ".join(
            f"({plain(units[c % n_u])!r}, {plain(periods[c // n_u])!r})" for c in missing[:8]
        )
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise DataError(
            f"the synthetic control needs every unit observed in every period, but "
            f"{len(missing)} (unit, {time}) cells have no row: {shown}{more}. Drop the "
            f"units with gaps or fill the cells before building the Panel"
        )
    tables: dict[str, np.ndarray] = {}
    for column in dict.fromkeys([outcome, *columns]):
        if column not in frame.columns:
            raise DesignError(
                f"predictor column {column!r} is not part of the Panel; give it as a "
                f"covariate (Panel.from_frame(..., covariates=[{column!r}])) or use one of "
                f"{', '.join(map(repr, [outcome, *panel.covariates]))}"
            )
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise DesignError(
                f"predictor column {column!r} is not numeric; a synthetic control matches "
                "averages, so encode it as numbers (a share, a 0/1 indicator) first"
            )
        values = frame[column].to_numpy(dtype=float)
        # cell means (one row per cell in a panel; several in a repeated cross-section)
        sums = np.bincount(cell, weights=values, minlength=n_t * n_u)
        tables[column] = (sums / counts).reshape(n_t, n_u)
    cohort = panel.cohort
    position = {p: i for i, p in enumerate(periods)}
    adoption: dict[Any, int] = {}
    for u in panel.treated_units:
        first = cohort.loc[u]
        pos = position.get(first)
        if pos is None:  # adoption between observed periods: first observed period after it
            pos = int(np.searchsorted(periods.to_numpy(), first))
        if pos < 1:
            raise DesignError(
                f"treated unit {plain(u)!r} is treated from the first period "
                f"({plain(periods[0])!r}), so "
                "there is no pre-programme path to build its synthetic control from; drop it"
            )
        adoption[u] = pos
    if not adoption:
        raise DesignError(
            "the Panel has no treated unit; a synthetic control needs a unit that adopts"
        )
    never = panel.never_treated_units
    donors = np.flatnonzero(units.isin(never))
    if donors.size == 0:
        raise DesignError(
            "there are no comparison units: every unit is treated at some point. A "
            "synthetic control is built from never-treated units; add some to the Panel"
        )
    return PanelArrays(periods, units, outcome, tables, adoption, donors)


@dataclass(frozen=True)
class Problem:
    """One synthetic control problem: a unit, its donors and the arrays to match."""

    unit: Any
    adoption: int  # position of the first treated period
    donors: np.ndarray  # positions of the donor units
    y_treated: np.ndarray  # (T,)
    y_donors: np.ndarray  # (T, J)
    x_treated: np.ndarray | None  # (k,) raw predictors, None for outcome-only
    x_donors: np.ndarray | None  # (k, J)
    labels: tuple[str, ...]  # predictor names
    fit_rows: np.ndarray  # positions of the periods whose outcome MSPE chooses V


def predictor_rows(
    arrays: PanelArrays,
    specs: tuple[PredictorSpec, ...],
    adoption: int,
    default_periods: tuple[Any, ...] | None,
    unit: Any,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Predictor values (k, N) for every unit, for a unit adopting at ``adoption``."""
    position = {p: i for i, p in enumerate(arrays.periods)}
    rows, labels = [], []
    for column, periods in specs:
        chosen = periods if periods is not None else default_periods
        if chosen is None:
            idx = np.arange(adoption)
        else:
            unknown = [p for p in chosen if p not in position]
            if unknown:
                raise DesignError(
                    f"predictor {column!r} averages over periods {unknown!r} that the Panel "
                    f"does not have (its periods run {plain(arrays.periods[0])!r} to "
                    f"{plain(arrays.periods[-1])!r})"
                )
            idx = np.array([position[p] for p in chosen])
            late = [plain(arrays.periods[i]) for i in idx if i >= adoption]
            if late:
                raise DesignError(
                    f"predictor {column!r} uses periods {late!r}, which are not before unit "
                    f"{plain(unit)!r} adopts in {plain(arrays.periods[adoption])!r}; "
                    "predictors must be measured before the programme"
                )
        values = arrays.tables[column][idx]
        if np.isnan(values).any():
            raise DataError(f"predictor {column!r} has missing values in the periods used")
        rows.append(values.mean(axis=0))
        labels.append(predictor_label(column, periods if periods is not None else chosen))
    return np.vstack(rows), tuple(labels)


def build_problem(
    arrays: PanelArrays,
    unit_pos: int,
    donors: np.ndarray,
    adoption: int,
    *,
    specs: tuple[PredictorSpec, ...] | None,
    predictor_periods: tuple[Any, ...] | None,
    fit_periods: tuple[Any, ...] | None,
    x_all: np.ndarray | None = None,
    labels: tuple[str, ...] = (),
) -> Problem:
    """The problem of the unit at ``unit_pos`` matched by the units at ``donors``."""
    y = arrays.tables[arrays.outcome]
    unit = plain(arrays.units[unit_pos])
    if specs is not None and x_all is None:
        x_all, labels = predictor_rows(arrays, specs, adoption, predictor_periods, unit)
    if fit_periods is None:
        fit_rows = np.arange(adoption)
    else:
        position = {p: i for i, p in enumerate(arrays.periods)}
        missing = [p for p in fit_periods if p not in position]
        if missing:
            raise DesignError(f"fit_periods {missing!r} are not periods of the Panel")
        fit_rows = np.array([position[p] for p in fit_periods])
        late = [plain(arrays.periods[i]) for i in fit_rows if i >= adoption]
        if late:
            raise DesignError(
                f"fit_periods {late!r} are not before unit {unit!r} adopts in "
                f"{plain(arrays.periods[adoption])!r}; V is chosen on pre-programme periods only"
            )
    return Problem(
        unit=unit,
        adoption=adoption,
        donors=donors,
        y_treated=y[:, unit_pos],
        y_donors=y[:, donors],
        x_treated=None if x_all is None else x_all[:, unit_pos],
        x_donors=None if x_all is None else x_all[:, donors],
        labels=tuple(labels),
        fit_rows=fit_rows,
    )
