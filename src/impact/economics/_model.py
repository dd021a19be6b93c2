"""The arithmetic of an appraisal: inputs, draws and the vectorised cash-flow model.

Private to :mod:`impact.economics`; see :mod:`impact.economics.appraise` for the
formulas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact._defaults import ALPHA
from impact.economics.streams import BenefitStream, CostStream, is_distribution
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.result import ImpactResult

__all__ = ["Model", "Parameter", "effect_draws", "interval", "make_rng", "parameters_of"]


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Parameter:
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


def parameters_of(streams: Sequence[CostStream | BenefitStream]) -> list[Parameter]:
    out = []
    for i, stream in enumerate(streams):
        main = "amount" if isinstance(stream, CostStream) else "value"
        out.append(Parameter(f"{stream.label}: {main}", i, main, getattr(stream, main)))
        out.append(Parameter(f"{stream.label}: growth", i, "growth", stream.growth))
    return out


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Model:
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
    parameters: tuple[Parameter, ...] = field(default=())

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
        # from period t on, the cumulative NPV never falls below zero again
        tail_min = np.minimum.accumulate(cumulative[:, ::-1], axis=1)[:, ::-1]
        stays = tail_min >= -tolerance[:, None]
        horizon_be = np.where(stays.any(axis=1), stays.argmax(axis=1) + 1.0, np.inf)
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


def reference_df(result: ImpactResult) -> float:
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


def _split_scales(result: ImpactResult) -> tuple[float, float] | None:
    """Scales below and above the estimate when its interval is not symmetric about it.

    A wild bootstrap or randomization interval (found by test inversion) need not be
    centred on the estimate; a symmetric distribution built from the standard error
    would then understate the uncertainty on the wider side. None for a symmetric
    interval (to 1e-6 of its width) or one without finite ends.
    """
    from scipy import stats

    att = result.att
    theta, lower, upper = float(att.estimate), float(att.ci_lower), float(att.ci_upper)
    if not (np.isfinite(lower) and np.isfinite(upper)) or upper <= lower:
        return None
    below, above = theta - lower, upper - theta
    if abs(below - above) <= 1e-6 * (upper - lower):
        return None
    if below < 0 or above < 0:
        raise DesignError(
            f"the {result.estimator} result's interval ({lower} to {upper}) does not contain "
            f"its estimate {theta}: the uncertainty of the effect cannot be represented; "
            "pass n_draws=0 for point values only"
        )
    level = result.settings.get("alpha", ALPHA)
    if not isinstance(level, int | float | np.number) or not 0 < level < 1:
        level = ALPHA
    z = float(stats.norm.ppf(1 - level / 2))
    return below / z, above / z


def effect_draws(
    result: ImpactResult, n_draws: int, rng: np.random.Generator
) -> tuple[float, np.ndarray, str, Any]:
    """Point effect, its draws, where they came from, and a ppf for the tornado."""
    from scipy import stats

    att = result.att
    theta = float(att.estimate)
    if not np.isfinite(theta):
        raise DesignError(f"the {result.estimator} result's effect {theta!r} is not finite")
    if n_draws and (np.isinf(att.ci_lower) or np.isinf(att.ci_upper)):
        raise DesignError(
            f"the {result.estimator} result's interval of the effect is unbounded "
            f"({att.ci_lower} to {att.ci_upper}): its data cannot bound the effect (with few "
            "clusters a wild bootstrap interval can be unbounded), so no interval of the "
            "costs and benefits would be honest. Pass n_draws=0 for point values only, or "
            "estimate the effect with more clusters or another inference method"
        )
    stored = result.draws.get(result.overall_term)
    if stored is not None and len(stored):
        stored = np.asarray(stored, dtype=float)
        if not np.all(np.isfinite(stored)):
            raise DesignError("the result's draws of the effect contain non-finite values")
        if n_draws and np.ptp(stored) == 0:
            _warn_no_uncertainty(result, "every one of its draws of the effect is the same")

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
    if n_draws and se == 0:
        _warn_no_uncertainty(result, "its standard error of the effect is 0")
    asymmetric = _split_scales(result)
    if asymmetric is not None:
        # a bootstrap or test-inversion interval, not estimate +/- crit * SE: draws from
        # the split normal whose quantiles are the result's own interval ends
        below, above = asymmetric

        def split_ppf(q: float) -> float:
            z = float(stats.norm.ppf(q))
            return theta + (below if z < 0 else above) * z

        z = np.asarray(stats.norm.rvs(size=n_draws, random_state=rng), dtype=float)
        draws = theta + np.where(z < 0, below, above) * z
        source = "split normal matching the result's interval"
        return theta, draws.reshape(n_draws), source, split_ppf
    df = reference_df(result)
    if np.isinf(df):
        source, standard = "normal(estimate, std_error)", stats.norm()
    else:
        source, standard = f"estimate + std_error * t({df:.4g})", stats.t(df)

    def ppf(q: float) -> float:
        return theta + se * float(standard.ppf(q))

    draws = theta + se * np.asarray(standard.rvs(size=n_draws, random_state=rng), dtype=float)
    return theta, draws.reshape(n_draws), source, ppf


def _warn_no_uncertainty(result: ImpactResult, why: str) -> None:
    warn(
        f"the {result.estimator} result claims an effect known exactly ({why}), so the "
        "intervals of the appraisal hold only the uncertainty of the costs and benefits. "
        "An estimate is rarely exact: a zero standard error usually means data too "
        "degenerate to measure the uncertainty (a constant outcome, a single comparison "
        "unit or cluster); check the result before trusting the intervals",
        InferenceWarning,
    )


def interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return float(lo), float(hi)
