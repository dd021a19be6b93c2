"""Plots of sensitivity to violations of parallel trends (Rambachan-Roth sets).

The function takes the tidy table of :func:`impact.sensitivity.honest_sensitivity` or
:func:`impact.sensitivity.robust_confidence_sets` (columns ``restriction, M, lb, ub,
method``) and ``ax=None``, and returns the Axes; matplotlib is imported only when a
plot is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DesignError
from impact.plotting._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_sensitivity"]

_COLUMNS = ("restriction", "M", "lb", "ub", "method")
_COLORS = {"Original": "tab:gray", "FLCI": "tab:blue", "C-LF": "tab:blue",
           "C-F": "tab:purple", "Conditional": "tab:green"}  # fmt: skip
_AXIS = {
    "relative_magnitudes": r"$\bar{M}$ (post-period violation / largest pre-period one)",
    "smoothness": "M (largest change of slope of the trend gap per period)",
    "smoothness_relative_magnitudes": r"$\bar{M}$ (post-period change of slope / pre-period)",
}


def plot_sensitivity(
    table: pd.DataFrame,
    *,
    original: pd.DataFrame | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot robust confidence sets against the bound, the original interval beside them.

    Keyword arguments are passed to each ``ax.errorbar``.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``restriction, M, lb, ub, method``; rows with ``method == "Original"``
        are the ordinary interval.
    original : pandas.DataFrame, optional
        The ordinary interval as a one-row table of the same columns
        (:func:`impact.sensitivity.original_interval`), when ``table`` lacks it.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the sensitivity plot.

    Raises
    ------
    DesignError
        When ``table`` lacks a column or holds several restrictions.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"restriction": ["relative_magnitudes"] * 2 + ["none"],
    ...     "M": [0.5, 1.0, 0.0], "lb": [0.02, 0.01, 0.03], "ub": [0.07, 0.08, 0.06],
    ...     "method": ["C-LF", "C-LF", "Original"]})
    >>> plot_sensitivity(table).get_ylabel()
    'confidence set'
    """
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise DesignError(f"the sensitivity table lacks the column(s) {missing}")
    if original is not None:
        table = pd.concat([table, original], ignore_index=True)
    is_original = (table["method"] == "Original").to_numpy()
    robust = table[~is_original]
    restrictions = robust["restriction"].unique().tolist()
    if len(restrictions) > 1:
        raise DesignError(f"the table holds several restrictions {restrictions}; plot one")
    ax = new_axes(ax)
    bounds = np.sort(robust["M"].unique())
    spacing = float(np.min(np.diff(bounds))) if len(bounds) > 1 else 1.0
    options = {"fmt": "none", "capsize": 4, "linewidth": 2, **kwargs}
    methods = robust["method"].unique().tolist()
    shift = {m: (i - (len(methods) - 1) / 2) * 0.15 * spacing for i, m in enumerate(methods)}
    for method, rows in robust.groupby("method", sort=False):
        _interval(ax, rows["M"].to_numpy(float) + shift[method], rows, method, options)
    if is_original.any():
        row = table[is_original].iloc[[0]]
        x = (bounds[0] if len(bounds) else 0.0) - spacing
        _interval(ax, np.array([x]), row, "Original", options)
        ticks = [x, *bounds]
        ax.set_xticks(ticks, ["original", *(f"{b:g}" for b in bounds)])
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(_AXIS.get(restrictions[0], "M") if restrictions else "M")
    ax.set_ylabel("confidence set")
    ax.set_title("sensitivity to violations of parallel trends")
    ax.legend(loc="best", fontsize="small")
    return ax


def _interval(ax, x: np.ndarray, rows: pd.DataFrame, method: str, options: dict) -> None:
    lb, ub = rows["lb"].to_numpy(float), rows["ub"].to_numpy(float)
    finite = np.isfinite(lb) & np.isfinite(ub)
    mid = (lb + ub) / 2
    ax.errorbar(
        x[finite],
        mid[finite],
        yerr=np.vstack([(mid - lb)[finite], (ub - mid)[finite]]),
        color=_COLORS.get(method, "tab:purple"),
        label=method,
        **options,
    )
