"""The :class:`Panel`: a validated, immutable long-format container for cohort data.

A Panel names the role of each column once (unit, time, outcome, treatment,
covariates, cluster, weights), checks the data once, and derives what every estimator
needs: the units, the periods, each unit's cohort (its first treated period), the
treated and never-treated units, and whether the data are a balanced panel, an
unbalanced panel, a cross-section or a repeated cross-section (pupils nested in
schools, each year a new cohort of pupils).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact._frozen import restore_slots
from impact.exceptions import DataError
from impact.panel._checks import (
    cell_layout,
    check_columns,
    check_frame,
    check_group_weights,
    codes_of,
    copy_on_write,
    plain_numeric,
    show,
    unit_cohorts,
)
from impact.panel._read import PanelReader
from impact.panel._trusted import trusted_cache

__all__ = ["Panel"]


class Panel(PanelReader):
    """Validated, immutable long-format data for impact estimation.

    Build it with :meth:`Panel.from_frame`; estimators take a Panel, never column names.

    Attributes
    ----------
    unit, time, outcome, treated : str
        Names of the columns holding each role. When the Panel was built from a cohort
        column, ``treated`` names a derived 0/1 column.
    cohort_column : str or None
        The cohort column the Panel was built from, if any.
    covariates : tuple of str
        Covariate columns.
    cluster : str or None
        Column of clusters for standard errors. ``None`` means clustering by unit.
    weights : str or None
        Column of sampling weights.
    fixed_effects : tuple of str
        Categorical columns carried for estimators' absorbed effects (``absorb=``).

    Notes
    -----
    Never-treated units have a missing cohort (``NaN`` or ``NaT``) in :attr:`cohort`.
    """

    __slots__ = (
        "_cache",
        "_cohort",
        "_frame_data",
        "_is_rcs",
        "absorbing",
        "cluster",
        "cohort_column",
        "covariates",
        "extra_outcomes",
        "fixed_effects",
        "outcome",
        "time",
        "treated",
        "unit",
        "weights",
    )

    def __init__(self, *_: Any, **__: Any) -> None:
        raise TypeError("build a Panel with Panel.from_frame(df, unit=..., time=..., ...)")

    @classmethod
    def _assemble(cls, **attributes: Any) -> Panel:
        """A Panel with these attributes: the one place its immutable slots are set."""
        panel = object.__new__(cls)
        for name, value in attributes.items():
            object.__setattr__(panel, name, value)
        return panel

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        unit: str,
        time: str,
        outcome: str,
        treated: str | None = None,
        cohort: str | None = None,
        covariates: Sequence[str] = (),
        cluster: str | None = None,
        weights: str | None = None,
        absorbing: bool = True,
        dropna: bool = False,
        repeated_cross_section: bool | None = None,
        extra_outcomes: Sequence[str] = (),
        fixed_effects: Sequence[str] = (),
    ) -> Panel:
        """Validate a long DataFrame and build a Panel from a copy of it.

        Parameters
        ----------
        df : pandas.DataFrame
            Long data: one row per unit and period (panel data), one row per unit
            (a cross-section), or several rows per unit and period (pupils nested in
            schools). The caller's frame is copied and never modified.
        unit : str
            Column identifying the unit of assignment (a school, a pupil); categorical
            ids are kept as their plain values (category order plays no part).
        time : str
            Column of periods, numeric (years) or datetime.
        outcome : str
            Numeric outcome column.
        treated : str, optional
            0/1 or boolean column: is the unit under the programme in that period.
        cohort : str, optional
            Column holding the unit's first treated period, with 0 or NaN for
            never-treated units (R ``did``'s ``gname``). Give exactly one of
            ``treated`` and ``cohort``.
        covariates : sequence of str
            Covariate columns (numeric, boolean or categorical), without missing
            values and not constant.
        cluster : str, optional
            Column of clusters for standard errors (schools when rows are pupils).
            By default estimators cluster by unit.
        weights : str, optional
            Column of non-negative sampling weights.
        absorbing : bool, default True
            Require that treatment never switches off once it has started.
        dropna : bool, default False
            Drop rows whose outcome is missing or infinite (with a
            :class:`~impact.exceptions.DataWarning` counting them) instead of raising.
        repeated_cross_section : bool, optional
            Whether several rows per unit and period are expected (individuals nested
            in units). ``None`` decides from the data: when most unit-period cells hold
            several rows the data are a repeated cross-section; when only a few do,
            those rows are reported as duplicates.
        extra_outcomes : sequence of str, optional
            Further numeric outcome columns to carry along (without missing values),
            so that :meth:`with_outcome` and :func:`impact.estimate_many` can analyse
            several outcomes of the same design.
        fixed_effects : sequence of str, optional
            Categorical columns (without missing values) to carry along for the fixed
            effects that regression estimators absorb (``absorb=``: pupils,
            school-by-year cells...).

        Returns
        -------
        Panel

        Raises
        ------
        DataError
            When a column is missing or malformed; the message names the column and
            the offending values or rows.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({
        ...     "school": [1, 1, 2, 2], "year": [2001, 2002, 2001, 2002],
        ...     "score": [50.0, 55.0, 48.0, 50.0], "pilot": [0, 1, 0, 0]})
        >>> panel = Panel.from_frame(df, unit="school", time="year", outcome="score",
        ...                          treated="pilot")
        >>> panel.treated_units.tolist(), panel.is_balanced
        ([1], True)
        """
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
        if (treated is None) == (cohort is None):
            raise DataError(
                "give exactly one of treated= (a 0/1 column per unit and period) and "
                "cohort= (the first treated period per unit)"
            )
        covariates = tuple(covariates)
        extra_outcomes = tuple(dict.fromkeys(extra_outcomes))
        if isinstance(fixed_effects, str):
            fixed_effects = (fixed_effects,)
        fixed_effects = tuple(dict.fromkeys(fixed_effects))
        roles = {"unit": unit, "time": time, "outcome": outcome}
        if treated is not None:
            roles["treated"] = treated
        if cohort is not None:
            roles["cohort"] = cohort
        if cluster is not None:
            roles["cluster"] = cluster
        if weights is not None:
            roles["weights"] = weights
        for name in (*roles.values(), *covariates, *extra_outcomes, *fixed_effects):
            if not isinstance(name, str):
                raise DataError(f"column names must be strings, got {name!r}")
        check_frame(df, (*roles.values(), *covariates, *extra_outcomes, *fixed_effects))
        if len(df) == 0:
            raise DataError("the frame is empty: no rows to estimate from")
        if outcome in covariates:
            raise DataError(f"column {outcome!r} is the outcome and cannot also be a covariate")
        clash = [c for c in extra_outcomes if c in (*roles.values(), *covariates)]
        if clash:
            raise DataError(
                f"extra outcome(s) {show(clash)} already have another role in the Panel"
            )
        used = list(dict.fromkeys([*roles.values(), *covariates, *extra_outcomes, *fixed_effects]))
        for name in fixed_effects:
            missing = df[name].isna().to_numpy()
            if missing.any():
                raise DataError(
                    f"fixed-effect column {name!r} has missing values in rows "
                    f"{show(df.index[missing])}; fill or drop them"
                )
        # the Panel's own copy: later changes to the caller's frame never reach it, nor
        # do the Panel's to the caller's (with Copy-on-Write a shallow copy ensures this)
        deep = not copy_on_write()
        if list(df.columns) == used:  # exactly the Panel's columns: no column lookup
            frame = df.copy(deep=deep)
        else:
            frame = df.loc[:, used].copy(deep=deep)
        # the caller's index labels stay until the checks are done: errors quote them

        frame = check_columns(
            frame,
            unit=unit,
            time=time,
            outcome=outcome,
            covariates=covariates,
            extra_outcomes=extra_outcomes,
            cluster=cluster,
            weights=weights,
            dropna=dropna,
        )
        # integer codes of units and periods (sorted): the checks below work on them
        unit_codes, unit_levels, unit_starts = codes_of(frame[unit])
        time_codes, time_levels, _ = codes_of(frame[time])
        if len(unit_levels) < 2:
            raise DataError(
                f"unit column {unit!r} holds a single unit ({show(unit_levels[:1])}); an impact "
                "estimate needs at least two units"
            )
        in_order, is_rcs, cell_codes, cell_counts = cell_layout(
            frame,
            unit=unit,
            time=time,
            codes=(unit_codes, unit_starts, time_codes, len(time_levels)),
            repeated_cross_section=repeated_cross_section,
        )

        unit_cohort, treated, derived_cohort = unit_cohorts(
            frame,
            unit=unit,
            time=time,
            treated=treated,
            cohort=cohort,
            absorbing=absorbing,
            is_rcs=is_rcs,
            codes=(unit_codes, unit_levels, unit_starts, time_codes, time_levels),
            cells=(cell_codes, cell_counts),
        )
        if weights is not None:
            check_group_weights(frame[weights].to_numpy(), unit_codes, unit_cohort, weights)
        frame.index = pd.RangeIndex(len(frame))
        if not (in_order or bool(np.all(cell_codes[1:] >= cell_codes[:-1]))):
            order = np.lexsort((time_codes, unit_codes))  # to unit-then-period order
            frame = frame.take(order).reset_index(drop=True)
            unit_codes, time_codes = unit_codes[order], time_codes[order]
        unit_codes.flags.writeable = False
        time_codes.flags.writeable = False
        return cls._assemble(
            _cache={
                "codes": (unit_codes, unit_levels, time_codes, time_levels),
                "n_periods": len(time_levels),
            },
            _frame=frame,
            _cohort=unit_cohort,
            _is_rcs=is_rcs,
            absorbing=absorbing,
            unit=unit,
            time=time,
            outcome=outcome,
            treated=treated,
            cohort_column=derived_cohort,
            covariates=covariates,
            extra_outcomes=extra_outcomes,
            fixed_effects=fixed_effects,
            cluster=cluster,
            weights=weights,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Panel is immutable; build a new one with Panel.from_frame")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Panel is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and deep-copy) the validated frame; derived values are computed again."""
        attributes = {name: getattr(self, name) for name in self.__slots__}
        attributes.update(_frame_data=self._frame, _cache={})
        return (restore_slots, (type(self), attributes))

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcome followed by the extra outcomes."""
        return (self.outcome, *self.extra_outcomes)

    def with_outcome(self, outcome: str) -> Panel:
        """The same Panel with another of its outcome columns as the outcome.

        Parameters
        ----------
        outcome : str
            One of :attr:`outcomes` (given to :meth:`from_frame` as ``outcome`` or in
            ``extra_outcomes``).

        Returns
        -------
        Panel
            Shares the validated data; the previous outcome becomes an extra outcome.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "d": [0, 1, 0, 0],
        ...                    "maths": [1.0, 2.0, 3.0, 4.0], "reading": [0.0, 1.0, 1.0, 0.0]})
        >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="maths", treated="d",
        ...                          extra_outcomes=["reading"])
        >>> panel.with_outcome("reading").outcomes
        ('reading', 'maths')
        """
        if outcome not in self.outcomes:
            raise DataError(
                f"{outcome!r} is not an outcome of this Panel; its outcomes are "
                f"{show(self.outcomes)} (carry more with Panel.from_frame(..., "
                "extra_outcomes=[...]))"
            )
        if outcome == self.outcome:
            return self
        attributes = {name: getattr(self, name) for name in self.__slots__}
        attributes.update(
            outcome=outcome, extra_outcomes=tuple(o for o in self.outcomes if o != outcome)
        )
        return self._assemble(**attributes)

    def __repr__(self) -> str:
        kind = (
            "cross-section"
            if self.is_cross_section
            else "repeated cross-section"
            if self.is_repeated_cross_section
            else "balanced panel"
            if self.is_balanced
            else "unbalanced panel"
        )
        return (
            f"Panel({kind}: {self.n_obs} rows, {self.n_units} units ({len(self.treated_units)} "
            f"treated), {self.n_periods} periods; outcome={self.outcome!r})"
        )

    # ------------------------------------------------------------------ derived views
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the validated data, sorted by unit and time."""
        return self._frame.copy()

    @property
    def units(self) -> pd.Index:
        """Sorted unique units."""
        return self._cohort.index.copy()

    @property
    def periods(self) -> pd.Index:
        """Sorted unique periods."""

        def compute() -> pd.Index:
            if plain_numeric(self._frame[self.time]):
                return self.codes().periods.rename(self.time)  # the sorted distinct periods
            return pd.Index(np.sort(pd.unique(self._frame[self.time])), name=self.time)

        return self._cached("periods", compute).copy()

    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return len(self._frame)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self._cohort)

    @property
    def n_periods(self) -> int:
        """Number of distinct periods."""
        return self._cached("n_periods", lambda: int(self._frame[self.time].nunique()))

    @property
    def n_clusters(self) -> int:
        """Number of clusters used for standard errors (units unless ``cluster`` is set)."""
        return int(self._frame[self.cluster or self.unit].nunique())

    @property
    def cohort(self) -> pd.Series:
        """First treated period per unit; missing (NaN/NaT) for never-treated units."""
        return self._cohort.copy()

    @property
    def cohorts(self) -> pd.Index:
        """Sorted distinct first-treated periods (treatment cohorts)."""

        def compute() -> pd.Index:
            values = self._cohort.to_numpy()
            if values.dtype in (np.dtype(np.int64), np.dtype(np.float64)):
                return pd.Index(np.unique(values[~np.isnan(values)]), name="cohort")
            return pd.Index(np.sort(self._cohort.dropna().unique()), name="cohort")

        return self._cached("cohorts", compute).copy()

    @property
    def treated_units(self) -> pd.Index:
        """Units treated in at least one period."""
        return self._cached("treated", lambda: self._cohort.index[self._cohort.notna()]).copy()

    @property
    def never_treated_units(self) -> pd.Index:
        """Units never treated in the observed periods."""
        return self._cached("never", lambda: self._cohort.index[self._cohort.isna()]).copy()

    @property
    def is_cross_section(self) -> bool:
        """True when the data hold a single period."""
        return self.n_periods == 1

    @property
    def is_repeated_cross_section(self) -> bool:
        """True when several rows share a unit-period (individuals nested in units)."""
        return self._is_rcs

    @property
    def is_balanced(self) -> bool:
        """True when every unit is observed in every period (once, for panel data)."""
        if self._is_rcs:
            cells = self._frame.groupby([self.unit, self.time], sort=False).ngroups
        else:
            cells = self.n_obs
        return cells == self.n_units * self.n_periods

    @property
    def is_staggered(self) -> bool:
        """True when treated units start treatment in more than one period."""
        return len(self.cohorts) > 1

    def wide(self, values: str | None = None) -> pd.DataFrame:
        """Reshape to a periods x units table.

        Parameters
        ----------
        values : str, optional
            Column to spread; the outcome by default. Cells of a repeated
            cross-section hold the mean over the individuals in the cell.

        Returns
        -------
        pandas.DataFrame
            Periods in rows, units in columns, NaN where a unit is not observed.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2],
        ...                    "y": [1.0, 2.0, 3.0, 4.0], "d": [0, 1, 0, 0]})
        >>> wide = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d").wide()
        >>> wide.to_numpy().tolist()
        [[1.0, 3.0], [2.0, 4.0]]
        """
        values = values or self.outcome
        if values not in self._frame.columns:
            raise DataError(
                f"column {values!r} is not part of the Panel; available: "
                f"{show(list(self._frame.columns))}"
            )
        column = self._frame[values]
        if not self._is_rcs and column.dtype.kind in "fiu" and not column.isna().any():
            # one row per unit-period: the table is the column placed by the codes, as
            # pivot_table gives it (the mean of one value is that value)
            unit_codes, unit_levels, time_codes, time_levels = self.codes()
            table = np.full((len(time_levels), len(unit_levels)), np.nan)
            table[time_codes, unit_codes] = column.to_numpy(dtype=float)
            # (not copied: the block is laid out as pivot_table lays it out, so row-wise
            # reductions add in the same order)
            return pd.DataFrame(
                table,
                index=time_levels.rename(self.time),
                columns=unit_levels.rename(self.unit),
                copy=False,
            )
        return self._frame.pivot_table(
            index=self.time, columns=self.unit, values=values, aggfunc="mean", sort=True
        )

    # ------------------------------------------------------------------ trusted construction
    @classmethod
    def _from_trusted(
        cls,
        columns: dict[str, np.ndarray],
        *,
        unit: str,
        time: str,
        outcome: str,
        treated: str,
        covariates: tuple[str, ...] = (),
        cluster: str | None = None,
        repeated_cross_section: bool,
        unit_codes: np.ndarray,
        time_codes: np.ndarray,
    ) -> Panel:
        """A Panel from data valid by construction (the simulator's), without the checks.

        ``columns``: exactly the Panel's columns as arrays, handed over (the caller must
        not modify them): int64 unit and time, float64 outcome and covariates, 0/1 int8
        absorbing treatment, nothing missing, rows sorted by unit then period; the codes
        are the rows' positions among the sorted distinct units and periods. Equals the
        Panel :meth:`from_frame` builds from ``pd.DataFrame(columns)`` (tested).
        """
        cache, unit_cohort = trusted_cache(
            columns, unit=unit, time=time, treated=treated, codes=(unit_codes, time_codes)
        )
        return cls._assemble(
            _cache=cache,
            # the frame is built when first read (estimators read the arrays kept above)
            _frame=functools.partial(pd.DataFrame, columns, copy=False),
            _cohort=unit_cohort,
            _is_rcs=bool(repeated_cross_section),
            absorbing=True,
            unit=unit,
            time=time,
            outcome=outcome,
            treated=treated,
            cohort_column=None,
            covariates=tuple(covariates),
            extra_outcomes=(),
            fixed_effects=(),
            cluster=cluster,
            weights=None,
        )

    @property
    def _frame(self) -> pd.DataFrame:
        """The validated frame (a Panel made from arrays builds it on first access)."""
        frame = self._frame_data
        if not isinstance(frame, pd.DataFrame):
            frame = frame()
            object.__setattr__(self, "_frame_data", frame)
        return frame

    @_frame.setter
    def _frame(self, frame: pd.DataFrame | Any) -> None:
        # reached only through object.__setattr__ while a Panel is built
        object.__setattr__(self, "_frame_data", frame)
