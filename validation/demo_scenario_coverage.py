"""Coverage of 95% intervals on the demo's Scottish schools scenario.

Simulates the scenario REPS times and reports, for each design and standard error, the
mean estimate, bias against the truth and the share of intervals covering it. Shows
that the naive before/after never covers, and that DiD intervals cover about 95% of
the time when clustered by school but too rarely with iid or HC1 standard errors (the
noise persists from year to year within schools).

    python validation/demo_scenario_coverage.py [REPS]
"""

import sys

import pandas as pd

import impact
from impact.datasets import load_scottish_schools
from impact.demo import before_after

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 500

designs = {
    "naive before/after": before_after,
    "DiD, iid SE": impact.DifferenceInDifferences(inference="iid").fit,
    "DiD, HC1 SE": impact.DifferenceInDifferences(inference="hc1").fit,
    "DiD, clustered by school (CR1)": impact.DifferenceInDifferences().fit,
}
rows = []
for rep in range(REPS):
    data = load_scottish_schools(seed=rep)
    truth = data.loc[data["pilot"] == 1, "true_effect"].mean()
    panel = impact.Panel.from_frame(
        data, unit="school", time="year", outcome="attainment", treated="pilot"
    )
    for label, fit in designs.items():
        att = fit(panel).att
        rows.append(
            {
                "design": label,
                "estimate": att.estimate,
                "error": att.estimate - truth,
                "covers": att.ci_lower <= truth <= att.ci_upper,
            }
        )
table = (
    pd.DataFrame(rows)
    .groupby("design", sort=False)
    .agg(mean_estimate=("estimate", "mean"), bias=("error", "mean"), coverage=("covers", "mean"))
)
print(f"{REPS} replications; truth 1.90 points")
print(table.round(3).to_string())
