"""The :class:`Scenario`: everything the simulator needs to draw one synthetic cohort.

A scenario is a frozen set of numbers with units: how many schools and years, who is
treated and when, how the outcome is generated, how the programme's effect unfolds, and
what goes missing. :func:`impact.simulations.simulate` turns it and a seed into data
whose true effect is known.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import numpy as np

from impact.exceptions import DesignError

__all__ = ["OUTCOMES", "PROFILES", "SELECTIONS", "Scenario"]

OUTCOMES: tuple[str, ...] = ("continuous", "binary", "count")
"""Outcome families: an attainment score, a yes/no event (exclusion), a count with exposure."""

PROFILES: tuple[str, ...] = ("constant", "ramp", "decay")
"""Named effect profiles over event time (a callable of event time is also accepted)."""

SELECTIONS: tuple[str, ...] = ("random", "covariate", "level", "trend", "factor")
"""How units are selected into treatment."""

ProfileLike = Literal["constant", "ramp", "decay"] | Callable[[np.ndarray], np.ndarray]
TrendLike = float | Callable[[np.ndarray], np.ndarray]
ViolationLike = Literal["linear", "quadratic"] | Callable[[np.ndarray], np.ndarray]
VIOLATION_SHAPES: tuple[str, ...] = ("linear", "quadratic")
"""Named shapes of a violation of parallel trends (a callable of event time also works)."""


# fields that hold one real number (a share, a standard deviation, an effect size)
_REAL_FIELDS = (
    "treated_share",
    "baseline",
    "unit_sd",
    "unit_trend_sd",
    "covariate_effect",
    "covariate_trend",
    "noise_sd",
    "rho",
    "factor_sd",
    "factor_trend",
    "pupil_sd",
    "pupil_noise_sd",
    "exposure",
    "exposure_cv",
    "selection_strength",
    "effect",
    "half_life",
    "heterogeneity",
    "anticipation_share",
    "spillover_share",
    "subgroup_share",
    "subgroup_effect",
    "attrition",
    "attrition_on_outcome",
    "violation",
)


def _fail(message: str) -> None:
    raise DesignError(message)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A synthetic study design with a known truth.

    Every quantity on the outcome's scale is in outcome units for a continuous
    outcome, on the log-odds scale for a binary outcome and on the log-rate scale for
    a count (so ``effect=-0.29`` on counts is a 25% reduction in the rate). Periods are
    counted from 1 ("year 4 of 8" is ``adoption_period=4, n_periods=8``); the data
    label them ``first_period, first_period + 1, ...``.

    Structure
    ---------
    n_units : int, default 100
        Number of units of assignment (schools); they are labelled ``1..n_units``.
    n_periods : int, default 8
        Number of periods (years).
    first_period : int, default 2001
        Calendar label of period 1 (a year).
    pupils_per_unit : int or None, default None
        Pupils per unit and period. ``None``: one row per unit and period (school-level
        outcomes). Otherwise rows are pupils nested in units, and units are the
        clusters.
    follow_pupils : bool, default False
        With pupils: ``False`` draws a new cohort of pupils every period (repeated
        cross-sections); ``True`` follows the same pupils over all periods (a panel of
        pupils, whose unit in the Panel is the pupil, clustered by school).

    Adoption
    --------
    adoption_period : int, default 5
        Period (1-based) in which treated units start the programme, when ``cohorts``
        is empty.
    treated_share : float, default 0.5
        Share of units treated (0-1), when ``cohorts`` is empty; the count is
        ``round(treated_share * n_units)``.
    cohorts : tuple of (int, float) pairs, default ()
        Staggered adoption: ``(start period, share of units)`` per cohort. Units not in
        a cohort are never treated; shares summing to 1 leave no never-treated units.

    Outcome model
    -------------
    outcome : {"continuous", "binary", "count"}, default "continuous"
        Outcome family. Binary outcomes are Bernoulli with a logistic link, counts
        Poisson with a log link and an exposure.
    baseline : float, default 0.0
        Mean outcome index in period 1 (outcome units, log-odds or log rate per unit of
        exposure).
    trend : float or callable, default 0.5
        Background change common to all units: a float is a linear rise in outcome
        units per period (the default mimics a steady national rise); a callable
        receives the periods since the first (a float array ``0, 1, ...``) and returns
        the common component for each.
    unit_sd : float, default 1.0
        Standard deviation of the permanent unit effects (outcome units).
    unit_trend_sd : float, default 0.0
        Standard deviation of unit-specific linear trends (outcome units per period);
        non-zero trends with ``selection="trend"`` break parallel trends.
    covariate_effect : float, default 0.0
        Effect on the outcome of the unit covariate ``x`` (outcome units per standard
        deviation of ``x``).
    covariate_trend : float, default 0.0
        Extra change per period per standard deviation of ``x`` (outcome units per
        period per SD): trends then differ with ``x`` and parallel trends hold only
        conditionally on ``x``.
    noise_sd : float, default 1.0
        Standard deviation of the unit-period shock (outcome units), stationary AR(1)
        over periods with autocorrelation ``rho``.
    rho : float, default 0.0
        AR(1) coefficient of the unit-period shock (strictly between -1 and 1).
    n_factors : int, default 0
        Interactive fixed effects: ``n_factors`` latent trends (random walks whose
        steps have standard deviation ``factor_sd``) on which each unit loads with its
        own standard normal loadings, so units follow different latent paths and
        parallel trends fail unless the treated load like the comparisons (the setting
        of synthetic control and synthetic DiD).
    factor_sd : float, default 0.5
        Standard deviation of the factors' steps per period (outcome units per unit of
        loading).
    factor_trend : float, default 0.0
        Drift of the first factor per period: units loading more on it rise faster, so
        selection on that loading (``selection="factor"``) biases comparisons with the
        average unit in a known direction.
    pupil_sd : float, default 0.0
        With pupils: standard deviation of each pupil's permanent deviation (outcome
        units).
    pupil_noise_sd : float, default 1.0
        With pupils: standard deviation of the pupil-period noise (outcome units).
    exposure : float, default 1.0
        Count outcomes: mean exposure per row (pupils on the roll when rows are
        schools); the expected count is ``exposure * exp(index)``.
    exposure_cv : float, default 0.0
        Count outcomes: coefficient of variation of the units' exposure (log-normal
        around ``exposure``, fixed over periods).

    Selection
    ---------
    selection : {"random", "covariate", "level", "trend"}, default "random"
        What drives selection into treatment: nothing, the covariate ``x``, the unit
        effect (``level``: e.g. struggling schools chosen), or the unit's own trend
        (``trend``: improving schools chosen, which breaks parallel trends), or the
        unit's loading on the first latent factor (``factor``, with ``n_factors``).
    selection_strength : float, default 1.0
        Logistic selection strength: units are ranked by ``strength * z + e`` (``z``
        the standardised driver, ``e`` standard logistic noise) and the top ranks are
        treated, earliest cohorts first. Negative values select low ``z``.

    Effect
    ------
    effect : float, default 0.0
        The full effect of the programme (outcome units, log-odds or log rate ratio).
    profile : {"constant", "ramp", "decay"} or callable, default "constant"
        Share of ``effect`` reached at each event time ``e`` (0 is the first treated
        period): ``"constant"`` 1; ``"ramp"`` ``min(e / 2, 1)``, zero in year 1 and full
        by year 3; ``"decay"`` ``0.5 ** (e / half_life)``; a callable maps an integer
        array of event times to shares.
    half_life : float, default 2.0
        Half-life of a decaying effect (periods).
    heterogeneity : float, default 0.0
        Change in the unit's effect per standard deviation of the moderator
        ``climate`` (an organisational-climate score), in outcome units.
    anticipation : int, default 0
        Periods before adoption in which units already respond.
    anticipation_share : float, default 0.5
        Share of ``effect`` reached in the anticipation periods.
    spillover_units : int or tuple of int, default 0
        Never-treated units reached by the programme: a number (chosen at random among
        the never-treated) or the labels of the units (kept out of treatment).
    spillover_share : float, default 0.0
        Share of the effect they receive from the first adoption period on.
    subgroup_share : float, default 0.0
        Share (0-1) of rows in a subgroup (the most deprived fifth: 0.2) whose effect
        is ``subgroup_effect`` instead of ``effect``. Drawn per pupil within schools
        when rows are pupils, per unit otherwise, from a stream of its own (the other
        draws of a seed do not change); the data's column ``subgroup`` marks it.
    subgroup_effect : float, default 0.0
        The subgroup's effect (outcome units, like ``effect``).

    Violation of parallel trends
    ----------------------------
    violation : float, default 0.0
        Size of a gap that opens between the untreated outcomes of the units that adopt
        and the others (outcome units, or the link scale): it is added to the index of
        every ever-treated unit, is not part of the effect, and so biases a comparison
        that assumes parallel trends (``trend_gap`` counts the units' own linear trends
        only, not this gap).
    violation_shape : {"linear", "quadratic"} or callable, default "linear"
        The gap at event time ``e`` is ``violation * u`` (linear) or
        ``violation * u ** 2`` (quadratic) with ``u = max(e - violation_start + 1, 0)``;
        a callable maps integer event times to multiples of ``violation``.
    violation_start : int, default 0
        First event time with a gap: negative before adoption (a pre-trend shows in
        the leads), 0 in the first treated period (invisible before it).

    Missingness
    -----------
    attrition : float, default 0.0
        Probability per period (0-1) that a unit drops out for good (or, with pupils,
        that a pupil is missing: for good when pupils are followed, in that period for
        repeated cross-sections). Nobody drops out in period 1.
    attrition_on_outcome : float, default 0.0
        Change in the log-odds of dropping out per standard deviation of the observed
        outcome; 0 is attrition at random.
    panel_covariates : tuple of str, default ()
        Columns of the data (``"x"``, ``"climate"``) declared as covariates in the Panel.

    Examples
    --------
    >>> scenario = Scenario(n_units=40, n_periods=6, adoption_period=4, effect=2.0)
    >>> scenario.n_treated
    20
    >>> Scenario.scottish_schools().n_units
    350
    """

    # structure
    n_units: int = 100
    n_periods: int = 8
    first_period: int = 2001
    pupils_per_unit: int | None = None
    follow_pupils: bool = False
    # adoption
    adoption_period: int = 5
    treated_share: float = 0.5
    cohorts: tuple[tuple[int, float], ...] = ()
    # outcome model
    outcome: Literal["continuous", "binary", "count"] = "continuous"
    baseline: float = 0.0
    trend: TrendLike = 0.5
    unit_sd: float = 1.0
    unit_trend_sd: float = 0.0
    covariate_effect: float = 0.0
    covariate_trend: float = 0.0
    noise_sd: float = 1.0
    rho: float = 0.0
    n_factors: int = 0
    factor_sd: float = 0.5
    factor_trend: float = 0.0
    pupil_sd: float = 0.0
    pupil_noise_sd: float = 1.0
    exposure: float = 1.0
    exposure_cv: float = 0.0
    # selection
    selection: Literal["random", "covariate", "level", "trend"] = "random"
    selection_strength: float = 1.0
    # effect
    effect: float = 0.0
    profile: ProfileLike = "constant"
    half_life: float = 2.0
    heterogeneity: float = 0.0
    anticipation: int = 0
    anticipation_share: float = 0.5
    spillover_units: int | tuple[int, ...] = 0
    spillover_share: float = 0.0
    subgroup_share: float = 0.0
    subgroup_effect: float = 0.0
    # missingness
    violation: float = 0.0
    violation_shape: ViolationLike = "linear"
    violation_start: int = 0

    attrition: float = 0.0
    attrition_on_outcome: float = 0.0
    panel_covariates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from impact.simulations._scenario_checks import check_scenario

        check_scenario(self)

    # ------------------------------------------------------------------ derived
    @property
    def cohort_sizes(self) -> dict[int, int]:
        """Units per adoption period (1-based), earliest first."""
        pairs = self.cohorts or ((self.adoption_period, self.treated_share),)
        return {int(start): round(share * self.n_units) for start, share in sorted(pairs)}

    @property
    def n_treated(self) -> int:
        """Number of units ever treated."""
        return sum(self.cohort_sizes.values())

    @property
    def periods(self) -> np.ndarray:
        """Calendar labels of the periods."""
        return self.first_period + np.arange(self.n_periods)

    def describe(self) -> str:
        """The fields that differ from the defaults, as ``name=value`` text.

        Examples
        --------
        >>> Scenario(n_units=40, effect=2.0).describe()
        'Scenario(n_units=40, effect=2.0)'
        """
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if getattr(self, f.name) != f.default
        ]
        return f"Scenario({', '.join(changed)})"

    def replace(self, **changes: Any) -> Scenario:
        """Return a copy with some fields changed (validated again).

        Examples
        --------
        >>> Scenario.small_pilot().replace(effect=0.0).effect
        0.0
        """
        return replace(self, **changes)

    # ------------------------------------------------------------------ presets
    @classmethod
    def scottish_schools(cls, **changes: Any) -> Scenario:
        """The founding example: a national rise in attainment and no programme effect.

        About 350 secondary schools over 8 years; 60 pilot schools start in year 4,
        chosen because they were struggling (selection on a low unit level).
        Attainment (a score with school SD 8) rises by 1 point a year in every school,
        as it did in all Scottish schools during the integrated community school
        pilots, whose evaluation found no significant impact on attainment over three
        years: the true effect is zero. A before/after comparison in pilot schools
        credits the programme with the national rise; difference-in-differences does
        not.

        Parameters
        ----------
        **changes
            Fields to override.

        Returns
        -------
        Scenario
        """
        base = dict(
            n_units=350,
            n_periods=8,
            first_period=2001,
            adoption_period=4,
            treated_share=60 / 350,
            outcome="continuous",
            baseline=50.0,
            trend=1.0,
            unit_sd=8.0,
            noise_sd=2.0,
            rho=0.3,
            selection="level",
            selection_strength=-1.0,
            effect=0.0,
        )
        return cls(**{**base, **changes})

    @classmethod
    def small_pilot(cls, **changes: Any) -> Scenario:
        """Five pilot schools, twenty comparison schools, exclusions counted per school.

        Modelled on a Home Office project that placed five support workers in
        secondary schools for three years and reported a 25% fall in permanent
        exclusions (26 pupils), with no impact until the second and third years: a
        rate reduced by 25% (``effect=log(0.75)``) reached by a ramp, around 7
        exclusions per school-year on rolls of about 900 pupils, three years before and
        three during the programme.

        Parameters
        ----------
        **changes
            Fields to override.

        Returns
        -------
        Scenario
        """
        base = dict(
            n_units=25,
            n_periods=6,
            first_period=2001,
            adoption_period=4,
            treated_share=0.2,
            outcome="count",
            baseline=math.log(7 / 900),
            trend=0.0,
            unit_sd=0.4,
            noise_sd=0.15,
            exposure=900.0,
            exposure_cv=0.3,
            effect=math.log(0.75),
            profile="ramp",
        )
        return cls(**{**base, **changes})

    @classmethod
    def staggered_rollout(cls, **changes: Any) -> Scenario:
        """A programme rolled out school by school, with effects that build up.

        200 schools over 8 years; four cohorts of 20% start in years 3, 4, 5 and 6
        (2003-2006) and 20% never start. The effect ramps from zero in year 1 to 2
        points by year 3, over a national rise of 1 point a year: the setting where a
        two-way fixed effects regression is biased and group-time estimators are not.

        Parameters
        ----------
        **changes
            Fields to override.

        Returns
        -------
        Scenario
        """
        base = dict(
            n_units=200,
            n_periods=8,
            first_period=2001,
            cohorts=((3, 0.2), (4, 0.2), (5, 0.2), (6, 0.2)),
            baseline=50.0,
            trend=1.0,
            unit_sd=5.0,
            noise_sd=1.0,
            effect=2.0,
            profile="ramp",
        )
        return cls(**{**base, **changes})

    @classmethod
    def selected_on_trend(cls, **changes: Any) -> Scenario:
        """Improving schools chosen for the pilot: parallel trends fail by construction.

        100 schools over 8 years, 30% treated from year 5, chosen on their own
        improvement (unit trends with SD 0.5 points a year, selection strength 2). The
        true effect is zero, so any rejection is a false positive; the realised gap in
        trends is in :attr:`SimulatedPanel.trend_gap`.

        Parameters
        ----------
        **changes
            Fields to override.

        Returns
        -------
        Scenario
        """
        base = dict(
            n_units=100,
            n_periods=8,
            first_period=2001,
            adoption_period=5,
            treated_share=0.3,
            baseline=50.0,
            trend=1.0,
            unit_sd=5.0,
            unit_trend_sd=0.5,
            noise_sd=1.0,
            selection="trend",
            selection_strength=2.0,
            effect=0.0,
        )
        return cls(**{**base, **changes})

    @classmethod
    def one_council(cls, **changes: Any) -> Scenario:
        """One council of 32 adopts; councils follow different latent trends.

        Scotland's 32 councils over 20 years, one adopting in year 15. Outcomes follow
        an interactive fixed-effects model: two latent trends (random walks, the first
        drifting upwards by 0.3 a year) on which councils load differently, and the
        adopting council is chosen for its loading on the first
        (``selection="factor"``), so its path rises faster than the average
        council's. Difference-in-differences, which compares it with the average, is
        biased; a weighted comparison that reproduces its pre-programme path
        (synthetic control, synthetic DiD) is not, since others load alike.
        The true effect is zero.

        Parameters
        ----------
        **changes
            Fields to override.

        Returns
        -------
        Scenario

        Examples
        --------
        >>> Scenario.one_council().n_treated
        1
        """
        base = dict(
            n_units=32,
            n_periods=20,
            first_period=2001,
            adoption_period=15,
            treated_share=1 / 32,
            outcome="continuous",
            baseline=50.0,
            trend=0.5,
            unit_sd=5.0,
            noise_sd=0.5,
            n_factors=2,
            factor_sd=1.0,
            factor_trend=0.3,
            selection="factor",
            selection_strength=0.75,
            effect=0.0,
        )
        return cls(**{**base, **changes})

    @classmethod
    def presets(cls) -> dict[str, Scenario]:
        """The named preset scenarios.

        Examples
        --------
        >>> sorted(Scenario.presets())  # doctest: +NORMALIZE_WHITESPACE
        ['one_council', 'scottish_schools', 'selected_on_trend', 'small_pilot',
         'staggered_rollout']
        """
        return {
            "scottish_schools": cls.scottish_schools(),
            "small_pilot": cls.small_pilot(),
            "staggered_rollout": cls.staggered_rollout(),
            "selected_on_trend": cls.selected_on_trend(),
            "one_council": cls.one_council(),
        }
