"""The sandbox's logic, without a browser: world settings -> scenario -> fits -> table.

A :class:`World` is what a teacher changes (schools, pilots, how pilots were chosen,
the national rise, the true effect and its profile, noise, spillover, seed); an
:class:`Analysis` is how the evaluator analyses it (designs, follow-up, inference).
:func:`run` simulates the world with :func:`impact.simulations.simulate`, fits every
chosen design and returns an :class:`Outcome`: the estimates beside the known truth.
:func:`monte_carlo_study` repeats this with :func:`impact.simulations.monte_carlo`
for bias, coverage and power. Nothing here imports a web framework.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.demo import before_after
from impact.exceptions import DesignError, ImpactError
from impact.panel.container import Panel
from impact.result import ImpactResult
from impact.simulations import Scenario, SimulatedPanel, simulate

__all__ = [
    "DESIGNS",
    "INFERENCE",
    "PRESETS",
    "PROFILES",
    "SELECTIONS",
    "Analysis",
    "Design",
    "Fit",
    "Outcome",
    "World",
    "run",
]

SELECTIONS: dict[str, str] = {
    "random": "at random",
    "level": "on level (struggling schools)",
    "trend": "on trend (improving schools)",
}
"""How pilot schools are chosen: key to label."""

PROFILES: dict[str, str] = {
    "immediate": "immediate",
    "ramp": "builds up over 3 years",
    "year2": "delayed to year 2",
    "year3": "delayed to year 3",
}
"""How the effect unfolds over the programme's years: key to label."""

INFERENCE: dict[str, str] = {
    "auto": "automatic (the package's choice)",
    "cr1": "cluster-robust by school (CR1)",
    "cr2": "small-sample cluster-robust (CR2)",
    "wild": "wild cluster bootstrap",
}
"""Inference methods offered: key to label."""

_STAGGERED_INFERENCE = {"auto": "auto", "cr1": "analytic", "cr2": "analytic_t", "wild": "bootstrap"}
_DRAWS = 999  # bootstrap draws: enough for a 95% interval, fast enough for a live page


class DelayedProfile:
    """Effect profile: nothing before programme year ``start``, the full effect from then.

    A class rather than a closure so that scenarios using it can be sent to worker
    processes.

    Examples
    --------
    >>> DelayedProfile(3)(np.arange(4)).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """

    def __init__(self, start: int) -> None:
        self.start = int(start)

    def __call__(self, event: np.ndarray) -> np.ndarray:
        return (np.asarray(event) >= self.start - 1).astype(float)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DelayedProfile) and other.start == self.start

    def __hash__(self) -> int:
        return hash(("DelayedProfile", self.start))

    def __repr__(self) -> str:
        return f"DelayedProfile({self.start})"


