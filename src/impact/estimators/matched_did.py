"""Matched difference-in-differences: match on pre-programme trajectories, then difference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from impact._defaults import ALPHA
from impact.estimators._base import Estimator, check_alpha, check_choice
from impact.estimators._matching_data import unit_data
from impact.estimators.did import require_single_adoption
from impact.estimators.matching import MatchedComparison, build_result, match_units
from impact.exceptions import DesignError
from impact.matching.sensitivity import DEFAULT_GAMMAS
from impact.registry import register
from impact.result import ImpactResult

if TYPE_CHECKING:
    from impact.data import Panel

__all__ = ["MatchedDiD"]


@register("matched_did")
@dataclass(frozen=True, kw_only=True)
class MatchedDiD(Estimator):
    """Difference-in-differences on a comparison group matched on pre-programme outcomes.

    Treated units are matched to never-treated units on their covariates and their
    last ``pre_periods`` pre-programme outcomes; the ATT is then the difference, between
    the matched groups, of the change in mean outcome from before to after adoption
    (``mean post - mean pre`` per unit, all pre-programme periods). Matching removes
    observed differences and differences in level and recent trajectory; differencing
    removes the common background trend and any remaining fixed gap.

    Parameters
    ----------
    pre_periods : int, default 3
        Number of pre-programme outcomes (the last ones before adoption) to match on;
        fewer when the panel has fewer pre-periods.
    method : {"nearest", "cem", "weighting"}, default "nearest"
        How the comparison group is built (see :class:`MatchedComparison`).
    distance : str, default "euclidean"
        Distance for nearest-neighbour matching: ``"euclidean"`` (on covariates and
        lags scaled to unit variance), ``"propensity"``, ``"mahalanobis"`` or a
        covariate name. Outcome lags are strongly correlated; the Euclidean distance
        weighs their common level fully, while the Mahalanobis distance down-weights
        it in favour of period-to-period noise, and in our Monte Carlo study
        (``validation/matching_monte_carlo.py``) left more bias.
    ratio : int, default 1
        Controls per treated unit.
    replace : bool, default False
        Match with replacement. Treated units selected for high (or low) scores sit in
        the tail of the controls' distribution; 1:1 matching without replacement then
        runs out of close controls, and only the regression adjustment (default)
        removes the resulting bias (see the validation study).
    order : {"largest", "smallest", "data", "closest"}, optional
        Greedy order (default: ``"closest"`` for multivariate distances, ``"largest"``
        for a scalar score).
    caliper : float, optional
        Largest allowed distance (see :class:`MatchedComparison`).
    exact : sequence of str, default ()
        Covariates to match exactly on.
    adjustment : {"regression", "none"}, default "regression"
        ``"regression"``: the reported ``att`` corrects the remaining differences
        between matched units by a regression of the change on the matching covariates
        (the Abadie-Imbens bias correction with replacement, a regression on the
        matched sample otherwise); the plain matched DiD is the ``att_unadjusted`` row.
        Nearest-neighbour matching on several continuous lags leaves small
        discrepancies that bias the plain estimate (see the validation study).
    gammas : sequence of float
        Gammas for the Rosenbaum bounds of the matched differences.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.

    Notes
    -----
    **Inference.** The matching is taken as given, and the standard error accounts for
    the matched structure: without replacement (the default, and for CEM) a
    regression of the unit's change on treatment (and the matching covariates) in the
    matched sample with standard errors clustered by matched set (CR1, t with
    ``G - 1`` degrees of freedom); with replacement the Abadie-Imbens (2006) variance
    of the matched mean change, whose second term counts how often each control is
    reused; with weighting the sandwich variance of the weighted means. Single
    adoption only: with staggered adoption a :class:`~impact.exceptions.DesignError`
    is raised.

    **Regression to the mean.** Matching on pre-programme outcomes removes bias when
    the programme selected units on those observed outcomes (and covariates). When it
    selected them on a latent level that the outcomes measure with noise, matched
    controls regress towards their own group's mean after matching, and some bias
    remains (Daw and Hatfield 2018, *Health Services Research* 53:4138); the validation
    study shows both cases.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(2)
    >>> level = rng.normal(size=60)
    >>> df = pd.DataFrame({"school": np.repeat(np.arange(60), 6),
    ...                    "year": np.tile(np.arange(2015, 2021), 60)})
    >>> treated_school = df.school.map(pd.Series(level + rng.normal(size=60) > 0.5))
    >>> df["pilot"] = (treated_school & (df.year >= 2018)).astype(int)
    >>> df["score"] = (df.school.map(pd.Series(level)) + 0.2 * (df.year - 2015)
    ...                + 1.5 * df.pilot + rng.normal(0, 0.1, len(df)))
    >>> panel = impact.Panel.from_frame(df, unit="school", time="year", outcome="score",
    ...                                 treated="pilot")
    >>> result = impact.MatchedDiD().fit(panel)
    >>> round(result.att.estimate, 1)
    1.5
    """

    pre_periods: int = 3
    method: Literal["nearest", "cem", "weighting"] = "nearest"
    distance: str = "euclidean"
    ratio: int = 1
    replace: bool = False
    order: Literal["largest", "smallest", "data", "closest"] | None = None
    caliper: float | None = None
    exact: Sequence[str] = ()
    adjustment: Literal["regression", "none"] = "regression"
    gammas: Sequence[float] = DEFAULT_GAMMAS
    alpha: float = ALPHA

    def __post_init__(self) -> None:
        if not (
            isinstance(self.pre_periods, int | np.integer)
            and not isinstance(self.pre_periods, bool)
            and self.pre_periods >= 1
        ):
            raise DesignError(f"pre_periods={self.pre_periods!r} must be a positive integer")
        check_choice("method", self.method, ("nearest", "cem", "weighting"))
        check_alpha(self.alpha)
        self._matching()  # validates the remaining hyperparameters

    def _matching(self) -> MatchedComparison:
        return MatchedComparison(
            method=self.method,
            distance=self.distance,
            ratio=self.ratio,
            replace=self.replace,
            order=self.order,
            caliper=self.caliper,
            exact=self.exact,
            adjustment=self.adjustment,
            pre_period_outcomes=self.pre_periods,
            gammas=self.gammas,
            alpha=self.alpha,
        )

    def fit(self, panel: Panel) -> ImpactResult:
        """Match on pre-programme outcomes, then estimate the DiD on the matched sample.

        Parameters
        ----------
        panel : Panel
            Single-adoption panel with never-treated units and at least one period
            before adoption.

        Returns
        -------
        ImpactResult
            ``effects`` holds ``att`` (and ``att_unadjusted``); ``paths`` the matched
            treated units' path and the comparison path shifted by the pre-programme
            gap (unadjusted); diagnostics as for
            :class:`MatchedComparison` (balance on the matching covariates, sample
            sizes, sensitivity, matches).

        Raises
        ------
        DesignError
            For a cross-section, staggered adoption, no never-treated units, units
            missing a pre-period outcome used for matching, or every treated unit
            dropped by the caliper.
        """
        design = "matched difference-in-differences"
        if panel.is_cross_section:
            raise DesignError(
                f"{design} needs outcomes before and after adoption, but the Panel holds a "
                f"single period of {panel.time!r}; use MatchedComparison for a cross-section"
            )
        n_pre = int((panel.periods < require_single_adoption(panel, design)).sum())
        matching = self._matching()
        if n_pre < self.pre_periods:
            matching = MatchedComparison(**{**matching.get_params(), "pre_period_outcomes": n_pre})
        data = unit_data(panel, pre_outcomes=matching.pre_period_outcomes, design=design)
        matched = match_units(matching, data)
        change = data.outcome - data.pre_outcome  # type: ignore[operator]
        result = build_result(
            matching, panel, matched, change, design=design, name=self.name, difference=True
        )
        settings = {**self.get_params(), **{
            k: v for k, v in result.settings.items() if k not in matching.get_params()
        }}  # fmt: skip
        settings["pre_periods_used"] = matching.pre_period_outcomes
        return ImpactResult(
            estimator=self.name,
            effects=result.effects,
            settings=settings,
            paths=result.paths,
            diagnostics=dict(result.diagnostics),
            n_obs=result.n_obs,
            n_units=result.n_units,
            n_clusters=result.n_clusters,
        )
