"""Quick start: why a before/after comparison misleads, and what DiD does instead.

Simulates 200 schools over 8 years. Attainment rises in every school (a national
trend of 1.5 points a year); 40 pilot schools start a programme in year 5 whose true
effect is +2.0 points. The naive before/after change in pilot schools credits the
programme with the national rise; difference-in-differences removes it.
"""

import numpy as np
import pandas as pd

import impact

TRUE_EFFECT = 2.0
rng = np.random.default_rng(2026)
n_schools, years = 200, np.arange(2001, 2009)
school = np.repeat(np.arange(n_schools), len(years))
year = np.tile(years, n_schools)
pilot_school = school < 40
pilot = (pilot_school & (year >= 2005)).astype(int)
score = (
    rng.normal(50, 5, n_schools)[school]  # school effect
    + 1.5 * (year - 2001)  # national rise in attainment
    + TRUE_EFFECT * pilot
    + rng.normal(0, 2, len(school))
)
data = pd.DataFrame({"school": school, "year": year, "score": score, "pilot": pilot})

pilots = data[pilot_school]
naive = (
    pilots.loc[pilots.year >= 2005, "score"].mean()
    - pilots.loc[pilots.year < 2005, "score"].mean()
)

panel = impact.Panel.from_frame(
    data, unit="school", time="year", outcome="score", treated="pilot"
)
result = impact.DifferenceInDifferences().fit(panel)
att = result.att

print(panel)
print()
print(f"{'design':<28}{'estimate':>10}{'95% interval':>24}")
print(f"{'naive before/after':<28}{naive:>10.2f}{'(none)':>24}")
print(
    f"{'difference-in-differences':<28}{att.estimate:>10.2f}"
    f"{f'[{att.ci_lower:.2f}, {att.ci_upper:.2f}]':>24}"
)
print(f"{'truth':<28}{TRUE_EFFECT:>10.2f}")
print()
print(result.summary())
