"""From an estimated effect to value for money: :func:`appraise` and :class:`Appraisal`.

The arithmetic, for a programme whose effect on the outcome is ``theta`` per
``effect_per`` unit per period (the result's ``att``), reaching ``reach`` units in
each of the ``effect_periods``; ``sign`` is +1 when an increase of the outcome is the
gain and -1 when a decrease is (exclusions)::

    gain per effect period        G = sign * theta * reach
    benefit of stream b, year t   B_b(t) = sign * theta * m_b * sum over effect periods e
                                           of value_b * (1 + g_b) ** k  where
                                           k = t - e - start_b is in [0, duration_b)
    cost of stream c, year t      C_c(t) = amount_c * count_c * (1 + g_c) ** (t - start_c)
    PV costs, PV benefits         sum over t < horizon of D(t) * C(t), D(t) * B(t)
    NPV = PV benefits - PV costs;  BCR = PV benefits / PV costs
    ICER = PV costs / PV outcome,  PV outcome = sum over effect periods e of D(e) * G
    break-even effect             theta at which NPV = 0 (NPV is linear in theta)
    break-even horizon            smallest h with sum over t < h of D(t) (B(t) - C(t)) >= 0

where ``m_b`` turns the effect into the stream's unit (``reach`` for ``per="total"``,
``count`` otherwise) and ``D`` is the discount factor of
:mod:`impact.economics.discounting`. Uncertainty: the effect is drawn from the
result's bootstrap draws when it carries them (``result.draws``), otherwise as the
estimate plus the standard error times a t variate with the degrees of freedom behind
the result's own interval (a standard normal when the interval is a normal one);
uncertain amounts, values and growth rates are drawn from the distributions given on
the streams, independently. Every quantity is computed draw by draw and summarised by its
``alpha/2`` and ``1 - alpha/2`` quantiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.economics.discounting import (
    GREEN_BOOK,
    DiscountSchedule,
    as_schedule,
    price_factor,
)
from impact.economics.streams import BenefitStream, CostStream, is_distribution
from impact.estimators._base import check_alpha, check_choice
from impact.exceptions import DesignError
from impact.result import ImpactResult, Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MAX_HORIZON", "QUANTITIES", "Appraisal", "appraise"]

MAX_HORIZON: int = 1000
"""Longest horizon accepted, in periods."""

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

_DESCRIPTIONS = {
    "effect": "estimated effect per unit per period (the result's att)",
    "pv_costs": "present value of costs",
    "pv_benefits": "present value of benefits",
    "npv": "net present value (benefits - costs)",
    "bcr": "benefit-cost ratio",
    "pv_outcome": "discounted units of outcome gained",
    "icer": "cost per unit of outcome gained (ICER)",
    "break_even_effect": "effect at which NPV = 0",
    "break_even_horizon": "periods until cumulative NPV >= 0 (inf: not within horizon)",
    "prob_npv_positive": "probability that NPV > 0",
}


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class _Parameter:
    """One input that may be uncertain: a stream's amount/value or growth."""

    name: str
    stream: int  # index into costs + benefits
    attribute: str
    spec: Any

    @property
    def uncertain(self) -> bool:
        return is_distribution(self.spec)

    def point(self) -> float:
        return float(self.spec.mean()) if self.uncertain else float(self.spec)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if not self.uncertain:
            return np.full(n, float(self.spec))
        values = np.asarray(self.spec.rvs(size=n, random_state=rng), dtype=float).ravel()
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise DesignError(f"the distribution of {self.name!r} gave non-finite draws")
        return values

    def bounds(self, alpha: float) -> tuple[float, float]:
        return float(self.spec.ppf(alpha / 2)), float(self.spec.ppf(1 - alpha / 2))


