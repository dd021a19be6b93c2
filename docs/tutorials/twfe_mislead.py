"""Tutorial: when two-way fixed effects mislead.

Schools join a programme in different years and its effect builds up over two or
three years. The usual two-way fixed effects (TWFE) regression then compares
later-adopting schools with schools that adopted earlier and are still gaining from
the programme, and it understates the effect. The Goodman-Bacon decomposition shows
why; the Callaway and Sant'Anna estimator (``StaggeredDiD``) recovers the truth. First
on simulated schools where the truth is known, then on the county panel of Callaway
and Sant'Anna (2021).

Run it with ``python twfe_mislead.py``; figures go to ``tutorial-output/``.
"""

# --8<-- [start:data]
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import impact
from impact.datasets import load_mpdta
from impact.simulations import Scenario, simulate

out = Path("tutorial-output")
out.mkdir(exist_ok=True)

scenario = Scenario.staggered_rollout()
print(scenario.describe())
sim = simulate(scenario, seed=2026)
print(sim.panel)
truth = sim.truth.set_index("term")["truth"]
print(f"true ATT over all treated school-years: {truth['att']:.2f}")
# --8<-- [end:data]

# --8<-- [start:bacon]
bacon = impact.diagnostics.bacon_decomposition(sim.panel)
print(f"static TWFE estimate: {bacon.twfe:.2f}")
print(bacon.by_type().round(3).to_string(index=False))
ax = bacon.plot()
ax.figure.savefig(out / "bacon.png", dpi=100)
plt.close(ax.figure)
# --8<-- [end:bacon]

# --8<-- [start:staggered]
staggered = impact.StaggeredDiD().fit(sim.panel)
print(staggered.att)
print(staggered.diagnostics["pretrend_test"].round(3).to_string(index=False))
# --8<-- [end:staggered]

# --8<-- [start:dynamic]
dynamic = staggered.aggregate("dynamic")
event_times = dynamic.effects.query("term != 'att'")  # the overall row averages event times
table = event_times[["term", "estimate", "ci_lower", "ci_upper"]].merge(
    sim.truth[["term", "truth"]], on="term", how="left"
)
print(table.round(2).to_string(index=False))
ax = dynamic.plot("event_study")
ax.figure.savefig(out / "event-study.png", dpi=100)
plt.close(ax.figure)
# --8<-- [end:dynamic]

# --8<-- [start:event_study]
twfe_study = impact.EventStudy().fit(sim.panel)
compare = twfe_study.effects[["term", "estimate"]].merge(
    event_times[["term", "estimate"]], on="term", suffixes=("_twfe", "_staggered")
)
compare = compare.merge(sim.truth[["term", "truth"]], on="term")
print(compare.round(2).to_string(index=False))
# --8<-- [end:event_study]

# --8<-- [start:real]
mpdta = load_mpdta()
counties = impact.Panel.from_frame(
    mpdta, unit="countyreal", time="year", outcome="lemp", cohort="first_treat"
)
print(counties)
minimum_wage = impact.StaggeredDiD().fit(counties)
print(minimum_wage.att)
for kind in ("group", "dynamic"):
    print(kind, minimum_wage.aggregate(kind).att)
print(f"static TWFE: {impact.diagnostics.bacon_decomposition(counties).twfe:.4f}")
# --8<-- [end:real]
