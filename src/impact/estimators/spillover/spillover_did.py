"""Difference-in-differences separating direct and spillover effects (Butts 2021).

When a programme reaches comparison units too (services shared across schools, families
with children in two schools), the plain DiD compares the treated with partly treated
units and is biased towards zero. Butts ("Difference-in-differences with spatial
spillovers", 2021) adds, for each ring of exposure ``k``, the indicator
``S_k,it = 1{unit i is an untreated unit in ring k} * 1{t >= adoption}`` to the two-way
fixed effects regression::

    y_it = a_i + l_t + tau * D_it + sum_k delta_k * S_k,it + X_it g + e_it

so that the period effects ``l_t`` are identified by the units that are neither treated
nor exposed: ``tau`` is the direct effect on the treated, ``delta_k`` the spillover
effect on untreated units of ring ``k``, each against the unexposed counterfactual.
With one adoption date the estimates equal diff-diff's ``SpilloverDiD`` (its two-stage
Gardner form coincides with the one-stage regression without staggering); the standard
errors here are the one-stage cluster-robust ones, diff-diff's carry Gardner's
first-stage correction (about 1% apart on the reference data of the tests). Staggered
adoption (Butts 2021, section 5) is not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.estimators._adoption import require_single_adoption
from impact.estimators._base import Estimator, check_alpha, check_inference_fields
from impact.exceptions import DataError, DesignError, DesignWarning, warn
from impact.inference.coefficient import MIN_CLUSTERS, RegressionDesign, infer_coefficient
from impact.registry import register
from impact.result import ImpactResult

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["SpilloverDiD"]

_METHODS = ("auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid")


@register("spillover_did")
@dataclass(frozen=True, kw_only=True)
class SpilloverDiD(Estimator):
    """Direct and spillover effects of a programme with one adoption date (Butts 2021).

    Parameters
    ----------
    exposure : str, optional
        Column of the Panel saying how exposed each untreated unit is: 0 for units
        beyond the reach of the programme (the counterfactual), a positive number for
        exposed ones (1 for "neighbour of a treated school", the share of its cluster
        that is treated, or the ring 1, 2, ... counted outwards). Read from the
        rows from adoption on (earlier rows may hold 0); it must be the same in every
        such row of a unit. Carry it with ``Panel.from_frame(...,
        extra_outcomes=["exposure"])``. Without it no spillover is modelled (a
        :class:`~impact.exceptions.DesignWarning` says so) and the estimate is the
        plain DiD's.
    rings : bool, default False
        Estimate one spillover effect per distinct positive exposure value (terms
        ``spillover_ring_<value>``) instead of one for all exposed units
        (``spillover``).
    inference : {"auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid"}, default "auto"
        As for :class:`~impact.estimators.DifferenceInDifferences`, for each term
        (clusters are the Panel's, units by default).
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    min_clusters, draws, bootstrap_weights, seed
        As for :class:`~impact.estimators.DifferenceInDifferences`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(60), 4),
    ...                    "year": np.tile([2001, 2002, 2003, 2004], 60)})
    >>> df["near"] = ((df.school >= 20) & (df.school < 40)).astype(float)
    >>> df["pilot"] = ((df.school < 20) & (df.year >= 2003)).astype(int)
    >>> post = (df.year >= 2003).astype(float)
    >>> df["score"] = 2 * df.pilot + 1 * df.near * post + rng.normal(0, 0.01, 240)
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot", extra_outcomes=["near"])
    >>> result = impact.SpilloverDiD(exposure="near", inference="cr1").fit(panel)
    >>> result.effects.set_index("term").estimate.round(1).to_dict()
    {'att': 2.0, 'spillover': 1.0}
    """

    exposure: str | None = None
    rings: bool = False
    inference: Literal["auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid"] = "auto"
    alpha: float = ALPHA
    min_clusters: int = MIN_CLUSTERS
    draws: int = 9999
    bootstrap_weights: Literal["auto", "rademacher", "webb"] = "auto"
    seed: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        check_inference_fields(self, _METHODS)
        if self.exposure is not None and not isinstance(self.exposure, str):
            raise DesignError(f"exposure={self.exposure!r} must name a column of the Panel")

    def fit(self, panel: Panel) -> ImpactResult:
        """Estimate the direct and spillover effects on ``panel``.

        Parameters
        ----------
        panel : Panel
            Single-adoption panel or repeated cross-section carrying the exposure column.

        Returns
        -------
        ImpactResult
            ``effects``: ``att`` (the direct effect on treated units) then
            ``spillover`` (or one row per ring), with the counts of units behind each.

        Raises
        ------
        DataError
            When the exposure column is missing, not numeric, negative or varies within
            a unit after adoption.
        DesignError
            For staggered adoption, or when no unit is left unexposed and untreated.
        """
        design, info = self._prepare(panel)
        rows = []
        first = None
        for term in info["terms"]:
            inference = infer_coefficient(
                design.y,
                design.X,
                design.names,
                unit_codes=design.unit_codes,
                cluster_codes=design.cluster_codes,
                weights=design.weights,
                term=term,
                method=self.inference,
                alpha=self.alpha,
                seed=self.seed,
                draws=self.draws,
                bootstrap_weights=self.bootstrap_weights,
                min_clusters=self.min_clusters,
            )
            first = first or inference
            rows.append(
                {
                    "term": term,
                    "estimate": inference.estimate,
                    "std_error": inference.std_error,
                    "ci_lower": inference.ci_lower,
                    "ci_upper": inference.ci_upper,
                    "p_value": inference.p_value,
                    "n_units": info["counts"][term],
                    "inference_used": inference.method,
                }
            )
        settings = {
            **self.get_params(),
            "adoption_period": info["adoption"],
            "n_unexposed_units": info["n_unexposed"],
            "cluster": panel.cluster or panel.unit,
            **first.to_settings(),
        }
        n_clusters = len(np.unique(design.cluster_codes))
        return ImpactResult(
            estimator=self.name,
            effects=pd.DataFrame(rows),
            settings=settings,
            n_obs=panel.n_obs,
            n_units=panel.n_units,
            n_clusters=n_clusters,
        )

    def regression_design(self, panel: Panel) -> RegressionDesign:
        """The regression fitted on ``panel`` (term ``att``, the direct effect)."""
        return self._prepare(panel)[0]

    def _prepare(self, panel: Panel) -> tuple[RegressionDesign, dict]:
        if panel.is_staggered:
            raise DesignError(
                f"treatment starts in {len(panel.cohorts)} different periods: the spillover "
                "DiD handles one adoption date (staggered rings, Butts 2021 section 5, are "
                "not implemented); fit it to one adoption cohort and its comparison units, "
                "or use 'staggered_did' without spillovers"
            )
        adoption = require_single_adoption(panel, "spillover DiD")
        unit_codes, unit_levels, time_codes, time_levels = panel.codes()
        times = panel.values(panel.time)
        post = np.asarray(pd.Series(times) >= adoption)
        d = np.asarray(panel.values(panel.treated), dtype=float)
        cohort = panel.cohort_view().reindex(unit_levels).to_numpy()
        treated_unit = ~pd.isna(cohort)[unit_codes]
        ring = self._rings(panel, unit_codes, len(unit_levels), post, treated_unit)
        exposed_row = (ring[unit_codes] > 0) & ~treated_unit
        if self.exposure is None:
            warn(
                "no exposure column given: spillovers are not modelled and the estimate "
                "is the plain DiD's; name the column with SpilloverDiD(exposure=...)",
                DesignWarning,
            )
        elif not exposed_row.any():
            warn(
                f"no untreated unit has a positive {self.exposure!r}: no spillover effect "
                "is estimated",
                DesignWarning,
            )
        unexposed = ~treated_unit & ~exposed_row
        if not unexposed.any():
            raise DesignError(
                f"every untreated unit is exposed ({self.exposure!r} > 0): no unit is left "
                "to stand for the counterfactual; narrow the exposure (an inner ring)"
            )
        if not (unexposed & post).any() or not (unexposed & ~post).any():
            raise DesignError(
                "the unexposed comparison units are not observed both before and after "
                f"adoption in {adoption!r}"
            )
        levels = np.unique(ring[ring > 0]) if self.rings else np.array([1.0])
        columns, terms, counts = [d], ["att"], {"att": int(np.unique(unit_codes[d > 0]).size)}
        for level in levels:
            member = exposed_row & ((ring[unit_codes] == level) if self.rings else True)
            if not member.any():
                continue
            term = f"spillover_ring_{_plain(level)}" if self.rings else "spillover"
            columns.append((member & post).astype(float))
            terms.append(term)
            counts[term] = int(np.unique(unit_codes[member]).size)
        names = list(terms)
        if panel.covariates:
            covariates = panel.covariate_matrix()
            covariates = covariates.drop(columns=[c for c in covariates if c == self.exposure])
            columns.extend(covariates.to_numpy(dtype=float).T)
            names.extend(covariates.columns)
        dummies = np.zeros((len(times), len(time_levels) - 1))
        rows = time_codes > 0
        dummies[np.flatnonzero(rows), time_codes[rows] - 1] = 1.0
        names.extend(f"period[{level}]" for level in time_levels[1:])
        design = RegressionDesign(
            y=np.asarray(panel.values(panel.outcome), dtype=float),
            X=np.column_stack([*columns, dummies]),
            names=tuple(names),
            unit_codes=unit_codes,
            cluster_codes=panel.cluster_codes(),
            weights=panel.weight_values(),
            term="att",
            time_codes=time_codes,
        )
        info = {
            "adoption": adoption,
            "terms": terms,
            "counts": counts,
            "n_unexposed": int(np.unique(unit_codes[unexposed]).size),
        }
        return design, info

    def _rings(self, panel, unit_codes, n_units, post, treated_unit) -> np.ndarray:
        """Each unit's exposure after adoption (0: unexposed); treated units 0."""
        if self.exposure is None:
            return np.zeros(n_units)
        if self.exposure not in panel.view().columns:
            raise DataError(
                f"exposure column {self.exposure!r} is not in the Panel; carry it with "
                f"Panel.from_frame(..., extra_outcomes=[{self.exposure!r}])"
            )
        values = np.asarray(panel.values(self.exposure), dtype=float)
        if not np.all(np.isfinite(values)) or (values < 0).any():
            raise DataError(f"exposure column {self.exposure!r} must be finite and >= 0")
        keep = post & ~treated_unit
        frame = pd.DataFrame({"u": unit_codes[keep], "v": values[keep]})
        spread = frame.groupby("u")["v"].agg(["min", "max"])
        varying = spread.index[spread["min"].to_numpy() != spread["max"].to_numpy()]
        if len(varying):
            units = list(panel.codes()[1][varying[:5]])
            raise DataError(
                f"exposure {self.exposure!r} varies after adoption within unit(s) {units}: "
                "give each untreated unit one exposure (its ring) from adoption on"
            )
        ring = np.zeros(n_units)
        ring[spread.index.to_numpy()] = spread["max"].to_numpy()
        return ring


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
