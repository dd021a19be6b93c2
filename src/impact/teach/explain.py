"""Plain-language reasons why each design succeeds or fails in the current world.

Each design needs assumptions (:mod:`impact.teach.model` worlds make them hold or
fail by construction); :func:`explain` checks the world against them and says what the
table shows, with the docs page that explains the design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from impact.inference.coefficient import MIN_CLUSTERS
from impact.teach.model import PROFILES, Fit, Outcome

__all__ = ["Explanation", "explain", "world_notes"]


@dataclass(frozen=True)
class Explanation:
    """Why one design succeeds or fails here.

    Attributes
    ----------
    design : str
        The design's label.
    verdict : {"covers the truth", "misses the truth", "cannot run"}
        What its interval did in this draw.
    text : str
        The reasons, from the assumptions the design needs.
    docs : str
        The docs page explaining the design (relative to the documentation site).
    """

    design: str
    verdict: str
    text: str
    docs: str


def _verdict(fit: Fit, truth: float) -> str:
    if fit.result is None:
        return "cannot run"
    lower, upper = fit.interval
    if math.isnan(lower) or math.isnan(upper):
        return "no interval"
    return "covers the truth" if lower <= truth <= upper else "misses the truth"


def _facts(outcome: Outcome) -> dict[str, object]:
    world = outcome.world
    scenario = outcome.simulated.scenario
    years = scenario.n_periods
    cohorts = world.cohorts(years)
    spill = int(scenario.spillover_units) if isinstance(scenario.spillover_units, int) else 0
    return {
        "staggered": len(cohorts) > 1,
        "n_pilot": sum(n for _, n in cohorts),
        "pre": min(s for s, _ in cohorts) - 1,
        "trend": world.selection == "trend",
        "level": world.selection == "level",
        "rise": world.national_rise,
        "spill": spill if world.spillover_share > 0 and world.effect != 0 else 0,
        "follow_up": years - min(s for s, _ in cohorts) + 1,
    }


def world_notes(outcome: Outcome) -> list[str]:
    """Notes on the world that concern every design (follow-up, persistent shocks).

    Examples
    --------
    >>> from impact.teach.model import Analysis, World, run
    >>> outcome = run(World(effect=2.0, profile="year3"),
    ...               Analysis(designs=("did",), follow_up=1))
    >>> "effect starts in programme year 3" in world_notes(outcome)[0]
    True
    """
    world, truth = outcome.world, outcome.truth
    facts = _facts(outcome)
    notes = []
    delay = {"year2": 2, "year3": 3}.get(world.profile)
    if world.effect != 0 and delay is not None and int(facts["follow_up"]) < delay:
        notes.append(
            f"The follow-up covers {facts['follow_up']} programme year(s) but the effect "
            f"starts in programme year {delay}: the true effect in the years analysed is "
            f"{truth:.2f}, not the full {world.effect:.2f}. No design can find an effect "
            "that has not happened yet; a short follow-up misses it."
        )
    elif world.effect != 0 and world.profile == "ramp":
        notes.append(
            f"The effect {PROFILES['ramp']}: averaged over the years analysed it is "
            f"{truth:.2f}, below the full {world.effect:.2f}."
        )
    if world.rho >= 0.5:
        notes.append(
            f"Shocks persist from year to year (serial correlation {world.rho:.1f}): "
            "standard errors treating years as independent would be too small, which is "
            "why the package clusters by school."
        )
    return notes


def _before_after(f: dict[str, object]) -> str:
    text = "Assumes attainment in pilot schools would have stayed flat without the programme."
    rise = float(f["rise"])  # type: ignore[arg-type]
    if rise != 0 or f["trend"]:
        reasons = []
        if rise != 0:
            reasons.append(f"attainment changed by {rise:.1f} points a year in every school")
        if f["trend"]:
            reasons.append("the pilots were chosen because they were already improving")
        text += f" But {' and '.join(reasons)}, so it credits the programme with that change."
    else:
        text += " With no national rise and no school trends, flat is the right counterfactual."
    return text


def _did(f: dict[str, object], staggered_name: bool = False) -> str:
    text = (
        "Assumes pilot and comparison schools would have moved in parallel, and that the "
        "comparison schools were untouched by the programme."
    )
    if f["trend"]:
        text += (
            " The pilots were chosen because they were already improving: their trend is "
            "steeper, parallel trends fail, and the difference in trends is counted as effect."
        )
    elif f["level"]:
        text += (
            " The pilots were chosen on their level (struggling schools): levels differ but "
            "trends do not, and taking differences removes the gap in levels."
        )
    if f["spill"]:
        text += (
            f" {f['spill']} comparison school(s) received part of the effect: the comparison "
            "group rose too, which pulls the estimate towards zero."
        )
    if f["staggered"] and not staggered_name:
        text += (
            " The pilots start in different years: a single before/after split compares "
            "later with earlier adopters; use staggered DiD."
        )
    if staggered_name:
        text += (
            " It compares each cohort of pilots with schools never treated, year by year, so "
            "staggered starts and effects that build up do not bias it."
        )
    return text + _few(f)


def _few(f: dict[str, object]) -> str:
    n = int(f["n_pilot"])  # type: ignore[call-overload]
    if n < MIN_CLUSTERS:
        return (
            f" With only {n} pilot school(s), cluster-robust standard errors are too small; "
            "the package switches to the wild bootstrap (or t intervals), whose intervals "
            "are honest but wide."
        )
    return ""


def _matched(f: dict[str, object]) -> str:
    text = (
        "Matches each pilot to comparison schools with similar attainment in the years "
        "before the programme, then takes differences in differences; it assumes parallel "
        "trends between matched schools."
    )
    if f["trend"]:
        text += (
            " Matching on pre-programme attainment picks comparison schools that were also "
            "improving, which narrows the gap in trends but does not close it."
        )
    if f["spill"]:
        text += " Contaminated comparison schools can still be chosen as matches."
    return text + _few(f)


def _its(f: dict[str, object]) -> str:
    text = (
        "Fits each group's own trend over the years before the programme and projects it "
        "forward, using the comparison series for shocks common to both; it needs stable "
        f"linear trends and enough years before the programme (here {f['pre']})."
    )
    if f["trend"]:
        text += (
            " Because it follows the pilots' own trend, pilots that were already improving "
            "do not fool it."
        )
    if int(f["pre"]) < 3:  # type: ignore[call-overload]
        text += " With so few years before the programme the projected trend is very uncertain."
    if f["staggered"]:
        text += " It needs one interruption date; here the pilots start in different years."
    return text + _few(f)


_TEXT = {
    "before_after": _before_after,
    "did": _did,
    "staggered_did": lambda f: _did(f, staggered_name=True),
    "matched_did": _matched,
    "its": _its,
}


def explain(outcome: Outcome) -> list[Explanation]:
    """Why each design succeeds or fails in ``outcome``'s world, from its assumptions.

    Parameters
    ----------
    outcome : Outcome
        The current world, analysis and fits.

    Returns
    -------
    list of Explanation
        One per design fitted, in display order.

    Examples
    --------
    >>> from impact.teach.model import PRESETS, Analysis, run
    >>> outcome = run(PRESETS["selected_on_trend"], Analysis(designs=("did",)))
    >>> [(e.verdict, "parallel trends fail" in e.text) for e in explain(outcome)]
    [('misses the truth', True)]
    """
    facts = _facts(outcome)
    out = []
    for fit in outcome.fits:
        text = _TEXT[fit.design.key](facts)
        if fit.error:
            text += f" It cannot run here: {fit.error}"
        out.append(
            Explanation(
                design=fit.design.label,
                verdict=_verdict(fit, outcome.truth),
                text=text,
                docs=fit.design.docs,
            )
        )
    return out
