"""The public read API of :class:`~impact.panel.container.Panel`: what estimators read.

Every estimator, built in or plugged in through the ``impact.estimators`` entry point,
reads a Panel through these methods, never through its private attributes. They hand out
the Panel's own data without copying it (arrays are read-only; frames and series are
shared and must not be modified), computed once and kept, since a Panel never changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from impact.panel._checks import is_numeric

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["PanelCodes", "PanelReader"]


class PanelCodes(NamedTuple):
    """Integer codes of each row's unit and period, with the sorted levels they index.

    Attributes
    ----------
    unit_codes : numpy.ndarray
        Position of each row's unit among :attr:`units` (read-only int array).
    units : pandas.Index
        The sorted distinct units.
    time_codes : numpy.ndarray
        Position of each row's period among :attr:`periods` (read-only int array).
    periods : pandas.Index
        The sorted distinct periods.
    """

    unit_codes: np.ndarray
    units: pd.Index
    time_codes: np.ndarray
    periods: pd.Index


class PanelReader:
    """The read API :class:`~impact.panel.container.Panel` offers estimators (a mixin).

    Methods return the Panel's own data, not copies: arrays are read-only, and frames
    and series must be treated as read-only. Use :attr:`Panel.frame` for a copy to
    modify.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # provided by Panel
        _cache: dict[str, Any]
        _cohort: pd.Series
        _frame: pd.DataFrame
        unit: str
        time: str
        cluster: str | None
        weights: str | None
        covariates: tuple[str, ...]

    def _cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute a derived value once (the Panel is immutable) and keep it."""
        cache = self._cache
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def view(self) -> pd.DataFrame:
        """The validated frame itself, sorted by unit and time: no copy, read only.

        Returns
        -------
        pandas.DataFrame
            The Panel's frame; do not modify it (:attr:`Panel.frame` is a copy).

        Examples
        --------
        >>> import pandas as pd
        >>> from impact import Panel
        >>> df = pd.DataFrame({"u": [2, 2, 1, 1], "t": [1, 2, 1, 2],
        ...                    "y": [1.0, 2.0, 3.0, 5.0], "d": [0, 1, 0, 0]})
        >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
        >>> panel.view()["u"].tolist()
        [1, 1, 2, 2]
        """
        return self._frame

    def values(self, column: str) -> np.ndarray:
        """One column as a read-only array, in the order of :meth:`view`'s rows.

        Parameters
        ----------
        column : str
            A column of the Panel: ``panel.outcome``, ``panel.treated``, a covariate...

        Returns
        -------
        numpy.ndarray
            Read-only; computed once and kept.

        Examples
        --------
        >>> import pandas as pd
        >>> from impact import Panel
        >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2],
        ...                    "y": [3.0, 5.0, 1.0, 2.0], "d": [0, 0, 0, 1]})
        >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
        >>> y = panel.values(panel.outcome)
        >>> y.tolist(), y.flags.writeable
        ([3.0, 5.0, 1.0, 2.0], False)
        """

        def compute() -> np.ndarray:
            values = self._frame[column].to_numpy().view()
            values.flags.writeable = False
            return values

        return self._cached(f"values:{column}", compute)

    def weight_values(self) -> np.ndarray | None:
        """The sampling weights as a read-only array, or None when the Panel has none.

        Examples
        --------
        >>> import pandas as pd
        >>> from impact import Panel
        >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "w": [2.0] * 4,
        ...                    "y": [3.0, 5.0, 1.0, 2.0], "d": [0, 0, 0, 1]})
        >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d",
        ...                          weights="w")
        >>> panel.weight_values().tolist()
        [2.0, 2.0, 2.0, 2.0]
        """
        return None if self.weights is None else self.values(self.weights)

    def codes(self) -> PanelCodes:
        """Each row's unit and period as integer codes, with the sorted levels.

        The codes are ``pd.factorize(column, sort=True)`` of the unit and time columns,
        computed when the Panel is built.

        Returns
        -------
        PanelCodes
            ``(unit_codes, units, time_codes, periods)``.

        Examples
        --------
        >>> import pandas as pd
        >>> from impact import Panel
        >>> df = pd.DataFrame({"u": ["b", "b", "a", "a"], "t": [2001, 2002] * 2,
        ...                    "y": [1.0, 2.0, 3.0, 5.0], "d": [0, 1, 0, 0]})
        >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
        >>> codes = panel.codes()
        >>> codes.unit_codes.tolist(), list(codes.units), codes.time_codes.tolist()
        ([0, 0, 1, 1], ['a', 'b'], [0, 1, 0, 1])
        """

        def compute() -> tuple[np.ndarray, pd.Index, np.ndarray, pd.Index]:
            unit_codes, unit_levels = pd.factorize(self._frame[self.unit], sort=True)
            time_codes, time_levels = pd.factorize(self._frame[self.time], sort=True)
            return unit_codes, unit_levels, time_codes, time_levels

        return PanelCodes._make(self._cached("codes", compute))

    def cohort_view(self) -> pd.Series:
        """Each unit's first treated period (NaN/NaT if never treated): no copy, read only.

        Indexed by the sorted units, as :attr:`Panel.cohort` (which is a copy).

        Examples
        --------
        >>> import pandas as pd
        >>> from impact import Panel
        >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2],
        ...                    "y": [3.0, 5.0, 1.0, 2.0], "d": [0, 0, 0, 1]})
        >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
        >>> panel.cohort_view().tolist()
        [nan, 2.0]
        """
        return self._cohort

    def row_cohort(self) -> pd.Series:
        """The unit's cohort repeated on each row (NaN/NaT for never treated)."""
        return self._frame[self.unit].map(self._cohort)

    def covariate_matrix(self) -> pd.DataFrame:
        """Covariates as float columns, one row per row of :meth:`view`.

        Numeric and boolean covariates are cast to float; categorical and text
        covariates are one-hot encoded with the first level dropped (columns named
        ``"covariate[level]"``).
        """
        parts = []
        for cov in self.covariates:
            col = self._frame[cov]
            if is_numeric(col):
                parts.append(col.astype(float).rename(cov))
            else:
                dummies = pd.get_dummies(col, prefix=cov, prefix_sep="[", drop_first=True)
                dummies.columns = [f"{c}]" for c in dummies.columns]
                parts.append(dummies.astype(float))
        if not parts:
            return pd.DataFrame(index=self._frame.index)
        return pd.concat(parts, axis=1)

    def cluster_codes(self) -> np.ndarray:
        """Integer cluster label per row (the cluster column, or the unit)."""
        return pd.factorize(self._frame[self.cluster or self.unit], sort=True)[0]
