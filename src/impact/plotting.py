"""Plots of results. Each function takes a result and ``ax=None`` and returns the Axes.

matplotlib is imported only when a plot is drawn; no function calls ``show()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["PLOT_KINDS", "column_label", "mark_start", "plot", "plot_effects", "plot_paths"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    # constrained layout keeps long tick labels (covariate names) inside a saved figure
    _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    return ax


def column_label(result: ImpactResult, role: str, default: str | None = None) -> str:
    """The user's name of the ``role`` column (``"time"`` -> ``"year"``) for an axis label.

    Read from ``result.settings["columns"]``, which every estimator fills from its
    Panel; ``default`` (or the role) when the result does not record it.
    """
    columns = result.settings.get("columns") or {}
    name = columns.get(role) if hasattr(columns, "get") else None
    return str(name) if name else (default or role)


def mark_start(ax: Axes, before: Any, first: Any, label: str = "programme starts") -> None:
    """Draw the programme's start between the last period ``before`` and the ``first``.

    Numeric periods get the line half-way between the two (2003.5 for a programme
    first in force in 2004), as the event-study plot draws it between event times -1
    and 0; other periods get it at ``first``.
    """
    try:
        where = (float(before) + float(first)) / 2 if before is not None else float(first)
    except (TypeError, ValueError):
        where = first
    ax.axvline(where, color="grey", linestyle=":", label=label)


def plot_paths(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot the observed path against the counterfactual, with the intervention marked.

    Parameters
    ----------
    result : ImpactResult
        A result whose ``paths`` table is not None.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    **kwargs
        Passed to the observed line's ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from impact.result import ImpactResult
    >>> effects = pd.DataFrame({"term": ["att"], "estimate": [1.0], "std_error": [0.1],
    ...                         "ci_lower": [0.8], "ci_upper": [1.2], "p_value": [0.0]})
    >>> paths = pd.DataFrame({"time": [1, 2], "observed": [1.0, 3.0],
    ...                       "counterfactual": [1.0, 2.0], "effect": [0.0, 1.0],
    ...                       "post": [False, True]})
    >>> result = ImpactResult(estimator="did", effects=effects, paths=paths, n_obs=4,
    ...                       n_units=2)
    >>> plot_paths(result).get_ylabel()
    'outcome'
    """
    paths = result.paths
    if paths is None:
        raise DesignError(f"this {result.estimator} result has no paths to plot")
    ax = _axes(ax)
    ax.plot(paths["time"], paths["observed"], marker="o", label="observed (treated)", **kwargs)
    ax.plot(
        paths["time"], paths["counterfactual"], linestyle="--", marker="o", label="counterfactual"
    )
    if {"counterfactual_lower", "counterfactual_upper"} <= set(paths.columns):
        ax.fill_between(
            paths["time"],
            paths["counterfactual_lower"],
            paths["counterfactual_upper"],
            alpha=0.2,
            label="counterfactual band",
        )
    if "post" in paths.columns and paths["post"].any() and (~paths["post"]).any():
        start = paths.loc[paths["post"], "time"].min()
        before = paths.loc[paths["time"] < start, "time"]
        mark_start(ax, before.max() if len(before) else None, start)
    ax.set_xlabel(column_label(result, "time"))
    ax.set_ylabel(column_label(result, "outcome"))
    ax.set_title(f"{result.estimator}: observed and counterfactual")
    ax.legend()
    return ax


def plot_effects(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot every term's estimate with its confidence interval.

    Parameters
    ----------
    result : ImpactResult
        Any result.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    **kwargs
        Passed to ``ax.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    effects = result.effects
    ax = _axes(ax)
    y = np.arange(len(effects))[::-1]
    est = effects["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - effects["ci_lower"], effects["ci_upper"] - est])
    ax.errorbar(est, y, xerr=err, fmt="o", capsize=3, **kwargs)
    ax.axvline(0.0, color="grey", linestyle=":")
    ax.set_yticks(y)
    ax.set_yticklabels(effects["term"])
    ax.set_xlabel("estimate")
    ax.set_title(f"{result.estimator}: effects")
    return ax


PLOT_KINDS: dict[str, Callable[..., Axes]] = {
    "paths": plot_paths,
    "effects": plot_effects,
}
"""Plot kinds available through :meth:`ImpactResult.plot`; later modules add theirs."""


def plot(
    result: ImpactResult, *, kind: str = "paths", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Dispatch to the plot named ``kind`` (one of :data:`PLOT_KINDS`)."""
    try:
        func = PLOT_KINDS[kind]
    except KeyError:
        raise DesignError(
            f"unknown plot kind {kind!r}; choose one of {', '.join(sorted(PLOT_KINDS))}"
        ) from None
    return func(result, ax=ax, **kwargs)


# The family modules add their kinds to PLOT_KINDS on import (after it exists above).
from impact import plotting_its as _plotting_its  # noqa: E402, F401
from impact import plotting_matching as _plotting_matching  # noqa: E402, F401
from impact import plotting_staggered as _plotting_staggered  # noqa: E402, F401
from impact import plotting_synthetic_control as _plotting_sc  # noqa: E402, F401
