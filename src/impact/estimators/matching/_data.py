"""From a Panel to one row per unit: the data a matched comparison works on.

A cross-section gives each unit's outcome and covariates directly (several rows per
unit, e.g. pupils in schools, are averaged). A multi-period panel with one adoption
date is collapsed to one row per unit: the outcome is the unit's mean over the periods
from adoption on; numeric covariates are averaged over the periods before adoption
(a categorical covariate takes its value in the unit's first pre-period row); and the
pre-programme outcomes can be added as matching covariates, as their mean or as the last
``k`` pre-period values one by one.

Matched difference-in-differences first balances an unbalanced panel
(:func:`balanced_for_matching`): units not observed in every period are left out
before matching, so that the matched sets, the balance table and the sample sizes all
describe the units the effect is estimated on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from impact.estimators._adoption import require_single_adoption
from impact.exceptions import DataError, DataWarning, DesignError, warn
from impact.panel.container import Panel

__all__ = ["UnitData", "balanced_for_matching", "unit_data"]


@dataclass(frozen=True)
class UnitData:
    """One row per unit.

    Attributes
    ----------
    units : pandas.Index
        Unit labels, sorted.
    treated : ndarray of bool
        Treated units.
    outcome : ndarray
        Post-programme outcome per unit (the cross-section's outcome).
    pre_outcome : ndarray or None
        Mean pre-programme outcome per unit (panels only).
    raw : DataFrame
        Matching covariates as given (categoricals kept), for exact matching and CEM.
    model : DataFrame
        Float design: categoricals one-hot encoded with the first level dropped.
    balance : DataFrame
        Float columns with every level of each categorical, for the balance table.
    adoption : object
        The adoption period (None for a cross-section).
    sampling_weights : ndarray or None
        The Panel's sampling weight per unit (its mean over the unit's rows; over the
        pre-programme rows on a panel), None without weights.
    """

    units: pd.Index
    treated: np.ndarray
    outcome: np.ndarray
    pre_outcome: np.ndarray | None
    raw: pd.DataFrame
    model: pd.DataFrame
    balance: pd.DataFrame
    adoption: object
    sampling_weights: np.ndarray | None = None

    @cached_property
    def model_array(self) -> np.ndarray:
        """:attr:`model` as a float array, converted once (read only: do not modify)."""
        array = self.model.to_numpy(dtype=float)
        array.flags.writeable = False
        return array


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)


def unit_data(panel: Panel, *, pre_outcomes: str | int, design: str) -> UnitData:
    """Collapse ``panel`` to one row per unit (see the module docstring).

    Parameters
    ----------
    panel : Panel
        A cross-section, or a single-adoption panel with never-treated units.
    pre_outcomes : "mean", "none" or int
        How pre-programme outcomes enter the matching covariates (panels only).
    design : str
        Name of the design, for error messages.

    Returns
    -------
    UnitData
    """
    frame = panel.view()  # read only here: no copy of the Panel's data
    unit, time, y = panel.unit, panel.time, panel.outcome
    if panel.is_cross_section:
        adoption = None
        post = np.ones(len(frame), dtype=bool)
        pre = post
    else:
        adoption = require_single_adoption(panel, design)
        post = (frame[time] >= adoption).to_numpy()
        pre = ~post
    if panel.is_cross_section and not panel.is_repeated_cross_section:
        # one row per unit, already sorted by unit: no aggregation needed
        units = pd.Index(frame[unit].to_numpy(), name=unit)
        treated = frame[panel.treated].to_numpy() == 1
        if treated.all():
            raise DesignError(f"every unit of {unit!r} is treated: {design} needs control units")
        if not treated.any():
            raise DesignError(f"no unit of {unit!r} is treated: there is nothing to estimate")
        raw_frame = pd.DataFrame(
            {cov: frame[cov].to_numpy() for cov in panel.covariates}, index=units
        )
        sw = None if panel.weights is None else frame[panel.weights].to_numpy(dtype=float)
        return _finish(units, treated, frame[y].to_numpy(dtype=float), None, raw_frame, None,
                       design, sw)  # fmt: skip
    if panel.is_cross_section:
        treated_units = set(frame.loc[frame[panel.treated] == 1, unit])
    else:
        treated_units = set(panel.treated_units)
    units = pd.Index(np.sort(pd.unique(frame[unit])), name=unit)
    outcome = frame.loc[post].groupby(unit)[y].mean().reindex(units).to_numpy(dtype=float)
    if np.isnan(outcome).any():  # units lost before the programme started (attrition)
        units, outcome = _drop_unobserved(units, outcome, treated_units, unit)
        frame = frame.loc[frame[unit].isin(units)]
        post = (frame[time] >= adoption).to_numpy() if adoption is not None else post
        pre = ~post if adoption is not None else post
    treated = units.isin(treated_units)
    if treated.all():
        raise DesignError(f"every unit of {unit!r} is treated: {design} needs control units")
    if not treated.any():
        raise DesignError(f"no unit of {unit!r} is treated: there is nothing to estimate")
    pre_frame = frame.loc[pre]
    raw = {}
    for cov in panel.covariates:
        col = pre_frame[cov]
        if _is_numeric(col):
            raw[cov] = col.astype(float).groupby(pre_frame[unit]).mean().reindex(units)
        else:
            raw[cov] = col.groupby(pre_frame[unit]).first().reindex(units)
    pre_outcome = None
    if adoption is not None:
        pre_means = pre_frame.groupby(unit)[y].mean().reindex(units)
        pre_outcome = pre_means.to_numpy(dtype=float)
        if pre_outcomes == "mean":
            raw[f"{y}_pre_mean"] = pre_means
        elif isinstance(pre_outcomes, int | np.integer) and not isinstance(pre_outcomes, bool):
            periods = panel.periods[panel.periods < adoption][-int(pre_outcomes) :]
            wide = _pre_outcomes(panel, pre_frame, units, periods)
            if wide.isna().to_numpy().any():
                missing = wide.index[wide.isna().any(axis=1)]
                raise DesignError(
                    f"units {list(missing[:5])} lack an outcome in one of the pre-programme "
                    f"periods {list(periods)} used for matching; use fewer pre-periods or "
                    "pre_period_outcomes='mean'"
                )
            for period in periods:
                raw[f"{y}[{period}]"] = wide[period]
    sw = None
    if panel.weights is not None:
        rows = pre_frame if adoption is not None else frame
        sw = rows.groupby(unit)[panel.weights].mean().reindex(units).to_numpy(dtype=float)
    return _finish(units, treated, outcome, pre_outcome, pd.DataFrame(raw, index=units),
                   adoption, design, sw)  # fmt: skip


def _pre_outcomes(
    panel: Panel, pre_frame: pd.DataFrame, units: pd.Index, periods: pd.Index
) -> pd.DataFrame:
    """Each unit's outcome in each of ``periods`` (units x periods; NaN where missing).

    A balanced panel's rows are its units' periods in order: its outcomes are reshaped,
    the same table (bit for bit: the mean of a single value is that value, signed zeros
    included) as the pivot of other panels.
    """
    unit, time, y = panel.unit, panel.time, panel.outcome
    codes = panel.codes()
    if (
        panel.is_balanced
        and not panel.is_repeated_cross_section
        and len(codes.units) * len(codes.periods) == panel.n_obs
        and codes.units.equals(units)
        and _unit_major(codes.unit_codes, codes.time_codes, len(codes.periods))
    ):
        values = panel.values(y).astype(float).reshape(len(codes.units), len(codes.periods))
        columns = codes.periods.get_indexer(periods)
        if (columns >= 0).all():
            return pd.DataFrame(values[:, columns], index=units, columns=periods)
    wide = pre_frame.pivot_table(index=unit, columns=time, values=y, aggfunc="mean")
    return wide.reindex(index=units, columns=periods)


def _unit_major(unit_codes: np.ndarray, time_codes: np.ndarray, n_periods: int) -> bool:
    """Whether the rows run through every period of the first unit, then the next..."""
    row = np.arange(len(unit_codes))
    return bool((unit_codes == row // n_periods).all() and (time_codes == row % n_periods).all())


def _drop_unobserved(
    units: pd.Index, outcome: np.ndarray, treated_units: set, unit: str
) -> tuple[pd.Index, np.ndarray]:
    """Leave out units with no outcome from adoption on, saying how many of each group."""
    lost = np.isnan(outcome)
    lost_treated = int(units[lost].isin(treated_units).sum())
    warn(
        f"{int(lost.sum())} units of {unit!r} ({lost_treated} treated, "
        f"{int(lost.sum()) - lost_treated} comparison) have no outcome from the programme's "
        "start on (they left the data before it) and are left out: the effect is for the "
        "units still observed",
        DataWarning,
    )
    return units[~lost], outcome[~lost]


def _finish(
    units: pd.Index,
    treated: np.ndarray,
    outcome: np.ndarray,
    pre_outcome: np.ndarray | None,
    raw_frame: pd.DataFrame,
    adoption: object,
    design: str,
    sampling_weights: np.ndarray | None = None,
) -> UnitData:
    if raw_frame.shape[1] == 0:
        raise DesignError(
            f"{design} needs covariates to match on: build the Panel with covariates=[...]"
            + ("" if adoption is None else " or keep pre_period_outcomes")
        )
    if raw_frame.isna().to_numpy().any():
        bad = raw_frame.columns[raw_frame.isna().any()].tolist()
        raise DesignError(
            f"covariate(s) {bad} are missing for some units before adoption (units observed "
            "only after the programme started); they cannot be matched on"
        )
    model, balance = _encode(raw_frame)
    return UnitData(
        units=units,
        treated=np.asarray(treated, dtype=bool),
        outcome=outcome,
        pre_outcome=pre_outcome,
        raw=raw_frame,
        model=model,
        balance=balance,
        adoption=adoption,
        sampling_weights=sampling_weights,
    )


def _encode(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-hot encode categoricals: first level dropped (model) and all levels (balance)."""
    model_parts, balance_parts = [], []
    for name in raw.columns:
        col = raw[name]
        if _is_numeric(col):
            model_parts.append(col.astype(float).rename(name))
            balance_parts.append(col.astype(float).rename(name))
            continue
        if col.map(type).nunique() > 1:
            raise DataError(
                f"covariate {name!r} mixes value types ({sorted(col.map(type).map(str).unique())})"
                "; convert it to one type (e.g. strings) so it can be one-hot encoded"
            )
        dummies = pd.get_dummies(col, prefix=name, prefix_sep="", dtype=float)
        dummies = dummies.reindex(sorted(dummies.columns), axis=1)
        balance_parts.append(dummies)
        model_parts.append(dummies.iloc[:, 1:])
    return pd.concat(model_parts, axis=1), pd.concat(balance_parts, axis=1)


