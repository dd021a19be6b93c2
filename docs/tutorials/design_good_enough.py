"""Tutorial: is the design of a five-school pilot good enough.

Before a pilot starts, simulate it: draw many cohorts like the one you will have, with
an effect you choose, and see whether the analysis you plan finds it, how often its
intervals cover the truth, and how often it reports an effect that is not there.

The pilot: five secondary schools get a social-work-trained support worker for three
years to reduce permanent exclusions; twenty schools are the comparison
(``Scenario.small_pilot()``).

Run it with ``python design_good_enough.py [N_REPS]`` (default 100 replications, 50
for the minimum detectable effect, so that it runs in well under a minute; the numbers
quoted in the text come from ``python design_good_enough.py 1000``). Figures go to
``tutorial-output/``.
"""

# --8<-- [start:scenario]
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import impact
from impact.simulations import (
    Scenario,
    minimum_detectable_effect,
    monte_carlo,
    plot_power,
    power_curve,
    simulate,
)

N_REPS = int(sys.argv[1]) if len(sys.argv) > 1 and __name__ == "__main__" else 100
out = Path("tutorial-output")
out.mkdir(exist_ok=True)

pilot = Scenario.small_pilot()
print(pilot.describe())
# --8<-- [end:scenario]

# --8<-- [start:one-draw]
cohort = simulate(pilot, seed=1)
print(cohort)
cr1 = impact.DifferenceInDifferences(inference="cr1")
auto = impact.DifferenceInDifferences(draws=999)  # few-cluster inference chosen by "auto"
print(cr1.fit(cohort.panel).att)
fit = auto.fit(cohort.panel)
print(fit.att)
print(f"inference used: {fit.settings['inference_used']}")
# --8<-- [end:one-draw]

# --8<-- [start:validate]
designs = {"DiD, CR1": cr1, "DiD, auto (wild bootstrap)": auto}
columns = ["truth", "mean_estimate", "bias", "coverage", "mean_ci_width", "rejection_rate"]
report = monte_carlo(designs, pilot, n_reps=N_REPS, seed=2026, backend="serial", terms=["att"])
print(report.to_frame().set_index("estimator")[columns].round(2).to_string())
# --8<-- [end:validate]

# --8<-- [start:size]
no_effect = pilot.replace(effect=0.0)
null_report = monte_carlo(
    designs, no_effect, n_reps=N_REPS, seed=2027, backend="serial", terms=["att"]
)
size = null_report.to_frame().set_index("estimator")["rejection_rate"]
print(size.rename("size (rejections of a true null)").round(3))
# --8<-- [end:size]

# --8<-- [start:power]
reductions = [0.25, 0.5, 0.75]  # falls in the exclusion rate
curve = power_curve(
    auto, pilot, effects=[math.log(1 - r) for r in reductions],
    n_reps=N_REPS, seed=2028, backend="serial",
)  # fmt: skip
curve["rate_ratio"] = [math.exp(e) for e in curve["effect"]]
print(curve[["rate_ratio", "truth", "power", "power_mcse"]].round(2).to_string(index=False))
ax = plot_power(curve)
ax.set_xlabel("effect: log of the rate ratio (log 0.75 = a 25% fall)")
ax.figure.savefig(out / "power-curve.png", dpi=100, bbox_inches="tight")
plt.close(ax.figure)
# --8<-- [end:power]

# --8<-- [start:mde]
mde = minimum_detectable_effect(
    auto, pilot, power=0.8, n_reps=N_REPS // 2, seed=2029, direction="decrease",
    max_effect=3.0, tol=0.5, backend="serial",
)  # fmt: skip
print(mde)
print(f"as a fall in the exclusion rate: {1 - math.exp(mde.effect):.0%}")
# --8<-- [end:mde]