def _parameters(streams: Sequence[CostStream | BenefitStream]) -> list[_Parameter]:
    out = []
    for i, stream in enumerate(streams):
        main = "amount" if isinstance(stream, CostStream) else "value"
        out.append(_Parameter(f"{stream.label}: {main}", i, main, getattr(stream, main)))
        out.append(_Parameter(f"{stream.label}: growth", i, "growth", stream.growth))
    return out


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class _Model:
    """Everything fixed about an appraisal; evaluates it for arrays of inputs."""

    costs: tuple[CostStream, ...]
    benefits: tuple[BenefitStream, ...]
    horizon: int
    factors: np.ndarray  # discount factors, shape (horizon,)
    effect_periods: tuple[int, ...]
    sign: float
    multipliers: tuple[float, ...]  # per cost stream then per benefit stream
    prices: tuple[float, ...]  # price-base factor per stream
    reach: float | None
    parameters: tuple[_Parameter, ...] = field(default=())

    @property
    def streams(self) -> tuple[CostStream | BenefitStream, ...]:
        return (*self.costs, *self.benefits)

    def flows(self, values: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Undiscounted flows, shape (n_draws, n_streams, horizon).

        Returns the costs, and the benefits per unit of gain (``sign * theta``).
        ``values`` maps parameter names to arrays of shape (n_draws,).
        """
        n = len(next(iter(values.values())))
        t = np.arange(self.horizon)
        cost = np.zeros((n, len(self.costs), self.horizon))
        for i, stream in enumerate(self.costs):
            amount = values[f"{stream.label}: amount"][:, None]
            growth = values[f"{stream.label}: growth"][:, None]
            k = t - stream.start
            live = (k >= 0) & (k < stream.duration)
            scale = self.multipliers[i] * self.prices[i]
            cost[:, i, :] = np.where(live, scale * amount * (1 + growth) ** np.maximum(k, 0), 0.0)
        benefit = np.zeros((n, len(self.benefits), self.horizon))
        for j, stream in enumerate(self.benefits):
            idx = len(self.costs) + j
            value = values[f"{stream.label}: value"][:, None]
            growth = values[f"{stream.label}: growth"][:, None]
            duration = np.inf if stream.duration is None else stream.duration
            profile = np.zeros((n, self.horizon))
            for e in self.effect_periods:
                k = t - e - stream.start
                live = (k >= 0) & (k < duration)
                profile += np.where(live, (1 + growth) ** np.maximum(k, 0), 0.0)
            benefit[:, j, :] = self.multipliers[idx] * self.prices[idx] * value * profile
        return cost, benefit

    def evaluate(self, theta: np.ndarray, values: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """All quantities for each draw (arrays of shape (n_draws,))."""
        theta = np.asarray(theta, dtype=float)
        gain = self.sign * theta
        cost, unit_benefit = self.flows(values)
        benefit = gain[:, None, None] * unit_benefit
        pv_cost_stream = cost @ self.factors  # (n, n_costs)
        pv_benefit_stream = benefit @ self.factors
        pv_costs = pv_cost_stream.sum(axis=1)
        pv_benefits = pv_benefit_stream.sum(axis=1)
        # NPV(theta) = sign * theta * per_unit - pv_costs, linear in theta
        per_unit = (unit_benefit @ self.factors).sum(axis=1)
        weight = float(sum(self.factors[e] for e in self.effect_periods))
        pv_outcome = gain * (np.nan if self.reach is None else self.reach) * weight
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            bcr = np.where(pv_costs > 0, pv_benefits / pv_costs, np.nan)
            break_even = np.where(per_unit != 0, self.sign * pv_costs / per_unit, np.nan)
            icer = np.where(pv_outcome != 0, pv_costs / pv_outcome, np.nan)
        net = benefit.sum(axis=1) - cost.sum(axis=1)
        cumulative = np.cumsum(net * self.factors, axis=1)
        tolerance = 1e-9 * np.maximum(1.0, np.abs(pv_costs) + np.abs(pv_benefits))
        reached = cumulative >= -tolerance[:, None]
        horizon_be = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1.0, np.inf)
        return {
            "effect": theta,
            "pv_costs": pv_costs,
            "pv_benefits": pv_benefits,
            "npv": pv_benefits - pv_costs,
            "bcr": bcr,
            "pv_outcome": pv_outcome,
            "icer": icer,
            "break_even_effect": break_even,
            "break_even_horizon": horizon_be,
            "_pv_cost_stream": pv_cost_stream,
            "_pv_benefit_stream": pv_benefit_stream,
            "_cost": cost,
            "_benefit": benefit,
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
                "description": [_DESCRIPTIONS["prob_npv_positive"]],
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
        """Plot the appraisal; delegates to :mod:`impact.plotting_economics`.

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
        from impact import plotting_economics

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


# --------------------------------------------------------------------------- checks
def _effect_periods(effect_periods: int | Sequence[int], horizon: int) -> tuple[int, ...]:
    if isinstance(effect_periods, int | np.integer) and not isinstance(effect_periods, bool):
        if effect_periods < 1:
            raise DesignError(f"effect_periods={effect_periods!r} must be at least 1")
        periods = tuple(range(int(effect_periods)))
    else:
        try:
            periods = tuple(sorted({int(p) for p in effect_periods}))
        except (TypeError, ValueError):
            raise DesignError(
                f"effect_periods={effect_periods!r} must be a number of periods or a list of "
                "periods"
            ) from None
        if not periods or periods[0] < 0:
            raise DesignError(f"effect_periods={effect_periods!r} must be periods >= 0")
    if periods[-1] >= horizon:
        raise DesignError(
            f"the effect falls in period {periods[-1]}, beyond the horizon of {horizon} "
            f"periods (0 to {horizon - 1}); lengthen the horizon"
        )
    return periods


def _multiplier(
    stream: CostStream | BenefitStream,
    *,
    effect_per: str,
    reach: float | None,
    unit_sizes: Mapping[str, float],
) -> float:
    if isinstance(stream, CostStream):
        return 1.0 if stream.per == "total" else float(stream.count)
    if stream.per == "total":
        if effect_per == "total":
            return 1.0
        if reach is None:
            raise DesignError(
                f"benefit stream {stream.label!r} is valued per unit of the total effect, but "
                f"the effect is measured per {effect_per!r}: give reach= (how many "
                f"{effect_per}s the programme reaches), or per={effect_per!r} with a count"
            )
        return float(reach)
    count = stream.count
    if stream.per == effect_per:
        if count is None:
            if reach is None:
                raise DesignError(
                    f"benefit stream {stream.label!r} is valued per {stream.per!r}: give its "
                    "count, or reach= to appraise"
                )
            count = reach
        return float(count)
    if stream.per not in unit_sizes or effect_per not in unit_sizes:
        raise DesignError(
            f"units do not agree: benefit stream {stream.label!r} is valued per "
            f"{stream.per!r} but the effect is measured per {effect_per!r}. Give "
            f"unit_sizes={{{effect_per!r}: ..., {stream.per!r}: ...}} (sizes in a common "
            f"unit, e.g. pupils), or value the stream per {effect_per!r}"
        )
    if count is None:
        raise DesignError(
            f"benefit stream {stream.label!r} is valued per {stream.per!r}: give its count "
            f"(how many {stream.per}s)"
        )
    ratio = float(unit_sizes[stream.per]) / float(unit_sizes[effect_per])
    return ratio * float(count)


def _reference_df(result: ImpactResult) -> float:
    """Degrees of freedom of the t distribution behind the result's interval (inf: normal).

    Taken from ``settings["df_inference"]`` when the estimator records it; otherwise
    inferred from the interval's width relative to the standard error at the
    result's ``alpha`` (0.05 when not recorded).
    """
    from scipy import optimize, stats

    df = result.settings.get("df_inference")
    if isinstance(df, int | float | np.number) and np.isfinite(df) and df > 0:
        return float(df)
    att = result.att
    se = att.std_error
    if not (np.isfinite(se) and se > 0 and np.isfinite(att.ci_lower) and np.isfinite(att.ci_upper)):
        return float("inf")
    level = result.settings.get("alpha", ALPHA)
    if not isinstance(level, int | float | np.number) or not 0 < level < 1:
        level = ALPHA
    crit = (att.ci_upper - att.ci_lower) / (2 * se)
    z = float(stats.norm.ppf(1 - level / 2))
    if not crit > z * (1 + 1e-4) or crit > 1e3:
        return float("inf")
    return float(
        optimize.brentq(lambda d: stats.t.ppf(1 - level / 2, d) - crit, 0.05, 1e7, xtol=1e-10)
    )


def _effect_draws(
    result: ImpactResult, n_draws: int, rng: np.random.Generator
) -> tuple[float, np.ndarray, str, Any]:
    """Point effect, its draws, where they came from, and a ppf for the tornado."""
    from scipy import stats

    att = result.att
    theta = float(att.estimate)
    if not np.isfinite(theta):
        raise DesignError(f"the {result.estimator} result's effect {theta!r} is not finite")
    stored = result.draws.get(result.overall_term)
    if stored is not None and len(stored):
        stored = np.asarray(stored, dtype=float)
        if not np.all(np.isfinite(stored)):
            raise DesignError("the result's draws of the effect contain non-finite values")

        def empirical(q: float) -> float:
            return float(np.quantile(stored, q))

        if n_draws == 0:
            return theta, np.empty(0), "result draws", empirical
        draws = rng.choice(stored, size=n_draws, replace=True)
        return theta, draws, f"result draws ({len(stored)}, resampled)", empirical
    se = float(att.std_error)
    if not np.isfinite(se) or se < 0:
        if n_draws == 0:
            return theta, np.empty(0), "none", None
        raise DesignError(
            f"the {result.estimator} result has no usable standard error ({se!r}) and no "
            "draws of the effect; pass n_draws=0 for point values only"
        )
    df = _reference_df(result)
    if np.isinf(df):
        source, standard = "normal(estimate, std_error)", stats.norm()
    else:
        source, standard = f"estimate + std_error * t({df:.4g})", stats.t(df)

    def ppf(q: float) -> float:
        return theta + se * float(standard.ppf(q))

    draws = theta + se * np.asarray(standard.rvs(size=n_draws, random_state=rng), dtype=float)
    return theta, draws.reshape(n_draws), source, ppf


def _interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return float(lo), float(hi)


# --------------------------------------------------------------------------- appraise
def appraise(
    result: ImpactResult,
    *,
    costs: Sequence[CostStream],
    benefits: Sequence[BenefitStream],
    horizon: int,
    discount: DiscountSchedule | float | Sequence[float] = GREEN_BOOK,
    effect_per: str = "total",
    reach: float | None = None,
    effect_periods: int | Sequence[int] = 1,
    direction: Literal["increase", "decrease"] = "increase",
    unit_sizes: Mapping[str, float] | None = None,
    price_year: int | None = None,
    price_index: Mapping[int, float] | pd.Series | None = None,
    n_draws: int = 2000,
    alpha: float = ALPHA,
    seed: int | np.random.Generator | None = None,
) -> Appraisal:
    """Carry an estimated effect, with its uncertainty, through to costs and benefits.

    Parameters
    ----------
    result : ImpactResult
        Any result with a scalar overall effect (``result.att``): its bootstrap draws
        when ``result.draws`` holds them, else its estimate and standard error with
        the t (or normal) reference distribution of its own interval.
    costs : sequence of CostStream
        What the programme costs.
    benefits : sequence of BenefitStream
        What a unit of outcome gained is worth, and when, and to whom.
    horizon : int
        Number of periods appraised (periods ``0 .. horizon - 1``); flows beyond it
        are ignored. Must cover every cost stream.
    discount : DiscountSchedule, float or sequence of float, default GREEN_BOOK
        A schedule (:data:`~impact.economics.GREEN_BOOK` by default), a constant
        rate, or one rate per year. See :mod:`impact.economics.discounting` for the
        timing convention (period 0 undiscounted).
    effect_per : str, default "total"
        The unit the effect is measured per: ``"school"`` for a school-level panel
        (exclusions per school per period), ``"pupil"`` for a pupil-level outcome.
    reach : float, optional
        How many ``effect_per`` units the programme reaches (5 schools). Needed when
        ``effect_per`` is not ``"total"`` for the ICER and for benefits valued per
        unit of the total effect.
    effect_periods : int or sequence of int, default 1
        Periods in which the programme has its effect: ``3`` means periods 0, 1, 2.
    direction : {"increase", "decrease"}, default "increase"
        Which change of the outcome is the gain: ``"decrease"`` for exclusions, so a
        negative effect is a positive gain.
    unit_sizes : mapping of str to float, optional
        Sizes of units in a common base (``{"school": 900, "pupil": 1}``) to value a
        per-school effect with per-pupil benefits (the outcome is then treated as a
        count spread evenly over pupils).
    price_year : int, optional
        Price base of the appraisal; streams with another ``price_year`` are rebased
        with ``price_index``.
    price_index : mapping of year to value, optional
        A price index (e.g. the GDP deflator).
    n_draws : int, default 2000
        Monte Carlo draws for the intervals; 0 gives point values only.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    seed : int, numpy Generator or None
        Randomness of the draws.

    Returns
    -------
    Appraisal

    Raises
    ------
    DesignError
        For a negative or absurd discount rate, a horizon shorter than a cost
        stream, units that do not agree, a missing price index, or a result without
        a usable standard error.

    Examples
    --------
    One school, an effect of 2 exclusions avoided a year (SE 0.5) in the programme's
    only year, a cost of 10,000 in year 0, and 3,000 saved per exclusion avoided in
    the year it is avoided and the next, discounted at 3.5%:

    >>> import pandas as pd
    >>> from impact.result import ImpactResult
    >>> effects = pd.DataFrame({"term": ["att"], "estimate": [-2.0], "std_error": [0.5],
    ...                         "ci_lower": [-2.98], "ci_upper": [-1.02], "p_value": [6e-5]})
    >>> result = ImpactResult(estimator="did", effects=effects, n_obs=40, n_units=10)
    >>> appraisal = appraise(result, costs=[CostStream("worker", amount=10_000)],
    ...                      benefits=[BenefitStream("provision", value=3_000, duration=2)],
    ...                      horizon=5, discount=0.035, direction="decrease", seed=1)
    >>> round(appraisal.value("npv"), 2)  # 2 * 3000 * (1 + 1/1.035) - 10000
    1797.1
    >>> round(appraisal.value("break_even_effect"), 4)  # -10000 / (3000 * (1 + 1/1.035))
    -1.6953
    """
    if not isinstance(result, ImpactResult):
        raise DesignError(f"appraise needs an ImpactResult, got {type(result).__name__}")
    check_alpha(alpha)
    check_choice("direction", direction, ("increase", "decrease"))
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise DesignError(f"horizon={horizon!r} must be a whole number of periods >= 1")
    horizon = int(horizon)
    if horizon > MAX_HORIZON:
        raise DesignError(
            f"horizon={horizon} periods is beyond {MAX_HORIZON}; the Green Book schedule "
            "itself ends its bands at year 301"
        )
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 0:
        raise DesignError(f"n_draws={n_draws!r} must be a whole number >= 0")
    costs = tuple(costs)
    benefits = tuple(benefits)
    for stream in costs:
        if not isinstance(stream, CostStream):
            raise DesignError(f"costs must be CostStream objects, got {type(stream).__name__}")
    for stream in benefits:
        if not isinstance(stream, BenefitStream):
            raise DesignError(
                f"benefits must be BenefitStream objects, got {type(stream).__name__}"
            )
    if not costs and not benefits:
        raise DesignError("give at least one cost or benefit stream")
    labels = [s.label for s in (*costs, *benefits)]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise DesignError(f"stream labels must be unique; repeated: {duplicated}")
    for stream in costs:
        if stream.end() > horizon:
            raise DesignError(
                f"the horizon ({horizon} periods) is shorter than cost stream {stream.label!r}, "
                f"which runs to period {int(stream.end()) - 1}; lengthen the horizon to at "
                f"least {int(stream.end())}"
            )
    if not isinstance(effect_per, str) or not effect_per:
        raise DesignError(f"effect_per={effect_per!r} must be a unit name or 'total'")
    if reach is not None:
        if isinstance(reach, bool) or not isinstance(reach, int | float | np.number):
            raise DesignError(f"reach={reach!r} must be a positive number")
        if not (np.isfinite(reach) and reach > 0):
            raise DesignError(f"reach={reach!r} must be a positive number")
    if effect_per == "total":
        if reach not in (None, 1):
            raise DesignError(
                f"reach={reach!r} is given but effect_per='total'; say what the effect is "
                "measured per (effect_per='school', ...)"
            )
        reach = 1.0
    sizes = dict(unit_sizes or {})
    for unit, size in sizes.items():
        if not (isinstance(size, int | float | np.number) and np.isfinite(size) and size > 0):
            raise DesignError(f"unit_sizes[{unit!r}]={size!r} must be a positive number")
    schedule = as_schedule(discount)
    periods = _effect_periods(effect_periods, horizon)
    streams = (*costs, *benefits)
    multipliers = tuple(
        _multiplier(s, effect_per=effect_per, reach=reach, unit_sizes=sizes) for s in streams
    )
    prices = []
    for stream in streams:
        if stream.price_year is None or stream.price_year == price_year:
            prices.append(1.0)
            continue
        if price_year is None or price_index is None:
            raise DesignError(
                f"stream {stream.label!r} is in {stream.price_year} prices: give "
                "price_year= (the appraisal's price base) and price_index= to rebase it"
            )
        index = dict(price_index.items()) if isinstance(price_index, pd.Series) else price_index
        prices.append(price_factor(index, from_year=stream.price_year, to_year=price_year))

    parameters = tuple(_parameters(streams))
    model = _Model(
        costs=costs,
        benefits=benefits,
        horizon=horizon,
        factors=schedule.factors(horizon),
        effect_periods=periods,
        sign=1.0 if direction == "increase" else -1.0,
        multipliers=multipliers,
        prices=tuple(prices),
        reach=reach,
        parameters=parameters,
    )
    rng = _rng(seed)
    theta, theta_draws, source, effect_ppf = _effect_draws(result, int(n_draws), rng)

    point_values = {p.name: np.array([p.point()]) for p in parameters}
    point = model.evaluate(np.array([theta]), point_values)
    n = int(n_draws)
    draw_values = {p.name: p.draw(n, rng) for p in parameters}
    drawn = model.evaluate(theta_draws, draw_values)

    rows = []
    for quantity in QUANTITIES:
        lo, hi = _interval(drawn[quantity], alpha) if n else (np.nan, np.nan)
        description = _DESCRIPTIONS[quantity]
        outcome = drawn["pv_outcome"]
        if quantity == "icer" and n and not (np.all(outcome > 0) or np.all(outcome < 0)):
            # a ratio whose denominator can be zero or negative has no useful interval
            lo, hi = np.nan, np.nan
            description += "; no interval: the outcome gained changes sign across draws, see ceac()"
        rows.append(
            {
                "quantity": quantity,
                "estimate": float(point[quantity][0]),
                "ci_lower": lo,
                "ci_upper": hi,
                "description": description,
            }
        )
    table = pd.DataFrame(rows)
    draws = pd.DataFrame({q: drawn[q] for q in QUANTITIES})
    prob = float((drawn["npv"] > 0).mean()) if n else float("nan")

    flows = _flow_table(model, point)
    perspectives = _perspective_table(model, point, drawn, alpha, n)
    tornado = _tornado_table(model, theta, effect_ppf, point_values, point, alpha)
    settings = {
        "estimator": result.estimator,
        "effect": f"{theta:.6g} per {effect_per} per period ({source})",
        "direction": direction,
        "reach": reach if effect_per != "total" else "-",
        "effect_periods": list(periods),
        "horizon": horizon,
        "discount": str(schedule),
        "price_year": price_year if price_year is not None else "-",
        "n_draws": n,
        "seed": seed if not isinstance(seed, np.random.Generator) else "Generator",
    }
    return Appraisal(
        _table=table,
        _draws=draws,
        _flows=flows,
        _perspectives=perspectives,
        _tornado=tornado,
        prob_npv_positive=prob,
        alpha=float(alpha),
        n_draws=n,
        settings=MappingProxyType(settings),
    )


def _flow_table(model: _Model, point: Mapping[str, Any]) -> pd.DataFrame:
    frames = []
    kinds = ["cost"] * len(model.costs) + ["benefit"] * len(model.benefits)
    flows = np.concatenate([point["_cost"][0], point["_benefit"][0]], axis=0)
    for stream, kind, amounts in zip(model.streams, kinds, flows, strict=True):
        frames.append(
            pd.DataFrame(
                {
                    "period": np.arange(model.horizon),
                    "stream": stream.label,
                    "kind": kind,
                    "bearer": stream.bearer,
                    "amount": amounts,
                    "discount_factor": model.factors,
                    "present_value": amounts * model.factors,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _perspective_table(
    model: _Model, point: Mapping[str, Any], drawn: Mapping[str, Any], alpha: float, n: int
) -> pd.DataFrame:
    bearers = list(dict.fromkeys(s.bearer for s in model.streams))
    rows = []
    for bearer in bearers:
        ci = [i for i, s in enumerate(model.costs) if s.bearer == bearer]
        bi = [j for j, s in enumerate(model.benefits) if s.bearer == bearer]
        row: dict[str, Any] = {"bearer": bearer}
        for name, key, index in (
            ("pv_costs", "_pv_cost_stream", ci),
            ("pv_benefits", "_pv_benefit_stream", bi),
        ):
            row[name] = float(point[key][0, index].sum())
            lo, hi = _interval(drawn[key][:, index].sum(axis=1), alpha) if n else (np.nan,) * 2
            row[f"{name}_lower"], row[f"{name}_upper"] = lo, hi
        net_draws = drawn["_pv_benefit_stream"][:, bi].sum(axis=1) - drawn["_pv_cost_stream"][
            :, ci
        ].sum(axis=1)
        row["npv"] = row["pv_benefits"] - row["pv_costs"]
        row["npv_lower"], row["npv_upper"] = _interval(net_draws, alpha) if n else (np.nan,) * 2
        rows.append(row)
    return pd.DataFrame(rows)


def _tornado_table(
    model: _Model,
    theta: float,
    effect_ppf: Any,
    point_values: Mapping[str, np.ndarray],
    point: Mapping[str, Any],
    alpha: float,
) -> pd.DataFrame:
    base = float(point["npv"][0])
    rows = []
    lo, hi = (
        (theta, theta) if effect_ppf is None else (effect_ppf(alpha / 2), effect_ppf(1 - alpha / 2))
    )
    low_high = [("effect", float(lo), float(hi), np.array([lo, hi]), None)]
    for parameter in model.parameters:
        if parameter.uncertain:
            plo, phi = parameter.bounds(alpha)
            low_high.append((parameter.name, plo, phi, None, parameter.name))
    for name, lo, hi, thetas, pname in low_high:
        values = {k: np.repeat(v, 2) for k, v in point_values.items()}
        if pname is not None:
            values[pname] = np.array([lo, hi])
            thetas = np.array([theta, theta])
        out = model.evaluate(np.asarray(thetas, dtype=float), values)["npv"]
        rows.append(
            {
                "parameter": name,
                "low": lo,
                "high": hi,
                "npv_at_low": float(out[0]),
                "npv_at_high": float(out[1]),
                "swing": float(abs(out[1] - out[0])),
                "npv_point": base,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
