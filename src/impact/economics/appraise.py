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
    break-even horizon            smallest h from which the cumulative NPV
                                  sum over t < h' of D(t) (B(t) - C(t)) stays >= 0 for
                                  every h' >= h up to the horizon

where ``m_b`` turns the effect into the stream's unit (``reach`` for ``per="total"``,
``count`` otherwise) and ``D`` is the discount factor of
:mod:`impact.economics.discounting`. Uncertainty: the effect is drawn from the
result's bootstrap draws when it carries them (``result.draws``), otherwise as the
estimate plus the standard error times a t variate with the degrees of freedom behind
the result's own interval (a standard normal when the interval is a normal one); a
result whose interval is unbounded is refused, and one whose standard error is 0 is
appraised with a warning;
uncertain amounts, values and growth rates are drawn from the distributions given on
the streams, independently. Every quantity is computed draw by draw and summarised by its
``alpha/2`` and ``1 - alpha/2`` quantiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact._frozen import FrozenMapping
from impact.economics._model import Model, effect_draws, interval, make_rng, parameters_of
from impact.economics.appraisal import DESCRIPTIONS, QUANTITIES, Appraisal
from impact.economics.discounting import (
    GREEN_BOOK,
    DiscountSchedule,
    as_schedule,
    price_factor,
)
from impact.economics.streams import BenefitStream, CostStream
from impact.estimators._base import check_alpha, check_choice
from impact.exceptions import DesignError
from impact.result import ImpactResult

__all__ = ["MAX_HORIZON", "appraise"]

MAX_HORIZON: int = 1000
"""Longest horizon accepted, in periods."""


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
        stream, units that do not agree, a missing price index, a result without
        a usable standard error, or (with ``n_draws > 0``) a result whose interval
        of the effect is unbounded: no finite interval of the NPV can be honest
        then, so the appraisal refuses rather than fall back on the standard error.
        ``n_draws=0`` still gives the point values.

    Warns
    -----
    InferenceWarning
        When the result claims an effect known exactly (a standard error of 0, or
        draws that are all equal) and ``n_draws > 0``: the intervals then hold only
        the uncertainty of the streams, which is what is wanted when appraising an
        assumed effect but a warning sign when the effect was estimated.

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

    parameters = tuple(parameters_of(streams))
    model = Model(
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
    rng = make_rng(seed)
    theta, theta_draws, source, effect_ppf = effect_draws(result, int(n_draws), rng)

    point_values = {p.name: np.array([p.point()]) for p in parameters}
    point = model.evaluate(np.array([theta]), point_values)
    n = int(n_draws)
    draw_values = {p.name: p.draw(n, rng) for p in parameters}
    drawn = model.evaluate(theta_draws, draw_values)

    rows = []
    for quantity in QUANTITIES:
        lo, hi = interval(drawn[quantity], alpha) if n else (np.nan, np.nan)
        description = DESCRIPTIONS[quantity]
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
        settings=FrozenMapping(settings),
    )


def _flow_table(model: Model, point: Mapping[str, Any]) -> pd.DataFrame:
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
    model: Model, point: Mapping[str, Any], drawn: Mapping[str, Any], alpha: float, n: int
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
            lo, hi = interval(drawn[key][:, index].sum(axis=1), alpha) if n else (np.nan,) * 2
            row[f"{name}_lower"], row[f"{name}_upper"] = lo, hi
        net_draws = drawn["_pv_benefit_stream"][:, bi].sum(axis=1) - drawn["_pv_cost_stream"][
            :, ci
        ].sum(axis=1)
        row["npv"] = row["pv_benefits"] - row["pv_costs"]
        row["npv_lower"], row["npv_upper"] = interval(net_draws, alpha) if n else (np.nan,) * 2
        rows.append(row)
    return pd.DataFrame(rows)


def _tornado_table(
    model: Model,
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
