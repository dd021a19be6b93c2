"""Plots of synthetic DiD results: the synthdid-style trajectories, unit weights, replicates.

Each function takes a result of :class:`~impact.estimators.synthetic.SyntheticDiD` and
``ax=None`` and returns the Axes; matplotlib is imported only when a plot is drawn.
Importing this module registers the kinds ``"synthdid"``, ``"sdid_unit_weights"`` and
``"sdid_replicates"`` for :meth:`ImpactResult.plot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import column_label, mark_start, new_axes, top_bars

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["plot_sdid_replicates", "plot_sdid_unit_weights", "plot_synthdid"]


def _require(result: ImpactResult, table: str) -> Any:
    if result.estimator != "synthetic_did" or table not in result.diagnostics:
        raise DesignError(
            f"this {result.estimator} result has no {table!r} table; the plot needs a "
            "SyntheticDiD result"
        )
    return result.diagnostics[table]


def plot_synthdid(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The treated path, its synthetic comparison and the time weights (as R ``synthdid_plot``).

    Keyword arguments are passed to the treated line's ``ax.plot``.

    The synthetic comparison is drawn unshifted (the weighted average of the comparison
    units); the time weights appear as bars along the bottom of the pre-period, and an
    arrow marks the average effect in the post-period: the gap between the treated
    path and the synthetic one, net of their time-weighted pre-period gap.

    Parameters
    ----------
    result : ImpactResult
        A single-adoption SyntheticDiD result (staggered results: one cohort's paths
        are in ``diagnostics["cohort_paths"]``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the synthdid plot.

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(impact.Scenario.one_council(), seed=2)
    >>> result = impact.SyntheticDiD(replications=20).fit(sim.panel)
    >>> plot_synthdid(result).get_title()
    'synthetic DiD: treated and synthetic comparison'
    """
    _require(result, "time_weights")
    paths = result.paths
    if paths is None:
        raise DesignError(
            "this synthetic DiD result has several adoption cohorts and no single path; "
            "plot one cohort from result.diagnostics['cohort_paths']"
        )
    ax = new_axes(ax)
    time = paths["time"].to_numpy()
    ax.plot(time, paths["observed"], marker="o", label="treated", **kwargs)
    ax.plot(time, paths["synthetic"], marker="o", linestyle="--", label="synthetic comparison")
    post = paths["post"].to_numpy()
    weights = paths["time_weight"].to_numpy()
    low = float(np.nanmin(paths[["observed", "synthetic"]].to_numpy()))
    high = float(np.nanmax(paths[["observed", "synthetic"]].to_numpy()))
    height = (high - low) * 0.25 or 1.0
    if weights.max() > 0:
        ax.bar(
            time[~post],
            weights[~post] / weights.max() * height,
            bottom=low - height * 1.1,
            width=0.8 * (np.diff(time[:2])[0] if len(time) > 1 else 1.0),
            color="tab:red",
            alpha=0.4,
            label="time weights",
        )
    start = time[post][0]
    before = time[~post][-1] if (~post).any() else None
    mark_start(ax, before, start)
    gap = paths["observed"] - paths["synthetic"]
    pre_gap = float(gap[~post].to_numpy() @ weights[~post])
    mid = time[post].mean()
    synth_post = float(paths.loc[post, "synthetic"].mean())
    treated_post = float(paths.loc[post, "observed"].mean())
    ax.annotate(
        "",
        xy=(mid, treated_post),
        xytext=(mid, synth_post + pre_gap),
        arrowprops={"arrowstyle": "->", "color": "black"},
    )
    ax.set_xlabel(column_label(result, "time"))
    ax.set_ylabel(column_label(result, "outcome"))
    ax.set_title("synthetic DiD: treated and synthetic comparison")
    ax.legend()
    return ax


def plot_sdid_unit_weights(
    result: ImpactResult, *, ax: Axes | None = None, top: int = 15, **kwargs: Any
) -> Axes:
    """Horizontal bars of the largest unit weights (the synthetic comparison's make-up).

    Keyword arguments are passed to ``ax.barh``.

    Parameters
    ----------
    result : ImpactResult
        A SyntheticDiD result.
    top : int, default 15
        How many units to show (the largest weights).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the sdid unit weights plot.
    """
    weights = _require(result, "unit_weights")
    if "cohort" in weights.columns:
        weights = weights.groupby("unit", as_index=False)["weight"].mean()
    ax = new_axes(ax)
    shown = top_bars(ax, weights.set_index("unit")["weight"], top=top, **kwargs)
    ax.set_xlabel("unit weight")
    ax.set_ylabel(column_label(result, "unit"))
    ax.set_title(f"synthetic DiD: the {len(shown)} largest unit weights")
    return ax


def plot_sdid_replicates(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Histogram of the placebo (or bootstrap, jackknife) estimates, with the estimate marked.

    Keyword arguments are passed to ``ax.hist``.

    Parameters
    ----------
    result : ImpactResult
        A SyntheticDiD result with replicates.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the sdid replicates plot.
    """
    replicates = _require(result, "replicates")
    ax = new_axes(ax)
    values = replicates["estimate"].to_numpy(dtype=float)
    ax.hist(values[np.isfinite(values)], bins=kwargs.pop("bins", 30), alpha=0.7, **kwargs)
    ax.axvline(result.att.estimate, color="black", label="estimate")
    ax.set_xlabel("replicate estimate")
    ax.set_ylabel("count")
    method = replicates["method"].iloc[0] if len(replicates) else ""
    ax.set_title(f"synthetic DiD: {method} distribution")
    ax.legend()
    return ax
