"""Plots of synthetic control results: trajectories, gaps, unit weights, placebo gaps.

Registered as the plot kinds ``"trajectories"``, ``"gaps"``, ``"unit_weights"`` and
``"placebo_gaps"``. Each takes a result of
:class:`~impact.estimators.SyntheticControl` and ``ax=None`` and returns the Axes;
matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import column_label, mark_start, new_axes, top_bars

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["plot_gaps", "plot_placebo_gaps", "plot_trajectories", "plot_unit_weights"]


def _table(result: ImpactResult, name: str) -> pd.DataFrame:
    if name not in result.diagnostics:
        raise DesignError(
            f"this {result.estimator} result has no {name!r} diagnostics; the plot is for "
            "synthetic control results"
        )
    return result.diagnostics[name]


def _start(ax: Axes, result: ImpactResult) -> None:
    paths = result.paths
    if paths is None or "post" not in paths.columns or not paths["post"].any():
        return
    start = paths.loc[paths["post"], "time"].min()
    before = paths.loc[paths["time"] < start, "time"]
    mark_start(ax, before.max() if len(before) else None, start)


def _time_label(result: ImpactResult) -> str:
    if result.settings.get("paths_time") == "event":
        return "periods since adoption"
    return column_label(result, "time")


def plot_trajectories(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot the treated unit's outcome against its synthetic control.

    Keyword arguments are passed to the treated line's ``ax.plot``.

    With several treated units, their averages (by calendar period when they adopt
    together, else by event time).

    Parameters
    ----------
    result : ImpactResult
        A synthetic control result.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the trajectories plot.

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.result import ImpactResult
    >>> effects = pd.DataFrame({"term": ["att"], "estimate": [1.0], "std_error": [0.1],
    ...                         "ci_lower": [0.8], "ci_upper": [1.2], "p_value": [0.0]})
    >>> paths = pd.DataFrame({"time": [1, 2], "observed": [1.0, 3.0],
    ...                       "counterfactual": [1.0, 2.0], "effect": [0.0, 1.0],
    ...                       "post": [False, True]})
    >>> result = ImpactResult(estimator="synthetic_control", effects=effects,
    ...                       paths=paths, n_obs=4, n_units=2)
    >>> plot_trajectories(result).get_title()
    'Treated and synthetic control'
    """
    paths = result.paths
    if paths is None:
        raise DesignError(f"this {result.estimator} result has no paths to plot")
    ax = new_axes(ax)
    ax.plot(paths["time"], paths["observed"], color="black", label="treated", **kwargs)
    ax.plot(
        paths["time"], paths["counterfactual"], color="tab:blue", linestyle="--",
        label="synthetic control",
    )  # fmt: skip
    _start(ax, result)
    ax.set_xlabel(_time_label(result))
    ax.set_ylabel(column_label(result, "outcome"))
    ax.set_title("Treated and synthetic control")
    ax.legend()
    return ax


def plot_gaps(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot the gap between the treated unit and its synthetic control over time.

    Keyword arguments are passed to the gap line's ``ax.plot``.

    The per-period conformal intervals are shaded where the result has them.

    Parameters
    ----------
    result : ImpactResult
        A synthetic control result.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the gaps plot.
    """
    paths = result.paths
    if paths is None:
        raise DesignError(f"this {result.estimator} result has no paths to plot")
    ax = new_axes(ax)
    ax.plot(paths["time"], paths["effect"], color="black", label="gap", **kwargs)
    if {"ci_lower", "ci_upper"} <= set(paths.columns):
        lower, upper = paths["ci_lower"].to_numpy(float), paths["ci_upper"].to_numpy(float)
        finite = np.isfinite(lower) & np.isfinite(upper)
        if finite.any():
            ax.fill_between(
                paths["time"][finite], lower[finite], upper[finite], alpha=0.2,
                label="conformal interval",
            )  # fmt: skip
    ax.axhline(0.0, color="grey", linewidth=0.8)
    _start(ax, result)
    ax.set_xlabel(_time_label(result))
    ax.set_ylabel(f"gap in {column_label(result, 'outcome')}")
    ax.set_title("Gap between treated and synthetic control")
    ax.legend()
    return ax


def plot_unit_weights(
    result: ImpactResult, *, ax: Axes | None = None, top: int = 15, **kwargs: Any
) -> Axes:
    """Plot the comparison units' weights in the synthetic control (largest first).

    Keyword arguments are passed to ``ax.barh``.

    Parameters
    ----------
    result : ImpactResult
        A result with a ``unit_weights`` diagnostic (``unit``, ``weight``; weights of
        several treated units are averaged with their shares in ``att`` when the
        result records them).
    top : int, default 15
        Show this many units.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the unit weights plot.
    """
    table = _table(result, "unit_weights")
    if "treated_unit" in table.columns and table["treated_unit"].nunique() > 1:
        shares = _table(result, "treated_units").set_index("treated_unit")["share"]
        table = table.assign(weight=table["weight"] * table["treated_unit"].map(shares))
    ax = new_axes(ax)
    top_bars(ax, table.groupby("unit")["weight"].sum(), top=top, **kwargs)
    ax.set_xlabel("weight")
    ax.set_title("Weights of the comparison units")
    return ax


def plot_placebo_gaps(
    result: ImpactResult,
    *,
    ax: Axes | None = None,
    exclude_poor_fit: float | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot the treated unit's gap over the placebo gaps of the comparison units.

    Keyword arguments are passed to the treated gap's ``ax.plot``.

    Parameters
    ----------
    result : ImpactResult
        A synthetic control result fitted with ``inference="placebo"``.
    exclude_poor_fit : float, optional
        Leave out placebos whose pre-period MSPE is more than this many times the
        treated unit's (as ADH 2010's figures do).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the placebo gaps plot.
    """
    gaps = _table(result, "placebo_gaps")
    if gaps.empty:
        raise DesignError("this result has no placebos; fit it with inference='placebo'")
    placebos = _table(result, "placebos")
    treated = _table(result, "treated_units")
    unit_paths = _table(result, "unit_paths")
    event = result.settings.get("paths_time") == "event"
    key = "event_time" if event else "time"
    if exclude_poor_fit is not None:
        limit = exclude_poor_fit * float((treated["pre_rmspe"] ** 2).max())
        keep = placebos.loc[placebos["pre_rmspe"] ** 2 <= limit, ["adoption", "unit"]]
        gaps = gaps.merge(keep, on=["adoption", "unit"])
    ax = new_axes(ax)
    for _, one in gaps.groupby(["adoption", "unit"], sort=False):
        ax.plot(one[key], one["gap"], color="grey", alpha=0.4, linewidth=0.8)
    for _, one in unit_paths.groupby("treated_unit", sort=False):
        ax.plot(one[key], one["gap"], color="black", linewidth=2, **kwargs)
    ax.plot([], [], color="grey", alpha=0.4, label="placebos (comparison units)")
    ax.plot([], [], color="black", linewidth=2, label="treated")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    _start(ax, result)
    ax.set_xlabel(_time_label(result))
    ax.set_ylabel(f"gap in {column_label(result, 'outcome')}")
    ax.set_title("Treated gap among the placebo gaps")
    ax.legend()
    return ax
