"""The weights each aggregation of group-time effects puts on the cells.

``dynamic_weights``, ``group_weights`` and ``calendar_weights`` give an aggregation's
levels and the cell weights of each; ``group_overall`` the overall effect of the group
aggregation; and ``gram_by_runs`` the Gram matrix of influence functions and cohort
memberships that the standard errors of weighted averages need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from impact.exceptions import InferenceWarning, warn

if TYPE_CHECKING:
    from impact.estimators.staggered.result import GroupTimeEffects

__all__ = ["calendar_weights", "dynamic_weights", "gram_by_runs", "group_overall", "group_weights"]


def gram_by_runs(
    psi: np.ndarray,
    groups: np.ndarray,
    weights: np.ndarray,
    cohorts: np.ndarray,
    shares: np.ndarray,
) -> np.ndarray | None:
    """``A.T @ A`` for ``A = [psi, M]``, ``M`` the centred cohort memberships.

    A cell's influence function is zero on the units outside its treated and
    comparison groups. When ``groups`` (the cohort of each row) comes in a few
    contiguous runs, as for units sorted by cohort, each run contributes only the
    products of the columns that are non-zero on it, and the membership columns
    ``M_g = w 1{G = g} - p_g`` enter through sums per run, without building ``M``:
    ``psi'M_g = psi'(w 1{G = g}) - p_g psi'1`` and
    ``M_g'M_h = 1{g = h} sum_{G = g} w**2 - n p_g p_h``. None when the runs are many.
    """
    starts = np.flatnonzero(np.diff(groups)) + 1
    if len(starts) > 64:
        return None
    k, n_cohorts = psi.shape[1], len(cohorts)
    cells = np.zeros((k, k))
    cell_member = np.zeros((k, n_cohorts))
    cell_total = np.zeros(k)
    square_weights = np.zeros(n_cohorts)
    for a, b in zip(np.r_[0, starts], np.r_[starts, len(groups)], strict=True):
        block = psi[a:b]
        used = np.flatnonzero(np.any(block != 0.0, axis=0))
        sub = block if len(used) == k else block[:, used]
        cells[np.ix_(used, used)] += sub.T @ sub
        cell_total[used] += sub.sum(axis=0)
        j = int(np.searchsorted(cohorts, groups[a]))
        if j < n_cohorts and cohorts[j] == groups[a]:
            cell_member[used, j] += sub.T @ weights[a:b]
            square_weights[j] += float(np.einsum("i,i->", weights[a:b], weights[a:b]))
    cross = cell_member - np.outer(cell_total, shares)
    members = np.diag(square_weights) - len(groups) * np.outer(shares, shares)
    return np.block([[cells, cross], [cross.T, members]])


def group_weights(gt: GroupTimeEffects, max_e: float) -> tuple[list[int], list]:
    levels, specs = [], []
    for g in np.unique(gt.group):
        keep = (gt.group == g) & (g <= gt.time) & (gt.time <= g + max_e)
        if keep.any():
            levels.append(int(g))
            specs.append((int(g), keep, False))
    return levels, specs


def group_overall(
    gt: GroupTimeEffects, est: list[float], coef: list[np.ndarray], levels: list[int]
) -> tuple[float, np.ndarray]:
    """Cohort-size weighted average of the per-cohort ATTs, with the weights' influence."""
    k = len(gt.att)
    if not levels:
        return float("nan"), np.zeros(k + len(gt.cohort_list))
    shares = np.array([gt.shares[g] for g in levels])
    total = shares.sum()
    att_g = np.array(est)
    overall = float(np.dot(shares, att_g) / total)
    out = np.column_stack(coef) @ (shares / total)
    # influence of the estimated cohort shares: sum_g (att_g - overall) / P (w 1{G=g} - p_g)
    position = np.searchsorted(gt.cohort_list, levels)
    out[k + position] += (att_g - overall) / total
    return overall, out


def calendar_weights(gt: GroupTimeEffects) -> tuple[list[int], list]:
    levels, specs = [], []
    first = gt.group.min()
    for t in np.unique(gt.time):
        if t < first:
            continue
        keep = (gt.time == t) & (gt.group <= gt.time)
        if keep.any():
            levels.append(int(t))
            specs.append((int(t), keep, True))
    return levels, specs


def dynamic_weights(
    gt: GroupTimeEffects,
    min_event: int | None,
    max_event: int | None,
    balance_e: int | None,
) -> tuple[list[int], list]:
    include = np.ones(len(gt.att), dtype=bool)
    events = np.unique(gt.event_time)
    if balance_e is not None:
        last, first = gt.time.max(), gt.time.min()
        include = (last - gt.group) >= balance_e
        events = np.unique(gt.event_time[include])
        events = events[(events <= balance_e) & (events >= balance_e - (last - first))]
    if min_event is not None:
        events = events[events >= min_event]
    if max_event is not None:
        events = events[events <= max_event]
    levels, specs = [], []
    for e in events:
        keep = (gt.event_time == e) & include
        if keep.any():
            levels.append(int(e))
            specs.append((int(e), keep, True))
    if not levels:
        warn("no event time is left to aggregate; check min_event/max_event", InferenceWarning)
    return levels, specs
