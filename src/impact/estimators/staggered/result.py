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
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from impact._distributions import Normal, reference
from impact._frozen import read_only
from impact._threads import single_blas_thread
from impact.estimators.staggered._weights import (
    calendar_weights,
    dynamic_weights,
    gram_by_runs,
    group_overall,
    group_weights,
)
from impact.exceptions import DesignError
from impact.inference.multiplier import (
    cluster_sums,
    multiplier_bootstrap,
)
from impact.inference.wald import undefined_se
from impact.result import ImpactResult
from impact.terms import calendar_term, event_term, group_term, plain_period

__all__ = ["AGGREGATIONS", "GroupTimeEffects", "StaggeredResult"]

AGGREGATIONS: tuple[str, ...] = ("simple", "group", "calendar", "dynamic")
_NORMAL = Normal()


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
    scale : float
        The outcome's scale (its spread, floored by rounding of its level:
        :func:`~impact.inference.wald.outcome_scale`): standard errors zero up to
        rounding relative to it are missing (NaN), whatever the outcome's units or a
        shift of it (see
        :mod:`impact.inference.wald`). R ``did`` uses an absolute ``se * sqrt(n) <=
        10 sqrt(eps)``, which turned every standard error of an outcome measured in
        small units into NaN.
    undefined : str or None
        Why no standard error can be estimated (a single comparison cluster); every
        standard error is then missing.
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
    scale: float = 0.0
    undefined: str | None = None

    def __post_init__(self) -> None:  # a frozen value: its arrays are read-only too
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, np.ndarray):
                object.__setattr__(self, item.name, read_only(value))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the fields only (rebuilt read-only), not the cached aggregation helpers."""
        return (type(self), tuple(getattr(self, item.name) for item in fields(self)))

    def reference(self):
        """Reference distribution of the t-statistics: t(df), or normal when infinite."""
        return reference(self.df)

    @property
    def n(self) -> int:
        """Number of observation units behind the influence functions."""
        return self.influence.shape[0]

    def label(self, position: int) -> Any:
        """The period label at ``position`` as a plain Python value."""
        return plain_period(self.periods[int(position)])

    def inference(self, psi: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Standard errors (and bootstrap critical value) of estimators with influence ``psi``.

        Returns the standard errors and the uniform critical value (bootstrap only,
        else None).
        """
        psi = psi[:, None] if psi.ndim == 1 else psi
        return self.inference_from_sums(cluster_sums(psi, self.clusters))

    def covariance(self, columns: np.ndarray) -> np.ndarray:
        """Analytic covariance of the cells ``columns`` (clustered influence functions)."""
        k = len(self.att)
        columns = np.asarray(columns)
        return self.gram[:k, :k][np.ix_(columns, columns)]

    def standard_errors(self, coef: np.ndarray | None = None) -> tuple[np.ndarray, float | None]:
        """Standard errors of linear combinations of the cells and cohort shares.

        Parameters
        ----------
        coef : ndarray, shape (K + C, L), optional
            Each column combines the cells' influence functions (first ``K`` rows)
            and the centred cohort memberships of :attr:`membership` (last ``C``
            rows) into the influence function of one estimator. None: the cells.

        Returns
        -------
        The standard errors and the uniform critical value over the ``L``
        estimators (bootstrap only, else None).
        """
        k = len(self.att)
        if coef is None:
            coef = np.eye(k + len(self.cohort_list))[:, :k]
        if self.bootstrap:
            sums_i, sums_m = self.sums
            return self.inference_from_sums(sums_i @ coef[:k] + sums_m @ coef[k:])
        variance = np.einsum("kl,km,ml->l", coef, self.gram, coef)
        se = np.sqrt(np.maximum(variance, 0.0))
        return self._defined(se), None

    def _defined(self, se: np.ndarray) -> np.ndarray:
        """``se``, NaN where zero up to rounding or when no error can be estimated."""
        if self.undefined is not None:
            return np.full(np.shape(se), np.nan)
        return np.where(undefined_se(se, self.scale), np.nan, se)

    def inference_from_sums(self, sums: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Standard errors (and bootstrap critical value) from clustered IF sums."""
        sums = sums[:, None] if sums.ndim == 1 else sums
        se = np.sqrt(np.einsum("ij,ij->j", sums, sums)) / self.n
        se = self._defined(se)
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
                scale=self.scale,
            )
            se = self._defined(boot.std_error)
            crit = boot.crit_value
        return se, crit

    # ------------------------------------------------------------------ aggregation maths
    @cached_property
    def cohort_list(self) -> np.ndarray:
        """The cohorts (positions) that have cells, sorted."""
        return np.unique(self.group)

    @cached_property
    def shares(self) -> dict[int, float]:
        """Weighted share of observation units in each cohort (R ``did``'s ``pg``)."""
        return {
            int(g): float((self.obs_weight * (self.obs_group == g)).mean())
            for g in self.cohort_list
        }

    @cached_property
    def membership(self) -> np.ndarray:
        """``w 1{G = g} - p_g`` for each cohort ``g`` of :attr:`cohort_list`, shape (n, C).

        The influence functions of the estimated cohort shares ``p_g``.
        """
        out = np.zeros((len(self.obs_group), len(self.cohort_list)), order="F")
        for j, g in enumerate(self.cohort_list):
            member = self.obs_group == g
            out[member, j] = self.obs_weight[member]
            out[:, j] -= self.shares[int(g)]
        return out

    @cached_property
    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Clustered sums of the cells' influence functions and of :attr:`membership`."""
        return cluster_sums(self.influence, self.clusters), cluster_sums(
            self.membership, self.clusters
        )

    @cached_property
    def gram(self) -> np.ndarray:
        """Covariance of the cells and the cohort shares, shape (K + C, K + C)."""
        gram = None
        if self.clusters is None:
            shares = np.array([self.shares[int(g)] for g in self.cohort_list])
            gram = gram_by_runs(
                self.influence, self.obs_group, self.obs_weight, self.cohort_list, shares
            )
        if gram is None:
            sums_i, sums_m = self.sums
            cross = sums_i.T @ sums_m
            gram = np.block([[sums_i.T @ sums_i, cross], [cross.T, sums_m.T @ sums_m]])
        return gram / float(self.n) ** 2

    def weighted(self, keep: np.ndarray, with_wif: bool) -> tuple[float, np.ndarray]:
        """Cohort-size weighted average of the cells ``keep`` and its coefficients.

        The coefficients (a (K + C)-vector, see :meth:`standard_errors`) weight the
        cells by ``p_g / sum p_g`` and, when ``with_wif``, add the influence of
        estimating the cohort shares: ``sum_g (s_g / P - c_g A / P**2) (w 1{G = g} - p_g)``
        with ``s_g`` the sum and ``c_g`` the count of the kept cells of cohort ``g``,
        ``P`` the sum of the kept cells' shares and ``A`` their share-weighted sum.
        """
        k = len(self.att)
        coef = np.zeros(k + len(self.cohort_list))
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            return float("nan"), coef
        shares = np.array([self.shares[int(g)] for g in self.group[idx]])
        total = shares.sum()
        coef[idx] = shares / total
        estimate = float(np.dot(coef[idx], self.att[idx]))
        if with_wif:
            att = self.att[idx]
            weighted_att = float(np.dot(shares, att))
            position = np.searchsorted(self.cohort_list, self.group[idx])
            sum_att = np.bincount(position, weights=att, minlength=len(self.cohort_list))
            count = np.bincount(position, minlength=len(self.cohort_list))
            coef[k:] = sum_att / total - count * weighted_att / total**2
        return estimate, coef


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
            Which summary; see :mod:`impact.estimators.staggered.result`.
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
            ``cband_upper`` hold the uniform band over the levels. For ``"dynamic"``,
            ``diagnostics["event_covariance"]`` holds the analytic covariance of the
            event-time estimates (read by :mod:`impact.sensitivity`).

        Raises
        ------
        DesignError
            For an unknown ``kind`` or when no cell is left to aggregate.
        """
        if kind not in AGGREGATIONS:
            raise DesignError(f"kind={kind!r} is not valid; choose one of {AGGREGATIONS}")
        with single_blas_thread():
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
            levels, weights_fn = dynamic_weights(gt, min_event, max_event, balance_e)
        elif kind == "group":
            levels, weights_fn = group_weights(gt, max_e)
        elif kind == "calendar":
            levels, weights_fn = calendar_weights(gt)
        else:
            levels, weights_fn = [], None
        coef_levels, est_levels = [], []
        for _level, keep, with_wif in weights_fn or []:
            est, coef = gt.weighted(keep, with_wif)
            est_levels.append(est)
            coef_levels.append(coef)
        # overall parameter
        if kind == "simple":
            keep = (gt.group <= gt.time) & (gt.time <= gt.group + max_e)
            overall, overall_coef = gt.weighted(keep, with_wif=True)
        elif kind == "group":
            overall, overall_coef = group_overall(gt, est_levels, coef_levels, levels)
        else:
            if kind == "dynamic":
                use = [i for i, level in enumerate(levels) if level >= 0]
            else:
                use = list(range(len(levels)))
            if not use:
                raise DesignError(f"no post-treatment cell is left for the {kind} aggregation")
            overall = float(np.mean([est_levels[i] for i in use]))
            overall_coef = np.mean(np.column_stack([coef_levels[i] for i in use]), axis=1)
        if not np.isfinite(overall):
            raise DesignError(f"no post-treatment cell is left for the {kind} aggregation")
        return self._aggregate_result(
            kind,
            levels,
            est_levels,
            coef_levels,
            overall,
            overall_coef,
            {"min_event": min_event, "max_event": max_event, "balance_e": balance_e},
        )

    def _aggregate_result(
        self,
        kind: str,
        levels: list[int],
        est_levels: list[float],
        coef_levels: list[np.ndarray],
        overall: float,
        overall_coef: np.ndarray,
        options: Mapping[str, Any],
    ) -> ImpactResult:
        gt = self._gt
        dist = gt.reference()
        zcrit = float(dist.ppf(1 - gt.alpha / 2))
        records = []
        if levels:
            se, crit = gt.standard_errors(np.column_stack(coef_levels))
            p_levels = p_values(np.array(est_levels), se, dist)
            column = {"dynamic": "event_time", "group": "group", "calendar": "time"}[kind]
            name_of = {"dynamic": event_term, "group": group_term, "calendar": calendar_term}[kind]
            for i, level in enumerate(levels):
                value = level if kind == "dynamic" else gt.label(level)
                record = _row(name_of(value), est_levels[i], se[i], zcrit, dist, p_levels[i])
                record[column] = value
                if crit is not None:
                    record["cband_lower"] = est_levels[i] - crit * se[i]
                    record["cband_upper"] = est_levels[i] + crit * se[i]
                records.append(record)
        se_all, _ = gt.standard_errors(overall_coef[:, None])
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
        diagnostics = dict(self.diagnostics)
        if kind == "dynamic" and levels:
            diagnostics["event_covariance"] = _event_covariance(gt, levels, coef_levels)
        return ImpactResult(
            estimator=self.estimator,
            effects=effects,
            settings=settings,
            diagnostics=diagnostics,
            n_obs=self.n_obs,
            n_units=self.n_units,
            n_clusters=self.n_clusters,
        )


def _event_covariance(
    gt: GroupTimeEffects, levels: list[int], coef_levels: list[np.ndarray]
) -> pd.DataFrame:
    """Analytic covariance of the event-time estimates (influence functions), by term."""
    coef = np.column_stack(coef_levels)
    cov = coef.T @ gt.gram @ coef
    if gt.undefined is not None:
        cov = np.full(cov.shape, np.nan)
    names = [event_term(e) for e in levels]
    table = pd.DataFrame(cov, columns=names)
    table.insert(0, "term", names)
    table["covariance"] = "influence function"
    return table


def simple_overall(gt: GroupTimeEffects) -> dict[str, Any]:
    """The overall ``att`` row of ``aggregate("simple")``, without building a result."""
    keep = gt.group <= gt.time
    overall, coef = gt.weighted(keep, with_wif=True)
    if not np.isfinite(overall):
        raise DesignError("no post-treatment cell is left for the simple aggregation")
    dist = gt.reference()
    zcrit = float(dist.ppf(1 - gt.alpha / 2))
    se, _ = gt.standard_errors(coef[:, None])
    return _row("att", overall, float(se[0]), zcrit, dist)


def simple_overall_draws(gt: GroupTimeEffects) -> dict[str, np.ndarray]:
    """Bootstrap draws of the overall ``att`` (empty without the bootstrap).

    The estimate plus the draws of ``theta* - theta`` its standard error came from.
    """
    if not gt.bootstrap:
        return {}
    k = len(gt.att)
    overall, coef = gt.weighted(gt.group <= gt.time, with_wif=True)
    sums_i, sums_m = gt.sums
    boot = multiplier_bootstrap(
        sums_i @ coef[:k] + sums_m @ coef[k:],
        gt.n,
        n_boot=gt.n_boot,
        alpha=gt.alpha,
        rng=np.random.default_rng(gt.boot_seed),
        weights=gt.boot_weights,
    )
    return {"att": overall + boot.draws[:, 0]}


def p_values(estimates: np.ndarray, se: np.ndarray, dist=_NORMAL) -> np.ndarray:
    """Two-sided p-values, NaN where the standard error is missing or zero."""
    estimates, se = np.asarray(estimates, dtype=float), np.asarray(se, dtype=float)
    valid = np.isfinite(se) & (se > 0)
    out = np.full(len(se), np.nan)
    if valid.any():
        out[valid] = 2 * dist.sf(np.abs(estimates[valid]) / se[valid])
    return out


def _row(
    term: str,
    estimate: float,
    se: float,
    zcrit: float,
    dist=_NORMAL,
    p: float | None = None,
) -> dict[str, Any]:
    if p is None:
        p = float(p_values(np.array([estimate]), np.array([se]), dist)[0])
    return {
        "term": term,
        "estimate": float(estimate),
        "std_error": float(se),
        "ci_lower": float(estimate - zcrit * se),
        "ci_upper": float(estimate + zcrit * se),
        "p_value": p,
    }
