"""Figures of subgroup results (:func:`impact.estimate_by`): a forest plot and the gap.

matplotlib is imported only when a figure is drawn (through :mod:`._style`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["plot_gap", "plot_subgroups"]


def _subgroup_rows(result: ImpactResult):
    effects = result.effects
    if "subgroup" not in effects.columns:
        raise DesignError(
            "this result has no subgroups: draw it from impact.estimate_by(panel, method, by=...)"
        )
    return effects


def plot_subgroups(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Forest plot: each subgroup's effect (and the gap) with its confidence interval.

    With effects by event time, each subgroup's first post-programme event time is
    drawn. Keyword arguments are passed to ``ax.errorbar``.

    Parameters
    ----------
    result : ImpactResult
        A result of :func:`impact.estimate_by`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the subgroups plot.
        The axes, with one interval per subgroup (the gap last, in another colour),
        and the equality test's p-value in the title.

    Examples
    --------
    >>> import numpy as np, pandas as pd, impact
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(40), 4),
    ...                    "year": np.tile([2001, 2002, 2003, 2004], 40)})
    >>> df["urban"] = (df.school % 2).astype(float)
    >>> df["pilot"] = ((df.school < 20) & (df.year >= 2003)).astype(int)
    >>> df["score"] = rng.normal(size=160) + (1 + 2 * df.urban) * df.pilot
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot", extra_outcomes=["urban"])
    >>> result = impact.estimate_by(panel, by="urban", gap=("urban_1", "urban_0"))
    >>> ax = plot_subgroups(result)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['urban_0', 'urban_1', 'gap']
    """
    effects = _subgroup_rows(result)
    if "event_time" in effects.columns:
        post = effects[effects["event_time"] >= 0]
        first = post.groupby("subgroup", sort=False)["event_time"].transform("min")
        effects = post[post["event_time"] == first]
    ax = new_axes(ax, figsize=(6, 1.2 + 0.45 * len(effects)))
    y = np.arange(len(effects))[::-1]
    est = effects["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - effects["ci_lower"], effects["ci_upper"] - est])
    is_gap = (effects["subgroup"] == "gap").to_numpy()
    style = {"fmt": "o", "capsize": 3, **kwargs}
    ax.errorbar(est[~is_gap], y[~is_gap], xerr=err[:, ~is_gap], **style)
    if is_gap.any():
        ax.errorbar(
            est[is_gap], y[is_gap], xerr=err[:, is_gap], **{**style, "fmt": "D", "color": "C3"}
        )
    ax.axvline(0.0, color="grey", linestyle=":")
    ax.set_yticks(y)
    ax.set_yticklabels(effects["term"])
    ax.set_xlabel("effect")
    test = result.diagnostics.get("equality_test") if result.diagnostics else None
    title = f"{result.estimator}: effects by {result.settings.get('by', 'subgroup')}"
    if test is not None and np.isfinite(test["p_value"].iloc[0]):
        title += f" (equal effects: p = {test['p_value'].iloc[0]:.3g})"
    ax.set_title(title)
    return ax


def plot_gap(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The effect on the gap between two subgroups by event time, with its interval.

    Needs ``impact.estimate_by(..., gap=(a, b), terms="event_time")``. Keyword arguments
    are passed to ``ax.plot``.

    Parameters
    ----------
    result : ImpactResult
        A result of :func:`impact.estimate_by` with a gap by event time.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the gap plot.
        The axes, with the gap's effect by event time and its pointwise interval.
    """
    effects = _subgroup_rows(result)
    gap = effects[effects["subgroup"] == "gap"]
    if gap.empty or "event_time" not in gap.columns or gap["event_time"].isna().all():
        raise DesignError(
            "no gap by event time in this result: use impact.estimate_by(..., gap=(a, b), "
            "terms='event_time')"
        )
    gap = gap.sort_values("event_time")
    ax = new_axes(ax)
    e = gap["event_time"].to_numpy(dtype=float)
    ax.fill_between(e, gap["ci_lower"], gap["ci_upper"], alpha=0.2, color="C3")
    ax.plot(e, gap["estimate"], marker="o", color="C3", **kwargs)
    ax.axhline(0.0, color="grey", linestyle=":")
    ax.axvline(-0.5, color="grey", linestyle="--", label="programme starts")
    a, b = result.settings.get("gap", ("a", "b"))
    ax.set_xlabel("event time (periods since the programme started)")
    ax.set_ylabel(f"effect on {a} minus {b}")
    ax.set_title(f"{result.estimator}: effect on the gap between {a} and {b}")
    ax.legend()
    return ax
