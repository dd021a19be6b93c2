"""Inference for the synthetic control: placebos in space and conformal intervals.

The placebos give the standard error, the rank test of the RMSPE ratio and the placebo
distribution; conformal inference gives intervals for the effect path.

Placebos in space (Abadie, Diamond and Hainmueller 2010): each comparison unit in turn
is treated as if it had adopted when the treated unit did, and its synthetic control is
built from the other comparison units with the same specification. Its gaps show what
the method finds where there is no programme.

*Rank p-value.* The treated unit's ratio of post- to pre-period RMSPE is ranked among
the placebos' ratios: ``p = (1 + #{placebos with a ratio at least as large}) / (1 +
#placebos)``. With ``exclude_poor_fit=k`` the placebos whose pre-period MSPE is more
than ``k`` times the treated unit's are left out of the comparison (ADH 2010 show
``k`` = 20, 5 and 2).

*Standard error.* The placebo estimates of the average post-period effect, ``e_j``,
estimate the spread of the method's error where the truth is zero. Writing a unit's
post-period error as its own noise minus the weighted noise of its donors, with
independent unit noise of variance ``s^2``, ``E[e_j^2] = s^2 (1 + ||w_j||^2)``, so
``s^2`` is estimated by the mean of ``e_j^2 / (1 + ||w_j||^2)``; the average over the
treated units, ``sum_i c_i tau_i``, then has variance
``sum_i c_i^2 s_i^2 + sum_j (sum_i c_i W_ij s_i)^2``: the second term counts the donors
the treated units share. With one treated unit this is ``s^2 (1 + ||w||^2)``, close
to the variance of the placebo estimates used by synthdid's placebo method. The
mean square (not the variance) of the placebo estimates is used, so a method biased
where the truth is zero has wider intervals.

*Intervals with one treated unit* invert the placebo test of the effect (see
:func:`placebo_interval`): the normal interval from the standard error under-covered in
simulations where the placebo gaps are heavy-tailed, and the inverted test is exact
when the adopter could have been any unit.

*Conformal intervals* (Chernozhukov, Wuethrich and Zhu 2021, JASA 116, 1849-1864):
for a post period ``t`` and a hypothesised effect ``theta``, the outcome-only
synthetic control is refitted on the pre-periods and period ``t`` with the treated
outcome less ``theta``; under the null the residuals of these ``T0 + 1`` periods are
exchangeable, so ``p(theta)`` is the share of them at least as large in absolute value
as period ``t``'s, and the interval collects the ``theta`` with ``p(theta) > alpha``.
Intervals are bounded only when ``1 / (T0 + 1) <= alpha`` (19 pre-periods at
``alpha = 0.05``); otherwise they are infinite. The test uses every permutation of the
periods, so nothing is random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from impact.estimators.synthetic._sc_fit import UnitFit, noise_level, ridge_penalty
from impact.estimators.synthetic._sc_weights import simplex_weights

__all__ = [
    "PlaceboSet",
    "conformal_interval",
    "placebo_interval",
    "placebo_standard_error",
    "rank_p_value",
    "scale_of_noise",
]


def rmspe_ratio(fit: UnitFit) -> float:
    """Post- over pre-period RMSPE (infinite after a perfect pre-period fit)."""
    return float(_ratios(np.array([fit.pre_rmspe]), np.array([fit.post_rmspe]))[0])


def _ratios(pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = post / pre
    return np.where(pre == 0, np.where(post > 0, np.inf, 1.0), out)


@dataclass(frozen=True)
class PlaceboSet:
    """The placebo fits of one adoption period, as arrays.

    ``gaps`` (placebos x periods), ``shrink`` (``1 + ||w_j||^2``), the pre-period MSPE
    and the RMSPE ratio of each placebo.
    """

    adoption: int
    gaps: np.ndarray
    shrink: np.ndarray
    pre_mspe: np.ndarray
    ratio: np.ndarray

    @classmethod
    def of(cls, placebos: Sequence[UnitFit]) -> PlaceboSet:
        """Gather ``placebos`` (fits sharing one adoption period)."""
        adoption = placebos[0].adoption
        gaps = np.array([p.gap for p in placebos], dtype=float)
        shrink = np.array([1.0 + float(p.weights @ p.weights) for p in placebos])
        pre = np.mean(gaps[:, :adoption] ** 2, axis=1)
        post = np.mean(gaps[:, adoption:] ** 2, axis=1)
        return cls(adoption, gaps, shrink, pre, _ratios(np.sqrt(pre), np.sqrt(post)))

    def __len__(self) -> int:
        return len(self.shrink)

    def kept(self, treated: UnitFit, exclude_poor_fit: float | None) -> np.ndarray:
        """Mask of the placebos compared with ``treated``.

        All of them, or with ``exclude_poor_fit`` those whose pre-period MSPE is at most
        that many times the treated unit's.
        """
        if exclude_poor_fit is None:
            return np.ones(len(self), dtype=bool)
        return self.pre_mspe <= exclude_poor_fit * treated.pre_rmspe**2


def rank_p_value(
    treated: UnitFit, placebos: PlaceboSet, exclude_poor_fit: float | None
) -> tuple[float, int]:
    """The rank p-value of the treated unit's RMSPE ratio, and the placebos it used."""
    ratio = rmspe_ratio(treated)
    kept = placebos.kept(treated, exclude_poor_fit)
    larger = int(np.sum(placebos.ratio[kept] >= ratio))
    used = int(kept.sum())
    return (1 + larger) / (1 + used), used


