"""Fixed-effects regression with cluster-robust inference, shared by the estimators.

The unit fixed effects are absorbed by (weighted) within-unit demeaning, which by the
Frisch-Waugh-Lovell theorem leaves the other coefficients and residuals exactly as in
the regression with one dummy per unit; the remaining regressors (treatment terms,
covariates, period dummies) are fitted by least squares with the estimates and
covariances of statsmodels OLS/WLS (written with numpy, since statsmodels' per-call
overhead dominated Monte Carlo studies; the tests check both agree to 1e-10), rescaled
to the small-sample convention requested.

Small-sample conventions
------------------------
``iid``
    ``s^2 (X'X)^{-1}`` with ``s^2 = RSS / (N - K)``; ``K`` counts every parameter,
    the unit effects included (as R ``lm`` with unit dummies, Stata ``xtreg, fe``).
``hc1``
    White's sandwich times ``N / (N - K)``, ``K`` as for ``iid`` (Stata ``, robust``).
``cr1``
    The cluster sandwich times ``G / (G - 1) * (N - 1) / (N - K)``; with
    ``small_sample="nested"`` (the default, as R ``fixest``'s default
    ``ssc(fixef.K = "nested")`` and Stata ``xtreg, fe vce(cluster)``) ``K`` leaves out
    the unit effects nested in the clusters but keeps one parameter for them (the
    intercept that ``xtreg`` reports; ``fixest`` likewise counts a nested fixed effect
    as one parameter): ``K`` is the number of other coefficients plus one. With
    ``"full"`` it counts every unit effect (as ``lm`` + ``sandwich::vcovCL(type="HC1")``, Stata
    ``reg ... i.unit, vce(cluster)`` and statsmodels OLS with unit dummies).
    Intervals and p-values use Student's t with ``G - 1`` degrees of freedom.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact.exceptions import DesignError, DesignWarning, EstimationError, InferenceWarning, warn
from impact.inference.absorbed import AbsorbedEffects, absorb_columns, effect_parameters

__all__ = ["RegressionFit", "demean", "within_regression"]

Inference = Literal["cr1", "hc1", "iid"]


def demean(values: np.ndarray, codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Subtract the (weighted) group mean from each column of ``values``.

    Parameters
    ----------
    values : ndarray, shape (n,) or (n, k)
        Data to demean.
    codes : ndarray of int, shape (n,)
        Group of each row, coded ``0..G-1``.
    weights : ndarray, shape (n,), optional
        Non-negative weights.

    Returns
    -------
    ndarray
        ``values`` minus their group means, same shape.

    Examples
    --------
    >>> import numpy as np
    >>> demean(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 1])).tolist()
    [-1.0, 1.0, 0.0]
    """
    values = np.asarray(values, dtype=float)
    one_d = values.ndim == 1
    v = values[:, None] if one_d else values
    n_groups = int(codes.max()) + 1
    if weights is None:  # unit weights: the same sums, without multiplying by 1.0
        totals = np.bincount(codes, minlength=n_groups).astype(float)
    else:
        w = np.asarray(weights, dtype=float)
        totals = np.bincount(codes, weights=w, minlength=n_groups)
    totals[totals == 0] = 1.0
    means = np.empty((n_groups, v.shape[1]))
    for j in range(v.shape[1]):
        column = v[:, j] if weights is None else w * v[:, j]
        means[:, j] = np.bincount(codes, weights=column, minlength=n_groups) / totals
    out = v - means[codes]
    return out[:, 0] if one_d else out


