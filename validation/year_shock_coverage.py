"""Coverage of DiD intervals when a shock in each year hits every school, unequally.

Data: 60 schools observed for T years; half start a programme at mid-panel with a
true effect of 1.0. Every year brings a national shock ``f_t ~ N(0, 1)`` (an exam
reform, a pandemic year) that every school feels, but the schools the programme
targets (the more deprived half) feel it three times as much as the others
(loadings 1.5 and 0.5). The period effects remove the average shock each year, not
the difference between the groups, which moves the treated schools together in
every year: their errors are correlated across schools within a year. Each school
also has persistent idiosyncratic noise (AR(1), rho = 0.5, sd 1).

One-way clustering by school treats the treated schools as independent and its
intervals under-cover; two-way clustering (school and year) and Driscoll-Kraay
allow for the within-year correlation. Both rest on the number of years, so the
study runs T = 10, 20 and 40. Driscoll-Kraay handles the correlation within a school
over time only through its kernel (lags beyond the bandwidth get no weight, nearer
ones less than full), so the study also runs schools without persistent noise
(rho = 0) to separate that from the year shocks.

Run: ``python validation/year_shock_coverage.py [n_reps]`` (default 500).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import impact

TRUE_EFFECT = 1.0
METHODS = ("cr1", "twoway", "driscoll_kraay")


SCENARIOS = ((0.5, 10), (0.5, 20), (0.5, 40), (0.0, 20), (0.0, 40))  # (rho, periods)


def simulate(
    rng: np.random.Generator, n_units: int = 60, n_periods: int = 20, rho: float = 0.5
) -> pd.DataFrame:
    """One panel of the year-shock scenario (see the module docstring)."""
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    targeted = unit < n_units // 2
    loading = np.where(targeted, 1.5, 0.5)
    year_shock = rng.normal(0, 1, n_periods)
    innovations = rng.normal(0, np.sqrt(1 - rho**2), (n_units, n_periods))
    noise = np.empty_like(innovations)
    noise[:, 0] = rng.normal(0, 1, n_units)
    for s in range(1, n_periods):
        noise[:, s] = rho * noise[:, s - 1] + innovations[:, s]
    d = (targeted & (t >= n_periods // 2)).astype(int)
    y = (
        rng.normal(0, 2, n_units)[unit]
        + 0.3 * t
        + loading * year_shock[t]
        + TRUE_EFFECT * d
        + noise.ravel()
    )
    return pd.DataFrame({"school": unit, "year": t, "attainment": y, "pilot": d})


def main(n_reps: int = 500, seed: int = 20261203, scenarios=SCENARIOS) -> pd.DataFrame:
    rows = []
    for rho, n_periods in scenarios:
        # each scenario has its own seeds, so that any subset reproduces its rows
        key = [seed, n_periods] if rho == 0.5 else [seed, n_periods, round(100 * rho)]
        children = np.random.SeedSequence(key).spawn(n_reps)
        for child in children:
            frame = simulate(np.random.default_rng(child), n_periods=n_periods, rho=rho)
            panel = impact.Panel.from_frame(
                frame, unit="school", time="year", outcome="attainment", treated="pilot"
            )
            for inference in METHODS:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # few periods at T = 10: warned
                    att = impact.DifferenceInDifferences(inference=inference).fit(panel).att
                rows.append(
                    {
                        "rho": rho,
                        "periods": n_periods,
                        "inference": inference,
                        "estimate": att.estimate,
                        "std_error": att.std_error,
                        "covered": att.ci_lower <= TRUE_EFFECT <= att.ci_upper,
                    }
                )
    draws = pd.DataFrame(rows)
    table = draws.groupby(["rho", "periods", "inference"], sort=False).agg(
        bias=("estimate", lambda e: e.mean() - TRUE_EFFECT),
        sd_estimate=("estimate", "std"),
        mean_std_error=("std_error", "mean"),
        coverage=("covered", "mean"),
    )
    table["coverage_mcse"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / n_reps)
    return table


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with pd.option_context("display.width", 120, "display.max_columns", 10, "display.precision", 3):
        print(main(reps))
