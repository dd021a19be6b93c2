"""A third-party estimator: the 2x2 difference of mean changes, read through the Panel API.

A package would register it with an entry point (see the page); here the decorator
registers it for this session, so ``impact.estimate(panel, method="mean_change")`` works.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

import impact
from impact import DesignError, Estimator, ImpactResult, Panel
from impact.result import effect_row


@impact.register("mean_change")
@dataclass(frozen=True, kw_only=True)
class MeanChange(Estimator):
    """Change in the treated units' mean minus the comparison units' (two periods)."""

    alpha: float = 0.05

    def fit(self, panel: Panel) -> ImpactResult:
        y = panel.values(panel.outcome)  # read-only arrays, no copies
        codes = panel.codes()  # each row's unit and period as integer codes
        cohort = panel.cohort_view().to_numpy()  # first treated period per unit
        if len(codes.periods) != 2:
            raise DesignError("mean_change needs exactly two periods")
        treated_unit = ~pd.isna(cohort)
        treated_row = treated_unit[codes.unit_codes]
        post_row = codes.time_codes == 1
        changes, variances = [], []
        for group in (True, False):
            rows = treated_row == group
            after, before = y[rows & post_row], y[rows & ~post_row]
            changes.append(after.mean() - before.mean())
            variances.append(after.var(ddof=1) / after.size + before.var(ddof=1) / before.size)
        row = effect_row(
            "att", changes[0] - changes[1], float(np.sqrt(sum(variances))), alpha=self.alpha
        )
        return ImpactResult(
            estimator=self.name,
            effects=pd.DataFrame([row]),
            settings={"alpha": self.alpha},
            n_obs=len(y),
            n_units=len(codes.units),
        )


if __name__ == "__main__":
    from impact.simulations import Scenario, simulate

    world = simulate(Scenario.scottish_schools(n_periods=2, adoption_period=2, effect=2.0), seed=1)
    result = impact.estimate(world.panel, method="mean_change")
    print(f"mean_change: {result.att.estimate:.3f} (truth {world.true_att:.3f})")
    did = impact.estimate(world.panel, method="did", inference="hc1")
    print(f"did:         {did.att.estimate:.3f}")
