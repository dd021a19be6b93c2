"""Randomization inference over adoption dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import DesignError, DifferenceInDifferences, Panel, StaggeredDiD
from impact.inference.adoption import _distinct_permutations, adoption_randomization_test


def staggered_frame(effect, seed=0, n_units=6):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"u": np.repeat(np.arange(n_units), 3), "t": np.tile(np.arange(3), n_units)})
    df["g"] = np.select([df.u < 1, df.u < 2], [1, 2], 0)
    df["y"] = rng.normal(0, 1, n_units)[df.u] + effect * ((df.g > 0) & (df.t >= df.g))
    df["y"] += rng.normal(0, 0.5, len(df))
    df["school"] = df.u // 2
    return df


def test_distinct_permutations_are_the_multinomial_count_and_distinct():
    codes = np.array([0, 0, 1, 2, 2, 2])
    perms = [tuple(p) for p in _distinct_permutations(codes)]
    assert len(perms) == len(set(perms)) == 60  # 6! / (2! 1! 3!)
    assert all(sorted(p) == sorted(codes) for p in perms)


def test_enumeration_gives_an_exact_p_value_over_all_date_assignments():
    df = staggered_frame(effect=8.0)
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    test = adoption_randomization_test(StaggeredDiD(), panel, draws=99)
    assert test.enumerated and test.draws == 30  # 6! / (1! 1! 4!)
    assert test.p_value == pytest.approx(1 / 30)
    assert test.estimate == pytest.approx(
        StaggeredDiD(inference="analytic").fit(panel).att.estimate
    )
    # under the null the p-value is a multiple of 1/30 and not tiny in general
    null = adoption_randomization_test(
        StaggeredDiD(),
        Panel.from_frame(staggered_frame(0.0, seed=3), unit="u", time="t", outcome="y",
                         cohort="g"),
        draws=99,
    )  # fmt: skip
    assert null.p_value * 30 == pytest.approx(round(null.p_value * 30))
    assert null.p_value > 1 / 30


def test_random_permutations_count_the_observed_assignment():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"u": np.repeat(np.arange(12), 2), "t": np.tile([0, 1], 12)})
    df["d"] = ((df.u < 4) & (df.t == 1)).astype(int)
    df["y"] = rng.normal(size=12)[df.u] + 5.0 * df.d + rng.normal(0, 0.1, 24)
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    test = adoption_randomization_test(DifferenceInDifferences(), panel, draws=19, seed=2)
    assert not test.enumerated and test.draws == 19
    assert test.p_value == pytest.approx(1 / 20)


def test_clusters_must_hold_one_adoption_date():
    df = staggered_frame(effect=1.0)
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g", cluster="school")
    with pytest.raises(DesignError, match="different adoption"):
        adoption_randomization_test(StaggeredDiD(), panel)
