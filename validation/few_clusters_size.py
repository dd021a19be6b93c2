"""Size of DiD tests with few treated clusters: the small-pilot scenario.

Five treated schools and twenty comparison schools, observed for two years before and
two years after the pilot starts; each school-year holds a new cohort of pupils whose
number varies widely between schools (lognormal, 5 to 150 pupils), schools have their
own level, school-by-year shocks correlate pupils within a school-year, and the
variance of those shocks differs between schools. The true effect is zero, so every
rejection at 5% is a false positive. The treated schools are drawn at random in each
replication.

This local generator stands in for the simulator's ``Scenario.small_pilot()`` until
that lands; it follows the same description.

Usage::

    python validation/few_clusters_size.py --reps 2000 --seed 20261126

Prints a markdown table of rejection rates (with Monte Carlo standard errors) for
CR1, CR2, the wild cluster restricted bootstrap, randomization inference and the
default ``"auto"``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--draws", type=int, default=999, help="bootstrap/permutation draws")
    parser.add_argument("--treated", type=int, default=5, help="treated schools")
    parser.add_argument("--control", type=int, default=20, help="comparison schools")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    args = parser.parse_args()
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
