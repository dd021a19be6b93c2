"""Group-time ATTs with cross-fitted learners from repeated cross-sections.

Rows that pair no unit across periods (pupil-level repeated cross-sections, or an
unbalanced panel kept with ``allow_unbalanced_panel=True``, which R ``did`` treats as
repeated cross-sections) use the locally efficient doubly robust estimator of
Sant'Anna and Zhao (2020, eq. 3.4) with four outcome regressions (each group in each
period) and the propensity score of the cohort among the cell's rows of both periods:

``att = [A(w_t1, r) - A(w_t0, r)] - [A(w_c1, r) - A(w_c0, r)]
+ [A(w_d, m11 - m01) - A(w_t1, m11 - m01)] - [A(w_d, m10 - m00) - A(w_t0, m10 - m00)]``

with ``A(v, x) = sum(v x) / sum(v)``, ``r = y - (T m01 + (1 - T) m00)``, ``w_td = w D
1{T=t}``, ``w_ct = w (1 - D) 1{T=t} p / (1 - p)`` and ``w_d = w D``. Its score is
Neyman-orthogonal (Chang 2020, section 3.2; the score of DoubleML's
``DoubleMLDIDCS``), so with nuisances cross-fitted over folds of units (or clusters;
every row of a unit in its unit's fold) its influence function is the score's own:
each term ``A(v, x)`` contributes ``v (x - A) / mean(v)``. The influence functions of
a unit's rows are summed, as for the built-in estimator (R ``did``'s
``allow_unbalanced_panel = TRUE``). ``"ipw"`` keeps the first two brackets with
``r = y``; ``"reg"`` is ``A(w_t1, y) - A(w_t0, y) - A(w_d, m01 - m00)``; neither is
orthogonal (a warning says their standard errors ignore the learners' error).

Without cross-fitting the parametric estimator's estimation-effect terms would be
needed for the learners' in-sample fits; they are not implemented for these rows,
and a :class:`~impact.exceptions.DesignError` asks for ``cross_fit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from impact.estimators._learners import predict, predict_proba
from impact.estimators.staggered._data import Cell, StaggeredData
from impact.estimators.staggered._drdid import _PS_CEILING
from impact.exceptions import EstimationError

if TYPE_CHECKING:
    from impact.estimators.staggered._learned import Nuisances

__all__ = ["learned_rcs_cell", "orthogonal_rcs_att"]


def learned_rcs_cell(
    data: StaggeredData,
    cell: Cell,
    method: str,
    out: np.ndarray,
    nuisances: Nuisances,
    overlap_limit: float,
) -> float:
    """One cell from repeated cross-sections with cross-fitted learners; writes ``out``.

    Raises
    ------
    EstimationError
        When a period lacks treated or comparison rows, a fold leaves a learner
        nothing to learn from, or the propensity score reaches ``overlap_limit``;
        the caller skips the cell with a warning.
    """
    idx_t, d_t = data.rows_for(cell.time, cell)
    idx_b, d_b = data.rows_for(cell.base, cell)
    if not d_t.any() or not d_b.any():
        raise EstimationError("no treated observations in one of its two periods")
    if d_t.all() or d_b.all():
        raise EstimationError("no comparison observations in one of its periods")
    idx = np.concatenate([idx_t, idx_b])
    d = np.concatenate([d_t, d_b])
    post = np.zeros(len(idx), dtype=bool)
    post[: len(idx_t)] = True
    y = data.y[idx]
    raw_w = data.row_weight[idx]
    Z = data.X[idx, 1:]  # the covariates without the intercept column
    folds = nuisances.row_folds[idx]
    state = nuisances.random_state
    p = None
    if method in ("dr", "ipw"):
        p = predict_proba(nuisances.ps_model, Z, d.astype(int), raw_w, folds, random_state=state)
        top = float(p.max())
        if top >= overlap_limit:
            raise EstimationError(
                "the propensity score predicts membership of the cohort almost perfectly "
                f"(max {top:.4f}); the overlap condition fails. Use fewer or coarser "
                "covariates, or a smoother propensity_model"
            )
        p = np.clip(p, 1e-12, _PS_CEILING)
    mu: dict[tuple[bool, bool], np.ndarray] = {}
    groups = [(False, False), (False, True)]
    if method == "dr":
        groups += [(True, False), (True, True)]
    if method in ("dr", "reg"):
        for group, period in groups:
            train = (d == group) & (post == period)
            mu[group, period] = predict(
                nuisances.or_model, Z, y, raw_w, train, folds, random_state=state
            )
    estimate, phi = orthogonal_rcs_att(y, d, post, raw_w / raw_w.mean(), method, p, mu)
    n, m = data.n_obs_units, len(idx)
    out[:] = np.bincount(data.obs_of_row[idx], weights=(n / m) * phi, minlength=n)
    return estimate


def orthogonal_rcs_att(
    y: np.ndarray,
    d: np.ndarray,
    post: np.ndarray,
    w: np.ndarray,
    method: str,
    p: np.ndarray | None,
    mu: dict[tuple[bool, bool], np.ndarray],
) -> tuple[float, np.ndarray]:
    """ATT and influence function from cross-fitted nuisances (no estimation effects).

    Parameters
    ----------
    y : ndarray, shape (m,)
        Outcomes of the cell's rows in its two periods.
    d, post : ndarray of bool, shape (m,)
        Cohort membership and the later period.
    w : ndarray, shape (m,)
        Weights, normalised to mean one.
    method : {"dr", "ipw", "reg"}
    p : ndarray or None
        Cross-fitted propensity scores (``"dr"``, ``"ipw"``).
    mu : dict
        Cross-fitted outcome regressions by ``(treated, post)``: the comparison
        group's (``"dr"``, ``"reg"``) and the cohort's (``"dr"``).

    Returns
    -------
    att : float
    phi : ndarray, shape (m,)
        Influence function of each row, scaled as the built-in estimator's.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 4.0, 1.0, 2.0]); d = np.array([1, 1, 0, 0], bool)
    >>> post = np.array([0, 1, 0, 1], bool)
    >>> mu = {(False, False): np.ones(4), (False, True): np.full(4, 2.0)}
    >>> orthogonal_rcs_att(y, d, post, np.ones(4), "reg", None, mu)[0]
    2.0
    """
    df = d.astype(float)
    pf = post.astype(float)
    att = 0.0
    phi = np.zeros(len(y))

    def add(sign: float, v: np.ndarray, x: np.ndarray) -> None:
        nonlocal att, phi
        total = v.sum()
        if not total > 0:
            raise EstimationError("a group of the cell has no weight in one of its periods")
        value = float(np.dot(v, x) / total)
        att += sign * value
        phi += sign * v * (x - value) / v.mean()

    w_t1, w_t0 = w * df * pf, w * df * (1 - pf)
    if method == "reg":
        add(1.0, w_t1, y)
        add(-1.0, w_t0, y)
        add(-1.0, w * df, mu[False, True] - mu[False, False])
        return att, phi
    odds = p / (1.0 - p)
    w_c1, w_c0 = w * (1 - df) * pf * odds, w * (1 - df) * (1 - pf) * odds
    if method == "ipw":
        r = y
    else:
        r = y - (pf * mu[False, True] + (1 - pf) * mu[False, False])
    add(1.0, w_t1, r)
    add(-1.0, w_t0, r)
    add(-1.0, w_c1, r)
    add(1.0, w_c0, r)
    if method == "dr":
        gap1 = mu[True, True] - mu[False, True]
        gap0 = mu[True, False] - mu[False, False]
        add(1.0, w * df, gap1)
        add(-1.0, w_t1, gap1)
        add(-1.0, w * df, gap0)
        add(1.0, w_t0, gap0)
    return att, phi
