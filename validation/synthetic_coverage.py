"""Monte Carlo: synthetic DiD against difference-in-differences when one council adopts.

Simulates ``Scenario.one_council()`` (32 councils over 20 years, one adopting in year
15; outcomes from an interactive fixed-effects model with two latent trends, the
adopting council chosen for its loading on the first; true effect zero) and records,
for each estimator, the mean estimate (the bias, since the truth is zero), the root
mean squared error, the mean standard error and how often the 95% interval covers
the truth (an interval the estimator withholds, as the synthetic control does when its
pre-period fit is poor, counts as not covering; ``withheld`` gives their share and
``coverage_reported`` the coverage of the intervals reported):

- ``SyntheticDiD()`` (placebo standard errors, the "auto" choice with one treated unit);
- ``SyntheticDiD(method="did")`` (uniform weights, the same placebo SEs), and with
  ``--with-sc`` ``SyntheticDiD(method="sc")``;
- ``DifferenceInDifferences()`` (two-way fixed effects with the package's "auto"
  inference, which falls back to the wild bootstrap with one treated council);
- ``SyntheticControl()`` (outcome-only synthetic control with the placebo-in-space
  standard error of :mod:`impact.estimators.synthetic._sc_inference`).

``--selection random`` draws the adopting council at random instead of for its
loading: it then usually lies inside the comparison councils' range, the case the
synthetic control (which has no intercept) is built for. With the default
``--selection factor`` it lies outside that range, and the synthetic control warns.

Usage::

    python validation/synthetic_coverage.py --reps 200 --placebos 100 [--with-sc]
        [--selection random] [--only "synthetic control"]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import impact


def one_rep(
    seed: int, placebos: int, scenario: impact.Scenario, with_sc: bool, only: str | None = None
) -> list[dict]:
    sim = impact.simulate(scenario, seed=seed)
    truth = float(sim.truth.set_index("term").loc["att", "truth"])
    fits = {
        "synthetic DiD": impact.SyntheticDiD(replications=placebos, seed=seed),
        "DiD (uniform weights, placebo SE)": impact.SyntheticDiD(
            method="did", replications=placebos, seed=seed
        ),
        "DiD (TWFE, package inference)": impact.DifferenceInDifferences(seed=seed, draws=999),
        "synthetic control (ADH, placebo SE)": impact.SyntheticControl(
            conformal=False, seed=seed
        ),
    }
    if with_sc:
        fits["synthetic control (sc)"] = impact.SyntheticDiD(
            method="sc", replications=placebos, seed=seed
        )
    rows = []
    for name, estimator in fits.items():
        if only is not None and not name.startswith(only):
            continue
        att = estimator.fit(sim.panel).att
        rows.append(
            {
                "estimator": name,
                "seed": seed,
                "error": att.estimate - truth,
                "std_error": att.std_error,
                "covered": bool(att.ci_lower <= truth <= att.ci_upper),
                "withheld": bool(np.isnan(att.ci_lower)),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--placebos", type=int, default=100)
    parser.add_argument("--with-sc", action="store_true", help="also method='sc' (slower)")
    parser.add_argument("--selection", choices=("factor", "random"), default="factor")
    parser.add_argument("--only", help="run only the estimators whose label starts so")
    parser.add_argument("--treated", type=int, default=1, help="adopting councils (of 32)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    scenario = impact.Scenario.one_council(
        selection=args.selection, treated_share=args.treated / 32
    )
    start = time.perf_counter()
    rows = [
        row
        for seed in range(args.reps)
        for row in one_rep(seed, args.placebos, scenario, args.with_sc, args.only)
    ]
    frame = pd.DataFrame(rows)
    table = frame.groupby("estimator", sort=False).agg(
        bias=("error", "mean"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
        mean_se=("std_error", "mean"),
        coverage=("covered", "mean"),
        withheld=("withheld", "mean"),
    )
    reported = frame[~frame["withheld"]].groupby("estimator", sort=False)["covered"]
    table["coverage_reported"] = reported.mean()
    reps = args.reps
    table["coverage_mc_se"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / reps)
    table["bias_mc_se"] = frame.groupby("estimator", sort=False)["error"].std() / np.sqrt(reps)
    print(f"Scenario.one_council(): {scenario.describe()}")
    print(
        f"{reps} replications, {args.placebos} placebos each, seeds 0..{reps - 1}; "
        f"{time.perf_counter() - start:.0f} s"
    )
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(table.to_string())


if __name__ == "__main__":
    main()
