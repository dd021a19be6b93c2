"""What every plotting module shares: new axes, axis labels, the programme's start.

matplotlib is imported only when a figure is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["column_label", "mark_start", "new_axes", "top_bars"]


def new_axes(ax: Axes | None, *, figsize: tuple[float, float] = (7, 4)) -> Axes:
    """``ax``, or the Axes of a new figure of ``figsize`` inches when ``ax`` is None.

    matplotlib is imported here, when a plot is first drawn, so importing the plotting
    modules stays cheap.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    # constrained layout keeps long tick labels (covariate names) inside a saved figure
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
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


def top_bars(ax: Axes, weights: Any, *, top: int, **kwargs: Any) -> Any:
    """Horizontal bars of the ``top`` largest of ``weights`` (a Series), largest on top.

    Returns the weights shown, in drawing order.
    """
    shown = weights.sort_values(ascending=False).head(top)[::-1]
    ax.barh([str(label) for label in shown.index], shown.to_numpy(), **kwargs)
    return shown
