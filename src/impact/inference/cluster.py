"""Cluster-robust covariances CR1, CR2 and CR3 with small-sample degrees of freedom.

All functions work on a regression that has already been transformed: fixed effects
absorbed (within-demeaned) and, for weighted least squares, every row multiplied by the
square root of its weight. ``X`` and ``residuals`` are then the transformed regressors
and residuals, and the estimator is ``b = (X'X)^{-1} X'y``.

Conventions
-----------
``cr1``
    ``G/(G-1) (N-1)/(N-K)`` times the cluster sandwich (Stata, R ``fixest``); ``K``
    is passed by the caller (it depends on whether absorbed effects are counted).
``cr2``
    The bias-reduced linearization of Bell and McCaffrey (2002): each cluster's
    residuals are premultiplied by ``A_g = (I - H_gg)^{-1/2}`` (symmetric square root
    of the Moore-Penrose inverse), with the working model ``Phi = I``, as R
    ``clubSandwich::vcovCR(type = "CR2")`` (Pustejovsky and Tipton 2018). Fixed
    effects nested in the clusters are absorbed without changing the result
    (their Theorem 2), so the adjustment only needs the transformed ``X``.
``cr3``
    ``A_g = (I - H_gg)^{-1}``, the approximate jackknife of clubSandwich's ``CR3``.

Degrees of freedom
------------------
``"satterthwaite"`` is the Bell-McCaffrey / clubSandwich ``coef_test(test =
"Satterthwaite")`` approximation with the working model ``Phi = I``;
``"imbens-kolesar"`` uses instead a random-effects working model whose
within-cluster correlation is estimated from the residuals (Imbens and Kolesar 2016);
it equals the Satterthwaite value when that estimate is not positive (as with unit
fixed effects and clusters of units, where residuals sum to zero in each cluster).
For ``cr1`` the reference distribution is t(G-1) as in Stata.

The adjustment matrices are never formed: with ``X_g = U S V'`` (thin SVD),
``H_gg = (U W) diag(lam) (U W)'`` for the eigen-decomposition ``W diag(lam) W'`` of
``S V' (X'X)^{-1} V S``, so applying ``(I - H_gg)^{-1/2}`` costs ``O(n_g K^2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from impact.exceptions import EstimationError

__all__ = [
    "ClusterRobust",
    "cluster_robust",
    "cluster_sizes",
]

CovarianceKind = Literal["cr1", "cr2", "cr3"]
DfMethod = Literal["satterthwaite", "imbens-kolesar", "clusters"]

_EIG_ONE = 1.0 - 1e-10


@dataclass(frozen=True)
class ClusterRobust:
    """A cluster-robust covariance matrix and its degrees of freedom.

    Attributes
    ----------
    cov : ndarray, shape (k, k)
        Covariance of the coefficients.
    df : ndarray, shape (k,)
        Degrees of freedom of the t reference distribution of each coefficient
        (``nan`` where not computed).
    kind : str
        ``"cr1"``, ``"cr2"`` or ``"cr3"``.
    df_method : str
        How ``df`` was obtained.
    n_clusters : int
        Number of clusters.
    """

    cov: np.ndarray
    df: np.ndarray
    kind: str
    df_method: str
    n_clusters: int

    def std_error(self, index: int) -> float:
        """Standard error of coefficient ``index``."""
        return float(np.sqrt(self.cov[index, index]))


def cluster_sizes(codes: np.ndarray) -> np.ndarray:
    """Number of rows in each cluster, for clusters coded ``0..G-1``.

    Examples
    --------
    >>> cluster_sizes(np.array([0, 0, 1, 2, 2, 2])).tolist()
    [2, 1, 3]
    """
    return np.bincount(np.asarray(codes))


def _groups(codes: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return np.split(order, bounds)


class _Adjuster:
    """Apply ``(I - H_gg)^{-1/2}`` or ``(I - H_gg)^{-1}`` to the rows of one cluster."""

    def __init__(self, Xg: np.ndarray, bread: np.ndarray, power: float) -> None:
        u, s, vt = np.linalg.svd(Xg, full_matrices=False)
        keep = s > s.max(initial=0.0) * 1e-12 if s.size else s > 0
        u, s, vt = u[:, keep], s[keep], vt[keep]
        q = (s[:, None] * vt) @ bread @ (vt.T * s[None, :])
        lam, w = np.linalg.eigh((q + q.T) / 2)
        self.basis = u @ w
        lam = np.clip(lam, 0.0, 1.0)
        # pseudo-inverse: directions with eigenvalue 1 (rows fitted exactly) are dropped
        scale = np.where(lam < _EIG_ONE, np.power(np.maximum(1.0 - lam, 1e-300), power), 0.0)
        self.factor = scale - 1.0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        coef = self.basis.T @ v
        scaled = coef * (self.factor if v.ndim == 1 else self.factor[:, None])
        return v + self.basis @ scaled


def cluster_robust(
    X: np.ndarray,
    residuals: np.ndarray,
    cluster_codes: np.ndarray,
    *,
    kind: CovarianceKind = "cr2",
    n_params: int | None = None,
    df_for: Sequence[int] | None = (0,),
    df_method: DfMethod = "satterthwaite",
    absorbed_codes: np.ndarray | None = None,
    row_scale: np.ndarray | None = None,
) -> ClusterRobust:
    """Cluster-robust covariance of least-squares coefficients.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Transformed regressors (fixed effects absorbed, rows scaled by the square root
        of the weights), of full column rank.
    residuals : ndarray, shape (n,)
        Transformed residuals.
    cluster_codes : ndarray of int, shape (n,)
        Cluster of each row, coded ``0..G-1``.
    kind : {"cr1", "cr2", "cr3"}
        Covariance estimator; see the module docstring.
    n_params : int, optional
        ``K`` in the CR1 correction; defaults to ``k``.
    df_for : sequence of int or None
        Coefficients whose degrees of freedom to compute (CR2 and CR3); ``None`` for
        all. The others get ``nan``.
    df_method : {"satterthwaite", "imbens-kolesar", "clusters"}
        Degrees of freedom for CR2/CR3; ``"clusters"`` gives ``G - 1``. CR1 always uses
        ``G - 1``.
    absorbed_codes : ndarray of int, optional
        Groups whose effects were absorbed (units), nested in the clusters; needed for
        the degrees of freedom of a fixed-effects regression.
    row_scale : ndarray, optional
        Square roots of the weights by which the rows were scaled, when absorbed
        effects were removed by weighted demeaning.

    Returns
    -------
    ClusterRobust

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(8), 5)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=8)[g] + rng.normal(size=40)
    >>> b, *_ = np.linalg.lstsq(X, y, rcond=None)
    >>> out = cluster_robust(X, y - X @ b, g, kind="cr2", df_for=[1])
    >>> out.kind, out.n_clusters, bool(out.df[1] < 7)
    ('cr2', 8, True)
    """
    X = np.asarray(X, dtype=float)
    e = np.asarray(residuals, dtype=float)
    codes = np.asarray(cluster_codes)
    _, codes = np.unique(codes, return_inverse=True)
    n, k = X.shape
    groups = _groups(codes)
    n_clusters = len(groups)
    if n_clusters < 2:
        raise EstimationError("clustered standard errors need at least two clusters")
    bread = np.linalg.pinv(X.T @ X)
    df = np.full(k, np.nan)
    if kind == "cr1":
        scores = np.stack([X[g].T @ e[g] for g in groups])
        big_k = k if n_params is None else n_params
        factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - big_k)
        cov = factor * bread @ (scores.T @ scores) @ bread
        df[:] = n_clusters - 1
        return ClusterRobust(cov, df, kind, "clusters", n_clusters)
    if kind not in ("cr2", "cr3"):
        raise ValueError(f"unknown covariance kind {kind!r}")
    power = -0.5 if kind == "cr2" else -1.0
    adjusters = [_Adjuster(X[g], bread, power) for g in groups]
    scores = np.stack([X[g].T @ adj(e[g]) for g, adj in zip(groups, adjusters, strict=True)])
    cov = bread @ (scores.T @ scores) @ bread
    if df_method == "clusters":
        df[:] = n_clusters - 1
    else:
        which = range(k) if df_for is None else df_for
        rho = _working_correlation(e, groups) if df_method == "imbens-kolesar" else 0.0
        for j in which:
            df[j] = _satterthwaite(X, bread, groups, adjusters, j, rho, absorbed_codes, row_scale)
    return ClusterRobust(cov, df, kind, df_method, n_clusters)


def _working_correlation(e: np.ndarray, groups: list[np.ndarray]) -> float:
    """Moment estimate of the within-cluster correlation of the errors (>= 0)."""
    total = float(e @ e)
    pairs = sum(float(e[g].sum() ** 2 - e[g] @ e[g]) for g in groups)
    n_pairs = sum(len(g) * (len(g) - 1) for g in groups)
    if total <= 0 or n_pairs == 0:
        return 0.0
    rho = (pairs / n_pairs) / (total / len(e))
    return float(min(max(rho, 0.0), 0.99))


def _satterthwaite(
    X: np.ndarray,
    bread: np.ndarray,
    groups: list[np.ndarray],
    adjusters: list[_Adjuster],
    j: int,
    rho: float,
    absorbed_codes: np.ndarray | None,
    row_scale: np.ndarray | None,
) -> float:
    """Satterthwaite degrees of freedom of coefficient ``j`` under a working model.

    The CR2/CR3 variance of ``b_j`` is ``sum_g (w_g' eps)^2`` with
    ``w_g = (I - H) D_g' A_g X_g (X'X)^{-1} e_j`` (``D_g`` selects cluster ``g``, ``H``
    the full hat matrix, absorbed effects included); the degrees of freedom are
    ``tr(W)^2 / tr(W^2)`` with ``W = w' Phi w``.
    """
    n = X.shape[0]
    c = bread[:, j]
    omega = np.zeros((n, len(groups)))
    for h, (g, adj) in enumerate(zip(groups, adjusters, strict=True)):
        omega[g, h] = adj(X[g] @ c)
    if absorbed_codes is not None:
        omega = _residualize_absorbed(omega, np.asarray(absorbed_codes), row_scale)
    omega = omega - X @ (bread @ (X.T @ omega))
    gram = omega.T @ omega
    if rho > 0:
        sums = np.stack([omega[g].sum(axis=0) for g in groups])
        gram = (1 - rho) * gram + rho * (sums.T @ sums)
    denom = float(np.sum(gram * gram))
    return float(np.trace(gram) ** 2 / denom) if denom > 0 else float("nan")


def _residualize_absorbed(
    values: np.ndarray, codes: np.ndarray, row_scale: np.ndarray | None
) -> np.ndarray:
    """Project out the (scaled) indicator columns of the absorbed groups."""
    _, codes = np.unique(codes, return_inverse=True)
    s = np.ones(len(codes)) if row_scale is None else np.asarray(row_scale, dtype=float)
    n_groups = int(codes.max()) + 1
    ss = np.bincount(codes, weights=s * s, minlength=n_groups)
    ss[ss == 0] = 1.0
    out = np.empty_like(values)
    for col in range(values.shape[1]):
        proj = np.bincount(codes, weights=s * values[:, col], minlength=n_groups) / ss
        out[:, col] = values[:, col] - s * proj[codes]
    return out
