"""Checks behind :meth:`impact.panel.container.Panel.from_frame`, one function per role.

The frame's shape and value types are checked in :mod:`impact.panel._input`.
Each function works on the Panel's private copy of the caller's frame (never on the
caller's frame) and raises a :class:`~impact.exceptions.DataError` that names the
column and the offending values or rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DataWarning, warn
from impact.panel._input import (
    check_covariate_type,
    check_frame,
    check_group_weights,
    check_labels,
    check_precision,
    check_scale,
    show,
)

__all__ = [
    "cell_layout",
    "check_columns",
    "check_frame",
    "check_group_weights",
    "codes_of",
    "cohort_series",
    "copy_on_write",
    "is_numeric",
    "plain_numeric",
    "show",
    "sorted_codes",
    "unit_cohorts",
]


def copy_on_write() -> bool:
    """True when pandas' Copy-on-Write is on (always from pandas 3).

    Then a shallow copy of a frame is as private as a deep one: a change on either
    side copies the data first.
    """
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.get_option("mode.copy_on_write") is True


def is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def plain_numeric(series: pd.Series) -> bool:
    """True for int64 and float64 columns (numpy dtypes)."""
    return series.dtype in (np.dtype(np.int64), np.dtype(np.float64))


def sorted_codes(values: np.ndarray) -> tuple[np.ndarray, pd.Index, np.ndarray | None] | None:
    """Codes and sorted levels as ``pd.factorize(values, sort=True)`` gives them.

    A shortcut by array passes, without hashing, for two common layouts of int64 or
    float64 columns without missing values: values already in non-decreasing order
    (units of a frame sorted by unit), and int64 values in a narrow range (years, or
    unit numbers). Returns ``(codes, levels, starts)``, where ``starts`` holds the
    first row of each level when the values were sorted (else None), or None when
    neither shortcut applies.
    """
    n = len(values)
    if n == 0 or values.dtype not in (np.dtype(np.int64), np.dtype(np.float64)):
        return None
    head = values[: min(n, 1024)]
    if bool(np.all(head[1:] >= head[:-1])) and bool(np.all(values[1:] >= values[:-1])):
        # sorted: each level is one run
        starts = np.empty(n, dtype=bool)
        starts[0] = True
        np.not_equal(values[1:], values[:-1], out=starts[1:])
        first_rows = np.flatnonzero(starts)
        run_lengths = np.diff(first_rows, append=n)
        codes = np.repeat(np.arange(len(first_rows), dtype=np.intp), run_lengths)
        return codes, pd.Index(values[first_rows]), first_rows
    if values.dtype == np.int64:
        low, high = int(values.min()), int(values.max())
        if high - low < max(4 * n, 1 << 16):
            # a table of the range: index it by the values themselves when they are
            # small non-negative numbers (years), else by their offsets from the minimum
            base = 0 if low >= 0 and high < max(4 * n, 1 << 16) else low
            offset = values if base == 0 else values - base
            present = np.zeros(high - base + 1, dtype=bool)
            present[offset] = True
            lookup = np.cumsum(present, dtype=np.intp) - 1
            return lookup[offset], pd.Index(np.flatnonzero(present) + base), None
    return None


def codes_of(column: pd.Series) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
    """``pd.factorize(column, sort=True)``, by array passes where the data allow.

    Also returns the first row of each level when the column is sorted (else None).
    """
    if plain_numeric(column):
        found = sorted_codes(column.to_numpy())
        if found is not None:
            return found
    codes, levels = pd.factorize(column, sort=True)
    return codes, levels, None


def cell_layout(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    codes: tuple[np.ndarray, np.ndarray | None, np.ndarray, int],
    repeated_cross_section: bool | None,
) -> tuple[bool, bool, np.ndarray | None, np.ndarray | None]:
    """How the rows fill the unit-period cells, and whether they are duplicates.

    ``codes`` holds the rows' unit codes, the first row of each unit when the rows
    come sorted by unit (else None), the rows' period codes and the number of periods.
    Returns whether the rows are in unit-then-period order with one row per cell,
    whether the data are a repeated cross-section (see :meth:`Panel.from_frame`), and
    the rows' cell codes and the rows per cell (None where not needed).

    Raises
    ------
    DataError
        When a few cells hold several rows (duplicates) in data that are not a
        repeated cross-section.
    """
    unit_codes, unit_starts, time_codes, n_periods = codes
    cell_codes = None
    if unit_starts is not None:  # units sorted: periods must rise within each unit
        rising = time_codes[1:] > time_codes[:-1]
        rising[unit_starts[1:] - 1] = True
        in_order = bool(rising.all())
    else:
        cell_codes = _cell_codes(unit_codes, time_codes, n_periods)
        in_order = bool(np.all(cell_codes[1:] > cell_codes[:-1]))
    if (not in_order or repeated_cross_section) and cell_codes is None:
        cell_codes = _cell_codes(unit_codes, time_codes, n_periods)
    if in_order:  # one row per cell: no duplicates to count
        cell_counts = np.bincount(cell_codes) if repeated_cross_section else None
        return True, bool(repeated_cross_section), cell_codes, cell_counts
    cell_counts = np.bincount(cell_codes)  # rows per cell
    multi = cell_counts[cell_counts > 0] > 1
    has_dups = bool(multi.any())
    if repeated_cross_section is None:
        is_rcs = has_dups and float(multi.mean()) >= 0.5
    else:
        is_rcs = bool(repeated_cross_section)
    if has_dups and not is_rcs:
        cell_sizes = frame.groupby([unit, time], sort=False).size()
        dup = cell_sizes[cell_sizes > 1]
        raise DataError(
            f"{len(dup)} unit-period cell(s) of ({unit!r}, {time!r}) hold more than one "
            f"row, e.g. {show(list(dup.index))}; remove the duplicates, or pass "
            "repeated_cross_section=True if rows are individuals nested in units"
        )
    return False, is_rcs, cell_codes, cell_counts


def _cell_codes(unit_codes: np.ndarray, time_codes: np.ndarray, n_periods: int) -> np.ndarray:
    """The unit-period cell of each row, ``unit * n_periods + period``."""
    cells = unit_codes * n_periods
    cells += time_codes
    return cells


def cohort_series(
    first_values: np.ndarray, first_codes: np.ndarray, unit_levels: pd.Index
) -> pd.Series:
    """First treated period per unit (in ``unit_levels`` order), NaN for never treated.

    For int64/float64 units and periods this is the Series that
    ``pd.Series(first, dtype=time dtype).reindex(units).sort_index()`` gives, without
    the index alignment: int64 when every unit is treated, float64 otherwise.
    """
    if len(first_codes) == len(unit_levels):
        values = np.asarray(first_values).copy()
    else:
        values = np.full(len(unit_levels), np.nan)
        values[first_codes] = first_values
    return pd.Series(values, index=unit_levels.copy())


def _is_constant(col: pd.Series) -> bool:
    """True when every value of a column without missing values is the same."""
    if plain_numeric(col):
        values = col.to_numpy()
        if not np.all(values[:64] == values[0]):  # most columns vary early
            return False
        return bool(np.all(values == values[0]))
    return col.nunique(dropna=False) <= 1


def check_columns(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    covariates: tuple[str, ...],
    extra_outcomes: tuple[str, ...],
    cluster: str | None,
    weights: str | None,
    dropna: bool,
) -> pd.DataFrame:
    """Check and normalise the unit, time, outcome, covariate, cluster and weight columns.

    Returns the frame, with rows whose outcome is missing dropped when ``dropna``.
    """
    # unit
    if frame[unit].isna().any():
        rows = frame.index[frame[unit].isna()]
        raise DataError(f"unit column {unit!r} has missing values in rows {show(rows)}")
    for column in (unit, cluster):
        # plain values: the categories' order (and unused ones) play no part in an
        # estimate, and sorting by category order put units out of line with codes
        if column is not None and isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(frame[column].cat.categories.dtype)
    check_labels(frame[unit], "unit", unit)
    # time
    tcol = frame[time]
    if not (pd.api.types.is_numeric_dtype(tcol) or pd.api.types.is_datetime64_any_dtype(tcol)):
        raise DataError(
            f"time column {time!r} must be numeric (e.g. years) or datetime, "
            f"got dtype {tcol.dtype}; convert it with pd.to_numeric or pd.to_datetime"
        )
    if pd.api.types.is_bool_dtype(tcol):
        raise DataError(f"time column {time!r} is boolean; it must hold periods")
    if tcol.isna().any():
        rows = frame.index[tcol.isna()]
        raise DataError(f"time column {time!r} has missing values in rows {show(rows)}")
    if pd.api.types.is_float_dtype(tcol) and not np.isfinite(tcol.to_numpy(dtype=float)).all():
        rows = frame.index[~np.isfinite(tcol.to_numpy(dtype=float))]
        raise DataError(
            f"time column {time!r} has infinite values in rows {show(rows)}; periods must be finite"
        )
    # outcome
    ycol = frame[outcome]
    if not pd.api.types.is_numeric_dtype(ycol) or pd.api.types.is_bool_dtype(ycol):
        if pd.api.types.is_bool_dtype(ycol):
            frame[outcome] = ycol.astype(float)
        else:
            bad = ycol[pd.to_numeric(ycol, errors="coerce").isna() & ycol.notna()]
            raise DataError(
                f"outcome column {outcome!r} must be numeric, got dtype {ycol.dtype}"
                + (f" with values such as {show(bad.unique())}" if len(bad) else "")
            )
    if frame[outcome].dtype != np.float64:
        frame[outcome] = frame[outcome].astype(float)
    bad_y = ~np.isfinite(frame[outcome].to_numpy())
    if bad_y.any():
        if not dropna:
            raise DataError(
                f"outcome column {outcome!r} has {int(bad_y.sum())} missing or infinite "
                f"value(s) in rows {show(frame.index[bad_y])}; clean them or pass "
                "dropna=True to drop those rows"
            )
        warn(
            f"dropped {int(bad_y.sum())} row(s) whose outcome {outcome!r} is missing or infinite",
            DataWarning,
        )
        frame = frame.loc[~bad_y].copy(deep=False)  # keeps the caller's index labels
        if len(frame) == 0:
            raise DataError(f"no rows left after dropping missing outcomes in {outcome!r}")
    check_scale(frame[outcome].to_numpy(), f"outcome column {outcome!r}")
    check_precision(frame[outcome].to_numpy(), f"outcome column {outcome!r}")
    # covariates
    for cov in covariates:
        col = frame[cov]
        check_covariate_type(col, cov)
        all_finite = col.dtype == np.float64 and bool(np.isfinite(col.to_numpy()).all())
        if not all_finite and col.isna().any():
            rows = frame.index[col.isna()]
            raise DataError(
                f"covariate {cov!r} has missing values in rows {show(rows)}; impute or "
                "drop them before building the Panel"
            )
        if not all_finite and is_numeric(col) and not np.isfinite(col.to_numpy(dtype=float)).all():
            rows = frame.index[~np.isfinite(col.to_numpy(dtype=float))]
            raise DataError(f"covariate {cov!r} has infinite values in rows {show(rows)}")
        if is_numeric(col):
            check_scale(col.to_numpy(dtype=float), f"covariate {cov!r}")
        if _is_constant(col):
            raise DataError(
                f"covariate {cov!r} is constant ({show(col.iloc[:1])} in every row); it "
                "carries no information, drop it"
            )
    # extra outcomes
    for extra in extra_outcomes:
        col = frame[extra]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            raise DataError(f"outcome column {extra!r} must be numeric, got dtype {col.dtype}")
        values = col.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            rows = frame.index[~np.isfinite(values)]
            raise DataError(
                f"outcome column {extra!r} has missing or infinite values in rows "
                f"{show(rows)}; every outcome of a Panel must be observed in every row"
            )
        frame[extra] = values
    # cluster and weights
    if cluster is not None and frame[cluster].isna().any():
        rows = frame.index[frame[cluster].isna()]
        raise DataError(f"cluster column {cluster!r} has missing values in rows {show(rows)}")
    if weights is not None:
        w = frame[weights]
        if not is_numeric(w):
            raise DataError(f"weights column {weights!r} must be numeric, got {w.dtype}")
        wv = w.to_numpy(dtype=float)
        bad = ~np.isfinite(wv) | (wv < 0)
        if bad.any():
            raise DataError(
                f"weights column {weights!r} must be finite and non-negative; rows "
                f"{show(frame.index[bad])} are not"
            )
        if not (wv > 0).any():
            raise DataError(f"weights column {weights!r} is zero in every row")
        frame[weights] = wv
    return frame


def unit_cohorts(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treated: str | None,
    cohort: str | None,
    absorbing: bool,
    is_rcs: bool,
    codes: tuple[np.ndarray, pd.Index, np.ndarray | None, np.ndarray, pd.Index],
    cells: tuple[np.ndarray | None, np.ndarray | None],
) -> tuple[pd.Series, str, str | None]:
    """Check the treatment, from a 0/1 ``treated`` column or a ``cohort`` column.

    ``codes``: the rows' unit codes, the sorted units, the first row of each unit
    (None unless rows are sorted by unit), the rows' period codes and the sorted
    periods; ``cells``: the rows' cell codes and rows per cell (see
    :func:`cell_layout`). Returns each unit's first treated period (named "cohort",
    indexed by the sorted units), the name of the 0/1 treated column (derived from
    the cohort column if need be) and the cohort column's name (None when given a
    treated column).
    """
    unit_codes, unit_levels, unit_starts, time_codes, time_levels = codes
    if treated is not None:
        unit_cohort = cohort_from_treated(
            frame,
            unit=unit,
            time=time,
            treated=treated,
            absorbing=absorbing,
            is_rcs=is_rcs,
            codes=(unit_codes, time_codes, *cells),
            unit_levels=unit_levels,
        )
    else:
        unit_cohort, treated = cohort_from_column(
            frame,
            unit=unit,
            time=time,
            cohort=cohort,
            codes=(unit_codes, unit_levels, time_levels, unit_starts),
        )
    unit_cohort.index.name = unit
    unit_cohort.name = "cohort"
    return unit_cohort.sort_index(), treated, cohort


def cohort_from_treated(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treated: str,
    absorbing: bool,
    is_rcs: bool,
    codes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    unit_levels: pd.Index,
) -> pd.Series:
    """Check a 0/1 treated column (in place) and return each unit's first treated period.

    ``codes`` holds the unit, time and unit-period cell codes of the rows and the
    number of rows per cell.
    """
    unit_codes, time_codes, cell_codes, cell_counts = codes
    dcol = frame[treated]
    if dcol.dtype != np.int64 and dcol.isna().any():
        rows = frame.index[dcol.isna()]
        raise DataError(
            f"treated column {treated!r} has missing values in rows {show(rows)}; it must "
            "hold 0 or 1 in every row (drop or fill those rows first)"
        )
    if pd.api.types.is_bool_dtype(dcol):
        frame[treated] = dcol.astype(np.int8)
    else:
        if not pd.api.types.is_numeric_dtype(dcol):
            raise DataError(
                f"treated column {treated!r} must be 0/1 or boolean, got dtype "
                f"{dcol.dtype} with values {show(pd.unique(dcol))}"
            )
        values = pd.unique(dcol)
        bad = [v for v in values if not (v == 0 or v == 1)]
        if bad:
            raise DataError(f"treated column {treated!r} must hold only 0 and 1, found {show(bad)}")
        if dcol.dtype != np.int8:
            frame[treated] = dcol.astype(np.int8)
    d_rows = frame[treated].to_numpy()
    if is_rcs:
        ones = np.bincount(cell_codes, weights=d_rows, minlength=len(cell_counts))
        if ((ones > 0) & (ones < cell_counts)).any():
            spread = frame.groupby([unit, time], sort=False)[treated].agg(["min", "max"])
            mixed = spread.index[spread["min"] != spread["max"]]
            raise DataError(
                f"treated column {treated!r} differs between rows of the same "
                f"unit-period {show(list(mixed))}; assignment must be at the unit "
                f"level ({unit!r})"
            )
    # in unit-then-period order (a stable sort, as sort_values(kind="stable"))
    order = np.lexsort((time_codes, unit_codes))
    d = d_rows[order]
    ordered_codes = unit_codes[order]
    same_unit = ordered_codes[1:] == ordered_codes[:-1]
    switch_off = same_unit & (d[:-1] == 1) & (d[1:] == 0)
    if switch_off.any() and absorbing:
        bad_units = pd.unique(frame[unit].to_numpy()[order][1:][switch_off])
        raise DataError(
            f"treated column {treated!r} switches from 1 back to 0 for unit(s) "
            f"{show(bad_units)}; treatment must be absorbing, or pass "
            "absorbing=False"
        )
    # first treated period per unit: the first treated row in unit-period order
    on = d == 1
    first_codes, at = np.unique(ordered_codes[on], return_index=True)
    first_values = frame[time].to_numpy()[order][on][at]
    if plain_numeric(frame[unit]) and plain_numeric(frame[time]):
        # the same Series as the general path below, built from the codes
        unit_cohort = cohort_series(first_values, first_codes, unit_levels)
    else:
        first = pd.Series(first_values, index=unit_levels.take(first_codes))
        units = pd.unique(frame[unit])
        unit_cohort = pd.Series(first, dtype=frame[time].dtype).reindex(units)
    return unit_cohort


def cohort_from_column(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    cohort: str,
    codes: tuple[np.ndarray, pd.Index, pd.Index, np.ndarray | None],
) -> tuple[pd.Series, str]:
    """Check a cohort column, add the derived 0/1 treated column (in place).

    ``codes`` holds the unit code of each row, the sorted units and periods, and the
    first row of each unit when the rows come sorted by unit (else None).
    Returns each unit's first treated period (indexed by the sorted units) and the
    name of the treated column.
    """
    ccol = frame[cohort]
    if not (
        pd.api.types.is_numeric_dtype(ccol) or pd.api.types.is_datetime64_any_dtype(ccol)
    ) or pd.api.types.is_bool_dtype(ccol):
        hint = (
            "; with datetime periods mark never-treated units with NaT, not 0"
            if pd.api.types.is_datetime64_any_dtype(frame[time])
            else ""
        )
        raise DataError(
            f"cohort column {cohort!r} must hold the first treated period (same type "
            f"as {time!r}), got dtype {ccol.dtype}{hint}"
        )
    dated = pd.api.types.is_datetime64_any_dtype(frame[time])
    if dated != pd.api.types.is_datetime64_any_dtype(ccol):
        never = ccol.isna() | (ccol == 0) if dated else ccol.isna()
        if not dated or not never.all():
            kind = "dates" if dated else "numbers"
            raise DataError(
                f"cohort column {cohort!r} must hold periods of the same type as time column "
                f"{time!r} ({kind}, dtype {frame[time].dtype}), got dtype {ccol.dtype}"
                + ("; use NaT for never-treated units" if dated else "")
            )
        ccol = pd.Series(pd.NaT, index=ccol.index, dtype=frame[time].dtype)  # none treated
    treated = "treated" if "treated" not in frame.columns else "_treated"
    if plain_numeric(ccol) and plain_numeric(frame[unit]) and plain_numeric(frame[time]):
        found = _unit_cohorts(ccol.to_numpy(), codes)
        if found is not None:  # else the general path below words the error
            unit_codes, unit_levels, _, _ = codes
            unit_cohort = pd.Series(found, index=unit_levels.copy())
            start = found[unit_codes]
            frame[treated] = np.greater_equal(frame[time].to_numpy(), start).view(np.int8)
            return unit_cohort, treated
    if pd.api.types.is_datetime64_any_dtype(ccol):
        never = ccol.isna()
    else:
        never = ccol.isna() | (ccol == 0)
    spread = ccol.where(~never).groupby(frame[unit], sort=False).nunique(dropna=False)
    varying = spread.index[spread > 1]
    if len(varying):
        raise DataError(
            f"cohort column {cohort!r} varies within unit(s) {show(varying)}; it "
            "must hold one first-treated period per unit"
        )
    observed = set(pd.unique(frame[time]))
    cvals = pd.unique(ccol[~never])
    off = [v for v in cvals if v not in observed]
    if off:
        raise DataError(
            f"cohort column {cohort!r} holds value(s) {show(sorted(off))} that are "
            f"not observed periods of {time!r}; use 0 or NaN for never-treated units"
        )
    first = ccol.where(~never).groupby(frame[unit], sort=False).first()
    unit_cohort = first.reindex(pd.unique(frame[unit]))
    if not pd.api.types.is_datetime64_any_dtype(ccol):
        unit_cohort = unit_cohort.astype(float)
    row_cohort = frame[unit].map(unit_cohort)
    frame[treated] = (frame[time] >= row_cohort).fillna(False).astype(np.int8)
    return unit_cohort, treated


def _unit_cohorts(
    values: np.ndarray, codes: tuple[np.ndarray, pd.Index, pd.Index, np.ndarray | None]
) -> np.ndarray | None:
    """Each unit's cohort (NaN for never treated) from a numeric cohort column.

    None when the cohort varies within a unit or is not an observed period.
    """
    unit_codes, unit_levels, time_levels, starts = codes
    if starts is not None and values.dtype == np.int64:
        # rows sorted by unit: each unit's rows are one run; 0 marks never treated
        low = np.minimum.reduceat(values, starts)
        if not np.array_equal(low, np.maximum.reduceat(values, starts)):
            return None
        found = low.astype(float)
        found[low == 0] = np.nan
    else:
        values = values.astype(float)
        masked = np.where(np.isnan(values) | (values == 0), np.nan, values)
        some_row = np.empty(len(unit_levels), dtype=np.intp)
        some_row[unit_codes] = np.arange(len(values))  # any row of each unit will do
        found = masked[some_row]
        ref = found[unit_codes]
        same = (masked == ref) | (np.isnan(masked) & np.isnan(ref))
        if not same.all():
            return None
    cohorts = np.unique(found[~np.isnan(found)])
    if not np.isin(cohorts, time_levels.to_numpy()).all():
        return None
    return found
