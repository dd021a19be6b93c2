"""Figures of results, validation studies and appraisals.

Every function takes what it draws and ``ax=None`` and returns the matplotlib Axes it
drew on; none calls ``show()``.

- :mod:`~impact.plotting._style`: what every module shares (new axes, axis labels, the
  programme's start);
- :mod:`~impact.plotting.results`: paths and effects of any result;
- one module per family: :mod:`~impact.plotting.staggered` (event studies, group-time
  effects, the Bacon decomposition), :mod:`~impact.plotting.its`,
  :mod:`~impact.plotting.matching`, :mod:`~impact.plotting.subgroups` (forest plot of
  subgroup effects, the gap over event time), :mod:`~impact.plotting.simulations` (validation
  studies, power curves), :mod:`~impact.plotting.economics` (appraisals).

:func:`plot` draws a result's plot kind, looked up in the explicit table
:data:`impact.plot_kinds.PLOT_KINDS` (also what :meth:`ImpactResult.plot` reads).

Layer: above the estimators (it reads their results), below simulations, economics,
reports and the command line (which draw with it). matplotlib is imported only when a
figure is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from impact.plot_kinds import PLOT_KINDS, plot_function
from impact.plotting.economics import plot_appraisal
from impact.plotting.its import plot_its, plot_residuals
from impact.plotting.matching import plot_balance, plot_overlap
from impact.plotting.results import plot_effects, plot_paths
from impact.plotting.simulations import plot_power, plot_validation
from impact.plotting.staggered import plot_bacon, plot_event_study, plot_group_time
from impact.plotting.subgroups import plot_gap, plot_subgroups

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = [
    "PLOT_KINDS",
    "plot",
    "plot_appraisal",
    "plot_bacon",
    "plot_balance",
    "plot_effects",
    "plot_event_study",
    "plot_gap",
    "plot_group_time",
    "plot_its",
    "plot_overlap",
    "plot_paths",
    "plot_power",
    "plot_residuals",
    "plot_subgroups",
    "plot_validation",
]


def plot(
    result: ImpactResult, *, kind: str = "paths", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw the plot named ``kind`` (a key of :data:`~impact.plot_kinds.PLOT_KINDS`).

    Keyword arguments are passed to the plotting function.

    Parameters
    ----------
    result : ImpactResult
        The result to draw.
    kind : str, default "paths"
        The plot kind: ``"paths"``, ``"effects"``, ``"event_study"``, ``"group_time"``,
        ``"its"``, ``"residuals"``, ``"balance"``, ``"overlap"``, ``"subgroups"`` or
        ``"gap"``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the plot of kind ``kind``.

    Raises
    ------
    DesignError
        When ``kind`` is not a plot kind (the message lists them).

    Examples
    --------
    >>> import pandas as pd
    >>> import impact
    >>> df = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "t": [1, 2] * 3,
    ...                    "y": [1.0, 4.0, 2.0, 3.0, 0.0, 1.5], "d": [0, 1, 0, 0, 0, 0]})
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> result = impact.estimate(panel, method="did", inference="iid")
    >>> plot(result, kind="effects").get_title()
    'did: effects'
    """
    return plot_function(kind)(result, ax=ax, **kwargs)
