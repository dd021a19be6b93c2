"""Effects by subgroup, a joint test that they are equal, and the gap between two of them.

:func:`estimate_by` fits one design within each level of a column (school type, pupil
deprivation) and returns one result with a row per subgroup. What the subgroups' effects
have in common is their sampling error: subgroups of pupils inside the same schools share
the schools' shocks, so their estimates are correlated and a test that they are equal, or
an interval for the gap between two of them, needs their joint covariance. It comes from,
in order of preference:

``"scores"``
    Designs that expose their regression (``regression_design``, the DiD family): the
    per-observation scores of each subgroup's coefficient are summed within clusters
    and stacked across subgroups, giving the cluster-robust covariance of the
    subgroup estimates (the sandwich of the stacked regressions, as Stata's ``suest``).
``"independent"``
    Subgroups that share no cluster: their estimates are independent, so the
    covariance is diagonal. Exact for unit-level subgroups (school type) whatever the
    design.
``"bootstrap"``
    Otherwise: clusters are resampled with replacement (``draws`` times, from ``seed``)
    and every subgroup refitted on each resample; the correlation of the replicates
    is the estimated correlation of the subgroup estimates.

Each subgroup's standard error is its design's own (the covariance above supplies the
correlations only), so the subgroup rows are exactly what fitting each subgroup alone
reports.

Layer: beside :mod:`impact.many` (above the estimators, whose results it combines,
and the plotting layer; below simulations' users, reports and the command line).
``_covariance`` holds the three ways of estimating the correlations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.exceptions import DataError, DesignError, InferenceWarning, warn
from impact.inference.multiple import adjust_p_values, romano_wolf
from impact.panel.container import Panel
from impact.registry import get_estimator
from impact.result import EFFECT_COLUMNS, ImpactResult, effect_row
from impact.subgroups._covariance import (
    cluster_labels,
    correlations,
    event_time,
    order,
    rebuild,
    terms_table,
)

__all__ = ["COVARIANCES", "combine_subgroups", "estimate_by"]

COVARIANCES = ("auto", "scores", "independent", "bootstrap")
ADJUSTMENTS = ("holm", "bh", "romano-wolf")


def estimate_by(
    panel: Panel,
    method: str = "did",
    *,
    by: str | Sequence[Any] | pd.Series,
    gap: tuple[Any, Any] | None = None,
    terms: str = "overall",
    adjust: Sequence[str] = ("holm", "bh"),
    covariance: str = "auto",
    draws: int = 199,
    seed: int | None = 0,
    alpha: float | None = None,
    **params: Any,
) -> ImpactResult:
    """Fit a design within each subgroup; test equality; estimate the gap between two.

    Parameters
    ----------
    panel : Panel
        The data.
    method : str, default "did"
        Registered estimator, fitted separately within each subgroup.
    by : str or array-like
        The subgroups: the name of a column of the Panel (any role; carry a label
        column with ``Panel.from_frame(..., extra_outcomes=[...])`` or as a covariate,
        which is then dropped from the subgroup fits), or values in the order of the
        Panel's rows (``panel.view()``, sorted by unit and period: not necessarily the
        order of the frame it was built from, so naming a carried column is safer).
        Unit-level (school type) or, for pupils in repeated cross-sections of schools,
        row-level (the pupil's deprivation); with panel data each unit must stay in one
        subgroup.
    gap : tuple of two subgroups, optional
        ``(a, b)``: the effect on the difference between subgroup ``a``'s and ``b``'s
        outcomes, ``effect_a - effect_b``, with its interval from the joint
        covariance. Give the subgroups as their terms (``"simd_1"``) or levels (``1``).
        ``("simd_1", "simd_5")`` is positive when the programme narrowed an attainment
        gap that favours quintile 5.
    terms : {"overall", "event_time"}, default "overall"
        ``"event_time"`` reports each subgroup's (and the gap's) effect by event time:
        the dynamic aggregation of a staggered design, or an event study's terms.
    adjust : sequence of {"holm", "bh", "romano-wolf"}
        Multiplicity adjustments of the subgroups' overall p-values, each as a
        column (``p_holm``...). Romano-Wolf steps down on draws of the t-statistics
        from their estimated joint normal distribution (seeded by ``seed``).
    covariance : {"auto", "scores", "independent", "bootstrap"}
        How the correlation of the subgroup estimates is estimated (module docstring);
        ``"auto"`` takes the first that applies.
    draws : int, default 199
        Cluster bootstrap resamples (``covariance="bootstrap"``), and ten times as many
        Romano-Wolf draws.
    seed : int or None, default 0
        Randomness of the cluster bootstrap and the Romano-Wolf draws; also given to
        the estimator when it takes a seed.
    alpha : float, optional
        Intervals of the gap have coverage ``1 - alpha``; the estimator's ``alpha``
        (0.05 by default) when not given.
    **params
        Hyperparameters of the estimator.

    Returns
    -------
    ImpactResult
        ``effects``: one row per subgroup (``term`` the subgroup, e.g. ``"simd_1"``;
        columns ``subgroup``, ``n_obs``, ``n_units``, ``n_clusters`` and the adjusted
        p-values), by event time when asked, then the ``gap`` rows.
        ``diagnostics["equality_test"]``: the joint Wald test that the subgroups'
        overall effects (with ``terms="event_time"``: their effects in the first
        post-programme event time) are equal (``F = W / q`` on ``q`` and ``C - 1`` degrees of
        freedom, ``C`` clusters); ``diagnostics["covariance"]``: their covariance;
        ``diagnostics["by_subgroup"]``: every subgroup's full effects table.

    Raises
    ------
    DataError
        When ``by`` names no column of the Panel, has missing values, or does not
        match the Panel's rows.
    DesignError
        When there are fewer than two subgroups, a unit of panel data moves between
        subgroups, a subgroup has no treated units (or its fit fails: the message
        names the subgroup), or ``gap`` names an unknown subgroup.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(40), 4),
    ...                    "year": np.tile([2001, 2002, 2003, 2004], 40)})
    >>> df["urban"] = (df.school % 2).astype(float)
    >>> df["pilot"] = ((df.school < 20) & (df.year >= 2003)).astype(int)
    >>> df["score"] = rng.normal(size=160) + (1 + 2 * df.urban) * df.pilot
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot", extra_outcomes=["urban"])
    >>> result = impact.estimate_by(panel, "did", by="urban", gap=("urban_1", "urban_0"))
    >>> result.effects.term.tolist()
    ['urban_0', 'urban_1', 'gap']
    >>> result.settings["covariance"]
    'independent'
    """
    if terms not in ("overall", "event_time"):
        raise DesignError(f"terms={terms!r}: use 'overall' or 'event_time'")
    if covariance not in COVARIANCES:
        raise DesignError(f"covariance={covariance!r}: choose from {', '.join(COVARIANCES)}")
    unknown = [a for a in adjust if a not in ADJUSTMENTS]
    if unknown:
        raise DesignError(f"unknown adjustment(s) {unknown}; choose from {', '.join(ADJUSTMENTS)}")
    if not isinstance(draws, int | np.integer) or draws < 20:
        raise DesignError(f"draws={draws!r} must be an integer of at least 20")
    name, values = _by_values(panel, by)
    levels = pd.unique(values)
    levels = sorted(levels, key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise DesignError(
            f"{name!r} takes a single value ({levels[0]!r}); subgroups need at least two"
        )
    if not panel.is_repeated_cross_section:
        _check_fixed_within_units(panel, name, values)
    labels = [_label(name, level) for level in levels]
    estimator = _estimator(method, seed, params)
    if alpha is None:
        alpha = float(getattr(estimator, "alpha", ALPHA))
    frame = panel.view()
    subpanels = [
        _subpanel(panel, frame.loc[values == level], name, label)
        for level, label in zip(levels, labels, strict=True)
    ]
    results = [
        _fit(estimator, sub, name, label) for sub, label in zip(subpanels, labels, strict=True)
    ]

    tables = [terms_table(r, terms, label) for r, label in zip(results, labels, strict=True)]
    cluster_of = cluster_labels(panel)
    used, corr = correlations(
        covariance, estimator, subpanels, results, tables, cluster_of, values, levels, draws, seed
    )
    n_clusters = len(pd.unique(cluster_of))
    df = max(n_clusters - 1, 1)
    rows, key_terms = [], sorted({t for tab in tables for t in tab.index}, key=order)
    overall_key = tables[0].index[0] if terms == "overall" else None
    for label, table, sub, result in zip(labels, tables, subpanels, results, strict=True):
        for key, row in table.iterrows():
            term = label if terms == "overall" else f"{label} {key}"
            rows.append(
                {
                    **{c: row[c] for c in EFFECT_COLUMNS if c != "term"},
                    "term": term,
                    "subgroup": label,
                    "key": key,
                    "n_obs": sub.n_obs,
                    "n_units": sub.n_units,
                    "n_clusters": result.n_clusters,
                }
            )
    effects = pd.DataFrame(rows)
    est = {k: np.array([tab["estimate"].get(k, np.nan) for tab in tables]) for k in key_terms}
    se = {k: np.array([tab["std_error"].get(k, np.nan) for tab in tables]) for k in key_terms}
    cov = {k: se[k][:, None] * corr[k] * se[k][None, :] for k in key_terms}

    # joint equality test on the overall (or every post event-time) effects
    test_key = overall_key if overall_key is not None else _first_post(key_terms)
    equality = _equality_test(est[test_key], cov[test_key], df)
    first = effects["key"] == test_key
    p = effects.loc[first, "p_value"].to_numpy(dtype=float)
    settings: dict[str, Any] = {
        "method": method,
        "by": name,
        "subgroups": tuple(labels),
        "terms": terms,
        "covariance": used,
        "adjust": tuple(adjust),
        **estimator.get_params(),
        "gap_alpha": alpha,
    }
    if used == "bootstrap":
        settings.update(bootstrap_draws=draws, bootstrap_seed=seed)
    if "holm" in adjust:
        effects.loc[first, "p_holm"] = adjust_p_values(p, "holm")
    if "bh" in adjust:
        effects.loc[first, "p_bh"] = adjust_p_values(p, "bh")
    if "romano-wolf" in adjust:
        t = est[test_key] / se[test_key]
        rng = np.random.default_rng(seed)
        z = rng.multivariate_normal(np.zeros(len(t)), corr[test_key], size=10 * draws).T
        effects.loc[first, "p_romano_wolf"] = romano_wolf(t, z)
        settings["romano_wolf_draws"] = 10 * draws
    if gap is not None:
        a, b = (_position(g, levels, labels) for g in gap)
        gap_rows = []
        for key in key_terms:
            value = est[key][a] - est[key][b]
            var = cov[key][a, a] + cov[key][b, b] - 2 * cov[key][a, b]
            term = "gap" if terms == "overall" else f"gap {key}"
            row = effect_row(term, value, float(np.sqrt(max(var, 0.0))), df=df, alpha=alpha)
            gap_rows.append({**row, "subgroup": "gap", "key": key})
        effects = pd.concat([effects, pd.DataFrame(gap_rows)], ignore_index=True)
        settings["gap"] = (labels[a], labels[b])
    if terms == "event_time":
        effects["event_time"] = [event_time(k) for k in effects["key"]]
    effects = effects.drop(columns="key")
    effects = effects[[*EFFECT_COLUMNS, *(c for c in effects.columns if c not in EFFECT_COLUMNS)]]
    by_subgroup = pd.concat(
        [r.effects.assign(subgroup=lab) for r, lab in zip(results, labels, strict=True)],
        ignore_index=True,
    )
    covariance_table = pd.DataFrame(cov[test_key], index=labels, columns=labels)
    covariance_table.insert(0, "subgroup", labels)
    overall = "gap" if gap is not None and terms == "overall" else effects["term"].iloc[0]
    return ImpactResult(
        estimator=results[0].estimator,
        effects=effects,
        settings=settings,
        diagnostics={
            "equality_test": equality,
            "covariance": covariance_table.reset_index(drop=True),
            "by_subgroup": by_subgroup,
        },
        n_obs=panel.n_obs,
        n_units=panel.n_units,
        n_clusters=n_clusters,
        overall_term=overall,
    )


def combine_subgroups(
    result: ImpactResult, weights: dict[str, float], *, term: str = "combined"
) -> ImpactResult:
    """A weighted sum of subgroup effects, ``sum_g w_g effect_g``, with its interval.

    Its standard error comes from the subgroups' joint covariance
    (``diagnostics["covariance"]`` of :func:`estimate_by`), so correlated subgroups
    (pupils sharing schools) are neither double counted nor treated as independent.
    The result has the single row ``term``: give it to
    :func:`impact.economics.appraise` to value subgroups differently, with weights
    ``reach_g * value_g / value`` and a benefit stream of ``value`` per unit.

    Parameters
    ----------
    result : ImpactResult
        A result of :func:`estimate_by` with overall terms.
    weights : mapping of subgroup term to float
        The weight of each subgroup (subgroups left out weigh 0).
    term : str, default "combined"
        The name of the combined effect.

    Returns
    -------
    ImpactResult

    Raises
    ------
    DesignError
        When ``result`` is not an overall :func:`estimate_by` result or a weight names
        an unknown subgroup.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(40), 4),
    ...                    "year": np.tile([2001, 2002, 2003, 2004], 40)})
    >>> df["urban"] = (df.school % 2).astype(float)
    >>> df["pilot"] = ((df.school < 20) & (df.year >= 2003)).astype(int)
    >>> df["score"] = rng.normal(size=160) + (1 + 2 * df.urban) * df.pilot
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot", extra_outcomes=["urban"])
    >>> by_type = impact.estimate_by(panel, by="urban")
    >>> total = combine_subgroups(by_type, {"urban_0": 10, "urban_1": 10})
    >>> bool(np.isclose(total.att.estimate, 10 * by_type.effects.estimate.sum()))
    True
    """
    settings = result.settings
    if "subgroups" not in settings or settings.get("terms") != "overall":
        raise DesignError(
            "combine_subgroups needs a result of impact.estimate_by(..., terms='overall')"
        )
    labels = list(settings["subgroups"])
    unknown = [k for k in weights if k not in labels]
    if unknown:
        raise DesignError(f"weights name unknown subgroup(s) {unknown}; subgroups: {labels}")
    w = np.array([float(weights.get(label, 0.0)) for label in labels])
    rows = result.effects.set_index("term").loc[labels]
    cov = result.diagnostics["covariance"].set_index("subgroup").loc[labels, labels]
    estimate = float(w @ rows["estimate"].to_numpy(dtype=float))
    variance = float(w @ cov.to_numpy(dtype=float) @ w)
    df = max((result.n_clusters or 2) - 1, 1)
    alpha = float(settings.get("gap_alpha", ALPHA))
    row = effect_row(term, estimate, float(np.sqrt(max(variance, 0.0))), df=df, alpha=alpha)
    return ImpactResult(
        estimator=result.estimator,
        effects=pd.DataFrame([row]),
        settings={**settings, "combined_weights": dict(zip(labels, w.tolist(), strict=True))},
        n_obs=result.n_obs,
        n_units=result.n_units,
        n_clusters=result.n_clusters,
        overall_term=term,
    )


# ---------------------------------------------------------------------------- helpers
def _by_values(panel: Panel, by: Any) -> tuple[str, np.ndarray]:
    if isinstance(by, str):
        columns = panel.view().columns
        if by not in columns:
            raise DataError(
                f"by={by!r} is not a column of the Panel (its columns are {list(columns)}); "
                "carry it with Panel.from_frame(..., extra_outcomes=[...]) or pass the "
                "values aligned with the Panel's rows"
            )
        values = panel.values(by)
        name = by
    else:
        name = str(getattr(by, "name", None) or "by")
        if isinstance(by, pd.Series) and not by.index.equals(pd.RangeIndex(panel.n_obs)):
            raise DataError(
                f"by is a Series indexed {list(by.index[:3])}...: values are matched to the "
                "Panel's rows by position (the order of panel.view(), which may differ from "
                "the frame the Panel was built from); carry the column in the Panel "
                "(covariates=[...] for labels, extra_outcomes=[...] for numbers) and pass "
                "its name, or pass values in the Panel's row order"
            )
        values = np.asarray(by)
        if values.ndim != 1 or len(values) != panel.n_obs:
            raise DataError(
                f"by has {len(values)} values but the Panel has {panel.n_obs} rows; give "
                "one value per row of panel.view()"
            )
    if pd.isna(values).any():
        raise DataError(f"{name!r} has {int(pd.isna(values).sum())} missing value(s)")
    return name, values


def _label(name: str, level: Any) -> str:
    """``"simd_1"`` for level 1 (or 1.0) of ``simd``; a string level is its own label."""
    if isinstance(level, np.generic):
        level = level.item()
    if isinstance(level, str):
        return level
    if isinstance(level, float | np.floating) and float(level).is_integer():
        level = int(level)
    return f"{name}_{level}"


def _check_fixed_within_units(panel: Panel, name: str, values: np.ndarray) -> None:
    units = panel.values(panel.unit)
    counts = pd.Series(values).groupby(units).nunique()
    moving = counts.index[counts.to_numpy() > 1]
    if len(moving):
        raise DesignError(
            f"{name!r} changes over time within unit(s) {list(moving[:5])} of "
            f"{panel.unit!r}: with panel data each unit must stay in one subgroup (use "
            "its value before the programme)"
        )


def _estimator(method: str, seed: Any, params: dict[str, Any]) -> Any:
    probe = get_estimator(method, **params)
    fields = {f.name for f in dataclasses.fields(probe)} if dataclasses.is_dataclass(probe) else ()
    if "seed" in fields and "seed" not in params:
        return get_estimator(method, **params, seed=seed)
    return probe


def _subpanel(panel: Panel, frame: pd.DataFrame, name: str, label: str) -> Panel:
    if not (frame[panel.treated].to_numpy() != 0).any():
        raise DesignError(
            f"subgroup {label!r} ({name}) has no treated rows: its effect cannot be "
            "estimated; merge it with another level or leave it out"
        )
    try:
        return rebuild(panel, frame, covariates=[c for c in panel.covariates if c != name])
    except DataError as error:
        raise DataError(f"subgroup {label!r} ({name}): {error}") from error


def _fit(estimator: Any, panel: Panel, name: str, label: str) -> ImpactResult:
    try:
        return estimator.fit(panel)
    except DesignError as error:
        raise DesignError(f"subgroup {label!r} ({name}): {error}") from error


def _first_post(keys: list[str]) -> str:
    post = [k for k in keys if event_time(k) >= 0]
    return post[0] if post else keys[-1]


def _position(value: Any, levels: list[Any], labels: list[str]) -> int:
    if value in labels:
        return labels.index(value)
    for i, level in enumerate(levels):
        if level == value:
            return i
    raise DesignError(f"gap subgroup {value!r} is not one of {labels}")


def _equality_test(est: np.ndarray, cov: np.ndarray, df: int) -> pd.DataFrame:
    g = len(est)
    contrast = np.hstack([-np.ones((g - 1, 1)), np.eye(g - 1)])
    diff = contrast @ est
    middle = contrast @ cov @ contrast.T
    if not np.all(np.isfinite(middle)) or np.linalg.matrix_rank(middle) < g - 1:
        warn(
            "the covariance of the subgroup effects is singular or undefined: no equality test",
            InferenceWarning,
        )
        wald, p = np.nan, np.nan
    else:
        from scipy import stats  # on first use (slow import)

        wald = float(diff @ np.linalg.solve(middle, diff))
        p = float(stats.f.sf(wald / (g - 1), g - 1, df))
    return pd.DataFrame(
        [{"statistic": wald / (g - 1), "wald": wald, "df1": g - 1, "df2": df, "p_value": p}]
    )
