"""The ``absorb`` parameter of the DiD family: extra fixed effects named by Panel columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DesignError
from impact.inference.absorbed import AbsorbedEffects

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["Absorb", "absorbed_effects", "check_absorb", "refuse_absorb"]

Absorb = tuple[str | tuple[str, ...], ...]

# inference methods that cannot take absorbed effects (see impact.inference.coefficient)
_NOT_WITH_ABSORB = ("cr2", "cr3", "randomization")


def check_absorb(absorb: object, inference: str) -> Absorb:
    """``absorb`` as a tuple of column names and tuples of names (interactions).

    Raises a :class:`DesignError` for anything else, and for an inference method that
    cannot take absorbed effects.
    """
    if isinstance(absorb, str):
        absorb = (absorb,)
    if not isinstance(absorb, tuple | list):
        raise DesignError(
            f"absorb={absorb!r} must be a tuple of column names or of tuples of names "
            "(an interaction), e.g. absorb=('pupil', ('school', 'year'))"
        )
    items: list[str | tuple[str, ...]] = []
    for item in absorb:
        if isinstance(item, str):
            items.append(item)
        elif isinstance(item, tuple | list) and item and all(isinstance(c, str) for c in item):
            items.append(tuple(item))
        else:
            raise DesignError(
                f"absorb item {item!r} must be a column name or a tuple of column names "
                "(their interaction, fixest's a^b)"
            )
    if items and inference in _NOT_WITH_ABSORB:
        raise DesignError(
            f"inference={inference!r} is not available with absorbed effects: its "
            "adjustment would need their projection; use 'cr1', 'wild', 'twoway' or "
            "'driscoll_kraay' (or 'auto')"
        )
    return tuple(items)


def label(item: str | tuple[str, ...]) -> str:
    """An effect's name in messages: the column, or ``fixest``'s ``a^b`` for an interaction."""
    return item if isinstance(item, str) else "^".join(item)


def absorbed_effects(
    panel: Panel,
    absorb: Absorb,
    period_codes: np.ndarray,
    rows: np.ndarray | None = None,
) -> AbsorbedEffects:
    """The period effects and the effects ``absorb`` names, for the regression's rows.

    Parameters
    ----------
    panel : Panel
        The data; every column named must be one of its columns.
    absorb : tuple
        Column names and tuples of names (interactions).
    period_codes : ndarray
        Period (or pre/post) of each row of the regression.
    rows : ndarray, optional
        The Panel's rows in the regression (a mask or positions); all by default.

    Raises
    ------
    DataError
        For a column the Panel does not hold, or one with missing values.
    """
    held = set(panel.view().columns)
    labels = [panel.time]
    codes = [np.asarray(period_codes)]
    for item in absorb:
        columns = (item,) if isinstance(item, str) else item
        for column in columns:
            if column not in held:
                raise DataError(
                    f"absorb names column {column!r}, which the Panel does not hold; carry "
                    f"it with Panel.from_frame(..., fixed_effects=[{column!r}])"
                )
        values = [pd.Series(panel.values(c)) for c in columns]
        for column, series in zip(columns, values, strict=True):
            missing = series.isna().to_numpy()
            if missing.any():
                raise DataError(
                    f"absorbed column {column!r} has {int(missing.sum())} missing value(s) "
                    f"(first in row {int(np.flatnonzero(missing)[0])}); fill or drop them "
                    "before building the Panel"
                )
        if len(values) == 1:
            code = pd.factorize(values[0])[0]
        else:
            code = pd.MultiIndex.from_arrays(values).factorize()[0]
        labels.append(label(item))
        codes.append(code if rows is None else code[rows])
    return AbsorbedEffects(tuple(labels), tuple(codes), base=1)


def refuse_absorb(absorb: Absorb, what: str) -> None:
    """Raise when ``what`` cannot yet account for absorbed effects."""
    if absorb:
        raise DesignError(
            f"{what} does not take absorbed effects yet (absorb={absorb!r}); estimate "
            "each outcome or subgroup on its own"
        )
