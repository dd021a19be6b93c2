"""Plots of an economic appraisal: cash flow, tornado, NPV distribution, CEAC.

Each function takes an :class:`~impact.economics.Appraisal` and ``ax=None`` and
returns the Axes; matplotlib is imported only when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from impact.exceptions import DesignError
from impact.plotting._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.economics import Appraisal

__all__ = [
    "APPRAISAL_PLOT_KINDS",
    "plot_appraisal",
    "plot_cash_flow",
    "plot_ceac",
    "plot_npv_distribution",
    "plot_tornado",
]


def plot_cash_flow(
    appraisal: Appraisal, *, ax: Axes | None = None, discounted: bool = True, **kwargs: Any
) -> Axes:
    """Bars of costs (down) and benefits (up) per period, with the cumulative net value.

    Keyword arguments are passed to ``ax.bar``.

    Parameters
    ----------
    appraisal : Appraisal
        The appraisal.
    discounted : bool, default True
        Plot present values (True) or undiscounted amounts.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the bars and the cumulative line.

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.economics import BenefitStream, CostStream, appraise
    >>> from impact.result import ImpactResult
    >>> effects = pd.DataFrame({"term": ["att"], "estimate": [1.0], "std_error": [0.2],
    ...                         "ci_lower": [0.6], "ci_upper": [1.4], "p_value": [0.0]})
    >>> result = ImpactResult(estimator="did", effects=effects, n_obs=8, n_units=4)
    >>> appraisal = appraise(result, costs=[CostStream("cost", amount=100.0)],
    ...                      benefits=[BenefitStream("value", value=30.0)], horizon=6,
    ...                      n_draws=50, seed=0)
    >>> plot_cash_flow(appraisal).get_xlabel()
    'period'
    """
    flows = appraisal.cash_flows()
    column = "present_value" if discounted else "amount"
    ax = new_axes(ax)
    periods = np.sort(flows["period"].unique())
    bottom_pos = np.zeros(len(periods))
    bottom_neg = np.zeros(len(periods))
    for (stream, kind), group in flows.groupby(["stream", "kind"], sort=False):
        values = group.set_index("period")[column].reindex(periods, fill_value=0.0).to_numpy()
        if kind == "cost":
            ax.bar(periods, -values, bottom=bottom_neg, label=f"{stream} (cost)", **kwargs)
            bottom_neg -= values
        else:
            ax.bar(periods, values, bottom=bottom_pos, label=str(stream), **kwargs)
            bottom_pos += values
    signed = np.where(flows["kind"] == "cost", -flows[column], flows[column])
    net = flows.assign(net=signed).groupby("period")["net"].sum().reindex(periods, fill_value=0)
    ax.plot(periods, np.cumsum(net.to_numpy()), color="black", marker="o", label="cumulative net")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("period")
    ax.set_ylabel("present value" if discounted else "amount")
    ax.set_title("Discounted cash flow" if discounted else "Cash flow")
    ax.legend(fontsize="small")
    return ax


def plot_tornado(appraisal: Appraisal, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """One-way sensitivity of the NPV: a bar per uncertain input, largest swing on top.

    Keyword arguments are passed to ``ax.barh``.

    Parameters
    ----------
    appraisal : Appraisal
        The appraisal.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one bar per uncertain input.
    """
    table = appraisal.tornado()
    ax = new_axes(ax)
    base = appraisal.value("npv")
    y = np.arange(len(table))[::-1]
    low = np.minimum(table["npv_at_low"], table["npv_at_high"]).to_numpy()
    high = np.maximum(table["npv_at_low"], table["npv_at_high"]).to_numpy()
    ax.barh(y, high - low, left=low, **kwargs)
    ax.axvline(base, color="black", linestyle="--", label="point NPV")
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(table["parameter"])
    ax.set_xlabel("NPV")
    ax.set_title("One-way sensitivity of NPV")
    ax.legend(fontsize="small")
    return ax


def plot_npv_distribution(
    appraisal: Appraisal, *, ax: Axes | None = None, bins: int = 40, **kwargs: Any
) -> Axes:
    """Histogram of the NPV over the Monte Carlo draws, with zero and the interval marked.

    Keyword arguments are passed to ``ax.hist``.

    Parameters
    ----------
    appraisal : Appraisal
        An appraisal made with ``n_draws > 0``.
    bins : int, default 40
        Histogram bins.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the histogram of NPV draws.
    """
    npv = appraisal.draws["npv"].to_numpy()
    if len(npv) == 0:
        raise DesignError("this appraisal has no draws; appraise with n_draws > 0")
    ax = new_axes(ax)
    ax.hist(npv, bins=bins, **kwargs)
    row = appraisal.to_frame().set_index("quantity").loc["npv"]
    for x in (row["ci_lower"], row["ci_upper"]):
        ax.axvline(x, color="black", linestyle=":")
    ax.axvline(0.0, color="red", linewidth=1)
    ax.set_xlabel("NPV")
    ax.set_ylabel("draws")
    ax.set_title(f"NPV distribution: P(NPV > 0) = {appraisal.prob_npv_positive:.2f}")
    return ax


def plot_ceac(
    appraisal: Appraisal,
    *,
    ax: Axes | None = None,
    wtp: Sequence[float] | np.ndarray | None = None,
    **kwargs: Any,
) -> Axes:
    """Cost-effectiveness acceptability curve (see :meth:`Appraisal.ceac`).

    Keyword arguments are passed to ``ax.plot``.

    Parameters
    ----------
    appraisal : Appraisal
        An appraisal made with ``n_draws > 0``.
    wtp : array-like, optional
        Willingness-to-pay grid.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the acceptability curve.
    """
    curve = appraisal.ceac(wtp)
    ax = new_axes(ax)
    ax.plot(curve["wtp"], curve["probability"], **kwargs)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("willingness to pay per unit of outcome gained")
    ax.set_ylabel("probability cost-effective")
    ax.set_title("Cost-effectiveness acceptability curve")
    return ax


APPRAISAL_PLOT_KINDS: dict[str, Callable[..., Axes]] = {
    "cash_flow": plot_cash_flow,
    "tornado": plot_tornado,
    "npv": plot_npv_distribution,
    "ceac": plot_ceac,
}
"""Plot kinds available through :meth:`Appraisal.plot`."""


def plot_appraisal(
    appraisal: Appraisal, *, kind: str = "cash_flow", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Dispatch to the plot named ``kind`` (one of :data:`APPRAISAL_PLOT_KINDS`)."""
    try:
        func = APPRAISAL_PLOT_KINDS[kind]
    except KeyError:
        raise DesignError(
            f"unknown appraisal plot kind {kind!r}; choose one of "
            f"{', '.join(sorted(APPRAISAL_PLOT_KINDS))}"
        ) from None
    return func(appraisal, ax=ax, **kwargs)
