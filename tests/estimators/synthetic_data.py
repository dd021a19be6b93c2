"""Panels with a factor structure for the synthetic control tests.

Every unit's untreated outcome is ``mu_i + lambda_i' f_t + noise``; the treated units'
loadings and levels are convex combinations of the comparison units', so a synthetic
control exists that reproduces them exactly (noise aside).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_factor_frame(
    *,
    n_donors: int = 12,
    n_periods: int = 20,
    adoptions: tuple[int, ...] = (14,),
    effect: float = 3.0,
    noise: float = 0.0,
    n_factors: int = 2,
    seed: int = 0,
    first_period: int = 2001,
) -> pd.DataFrame:
    """A balanced panel: ``n_donors`` comparison units and one treated unit per adoption.

    ``adoptions`` holds the (0-based) position of each treated unit's first treated
    period; the effect is constant.
    """
    rng = np.random.default_rng(seed)
    factors = rng.normal(0, 1, (n_periods, n_factors)).cumsum(axis=0)
    loadings = rng.uniform(0, 2, (n_donors, n_factors))
    levels = rng.normal(10, 2, n_donors)
    rows = []
    for i in range(n_donors):
        y = levels[i] + factors @ loadings[i] + rng.normal(0, noise, n_periods)
        rows += [(f"c{i:02d}", first_period + t, y[t], 0) for t in range(n_periods)]
    for k, adoption in enumerate(adoptions):
        size = min(3, n_donors)
        mix = rng.dirichlet(np.ones(size))
        members = rng.choice(n_donors, size, replace=False)
        level = mix @ levels[members]
        loading = mix @ loadings[members]
        y = level + factors @ loading + rng.normal(0, noise, n_periods)
        d = (np.arange(n_periods) >= adoption).astype(int)
        y = y + effect * d
        rows += [(f"t{k}", first_period + t, y[t], d[t]) for t in range(n_periods)]
    frame = pd.DataFrame(rows, columns=["unit", "time", "y", "d"])
    # a covariate that follows the level, for predictor specifications
    frame["x"] = frame.groupby("unit")["y"].transform(lambda s: s.iloc[:3].mean()) + 0.0
    return frame
