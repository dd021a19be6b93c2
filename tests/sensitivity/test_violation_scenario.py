"""The simulator's violation of parallel trends: its shape, and that it is not an effect."""

from __future__ import annotations

import numpy as np
import pytest

import impact
from impact.exceptions import DesignError
from impact.simulations import simulate


def _gap(sim) -> np.ndarray:
    """Mean untreated outcome of adopters minus the others, by period (no noise)."""
    data = sim.data
    adopters = data.groupby("unit")["treated"].transform("max").astype(bool)
    by = data.assign(adopter=adopters).groupby(["adopter", "time"])["y0"].mean()
    return (by.loc[True] - by.loc[False]).to_numpy()


BASE = {"n_units": 40, "n_periods": 8, "adoption_period": 5, "effect": 1.0, "noise_sd": 0.0,
        "unit_sd": 0.0}  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "start", "expected"),
    [
        ("linear", 0, [0, 0, 0, 0, 1, 2, 3, 4]),  # first gap in the first treated period
        ("linear", -2, [0, 0, 1, 2, 3, 4, 5, 6]),
        ("quadratic", -1, [0, 0, 0, 1, 4, 9, 16, 25]),
    ],
)
def test_gap_follows_the_shape_from_its_start(shape, start, expected):
    sim = simulate(
        impact.Scenario(**BASE, violation=0.2, violation_shape=shape, violation_start=start),
        seed=0,
    )
    np.testing.assert_allclose(_gap(sim), 0.2 * np.array(expected), atol=1e-12)
    # the truth is the programme's effect alone
    assert sim.true_att == pytest.approx(1.0)


def test_callable_shape_and_errors():
    sim = simulate(
        impact.Scenario(**BASE, violation=1.0, violation_shape=lambda e: (e >= 1) * 0.5), seed=0
    )
    np.testing.assert_allclose(_gap(sim), [0, 0, 0, 0, 0, 0.5, 0.5, 0.5], atol=1e-12)
    with pytest.raises(DesignError, match="violation_shape='cubic'"):
        impact.Scenario(violation_shape="cubic")
    with pytest.raises(DesignError, match=r"violation_start=0\.5 must be an integer"):
        impact.Scenario(violation_start=0.5)
