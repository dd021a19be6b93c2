"""The result of an economic appraisal: :class:`Appraisal`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DesignError
from impact.result import Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["QUANTITIES", "Appraisal"]

QUANTITIES: tuple[str, ...] = (
    "effect",
    "pv_costs",
    "pv_benefits",
    "npv",
    "bcr",
    "pv_outcome",
    "icer",
    "break_even_effect",
    "break_even_horizon",
)
"""Quantities reported by an :class:`Appraisal`, one row each in :meth:`Appraisal.to_frame`."""

DESCRIPTIONS = {
    "effect": "estimated effect per unit per period (the result's att)",
    "pv_costs": "present value of costs",
    "pv_benefits": "present value of benefits",
    "npv": "net present value (benefits - costs)",
    "bcr": "benefit-cost ratio",
    "pv_outcome": "discounted units of outcome gained",
    "icer": "cost per unit of outcome gained (ICER)",
    "break_even_effect": "effect at which NPV = 0",
    "break_even_horizon": "periods until cumulative NPV stays >= 0 (inf: not within horizon)",
    "prob_npv_positive": "probability that NPV > 0",
}


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class Appraisal:
    """Value for money of a programme, with uncertainty: the output of :func:`appraise`.

    Use :meth:`to_frame` for the point values and intervals, :meth:`by_perspective`
    for the split by bearer, :meth:`cash_flows` for the year-by-year flows,
    :meth:`tornado` for one-way sensitivity, :meth:`ceac` for the cost-effectiveness
    acceptability curve and :meth:`plot` for the figures. Tables are returned as
    copies.

    Attributes
    ----------
    prob_npv_positive : float
        Share of draws with NPV > 0 (NaN without draws).
    alpha : float
        Intervals have coverage ``1 - alpha``.
    n_draws : int
        Number of Monte Carlo draws.
    settings : mapping
        How the appraisal was made (discount schedule, horizon, effect source...).
    """

    _table: pd.DataFrame
    _draws: pd.DataFrame
    _flows: pd.DataFrame
    _perspectives: pd.DataFrame
    _tornado: pd.DataFrame
    prob_npv_positive: float
    alpha: float
    n_draws: int
    settings: Mapping[str, Any]

    def __repr__(self) -> str:
        row = self._table.set_index("quantity").loc["npv"]
        return (
            f"Appraisal(NPV {row['estimate']:,.0f} [{row['ci_lower']:,.0f}, "
            f"{row['ci_upper']:,.0f}]; P(NPV > 0) = {self.prob_npv_positive:.2f})"
        )

    def to_frame(self) -> pd.DataFrame:
        """Point value and interval of each quantity: ``quantity, estimate, ci_lower, ci_upper``."""
        return self._table.copy()

    def value(self, quantity: str) -> float:
        """The point value of one quantity (``"npv"``, ``"bcr"``, ...)."""
        table = self._table.set_index("quantity")
        if quantity not in table.index:
            raise DesignError(f"no quantity {quantity!r}; choose one of {list(table.index)}")
        return float(table.loc[quantity, "estimate"])

    @property
    def draws(self) -> pd.DataFrame:
        """One row per Monte Carlo draw, one column per quantity (a copy)."""
        return self._draws.copy()

    def cash_flows(self) -> pd.DataFrame:
        """Year-by-year flows at the point values, one row per period and stream.

        Columns ``period, stream, kind, bearer, amount, discount_factor,
        present_value``; costs are positive amounts of kind ``"cost"``.
        """
        return self._flows.copy()

    def by_perspective(self) -> pd.DataFrame:
        """Present values split by bearer: ``bearer, pv_costs, pv_benefits, npv`` with intervals."""
        return self._perspectives.copy()

    def tornado(self) -> pd.DataFrame:
        """One-way sensitivity of the NPV to each uncertain input, largest swing first.

        Each input is set to the ``alpha/2`` and ``1 - alpha/2`` quantiles of its
        distribution (the effect: of its sampling distribution) with every other
        input at its point value.
        """
        return self._tornado.copy()

    def ceac(self, wtp: Sequence[float] | np.ndarray | None = None) -> pd.DataFrame:
        """Cost-effectiveness acceptability curve.

        Parameters
        ----------
        wtp : array-like, optional
            Willingness to pay per unit of outcome gained; by default 101 values from
            0 to three times the point ICER.

        Returns
        -------
        pandas.DataFrame
            ``wtp, probability``: the share of draws in which the outcome gained is
            worth at least its cost, ``wtp * pv_outcome - pv_costs >= 0`` (the
            programme's gross cost; monetised benefits are not netted off).
        """
        if wtp is None:
            icer = self.value("icer")
            top = 3 * icer if np.isfinite(icer) and icer > 0 else 1.0
            wtp = np.linspace(0.0, top, 101)
        grid = np.asarray(wtp, dtype=float).ravel()
        if not np.all(np.isfinite(grid)):
            raise DesignError("wtp values must be finite")
        costs = self._draws["pv_costs"].to_numpy()
        outcome = self._draws["pv_outcome"].to_numpy()
        if len(costs) == 0 or np.all(np.isnan(outcome)):
            prob = np.full(len(grid), np.nan)
        else:
            prob = (grid[:, None] * outcome[None, :] - costs[None, :] >= 0).mean(axis=1)
        return pd.DataFrame({"wtp": grid, "probability": prob})

    def summary(self) -> Summary:
        """Tables of the appraisal (value for money, perspectives, sensitivity, settings).

        Numbers are rounded for reading (money to whole units); use :meth:`to_frame`
        and the other table methods for the exact values.
        """
        table = self.to_frame()
        prob = pd.DataFrame(
            {
                "quantity": ["prob_npv_positive"],
                "estimate": [self.prob_npv_positive],
                "ci_lower": [np.nan],
                "ci_upper": [np.nan],
                "description": [DESCRIPTIONS["prob_npv_positive"]],
            }
        )
        settings = pd.DataFrame(
            {"setting": list(self.settings), "value": [str(v) for v in self.settings.values()]}
        )
        tornado = self.tornado().drop(columns=["npv_point"])
        return Summary(
            title=f"Economic appraisal ({round(100 * (1 - self.alpha))}% intervals)",
            tables={
                "value for money": _readable(pd.concat([table, prob], ignore_index=True)),
                "by perspective": _readable(self.by_perspective()),
                "one-way sensitivity of NPV": _readable(tornado),
                "settings": settings,
            },
        )

    def plot(self, kind: str = "cash_flow", *, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the appraisal; delegates to :mod:`impact.plotting.economics`.

        Parameters
        ----------
        kind : {"cash_flow", "tornado", "npv", "ceac"}
            Which figure.
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure when omitted.
        **kwargs
            Passed to the plotting function.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from impact.plotting import economics as plotting_economics

        return plotting_economics.plot_appraisal(self, kind=kind, ax=ax, **kwargs)


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as short strings: thousands separated, small values to 4 significant digits."""

    def text(x: Any) -> Any:
        if not isinstance(x, float | np.floating):
            return x
        if np.isnan(x):
            return ""
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"

    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [text(x) for x in out[column]]
    return out
