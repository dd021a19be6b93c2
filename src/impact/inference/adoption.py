"""Randomization inference over adoption dates, for staggered (or single) adoption.

Under the sharp null hypothesis that the programme changed no outcome, every outcome
would have been the same whichever units (or clusters) had adopted when. Permuting
the adoption dates (cohorts, never-treated included) across the units that were
assigned them, and re-estimating each time, gives the exact distribution of the
estimate under that null. The p-value is the share of permutations whose estimate is
at least as large in absolute value as the one observed. Every distinct permutation is
used when they number no more than ``draws``; otherwise ``draws`` random ones are, with
the observed assignment counted among them (``(1 + #{as extreme}) / (1 + draws)``,
valid in finite samples).

Each permutation re-fits the estimator, so this costs ``draws`` fits: use a few
hundred draws on pilot-sized data. Any estimator of the package can be used (e.g.
:class:`~impact.estimators.StaggeredDiD`, the event study); its own inference is
switched to the cheapest option inside the permutations, since only the estimate is
used.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DesignError, ImpactWarning
from impact.inference.randomization import RandomizationTest

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["adoption_randomization_test"]

_CHEAP = {"auto": "cr1", "wild": "cr1", "randomization": "cr1", "cr2": "cr1", "cr3": "cr1"}


def adoption_randomization_test(
    estimator: Any,
    panel: Panel,
    *,
    term: str = "att",
    draws: int = 199,
    seed: int | np.random.Generator | None = 0,
) -> RandomizationTest:
    """Test the sharp null of no effect by permuting adoption dates.

    Parameters
    ----------
    estimator : Estimator
        Any estimator of the package, with its hyperparameters.
    panel : Panel
        The data. Without a cluster column the dates are permuted across units; with
        one, across clusters, which must then each hold a single adoption date.
    term : str, default "att"
        Row of the estimator's ``effects`` used as the statistic.
    draws : int, default 199
        Random permutations (all distinct ones when they are no more).
    seed : int, Generator or None, default 0
        Randomness of the permutations.

    Returns
    -------
    RandomizationTest
        ``estimate`` and ``p_value``; the interval is not computed (``nan``).

    Raises
    ------
    DesignError
        When a cluster holds units with different adoption dates.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(6), 3), "t": np.tile(np.arange(3), 6)})
    >>> df["g"] = np.select([df.u < 1, df.u < 2], [1, 2], 0)
    >>> df["y"] = df.u + 5.0 * ((df.g > 0) & (df.t >= df.g)) + rng.normal(0, 0.1, 18)
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    >>> test = adoption_randomization_test(impact.StaggeredDiD(), panel, draws=99)
    >>> test.enumerated, test.draws, round(test.p_value, 4)
    (True, 30, 0.0333)
    """
    if not (isinstance(draws, int) and draws >= 19):
        raise DesignError(f"draws={draws!r} must be an integer >= 19")
    frame = panel.frame
    cohort = panel.cohort
    level = panel.cluster or panel.unit
    unit_level = frame.groupby(panel.unit, sort=True)[level].first()
    if panel.cluster:
        dates = pd.DataFrame({"c": unit_level, "g": cohort.reindex(unit_level.index)})
        per = dates.groupby("c", sort=True)["g"].agg(lambda s: s.nunique(dropna=False))
        if (per > 1).any():
            bad = per.index[per > 1][0]
            raise DesignError(
                f"cluster {bad!r} of {panel.cluster!r} holds units with different adoption "
                "dates; permute across units (build the Panel without cluster) instead"
            )
        assigned = dates.groupby("c", sort=True)["g"].first()
    else:
        assigned = cohort.reindex(unit_level.index)
    labels = assigned.index
    values = assigned.to_numpy()
    codes, levels = pd.factorize(pd.Series(values), use_na_sentinel=False)
    counts = np.bincount(codes)
    n_distinct = math.factorial(len(codes)) // math.prod(math.factorial(int(c)) for c in counts)
    inner = _cheap(estimator)
    observed = _estimate(inner, panel, frame, level, labels, values, term)
    if n_distinct <= draws:
        assignments = list(_distinct_permutations(codes))
        enumerated = True
    else:
        rng = np.random.default_rng(seed)
        assignments = [rng.permutation(codes) for _ in range(draws)]
        enumerated = False
    stats = np.array(
        [
            _estimate(inner, panel, frame, level, labels, np.asarray(levels)[a], term)
            for a in assignments
        ]
    )
    # ties up to rounding, relative to the statistics' own size (an absolute floor
    # would count genuinely smaller statistics of an outcome in small units as ties)
    tol = 1e-9 * max(abs(observed), float(np.max(np.abs(stats), initial=0.0)))
    extreme = int(np.sum(np.abs(stats) >= abs(observed) - tol))
    p = extreme / len(stats) if enumerated else (1 + extreme) / (1 + len(stats))
    n_treated = int(np.sum(~pd.isna(values)))
    return RandomizationTest(
        estimate=observed,
        p_value=float(min(p, 1.0)),
        ci_lower=float("nan"),
        ci_upper=float("nan"),
        draws=len(stats),
        enumerated=enumerated,
        n_treated_clusters=n_treated,
        n_clusters=len(values),
    )


def _cheap(estimator: Any) -> Any:
    """The estimator with its cheapest inference (only the estimate is used)."""
    method = getattr(estimator, "inference", None)
    if getattr(estimator, "bootstrap", False) is True or method in ("auto", "bootstrap"):
        try:  # influence-function estimators (StaggeredDiD)
            return dataclasses.replace(estimator, inference="analytic", bootstrap=False)
        except (TypeError, ValueError):
            pass
    if method in _CHEAP:
        return dataclasses.replace(estimator, inference=_CHEAP[method])
    return estimator


def _estimate(estimator, panel, frame, level, labels, values, term) -> float:
    """The estimate with adoption dates ``values`` given to ``labels`` of ``level``."""
    first = frame[level].map(pd.Series(values, index=labels))
    time = frame[panel.time]
    treated = (first.notna() & (time >= first)).astype(int)
    data = frame.assign(_adopted=treated.to_numpy())
    new = type(panel).from_frame(
        data,
        unit=panel.unit,
        time=panel.time,
        outcome=panel.outcome,
        treated="_adopted",
        covariates=panel.covariates,
        cluster=panel.cluster,
        weights=panel.weights,
        repeated_cross_section=panel.is_repeated_cross_section,
        fixed_effects=panel.fixed_effects,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpactWarning)
        result = estimator.fit(new)
    return float(result.effect(term).estimate)


def _distinct_permutations(codes: np.ndarray):
    """Every distinct arrangement of the multiset ``codes`` (small cases only)."""
    counts = np.bincount(codes)
    n = len(codes)

    def place(positions: tuple[int, ...], k: int):
        if k == len(counts):
            yield ()
            return
        for chosen in itertools.combinations(positions, int(counts[k])):
            rest = tuple(p for p in positions if p not in set(chosen))
            for tail in place(rest, k + 1):
                yield (chosen, *tail)

    for parts in place(tuple(range(n)), 0):
        out = np.empty(n, dtype=codes.dtype)
        for k, chosen in enumerate(parts):
            out[list(chosen)] = k
        yield out
