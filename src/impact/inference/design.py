"""The regression an estimator hands to the inference functions, and its transform."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from impact.inference.absorbed import AbsorbedEffects
from impact.inference.regression import demean

__all__ = ["RegressionDesign", "transform_design"]


@dataclass(frozen=True)
class RegressionDesign:
    """The inputs of :func:`infer_coefficient`, as an estimator builds them.

    Attributes
    ----------
    y : ndarray, shape (n,)
        Outcome.
    X : ndarray, shape (n, k)
        Regressors, the coefficient of interest included.
    names : tuple of str
        Names of the columns of ``X``.
    unit_codes : ndarray
        Unit of each row (effects absorbed).
    cluster_codes : ndarray
        Cluster of each row.
    weights : ndarray or None
        Regression weights.
    exposure : ndarray or None
        Value of the regressor of interest in each row if its cluster were treated
        (for randomization inference).
    term : str
        Name of the coefficient of interest.
    time_codes : ndarray or None
        Period of each row, for the ``"twoway"`` and ``"driscoll_kraay"`` covariances.
    absorb : AbsorbedEffects or None
        Fixed effects absorbed besides the unit effects (``X`` then has no period
        dummies); see :mod:`impact.inference.absorbed`.
    """

    y: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    unit_codes: np.ndarray
    cluster_codes: np.ndarray
    weights: np.ndarray | None = None
    exposure: np.ndarray | None = None
    term: str = "att"
    time_codes: np.ndarray | None = None
    absorb: AbsorbedEffects | None = None


def transform_design(
    design: RegressionDesign, kept: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Absorb the unit effects and apply the weights: ``(y, X, sqrt(weights))``.

    Parameters
    ----------
    design : RegressionDesign
        The regression.
    kept : sequence of str, optional
        Columns to keep (e.g. those a fit did not drop as collinear), in order.

    Returns
    -------
    tuple
        Transformed outcome, regressors and the row scale (``None`` without weights).
    """
    names = list(design.names)
    cols = range(len(names)) if kept is None else [names.index(k) for k in kept]
    X = np.asarray(design.X, dtype=float).reshape(len(design.y), -1)[:, list(cols)]
    weights = design.weights
    scale = None if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    Xd = demean(X, design.unit_codes, weights)
    yd = demean(np.asarray(design.y, dtype=float), design.unit_codes, weights)
    if scale is not None:
        Xd, yd = Xd * scale[:, None], yd * scale
    return yd, Xd, scale
