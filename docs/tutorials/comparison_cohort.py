"""Tutorial: finding a comparison cohort.

When a programme picks its participants, the people who did not take part differ from
those who did, and a plain difference in outcomes mixes the programme's effect with
those differences. Matching builds a comparison group that resembles the participants
on what we observe; balance diagnostics show whether it worked and a sensitivity
analysis asks how much *unobserved* difference would overturn the conclusion.

First on simulated pupils where the truth is known, then on the classic test of
matching: the National Supported Work (NSW) job-training experiment, whose randomised
control group gives a benchmark that a non-experimental comparison group must match.

Run it with ``python comparison_cohort.py``; figures go to ``tutorial-output/``.
"""

# --8<-- [start:simulate]
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import impact
from impact.datasets import load_lalonde, load_nsw

out = Path("tutorial-output")
out.mkdir(exist_ok=True)

rng = np.random.default_rng(11)
n = 2000
prior = rng.normal(0, 1, n)  # prior attainment, standardised
deprived = rng.binomial(1, 0.3, n)  # lives in a deprived area
# schools refer pupils with low prior attainment from deprived areas to a mentoring scheme
p_referred = 1 / (1 + np.exp(-(-1.8 - 1.2 * prior + 1.0 * deprived)))
mentored = rng.binomial(1, p_referred)
truth = 0.3  # the scheme raises the end-of-year score by 0.3 standard deviations
score = 0.7 * prior - 0.4 * deprived + truth * mentored + rng.normal(0, 0.6, n)
pupils = pd.DataFrame(
    {"pupil": np.arange(n), "year": 2024, "score": score, "mentored": mentored,
     "prior": prior, "deprived": deprived}
)  # fmt: skip
print(pupils.groupby("mentored")[["prior", "deprived", "score"]].mean().round(2))
# --8<-- [end:simulate]

# --8<-- [start:raw]
raw = score[mentored == 1].mean() - score[mentored == 0].mean()
print(f"raw difference, mentored minus others: {raw:.2f} (truth {truth:.2f})")
# --8<-- [end:raw]

# --8<-- [start:match]
panel = impact.Panel.from_frame(
    pupils, unit="pupil", time="year", outcome="score", treated="mentored",
    covariates=["prior", "deprived"],
)  # fmt: skip
matched = impact.MatchedComparison(replace=True).fit(panel)
print(matched.att)
balance = matched.diagnostics["balance"]
print(balance[["covariate", "smd_before", "smd_after"]].round(2))
# --8<-- [end:match]

# --8<-- [start:nsw]
nsw = load_nsw()  # needs the datasets extra: pip install "impact[datasets]"
experiment = nsw.loc[nsw["treat"] == 1, "re78"].mean() - nsw.loc[nsw["treat"] == 0, "re78"].mean()
print(f"experimental benchmark (NSW treated minus NSW controls): {experiment:,.0f} dollars")

lalonde = load_lalonde()
raw_psid = (
    lalonde.loc[lalonde["treat"] == 1, "re78"].mean()
    - lalonde.loc[lalonde["treat"] == 0, "re78"].mean()
)
print(f"raw comparison (NSW treated minus PSID men): {raw_psid:,.0f} dollars")
# --8<-- [end:nsw]

# --8<-- [start:nsw-match]
covariates = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
men = impact.Panel.from_frame(
    lalonde.assign(year=1978), unit="id", time="year", outcome="re78", treated="treat",
    covariates=covariates,
)  # fmt: skip
psid_matched = impact.MatchedComparison(replace=True).fit(men)
print(psid_matched.att)
print(psid_matched.diagnostics["sample_sizes"].round(1).to_string(index=False))
# --8<-- [end:nsw-match]

# --8<-- [start:balance]
nsw_balance = psid_matched.diagnostics["balance"]
print(nsw_balance[["covariate", "mean_treated", "mean_control_before", "mean_control_after",
                   "smd_before", "smd_after"]].round(2).to_string(index=False))  # fmt: skip
ax = psid_matched.plot("balance")
ax.figure.savefig(out / "love-plot.png", dpi=100, bbox_inches="tight")
plt.close(ax.figure)
# --8<-- [end:balance]

# --8<-- [start:sensitivity]
bounds = psid_matched.diagnostics["sensitivity"]
print(bounds[bounds["gamma"].isin([1.0, 1.1, 1.2, 1.3, 1.5])].round(4).to_string(index=False))
summary = psid_matched.diagnostics["sensitivity_summary"].set_index("quantity")["value"]
critical_gamma = summary["critical_gamma"]
print(f"critical Gamma: {critical_gamma:.2f}")
# --8<-- [end:sensitivity]

# --8<-- [start:compare]
table = impact.compare(
    {
        "1:1 nearest, no replacement": impact.MatchedComparison().fit(men),
        "1:1 nearest, with replacement": psid_matched,
        "1:3 nearest, with replacement": impact.MatchedComparison(replace=True, ratio=3).fit(men),
        "propensity-score weighting": impact.MatchedComparison(method="weighting").fit(men),
    }
)
table = table[table["term"] == "att"].set_index("estimator")
table["benchmark"] = experiment
print(table[["estimate", "ci_lower", "ci_upper", "benchmark"]].round(0).astype(int))
# --8<-- [end:compare]
