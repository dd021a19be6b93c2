"""Standard errors valid for each way of building the comparison group.

Matching with replacement: Abadie and Imbens (2006)
    For the ATT with ``M`` matches per treated unit the variance is estimated by
    ``(1 / N1^2) [sum_treated (tau_i - tau)^2 + sum_controls (K_i^2 - K2_i) s2_i]`` where
    ``tau_i`` is treated unit ``i``'s difference from the mean of its matches, ``K_i``
    the sum of the matching weights control ``i`` receives (times used divided by
    ``M``), ``K2_i`` the sum of their squares (so ``K_i^2 - K2_i = K(K - 1) / M^2``),
    and ``s2_i`` the conditional variance of control ``i``'s outcome, estimated by
    matching it to its ``J = 2`` nearest other controls on the covariates (Mahalanobis
    metric, whatever distance the matching itself used: neighbours on the propensity
    score alone can differ in covariates that move the outcome, which inflates the
    estimate):
    ``J / (J + 1) (Y_i - mean of their Y)^2`` (Abadie and Imbens 2006, section 4;
    Stata ``teffects nnmatch``'s default ``vce(robust, nn(2))``). The bias-corrected
    estimator (Abadie and Imbens 2011) adjusts each match by a regression of the outcome
    on the covariates among the matched controls and uses the same variance formula.
Matching without replacement, exact and coarsened exact matching
    A weighted regression of the outcome on treatment (and covariates) in the matched
    sample, with cluster-robust standard errors by matched pair or subclass (CR1:
    ``G / (G - 1) (N - 1) / (N - K)``, Student's t with ``G - 1`` degrees of freedom),
    as recommended by R ``MatchIt``'s documentation.
Inverse probability weighting (ATT)
    The sandwich variance of the M-estimator that stacks the logistic score and the
    two weighted means, so the estimation of the propensity score is accounted for
    (Lunceford and Davidian 2004). The regression-adjusted version uses
    heteroskedasticity-robust (HC1) standard errors of the weighted regression, taking
    the weights as fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from impact._foreign_warnings import in_own_words
from impact.exceptions import DesignError, InferenceWarning

__all__ = [
    "PointEstimate",
    "abadie_imbens",
    "ipw_att",
    "weighted_regression",
]


@dataclass(frozen=True)
class PointEstimate:
    """An estimate with its standard error and the degrees of freedom for inference.

    ``df`` is None for a normal reference distribution.
    """

    estimate: float
    std_error: float
    df: float | None = None


def abadie_imbens(
    y: np.ndarray,
    treated_index: np.ndarray,
    match_matrix: np.ndarray,
    points: np.ndarray,
    controls: np.ndarray,
    *,
    mu0: np.ndarray | None = None,
    n_neighbors: int = 2,
    tree: cKDTree | None = None,
) -> PointEstimate:
    """ATT and Abadie-Imbens standard error for matching with replacement.

    Parameters
    ----------
    y : ndarray
        Outcome per unit.
    treated_index : ndarray of int
        Positions of the treated units, one per row of ``match_matrix``.
    match_matrix : ndarray of int
        Matched control positions per treated unit (``-1`` = none); treated units
        without any match are left out.
    points : ndarray, shape (n,) or (n, k)
        Whitened covariates (or a score), used to estimate the conditional variance of
        control outcomes by matching controls to controls.
    controls : ndarray of bool
        Control units that may serve as neighbours for the variance estimate.
    mu0 : ndarray, optional
        Fitted control outcome regression per unit, for the bias-corrected estimator.
    n_neighbors : int, default 2
        Controls used to estimate each conditional variance.
    tree : cKDTree, optional
        A k-d tree over ``points`` of the ``controls`` (in the order of the data),
        built once by the caller when it estimates several variances on the same
        controls; built here otherwise.

    Returns
    -------
    PointEstimate

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([3.0, 5.0, 1.0, 2.0, 2.5])
    >>> x = np.array([0.1, 0.5, 0.12, 0.45, 0.3])
    >>> est = abadie_imbens(y, np.array([0, 1]), np.array([[2], [3]]), x,
    ...                     np.array([False, False, True, True, True]))
    >>> est.estimate
    2.5
    """
    valid = match_matrix >= 0
    n_m = valid.sum(axis=1)
    keep = n_m > 0
    mm, valid, n_m = match_matrix[keep], valid[keep], n_m[keep]
    t_idx = np.asarray(treated_index)[keep]
    safe = np.where(valid, mm, 0)
    share = (valid / n_m[:, None]).astype(float)
    y0 = (y[safe] * share).sum(axis=1)
    diffs = y[t_idx] - y0
    if mu0 is not None:
        diffs = diffs - (mu0[t_idx] - (mu0[safe] * share).sum(axis=1))
    tau = float(diffs.mean())
    n1 = len(diffs)
    flat = mm[valid]
    k_w = np.bincount(flat, weights=share[valid], minlength=len(y))
    k_w2 = np.bincount(flat, weights=share[valid] ** 2, minlength=len(y))
    factor = k_w**2 - k_w2
    need = np.flatnonzero(factor > 1e-12)
    term2 = 0.0
    if len(need):
        s2 = _conditional_variance(y, points, np.asarray(controls, bool), need, n_neighbors, tree)
        term2 = float((factor[need] * s2).sum())
    term1 = float(((diffs - tau) ** 2).sum())
    return PointEstimate(tau, float(np.sqrt((term1 + term2) / n1**2)), None)


def _conditional_variance(
    y: np.ndarray,
    points: np.ndarray,
    pool: np.ndarray,
    targets: np.ndarray,
    j: int,
    tree: cKDTree | None = None,
) -> np.ndarray:
    """Matching estimate of Var(Y | X) for ``targets`` from their ``j`` nearest in ``pool``."""
    pool_idx = np.flatnonzero(pool)
    pts = np.asarray(points, dtype=float)
    pts = pts.reshape(len(pts), -1)
    j = min(j, len(pool_idx) - 1)
    if j < 1:
        return np.zeros(len(targets))
    if tree is None or tree.n != len(pool_idx):
        tree = cKDTree(pts[pool_idx], balanced_tree=False, compact_nodes=False)
    # query in the tree's own order of the points (nearby targets one after another):
    # the same neighbours, found faster as the tree's nodes stay in cache
    position = np.zeros(len(pts), dtype=np.int64)
    position[pool_idx[tree.indices]] = np.arange(len(pool_idx))
    order = np.argsort(position[targets], kind="stable")
    _, found = tree.query(pts[targets[order]], k=j + 1, workers=-1)
    nb = np.empty((len(targets), j + 1), dtype=np.int64)
    nb[order] = np.asarray(found).reshape(len(targets), j + 1)
    nb = pool_idx[nb]
    not_self = nb != targets[:, None]
    # keep the first j neighbours other than the unit itself
    rank = np.cumsum(not_self, axis=1)
    use = not_self & (rank <= j)
    mean_nb = (y[nb] * use).sum(axis=1) / j
    return j / (j + 1) * (y[targets] - mean_nb) ** 2


def weighted_regression(
    y: np.ndarray,
    treated: np.ndarray,
    covariates: np.ndarray | None,
    weights: np.ndarray,
    *,
    clusters: np.ndarray | None,
    second_clusters: np.ndarray | None = None,
) -> PointEstimate:
    """Coefficient on treatment in a weighted regression on the matched sample.

    Units with zero weight are left out. Covariates are centred at the weighted mean of
    the treated, so adding them does not change what the treatment coefficient means.
    With ``clusters`` the standard error is cluster-robust (CR1, t with ``G - 1``
    degrees of freedom); otherwise heteroskedasticity-robust (HC1, normal reference).
    With ``second_clusters`` as well it is two-way cluster-robust (Cameron, Gelbach and
    Miller 2011): ``V_1 + V_2 - V_12`` from the CR1 variances clustered by each and by
    their intersection, t with ``min(G_1, G_2) - 1`` degrees of freedom, and never
    below either one-way variance (with few clusters in one dimension the difference
    is noisy, and a value below them reflects that noise, not less dependence).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([3.0, 5.0, 1.0, 2.0])
    >>> d = np.array([1, 1, 0, 0])
    >>> est = weighted_regression(y, d, None, np.ones(4), clusters=np.array([0, 1, 0, 1]))
    >>> est.estimate
    2.5
    """
    keep = weights > 0
    yk = y[keep]
    d = np.asarray(treated, dtype=float)[keep]
    w = weights[keep]
    cols = [np.ones(len(yk)), d]
    if covariates is not None and covariates.shape[1]:
        Xk = covariates[keep]
        tw = w * d
        centre = (Xk * tw[:, None]).sum(axis=0) / tw.sum()
        Xc = Xk - centre
        sd = Xc.std(axis=0)
        Xc = Xc[:, sd > 1e-12 * (1 + np.abs(centre))]
        cols.extend(Xc.T)
    X = np.column_stack(cols)
    X = _drop_collinear(X)
    groups = None
    if clusters is not None:
        groups = np.unique(np.asarray(clusters)[keep], return_inverse=True)[1]
    _check_room(X.shape, None if groups is None else int(groups.max()) + 1)
    from statsmodels.regression.linear_model import WLS  # on first use (slow import)

    model = WLS(yk, X, weights=w)
    with in_own_words(
        InferenceWarning,
        "the regression on the matched sample",
        "its standard error may be unreliable: drop covariates that are (nearly) constant "
        "or collinear in the matched sample",
    ):
        if groups is not None and second_clusters is not None:
            second = np.unique(np.asarray(second_clusters)[keep], return_inverse=True)[1]
            both = np.unique(groups * (int(second.max()) + 1) + second, return_inverse=True)[1]
            var_one, var_two, var_both = (
                float(
                    np.asarray(
                        model.fit(
                            cov_type="cluster", cov_kwds={"groups": g, "use_correction": True}
                        ).cov_params()
                    )[1, 1]
                )
                for g in (groups, second, both)
            )
            var = max(var_one + var_two - var_both, var_one, var_two)
            df = float(min(groups.max(), second.max()))
            estimate = float(model.fit().params[1])
            return PointEstimate(estimate, float(np.sqrt(max(var, 0.0))), df)
        if groups is not None:
            res = model.fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True})
            df = float(groups.max())
        else:
            res = model.fit(cov_type="HC1")
            df = None
    var = float(np.asarray(res.cov_params())[1, 1])  # only the effect's: others may round below 0
    return PointEstimate(float(res.params[1]), float(np.sqrt(max(var, 0.0))), df)


def _check_room(shape: tuple[int, int], n_clusters: int | None) -> None:
    """Refuse a matched sample too small for a standard error, saying what to change."""
    n, k = shape
    what = "the intercept and the treatment" + (" and covariates" if k > 2 else "")
    hint = (
        "keep more units (a wider caliper, coarser bins for method='cem', fewer "
        "matching covariates)" + (" or use adjustment='none'" if k > 2 else "")
    )
    if n <= k:
        raise DesignError(
            f"the matched sample has {n} units with positive weight for {k} regression "
            f"coefficients ({what}): no degrees of freedom are left for a standard error; " + hint
        )
    if n_clusters is not None and n_clusters < 2:
        raise DesignError(
            f"the matched sample forms {n_clusters} matched set: clustered standard "
            "errors need at least two; " + hint
        )


def _drop_collinear(X: np.ndarray) -> np.ndarray:
    """Keep the first two columns and a maximal independent set of the others."""
    norms = np.sqrt((X**2).sum(axis=0))
    norms[norms == 0] = 1.0
    r = np.linalg.qr(X / norms, mode="r")
    keep = np.zeros(X.shape[1], dtype=bool)  # with fewer rows than columns, the columns
    diag = np.abs(np.diag(r))  # past the rank are combinations of those before them
    keep[: len(diag)] = diag > 1e-9
    keep[:2] = True
    return X[:, keep]


def ipw_att(
    y: np.ndarray,
    treated: np.ndarray,
    design: np.ndarray,
    linear_predictor: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
) -> PointEstimate:
    """ATT by odds weighting with a sandwich SE that accounts for the estimated score.

    Treated units get weight 1 and controls ``p / (1 - p)`` (the odds of treatment).
    The variance stacks the logistic score equations with the two weighted means.
    With ``clusters`` the estimating functions are summed within clusters before
    their outer product (times ``G / (G - 1)``; t with ``G - 1`` degrees of freedom).

    Parameters
    ----------
    y : ndarray
        Outcome per unit.
    treated : ndarray of bool
        Treatment indicator.
    design : ndarray
        The logistic model's design matrix (intercept first).
    linear_predictor : ndarray
        Its fitted linear predictor (log odds).
    clusters : ndarray, optional
        Cluster of each unit, for a cluster-robust variance.

    Returns
    -------
    PointEstimate

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([2.0, 4.0, 1.0, 3.0])
    >>> d = np.array([True, True, False, False])
    >>> Z = np.ones((4, 1))
    >>> round(ipw_att(y, d, Z, np.zeros(4)).estimate, 6)
    1.0
    """
    d = np.asarray(treated, dtype=float)
    n = len(y)
    odds = np.exp(linear_predictor)
    p = odds / (1 + odds)
    w0 = (1 - d) * odds
    mu1 = float((d * y).sum() / d.sum())
    mu0 = float((w0 * y).sum() / w0.sum())
    k = design.shape[1]
    # estimating functions per unit: logistic score, treated mean, weighted control mean
    g = np.column_stack([(d - p)[:, None] * design, d * (y - mu1), w0 * (y - mu0)])
    a = np.zeros((k + 2, k + 2))
    a[:k, :k] = -(design * (p * (1 - p))[:, None]).T @ design / n
    a[k, k] = -d.mean()
    a[k + 1, :k] = (design * (w0 * (y - mu0))[:, None]).sum(axis=0) / n
    a[k + 1, k + 1] = -w0.mean()
    df = None
    if clusters is None:
        b = g.T @ g / n
    else:
        codes = np.unique(np.asarray(clusters), return_inverse=True)[1]
        n_clusters = int(codes.max()) + 1
        sums = np.zeros((n_clusters, g.shape[1]))
        np.add.at(sums, codes, g)
        b = sums.T @ sums / n * (n_clusters / (n_clusters - 1))
        df = float(n_clusters - 1)
    a_inv = np.linalg.inv(a)
    cov = a_inv @ b @ a_inv.T / n
    grad = np.zeros(k + 2)
    grad[k], grad[k + 1] = 1.0, -1.0
    return PointEstimate(mu1 - mu0, float(np.sqrt(grad @ cov @ grad)), df)
