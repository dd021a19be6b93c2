"""Matched difference-in-differences under staggered adoption.

The rule
--------
An unbalanced panel is balanced first: units not observed in every period are dropped
before any matching (one DataWarning counts them), as StaggeredDiD and R ``did`` do by
default, so no matched unit is dropped after matching and the diagnostics describe the
units estimated on. Each treated cohort ``g`` (units first treated in period ``g``) is
then matched on its own:

1. *Pool.* Candidate controls are the never-treated units and, with
   ``control="not_yet_treated"``, the units of later cohorts (first treated after
   ``g``). Units of earlier cohorts are never candidates.
2. *Matching variables.* The covariates (means over the periods before ``g``) and the
   last ``pre_periods`` outcomes before ``g`` (fewer when the cohort has fewer
   pre-periods), as for a single adoption; the pool's outcomes before ``g`` are
   untreated by construction. The matching is that of :class:`MatchedComparison`
   (nearest neighbour, CEM or weighting), run within the cohort's data. A control may
   serve several cohorts.
3. *Estimation.* The cohort's matched units (weights = matching weights times any
   sampling weights) go to :class:`~impact.StaggeredDiD` with the same ``control``
   rule, so a later-cohort control is used only in periods before its own adoption;
   only the cohort's own group-time effects ATT(g, t) are kept.
4. *Aggregation.* The ATT(g, t) of all cohorts and their influence functions are
   stacked (rows: cohort x unit) and aggregated as by
   :meth:`~impact.estimators.staggered.result.StaggeredResult.aggregate`.

Inference
---------
Influence functions are summed within clusters before squaring. The clusters are the
matched sets, merged whenever two sets share a unit (a control matched to several
cohorts, or a later-cohort unit that is a control for an earlier cohort and treated in
its own): the connected components of the sets linked by shared units. Observations
are thus independent across clusters, both within a cohort (matched sets) and across
cohorts. When the Panel has a cluster column (pupils in schools), its clusters are
used instead: linked with the matched sets they chain nearly every unit into one
component; the matched-set dependence within them is then not modelled. The matching
itself is taken as given, as for a single adoption.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.estimators.matching._data import UnitData, unit_data
from impact.estimators.matching.balance import balance_table, sample_sizes
from impact.estimators.matching.matched_comparison import Matched, MatchedComparison, match_units
from impact.estimators.staggered.result import GroupTimeEffects, StaggeredResult
from impact.estimators.staggered.staggered_did import StaggeredDiD
from impact.exceptions import DesignError, DesignWarning, InferenceWarning, warn
from impact.inference.wald import wald
from impact.panel.container import Panel

if TYPE_CHECKING:
    from impact.estimators.matching.matched_did import MatchedDiD

__all__ = ["fit_staggered"]

_WEIGHT = "__match_weight__"
_COHORT = "__cohort__"
_TREATED = "__treated__"
_UNIT = "__unit_code__"


def fit_staggered(
    est: MatchedDiD, panel: Panel, *, dropped_incomplete_units: int = 0
) -> StaggeredResult:
    """Match each cohort to its pool, estimate ATT(g,t) on the matched units, stack.

    Parameters
    ----------
    est : MatchedDiD
        The configured estimator.
    panel : Panel
        A staggered-adoption panel, balanced (units not observed in every period
        already dropped, so that no matched unit is dropped after matching).
    dropped_incomplete_units : int
        Units the balancing dropped, for ``settings``.

    Returns
    -------
    StaggeredResult
    """
    design = "staggered matched difference-in-differences"
    frame = panel.frame
    unit, time = panel.unit, panel.time
    periods = panel.periods
    cohort_of = panel.cohort
    units = pd.Index(np.sort(pd.unique(frame[unit])), name=unit)
    unit_code = pd.Series(np.arange(len(units)), index=units)
    frame[unit].map(cohort_of)
    never = cohort_of.isna()
    if est.control == "never_treated" and not never.any():
        raise DesignError(
            f"every unit of {unit!r} is treated at some point; match on "
            "control='not_yet_treated' or add never-treated units"
        )
    base = frame.copy()
    centre = float(frame[panel.outcome].mean())
    base[_UNIT] = frame[unit].map(unit_code).to_numpy()
    # the Panel's own clusters (e.g. schools of pupils), per unit
    unit_cluster = None
    if panel.cluster is not None:
        first = frame.groupby(unit, sort=True)[panel.cluster].first().reindex(units)
        unit_cluster = pd.factorize(first, sort=True)[0]
    blocks: list[dict[str, Any]] = []
    balance_parts, size_parts, match_parts = [], [], []
    skipped = []
    for g in panel.cohorts:
        n_pre = int((periods < g).sum())
        cohort_units = cohort_of.index[cohort_of == g]
        pool = never if est.control == "never_treated" else never | (cohort_of > g)
        if n_pre == 0 or not pool.any():
            skipped.append(g)
            continue
        keep_rows = (
            frame[unit].isin(cohort_units).to_numpy()
            | frame[unit].isin(cohort_of.index[pool]).to_numpy()
        )
        sub = base.loc[keep_rows].copy()
        is_g = sub[unit].isin(cohort_units).to_numpy()
        sub[_TREATED] = (is_g & (sub[time] >= g).to_numpy()).astype(int)
        matching_panel = Panel.from_frame(
            sub,
            unit=unit,
            time=time,
            outcome=panel.outcome,
            treated=_TREATED,
            covariates=list(panel.covariates),
            weights=panel.weights,
        )
        k = min(est.pre_periods, n_pre)
        matching = MatchedComparison(**{**est._matching().get_params(), "pre_period_outcomes": k})
        data = unit_data(matching_panel, pre_outcomes=k, design=design)
        matched = match_units(matching, data)
        w = matched.weights
        sub_sw = data.sampling_weights
        total_w = w if sub_sw is None else w * sub_sw
        chosen = pd.Series(total_w, index=data.units)
        chosen = chosen[chosen > 0]
        subclass = matched.subclass.copy()
        alone = subclass < 0  # weighting, or controls matched with replacement
        subclass[alone] = subclass.max() + 1 + np.arange(alone.sum())
        links = []  # (set, unit label): controls shared by several sets with replacement
        if matched.match_matrix is not None and est.replace:
            t_index = np.flatnonzero(data.treated)
            for j in range(matched.match_matrix.shape[1]):
                col = matched.match_matrix[:, j]
                ok = col >= 0
                links.extend(zip(subclass[t_index[ok]], data.units[col[ok]], strict=True))
        sets = pd.Series(subclass, index=data.units).reindex(chosen.index)
        est_rows = sub[sub[unit].isin(chosen.index)].copy()
        # the outcome measured from the panel's mean: every effect is a difference of
        # differences, so only the rounding changes, which then scales with the outcome's
        # spread rather than its level (cells zero by construction, the pre-periods
        # matched on, would otherwise carry rounding noise that grows with the level)
        est_rows[panel.outcome] = est_rows[panel.outcome].to_numpy(dtype=float) - centre
        est_rows[_WEIGHT] = est_rows[unit].map(chosen).to_numpy(dtype=float)
        row_cohort = est_rows[unit].map(cohort_of)
        if not pd.api.types.is_datetime64_any_dtype(row_cohort):
            row_cohort = row_cohort.fillna(0)  # numeric periods: 0 marks never treated
        est_rows[_COHORT] = row_cohort.to_numpy()  # datetime periods keep NaT for never
        adjust_cols = []
        n_t = int((data.treated & (w > 0)).sum())
        n_c = int((~data.treated & (w > 0)).sum())
        adjust = est.adjustment == "regression"
        if adjust and (n_t < 2 or n_c <= data.model.shape[1] + 1):
            warn(
                f"cohort {g}: {n_t} matched treated and {n_c} control units are too few for "
                "the regression adjustment; its effects are the unadjusted matched DiD",
                DesignWarning,
            )
            adjust = False
        if adjust:
            model = data.model.loc[chosen.index]
            model = model.loc[:, model.std() > 0]
            for j, name in enumerate(model.columns):
                column = f"__adjust_{j}__"
                est_rows[column] = est_rows[unit].map(model[name]).to_numpy(dtype=float)
                adjust_cols.append(column)
        est_panel = Panel.from_frame(
            est_rows,
            unit=unit,
            time=time,
            outcome=panel.outcome,
            cohort=_COHORT,
            weights=_WEIGHT,
            cluster=_UNIT,
            covariates=adjust_cols,
        )
        fit = StaggeredDiD(control=est.control, method="reg", alpha=est.alpha).fit(est_panel)
        gt = fit.group_time
        g_pos = int(np.flatnonzero(gt.periods == g)[0])
        cells = np.flatnonzero(gt.group == g_pos)
        # observation units of the sub-fit, back to global unit codes through the clusters
        cluster_values = np.sort(est_rows[_UNIT].unique())
        obs_units = cluster_values[gt.clusters]
        blocks.append(
            {
                "cohort": g,
                "gt": gt,
                "cells": cells,
                "g_pos": g_pos,
                "obs_units": obs_units,
                "sets": sets.reindex(units[obs_units]).to_numpy(),
                "links": [(int(a), int(unit_code[u])) for a, u in links],
                "rows": fit.effects.loc[fit.effects["group"] == gt.label(g_pos)],
            }
        )
        table = balance_table(_balance_columns(data, matched), data.treated, w, base_weights=sub_sw)
        table.insert(0, "cohort", g)
        balance_parts.append(table)
        sizes = sample_sizes(data.treated, w, matched.discarded)
        sizes.insert(0, "cohort", g)
        size_parts.append(sizes)
        match_parts.append(
            pd.DataFrame(
                {
                    "cohort": g,
                    "unit": data.units.to_numpy(),
                    "treated": data.treated,
                    "weight": w,
                    "subclass": matched.subclass,
                    "matched": w > 0,
                }
            )
        )
    if not blocks:
        raise DesignError(
            f"no cohort could be matched: each needs a period before adoption and "
            f"candidate controls ({est.control})"
        )
    if skipped:
        warn(
            f"cohorts {skipped} have no period before adoption or no candidate control and "
            "are left out",
            DesignWarning,
        )
    return _stack(
        est,
        panel,
        blocks,
        (balance_parts, size_parts, match_parts),
        unit_cluster,
        dropped_incomplete_units,
    )


def _balance_columns(data: UnitData, matched: Matched) -> pd.DataFrame:
    cols = data.balance
    if matched.score is not None:
        cols = pd.concat(
            [pd.DataFrame({"distance": matched.score}, index=data.units), cols], axis=1
        )
    return cols


def _stack(
    est: MatchedDiD,
    panel: Panel,
    blocks: list[dict[str, Any]],
    parts: tuple[list[pd.DataFrame], list[pd.DataFrame], list[pd.DataFrame]],
    unit_cluster: np.ndarray | None,
    dropped_incomplete_units: int,
) -> StaggeredResult:
    balance_parts, size_parts, match_parts = parts
    n_total = sum(b["gt"].n for b in blocks)
    k_total = sum(len(b["cells"]) for b in blocks)
    influence = np.zeros((n_total, k_total))
    obs_group = np.empty(n_total, dtype=np.int64)
    obs_weight = np.empty(n_total)
    set_node = np.empty(n_total, dtype=np.int64)
    extra_sets, extra_units = [], []
    unit_node = np.empty(n_total, dtype=np.int64)
    group, time_, att = [], [], []
    periods = blocks[0]["gt"].periods
    never_code = np.iinfo(np.int64).max // 2
    row0 = col0 = set0 = 0
    for b in blocks:
        gt, cells = b["gt"], b["cells"]
        n = gt.n
        rows = slice(row0, row0 + n)
        influence[rows, col0 : col0 + len(cells)] = gt.influence[:, cells] * (n_total / n)
        obs_group[rows] = np.where(gt.obs_group == b["g_pos"], b["g_pos"], never_code)
        obs_weight[rows] = gt.obs_weight
        sets = np.asarray(b["sets"], dtype=np.int64)
        set_node[rows] = set0 + sets
        unit_node[rows] = b["obs_units"]
        for a, u in b["links"]:
            extra_sets.append(set0 + a)
            extra_units.append(u)
        group.extend(gt.group[cells])
        time_.extend(gt.time[cells])
        att.extend(gt.att[cells])
        set0 += max(int(sets.max()), max((a for a, _ in b["links"]), default=0)) + 1
        row0 += n
        col0 += len(cells)
    # clusters: matched sets linked by shared units (connected components)
    from scipy import sparse  # on first use (slow import of the graph routines)
    from scipy.sparse.csgraph import connected_components

    n_units = int(max(unit_node.max(), max(extra_units, default=0))) + 1
    src = np.concatenate([set_node, np.asarray(extra_sets, dtype=np.int64)])
    dst = set0 + np.concatenate([unit_node, np.asarray(extra_units, dtype=np.int64)])
    graph = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(set0 + n_units,) * 2)
    _, component = connected_components(graph, directed=False)
    clusters = np.unique(component[set_node], return_inverse=True)[1]
    if unit_cluster is not None:
        # the Panel's clusters (e.g. schools of pupils): linking them with the matched
        # sets chains almost everything into one component, so they are used alone
        clusters = np.unique(unit_cluster[unit_node], return_inverse=True)[1]
    n_clusters = int(clusters.max()) + 1
    group_a, time_a = np.array(group, dtype=np.int64), np.array(time_, dtype=np.int64)
    gt = GroupTimeEffects(
        group=group_a,
        time=time_a,
        event_time=time_a - group_a,
        att=np.array(att, dtype=float),
        influence=influence,
        obs_group=obs_group,
        obs_weight=obs_weight,
        clusters=clusters,
        periods=periods,
        alpha=est.alpha,
        bootstrap=False,
        n_boot=999,
        boot_seed=None,
        scale=max(b["gt"].scale for b in blocks),  # each cohort's outcome scale
        undefined=(
            None
            if n_clusters >= 2
            else "the matched sets form a single independent cluster, and a clustered "
            "standard error needs at least two; match more never-treated units"
        ),
    )
    se, _ = gt.inference(influence)
    cell_rows = pd.concat([b["rows"] for b in blocks], ignore_index=True)
    # normal intervals, NaN (with a warning) where the standard error is missing
    se, lower, upper, p = wald(
        cell_rows["estimate"].to_numpy(dtype=float),
        se,
        None,
        est.alpha,
        scale=gt.scale,
        terms=list(cell_rows["term"]),
        undefined=gt.undefined,
    )
    cell_rows["std_error"] = se
    cell_rows["ci_lower"] = lower
    cell_rows["ci_upper"] = upper
    cell_rows["p_value"] = p
    if n_clusters < est.min_clusters:
        warn(
            f"only {n_clusters} independent clusters of matched sets (sets sharing a unit "
            "are merged): the normal-approximation intervals may be too narrow; match with "
            "more never-treated units or fewer cohorts per control",
            InferenceWarning,
        )
    settings = {
        **est.get_params(),
        "design": "staggered matched difference-in-differences",
        "cohorts_matched": [b["cohort"] for b in blocks],
        "inference_used": "influence functions clustered by linked matched sets",
        "inference_reason": "staggered adoption: matched sets merged when they share a unit",
        "n_matched_sets": set0,
        "n_clusters": n_clusters,
        "sampling_weights": panel.weights,
        "dropped_incomplete_units": dropped_incomplete_units,
    }
    diagnostics = {
        "balance": pd.concat(balance_parts, ignore_index=True),
        "sample_sizes": pd.concat(size_parts, ignore_index=True),
        "matches": pd.concat(match_parts, ignore_index=True),
    }
    common = dict(
        estimator=est.name,
        settings=settings,
        diagnostics=diagnostics,
        n_obs=int(sum(len(b["obs_units"]) for b in blocks)),
        n_units=len(np.unique(unit_node)),
        n_clusters=n_clusters,
    )
    partial = StaggeredResult(group_time=gt, effects=cell_rows, **common)
    simple = partial.aggregate("simple").effects
    overall = simple.loc[simple["term"] == "att"].iloc[0].to_dict()
    effects = pd.concat([cell_rows, pd.DataFrame([overall])], ignore_index=True)
    return StaggeredResult(group_time=gt, effects=effects, **common)