class RegressionFit:
    """Coefficients and covariance of a fixed-effects regression (immutable).

    Attributes
    ----------
    params : pandas.Series
        Coefficients of the non-absorbed regressors.
    cov : pandas.DataFrame
        Their covariance matrix, with the small-sample correction applied.
    df_inference : float
        Degrees of freedom of the t distribution for intervals and p-values.
    n_obs : int
        Observations used.
    n_params : int
        Parameters counted in the small-sample correction.
    n_clusters : int or None
        Clusters, for clustered inference.
    dropped : tuple of str
        Regressors dropped as collinear with the fixed effects or each other.
    """

    __slots__ = (
        "_cov",
        "_cov_values",
        "_names",
        "_params",
        "_values",
        "df_inference",
        "dropped",
        "n_clusters",
        "n_obs",
        "n_params",
    )

    def __init__(
        self,
        params: pd.Series,
        cov: pd.DataFrame,
        df_inference: float,
        n_obs: int,
        n_params: int,
        n_clusters: int | None,
        dropped: tuple[str, ...],
    ) -> None:
        self._set(
            params.to_numpy(dtype=float),
            cov.to_numpy(dtype=float),
            list(params.index),
            df_inference=df_inference,
            n_obs=n_obs,
            n_params=n_params,
            n_clusters=n_clusters,
            dropped=dropped,
        )
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_cov", cov)

    @classmethod
    def _from_arrays(
        cls, values: np.ndarray, cov: np.ndarray, names: list[str], **fields: Any
    ) -> RegressionFit:
        """A fit from plain arrays; the labelled Series and frame are built when read."""
        fit = object.__new__(cls)
        fit._set(values, cov, names, **fields)
        object.__setattr__(fit, "_params", None)
        object.__setattr__(fit, "_cov", None)
        return fit

    def _set(self, values: np.ndarray, cov: np.ndarray, names: list[str], **fields: Any) -> None:
        for name, value in {
            "_values": values,
            "_cov_values": cov,
            "_names": names,
            **fields,
        }.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("RegressionFit is immutable")

    def __repr__(self) -> str:
        coefs = ", ".join(f"{n}={v:.4g}" for n, v in zip(self._names, self._values, strict=True))
        return f"RegressionFit({coefs}; n_obs={self.n_obs}, df_inference={self.df_inference})"

    @property
    def params(self) -> pd.Series:
        """Coefficients of the non-absorbed regressors."""
        if self._params is None:
            object.__setattr__(self, "_params", pd.Series(self._values, index=self._index()))
        return self._params

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance matrix of the coefficients."""
        if self._cov is None:
            index = self._index()
            frame = pd.DataFrame(self._cov_values, index=index, columns=index)
            object.__setattr__(self, "_cov", frame)
        return self._cov

    def _index(self) -> pd.Index:
        if self._params is not None:
            return self._params.index
        if self._cov is not None:
            return self._cov.index
        return pd.Index(self._names)

    @property
    def names(self) -> list[str]:
        """Names of the coefficients, in order."""
        return list(self._names)

    def coefficient(self, name: str) -> float:
        """One coefficient."""
        return float(self._values[self._names.index(name)])

    def std_error(self, name: str) -> float:
        """Standard error of one coefficient."""
        i = self._names.index(name)
        variance = float(self._cov_values[i, i])
        if variance < 0:  # only by rounding, when the data barely inform the term
            warn(
                f"the variance of {name!r} came out negative ({variance:.3g}) through "
                "rounding: its standard error is undefined (NaN), as the data barely "
                "inform it",
                InferenceWarning,
            )
            return float("nan")
        return float(np.sqrt(variance))


def _clearly_full_rank(X: np.ndarray, tol: float) -> bool:
    """True when the smallest singular value of ``X`` exceeds ``tol`` by a wide margin.

    Read from the eigenvalues of the small matrix ``X'X`` (cheaper than the SVD of a
    tall ``X``); the margin (a smallest singular value above ``1e-4``, against ``tol``
    near ``1e-7`` and rounding errors near ``1e-12`` for columns of unit length) makes
    the answer the SVD's. False means only "not clearly": the SVD decides.
    """
    gram = X.T @ X
    smallest = float(np.linalg.eigvalsh(gram)[0])
    return smallest > max(1e-8, (1e3 * tol) ** 2)


def _independent_columns(
    X: np.ndarray, names: Sequence[str], keep_first: int, effects: int = 0
) -> list[int]:
    """Indices of a maximal set of linearly independent columns, in order.

    The first ``effects`` columns are the effect terms: they are checked last, against
    the span of the other columns (period dummies first, then covariates), so that a
    term the fixed effects and covariates already explain is found not identified
    instead of displacing a period dummy. With ``effects=0`` the columns are checked
    in their order. A column among the first ``keep_first`` that is not independent
    raises a :class:`~impact.exceptions.DesignError`.
    """
    scale = np.sqrt((X**2).sum(axis=0))
    tol = 1e-9 * np.sqrt(len(X))
    if bool(np.all(scale > 1e-10 * max(1.0, float(np.sqrt(len(X)))))):
        # one check of all the columns: a full-rank matrix's columns pass the sequential
        # checks below, since a subset of columns has no smaller singular value
        scaled = X / scale
        if _clearly_full_rank(scaled, tol):
            return list(range(X.shape[1]))
        if X.shape[1] > 1 and np.linalg.matrix_rank(scaled, tol=tol) == X.shape[1]:
            return list(range(X.shape[1]))
    order: list[int] = list(range(X.shape[1]))
    if effects:
        nuisance = order[effects:]
        periods = [j for j in nuisance if str(names[j]).startswith("period[")]
        others = [j for j in nuisance if not str(names[j]).startswith("period[")]
        order = [*periods, *others, *order[:effects]]
    kept: list[int] = []
    for j in order:
        if scale[j] <= 1e-10 * max(1.0, float(np.sqrt(len(X)))):
            if j < keep_first:
                raise DesignError(
                    f"{names[j]!r} does not vary once unit and period effects are removed: "
                    "the effect is not identified (are the treated units observed both "
                    "before and after adoption?)"
                )
            continue
        trial = X[:, [*kept, j]] / scale[[*kept, j]]
        if np.linalg.matrix_rank(trial, tol=tol) == len(kept) + 1:
            kept.append(j)
        elif j < keep_first:
            raise DesignError(
                f"{names[j]!r} is collinear with the unit and period effects or the "
                "covariates: the effect is not identified from comparison units (check that "
                "comparison units are observed in every period after adoption, and drop "
                "covariates that move with treatment)"
            )
    return sorted(kept)


def within_regression(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    *,
    unit_codes: np.ndarray,
    cluster_codes: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    inference: Inference = "cr1",
    small_sample: Literal["nested", "full"] = "nested",
    keep_first: int = 1,
    effects: int | None = None,
    absorb: AbsorbedEffects | None = None,
) -> RegressionFit:
    """Regress ``y`` on ``X`` with unit fixed effects absorbed.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Outcome.
    X : ndarray, shape (n, k)
        Regressors (treatment terms first, then covariates and period dummies); no
        constant, which the unit effects absorb.
    names : sequence of str
        Names of the columns of ``X``.
    unit_codes : ndarray of int
        Unit of each row, coded ``0..U-1``; these effects are absorbed.
    cluster_codes : ndarray of int, optional
        Cluster of each row, for ``inference="cr1"``; units when omitted.
    weights : ndarray, optional
        Sampling weights (weighted least squares). Rows of zero weight are left out
        before anything is decided: collinearity, ``n_obs``, the unit effects and the
        clusters count only rows of positive weight.
    inference : {"cr1", "hc1", "iid"}
        Covariance estimator; see the module docstring for the corrections.
    small_sample : {"nested", "full"}
        For ``cr1``: whether unit effects nested in the clusters count as one
        parameter in ``K`` (``"nested"``, as ``fixest`` and ``xtreg``) or one each.
    keep_first : int, default 1
        The first ``keep_first`` columns must be estimable; an
        :class:`~impact.exceptions.DesignError` is raised otherwise. Later
        columns that are collinear are dropped with a
        :class:`~impact.exceptions.DesignWarning` naming them.
    effects : int, optional
        The first ``effects`` columns are effect terms (``keep_first`` by default):
        collinearity is decided with the other columns taken first (period dummies,
        then covariates) and these last, so an effect term that the fixed effects and
        covariates explain is reported as not identified rather than displacing a
        period dummy. Period dummies should omit a reference period, so that none is
        dropped in a well-posed design.
    absorb : AbsorbedEffects, optional
        Further fixed effects absorbed with the unit effects (period effects, school
        by year...), see :mod:`impact.inference.absorbed`; ``X`` then holds no period
        dummies. ``K`` counts them as ``fixest`` does.

    Returns
    -------
    RegressionFit

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> unit = np.repeat(np.arange(20), 2)
    >>> post = np.tile([0.0, 1.0], 20)
    >>> d = post * (unit < 10)
    >>> y = unit + post + 2 * d + rng.normal(0, 0.1, 40)
    >>> fit = within_regression(y, np.column_stack([d, post]), ["d", "post"],
    ...                         unit_codes=unit)
    >>> round(float(fit.params["d"]), 1)
    2.0
    """
    clusters = None
    if inference == "cr1":
        clusters = unit_codes if cluster_codes is None else np.asarray(cluster_codes)
        clusters = (clusters, *_codes(clusters), _nested(unit_codes, clusters))
    fe_params = None
    if absorb is not None:
        y, X, unit_codes, weights, clusters, absorb = _positive_rows(
            y, X, unit_codes, weights, clusters, absorb
        )
        y, X = absorb_columns(
            y, X, names, unit_codes=unit_codes, effects=absorb, weights=weights,
            keep_first=keep_first,
        )  # fmt: skip
        nested = clusters is not None and small_sample == "nested"
        fe_params = effect_parameters(unit_codes, absorb, [clusters[0]] if nested else [])
    return _within(
        y, X, names, unit_codes, clusters, weights, inference, small_sample, keep_first, effects,
        fe_params,
    )  # fmt: skip


def _positive_rows(y, X, unit_codes, weights, clusters, absorb):
    """The rows of positive weight (all rows without weights), absorbed effects included."""
    if weights is None or bool((np.asarray(weights) > 0).all()):
        return y, X, unit_codes, weights, clusters, absorb
    positive = np.asarray(weights) > 0
    if not positive.any():
        raise EstimationError("every row has zero weight: there is nothing to fit")
    y = np.asarray(y, dtype=float)[positive]
    X = np.asarray(X, dtype=float).reshape(len(positive), -1)[positive]
    unit_codes = _codes(np.asarray(unit_codes)[positive])[0]
    if clusters is not None:
        labels = np.asarray(clusters[0])[positive]
        clusters = (labels, *_codes(labels), _nested(unit_codes, labels))
    return (
        y,
        X,
        unit_codes,
        np.asarray(weights, dtype=float)[positive],
        clusters,
        absorb.take(positive),
    )


def _within(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    unit_codes: np.ndarray,
    clusters: tuple[np.ndarray, np.ndarray, int, bool] | None,
    weights: np.ndarray | None,
    inference: Inference,
    small_sample: Literal["nested", "full"],
    keep_first: int,
    effects: int | None = None,
    fe_params: int | None = None,
) -> RegressionFit:
    """:func:`within_regression`, given the CR1 clusters already described.

    ``clusters`` holds, for CR1, the cluster of each row, their dense codes, their
    number and whether units nest in them (callers that computed these pass them).
    ``fe_params``: with absorbed effects (``y`` and ``X`` already residualised on
    them), the parameters they count for in ``K`` (see
    :func:`~impact.inference.absorbed.effect_parameters`), instead of the unit effects'.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    names = list(names)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        positive = weights > 0
        if not positive.any():
            raise EstimationError("every row has zero weight: there is nothing to fit")
        if not positive.all():
            # rows of zero weight contribute nothing to weighted least squares; left in,
            # they would make a design that the weighted fit cannot separate look full
            # rank (a period observed only through them), and count as observations,
            # units and clusters that carry no information
            y, X, weights = y[positive], X[positive], weights[positive]
            unit_codes = _codes(np.asarray(unit_codes)[positive])[0]
            if clusters is not None:
                labels = np.asarray(clusters[0])[positive]
                clusters = (labels, *_codes(labels), _nested(unit_codes, labels))
    n_units = int(unit_codes.max()) + 1
    both = demean(np.column_stack([y, X]), unit_codes, weights)  # column by column
    yd, Xd = both[:, 0].copy(), np.ascontiguousarray(both[:, 1:])
    # collinearity is decided on the matrix the weighted solve uses (rows times sqrt(w))
    decided = Xd if weights is None else Xd * np.sqrt(weights)[:, None]
    kept = _independent_columns(
        decided, names, keep_first, keep_first if effects is None else effects
    )
    dropped = tuple(names[j] for j in range(len(names)) if j not in kept)
    if dropped:
        warn(
            f"dropped {', '.join(map(repr, dropped))}: collinear with the unit and period "
            "effects (e.g. constant within units, or a period observed for too few units) "
            "or with other regressors",
            DesignWarning,
        )
    Xd = Xd[:, kept]
    kept_names = [names[j] for j in kept]
    n = len(y)
    k_within = Xd.shape[1]
    k_full = k_within + (n_units if fe_params is None else fe_params)
    if n - k_full <= 0:
        raise EstimationError(
            f"{n} observations cannot identify {k_full} parameters (unit effects included)"
        )
    if inference == "cr1":
        _, cluster_index, n_clusters, nested = clusters  # type: ignore[misc]
        if n_clusters < 2:
            raise EstimationError("clustered standard errors need at least two clusters")
        # the cluster sandwich with Stata's G/(G-1) * (N-1)/(N-K), as statsmodels; unit
        # effects nested in the clusters count as one parameter (fixest, xtreg's _cons)
        k = k_within + 1 if (small_sample == "nested" and nested) else k_full
        if fe_params is not None:  # absorbed effects: counted by the caller
            k = k_full
        df_inf = float(n_clusters - 1)
    elif inference in ("hc1", "iid"):
        cluster_index = None
        n_clusters = None
        k = k_full
        df_inf = float(n - k)
    else:  # pragma: no cover - callers validate
        raise ValueError(f"unknown inference {inference!r}")
    params, cov = _least_squares(yd, Xd, weights, inference, cluster_index, n_clusters)
    cov = cov * ((n - k_within) / (n - k))
    return RegressionFit._from_arrays(
        params,
        cov,
        kept_names,
        df_inference=df_inf,
        n_obs=n,
        n_params=k,
        n_clusters=n_clusters,
        dropped=dropped,
    )


