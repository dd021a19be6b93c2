"""The wild cluster restricted bootstrap (WCR) for one coefficient.

The null hypothesis ``b_j = r`` is imposed on the bootstrap data: with restricted
residuals ``u_r`` (from regressing ``y - r x_j`` on the other regressors), bootstrap
samples are ``y* = X_{-j} b_r + r x_j + v_g u_r`` with one weight ``v_g`` per cluster,
drawn from the Rademacher (+1/-1) or Webb six-point distribution. Each sample gives a
t-statistic studentized by the CR1 standard error; the p-value is the share of
bootstrap ``|t*|`` at least as large as the observed ``|t|`` (two-sided, symmetric).

As in Roodman, MacKinnon, Nielsen and Webb (2019), "Fast and wild: Bootstrap
inference in Stata using boottest", nothing is re-estimated: the bootstrap numerator
and every cluster's bootstrap score are linear in the weights, so all draws reduce to
two ``G x B`` matrix products, and both are linear in ``r``, so the p-value at any
``r`` costs ``O(B)``. Confidence intervals invert the test: the set of ``r`` whose
p-value exceeds ``alpha``, with the same weights for every ``r``.

The arithmetic is arranged for speed in :mod:`impact.inference._wild_kernels`: one
matrix product over the draws, the weight matrix of an integer seed drawn once and
shared by later calls, and the test inversion counted from five numbers per draw.

When all ``2^G`` Rademacher sign vectors (or ``6^G`` Webb vectors) number no more
than the draws requested, they are enumerated and the result is exact and free of
simulation error.

Choice of weights (``"auto"``, the default of the estimators)
-------------------------------------------------------------
With ``G`` clusters the Rademacher bootstrap has only ``2^G`` sign vectors, which
come in pairs giving the same ``|t*|``: the p-value cannot fall below ``2 / 2^G``
(1/16 with five clusters), so no test rejects at 5% and intervals are unbounded.
``"auto"`` therefore uses Webb's six-point weights, whose ``6^G`` vectors take many
more distinct values, below 12 clusters, as Webb (2023, "Reworking wild
bootstrap-based inference for clustered errors", Canadian Journal of Economics),
MacKinnon and Webb (2018, "The wild bootstrap for few (treated) clusters",
Econometrics Journal) and Roodman et al. (2019) recommend when ``G`` is small (the
cut-off of 12 is the estimators' ``min_clusters``; R ``wildmeta`` documents 10), and
Rademacher weights from 12 clusters on (4,096 sign vectors or more), enumerated when
``2^G`` is at most the draws requested (12 and 13 clusters at the default 9,999
draws), which is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from impact.exceptions import EstimationError, InferenceWarning, warn
from impact.inference._wild_kernels import (
    Counter,
    draw_statistics,
    draw_weights,
    invert,
    shared_weights,
)
from impact.inference.regression import _codes

__all__ = ["WildBootstrap", "bootstrap_weights", "resolve_weights", "wild_cluster_bootstrap"]

WeightKind = Literal["auto", "rademacher", "webb"]
WEIGHT_KINDS = ("auto", "rademacher", "webb")
#: below this many clusters ``"auto"`` uses Webb's six-point weights
WEBB_BELOW_CLUSTERS = 12
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class WildBootstrap:
    """Result of a wild cluster restricted bootstrap test of one coefficient.

    Attributes
    ----------
    estimate, std_error, t_stat : float
        Coefficient, its CR1 standard error and the t-statistic for the null.
    p_value : float
        Bootstrap p-value of ``b_j = null``.
    ci_lower, ci_upper : float
        Interval by test inversion (``nan`` when not requested).
    null : float
        The null value tested.
    draws : int
        Number of bootstrap samples.
    enumerated : bool
        Whether every weight vector was used (an exact, non-random result).
    weights : str
        ``"rademacher"`` or ``"webb"``.
    t_draws : ndarray
        Bootstrap t-statistics under the null.
    """

    estimate: float
    std_error: float
    t_stat: float
    p_value: float
    ci_lower: float
    ci_upper: float
    null: float
    draws: int
    enumerated: bool
    weights: str
    t_draws: np.ndarray


def resolve_weights(kind: str, n_clusters: int) -> str:
    """The weights ``kind`` stands for with ``n_clusters`` clusters.

    ``"auto"`` is ``"webb"`` below :data:`WEBB_BELOW_CLUSTERS` (12) clusters and
    ``"rademacher"`` from there on (see the module docstring); other kinds (the
    multiplier bootstrap's ``"mammen"`` too) are returned unchanged.

    Examples
    --------
    >>> resolve_weights("auto", 11), resolve_weights("auto", 12), resolve_weights("webb", 50)
    ('webb', 'rademacher', 'webb')
    """
    if kind == "auto":
        return "webb" if n_clusters < WEBB_BELOW_CLUSTERS else "rademacher"
    return kind


def bootstrap_weights(
    n_clusters: int,
    *,
    kind: WeightKind = "rademacher",
    draws: int = 9999,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, bool]:
    """Cluster weights for the wild bootstrap, one column per bootstrap sample.

    Parameters
    ----------
    n_clusters : int
        Number of clusters ``G``.
    kind : {"rademacher", "webb", "auto"}
        Rademacher: +1 or -1 with equal probability. Webb: six points
        ``+-sqrt(1/2), +-1, +-sqrt(3/2)``, better when ``G`` is very small.
        ``"auto"``: Webb below 12 clusters, Rademacher otherwise
        (:func:`resolve_weights`).
    draws : int
        Number of samples; all ``2^G`` (``6^G``) vectors are enumerated when they
        are no more than ``draws``.
    seed : int, Generator or None
        Randomness for the draws.

    Returns
    -------
    weights : ndarray, shape (G, B)
    enumerated : bool

    Examples
    --------
    >>> v, exact = bootstrap_weights(3, draws=999)
    >>> v.shape, exact
    ((3, 8), True)
    """
    if kind not in WEIGHT_KINDS:
        raise ValueError(f"unknown bootstrap weights {kind!r}; use 'auto', 'rademacher' or 'webb'")
    kind = resolve_weights(kind, n_clusters)
    return draw_weights(_support(kind), n_clusters, draws, seed)


def _support(kind: str) -> np.ndarray:
    return np.array([-1.0, 1.0]) if kind == "rademacher" else _WEBB


def wild_cluster_bootstrap(
    X: np.ndarray,
    y: np.ndarray,
    cluster_codes: np.ndarray,
    *,
    coef: int = 0,
    null: float = 0.0,
    weights: WeightKind = "rademacher",
    draws: int = 9999,
    seed: int | np.random.Generator | None = None,
    alpha: float | None = 0.05,
    n_params: int | None = None,
    weight_matrix: np.ndarray | None = None,
) -> WildBootstrap:
    """Wild cluster restricted bootstrap test and interval for coefficient ``coef``.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Regressors after absorbing fixed effects nested in the clusters (and scaling
        rows by the square root of any weights).
    y : ndarray, shape (n,)
        Outcome, transformed in the same way.
    cluster_codes : ndarray, shape (n,)
        Cluster of each row.
    coef : int
        Column of the coefficient tested.
    null : float
        Null value ``r`` of ``b_coef``.
    weights : {"auto", "rademacher", "webb"}
        Distribution of the cluster weights; ``"auto"`` is Webb below 12 clusters and
        Rademacher otherwise (the result's ``weights`` names the one used).
    draws : int
        Bootstrap samples (9,999 by default); enumeration is used when possible.
    seed : int, Generator or None
        Randomness for the draws.
    alpha : float or None
        Interval of coverage ``1 - alpha`` by test inversion; ``None`` skips it.
    n_params : int, optional
        ``K`` in the CR1 correction (it cancels in the p-value).
    weight_matrix : ndarray, shape (G, B), optional
        Use these weights instead of drawing (to bootstrap several outcomes jointly).

    Returns
    -------
    WildBootstrap

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(10), 4)
    >>> X = np.column_stack([(g < 3).astype(float), np.ones(40)])
    >>> y = rng.normal(size=10)[g] + rng.normal(size=40)
    >>> out = wild_cluster_bootstrap(X, y, g, draws=9999)
    >>> out.enumerated, out.draws, 0 < out.p_value <= 1
    (True, 1024, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    codes, n_clusters = _codes(np.asarray(cluster_codes))
    n, k = X.shape
    if n_clusters < 2:
        raise EstimationError("the wild cluster bootstrap needs at least two clusters")
    if weights not in WEIGHT_KINDS:
        raise ValueError(
            f"unknown bootstrap weights {weights!r}; use 'auto', 'rademacher' or 'webb'"
        )
    weights = resolve_weights(weights, n_clusters)  # type: ignore[assignment]
    big_k = k if n_params is None else n_params
    small = n_clusters / (n_clusters - 1) * (n - 1) / (n - big_k)

    bread = _bread(X)
    beta = bread @ (X.T @ y)
    resid = y - X @ beta
    c = bread[:, coef]
    per_cluster = _cluster_sums(X * resid[:, None], codes, n_clusters)
    se = float(np.sqrt(small * np.sum((per_cluster @ c) ** 2)))

    others = np.delete(X, coef, axis=1)
    xj = X[:, coef]
    if others.shape[1]:
        q, _ = np.linalg.qr(others)
        u0 = y - q @ (q.T @ y)
        z = xj - q @ (q.T @ xj)
    else:
        u0, z = y.copy(), xj.copy()
    # restricted residuals at null r: u0 - r z
    s0 = _cluster_sums(X * u0[:, None], codes, n_clusters)  # G x k
    s1 = _cluster_sums(X * z[:, None], codes, n_clusters)
    # row h of d is c' M X_h'X_h M; a bootstrap score is a_h v_h - d_h S' v
    d = _cluster_sums(X * (X @ c)[:, None], codes, n_clusters) @ bread

    if weight_matrix is None:
        # drawn once per integer seed and shared (see impact.inference._wild_kernels)
        v, enumerated, unit_weights = shared_weights(
            weights, _support(weights), n_clusters, draws, seed
        )
    else:
        v, enumerated = np.asarray(weight_matrix, dtype=float), False
        if v.shape[0] != n_clusters:
            raise ValueError(f"weight_matrix has {v.shape[0]} rows for {n_clusters} clusters")
        unit_weights = bool(np.all(np.abs(v) == 1.0))
    n_draws = v.shape[1]
    num0, num1, q00, q01, q11 = draw_statistics(c, d, s0, s1, v, unit_weights)
    b_j = float(beta[coef])
    # a draw giving every cluster the same weight (v = c * 1) returns the observed
    # statistic at every null value: its q01 and q11 vanish, but only up to rounding,
    # which at nulls far from the estimate would swamp its variance
    flat = q11 <= 1e-12 * q11.max() if q11.max() > 0 else np.zeros(n_draws, dtype=bool)
    q01[flat] = q11[flat] = 0.0

    def t_draws(r: float) -> np.ndarray:
        var = small * (q00 - 2 * r * q01 + r * r * q11)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (num0 - r * num1) / np.sqrt(np.maximum(var, 0.0))
        return np.nan_to_num(t, nan=0.0)

    def p_value(r: float) -> float:
        t_obs = abs(b_j - r) / se if se > 0 else np.inf
        tb = np.abs(t_draws(r))
        return float(np.mean(tb >= t_obs * (1 - 1e-10) - 1e-12))

    lower = upper = float("nan")
    if alpha is not None and se > 0:
        counter = Counter(num0, num1, q00, q01, q11, small, b_j, se)
        lower, upper = invert(
            counter, b_j, se, alpha, fallback=lambda: _invert(p_value, b_j, se, alpha)
        )
        if not (np.isfinite(lower) and np.isfinite(upper)):
            far = min(p_value(b_j - 1e8 * se), p_value(b_j + 1e8 * se))
            _warn_unbounded(far, n_draws, n_clusters, weights, alpha)
    at_null = t_draws(null)
    t_obs = abs(b_j - null) / se if se > 0 else np.inf
    return WildBootstrap(
        estimate=b_j,
        std_error=se,
        t_stat=(b_j - null) / se if se > 0 else float("nan"),
        p_value=float(np.mean(np.abs(at_null) >= t_obs * (1 - 1e-10) - 1e-12)),
        ci_lower=lower,
        ci_upper=upper,
        null=float(null),
        draws=int(v.shape[1]),
        enumerated=enumerated,
        weights=weights,
        t_draws=at_null,
    )


def _warn_unbounded(floor: float, n_draws: int, n_clusters: int, kind: str, alpha: float) -> None:
    message = (
        f"the {1 - alpha:.0%} wild bootstrap interval is unbounded: with {n_clusters} "
        f"clusters and {n_draws} {kind} draws the p-value stays at or above {floor:.3g} "
        "however far the null value is from the estimate"
    )
    if kind == "rademacher":
        message += "; bootstrap_weights='webb' (six-point weights) may bound it"
    warn(message, InferenceWarning)


def _bread(X: np.ndarray) -> np.ndarray:
    """``(X'X)^+`` computed on columns scaled to unit length, then scaled back.

    The pseudo-inverse truncates singular values below a fraction of the largest, so
    on the raw columns a regressor measured in large units (an outcome lag in the
    millions next to a 0/1 treatment indicator) would make the small columns look
    collinear and wipe out their coefficients. Equilibrating the columns first makes
    the result independent of the units of every regressor.
    """
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    norms[~(norms > 0)] = 1.0
    Xs = X / norms
    return np.linalg.pinv(Xs.T @ Xs) / np.outer(norms, norms)


def _cluster_sums(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    return np.column_stack(
        [
            np.bincount(codes, weights=values[:, j], minlength=n_clusters)
            for j in range(values.shape[1])
        ]
    )


def _invert(p_value, estimate: float, scale: float, alpha: float) -> tuple[float, float]:
    """The interval of nulls whose p-value exceeds ``alpha`` (bisection on each side)."""
    bounds = []
    for sign in (-1.0, 1.0):
        inner, step = estimate, scale
        outer = estimate + sign * step
        tries = 0
        while p_value(outer) > alpha and tries < 60:
            inner = outer
            step *= 2
            outer = estimate + sign * step
            tries += 1
        if tries == 60:
            bounds.append(sign * np.inf)
            continue
        for _ in range(60):
            mid = (inner + outer) / 2
            if p_value(mid) > alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-9 * scale:
                break
        bounds.append((inner + outer) / 2)
    return float(bounds[0]), float(bounds[1])
