"""Plots for staggered adoption: event studies, group-time effects, Bacon decomposition.

Each function takes a result and ``ax=None`` and returns the Axes; matplotlib is
imported only when a plot is drawn. Importing this module registers the kinds
``"event_study"`` and ``"group_time"`` for :meth:`ImpactResult.plot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import column_label, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.estimators.did.bacon import BaconDecomposition
    from impact.result import ImpactResult

__all__ = ["plot_bacon", "plot_event_study", "plot_group_time"]


def _event_table(result: ImpactResult):
    from impact.estimators.staggered.result import StaggeredResult

    if isinstance(result, StaggeredResult):
        result = result.aggregate("dynamic")
    effects = result.effects
    if "event_time" not in effects.columns:
        raise DesignError(
            f"this {result.estimator} result has no event times; plot an event study "
            "(EventStudy, or StaggeredResult.aggregate('dynamic'))"
        )
    return effects.dropna(subset=["event_time"]).sort_values("event_time")


def plot_event_study(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot effects by event time with pointwise intervals and, when present, uniform bands.

    Keyword arguments are passed to the point estimates' ``ax.errorbar``.

    Parameters
    ----------
    result : ImpactResult
        An :class:`~impact.estimators.EventStudy` result, a dynamic aggregation, or a
        :class:`~impact.estimators.StaggeredResult` (aggregated here).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.result import ImpactResult
    >>> effects = pd.DataFrame({"term": ["e=-1", "e=0", "att"],
    ...     "estimate": [0.0, 1.0, 1.0], "std_error": [float("nan"), 0.1, 0.1],
    ...     "ci_lower": [float("nan"), 0.8, 0.8], "ci_upper": [float("nan"), 1.2, 1.2],
    ...     "p_value": [float("nan"), 0.0, 0.0], "event_time": [-1, 0, None]})
    >>> result = ImpactResult(estimator="event_study", effects=effects, n_obs=4, n_units=2)
    >>> plot_event_study(result).get_xlabel()
    'periods since adoption'
    """
    table = _event_table(result)
    ax = new_axes(ax)
    e = table["event_time"].to_numpy(dtype=float)
    est = table["estimate"].to_numpy(dtype=float)
    pre = e < 0
    if {"cband_lower", "cband_upper"} <= set(table.columns):
        ax.fill_between(
            e,
            table["cband_lower"].to_numpy(dtype=float),
            table["cband_upper"].to_numpy(dtype=float),
            alpha=0.15,
            step="mid",
            label="uniform band",
        )
    lower = est - table["ci_lower"].to_numpy(dtype=float)
    upper = table["ci_upper"].to_numpy(dtype=float) - est
    yerr = np.nan_to_num(np.vstack([lower, upper]))
    options = {"fmt": "o", "capsize": 3, **kwargs}
    ax.errorbar(e[pre], est[pre], yerr=yerr[:, pre], color="tab:gray", label="before", **options)
    ax.errorbar(e[~pre], est[~pre], yerr=yerr[:, ~pre], color="tab:blue", label="after", **options)
    reference = table["std_error"].isna().to_numpy() & (est == 0)
    if reference.any():
        ax.plot(e[reference], est[reference], "o", mfc="white", color="black", label="reference")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="tab:red", linestyle="--", linewidth=1, label="adoption")
    ax.set_xlabel("periods since adoption")
    ax.set_ylabel("effect")
    ax.set_title(f"{result.estimator}: event study")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_group_time(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot every ATT(g,t) against calendar time, one series per cohort.

    Keyword arguments are passed to each cohort's ``ax.errorbar``.

    Parameters
    ----------
    result : ImpactResult
        A :class:`~impact.estimators.StaggeredResult` (``effects`` with ``group`` and
        ``time`` columns).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one series of ATT(g,t) per cohort.
    """
    effects = result.effects
    if not {"group", "time"} <= set(effects.columns):
        raise DesignError(f"this {result.estimator} result has no group-time effects")
    cells = effects.dropna(subset=["group"])
    ax = new_axes(ax)
    for k, (group, rows) in enumerate(cells.groupby("group", sort=True)):
        t = rows["time"].to_numpy()
        est = rows["estimate"].to_numpy(dtype=float)
        err = np.nan_to_num(
            np.vstack(
                [
                    est - rows["ci_lower"].to_numpy(dtype=float),
                    rows["ci_upper"].to_numpy(dtype=float) - est,
                ]
            )
        )
        offset = 0.05 * (k - (cells["group"].nunique() - 1) / 2)
        x = t + offset if np.issubdtype(np.asarray(t).dtype, np.number) else t
        options = {"fmt": "o-", "capsize": 3, **kwargs}
        ax.errorbar(x, est, yerr=err, label=f"cohort {group}", **options)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(column_label(result, "time", "period"))
    ax.set_ylabel("ATT(g,t)")
    ax.set_title(f"{result.estimator}: group-time effects")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_bacon(decomposition: BaconDecomposition, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Scatter each 2x2 DiD estimate against its weight in the TWFE estimate.

    Keyword arguments are passed to ``ax.scatter``.

    Parameters
    ----------
    decomposition : BaconDecomposition
        From :func:`impact.diagnostics.bacon_decomposition`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one point per 2x2 comparison.
    """
    ax = new_axes(ax)
    for kind, rows in decomposition.comparisons.groupby("type", sort=False):
        ax.scatter(rows["weight"], rows["estimate"], label=kind, **kwargs)
    ax.axhline(
        decomposition.twfe,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"TWFE = {decomposition.twfe:.3g}",
    )
    ax.set_xlabel("weight")
    ax.set_ylabel("2x2 DiD estimate")
    ax.set_title("Goodman-Bacon decomposition")
    ax.legend(loc="best", fontsize="small")
    return ax
