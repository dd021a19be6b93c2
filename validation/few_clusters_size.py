"""Size of DiD tests with few treated clusters: the small-pilot scenario.

Five treated schools and twenty comparison schools, observed for two years before and
two years after the pilot starts; each school-year holds a new cohort of pupils whose
number varies widely between schools (lognormal, 5 to 150 pupils), schools have their
own level, school-by-year shocks correlate pupils within a school-year, and the
variance of those shocks differs between schools. The true effect is zero, so every
rejection at 5% is a false positive. The treated schools are drawn at random in each
replication.

With ``--simulator`` the data come instead from the simulator's
``impact.simulations.Scenario.small_pilot(effect=0)`` (25 schools, 5 piloting from the
fourth of six years, exclusion counts per school-year, rolls of about 900 pupils), run
through :func:`impact.simulations.monte_carlo`, and the table covers the default of
every estimator that clusters (difference-in-differences, event study, panel ITS,
staggered DiD, matched DiD) next to its CR1 (analytic) version.

Usage::

    python validation/few_clusters_size.py --reps 2000 --seed 20261126
    python validation/few_clusters_size.py --simulator --reps 500 --draws 999

Prints a markdown table of rejection rates (with Monte Carlo standard errors) for
CR1, CR2, the wild cluster restricted bootstrap, randomization inference and the
default ``"auto"`` (or, with ``--simulator``, for each estimator's default).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from impact import DifferenceInDifferences, InferenceWarning, Panel

METHODS = ("cr1", "cr2", "wild", "randomization", "auto")


def small_pilot(rng: np.random.Generator, *, n_treated: int = 5, n_control: int = 20) -> Panel:
    """One draw of the small-pilot scenario, true effect zero."""
    n_schools = n_treated + n_control
    years = np.array([2021, 2022, 2023, 2024])
    size = np.clip(np.round(np.exp(rng.normal(np.log(30), 0.9, n_schools))), 5, 150).astype(int)
    level = rng.normal(0, 1, n_schools)
    shock_sd = rng.uniform(0.1, 0.6, n_schools)
    treated = np.zeros(n_schools, dtype=bool)
    treated[rng.choice(n_schools, n_treated, replace=False)] = True
    school = np.repeat(np.arange(n_schools), size * len(years))
    year = np.concatenate([np.repeat(years, s) for s in size])
    cell_shock = rng.normal(0, 1, (n_schools, len(years))) * shock_sd[:, None]
    year_pos = np.searchsorted(years, year)
    y = (
        level[school]
        + 0.2 * year_pos
        + cell_shock[school, year_pos]
        + rng.normal(0, 1, len(school))
    )
    d = (treated[school] & (year >= 2023)).astype(int)
    frame = pd.DataFrame({"school": school, "year": year, "score": y, "pilot": d})
    return Panel.from_frame(
        frame,
        unit="school",
        time="year",
        outcome="score",
        treated="pilot",
        repeated_cross_section=True,
    )


def run(
    reps: int,
    seed: int,
    draws: int,
    n_treated: int = 5,
    n_control: int = 20,
    methods: tuple[str, ...] = METHODS,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rejections = {m: 0 for m in methods}
    used = []
    start = time.perf_counter()
    for rep in range(reps):
        panel = small_pilot(rng, n_treated=n_treated, n_control=n_control)
        for method in methods:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InferenceWarning)
                result = DifferenceInDifferences(
                    inference=method, draws=draws, seed=seed + rep
                ).fit(panel)
            rejections[method] += result.att.p_value < 0.05
            if method == "auto":
                used.append(result.settings["inference_used"])
        if (rep + 1) % 200 == 0:
            print(f"{rep + 1} replications, {time.perf_counter() - start:.0f} s", flush=True)
    rows = []
    for method in methods:
        rate = rejections[method] / reps
        rows.append(
            {
                "method": method,
                "rejection_rate": rate,
                "mc_se": np.sqrt(rate * (1 - rate) / reps),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["auto_used"] = pd.Series(used).value_counts().to_dict()
    return table


def run_simulator(reps: int, seed: int, draws: int, only: str = "") -> pd.DataFrame:
    """Rejection rates of each clustering estimator's default on ``small_pilot``."""
    import impact
    from impact.simulations import Scenario, monte_carlo

    few = {"draws": draws}
    estimators = {
        "did (auto)": impact.DifferenceInDifferences(**few),
        "did (cr1)": impact.DifferenceInDifferences(inference="cr1"),
        "event_study (auto)": impact.EventStudy(**few),
        "event_study (cr1)": impact.EventStudy(inference="cr1"),
        "its pooled (auto)": impact.InterruptedTimeSeries(**few),
        "its pooled (cr1)": impact.InterruptedTimeSeries(inference="cr1"),
        "staggered_did (auto)": impact.StaggeredDiD(),
        "staggered_did (analytic)": impact.StaggeredDiD(inference="analytic"),
        "matched_did (default)": impact.MatchedDiD(),
    }
    estimators = {k: v for k, v in estimators.items() if only in k}
    scenario = Scenario.small_pilot(effect=0.0)
    start = time.perf_counter()
    report = monte_carlo(
        estimators, scenario, n_reps=reps, seed=seed, terms=["att"], progress=False
    )
    elapsed = time.perf_counter() - start
    table = report.to_frame()[["estimator", "rejection_rate", "n_reps", "n_failed"]].copy()
    n = table["n_reps"] - table["n_failed"]
    table["mc_se"] = np.sqrt(table["rejection_rate"] * (1 - table["rejection_rate"]) / n)
    table.attrs["elapsed"] = elapsed
    table.attrs["warnings"] = report.warnings
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--draws", type=int, default=999, help="bootstrap/permutation draws")
    parser.add_argument("--treated", type=int, default=5, help="treated schools")
    parser.add_argument("--control", type=int, default=20, help="comparison schools")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument(
        "--simulator", action="store_true", help="Scenario.small_pilot, every estimator"
    )
    parser.add_argument("--only", default="", help="with --simulator: labels containing this")
    args = parser.parse_args()
    if args.simulator:
        table = run_simulator(args.reps, args.seed, args.draws, args.only)
        print(
            f"\nScenario.small_pilot(effect=0): 5 treated, 20 comparison schools, "
            f"{args.reps} reps, {args.draws} bootstrap draws, "
            f"{table.attrs['elapsed']:.0f} s"
        )
        print()
        print("| estimator (inference) | rejection rate at 5% | MC s.e. | failed |")
        print("|---|---|---|---|")
        for row in table.itertuples():
            print(
                f"| {row.estimator} | {100 * row.rejection_rate:.1f}% | "
                f"{100 * row.mc_se:.1f} | {row.n_failed} |"
            )
        warned = table.attrs["warnings"]
        if len(warned):
            print()
            print(warned.groupby(["estimator", "category"])["count"].sum().to_string())
        return
    methods = tuple(args.methods.split(","))
    table = run(args.reps, args.seed, args.draws, args.treated, args.control, methods)
    print(
        f"\nSmall pilot ({args.treated} treated, {args.control} comparison schools), "
        f"true effect 0, {args.reps} reps"
    )
    if "auto" in methods:
        print(f"auto resolved to: {table.attrs['auto_used']}")
    print()
    print("| method | rejection rate at 5% | MC s.e. |")
    print("|---|---|---|")
    for row in table.itertuples():
        print(f"| {row.method} | {100 * row.rejection_rate:.1f}% | {100 * row.mc_se:.1f} |")


if __name__ == "__main__":
    main()
