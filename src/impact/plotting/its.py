"""Plots of interrupted time series results; registered as ``"its"`` and ``"residuals"``.

Both take a result of :class:`~impact.estimators.InterruptedTimeSeries` and ``ax=None``
and return the Axes; matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import column_label, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.result import ImpactResult

__all__ = ["plot_its", "plot_residuals"]


def _its_paths(result: ImpactResult):
    paths = result.paths
    if paths is None or ("fitted" not in paths.columns and "model_effect" not in paths.columns):
        raise DesignError(
            f"this {result.estimator} result is not an interrupted time series result"
        )
    return paths


def plot_its(
    result: ImpactResult,
    *,
    ax: Axes | None = None,
    band: str = "confidence",
    **kwargs: Any,
) -> Axes:
    """Plot the observed series, the fitted segments and the counterfactual with its band.

    Keyword arguments are passed to the observed series' ``ax.plot``.

    Parameters
    ----------
    result : ImpactResult
        A result of the ``"its"`` estimator.
    band : {"confidence", "prediction"}, default "confidence"
        Shade the confidence interval of the counterfactual mean or the prediction
        interval of a new observation.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from impact.estimators import InterruptedTimeSeries
    >>> y = np.r_[np.arange(12.0), np.arange(12.0) + 5] + np.tile([0.3, -0.3], 12)
    >>> result = InterruptedTimeSeries.from_series(y, interruption=12, errors="ols")
    >>> plot_its(result).get_title()
    'Interrupted time series'
    """
    if band not in ("confidence", "prediction"):
        raise DesignError(f"band={band!r} must be 'confidence' or 'prediction'")
    paths = _its_paths(result)
    ax = new_axes(ax)
    time = paths["time"]
    post = paths["post"].to_numpy(dtype=bool)
    kwargs.setdefault("linestyle", "none")
    kwargs.setdefault("marker", "o")
    ax.plot(time, paths["observed"], label="observed", **kwargs)
    if "fitted" in paths.columns:
        for segment in (~post, post):
            ax.plot(time[segment], paths["fitted"][segment], color="C1")
        ax.lines[-1].set_label("fitted")
    ax.plot(
        time[post],
        paths["counterfactual"][post],
        color="C2",
        linestyle="--",
        label="counterfactual",
    )
    lower, upper = (
        ("counterfactual_lower", "counterfactual_upper")
        if band == "confidence"
        else ("prediction_lower", "prediction_upper")
    )
    if {lower, upper} <= set(paths.columns):
        ax.fill_between(
            time[post],
            paths[lower][post],
            paths[upper][post],
            color="C2",
            alpha=0.2,
            label=f"{band} interval",
        )
    if "comparison" in paths.columns:
        ax.plot(
            time, paths["comparison"], color="grey", marker=".", linestyle=":", label="comparison"
        )
    for start in result.settings.get("interruption_periods", ()) or (time[post].min(),):
        ax.axvline(start, color="grey", linestyle=":")
    ax.set_xlabel(column_label(result, "time"))
    ax.set_ylabel(column_label(result, "outcome"))
    ax.set_title("Interrupted time series")
    ax.legend()
    return ax


def plot_residuals(result: ImpactResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Plot the residuals over time, with the Durbin-Watson statistic in the title.

    Keyword arguments are passed to ``ax.plot``.

    Parameters
    ----------
    result : ImpactResult
        A result of the ``"its"`` estimator fitted to a series (not ``pooled``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the residuals over time.
    """
    diagnostics = result.diagnostics
    if "residuals" not in diagnostics:
        raise DesignError(
            f"this {result.estimator} result holds no residual series (pooled fits do not)"
        )
    resid = diagnostics["residuals"]
    ax = new_axes(ax)
    kwargs.setdefault("marker", "o")
    ax.plot(resid["time"], resid["residual"], **kwargs)
    ax.axhline(0.0, color="grey", linestyle="--")
    title = "Residuals"
    if "residual_tests" in diagnostics:
        tests = diagnostics["residual_tests"].set_index("test")
        dw = float(tests.loc["durbin_watson", "statistic"])
        title += f" (Durbin-Watson {dw:.2f})"
    ax.set_title(title)
    ax.set_xlabel(column_label(result, "time"))
    ax.set_ylabel("residual")
    if np.isfinite(resid["residual"]).all():
        ax.margins(y=0.1)
    return ax
