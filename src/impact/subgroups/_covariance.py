"""The correlation of subgroup estimates: stacked scores, independence, cluster bootstrap."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact.exceptions import DataError, DesignError, ImpactWarning, InferenceWarning, warn
from impact.inference.adoption import _cheap
from impact.inference.coefficient import transform_design
from impact.panel.container import Panel
from impact.result import ImpactResult
from impact.terms import event_term

__all__ = ["cluster_labels", "correlations", "event_time", "order", "rebuild", "terms_table"]


def rebuild(
    panel: Panel,
    frame: pd.DataFrame,
    *,
    covariates: Sequence[str],
    units: np.ndarray | None = None,
) -> Panel:
    """A Panel of some of ``panel``'s rows with its roles, units keeping their cohorts.

    The cohort is the parent Panel's (a school adopting in 2003 stays a 2003 school in a
    subgroup of its pupils that has none observed in 2003).
    """
    roles: dict[str, Any] = {"treated": panel.treated}
    if panel.absorbing:
        column = f"{panel.treated}__cohort"
        cohort = panel.cohort
        own = pd.Series(frame[panel.unit].to_numpy() if units is None else units)
        frame = frame.assign(**{column: own.map(cohort).to_numpy()})
        roles = {"cohort": column}
    return Panel.from_frame(
        frame,
        unit=panel.unit,
        time=panel.time,
        outcome=panel.outcome,
        covariates=covariates,
        cluster=panel.cluster,
        weights=panel.weights,
        absorbing=panel.absorbing,
        repeated_cross_section=panel.is_repeated_cross_section,
        fixed_effects=panel.fixed_effects,
        **roles,
    )


def terms_table(result: ImpactResult, terms: str, label: str) -> pd.DataFrame:
    """The effects to carry, indexed by a key shared across subgroups."""
    if terms == "overall":
        row = result.effects.loc[result.effects["term"] == result.overall_term]
        return row.set_index(pd.Index(["overall"]))
    effects = result.effects
    if hasattr(result, "aggregate"):
        effects = result.aggregate("dynamic").effects
    if "event_time" not in effects.columns:
        raise DesignError(
            f"terms='event_time' needs a design with effects by event time (staggered, "
            f"event study); subgroup {label!r} has none"
        )
    rows = effects.loc[effects["event_time"].notna()]
    keys = [event_term(int(e)) for e in rows["event_time"]]
    return rows.set_index(pd.Index(keys))


def event_time(key: str) -> float:
    digits = "".join(ch for ch in key if ch.isdigit() or ch == "-")
    return float(digits) if key != "overall" and digits not in ("", "-") else np.nan


def order(key: str) -> tuple[float, str]:
    value = event_time(key)
    return (value if np.isfinite(value) else -np.inf, key)


def cluster_labels(panel: Panel) -> np.ndarray:
    return panel.values(panel.cluster if panel.cluster is not None else panel.unit)


# ------------------------------------------------------------------- the correlations
def correlations(
    covariance, estimator, subpanels, results, tables, cluster_of, values, levels, draws, seed
) -> tuple[str, dict[str, np.ndarray]]:
    keys = sorted({t for tab in tables for t in tab.index}, key=order)
    g = len(subpanels)
    sets = [set(pd.unique(cluster_of[values == level])) for level in levels]
    disjoint = all(not (sets[i] & sets[j]) for i in range(g) for j in range(i + 1, g))
    choice = covariance
    if choice == "auto":
        if disjoint:
            choice = "independent"
        elif keys == ["overall"] and _scores(estimator, subpanels, results) is not None:
            choice = "scores"
        else:
            choice = "bootstrap"
    if choice == "independent":
        if not disjoint:
            raise DesignError(
                "covariance='independent' needs subgroups that share no cluster; these "
                "share clusters: use 'auto', 'scores' or 'bootstrap'"
            )
        return choice, {k: np.eye(g) for k in keys}
    if choice == "scores":
        scores = _scores(estimator, subpanels, results) if keys == ["overall"] else None
        if scores is None:
            raise DesignError(
                f"covariance='scores' needs a design exposing its regression "
                f"(regression_design) and the overall term; {type(estimator).__name__} "
                "does not: use 'bootstrap'"
            )
        gram = scores.T @ scores
        d = np.sqrt(np.diag(gram))
        return choice, {"overall": gram / np.outer(d, d)}
    return choice, _bootstrap_correlations(estimator, subpanels, tables, keys, draws, seed)


def _scores(estimator, subpanels, results) -> np.ndarray | None:
    """Cluster sums of each subgroup's coefficient scores, stacked: (clusters, G)."""
    if not hasattr(estimator, "regression_design"):
        return None
    columns = []
    for sub, result in zip(subpanels, results, strict=True):
        design = estimator.regression_design(sub)
        if len(design.y) != sub.n_obs:
            return None
        y, x, _ = transform_design(design)
        j = list(design.names).index(design.term)
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        if not np.isclose(beta[j], result.att.estimate, rtol=1e-6, atol=1e-9):
            return None
        row = np.linalg.pinv(x.T @ x)[j]
        columns.append(pd.Series((x @ row) * (y - x @ beta)).groupby(cluster_labels(sub)).sum())
    return pd.concat(columns, axis=1).fillna(0.0).to_numpy()


