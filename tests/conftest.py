"""Shared fixtures: small simulated panels with a known effect."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

# scripts that regenerate frozen reference outputs need the reference tools, not the tests
collect_ignore_glob = ["reference/*"]


def make_did_frame(
    *,
    n_units: int = 40,
    n_periods: int = 6,
    share_treated: float = 0.5,
    adoption: int = 3,
    effect: float = 2.0,
    noise: float = 0.1,
    trend: float = 0.5,
    seed: int = 0,
    first_period: int = 2001,
) -> pd.DataFrame:
    """A balanced single-adoption panel: y = unit + trend * t + effect * D + noise.

    ``adoption`` is the position (0-based) of the first treated period.
    """
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_periods)
    pos = np.tile(np.arange(n_periods), n_units)
    treated_unit = unit < round(share_treated * n_units)
    d = (treated_unit & (pos >= adoption)).astype(int)
    unit_effect = rng.normal(0, 1, n_units)[unit]
    x = rng.normal(0, 1, len(unit))
    y = unit_effect + trend * pos + 0.3 * x + effect * d + rng.normal(0, noise, len(unit))
    return pd.DataFrame({"unit": unit, "time": pos + first_period, "y": y, "d": d, "x": x})


@pytest.fixture
def did_frame() -> pd.DataFrame:
    return make_did_frame()
