"""Tutorial: everyone's attainment rose.

Why a before/after comparison misleads, and how difference-in-differences and a
controlled interrupted time series build the counterfactual it misses: first on
simulated schools where the true effect is known, then on real data (Wooldridge's incinerator houses).

Run it with ``python attainment_rose.py``; figures go to ``tutorial-output/``.
"""

# --8<-- [start:data]
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import impact
from impact.datasets import load_kielmc, load_scottish_schools
from impact.demo import before_after

out = Path("tutorial-output")
out.mkdir(exist_ok=True)

schools = load_scottish_schools()
print(schools.head())
# --8<-- [end:data]

# --8<-- [start:truth]
truth = schools.loc[schools["pilot"] == 1, "true_effect"].mean()
print(f"true average effect on pilot schools in programme years: {truth:.2f} points")
# --8<-- [end:truth]

# --8<-- [start:trends]
is_pilot_school = schools["first_pilot_year"] > 0
trends = schools.groupby([schools["year"], is_pilot_school])["attainment"].mean().unstack()
trends.columns = ["other schools", "pilot schools"]
print(trends.round(1))
ax = trends.plot(marker="o", title="Mean attainment by year")
ax.axvline(2003.5, color="grey", linestyle=":")
ax.figure.savefig(out / "trends.png", dpi=100)
plt.close(ax.figure)
# --8<-- [end:trends]

# --8<-- [start:naive]
pilots = schools[is_pilot_school]
naive = (
    pilots.loc[pilots["year"] >= 2004, "attainment"].mean()
    - pilots.loc[pilots["year"] < 2004, "attainment"].mean()
)
print(f"naive before/after: {naive:.2f} points (truth {truth:.2f})")
# --8<-- [end:naive]

# --8<-- [start:did]
panel = impact.Panel.from_frame(
    schools, unit="school", time="year", outcome="attainment", treated="pilot"
)
print(panel)
did = impact.DifferenceInDifferences().fit(panel)
print(did.att)
# --8<-- [end:did]

# --8<-- [start:paths]
print(did.paths[["time", "observed", "counterfactual", "effect"]].round(2))
ax = did.plot("paths")
ax.figure.savefig(out / "did-paths.png", dpi=100)
plt.close(ax.figure)
# --8<-- [end:paths]

# --8<-- [start:compare]
naive_result = before_after(panel)
table = impact.compare({"naive before/after": naive_result, "difference-in-differences": did})
table["truth"] = truth
print(table[["estimator", "estimate", "ci_lower", "ci_upper", "truth"]].round(2))
# --8<-- [end:compare]

# --8<-- [start:its]
its_single = impact.InterruptedTimeSeries(comparison=False).fit(panel)
its_controlled = impact.InterruptedTimeSeries().fit(panel)  # uses the other schools
print(its_single.att)
print(its_controlled.att)
# --8<-- [end:its]

# --8<-- [start:reform]
# a national reform: from 2004 every school rises by an extra 0.8 points a year
reform = schools.assign(attainment=schools["attainment"] + 0.8 * (schools["year"] - 2003).clip(0))
reform_panel = impact.Panel.from_frame(
    reform, unit="school", time="year", outcome="attainment", treated="pilot"
)
reform_results = {
    "naive before/after": before_after(reform_panel),
    "difference-in-differences": impact.DifferenceInDifferences().fit(reform_panel),
    "ITS, pilot schools only": impact.InterruptedTimeSeries(comparison=False).fit(reform_panel),
    "controlled ITS": impact.InterruptedTimeSeries().fit(reform_panel),
}
reform_table = impact.compare(reform_results)
reform_table = reform_table[reform_table["term"] == "att"].set_index("estimator")
reform_table["truth"] = truth
print(reform_table[["estimate", "ci_lower", "ci_upper", "truth"]].round(2))
# --8<-- [end:reform]

# --8<-- [start:real]
houses = load_kielmc()  # needs the datasets extra: pip install "impact[datasets]"
near = houses[houses["nearinc"] == 1]
naive_houses = (
    near.loc[near["year"] == 1981, "rprice"].mean() - near.loc[near["year"] == 1978, "rprice"].mean()
)
print(f"houses near the incinerator, 1981 minus 1978: {naive_houses:,.0f} dollars")

houses_panel = impact.Panel.from_frame(
    houses, unit="nearinc", time="year", outcome="rprice", treated="y81nrinc"
)
did_houses = impact.DifferenceInDifferences(inference="hc1").fit(houses_panel)
print(did_houses.att)
# --8<-- [end:real]
