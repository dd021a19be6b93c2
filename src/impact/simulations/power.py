"""Power and design by simulation: :func:`power_curve` and :func:`minimum_detectable_effect`.

Each effect size is a Monte Carlo study of the same scenario with ``effect`` changed.
Every study uses the same seed (common random numbers), so the curve is smooth and
bisection on the effect size is stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact._distributions import Normal
from impact.exceptions import DesignError
from impact.simulations.monte_carlo import SeedLike, _root_seed, monte_carlo
from impact.simulations.scenario import Scenario

__all__ = ["POWER_COLUMNS", "MinimumDetectableEffect", "minimum_detectable_effect", "power_curve"]

POWER_COLUMNS: tuple[str, ...] = (
    "effect",
    "truth",
    "power",
    "power_mcse",
    "mean_estimate",
    "bias",
    "coverage",
    "mean_std_error",
    "n_reps",
    "n_failed",
)
"""Columns of the table returned by :func:`power_curve`."""


def _evaluate(
    estimator: Any,
    scenario: Scenario,
    effect: float,
    *,
    n_reps: int,
    root: np.random.SeedSequence,
    term: str,
    alpha: float,
    run: dict[str, Any],
) -> dict[str, float]:
    report = monte_carlo(
        {"estimator": estimator},
        scenario.replace(effect=float(effect)),
        n_reps=n_reps,
        seed=root,
        alpha=alpha,
        terms=[term],
        **run,
    )
    table = report.to_frame()
    row = table.loc[table["term"] == term]
    n_failed = int(table["n_failed"].iloc[0])
    if row.empty:
        raise DesignError(
            f"the estimator reported no term {term!r} with a truth in any replication "
            f"({n_failed} failed); check the term name (see impact.terms)"
        )
    row = row.iloc[0]
    reps = report.replications
    power = float(row["rejection_rate"])
    n = int(row["n_reps"])
    return {
        "effect": float(effect),
        "truth": float(row["truth"]),
        "power": power,
        "power_mcse": math.sqrt(power * (1 - power) / n),
        "mean_estimate": float(row["mean_estimate"]),
        "bias": float(row["bias"]),
        "coverage": float(row["coverage"]),
        "mean_std_error": float(reps.loc[reps["term"] == term, "std_error"].mean()),
        "n_reps": n,
        "n_failed": n_failed,
    }


def power_curve(
    estimator: Any,
    scenario: Scenario,
    *,
    effects: Sequence[float],
    n_reps: int,
    seed: SeedLike,
    term: str = "att",
    alpha: float = ALPHA,
    backend: Any = None,
    n_workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Power of an estimator's test of no effect, by simulation, at several effect sizes.

    Parameters
    ----------
    estimator : estimator or registered name
        The design to evaluate.
    scenario : Scenario
        The study; its ``effect`` is replaced by each value of ``effects``.
    effects : sequence of float
        Effect sizes in the scenario's units (outcome units, log-odds or log rate).
    n_reps : int
        Replications per effect size.
    seed : int, SeedSequence, Generator or None
        Root seed, shared by every effect size (common random numbers).
    term : str, default "att"
        The term whose test is counted.
    alpha : float, default 0.05
        Level of the two-sided test.
    backend, n_workers, progress
        As in :func:`monte_carlo`.

    Returns
    -------
    pandas.DataFrame
        One row per effect with the columns of :data:`POWER_COLUMNS`; ``truth`` is the
        effect on the outcome scale, ``power`` the rejection rate and ``power_mcse`` its
        Monte Carlo standard error.

    Examples
    --------
    >>> import impact
    >>> from impact.simulations import Scenario, power_curve
    >>> curve = power_curve(impact.DifferenceInDifferences(),
    ...                     Scenario(n_units=30, n_periods=4, adoption_period=3),
    ...                     effects=[0.0, 2.0], n_reps=20, seed=1, backend="serial")
    >>> curve["power"].tolist()[1]
    1.0
    """
    if isinstance(effects, str) or not isinstance(effects, Sequence | np.ndarray):
        raise DesignError(
            f"effects={effects!r} must be a sequence of effect sizes, e.g. effects=[0.0, 1.0]"
        )
    effects = [float(e) for e in effects]
    if not effects:
        raise DesignError("effects is empty: give the effect sizes to evaluate")
    root = _root_seed(seed)
    run = {"backend": backend, "n_workers": n_workers, "progress": progress}
    rows = [
        _evaluate(estimator, scenario, e, n_reps=n_reps, root=root, term=term, alpha=alpha, run=run)
        for e in effects
    ]
    return pd.DataFrame(rows, columns=list(POWER_COLUMNS))


