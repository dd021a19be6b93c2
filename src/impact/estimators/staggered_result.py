"""The result of the staggered estimator and its aggregations.

:class:`StaggeredResult` is an :class:`~impact.result.ImpactResult` whose ``effects``
hold one row per group-time cell ATT(g,t) plus the overall ``att`` row, and which
keeps the cells' influence functions so that :meth:`StaggeredResult.aggregate` can
combine them into summary parameters with valid standard errors, as R ``did``'s
``aggte``:

``"simple"``
    The average of the post-treatment ATT(g,t), weighted by group size.
``"group"``
    For each cohort, the average of its post-treatment ATT(g,t); overall, their
    average weighted by cohort size.
``"calendar"``
    For each period, the size-weighted average of the ATT(g,t) of cohorts already
    treated; overall, their simple average.
``"dynamic"``
    For each event time ``e = t - g``, the size-weighted average of the ATT(g,t)
    ``e`` periods after adoption (an event study); overall, the average over
    ``e >= 0``.

Where the weights are estimated cohort shares, their estimation adds a term to the
influence function (Callaway and Sant'Anna 2021, Appendix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from impact.estimators._staggered_data import period_label
from impact.exceptions import DesignError, InferenceWarning, warn
from impact.inference.multiplier import (
    cluster_sums,
    influence_covariance,
    multiplier_bootstrap,
)
from impact.result import ImpactResult
from impact.terms import calendar_term, event_term, group_term

__all__ = ["AGGREGATIONS", "GroupTimeEffects", "StaggeredResult"]

AGGREGATIONS: tuple[str, ...] = ("simple", "group", "calendar", "dynamic")
_TINY = np.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True, eq=False)
class GroupTimeEffects:
    """Group-time ATTs with their influence functions (what aggregation needs).

    Attributes
    ----------
    group, time, event_time : ndarray of int, shape (K,)
        Positions (in the sorted periods) of each cell's cohort and period, and
        their difference.
    att : ndarray, shape (K,)
        ATT(g,t); zero for the reference cell of a universal base period.
    influence : ndarray, shape (n, K)
        Influence functions, one row per observation unit (units for panel data,
        rows for repeated cross-sections).
    obs_group : ndarray of int, shape (n,)
        Cohort position of each observation unit (a large value when never treated).
    obs_weight : ndarray, shape (n,)
        Sampling weight of each observation unit.
    clusters : ndarray of int, shape (n,), or None
        Cluster code of each observation unit; None when each is its own cluster.
    periods : ndarray
        Period labels, indexed by position.
    alpha : float
        One minus the coverage of the intervals.
    bootstrap : bool
        Whether standard errors and bands come from the multiplier bootstrap.
    n_boot : int
        Bootstrap draws.
    boot_seed : int or None
        Seed from which every bootstrap of this result draws.
    """

    group: np.ndarray
    time: np.ndarray
    event_time: np.ndarray
    att: np.ndarray
    influence: np.ndarray
    obs_group: np.ndarray
    obs_weight: np.ndarray
    clusters: np.ndarray | None
    periods: np.ndarray
    alpha: float
    bootstrap: bool
    n_boot: int
    boot_seed: int | None
    boot_weights: str = "rademacher"
    df: float = float("inf")

    def reference(self):
        """Reference distribution of the t-statistics: t(df), or normal when infinite."""
        return stats.t(self.df) if np.isfinite(self.df) else stats.norm

    @property
    def n(self) -> int:
        """Number of observation units behind the influence functions."""
        return self.influence.shape[0]

    def label(self, position: int) -> Any:
        """The period label at ``position`` as a plain Python value."""
        return period_label(self.periods[int(position)])

    def inference(self, psi: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Standard errors (and bootstrap critical value) of estimators with influence ``psi``.

        Returns the standard errors and the uniform critical value (bootstrap only,
        else None).
        """
        psi = psi[:, None] if psi.ndim == 1 else psi
        sums = cluster_sums(psi, self.clusters)
        se = np.sqrt(np.einsum("ij,ij->j", sums, sums)) / self.n
        se = np.where(se * np.sqrt(self.n) > _TINY, se, np.nan)
        crit = None
        if self.bootstrap:
            rng = np.random.default_rng(self.boot_seed)
            boot = multiplier_bootstrap(
                sums,
                self.n,
                n_boot=self.n_boot,
                alpha=self.alpha,
                rng=rng,
                weights=self.boot_weights,
            )
            se = boot.std_error
            crit = boot.crit_value
        return se, crit

    def covariance(self, columns: np.ndarray) -> np.ndarray:
        """Analytic covariance of the cells ``columns`` (clustered influence functions)."""
        sums = cluster_sums(np.ascontiguousarray(self.influence[:, columns]), self.clusters)
        return influence_covariance(sums, self.n)

    # ------------------------------------------------------------------ aggregation maths
    @cached_property
    def shares(self) -> dict[int, float]:
        """Weighted share of observation units in each cohort (R ``did``'s ``pg``)."""
        return {g: float(member.mean()) for g, member in self.members.items()}

    @cached_property
    def cohort_codes(self) -> tuple[np.ndarray, list[int]]:
        """Index of each observation unit's cohort in the cohort list (last: none)."""
        cohorts = [int(g) for g in np.unique(self.group)]
        codes = np.searchsorted(np.array(cohorts), self.obs_group)
        codes = np.where(np.isin(self.obs_group, cohorts), codes, len(cohorts))
        return codes, cohorts

    @cached_property
    def members(self) -> dict[int, np.ndarray]:
        """``w 1{G = g}`` for each cohort ``g`` (weighted membership indicators)."""
        return {int(g): self.obs_weight * (self.obs_group == g) for g in np.unique(self.group)}

    def weight_influence(self, keep: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """Influence of estimating the size weights of a weighted average of cells.

        For the average ``sum_k p_k att_k / sum_k p_k`` over cells ``keep`` with
        cohort shares ``p_k`` estimated as means of ``w 1{G = g_k}``, returns the
        extra influence term ``wif @ att[keep]`` (an n-vector).
        """
        att = self.att[keep]
        groups = self.group[keep]
        total = shares.sum()
        weighted_att = float(np.dot(shares, att))
        # sum over cells of (w 1{G = g_k} - p_k) * a_k, computed per cohort
        by_group: dict[int, tuple[float, int]] = {}
        for g, a in zip(groups.tolist(), att.tolist(), strict=True):
            s, c = by_group.get(g, (0.0, 0))
            by_group[g] = (s + a, c + 1)
        codes, cohorts = self.cohort_codes
        value_att = np.zeros(len(cohorts) + 1)
        value_one = np.zeros(len(cohorts) + 1)
        position = {g: i for i, g in enumerate(cohorts)}
        for g, (s, c) in by_group.items():
            value_att[position[g]] = s
            value_one[position[g]] = c
        term_att = self.obs_weight * value_att[codes]
        term_one = self.obs_weight * value_one[codes]
        term_att -= weighted_att
        term_one -= total
        return term_att / total - term_one * weighted_att / total**2


class StaggeredResult(ImpactResult):
    """Result of :class:`~impact.estimators.StaggeredDiD`: group-time ATTs.

    ``effects`` holds one row per group-time cell (``term`` like
    ``"ATT(2004,2006)"``, with ``group``, ``time``, ``event_time``, ``base_period``
    and ``post`` columns) followed by the overall row ``att``, the simple
    aggregation. Use :meth:`aggregate` for the group, calendar and dynamic
    (event-study) summaries.
    """

    __slots__ = ("_gt",)

    def __init__(self, *, group_time: GroupTimeEffects, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_gt", group_time)

    @property
    def group_time(self) -> GroupTimeEffects:
        """The group-time ATTs and their influence functions."""
        return self._gt

    def aggregate(
        self,
        kind: str = "dynamic",
        *,
        min_event: int | None = None,
        max_event: int | None = None,
        balance_e: int | None = None,
    ) -> ImpactResult:
        """Aggregate the group-time ATTs into summary parameters (R ``did``'s ``aggte``).

        Parameters
        ----------
        kind : {"simple", "group", "calendar", "dynamic"}, default "dynamic"
            Which summary; see :mod:`impact.estimators.staggered_result`.
        min_event, max_event : int, optional
            For ``"dynamic"``, the event times to keep. ``max_event`` also caps the
            post-treatment cells used by ``"simple"`` and ``"group"`` (R ``max_e``).
        balance_e : int, optional
            For ``"dynamic"``, keep only cohorts observed for at least ``balance_e``
            periods after adoption, so that the composition of cohorts is the same
            at every event time up to ``balance_e``.

        Returns
        -------
        ImpactResult
            ``effects`` has one row per level (``event_time``, ``group`` or ``time``)
            and the overall row ``att``; with the bootstrap, ``cband_lower`` and
            ``cband_upper`` hold the uniform band over the levels.

        Raises
        ------
        DesignError
            For an unknown ``kind`` or when no cell is left to aggregate.
        """
        if kind not in AGGREGATIONS:
            raise DesignError(f"kind={kind!r} is not valid; choose one of {AGGREGATIONS}")
        with threadpool_limits(limits=1, user_api="blas"):
            return self._aggregate(kind, min_event, max_event, balance_e)

    def _aggregate(
        self,
        kind: str,
        min_event: int | None,
        max_event: int | None,
        balance_e: int | None,
    ) -> ImpactResult:
        for name, value in (
            ("min_event", min_event),
            ("max_event", max_event),
            ("balance_e", balance_e),
        ):
            if value is not None and not isinstance(value, int | np.integer):
                raise DesignError(f"{name}={value!r} must be an integer number of periods")
        gt = self._gt
        max_e = np.inf if max_event is None else max_event
        if kind == "dynamic":
            levels, weights_fn = _dynamic(gt, min_event, max_event, balance_e)
        elif kind == "group":
            levels, weights_fn = _by_group(gt, max_e)
        elif kind == "calendar":
            levels, weights_fn = _by_calendar(gt)
        else:
            levels, weights_fn = [], None
        rows, psi_levels, est_levels = [], [], []
        for level, keep, with_wif in weights_fn or []:
            est, psi = _weighted(gt, keep, with_wif)
            est_levels.append(est)
            psi_levels.append(psi)
            rows.append(level)
        # overall parameter
        if kind == "simple":
            keep = (gt.group <= gt.time) & (gt.time <= gt.group + max_e)
            overall, overall_psi = _weighted(gt, keep, with_wif=True)
        elif kind == "group":
            overall, overall_psi = _group_overall(gt, est_levels, psi_levels, levels)
        else:
            if kind == "dynamic":
                use = [i for i, level in enumerate(levels) if level >= 0]
            else:
                use = list(range(len(levels)))
            if not use:
                raise DesignError(f"no post-treatment cell is left for the {kind} aggregation")
            overall = float(np.mean([est_levels[i] for i in use]))
            overall_psi = np.mean(np.column_stack([psi_levels[i] for i in use]), axis=1)
        if not np.isfinite(overall):
            raise DesignError(f"no post-treatment cell is left for the {kind} aggregation")
        return self._aggregate_result(
            kind,
            levels,
            est_levels,
            psi_levels,
            overall,
            overall_psi,
            {"min_event": min_event, "max_event": max_event, "balance_e": balance_e},
        )

    def _aggregate_result(
        self,
        kind: str,
        levels: list[int],
        est_levels: list[float],
        psi_levels: list[np.ndarray],
        overall: float,
        overall_psi: np.ndarray,
        options: Mapping[str, Any],
    ) -> ImpactResult:
        gt = self._gt
        dist = gt.reference()
        zcrit = float(dist.ppf(1 - gt.alpha / 2))
        records = []
        if levels:
            if gt.bootstrap:
                se, crit = gt.inference(np.column_stack(psi_levels))
            else:
                se, crit = np.array([gt.inference(psi)[0][0] for psi in psi_levels]), None
            column = {"dynamic": "event_time", "group": "group", "calendar": "time"}[kind]
            name_of = {"dynamic": event_term, "group": group_term, "calendar": calendar_term}[kind]
            for i, level in enumerate(levels):
                value = level if kind == "dynamic" else gt.label(level)
                record = _row(name_of(value), est_levels[i], se[i], zcrit, dist)
                record[column] = value
                if crit is not None:
                    record["cband_lower"] = est_levels[i] - crit * se[i]
                    record["cband_upper"] = est_levels[i] + crit * se[i]
                records.append(record)
        se_all, _ = gt.inference(overall_psi)
        record = _row("att", overall, float(se_all[0]), zcrit, dist)
        if levels and crit is not None:
            record["cband_lower"] = record["ci_lower"]
            record["cband_upper"] = record["ci_upper"]
        records.append(record)
        effects = pd.DataFrame(records)
        settings = {
            **self.settings,
            "aggregation": kind,
            **{k: v for k, v in options.items() if v is not None},
        }
        if levels and crit is not None:
            settings["uniform_crit_value"] = crit
        return ImpactResult(
            estimator=self.estimator,
            effects=effects,
            settings=settings,
            diagnostics=dict(self.diagnostics),
            n_obs=self.n_obs,
            n_units=self.n_units,
            n_clusters=self.n_clusters,
        )


def _row(term: str, estimate: float, se: float, zcrit: float, dist=stats.norm) -> dict[str, Any]:
    if np.isfinite(se) and se > 0:
        p = float(2 * dist.sf(abs(estimate) / se))
    else:
        p = float("nan")
    return {
        "term": term,
        "estimate": float(estimate),
        "std_error": float(se),
        "ci_lower": float(estimate - zcrit * se),
        "ci_upper": float(estimate + zcrit * se),
        "p_value": p,
    }


def _weighted(gt: GroupTimeEffects, keep: np.ndarray, with_wif: bool) -> tuple[float, np.ndarray]:
    """Cohort-size weighted average of the cells ``keep`` and its influence function."""
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return float("nan"), np.zeros(gt.n)
    shares_by_group = gt.shares
    shares = np.array([shares_by_group[int(g)] for g in gt.group[idx]])
    weights = shares / shares.sum()
    estimate = float(np.dot(weights, gt.att[idx]))
    psi = np.zeros(gt.n)
    for j, weight in zip(idx, weights, strict=True):
        psi += weight * gt.influence[:, j]
    if with_wif:
        psi = psi + gt.weight_influence(keep, shares)
    return estimate, psi


def _by_group(gt: GroupTimeEffects, max_e: float) -> tuple[list[int], list]:
    levels, specs = [], []
    for g in np.unique(gt.group):
        keep = (gt.group == g) & (g <= gt.time) & (gt.time <= g + max_e)
        if keep.any():
            levels.append(int(g))
            specs.append((int(g), keep, False))
    return levels, specs


def _group_overall(
    gt: GroupTimeEffects, est: list[float], psi: list[np.ndarray], levels: list[int]
) -> tuple[float, np.ndarray]:
    """Cohort-size weighted average of the per-cohort ATTs, with the weights' influence."""
    if not levels:
        return float("nan"), np.zeros(gt.n)
    shares_by_group = gt.shares
    shares = np.array([shares_by_group[g] for g in levels])
    total = shares.sum()
    att_g = np.array(est)
    overall = float(np.dot(shares, att_g) / total)
    out = np.column_stack(psi) @ (shares / total)
    # influence of the estimated cohort shares
    member = np.column_stack([gt.members[g] for g in levels])
    centred = member - shares
    out = out + centred @ att_g / total - centred.sum(axis=1) * overall / total
    return overall, out


def _by_calendar(gt: GroupTimeEffects) -> tuple[list[int], list]:
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


def _dynamic(
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