def _bootstrap_correlations(estimator, subpanels, tables, keys, draws, seed):
    """Correlations of the subgroup estimates over cluster-bootstrap resamples."""
    cheap = _cheap(estimator)
    all_clusters = pd.unique(np.concatenate([cluster_labels(s) for s in subpanels]))
    frames = [s.view().assign(_cluster=cluster_labels(s)) for s in subpanels]
    rng = np.random.default_rng(seed)
    replicates = np.full((draws, len(subpanels), len(keys)), np.nan)
    failed = 0
    for b in range(draws):
        chosen = pd.Series(rng.choice(all_clusters, size=len(all_clusters), replace=True))
        copies = chosen.groupby(chosen).cumcount().to_numpy()
        picks = pd.DataFrame({"_cluster": chosen.to_numpy(), "_copy": copies})
        try:
            for i, (sub, frame) in enumerate(zip(subpanels, frames, strict=True)):
                table = terms_table(
                    _refit(cheap, sub, frame, picks),
                    "overall" if keys == ["overall"] else "event_time",
                    "",
                )
                replicates[b, i] = [table["estimate"].get(k, np.nan) for k in keys]
        except (DesignError, DataError, np.linalg.LinAlgError):
            failed += 1
    if failed > draws // 10:
        warn(
            f"{failed} of {draws} cluster-bootstrap resamples could not be fitted (a "
            "subgroup without treated or comparison clusters); the correlations rest on "
            "the rest",
            InferenceWarning,
        )
    out = {}
    for k_index, key in enumerate(keys):
        reps = replicates[:, :, k_index]
        reps = reps[np.all(np.isfinite(reps), axis=1)]
        corr = np.corrcoef(reps, rowvar=False) if len(reps) > 2 else np.eye(len(subpanels))
        out[key] = np.where(np.isfinite(corr), corr, 0.0)
        np.fill_diagonal(out[key], 1.0)
    return out


def _refit(estimator, sub: Panel, frame: pd.DataFrame, picks: pd.DataFrame) -> ImpactResult:
    data = picks.merge(frame, on="_cluster", how="inner")
    if data.empty:
        raise DesignError("an empty resample")
    units = data[sub.unit].to_numpy()
    data[sub.unit] = data[sub.unit].astype(str) + "#" + data["_copy"].astype(str)
    if sub.cluster is not None:
        data[sub.cluster] = data[sub.cluster].astype(str) + "#" + data["_copy"].astype(str)
    resample = rebuild(sub, data, covariates=sub.covariates, units=units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpactWarning)
        return estimator.fit(resample)
