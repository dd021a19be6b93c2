"""Tutorial: did the gap close?

Scottish education policy asks whether the poverty-related attainment gap closed: the
effect of a programme on pupils from the most deprived areas (SIMD quintile 1) against
the rest. This tutorial estimates effects by subgroup with ``impact.estimate_by``,
tests whether they are equal, estimates the effect on the gap with an interval that
accounts for pupils of both groups sharing their schools, follows the gap by year
since the start in a staggered roll-out, and closes with spillovers onto comparison
schools. First on simulated pupils where the truth is known, then on the county panel
of Callaway and Sant'Anna (2021).

Run it with ``python did_the_gap_close.py``; figures go to ``tutorial-output/``.
"""

# --8<-- [start:data]
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import impact
from impact.datasets import load_mpdta
from impact.simulations import Scenario, simulate

out = Path("tutorial-output")
out.mkdir(exist_ok=True)

scenario = Scenario(
    n_units=60, n_periods=6, adoption_period=4, pupils_per_unit=20,
    noise_sd=0.5, effect=0.5, subgroup_share=0.2, subgroup_effect=3.0,
)  # fmt: skip
sim = simulate(scenario, seed=2021)
print(sim.panel)
simd = np.where(sim.data["subgroup"] == 1, "simd_1", "simd_2-5")
print(f"share of pupils in SIMD quintile 1: {np.mean(simd == 'simd_1'):.2f}")
# --8<-- [end:data]

# --8<-- [start:by]
by_simd = impact.estimate_by(sim.panel, "did", by=simd, gap=("simd_1", "simd_2-5"))
columns = ["term", "estimate", "std_error", "ci_lower", "ci_upper", "p_holm"]
print(by_simd.effects[columns].round(3).to_string(index=False))
print(by_simd.diagnostics["equality_test"].round(4).to_string(index=False))
print("covariance:", by_simd.settings["covariance"])
ax = by_simd.plot(kind="subgroups")
ax.figure.savefig(out / "forest.png", dpi=100, bbox_inches="tight")
plt.close(ax.figure)
# --8<-- [end:by]

# --8<-- [start:naive-gap]
gap = by_simd.effects.set_index("term").loc["gap"]
apart = by_simd.effects.set_index("term").loc[["simd_1", "simd_2-5"], "std_error"]
print(f"gap: SE {gap.std_error:.3f} with the schools' shared shocks, "
      f"{np.hypot(*apart):.3f} if the groups were independent")  # fmt: skip
# --8<-- [end:naive-gap]

# --8<-- [start:staggered]
rollout = scenario.replace(
    n_units=40, pupils_per_unit=12, cohorts=((3, 0.25), (5, 0.25))
)  # the programme reaches a quarter of the schools in year 3, another in year 5
staggered = simulate(rollout, seed=2022)
simd = np.where(staggered.data["subgroup"] == 1, "simd_1", "simd_2-5")
by_year = impact.estimate_by(
    staggered.panel, "staggered_did", by=simd, gap=("simd_1", "simd_2-5"),
    terms="event_time", draws=49, seed=1,
)  # fmt: skip
gap_by_year = by_year.effects[by_year.effects.subgroup == "gap"]
print(gap_by_year[["term", "estimate", "ci_lower", "ci_upper"]].round(2).to_string(index=False))
print("covariance:", by_year.settings["covariance"], by_year.settings["bootstrap_draws"])
ax = by_year.plot(kind="gap")
ax.figure.savefig(out / "gap.png", dpi=100, bbox_inches="tight")
plt.close(ax.figure)
# --8<-- [end:staggered]

# --8<-- [start:spillover]
shared = Scenario(
    n_units=100, n_periods=6, adoption_period=4, treated_share=0.3, effect=2.0,
    spillover_units=30, spillover_share=0.5,
)  # 30 comparison schools get half the effect through shared services
data = simulate(shared, seed=2023).data
schools = impact.Panel.from_frame(
    data, unit="unit", time="time", outcome="y", treated="treated",
    extra_outcomes=["spillover"],
)  # fmt: skip
print("plain DiD:", impact.get_estimator("did").fit(schools).att)
rings = impact.SpilloverDiD(exposure="spillover").fit(schools)
print(rings.effects[["term", "estimate", "ci_lower", "ci_upper", "n_units"]].round(2)
      .to_string(index=False))  # fmt: skip
# --8<-- [end:spillover]

# --8<-- [start:real]
mpdta = load_mpdta()
size = np.where(mpdta["lpop"] > mpdta["lpop"].median(), "large", "small")
counties = impact.Panel.from_frame(
    mpdta.assign(size=size), unit="countyreal", time="year", outcome="lemp",
    cohort="first_treat",
)  # fmt: skip
by_size = impact.estimate_by(counties, "staggered_did", by=size, gap=("large", "small"))
print(by_size.effects[columns].round(4).to_string(index=False))
print(by_size.diagnostics["equality_test"].round(4).to_string(index=False))
print("covariance:", by_size.settings["covariance"])
# --8<-- [end:real]
