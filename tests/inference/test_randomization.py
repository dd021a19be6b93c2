"""Randomization inference: exact enumeration against brute-force re-estimation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from impact.inference import demean, randomization_test


def panel(seed=0, n_clusters=7, n_treated=3, effect=0.0):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_clusters), 4)
    post = np.tile([0.0, 0.0, 1.0, 1.0], n_clusters)
    treated = np.arange(n_clusters) < n_treated
    y = rng.normal(size=n_clusters)[unit] + post + rng.normal(size=len(unit))
    y = y + effect * post * treated[unit]
    return unit, post, treated, y


def did_coefficient(y, unit, post, treated_clusters):
    d = post * treated_clusters[unit]
    X = demean(np.column_stack([d, post]), unit)
    return np.linalg.lstsq(X, demean(y, unit), rcond=None)[0][0]


def test_enumeration_equals_refitting_every_assignment():
    unit, post, treated, y = panel(seed=1, effect=0.8)

    def dm(a):
        return demean(a, unit)

    out = randomization_test(dm(y), dm(post), post, unit, treated, transform=dm, alpha=None)
    observed = did_coefficient(y, unit, post, treated)
    stats = []
    for combo in itertools.combinations(range(7), 3):
        assignment = np.zeros(7, dtype=bool)
        assignment[list(combo)] = True
        stats.append(did_coefficient(y, unit, post, assignment))
    expected = np.mean(np.abs(stats) >= abs(observed) - 1e-12)
    assert out.enumerated and out.draws == 35
    assert out.estimate == pytest.approx(observed)
    assert out.p_value == pytest.approx(expected)


def test_interval_inverts_the_sharp_null():
    unit, post, treated, y = panel(seed=2, n_clusters=9, n_treated=4, effect=1.0)

    def dm(a):
        return demean(a, unit)

    out = randomization_test(dm(y), dm(post), post, unit, treated, transform=dm, alpha=0.1)
    assert out.ci_lower < out.estimate < out.ci_upper
    for bound, sign in ((out.ci_lower, -1), (out.ci_upper, 1)):
        shifted = y - (bound + sign * 1e-6) * post * treated[unit]
        p_out = randomization_test(
            dm(shifted), dm(post), post, unit, treated, transform=dm, alpha=None
        )
        shifted = y - (bound - sign * 1e-6) * post * treated[unit]
        p_in = randomization_test(
            dm(shifted), dm(post), post, unit, treated, transform=dm, alpha=None
        )
        assert p_out.p_value <= 0.1 < p_in.p_value


def test_random_assignments_are_seeded_and_count_the_observed_one():
    unit, post, treated, y = panel(seed=3, n_clusters=16, n_treated=5)

    def dm(a):
        return demean(a, unit)

    a = randomization_test(dm(y), dm(post), post, unit, treated, transform=dm, draws=499, seed=4)
    b = randomization_test(dm(y), dm(post), post, unit, treated, transform=dm, draws=499, seed=4)
    assert not a.enumerated and a.draws == 500
    assert a.p_value == b.p_value and a.ci_upper == b.ci_upper
    assert a.p_value >= 1 / 500
