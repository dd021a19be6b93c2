"""Coverage of the cross-fitted doubly robust DiD on pupil-level repeated cross-sections.

Data: 120 schools over four years, ten new pupils per school and year (a repeated
cross-section: no pupil is seen twice). A school's pupils have covariate
``x = c + N(0, 0.5)`` around the school's centre ``c ~ U(-2, 2)``; schools far from
the middle join the programme in year 3 more often, ``P(join) = 1 / (1 + exp(0.8 -
0.6 c**2))`` (between 0.31 and 0.83), and pupils far from the middle are on steeper
trends without it, ``y = school effect + 0.5 x**2 year + 1.0 D + e``. Linear-index
nuisance models miss ``x**2``: the default estimator is biased.

Estimators (all ``StaggeredDiD(method="dr")``, cells from the repeated cross-section
estimator): the default logit and least squares; cross-fitted (3 folds of schools)
polynomial models (degree 2: the outcome regressions are then correctly specified,
so the doubly robust estimate is consistent and the coverage checks the influence
function); cross-fitted gradient boosting (``max_iter=30``, one thread).

Run: ``python validation/learners_cross_sections_coverage.py [n_reps]`` (default 100).
Results: validation/results/learners_cross_sections_coverage.txt.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

import impact
from impact._threads import learner_thread_budget

TRUE_EFFECT = 1.0
RESULTS = Path(__file__).resolve().parent / "results" / "learners_cross_sections_coverage.txt"


def simulate(seed: int, n_schools: int = 120, pupils: int = 10) -> impact.Panel:
    rng = np.random.default_rng(seed)
    centre = rng.uniform(-2, 2, size=n_schools)
    joins = rng.random(n_schools) < 1 / (1 + np.exp(0.8 - 0.6 * centre**2))
    school = np.repeat(np.arange(n_schools), 4 * pupils)
    year = np.tile(np.repeat(np.arange(1, 5), pupils), n_schools)
    x = centre[school] + rng.normal(0, 0.5, len(school))
    d = (joins[school] & (year >= 3)).astype(int)
    y = (
        rng.normal(size=n_schools)[school]
        + 0.5 * x**2 * year
        + TRUE_EFFECT * d
        + rng.normal(size=len(d))
    )
    frame = pd.DataFrame({"school": school, "year": year, "x": x, "d": d, "y": y})
    return impact.Panel.from_frame(
        frame, unit="school", time="year", outcome="y", treated="d", covariates=["x"]
    )


ESTIMATORS = {
    "default (logit, least squares)": lambda: impact.StaggeredDiD(),
    "polynomial, cross_fit=3": lambda: impact.StaggeredDiD(
        propensity_model=make_pipeline(PolynomialFeatures(2), LogisticRegression(max_iter=1000)),
        outcome_model=make_pipeline(PolynomialFeatures(2), LinearRegression()),
        cross_fit=3,
    ),
    "gradient boosting, cross_fit=3": lambda: impact.StaggeredDiD(
        propensity_model=HistGradientBoostingClassifier(max_iter=30),
        outcome_model=HistGradientBoostingRegressor(max_iter=30),
        cross_fit=3,
    ),
}


def main() -> None:
    n_reps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    warnings.simplefilter("ignore")
    rows = {name: [] for name in ESTIMATORS}
    began = time.perf_counter()
    for rep in range(n_reps):
        panel = simulate(3000 + rep)
        for name, make in ESTIMATORS.items():
            with learner_thread_budget(1):
                att = make().fit(panel).att
            rows[name].append((att.estimate, att.std_error, att.ci_lower, att.ci_upper))
    lines = [
        f"{n_reps} replications, 120 schools x 4 years x 10 new pupils, true effect "
        f"{TRUE_EFFECT} ({time.perf_counter() - began:.0f} s)",
        f"{'estimator':34s} {'bias':>8s} {'sd':>7s} {'mean se':>8s} {'coverage':>9s}",
    ]
    for name, values in rows.items():
        a = np.array(values)
        covered = (a[:, 2] < TRUE_EFFECT) & (TRUE_EFFECT < a[:, 3])
        lines.append(
            f"{name:34s} {a[:, 0].mean() - TRUE_EFFECT:8.3f} {a[:, 0].std():7.3f} "
            f"{a[:, 1].mean():8.3f} {covered.mean():9.2f}"
        )
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
