"""Tutorial: one council adopts, building a synthetic comparison.

One council of 32 adopts integrated services. No other council resembles it, and the
councils' outcomes follow different long-run trends, so difference-in-differences,
which assumes the adopting council would have moved in parallel with the average of
the others, is biased. The synthetic control method (Abadie, Diamond and Hainmueller
2010) weights the other councils so that together they reproduce the adopter's
history, and reads the effect off the gap after adoption. First on simulated councils
where the truth is known, then on the Basque Country (Abadie and Gardeazabal 2003).

Run it with ``python one_council_adopts.py``; figures go to ``tutorial-output/``.
"""

# --8<-- [start:data]
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import impact
from impact.datasets import load_basque

out = Path("tutorial-output")
out.mkdir(exist_ok=True)

# 32 councils, 2001-2024; outcomes driven by two national trends that councils load on
# differently (an interactive fixed-effects or factor model), plus noise
rng = np.random.default_rng(16)
years = np.arange(2001, 2025)
trends = np.column_stack([np.linspace(0, 6, 24), np.linspace(0, 6, 24) ** 1.5 / 3])
trends += rng.normal(0, 0.3, trends.shape).cumsum(axis=0)
loadings = rng.uniform(0, 1.5, (31, 2))
levels = rng.normal(50, 3, 31)
# the adopter resembles no single council: a mix of three, loading heavily on trend 2
mix, members = np.array([0.5, 0.3, 0.2]), np.argsort(loadings[:, 1] - loadings[:, 0])[-3:]
loadings = np.vstack([loadings, mix @ loadings[members]])
levels = np.append(levels, mix @ levels[members])
y = levels[:, None] + loadings @ trends.T + rng.normal(0, 0.25, (32, 24))
adopter, start, true_effect = 31, 2021, 3.0
treated = (np.arange(32)[:, None] == adopter) & (years[None, :] >= start)
y = y + true_effect * treated
councils = pd.DataFrame(
    {
        "council": np.repeat([f"council {i + 1:02d}" for i in range(32)], 24),
        "year": np.tile(years, 32),
        "score": y.ravel(),
        "integrated": treated.ravel().astype(int),
    }
)
panel = impact.Panel.from_frame(
    councils, unit="council", time="year", outcome="score", treated="integrated"
)
print(panel)
print(f"true effect from {start}: {true_effect:.1f} points")
# --8<-- [end:data]

# --8<-- [start:did]
did = impact.DifferenceInDifferences().fit(panel)
print(f"difference-in-differences: {did.att.estimate:.2f}")
# --8<-- [end:did]

# --8<-- [start:synthetic]
synthetic = impact.SyntheticControl().fit(panel)
print(synthetic.att)
weights = synthetic.diagnostics["unit_weights"]
print(weights[weights["weight"] > 0.01].round(3).to_string(index=False))
# --8<-- [end:synthetic]

# --8<-- [start:fit]
unit = synthetic.diagnostics["treated_units"].iloc[0]
print(f"pre-period RMSPE: {unit['pre_rmspe']:.3f}")
print(f"post/pre RMSPE ratio: {unit['rmspe_ratio']:.1f}, rank p-value: {unit['p_value']:.3f}")
ax = synthetic.plot(kind="trajectories")
ax.figure.savefig(out / "trajectories.png", dpi=100)
plt.close(ax.figure)
# --8<-- [end:fit]

# --8<-- [start:placebos]
ax = synthetic.plot(kind="placebo_gaps")
ax.figure.savefig(out / "placebo-gaps.png", dpi=100)
plt.close(ax.figure)
path = synthetic.effects.query("term != 'att'")
print(
    path[["term", "estimate", "conformal_lower", "conformal_upper"]].round(2).to_string(index=False)
)
# --8<-- [end:placebos]

# --8<-- [start:basque]
basque = load_basque()
covariates = ["school.illit", "school.prim", "school.med", "school.high",
              "school.post.high", "invest"]  # fmt: skip
sectors = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction",
           "sec.services.venta", "sec.services.nonventa"]  # fmt: skip
measured = covariates + sectors + ["popdens"]
# covariates are recorded in a few years only; a Panel takes complete columns, so each
# region's gaps are filled from its nearest recorded year (the years averaged below are
# all recorded, so the filled values play no part)
basque[measured] = basque.groupby("regionname")[measured].transform(lambda s: s.ffill().bfill())
basque["terrorism"] = (
    (basque["regionname"] == "Basque Country (Pais Vasco)") & (basque["year"] >= 1970)
).astype(int)
regions = impact.Panel.from_frame(
    basque, unit="regionname", time="year", outcome="gdpcap", treated="terrorism",
    covariates=measured,
)  # fmt: skip
adh = impact.SyntheticControl(
    predictors=[
        *[(c, range(1964, 1970)) for c in covariates],
        ("gdpcap", range(1960, 1970)),
        *[(c, range(1961, 1970, 2)) for c in sectors],
        ("popdens", [1969]),
    ],
    fit_periods=tuple(range(1960, 1970)),
)
conflict = adh.fit(regions)
weights = conflict.diagnostics["unit_weights"]
print(weights[weights["weight"] > 0.01].round(3).to_string(index=False))
print(conflict.att)
# --8<-- [end:basque]

# --8<-- [start:balance]
balance = conflict.diagnostics["predictor_balance"]
shown = balance[["predictor", "v", "treated", "synthetic", "pool_mean"]].head(8)
print(shown.round(2).to_string(index=False))
# --8<-- [end:balance]
