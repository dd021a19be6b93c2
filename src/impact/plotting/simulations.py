"""Plots of Monte Carlo studies: validation reports and power curves.

Each function takes ``ax=None`` and returns the Axes; matplotlib is imported only when
a plot is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DesignError
from impact.plotting._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.simulations.monte_carlo import ValidationReport
    from impact.simulations.power import MinimumDetectableEffect

__all__ = ["plot_power", "plot_validation"]

VALIDATION_KINDS = ("coverage", "bias", "estimates")


def plot_validation(
    report: ValidationReport,
    *,
    kind: str = "coverage",
    term: str = "att",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot a validation report.

    Keyword arguments are passed to the main drawing call.

    Parameters
    ----------
    report : ValidationReport
        The study.
    kind : {"coverage", "bias", "estimates"}, default "coverage"
        ``"coverage"``: coverage of the nominal interval per estimator with +-2 Monte
        Carlo standard errors and the nominal level; ``"bias"``: bias with +-2 Monte
        Carlo standard errors; ``"estimates"``: the distribution of the estimates
        against the truth.
    term : str, default "att"
        The term shown.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the chosen statistic per design.

    Examples
    --------
    >>> import impact
    >>> from impact.simulations import Scenario, monte_carlo
    >>> report = monte_carlo(["did"], Scenario(n_units=20, n_periods=3, adoption_period=2),
    ...                      n_reps=10, seed=0, backend="serial")
    >>> report.plot("coverage").get_ylabel()
    'coverage of the nominal interval'
    """
    if kind not in VALIDATION_KINDS:
        raise DesignError(f"kind={kind!r} is not valid; choose one of {VALIDATION_KINDS}")
    table = report.to_frame()
    table = table.loc[table["term"] == term]
    if table.empty:
        raise DesignError(f"the report has no term {term!r}")
    ax = new_axes(ax)
    labels = table["estimator"].tolist()
    pos = np.arange(len(labels))
    if kind == "coverage":
        level = 1 - float(report.settings["alpha"])
        ax.errorbar(
            pos, table["coverage"], yerr=2 * table["coverage_mcse"], fmt="o", capsize=4, **kwargs
        )
        ax.axhline(level, color="grey", linestyle="--", label=f"nominal {level:.0%}")
        ax.set_ylabel("coverage of the nominal interval")
        ax.legend()
    elif kind == "bias":
        reps = report.replications
        reps = reps.loc[reps["term"] == term]
        err = (reps["estimate"] - reps["truth"]).groupby(reps["estimator"], sort=False)
        mcse = (err.std(ddof=1) / np.sqrt(err.size())).reindex(labels).to_numpy()
        ax.errorbar(pos, table["bias"], yerr=2 * mcse, fmt="o", capsize=4, **kwargs)
        ax.axhline(0.0, color="grey", linestyle="--")
        ax.set_ylabel(f"bias of {term}")
    else:
        reps = report.replications
        reps = reps.loc[reps["term"] == term]
        data = [reps.loc[reps["estimator"] == label, "estimate"].to_numpy() for label in labels]
        ax.violinplot(data, positions=pos, showmeans=True, **kwargs)
        ax.scatter(pos, table["truth"], marker="_", s=400, color="black", label="truth")
        ax.set_ylabel(f"estimate of {term}")
        ax.legend()
    ax.set_xticks(pos)
    ax.set_xticklabels(labels)
    ax.set_xlabel("estimator")
    return ax


def plot_power(
    curve: pd.DataFrame | MinimumDetectableEffect,
    *,
    target: float | None = 0.8,
    scale: str = "effect",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Plot simulated power against the effect size.

    Keyword arguments are passed to ``ax.errorbar``.

    Parameters
    ----------
    curve : DataFrame from :func:`~impact.simulations.power_curve`, or a MinimumDetectableEffect
        The evaluated effect sizes (a minimum detectable effect shows its
        evaluations and marks the effect found).
    target : float or None, default 0.8
        Draw the target power as a horizontal line.
    scale : {"effect", "truth"}, default "effect"
        Horizontal axis: the scenario's effect units, or the outcome scale.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with power against effect size.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"effect": [0.0, 1.0, 2.0], "truth": [0.0, 1.0, 2.0],
    ...                       "power": [0.05, 0.5, 0.95], "power_mcse": [0.01, 0.03, 0.01]})
    >>> plot_power(curve).get_ylabel()
    'power'
    """
    if scale not in ("effect", "truth"):
        raise DesignError(f"scale={scale!r} must be 'effect' or 'truth'")
    mde = None
    if not isinstance(curve, pd.DataFrame):
        mde, curve = curve, curve.evaluations
        if target is not None:
            target = mde.target_power
    curve = curve.sort_values(scale)
    ax = new_axes(ax)
    ax.errorbar(
        curve[scale], curve["power"], yerr=2 * curve["power_mcse"], marker="o", capsize=3, **kwargs
    )
    if target is not None:
        ax.axhline(target, color="grey", linestyle="--", label=f"target power {target:.0%}")
    if mde is not None:
        found = mde.effect if scale == "effect" else mde.truth
        ax.axvline(found, color="tab:red", linestyle=":", label=f"MDE {found:.3g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("effect size" if scale == "effect" else "true effect (outcome scale)")
    ax.set_ylabel("power")
    if target is not None or mde is not None:
        ax.legend()
    return ax
