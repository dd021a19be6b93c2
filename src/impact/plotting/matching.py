"""Plots of matched comparisons: a love plot of balance and the overlap of the groups.

Both read only the result's diagnostics (``balance`` and ``matches``); importing this
module registers the kinds ``"balance"`` and ``"overlap"`` for
:meth:`ImpactResult.plot <impact.result.ImpactResult.plot>`. matplotlib is imported
when a plot is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["plot_balance", "plot_overlap"]


def _table(result: ImpactResult, name: str) -> Any:
    if name not in result.diagnostics:
        raise DesignError(
            f"this {result.estimator} result has no {name!r} diagnostics; balance and "
            "overlap plots need a matching result"
        )
    return result.diagnostics[name]


def plot_balance(
    result: ImpactResult,
    *,
    ax: Axes | None = None,
    threshold: float = 0.1,
    absolute: bool = True,
    **kwargs: Any,
) -> Axes:
    """Love plot: standardised mean differences before and after matching.

    Keyword arguments are passed to the "after" markers' ``ax.scatter``.

    Parameters
    ----------
    result : ImpactResult
        A matching result (with ``diagnostics["balance"]``).
    threshold : float, default 0.1
        Reference lines at this standardised difference (a common rule of thumb).
    absolute : bool, default True
        Plot absolute standardised differences.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"id": range(200), "t": 1, "x": rng.normal(size=200)})
    >>> df["d"] = (rng.random(200) < 1 / (1 + np.exp(-df.x))).astype(int)
    >>> df["y"] = df.x + df.d + rng.normal(size=200)
    >>> panel = impact.Panel.from_frame(df, unit="id", time="t", outcome="y", treated="d",
    ...                                 covariates=["x"])
    >>> result = impact.MatchedComparison(replace=True).fit(panel)
    >>> [t.get_text() for t in plot_balance(result).get_yticklabels()]
    ['distance', 'x']
    """
    table = _table(result, "balance")
    ax = new_axes(ax)
    before = table["smd_before"].to_numpy(dtype=float)
    after = table["smd_after"].to_numpy(dtype=float)
    if absolute:
        before, after = np.abs(before), np.abs(after)
    y = np.arange(len(table))[::-1]
    ax.scatter(before, y, marker="o", facecolors="none", edgecolors="grey", label="before matching")
    ax.scatter(after, y, marker="o", label="after matching", **kwargs)
    for line in (threshold, -threshold) if not absolute else (threshold,):
        ax.axvline(line, color="grey", linestyle=":")
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(table["covariate"])
    ax.set_xlabel(("absolute " if absolute else "") + "standardised mean difference")
    ax.set_title(f"{result.estimator}: covariate balance")
    ax.legend()
    return ax


def plot_overlap(
    result: ImpactResult, *, ax: Axes | None = None, bins: int = 30, **kwargs: Any
) -> Axes:
    """Distributions of the matching score by group, before and after matching.

    Keyword arguments are passed to the filled histograms.

    Histograms of the score (the propensity score, or the user's distance column) for
    treated and control units, all units outlined and matched units (weighted) filled.

    Parameters
    ----------
    result : ImpactResult
        A matching result with a scalar score (propensity or user-supplied).
    bins : int, default 30
        Histogram bins.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the score histograms.
    """
    matches = _table(result, "matches")
    score = matches["score"].to_numpy(dtype=float)
    if np.isnan(score).all():
        raise DesignError(
            "this result has no scalar score to plot (Mahalanobis or exact matching "
            "without a propensity model); refit with distance='propensity' or "
            "common_support='treated' to estimate one"
        )
    ax = new_axes(ax)
    edges = np.histogram_bin_edges(score[np.isfinite(score)], bins=bins)
    treated = matches["treated"].to_numpy(dtype=bool)
    weight = matches["weight"].to_numpy(dtype=float)
    for group, label, sign in ((treated, "treated", 1.0), (~treated, "control", -1.0)):
        counts, _ = np.histogram(score[group], bins=edges, density=True)
        ax.stairs(sign * counts, edges, color="grey", label=f"{label}, all")
        w = weight[group]
        if w.sum() > 0:
            counts, _ = np.histogram(score[group], bins=edges, weights=w, density=True)
            ax.stairs(sign * counts, edges, fill=True, alpha=0.5, label=f"{label}, matched",
                      **kwargs)  # fmt: skip
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("score")
    ax.set_ylabel("density (treated up, control down)")
    ax.set_title(f"{result.estimator}: overlap of the groups")
    ax.legend()
    return ax