def balanced_for_matching(panel: Panel, *, design: str, staggered: bool, control: str) -> Panel:
    """``panel`` without the units not observed in every period, with a DataWarning.

    Matched difference-in-differences compares each unit's outcome change: from its
    pre- to its post-programme mean (single adoption), or since the period before
    adoption in every group-time cell (staggered adoption, as R ``did`` and
    :class:`~impact.StaggeredDiD` by default). A unit missing periods has a change over
    other periods than its matched partners (a time trend then enters the estimate) or
    none at all; it is dropped *before* matching, so no matched set loses a member
    afterwards. A balanced panel or a cross-section is returned as it is.

    Raises
    ------
    DesignError
        When no treated unit, or no never-treated unit where the design needs one, is
        observed in every period.

    Examples
    --------
    >>> import pandas as pd, impact
    >>> df = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3, 4], "t": [1, 2, 1, 2, 1, 2, 1],
    ...                    "y": [1.0, 2.0, 1.5, 2.0, 0.5, 1.0, 2.0],
    ...                    "d": [0, 1, 0, 0, 0, 0, 0]})
    >>> p = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     balanced_for_matching(p, design="matched DiD", staggered=False,
    ...                           control="never_treated").units.tolist()
    [1, 2, 3]
    """
    if panel.is_cross_section or panel.is_balanced:
        return panel
    frame = panel.view()  # read only
    unit, time = panel.unit, panel.time
    n_periods = panel.n_periods
    observed = frame.groupby(unit, sort=True)[time].nunique()
    complete = observed == n_periods
    treated = panel.cohort.reindex(observed.index).notna()
    n_dropped = int((~complete).sum())
    n_treated = int((~complete & treated).sum())
    if not (complete & treated).any():
        raise DesignError(
            f"no treated unit of {unit!r} is observed in all {n_periods} periods of "
            f"{time!r}, and {design} needs each unit's outcome in every period; restrict "
            "the Panel to the periods the treated units are observed in"
        )
    if (not staggered or control == "never_treated") and not (complete & ~treated).any():
        raise DesignError(
            f"no never-treated unit of {unit!r} is observed in all {n_periods} periods of "
            f"{time!r}, and {design} needs each unit's outcome in every period; restrict "
            "the Panel to the periods the comparison units are observed in"
            + (", or use control='not_yet_treated'" if staggered else "")
        )
    if staggered:
        why = (
            "each group-time effect compares every unit's outcome change since the period "
            "before adoption, as StaggeredDiD and R did do by default"
        )
        alternative = (
            ", or estimate without matching with StaggeredDiD(allow_unbalanced_panel=True)"
        )
    else:
        why = (
            "a unit's change from its pre- to its post-programme mean over other periods "
            "than its matched partners' would carry the time trend into the estimate"
        )
        alternative = ""
    warn(
        f"dropped {n_dropped} units of {unit!r} ({n_treated} treated, "
        f"{n_dropped - n_treated} comparison) not observed in all {n_periods} periods of "
        f"{time!r} before matching: {why}. The matched sets, balance and sample sizes "
        "describe the units kept; to keep the others, restrict the Panel to the periods "
        f"they are observed in{alternative}",
        DataWarning,
    )
    keep = frame[unit].isin(observed.index[complete]).to_numpy()
    roles: dict[str, object] = (
        {"cohort": panel.cohort_column}
        if panel.cohort_column is not None
        else {"treated": panel.treated}
    )
    return Panel.from_frame(
        frame.loc[keep],
        unit=unit,
        time=time,
        outcome=panel.outcome,
        covariates=list(panel.covariates),
        cluster=panel.cluster,
        weights=panel.weights,
        absorbing=panel.absorbing,
        repeated_cross_section=panel.is_repeated_cross_section,
        extra_outcomes=list(panel.extra_outcomes),
        **roles,  # type: ignore[arg-type]
    )