@dataclass(frozen=True, kw_only=True)
class World:
    """The simulated world a teacher controls: schools, pilots, attainment, the effect.

    Attainment is a score in points. The defaults are the Scottish schools preset.

    Attributes
    ----------
    n_schools : int, default 350
        Schools in the region.
    n_pilot : int, default 60
        Pilot schools (all of them, over the cohorts when ``staggered``).
    selection : {"random", "level", "trend"}, default "level"
        How pilots are chosen: at random; on level (struggling schools, low attainment);
        on trend (schools already improving, which breaks parallel trends).
    national_rise : float, default 1.0
        Rise in attainment in every school, points per year.
    effect : float, default 0.0
        The programme's full effect on attainment (points).
    profile : {"immediate", "ramp", "year2", "year3"}, default "immediate"
        How the effect unfolds: at once; a third, two thirds... (zero in year 1, full
        by year 3); nothing until programme year 2 or 3, then the full effect.
    school_sd : float, default 8.0
        Standard deviation of lasting differences between schools (points).
    noise_sd : float, default 2.0
        Standard deviation of a school's year-to-year shock (points).
    rho : float, default 0.3
        Serial correlation of the shocks (AR(1), -1 < rho < 1).
    spillover_schools : int, default 0
        Comparison schools reached by the programme (neighbours of pilots).
    spillover_share : float, default 0.5
        Share of the effect those comparison schools receive.
    staggered : bool, default False
        Pilots start in four equal cohorts in consecutive years from ``start_year``
        (otherwise all start in ``start_year``).
    start_year : int, default 4
        Year (1-based) the programme starts.
    n_years : int, default 8
        Years observed.
    seed : int, default 2026
        Seed of the simulation.

    Examples
    --------
    >>> World().to_scenario().n_treated
    60
    >>> World(selection="trend").to_scenario().unit_trend_sd > 0
    True
    """

    n_schools: int = 350
    n_pilot: int = 60
    selection: Literal["random", "level", "trend"] = "level"
    national_rise: float = 1.0
    effect: float = 0.0
    profile: Literal["immediate", "ramp", "year2", "year3"] = "immediate"
    school_sd: float = 8.0
    noise_sd: float = 2.0
    rho: float = 0.3
    spillover_schools: int = 0
    spillover_share: float = 0.5
    staggered: bool = False
    start_year: int = 4
    n_years: int = 8
    seed: int = 2026

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise DesignError(f"selection={self.selection!r}; choose one of {list(SELECTIONS)}")
        if self.profile not in PROFILES:
            raise DesignError(f"profile={self.profile!r}; choose one of {list(PROFILES)}")
        if not 1 <= self.n_pilot < self.n_schools:
            raise DesignError(
                f"n_pilot={self.n_pilot} must be at least 1 and fewer than the "
                f"{self.n_schools} schools (some must stay as comparison)"
            )
        if not 2 <= self.start_year <= self.n_years:
            raise DesignError(
                f"start_year={self.start_year} must leave at least one year before the "
                f"programme and lie within the {self.n_years} years"
            )

    def replace(self, **changes: Any) -> World:
        """Return a copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def cohorts(self, n_years: int | None = None) -> tuple[tuple[int, int], ...]:
        """(start year, number of pilots) per cohort starting within ``n_years``."""
        last = self.n_years if n_years is None else n_years
        if not self.staggered:
            return ((self.start_year, self.n_pilot),) if self.start_year <= last else ()
        sizes = np.full(4, self.n_pilot // 4)
        sizes[: self.n_pilot % 4] += 1
        starts = [min(self.start_year + k, self.n_years) for k in range(4)]
        merged: dict[int, int] = {}
        for start, size in zip(starts, sizes.tolist(), strict=True):
            if size and start <= last:
                merged[start] = merged.get(start, 0) + size
        return tuple(merged.items())

    def to_scenario(self, n_years: int | None = None) -> Scenario:
        """The :class:`~impact.simulations.Scenario` of this world, over ``n_years``.

        ``n_years`` (default: all) cuts the world short, e.g. at the end of a follow-up;
        cohorts starting later are then not (yet) treated.
        """
        years = self.n_years if n_years is None else int(n_years)
        cohorts = self.cohorts(years)
        if not cohorts:
            raise DesignError(
                f"no pilot school starts within the first {years} years; lengthen the "
                "follow-up or start the programme earlier"
            )
        n_never = self.n_schools - sum(n for _, n in cohorts)
        profile: Any = {"immediate": "constant", "ramp": "ramp"}.get(self.profile)
        if profile is None:
            profile = DelayedProfile(2 if self.profile == "year2" else 3)
        trend_selected = self.selection == "trend"
        return Scenario(
            n_units=self.n_schools,
            n_periods=years,
            first_period=2001,
            cohorts=tuple((start, n / self.n_schools) for start, n in cohorts),
            outcome="continuous",
            baseline=50.0,
            trend=float(self.national_rise),
            unit_sd=float(self.school_sd),
            unit_trend_sd=0.5 if trend_selected else 0.0,
            noise_sd=float(self.noise_sd),
            rho=float(self.rho),
            selection=self.selection,
            selection_strength={"random": 1.0, "level": -1.0, "trend": 2.0}[self.selection],
            effect=float(self.effect),
            profile=profile,
            spillover_units=min(int(self.spillover_schools), n_never),
            spillover_share=float(self.spillover_share),
        )


PRESETS: dict[str, World] = {
    "scottish_schools": World(),
    "small_pilot": World(
        n_schools=25,
        n_pilot=5,
        selection="random",
        national_rise=0.0,
        effect=3.0,
        profile="ramp",
        school_sd=4.0,
        noise_sd=2.0,
        rho=0.0,
        start_year=4,
        n_years=6,
    ),
    "selected_on_trend": World(
        n_schools=100,
        n_pilot=30,
        selection="trend",
        national_rise=1.0,
        effect=0.0,
        school_sd=5.0,
        noise_sd=1.0,
        rho=0.0,
        start_year=5,
    ),
    "staggered_rollout": World(
        n_schools=200,
        n_pilot=160,
        selection="random",
        national_rise=1.0,
        effect=2.0,
        profile="ramp",
        school_sd=5.0,
        noise_sd=1.0,
        rho=0.0,
        staggered=True,
        start_year=3,
    ),
}
"""The evidence review's situations as sandbox worlds, after the Scenario presets of
the same names (the small pilot on an attainment score rather than exclusion counts)."""


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """How the evaluator analyses the world.

    Attributes
    ----------
    designs : tuple of str
        Keys of :data:`DESIGNS` to fit, in display order.
    follow_up : int or None, default None
        Programme years analysed (from the first start); None: every year observed.
    inference : {"auto", "cr1", "cr2", "wild"}, default "auto"
        Inference method, mapped to each design's own options.
    """

    designs: tuple[str, ...] = ("before_after", "did", "staggered_did", "matched_did", "its")
    follow_up: int | None = None
    inference: Literal["auto", "cr1", "cr2", "wild"] = "auto"

    def __post_init__(self) -> None:
        unknown = [d for d in self.designs if d not in DESIGNS]
        if unknown:
            raise DesignError(f"unknown designs {unknown}; choose from {list(DESIGNS)}")
        if self.inference not in INFERENCE:
            raise DesignError(f"inference={self.inference!r}; choose one of {list(INFERENCE)}")
        if self.follow_up is not None and self.follow_up < 1:
            raise DesignError(f"follow_up={self.follow_up} must be at least one year")

    def n_years(self, world: World) -> int:
        """Years of data the analysis uses: up to the end of the follow-up."""
        if self.follow_up is None:
            return world.n_years
        return min(world.n_years, world.start_year + self.follow_up - 1)


class BeforeAfter:
    """The naive before/after comparison as an estimator (``fit(panel)``)."""

    name = "before_after"

    def __init__(self, alpha: float = ALPHA) -> None:
        self.alpha = alpha

    def fit(self, panel: Panel) -> ImpactResult:
        """Fit :func:`impact.demo.before_after`."""
        return before_after(panel, alpha=self.alpha)

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, for reports."""
        return {"alpha": self.alpha}


