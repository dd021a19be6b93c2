"""Inference on several coefficients, or linear combinations of them, of one regression.

Event studies report one coefficient per event time and their average; panel
interrupted time series report level and slope changes and their combinations (the
average effect, the effect in each period). :func:`infer_combinations` gives each of
them the inference of :func:`~impact.inference.coefficient.infer_coefficient`:

* the first combination (the headline, e.g. the ``att``) resolves ``"auto"`` and
  issues the few-clusters warning; the others reuse the method it chose;
* with ``"cr1"``, ``"hc1"``, ``"iid"``, ``"twoway"`` or ``"driscoll_kraay"`` every
  combination comes from the one fit (``w' b`` with standard error ``sqrt(w' V w)``);
* with ``"cr2"``, ``"cr3"`` or ``"wild"`` each combination ``w' b`` is made a
  coefficient of its own by an exact re-parametrization of the regressors
  (:func:`combination_design`), so that it has its own Satterthwaite degrees of
  freedom or its own restricted bootstrap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from impact.inference.coefficient import CoefficientInference, infer_coefficient
from impact.inference.panel_covariance import PANEL_METHODS
from impact.inference.wald import outcome_scale, regressor_size, wald_row

__all__ = ["combination_design", "infer_combinations"]

_ONE_FIT = ("cr1", "hc1", "iid", *PANEL_METHODS)


def combination_design(
    X: np.ndarray, names: Sequence[str], combination: Mapping[str, float], label: str
) -> tuple[np.ndarray, list[str]]:
    """Re-parametrize regressors so that ``sum_k w_k b_k`` is the first coefficient.

    With ``j`` a term of non-zero weight, ``X b = theta X_j / w_j + sum_{k != j} b_k
    (X_k - w_k X_j / w_j)`` where ``theta = w' b``: the same fitted values, residuals
    and span, hence the same estimate of ``w' b``.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Regressors.
    names : sequence of str
        Their names.
    combination : mapping of str to float
        Weight of each term (terms left out weigh zero).
    label : str
        Name of the new first column.

    Returns
    -------
    tuple
        The new regressors and their names (``label`` first, then the other terms).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> Z, names = combination_design(X, ["a", "b"], {"a": 0.5, "b": 0.5}, "mean")
    >>> names, Z.tolist()
    (['mean', 'b'], [[2.0, -1.0], [0.0, 1.0], [2.0, 0.0]])
    """
    names = list(names)
    X = np.asarray(X, dtype=float).reshape(-1, len(names))
    w = np.array([float(combination.get(n, 0.0)) for n in names])
    unknown = set(combination) - set(names)
    if unknown:
        raise ValueError(f"terms {sorted(unknown)} are not among the regressors {names}")
    nonzero = np.flatnonzero(w != 0)
    if len(nonzero) == 0:
        raise ValueError("the combination gives every term a zero weight")
    j = int(nonzero[0])
    pivot = X[:, j] / w[j]
    others = [k for k in range(len(names)) if k != j]
    Z = np.column_stack([pivot, *(X[:, k] - w[k] * pivot for k in others)])
    return Z, [label, *(names[k] for k in others)]


def infer_combinations(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    combinations: Mapping[str, Mapping[str, float]],
    *,
    method: str = "auto",
    **kwargs: Any,
) -> dict[str, CoefficientInference]:
    """Inference on several linear combinations of the coefficients of one regression.

    Parameters
    ----------
    y, X, names
        The regression, as for :func:`~impact.inference.coefficient.infer_coefficient`;
        its columns should be linearly independent once the unit effects are removed.
    combinations : mapping of str to mapping of str to float
        Label of each combination and the weight of each term in it (a single
        coefficient is ``{"term": 1.0}``). The first one resolves ``method="auto"``.
    method : str
        As for :func:`~impact.inference.coefficient.infer_coefficient`, except
        ``"randomization"`` (re-assigning treatment would change other regressors).
    **kwargs
        Passed on to :func:`~impact.inference.coefficient.infer_coefficient`
        (``unit_codes``, ``cluster_codes``, ``weights``, ``alpha``, ``seed``,
        ``draws``...).

    Returns
    -------
    dict of str to CoefficientInference
        One entry per combination, in order; each records the method of the first.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> unit = np.repeat(np.arange(30), 3)
    >>> t1, t2 = np.tile([0.0, 1.0, 0.0], 30), np.tile([0.0, 0.0, 1.0], 30)
    >>> d1, d2 = t1 * (unit < 15), t2 * (unit < 15)
    >>> y = rng.normal(size=30)[unit] + d1 + 3 * d2 + rng.normal(0, 0.1, 90)
    >>> out = infer_combinations(y, np.column_stack([d1, d2, t1, t2]),
    ...                          ["e1", "e2", "t1", "t2"],
    ...                          {"att": {"e1": 0.5, "e2": 0.5}, "e1": {"e1": 1.0}},
    ...                          unit_codes=unit, method="cr2")
    >>> round(out["att"].estimate, 1), out["e1"].method
    (2.0, 'cr2')
    """
    if method == "randomization":
        raise ValueError("randomization inference is not available for combinations")
    labels = list(combinations)
    out: dict[str, CoefficientInference] = {}
    first = labels[0]
    Z, znames = combination_design(X, names, combinations[first], first)
    head = infer_coefficient(y, Z, znames, term=first, method=method, **kwargs)
    out[first] = head
    used = head.method
    rest = {**kwargs, "warn_few_clusters": False}
    if used in _ONE_FIT:
        base = infer_coefficient(y, X, names, term=names[0], method=used, **rest)
        fit = base.fit
        # the fit's arrays (the labelled Series and frame are built only when read)
        kept, values, cov = fit._names, fit._values, fit._cov_values
        alpha = kwargs.get("alpha", 0.05)
        # the outcome's scale in the units of each coefficient (see impact.inference.wald)
        columns = np.asarray(X, dtype=float).reshape(len(y), -1)
        position = {n: i for i, n in enumerate(names)}
        sizes = np.array([regressor_size(columns[:, position[n]]) for n in kept])
        per_unit = np.divide(outcome_scale(y), sizes, out=np.zeros(len(sizes)), where=sizes > 0)
        # the panel covariances may be made positive semi-definite, which does not
        # commute with the re-parametrization: the headline too comes from this fit
        again = labels if used in PANEL_METHODS else labels[1:]
        for label in again:
            w = np.array([float(combinations[label].get(n, 0.0)) for n in kept])
            estimate = float(w @ values)
            se = float(np.sqrt(max(w @ cov @ w, 0.0)))
            se, lower, upper, p = wald_row(
                estimate,
                se,
                fit.df_inference,
                alpha,
                scale=float(np.abs(w) @ per_unit),
                term=label,
            )
            out[label] = replace(
                head,
                term=label,
                estimate=estimate,
                std_error=se,
                ci_lower=lower,
                ci_upper=upper,
                p_value=p,
                df=fit.df_inference,
                fit=fit,
            )
        return out
    for label in labels[1:]:
        Z, znames = combination_design(X, names, combinations[label], label)
        res = infer_coefficient(y, Z, znames, term=label, method=used, **rest)
        out[label] = replace(res, reason=head.reason)
    return out
