"""Coverage of the doubly robust DiD when selection is non-linear in the covariates.

Data: ``n`` schools observed in two years; a share of them start a programme in the
second year with a true effect of 1.0. Two covariates, ``x1 ~ U(-2, 2)`` and
``x2 ~ N(0, 1)``. Schools far from the middle of ``x1`` (either end) are more likely
to join, ``logit P(join) = 0.8 (x1**2 - 4/3 + 0.3 x2)`` (scores between about 0.2 and 0.9),
and the same schools are on steeper trends without the programme,
``y_2 - y_1 = 1 + 1.5 x1**2 + 0.5 x2 + e``. A logit and an outcome regression linear
in ``x1`` and ``x2`` see no link between ``x1`` and joining (``x1**2`` is uncorrelated
with ``x1``), so both nuisance models are wrong and the doubly robust estimator with
the built-in (linear-index) models is biased. Gradient boosting learns ``x1**2``; with
5-fold cross-fitting the DML DiD's intervals should cover at the nominal 95%.

Estimators (all ``StaggeredDiD(method="dr")``): the default logit and least squares;
``HistGradientBoostingClassifier``/``Regressor`` with ``cross_fit=5``; the same
learners without cross-fitting (``cross_fit=None``: in-sample predictions with the
parametric influence function, which the estimator warns about).

Run: ``python validation/flexible_propensity_coverage.py [n_reps] [n_units]``
(defaults 150 and 4000). Results: validation/results/flexible_propensity_coverage.txt.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

import impact

TRUE_EFFECT = 1.0
RESULTS = Path(__file__).resolve().parent / "results" / "flexible_propensity_coverage.txt"


def simulate(rng: np.random.Generator, n: int) -> impact.Panel:
    """One two-year panel of the scenario in the module docstring."""
    x1 = rng.uniform(-2, 2, n)
    x2 = rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-0.8 * (x1**2 - 4 / 3 + 0.3 * x2)))
    joined = rng.random(n) < p
    level = rng.normal(0, 1, n) + 0.5 * x1
    y1 = level + rng.normal(0, 1, n)
    y2 = level + 1 + 1.5 * x1**2 + 0.5 * x2 + TRUE_EFFECT * joined + rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {
            "school": np.repeat(np.arange(n), 2),
            "year": np.tile([2021, 2022], n),
            "score": np.column_stack([y1, y2]).ravel(),
            "first_year": np.repeat(np.where(joined, 2022, 0), 2),
            "x1": np.repeat(x1, 2),
            "x2": np.repeat(x2, 2),
        }
    )
    return impact.Panel.from_frame(
        frame,
        unit="school",
        time="year",
        outcome="score",
        cohort="first_year",
        covariates=["x1", "x2"],
    )


def boosted(cross_fit: int | None) -> impact.StaggeredDiD:
    return impact.StaggeredDiD(
        propensity_model=HistGradientBoostingClassifier(
            max_iter=100, max_depth=3, min_samples_leaf=40
        ),
        outcome_model=HistGradientBoostingRegressor(max_iter=100, max_depth=3, min_samples_leaf=40),
        cross_fit=cross_fit,
    )


ESTIMATORS = {
    "logit + least squares (default)": impact.StaggeredDiD(),
    "boosting, cross-fitted (5 folds)": boosted(5),
    "boosting, no cross-fitting": boosted(None),
}


def run(n_reps: int, n_units: int, seed: int = 2026) -> pd.DataFrame:
    rows = []
    children = np.random.SeedSequence(seed).spawn(n_reps)
    for rep, child in enumerate(children):
        panel = simulate(np.random.default_rng(child), n_units)
        for label, estimator in ESTIMATORS.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    att = estimator.fit(panel).att
                except impact.exceptions.ImpactError as err:
                    rows.append({"rep": rep, "estimator": label, "error": str(err)})
                    continue
            rows.append(
                {
                    "rep": rep,
                    "estimator": label,
                    "estimate": att.estimate,
                    "std_error": att.std_error,
                    "covered": att.ci_lower <= TRUE_EFFECT <= att.ci_upper,
                    "seconds": time.perf_counter() - started,
                    "error": "",
                }
            )
    return pd.DataFrame(rows)


def summarise(reps: pd.DataFrame) -> pd.DataFrame:
    ok = reps[reps["error"] == ""]
    table = ok.groupby("estimator", sort=False).agg(
        n_reps=("estimate", "size"),
        bias=("estimate", lambda e: e.mean() - TRUE_EFFECT),
        sd=("estimate", "std"),
        mean_se=("std_error", "mean"),
        coverage=("covered", "mean"),
        seconds_per_fit=("seconds", "mean"),
    )
    table["mc_se_coverage"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / table["n_reps"])
    table["failed"] = reps.groupby("estimator", sort=False)["error"].apply(
        lambda e: (e != "").sum()
    )
    return table


def main() -> None:
    n_reps = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    n_units = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    started = time.perf_counter()
    table = summarise(run(n_reps, n_units))
    minutes = (time.perf_counter() - started) / 60
    text = (
        "Flexible propensity scores: coverage of the doubly robust DiD (true effect 1.0)\n"
        f"{n_reps} replications, {n_units} schools, two years; selection and trends "
        "quadratic in x1 (see validation/flexible_propensity_coverage.py)\n"
        f"scikit-learn {__import__('sklearn').__version__}; {minutes:.1f} minutes\n\n"
        + table.to_string(float_format=lambda v: f"{v:.4f}")
        + "\n"
    )
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
