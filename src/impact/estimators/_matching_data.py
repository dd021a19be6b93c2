"""From a Panel to one row per unit: the data a matched comparison works on.

A cross-section gives each unit's outcome and covariates directly (several rows per
unit, e.g. pupils in schools, are averaged). A multi-period panel with one adoption
date is collapsed to one row per unit: the outcome is the unit's mean over the periods
from adoption on; numeric covariates are averaged over the periods before adoption
(a categorical covariate takes its value in the unit's first pre-period row); and the
pre-programme outcomes can be added as matching covariates, as their mean or as the last
``k`` pre-period values one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact.estimators.did import require_single_adoption
from impact.exceptions import DataError, DataWarning, DesignError, warn

if TYPE_CHECKING:
    from impact.data import Panel

__all__ = ["UnitData", "unit_data"]


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
    frame = panel._frame  # read only here: no copy of the Panel's data
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
            wide = pre_frame.pivot_table(index=unit, columns=time, values=y, aggfunc="mean")
            wide = wide.reindex(index=units, columns=periods)
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
