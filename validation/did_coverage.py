"""Monte Carlo check of DifferenceInDifferences: bias and coverage of 95% intervals.

Data: 60 schools over 6 years, half of them starting a programme in year 4 with a
true effect of 1.0; school effects, a common rising trend and AR(1) errors within
school (rho = 0.6), so conventional (iid) standard errors are too small while
clustering by school is valid. Run: ``python validation/did_coverage.py [n_reps]``.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import impact

TRUE_EFFECT = 1.0


def simulate(
    rng: np.random.Generator, n_units: int = 60, n_periods: int = 6, rho: float = 0.6
) -> pd.DataFrame:
    unit = np.repeat(np.arange(n_units), n_periods)
    t = np.tile(np.arange(n_periods), n_units)
    shocks = rng.normal(0, 1, (n_units, n_periods))
    errors = np.empty_like(shocks)
    errors[:, 0] = shocks[:, 0] / np.sqrt(1 - rho**2)
    for s in range(1, n_periods):
        errors[:, s] = rho * errors[:, s - 1] + shocks[:, s]
    d = ((unit < n_units // 2) & (t >= 3)).astype(int)
    y = rng.normal(0, 2, n_units)[unit] + 0.8 * t + TRUE_EFFECT * d + errors.ravel()
    return pd.DataFrame({"unit": unit, "time": t, "y": y, "d": d})


def main(n_reps: int = 1000, seed: int = 20261126) -> pd.DataFrame:
    children = np.random.SeedSequence(seed).spawn(n_reps)
    rows = []
    for child in children:
        frame = simulate(np.random.default_rng(child))
        panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
        for inference in ("cr1", "hc1", "iid"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                att = impact.DifferenceInDifferences(inference=inference).fit(panel).att
            rows.append(
                {
                    "inference": inference,
                    "estimate": att.estimate,
                    "covered": att.ci_lower <= TRUE_EFFECT <= att.ci_upper,
                }
            )
    draws = pd.DataFrame(rows)
    table = draws.groupby("inference").agg(
        mean_estimate=("estimate", "mean"),
        bias=("estimate", lambda e: e.mean() - TRUE_EFFECT),
        coverage=("covered", "mean"),
    )
    table["coverage_mcse"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / n_reps)
    table["n_reps"] = n_reps
    return table


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(main(reps).to_string(float_format=lambda x: f"{x:.4f}"))
