"""Tutorial: would the rise have happened anyway? How much can we trust the trend?

Pilot schools start a programme; an event study shows flat pre-trends and a clear
effect. But a flat pre-trend is weak evidence: the test has little power, and the gap
between pilot and comparison schools may open just as the programme starts. This
tutorial asks how large a departure from parallel trends would overturn the
conclusion (Rambachan and Roth 2023), how large a pre-trend the test could have
detected (Roth 2022), and gathers both with the few-cluster status in one robustness
summary. First on simulated schools whose untreated trends diverge, then on the county
panel of Callaway and Sant'Anna (2021).

Run it with ``python trust_the_trend.py``; figures go to ``tutorial-output/``.
"""

# --8<-- [start:data]
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import impact
from impact.datasets import load_mpdta
from impact.plotting.sensitivity import plot_sensitivity
from impact.sensitivity import breakdown, honest_sensitivity, pretrend_power
from impact.simulations import Scenario, simulate

out = Path("tutorial-output")
out.mkdir(exist_ok=True)

# the programme adds 2 points; the pilot schools' untreated outcome also drifts up by
# 0.6 points a year from the year of adoption: a violation no pre-test can see
scenario = Scenario.scottish_schools(effect=2.0, violation=0.6, violation_start=0)
sim = simulate(scenario, seed=7)
truth = sim.truth.set_index("term")["truth"]
print(f"true effect in the first year: {truth['e=0']:.2f}")
# --8<-- [end:data]

# --8<-- [start:event-study]
study = impact.EventStudy(inference="cr1").fit(sim.panel)
first = study.effect("e=0")
print(f"event study, first year: {first.estimate:.2f} [{first.ci_lower:.2f}, {first.ci_upper:.2f}]")
print(f"pre-trend test p-value: {study.diagnostics['pretrend_test']['p_value'].iloc[0]:.2f}")
# --8<-- [end:event-study]

# --8<-- [start:sensitivity]
sets = honest_sensitivity(study, restriction="smoothness", M=[0.0, 0.3, 0.6, 0.9])
print(sets.round(2).to_string(index=False))
m_breakdown = breakdown(study, restriction="smoothness")
mbar_breakdown = breakdown(study, restriction="relative_magnitudes")
print(f"breakdown M (smoothness): {m_breakdown:.2f} points per year")
print(f"breakdown Mbar (relative magnitudes): {mbar_breakdown:.2f}")
ax = plot_sensitivity(sets)
ax.figure.savefig(out / "sensitivity.png", dpi=110)
# --8<-- [end:sensitivity]

# --8<-- [start:power]
power = pretrend_power(study)
print(f"slope the pre-test detects with 80% power: {power.slopes[0.8]:.2f} points per year")
# --8<-- [end:power]

# --8<-- [start:robustness]
summary = impact.robustness(study)
print(summary)
# --8<-- [end:robustness]

# --8<-- [start:real]
mpdta = load_mpdta()
counties = impact.Panel.from_frame(
    mpdta, unit="countyreal", time="year", outcome="lemp", cohort="first_treat"
)
staggered = impact.StaggeredDiD(base_period="universal").fit(counties)
dynamic = staggered.aggregate("dynamic")
minimum_wage = honest_sensitivity(
    dynamic, restriction="relative_magnitudes", M=[0.5, 1.0], target="average"
)
print(minimum_wage.round(4).to_string(index=False))
wage_breakdown = breakdown(dynamic, target="average")
print(f"breakdown Mbar, average effect on teen employment: {wage_breakdown:.2f}")
# --8<-- [end:real]