@dataclass(frozen=True)
class MinimumDetectableEffect:
    """The smallest effect detected with the target power, found by simulation.

    Attributes
    ----------
    effect : float
        Minimum detectable effect in the scenario's units (the smallest evaluated effect
        whose power reached the target; its sign gives the direction).
    truth : float
        The same effect on the outcome scale (the true value of the term).
    power : float
        Simulated power at ``effect``.
    analytic : float
        The textbook approximation ``(z_{1-alpha/2} + z_{power}) * SE``, with SE the mean
        standard error under no effect, on the outcome scale, for comparison.
    evaluations : pandas.DataFrame
        Every effect size evaluated (columns of :data:`POWER_COLUMNS`), in order.
    target_power, alpha : float
        The targets searched for.
    """

    effect: float
    truth: float
    power: float
    analytic: float
    evaluations: pd.DataFrame
    target_power: float
    alpha: float

    def __str__(self) -> str:
        return (
            f"minimum detectable effect {self.effect:.4g} (outcome scale {self.truth:.4g}) "
            f"with power {self.power:.2f} at alpha {self.alpha:g}; analytic approximation "
            f"{self.analytic:.4g}"
        )


def minimum_detectable_effect(
    estimator: Any,
    scenario: Scenario,
    *,
    power: float = 0.8,
    alpha: float = ALPHA,
    n_reps: int = 200,
    seed: SeedLike = 0,
    term: str = "att",
    direction: Literal["increase", "decrease"] | None = None,
    max_effect: float | None = None,
    tol: float | None = None,
    max_iter: int = 10,
    backend: Any = None,
    n_workers: int | None = None,
    progress: bool = True,
) -> MinimumDetectableEffect:
    """The smallest effect an estimator detects with the given power, by simulation.

    Simulates the scenario with no effect (the test's size and the standard error),
    brackets the target power by doubling the effect, then bisects on the effect size.

    Parameters
    ----------
    estimator : estimator or registered name
        The design to evaluate.
    scenario : Scenario
        The study; its ``effect`` is varied.
    power : float, default 0.8
        Target probability of rejecting no effect.
    alpha : float, default 0.05
        Level of the two-sided test.
    n_reps : int, default 200
        Replications per effect size evaluated.
    seed : int, SeedSequence, Generator or None, default 0
        Root seed shared by every effect size.
    term : str, default "att"
        The term whose test is counted.
    direction : {"increase", "decrease"}, optional
        Sign of the effects searched; by default the sign of ``scenario.effect``
        (an increase when it is zero).
    max_effect : float, optional
        Largest effect size (absolute, scenario units) to consider; by default the
        search doubles from a first guess up to 2**8 times it.
    tol : float, optional
        Stop when the bracket is narrower than this (scenario units); by default 2% of
        the bracket's upper end.
    max_iter : int, default 10
        Maximum bisection steps.
    backend, n_workers, progress
        As in :func:`monte_carlo`.

    Returns
    -------
    MinimumDetectableEffect

    Raises
    ------
    DesignError
        When the target power is not reached within ``max_effect``.

    Examples
    --------
    >>> import impact
    >>> from impact.simulations import Scenario, minimum_detectable_effect
    >>> mde = minimum_detectable_effect(
    ...     impact.DifferenceInDifferences(), Scenario(n_units=30, n_periods=4,
    ...     adoption_period=3), n_reps=30, seed=1, max_iter=3, backend="serial")
    >>> 0.3 < mde.effect < 3.0
    True
    """
    if not 0 < power < 1:
        raise DesignError(f"power={power!r} must lie strictly between 0 and 1")
    if direction is None:
        direction = "decrease" if scenario.effect < 0 else "increase"
    if direction not in ("increase", "decrease"):
        raise DesignError(f"direction={direction!r} must be 'increase' or 'decrease'")
    sign = -1.0 if direction == "decrease" else 1.0
    root = _root_seed(seed)
    run = {"backend": backend, "n_workers": n_workers, "progress": progress}
    rows: list[dict[str, float]] = []

    def at(magnitude: float) -> dict[str, float]:
        row = _evaluate(
            estimator,
            scenario,
            sign * magnitude,
            n_reps=n_reps,
            root=root,
            term=term,
            alpha=alpha,
            run=run,
        )
        rows.append(row)
        return row

    null = at(0.0)
    z = Normal().ppf(1 - alpha / 2) + Normal().ppf(power)
    analytic = float(z * null["mean_std_error"])
    if scenario.outcome == "continuous" and np.isfinite(analytic) and analytic > 0:
        guess = analytic
    else:
        guess = 0.25
    limit = abs(max_effect) if max_effect is not None else guess * 2**8
    lo, hi = 0.0, min(guess, limit)
    while at(hi)["power"] < power:
        if hi >= limit:
            raise DesignError(
                f"power {power} is not reached for effects up to {sign * limit:.4g}; "
                "raise max_effect or enlarge the study"
            )
        lo, hi = hi, min(2 * hi, limit)
    tol = tol if tol is not None else 0.02 * hi
    for _ in range(max_iter):
        if hi - lo <= tol:
            break
        mid = (lo + hi) / 2
        if at(mid)["power"] >= power:
            hi = mid
        else:
            lo = mid
    best = next(r for r in reversed(rows) if r["effect"] == sign * hi)
    return MinimumDetectableEffect(
        effect=sign * hi,
        truth=best["truth"],
        power=best["power"],
        analytic=sign * analytic,
        evaluations=pd.DataFrame(rows, columns=list(POWER_COLUMNS)),
        target_power=power,
        alpha=alpha,
    )