def _codes(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense codes ``0..G-1`` of ``labels`` (in sorted label order) and ``G``."""
    labels = np.asarray(labels)
    if labels.size and np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0:
        present = np.bincount(labels) > 0
        if present.all():
            return labels, len(present)
        dense = np.cumsum(present) - 1
        return dense[labels], int(present.sum())
    uniques, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1), len(uniques)


def _least_squares(
    yd: np.ndarray,
    Xd: np.ndarray,
    weights: np.ndarray | None,
    inference: str,
    cluster_index: np.ndarray | None,
    n_clusters: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and covariance of (weighted) least squares, as statsmodels computes them.

    The estimates are those of statsmodels ``OLS``/``WLS(...).fit()`` and the covariance
    that of ``cov_type="cluster"`` (``G/(G-1) * (N-1)/(N-K)``), ``"HC1"`` or the
    default ``s^2 (X'X)^{-1}``, with ``K`` the number of columns of ``Xd`` (full rank):
    the same formulas written directly with numpy, which avoids statsmodels' per-call
    overhead (about 1 ms) in Monte Carlo studies. The tests compare both to 1e-10.
    """
    if weights is not None:
        root = np.sqrt(np.asarray(weights, dtype=float))
        yd = yd * root
        Xd = Xd * root[:, None]
    n, k = Xd.shape
    gram = Xd.T @ Xd
    eigenvalues = np.linalg.eigvalsh(gram)
    if eigenvalues[0] > 1e-6 * eigenvalues[-1]:
        # well conditioned (condition number of Xd below 1e3): the normal equations
        # give statsmodels' pseudo-inverse solution to about 1e-13, without an SVD
        bread = np.linalg.inv(gram)
        params = bread @ (Xd.T @ yd)
    else:
        # the pseudo-inverse, as statsmodels' default fit method
        pinv = np.linalg.pinv(Xd, rcond=1e-15)
        params = pinv @ yd
        bread = pinv @ pinv.T
    resid = yd - Xd @ params
    if inference == "iid":
        return params, bread * (float(resid @ resid) / (n - k))
    scores = Xd * resid[:, None]
    if inference == "hc1":
        meat = scores.T @ scores * (n / (n - k))
    else:
        g = int(n_clusters)  # type: ignore[arg-type]
        sums = np.empty((g, k))
        for j in range(k):
            sums[:, j] = np.bincount(cluster_index, weights=scores[:, j], minlength=g)
        meat = sums.T @ sums * (g / (g - 1) * (n - 1) / (n - k))
    return params, bread @ meat @ bread


def _nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every ``inner`` group lies within a single ``outer`` group."""
    inner = np.asarray(inner)
    outer = np.asarray(outer)
    if inner.size and np.issubdtype(inner.dtype, np.integer) and inner.min() >= 0:
        # codes: record one outer label per inner code, then check every row agrees
        label = np.empty(int(inner.max()) + 1, dtype=outer.dtype)
        label[inner] = outer
        return bool(np.array_equal(label[inner], outer))
    pairs = np.unique(np.column_stack([inner, outer]), axis=0)
    return len(pairs) == len(np.unique(inner))
