"""Sensitivity to unobserved confounding: Rosenbaum bounds and the E-value.

Rosenbaum bounds (Rosenbaum 2002, *Observational Studies*, section 4.3) ask how strong
hidden bias would have to be to explain a matched-pairs result away. Within each pair an
unobserved covariate may multiply the odds of treatment by up to ``Gamma``; the
Wilcoxon signed-rank statistic ``T`` (sum of the ranks of ``|d|`` over pairs with a
positive treated-minus-control difference ``d``, zero differences dropped, tied
differences given average ranks) is then bounded by sums of independent terms that are
positive with probability ``Gamma / (1 + Gamma)`` (upper bound) or ``1 / (1 + Gamma)``
(lower bound). The p-value bounds use the normal approximation, as the R package
``rbounds`` (``psens``). The critical ``Gamma`` is the smallest ``Gamma`` at which the
upper bound on the one-sided p-value reaches ``alpha``.

The E-value (VanderWeele and Ding 2017, *Annals of Internal Medicine* 167:268) is the
minimum strength of association, on the risk-ratio scale, that an unmeasured confounder
would need with both treatment and outcome to explain away an observed risk ratio ``RR``:
``RR + sqrt(RR (RR - 1))`` for ``RR >= 1`` (use ``1 / RR`` below 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from impact._distributions import Normal

__all__ = ["bounds_and_critical_gamma", "critical_gamma", "e_value", "rosenbaum_bounds"]

DEFAULT_GAMMAS: tuple[float, ...] = tuple(np.round(np.arange(1.0, 3.01, 0.1), 2))


class _SignedRanks:
    """The signed-rank statistic of the differences and the sums its bounds use."""

    def __init__(self, differences: np.ndarray) -> None:
        from scipy import stats  # on first use (slow import): only for the ranks

        d = np.asarray(differences, dtype=float)
        d = d[d != 0]
        ranks = stats.rankdata(np.abs(d), method="average")
        self.t_stat = float(ranks[d > 0].sum())
        self.n = len(ranks)
        self.s1 = ranks.sum()
        self.s2 = (ranks**2).sum()

    def bounds(self, gamma: float) -> tuple[float, float]:
        if self.n == 0:
            return float("nan"), float("nan")
        p_plus = gamma / (1 + gamma)
        p_minus = 1 / (1 + gamma)
        sd = np.sqrt(self.s2 * p_plus * (1 - p_plus))
        upper = float(Normal().sf((self.t_stat - p_plus * self.s1) / sd))
        lower = float(Normal().sf((self.t_stat - p_minus * self.s1) / sd))
        return lower, upper


def _bounds_table(parts: _SignedRanks, gammas: Sequence[float]) -> pd.DataFrame:
    rows = []
    for gamma in gammas:
        if not gamma >= 1:
            raise ValueError(f"Gamma must be at least 1, got {gamma!r}")
        lower, upper = parts.bounds(float(gamma))
        rows.append({"gamma": float(gamma), "p_value_lower": lower, "p_value_upper": upper})
    return pd.DataFrame(rows, columns=["gamma", "p_value_lower", "p_value_upper"])


def _critical_gamma(parts: _SignedRanks, alpha: float, max_gamma: float) -> float:
    if parts.n == 0:
        return float("nan")

    def gap(log_gamma: float) -> float:
        return parts.bounds(float(np.exp(log_gamma)))[1] - alpha

    if gap(0.0) >= 0:
        return 1.0
    if gap(np.log(max_gamma)) < 0:
        return float("inf")
    from scipy import optimize  # on first use (slow import)

    return float(np.exp(optimize.brentq(gap, 0.0, np.log(max_gamma), xtol=1e-10)))


def bounds_and_critical_gamma(
    differences: Sequence[float] | np.ndarray,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    *,
    alpha: float = 0.05,
    max_gamma: float = 1e3,
) -> tuple[pd.DataFrame, float]:
    """:func:`rosenbaum_bounds` and :func:`critical_gamma` from one ranking of the pairs.

    Examples
    --------
    >>> table, gamma = bounds_and_critical_gamma([3.0, 1.0, -0.5, 2.0], gammas=[1.0])
    >>> table.columns.tolist(), gamma
    (['gamma', 'p_value_lower', 'p_value_upper'], 1.0)
    """
    parts = _SignedRanks(np.asarray(differences, dtype=float))
    return _bounds_table(parts, gammas), _critical_gamma(parts, alpha, max_gamma)


def rosenbaum_bounds(
    differences: Sequence[float] | np.ndarray,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
) -> pd.DataFrame:
    """Bounds on the one-sided signed-rank p-value under hidden bias ``Gamma``.

    Parameters
    ----------
    differences : array-like
        Treated-minus-control outcome difference per matched pair. The test is of no
        effect against a positive effect; pass ``-differences`` for a negative one.
    gammas : sequence of float
        Values of ``Gamma >= 1`` (1 = no hidden bias).

    Returns
    -------
    DataFrame
        Columns ``gamma, p_value_lower, p_value_upper``.

    Examples
    --------
    Rosenbaum's lead example (33 pairs of children; blood lead of exposed minus control):

    >>> exposed = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15,
    ...            10, 45, 39, 22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27]
    >>> control = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24,
    ...            13, 9, 14, 21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13]
    >>> d = [a - b for a, b in zip(exposed, control)]
    >>> table = rosenbaum_bounds(d, gammas=[1.0, 4.0])
    >>> table["p_value_upper"].round(4).tolist()
    [0.0, 0.0367]
    """
    return _bounds_table(_SignedRanks(np.asarray(differences, dtype=float)), gammas)


def critical_gamma(
    differences: Sequence[float] | np.ndarray, *, alpha: float = 0.05, max_gamma: float = 1e3
) -> float:
    """Smallest ``Gamma`` at which the upper p-value bound reaches ``alpha``.

    Returns 1.0 when the result is not significant even without hidden bias, and
    ``inf`` when it stays significant up to ``max_gamma``.

    Examples
    --------
    >>> exposed = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15,
    ...            10, 45, 39, 22, 35, 49, 48, 44, 35, 43, 39, 34, 13, 73, 25, 27]
    >>> control = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24,
    ...            13, 9, 14, 21, 19, 7, 18, 19, 12, 11, 22, 25, 16, 13, 11, 13]
    >>> round(critical_gamma([a - b for a, b in zip(exposed, control)]), 2)
    4.43
    """
    return _critical_gamma(_SignedRanks(np.asarray(differences, dtype=float)), alpha, max_gamma)


def e_value(risk_ratio: float) -> float:
    """E-value of a risk ratio (VanderWeele and Ding 2017).

    Parameters
    ----------
    risk_ratio : float
        Observed risk ratio (or a confidence limit; pass 1 when the interval crosses 1).

    Returns
    -------
    float

    Examples
    --------
    VanderWeele and Ding's example: a risk ratio of 3.9 has E-value 7.26.

    >>> round(e_value(3.9), 2)
    7.26
    >>> e_value(1.0)
    1.0
    """
    rr = float(risk_ratio)
    if not rr > 0:
        raise ValueError(f"a risk ratio must be positive, got {risk_ratio!r}")
    if rr < 1:
        rr = 1 / rr
    return float(rr + np.sqrt(rr * (rr - 1)))
