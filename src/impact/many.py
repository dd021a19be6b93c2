"""Several outcomes of one design, with p-values adjusted for multiple testing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact.exceptions import DesignError, DesignWarning, warn
from impact.inference.multiple import adjust_p_values, joint_wild_bootstrap, romano_wolf
from impact.inference.wild import resolve_weights
from impact.panel.container import Panel
from impact.registry import get_estimator
from impact.result import EFFECT_COLUMNS, ImpactResult

__all__ = ["ADJUSTMENTS", "estimate_many"]

ADJUSTMENTS = ("holm", "bh", "romano-wolf")


def estimate_many(
    panel: Panel,
    outcomes: Sequence[str] | None = None,
    method: str = "did",
    *,
    adjust: Sequence[str] = ADJUSTMENTS,
    draws: int = 9999,
    seed: int | np.random.Generator | None = 0,
    **params: Any,
) -> ImpactResult:
    """Fit one design to several outcomes and adjust the p-values for multiplicity.

    Parameters
    ----------
    panel : Panel
        The data, carrying the outcomes (``Panel.from_frame(..., extra_outcomes=...)``).
    outcomes : sequence of str, optional
        Outcomes to analyse; all of the Panel's outcomes by default.
    method : str, default "did"
        Registered estimator.
    adjust : sequence of {"holm", "bh", "romano-wolf"}
        Adjustments to report, each as a column of ``effects``: ``p_holm`` and
        ``p_romano_wolf`` control the family-wise error rate, ``p_bh`` the false
        discovery rate (see :mod:`impact.inference.multiple`).
    draws : int, default 9999
        Joint wild bootstrap samples for Romano-Wolf (all sign vectors when fewer);
        also passed to the estimator when it takes ``draws``.
    seed : int, Generator or None, default 0
        Randomness of the joint bootstrap; also passed to the estimator when it takes
        ``seed``.
    **params
        Hyperparameters of the estimator.

    Returns
    -------
    ImpactResult
        ``effects`` has one row per outcome (``term`` is the outcome's name) with the
        estimator's overall effect, the unadjusted ``p_value`` and the adjusted
        columns; ``diagnostics["by_outcome"]`` holds every outcome's full effects
        table; ``settings["by_outcome"]`` the inference each fit used.

    Raises
    ------
    DesignError
        For an unknown adjustment, or Romano-Wolf with an estimator that does not
        expose its regression (``regression_design``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(30), 4),
    ...                    "year": np.tile([2001, 2002, 2003, 2004], 30)})
    >>> df["pilot"] = ((df.school < 15) & (df.year >= 2003)).astype(int)
    >>> for name, effect in [("maths", 1.0), ("reading", 0.0), ("attendance", 0.0)]:
    ...     df[name] = rng.normal(size=120) + effect * df.pilot
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="maths",
    ...                                 treated="pilot", extra_outcomes=["reading", "attendance"])
    >>> result = impact.estimate_many(panel, draws=999)
    >>> result.effects[["term", "p_holm"]].round(3).term.tolist()
    ['maths', 'reading', 'attendance']
    >>> bool((result.effects.p_holm >= result.effects.p_value).all())
    True
    """
    outcomes = tuple(panel.outcomes if outcomes is None else outcomes)
    if not outcomes:
        raise DesignError("give at least one outcome")
    unknown = [a for a in adjust if a not in ADJUSTMENTS]
    if unknown:
        raise DesignError(
            f"unknown adjustment(s) {unknown}; choose from {', '.join(map(repr, ADJUSTMENTS))}"
        )
    cls_params = dict(params)
    probe = get_estimator(method, **cls_params)
    fields = (
        {f.name for f in dataclasses.fields(probe)} if dataclasses.is_dataclass(probe) else set()
    )
    if "seed" in fields:
        cls_params.setdefault("seed", seed)
    if "draws" in fields:
        cls_params.setdefault("draws", draws)
    estimator = get_estimator(method, **cls_params)
    panels = [panel.with_outcome(outcome) for outcome in outcomes]
    results = [estimator.fit(p) for p in panels]

    rows = []
    for outcome, result in zip(outcomes, results, strict=True):
        effects = result.effects
        row = effects.loc[effects["term"] == result.overall_term].iloc[0]
        rows.append({**row[list(EFFECT_COLUMNS)].to_dict(), "term": outcome})
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    p = table["p_value"].to_numpy(dtype=float)
    settings: dict[str, Any] = {
        "method": method,
        "outcomes": outcomes,
        "adjust": tuple(adjust),
        **{k: v for k, v in estimator.get_params().items()},
        "by_outcome": {
            o: r.settings.get("inference_used") for o, r in zip(outcomes, results, strict=True)
        },
    }
    if "holm" in adjust:
        table["p_holm"] = adjust_p_values(p, "holm")
    if "bh" in adjust:
        table["p_bh"] = adjust_p_values(p, "bh")
    if "romano-wolf" in adjust:
        if not hasattr(estimator, "regression_design"):
            raise DesignError(
                f"Romano-Wolf needs a joint bootstrap of the regression, which estimator "
                f"{method!r} does not expose; use adjust=('holm', 'bh')"
            )
        designs = [estimator.regression_design(p) for p in panels]
        # the estimator's bootstrap weights, so that p_wild is its wild p-value
        kind = getattr(estimator, "bootstrap_weights", "auto")
        t_stats, t_draws, enumerated = joint_wild_bootstrap(
            designs, draws=draws, weights=kind, seed=seed
        )
        table["p_romano_wolf"] = romano_wolf(t_stats, t_draws)
        table["p_wild"] = np.mean(
            np.abs(t_draws) >= np.abs(t_stats)[:, None] * (1 - 1e-10) - 1e-12, axis=1
        )
        settings.update(
            romano_wolf_draws=t_draws.shape[1],
            romano_wolf_enumerated=enumerated,
            romano_wolf_weights=resolve_weights(kind, len(np.unique(designs[0].cluster_codes))),
            romano_wolf_seed=seed if isinstance(seed, int | None) else "generator",
        )
        if len(outcomes) == 1:
            warn("Romano-Wolf with a single outcome is the plain wild bootstrap", DesignWarning)
    by_outcome = pd.concat(
        [r.effects.assign(outcome=o) for o, r in zip(outcomes, results, strict=True)],
        ignore_index=True,
    )
    first = results[0]
    return ImpactResult(
        estimator=first.estimator,
        effects=table,
        settings=settings,
        diagnostics={"by_outcome": by_outcome},
        n_obs=first.n_obs,
        n_units=first.n_units,
        n_clusters=first.n_clusters,
        overall_term=outcomes[0],
    )
