"""Randomization (permutation) inference for a treatment assigned to clusters.

Under the sharp null hypothesis that the programme changed no outcome by more than
``r`` (``y_i(1) = y_i(0) + r``), the outcomes that would have been seen under any other
assignment of treatment to clusters are known, so the distribution of the estimate
over re-assignments is known exactly. The p-value is the share of re-assignments
(keeping the number of treated clusters) whose estimate lies at least as far from
``r`` as the one observed; the interval collects the ``r`` not rejected at ``alpha``.
All assignments are enumerated when they number no more than the draws requested;
otherwise random re-assignments are drawn and the observed one is counted among them
(the p-value is ``(1 + #{as extreme}) / (1 + B)``, valid in finite samples).

The statistic is the regression coefficient itself. Nothing is re-fitted: with the
other regressors fixed, the coefficient under assignment ``T`` (treated clusters) is
``T' E' y / T' E' E T`` for a matrix ``E`` whose column ``c`` is the treatment column
that cluster ``c`` alone would produce, residualized on the other regressors, so every
re-assignment costs ``O(G^2)``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from impact.exceptions import DesignError

__all__ = ["RandomizationTest", "randomization_test"]


@dataclass(frozen=True)
class RandomizationTest:
    """Result of a randomization test of one coefficient.

    Attributes
    ----------
    estimate : float
        Observed coefficient.
    p_value : float
        Randomization p-value of the sharp null ``effect = null``.
    ci_lower, ci_upper : float
        Interval by inverting the test (``nan`` when not requested).
    draws : int
        Number of assignments used.
    enumerated : bool
        Whether every assignment was used.
    n_treated_clusters, n_clusters : int
        Clusters treated and in all.
    """

    estimate: float
    p_value: float
    ci_lower: float
    ci_upper: float
    draws: int
    enumerated: bool
    n_treated_clusters: int
    n_clusters: int


def randomization_test(
    y: np.ndarray,
    others: np.ndarray,
    exposure: np.ndarray,
    cluster_codes: np.ndarray,
    treated_clusters: np.ndarray,
    *,
    transform=None,
    null: float = 0.0,
    draws: int = 9999,
    seed: int | np.random.Generator | None = None,
    alpha: float | None = 0.05,
) -> RandomizationTest:
    """Randomization test for a treatment assigned to whole clusters.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Outcome, transformed as the regression needs (fixed effects absorbed).
    others : ndarray, shape (n, m)
        The other regressors, transformed likewise (may have zero columns).
    exposure : ndarray, shape (n,)
        The value the treatment column takes in each row if that row's cluster is
        treated (e.g. 1 after adoption, 0 before), untransformed.
    cluster_codes : ndarray, shape (n,)
        Cluster of each row.
    treated_clusters : ndarray of bool, shape (G,)
        The observed assignment, by cluster code ``0..G-1`` (sorted labels).
    transform : callable, optional
        Applies to an ``(n, p)`` array the transformation of ``y`` and ``others``
        (e.g. within-unit demeaning); identity when omitted.
    null : float
        The effect under the sharp null tested.
    draws : int
        Re-assignments drawn when enumerating all would need more.
    seed : int, Generator or None
        Randomness for the draws.
    alpha : float or None
        Interval of coverage ``1 - alpha``; ``None`` skips it.

    Returns
    -------
    RandomizationTest

    Examples
    --------
    >>> import numpy as np
    >>> g = np.repeat(np.arange(8), 2)
    >>> post = np.tile([0.0, 1.0], 8)
    >>> treated = np.arange(8) < 3
    >>> y = np.random.default_rng(0).normal(size=16) + 5.0 * post * treated[g]
    >>> dm = lambda a: a - (a.reshape(8, 2, -1).mean(axis=1)).repeat(2, axis=0)
    >>> res = randomization_test(dm(y[:, None])[:, 0], dm(post[:, None]), post, g, treated,
    ...                          transform=dm, alpha=None)
    >>> res.enumerated, res.draws, res.p_value
    (True, 56, 0.017857142857142856)
    """
    y = np.asarray(y, dtype=float)
    _, codes = np.unique(np.asarray(cluster_codes), return_inverse=True)
    n_clusters = int(codes.max()) + 1
    assigned = np.asarray(treated_clusters, dtype=bool)
    if assigned.shape != (n_clusters,):
        raise DesignError(f"treated_clusters has {assigned.size} entries for {n_clusters} clusters")
    n_treated = int(assigned.sum())
    if n_treated == 0 or n_treated == n_clusters:
        raise DesignError("randomization inference needs both treated and untreated clusters")
    basis = np.zeros((len(y), n_clusters))
    basis[np.arange(len(y)), codes] = np.asarray(exposure, dtype=float)
    if transform is not None:
        basis = transform(basis)
    others = np.asarray(others, dtype=float).reshape(len(y), -1)
    if others.shape[1]:
        q, _ = np.linalg.qr(others)
        basis = basis - q @ (q.T @ basis)
    gram = basis.T @ basis
    ey = basis.T @ y

    total = math.comb(n_clusters, n_treated)
    if total <= draws:
        cols = np.zeros((n_clusters, total))
        for b, combo in enumerate(itertools.combinations(range(n_clusters), n_treated)):
            cols[list(combo), b] = 1.0
        enumerated = True
    else:
        rng = np.random.default_rng(seed)
        order = np.argsort(rng.random((draws, n_clusters)), axis=1)[:, :n_treated]
        cols = np.zeros((n_clusters, draws + 1))
        cols[:, 0] = assigned
        cols[order.T, np.arange(1, draws + 1)[None, :]] = 1.0
        enumerated = False
    denom = np.einsum("gb,gb->b", gram @ cols, cols)
    ok = denom > 1e-12 * max(float(np.max(denom)), 1e-300)
    cols, denom = cols[:, ok], denom[ok]
    b_perm = (ey @ cols) / denom
    t_obs = assigned.astype(float)
    den_obs = float(t_obs @ gram @ t_obs)
    if den_obs <= 0:
        raise DesignError("the treatment does not vary once the other regressors are removed")
    estimate = float(ey @ t_obs) / den_obs
    # coefficient of the observed treatment column regressed under each assignment
    slope = (t_obs @ gram @ cols) / denom

    # ties up to rounding: relative to the statistic and to the size of the re-assigned
    # estimates (not an absolute 1e-12, which depends on the outcome's units)
    floor = 1e-12 * float(np.max(np.abs(b_perm), initial=0.0))

    def p_value(r: float) -> float:
        stat = np.abs(b_perm - r * slope)
        return float(np.mean(stat >= abs(estimate - r) * (1 - 1e-10) - floor))

    lower = upper = float("nan")
    if alpha is not None:
        from impact.inference.wild import _invert

        spread = float(np.std(b_perm)) or abs(estimate) or 1.0
        lower, upper = _invert(p_value, estimate, spread, alpha)
    return RandomizationTest(
        estimate=estimate,
        p_value=p_value(null),
        ci_lower=lower,
        ci_upper=upper,
        draws=int(cols.shape[1]),
        enumerated=enumerated,
        n_treated_clusters=n_treated,
        n_clusters=n_clusters,
    )