def _registered(name: str, **fixed: Any) -> Callable[[str], Any]:
    from impact.registry import get_estimator

    def build(inference: str) -> Any:
        params = dict(fixed)
        if name == "staggered_did":
            params["inference"] = _STAGGERED_INFERENCE[inference]
            params["n_boot"] = _DRAWS
        else:
            params["inference"] = inference
            params["draws"] = _DRAWS
        return get_estimator(name, **params)

    return build


@dataclass(frozen=True)
class Design:
    """A design the sandbox can fit: its label, how to build it, its docs page."""

    key: str
    label: str
    build: Callable[[str], Any]
    docs: str
    colour: str


# Okabe-Ito colours (colour-blind safe), one per design; docs pages relative to the site
DESIGNS: dict[str, Design] = {
    d.key: d
    for d in (
        Design(
            "before_after",
            "naive before/after",
            lambda _: BeforeAfter(),
            "explanation/did.md",
            "#E69F00",
        ),
        Design(
            "did", "difference-in-differences", _registered("did"), "explanation/did.md", "#0072B2"
        ),
        Design(
            "staggered_did",
            "staggered DiD",
            _registered("staggered_did"),
            "explanation/staggered.md",
            "#009E73",
        ),
        Design(
            "matched_did",
            "matched DiD",
            _registered("matched_did"),
            "explanation/matching.md",
            "#CC79A7",
        ),
        Design(
            "its",
            "controlled ITS",
            _registered("its", comparison=True),
            "explanation/its.md",
            "#D55E00",
        ),
    )
}
"""The designs offered, in display order."""


