"""Fitting one synthetic control problem, and its placebos in space.

A :class:`UnitFit` holds what one fit gives: the unit weights, the predictor weights,
the synthetic path and the gaps, the pre- and post-period RMSPE and the predictor
balance (treated, synthetic, comparison-pool mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.estimators.synthetic._sc_predictors import Problem
from impact.estimators.synthetic._sc_weights import optimize_v, simplex_weights
from impact.exceptions import DesignError

__all__ = ["UnitFit", "fit_problem", "noise_level", "ridge_penalty"]


@dataclass(frozen=True)
class UnitFit:
    """One fitted synthetic control."""

    unit: Any
    adoption: int
    donors: np.ndarray  # positions of the donor units
    weights: np.ndarray  # (J,)
    v: np.ndarray | None  # (k,) predictor weights, None for outcome-only
    labels: tuple[str, ...]
    observed: np.ndarray  # (T,)
    synthetic: np.ndarray  # (T,)
    balance: np.ndarray | None  # (k, 3): treated, synthetic, pool mean

    @property
    def gap(self) -> np.ndarray:
        return self.observed - self.synthetic

    @property
    def pre_rmspe(self) -> float:
        g = self.gap[: self.adoption]
        return float(np.sqrt(np.mean(g**2)))

    @property
    def post_rmspe(self) -> float:
        g = self.gap[self.adoption :]
        return float(np.sqrt(np.mean(g**2)))

    @property
    def post_mean(self) -> float:
        return float(np.mean(self.gap[self.adoption :]))


def noise_level(y_donors_pre: np.ndarray) -> float:
    """The donors' pre-period noise level: sd of their period-to-period changes (synthdid)."""
    if y_donors_pre.shape[0] < 2:
        return 0.0
    changes = np.diff(y_donors_pre, axis=0).ravel()
    return float(np.std(changes, ddof=1)) if changes.size > 1 else 0.0


def ridge_penalty(ridge: float, rows: int, noise: float) -> float:
    """The penalty ``rows * (ridge * noise)^2`` on ``||w||^2`` (synthdid's ``zeta``)."""
    return float(rows) * (ridge * noise) ** 2


def fit_problem(
    problem: Problem,
    *,
    v: str | Sequence[float],
    ridge: float,
    starts: Sequence[np.ndarray],
    strict: bool,
) -> UnitFit:
    """Fit the unit weights (and V) of ``problem``.

    ``strict``: a predictor that does not vary across the units raises (for the
    treated units); in a placebo it is given no weight.
    """
    pre = problem.adoption
    y1, y0 = problem.y_treated, problem.y_donors
    if problem.x_donors is None:
        rows = problem.fit_rows
        a, b = y0[rows], y1[rows]
        penalty = ridge_penalty(ridge, len(rows), noise_level(y0[:pre])) if ridge > 0 else 0.0
        if isinstance(v, str):
            weights = simplex_weights(a - b[:, None], ridge=penalty)
            v_used = None
        else:
            v_used = _given_v(v, len(rows), "fitted pre-period outcomes")
            root = np.sqrt(v_used)[:, None]
            weights = simplex_weights(root * (a - b[:, None]), ridge=penalty)
        return UnitFit(
            problem.unit, pre, problem.donors, weights, v_used, (), y1, y0 @ weights, None
        )
    x1, x0 = np.asarray(problem.x_treated), problem.x_donors
    every = np.hstack([x0, x1[:, None]])
    sd = every.std(axis=1, ddof=1)
    flat = ~(sd > 1e-12 * np.maximum(np.abs(every).max(axis=1), 1e-300))
    if flat.any() and strict:
        names = [problem.labels[i] for i in np.flatnonzero(flat)]
        raise DesignError(
            f"predictors {names!r} take the same value for every unit, so they cannot tell "
            "the comparison units apart; drop them from predictors"
        )
    scale = np.where(flat, np.inf, sd)
    s1, s0 = x1 / scale, x0 / scale[:, None]
    k = len(x1)
    if isinstance(v, str) and v == "equal":
        v_used = np.where(flat, 0.0, 1.0)
        v_used = v_used / v_used.sum()
        weights = simplex_weights(np.sqrt(v_used)[:, None] * (s0 - s1[:, None]), ridge=0.0)
    elif isinstance(v, str):  # optimize
        keep = np.flatnonzero(~flat)
        rows = problem.fit_rows
        fitted = optimize_v(
            s0[keep], s1[keep], y0[rows], y1[rows], starts=[p[keep] / p[keep].sum() for p in starts]
        )
        v_used = np.zeros(k)
        v_used[keep] = fitted.v
        weights = fitted.w
    else:
        v_used = _given_v(v, k, "predictors")
        weights = simplex_weights(np.sqrt(v_used)[:, None] * (s0 - s1[:, None]), ridge=0.0)
    balance = np.column_stack([x1, x0 @ weights, x0.mean(axis=1)])
    return UnitFit(
        problem.unit,
        pre,
        problem.donors,
        weights,
        v_used,
        problem.labels,
        y1,
        y0 @ weights,
        balance,
    )


def _given_v(v: Sequence[float], k: int, what: str) -> np.ndarray:
    values = np.asarray(v, dtype=float).ravel()
    if len(values) != k:
        raise DesignError(
            f"v has {len(values)} values but there are {k} {what}; give one weight per "
            "predictor, or v='equal' or v='optimize'"
        )
    return values / values.sum()
