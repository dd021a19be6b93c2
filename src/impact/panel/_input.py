"""Checks of the frame's shape and of value types, behind :mod:`impact.panel._checks`.

Each raises a :class:`~impact.exceptions.DataError` that names the column at fault and
says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DataWarning, warn

__all__ = [
    "check_covariate_type",
    "check_frame",
    "check_group_weights",
    "check_labels",
    "check_precision",
    "check_scale",
    "show",
]

_MAX_SHOWN = 5


def show(values: Sequence[Any] | pd.Index | np.ndarray) -> str:
    """Render at most a handful of offending values for an error message."""
    values = list(values)
    shown = ", ".join(
        repr(v.item() if isinstance(v, np.generic) else v) for v in values[:_MAX_SHOWN]
    )
    if len(values) > _MAX_SHOWN:
        shown += f", ... ({len(values)} in all)"
    return shown


def check_frame(df: pd.DataFrame, names: Sequence[str]) -> None:
    """Check that the frame has flat, unique column labels and holds every named column."""
    if isinstance(df.columns, pd.MultiIndex):
        raise DataError(
            "the frame has several levels of column labels (a MultiIndex); flatten them "
            "first, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )
    missing = [c for c in names if c not in df.columns]
    if missing:
        in_index = [c for c in missing if c in df.index.names]
        hint = (
            f"; {show(in_index)} are index levels: call df.reset_index() first" if in_index else ""
        )
        raise DataError(
            f"column(s) {show(missing)} not found in the frame; "
            f"available columns are {show(list(df.columns))}{hint}"
        )
    labels = df.columns[df.columns.duplicated()]
    repeated = [c for c in dict.fromkeys(names) if c in labels]
    if repeated:
        raise DataError(
            f"column name(s) {show(repeated)} appear more than once in the frame; "
            "rename or drop the duplicate columns"
        )


def check_labels(col: pd.Series, role: str, name: str) -> None:
    """Raise when an object column of labels mixes types that cannot be sorted."""
    if col.dtype != object:
        return
    values = pd.unique(col)
    try:
        sorted(values)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values})
        raise DataError(
            f"{role} column {name!r} mixes value types ({', '.join(kinds)}) that cannot be "
            f"ordered; convert it to one type, e.g. df[{name!r}].astype(str)"
        ) from None


def check_covariate_type(col: pd.Series, cov: str) -> None:
    """Raise when an object covariate holds numbers, alone or mixed with other values."""
    if col.dtype != object:
        return
    kinds = {type(v) for v in pd.unique(col)}
    numbers = {k for k in kinds if issubclass(k, int | float | np.number) and k is not bool}
    if not numbers:
        return
    if kinds == numbers:
        raise DataError(
            f"covariate {cov!r} holds numbers in an object column; convert it with "
            f"pd.to_numeric(df[{cov!r}]) (or .astype('category') if the numbers are codes)"
        )
    names = sorted(k.__name__ for k in kinds)
    raise DataError(
        f"covariate {cov!r} mixes value types ({', '.join(names)}); convert it to "
        f"numbers with pd.to_numeric, or to categories with df[{cov!r}].astype(str)"
    )


def check_group_weights(
    weights: np.ndarray, unit_codes: np.ndarray, unit_cohort: pd.Series, name: str
) -> None:
    """Raise when the ever-treated or the never-treated units all have zero weight.

    ``unit_cohort`` is indexed by the sorted units that ``unit_codes`` number. Either
    group then drops out of every weighted estimate, which would compare the other
    group with nothing (an effect of 0, or the other group's trend).
    """
    totals = np.bincount(unit_codes, weights=weights, minlength=len(unit_cohort))
    treated = unit_cohort.notna().to_numpy()
    for group, mask in (("ever-treated", treated), ("never-treated", ~treated)):
        if mask.any() and not (totals[mask] > 0).any():
            raise DataError(
                f"weights column {name!r} is zero for every {group} unit, so those units "
                "carry no weight in any estimate; check the weights, or drop those units' "
                "rows if they are meant to be left out"
            )


_MAX_MAGNITUDE = 1e150  # squares of larger values overflow double precision


def check_scale(values: np.ndarray, what: str) -> None:
    """Raise when finite values are so large that sums of squares overflow."""
    largest = float(np.max(np.abs(values))) if len(values) else 0.0
    if largest > _MAX_MAGNITUDE:
        raise DataError(
            f"{what} holds values as large as {largest:.3g}, whose squares overflow "
            "floating point; rescale it (e.g. divide by a power of ten) first"
        )


MIN_DIGITS = 3
"""Significant digits of an outcome's variation below which the Panel warns."""


def check_precision(values: np.ndarray, what: str) -> None:
    """Warn when an outcome's variation keeps fewer than :data:`MIN_DIGITS` digits.

    A double carries about 16 significant digits, so values near ``L`` are stored
    (and every mean or residual built from them computed) to about
    ``2.2e-16 * L``. Their variation, of size ``spread`` (the range), keeps about
    ``log10(spread / (2.2e-16 * L))`` digits: ``1e12`` plus noise of 1 keeps four and
    gives standard errors good to about ``1e-6``; ``1e15`` plus noise of 1 keeps one, and
    its estimates and standard errors are mostly rounding. Below three digits a
    :class:`~impact.exceptions.DataWarning` recommends subtracting a baseline. (Standard
    errors that rounding alone could produce are reported as undefined whatever the
    warning: see :mod:`impact.inference.wald`.) A constant outcome is left to the
    estimators, which report its interval as undefined.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_precision(np.array([1e15, 1e15 + 2.0, 1e15 + 5.0]), "outcome column 'y'")
    ...     check_precision(np.array([1e12, 1e12 + 2.0, 1e12 + 5.0]), "outcome column 'y'")
    >>> len(caught), "subtract a baseline" in str(caught[0].message)
    (1, True)
    """
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    spread = float(finite.max() - finite.min())
    level = float(np.abs(finite).max())
    if spread <= 0 or spread >= level:
        return
    digits = float(np.log10(spread / (np.finfo(float).eps * level)))
    if digits < MIN_DIGITS:
        warn(
            f"{what} varies by only {spread:.3g} around values as large as {level:.3g}: "
            f"a double carries about 16 significant digits, so about {max(digits, 0):.1f} digits "
            "of that variation survive and estimates, standard errors and intervals "
            "are mostly rounding; subtract a baseline (e.g. the outcome's mean or a "
            "pre-programme level) from the outcome first",
            DataWarning,
        )
