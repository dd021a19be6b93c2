"""Plots of any result: the observed and counterfactual paths, and the effects table.

Each function takes a result and ``ax=None`` and returns the Axes.

matplotlib is imported only when a plot is drawn; no function calls ``show()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import column_label, mark_start, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["plot_effects", "plot_paths"]


def plot_paths(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot the observed path against the counterfactual, with the intervention marked.

    Keyword arguments are passed to the observed line's ``ax.plot``.

    Parameters
    ----------
    result : ImpactResult
        A result whose ``paths`` table is not None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the observed and counterfactual paths.

    Examples
    --------
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
    ax = new_axes(ax)
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

    Keyword arguments are passed to ``ax.errorbar``.

    Parameters
    ----------
    result : ImpactResult
        Any result.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one interval per term.
    """
    effects = result.effects
    ax = new_axes(ax)
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