@dataclass(frozen=True)
class Fit:
    """One design's result in the current world.

    ``error`` holds the message when the design cannot be fitted (e.g. plain DiD under
    staggered adoption); ``notes`` the warnings it raised.
    """

    design: Design
    result: ImpactResult | None
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def estimate(self) -> float:
        """The ATT estimate (NaN when the design failed)."""
        return float("nan") if self.result is None else float(self.result.att.estimate)

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% interval of the ATT."""
        if self.result is None:
            return (float("nan"), float("nan"))
        att = self.result.att
        return (float(att.ci_lower), float(att.ci_upper))

    @property
    def inference_used(self) -> str:
        """How the interval was computed, as the estimator recorded it."""
        if self.result is None:
            return ""
        settings = self.result.settings
        return str(settings.get("inference_used", settings.get("inference", "t over schools")))


@dataclass(frozen=True)
class Outcome:
    """Everything the page shows for one world and analysis.

    Attributes
    ----------
    world, analysis : World, Analysis
        The settings.
    simulated : SimulatedPanel
        The simulated schools over the analysed years.
    truth : float
        The true average effect on pilot schools in their programme years analysed.
    fits : tuple of Fit
        One per chosen design.
    """

    world: World
    analysis: Analysis
    simulated: SimulatedPanel
    truth: float
    fits: tuple[Fit, ...] = field(default_factory=tuple)

    def table(self) -> pd.DataFrame:
        """Estimates beside the truth, one row per design.

        Columns ``design, estimate, ci_lower, ci_upper, truth, covers, inference,
        note``; ``covers`` is None when the design failed.
        """
        rows = []
        for fit in self.fits:
            lower, upper = fit.interval
            ok = fit.result is not None and not (math.isnan(lower) or math.isnan(upper))
            rows.append(
                {
                    "design": fit.design.label,
                    "estimate": fit.estimate,
                    "ci_lower": lower,
                    "ci_upper": upper,
                    "truth": self.truth,
                    "covers": bool(lower <= self.truth <= upper) if ok else None,
                    "inference": fit.inference_used,
                    "note": fit.error or " ".join(fit.notes),
                }
            )
        return pd.DataFrame(rows, columns=_TABLE_COLUMNS)

    def trajectories(self) -> pd.DataFrame:
        """Mean attainment per year: ``time, pilot, comparison, pilot_untreated``.

        ``pilot_untreated`` is the pilots' mean untreated outcome: the true
        counterfactual no design sees.
        """
        data = self.simulated.data
        ever = data["cohort"] > 0
        frame = pd.DataFrame(
            {
                "pilot": data.loc[ever].groupby("time")["y"].mean(),
                "comparison": data.loc[~ever].groupby("time")["y"].mean(),
                "pilot_untreated": data.loc[ever].groupby("time")["y0"].mean(),
            }
        )
        return frame.rename_axis("time").reset_index()


_TABLE_COLUMNS = [
    "design",
    "estimate",
    "ci_lower",
    "ci_upper",
    "truth",
    "covers",
    "inference",
    "note",
]


def _fit(design: Design, panel: Panel, inference: str) -> Fit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = design.build(inference).fit(panel)
        except (ImpactError, ValueError, np.linalg.LinAlgError) as exc:
            return Fit(design, None, error=str(exc))
    notes = tuple(
        dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    )
    return Fit(design, result, notes=notes)


def run(world: World, analysis: Analysis | None = None) -> Outcome:
    """Simulate ``world`` and fit every design of ``analysis``.

    Parameters
    ----------
    world : World
        The simulated world.
    analysis : Analysis, optional
        Designs, follow-up and inference (default: every design, all years, automatic).

    Returns
    -------
    Outcome

    Examples
    --------
    >>> outcome = run(PRESETS["selected_on_trend"], Analysis(designs=("did", "its")))
    >>> table = outcome.table().set_index("design")
    >>> bool(table.loc["difference-in-differences", "covers"])  # parallel trends fail
    False
    """
    analysis = Analysis() if analysis is None else analysis
    scenario = world.to_scenario(analysis.n_years(world))
    simulated = simulate(scenario, seed=world.seed)
    truth = simulated.true_att
    fits = tuple(
        _fit(DESIGNS[key], simulated.panel, analysis.inference) for key in analysis.designs
    )
    return Outcome(world=world, analysis=analysis, simulated=simulated, truth=truth, fits=fits)