def scale_of_noise(placebos: PlaceboSet, rows: np.ndarray | None = None) -> float:
    """``s``: the per-unit noise scale the placebo estimates imply.

    ``rows`` selects the periods averaged (one event time); by default every
    post-period.
    """
    if len(placebos) == 0:
        return np.nan
    gaps = placebos.gaps[:, placebos.adoption :] if rows is None else placebos.gaps[:, rows]
    return float(np.sqrt(np.mean(gaps.mean(axis=1) ** 2 / placebos.shrink)))


def placebo_interval(
    estimate: float, placebo_estimates: np.ndarray, alpha: float
) -> tuple[float, float, float]:
    """Interval and p-value of one treated unit's effect by inverting the placebo test.

    Under the null ``tau = tau0`` the treated unit's error ``estimate - tau0`` is
    exchangeable with the placebos' estimates ``e_j`` (units adopting at random, and a
    synthetic control fitted on the pre-periods only, which ``tau0`` does not move):
    ``tau0`` is rejected when ``|estimate - tau0|`` is among the ``alpha`` share of
    largest of the ``J + 1`` values. The interval is ``estimate +- q`` with ``q`` the
    ``ceil((1 - alpha)(J + 1))``-th smallest ``|e_j|`` (unbounded when that exceeds
    ``J``: too few placebos for the level), and the p-value of ``tau0 = 0`` is
    ``(1 + #{|e_j| >= |estimate|}) / (J + 1)`` (Firpo and Possebom 2018).

    Examples
    --------
    >>> lo, hi, p = placebo_interval(3.0, np.arange(-19.0, 20.0) / 10, alpha=0.05)
    >>> round(lo, 6), round(hi, 6), p
    (1.1, 4.9, 0.025)
    """
    values = np.sort(np.abs(np.asarray(placebo_estimates, dtype=float)))
    n = values.size
    if n == 0 or not np.isfinite(estimate):
        return np.nan, np.nan, np.nan
    rank = int(np.ceil((1.0 - alpha) * (n + 1) - 1e-12))
    half = float(values[rank - 1]) if rank <= n else np.inf
    p = (1 + int(np.sum(values >= abs(estimate) * (1 - 1e-12)))) / (n + 1)
    return float(estimate) - half, float(estimate) + half, p


def placebo_standard_error(
    shares: np.ndarray, scales: np.ndarray, donor_weights: np.ndarray
) -> float:
    """Standard error of ``sum_i shares_i tau_i``.

    ``scales`` holds each treated unit's noise scale ``s_i``; ``donor_weights`` (n, J)
    each unit's weights on the comparison units (zero where a unit is not a donor).
    """
    own = float(np.sum((shares * scales) ** 2))
    shared = float(np.sum(((shares * scales) @ donor_weights) ** 2))
    return float(np.sqrt(own + shared))


def conformal_interval(
    y_treated: np.ndarray,
    y_donors: np.ndarray,
    adoption: int,
    period: int,
    *,
    alpha: float,
    ridge: float,
    center: float,
    step: float,
) -> tuple[float, float]:
    """The conformal interval of the effect in the period at position ``period``."""
    n = adoption + 1
    if 1.0 / n > alpha:
        return -np.inf, np.inf
    rows = np.append(np.arange(adoption), period)
    a = y_donors[rows]
    b0 = y_treated[rows].astype(float)
    penalty = ridge_penalty(ridge, n, noise_level(y_donors[:adoption])) if ridge > 0 else 0.0

    def accepted(theta: float) -> bool:
        b = b0.copy()
        b[-1] -= theta
        w = simplex_weights(a - b[:, None], ridge=penalty)
        u = np.abs(b - a @ w)
        return float(np.mean(u >= u[-1] * (1 - 1e-12))) > alpha

    step = step if step > 0 and np.isfinite(step) else 1.0

    def edge(direction: float) -> float:
        inside, distance = 0.0, step
        for _ in range(60):
            if not accepted(center + direction * distance):
                break
            inside, distance = distance, distance * 2
        else:
            return direction * np.inf
        outside = distance
        for _ in range(40):
            middle = 0.5 * (inside + outside)
            if accepted(center + direction * middle):
                inside = middle
            else:
                outside = middle
            if outside - inside <= 1e-9 * max(step, abs(center)):
                break
        return center + direction * inside

    return edge(-1.0), edge(1.0)
