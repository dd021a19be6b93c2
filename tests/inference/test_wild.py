"""Wild cluster restricted bootstrap against wildboottest (PyPI) with full enumeration."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact.exceptions import InferenceWarning
from impact.inference import bootstrap_weights, wild_cluster_bootstrap

REFERENCE = Path(__file__).parents[1] / "reference" / "inference"


@pytest.fixture(scope="module")
def reference():
    data = pd.read_csv(REFERENCE / "wild_data.csv")
    values = json.loads((REFERENCE / "wild_reference.json").read_text())
    X = np.column_stack([np.ones(len(data)), data["d"], data["x"]])
    return data, X, values


@pytest.mark.parametrize(("coef", "name"), [(1, "d"), (2, "x")])
def test_enumerated_bootstrap_equals_wildboottest(reference, coef, name):
    # wildboottest 0.3.2, WCR "11", Rademacher, all 2^12 sign vectors enumerated
    data, X, values = reference
    ref = values[name]
    out = wild_cluster_bootstrap(
        X, data["y"].to_numpy(), data["cluster"].to_numpy(), coef=coef, draws=99_999
    )
    assert out.enumerated and out.draws == ref["draws"] == 4096
    assert out.t_stat == pytest.approx(ref["t_stat"], abs=1e-10)
    np.testing.assert_allclose(
        np.sort(np.abs(out.t_draws)), ref["abs_t_boot_sorted"], rtol=0, atol=1e-10
    )
    # our p-value counts the two draws (all +1, all -1) that reproduce |t| exactly;
    # wildboottest counts them or not by rounding, so compare with ties set aside
    assert out.p_value - 2 / out.draws == pytest.approx(ref["p_value_without_ties"], abs=1e-10)
    assert abs(out.p_value - ref["p_value"]) <= 2 / out.draws + 1e-12


def test_enumeration_ignores_the_seed(reference):
    data, X, _ = reference
    y, g = data["y"].to_numpy(), data["cluster"].to_numpy()
    a = wild_cluster_bootstrap(X, y, g, coef=1, draws=99_999, seed=1)
    b = wild_cluster_bootstrap(X, y, g, coef=1, draws=99_999, seed=2)
    assert (a.p_value, a.ci_lower, a.ci_upper) == (b.p_value, b.ci_lower, b.ci_upper)


def test_random_draws_are_reproducible_with_a_seed(reference):
    data, X, _ = reference
    y, g = data["y"].to_numpy(), data["cluster"].to_numpy()
    a = wild_cluster_bootstrap(X, y, g, coef=2, draws=999, seed=7)
    b = wild_cluster_bootstrap(X, y, g, coef=2, draws=999, seed=7)
    c = wild_cluster_bootstrap(X, y, g, coef=2, draws=999, seed=8)
    assert not a.enumerated and a.draws == 999
    assert a.p_value == b.p_value and a.ci_lower == b.ci_lower
    assert not np.array_equal(a.t_draws, c.t_draws)
    enumerated = wild_cluster_bootstrap(X, y, g, coef=2, draws=99_999)
    assert abs(a.p_value - enumerated.p_value) < 4 * np.sqrt(0.25 / 999)


def test_interval_inverts_the_test(reference):
    data, X, _ = reference
    y, g = data["y"].to_numpy(), data["cluster"].to_numpy()
    out = wild_cluster_bootstrap(X, y, g, coef=2, draws=99_999, alpha=0.1)
    assert out.ci_lower < out.estimate < out.ci_upper
    eps = 1e-6 * out.std_error
    for bound, inside in ((out.ci_lower, out.ci_lower + eps), (out.ci_upper, out.ci_upper - eps)):
        outside = bound + (bound - inside)
        p_in = wild_cluster_bootstrap(X, y, g, coef=2, null=inside, draws=99_999, alpha=None)
        p_out = wild_cluster_bootstrap(X, y, g, coef=2, null=outside, draws=99_999, alpha=None)
        assert p_in.p_value > 0.1 >= p_out.p_value


def test_shifting_and_scaling_the_outcome(reference):
    data, X, _ = reference
    y, g = data["y"].to_numpy(), data["cluster"].to_numpy()
    base = wild_cluster_bootstrap(X, y, g, coef=1, draws=999, seed=3)
    moved = wild_cluster_bootstrap(X, 3.0 * (y + 2.0 * X[:, 1]), g, coef=1, draws=999, seed=3)
    assert moved.estimate == pytest.approx(3.0 * (base.estimate + 2.0))
    assert moved.ci_lower == pytest.approx(3.0 * (base.ci_lower + 2.0), rel=1e-6)
    shifted_null = wild_cluster_bootstrap(
        X, 3.0 * (y + 2.0 * X[:, 1]), g, coef=1, null=6.0, draws=999, seed=3, alpha=None
    )
    assert shifted_null.p_value == pytest.approx(base.p_value)


def test_webb_weights_enumerate_six_points():
    v, exact = bootstrap_weights(3, kind="webb", draws=999)
    assert exact and v.shape == (3, 216)
    assert np.allclose(np.mean(v, axis=1), 0) and np.allclose(np.mean(v**2, axis=1), 1)
    v, exact = bootstrap_weights(8, kind="webb", draws=999, seed=1)
    assert not exact and v.shape == (8, 999) and len(np.unique(v)) == 6


def test_bootstrap_rejects_rarely_under_the_null_with_few_treated_clusters():
    # a cheap sanity check; the size study itself is validation/few_clusters_size.py
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(14), 5)
    rejections = 0
    for _ in range(40):
        X = np.column_stack([np.ones(70), (g < 4).astype(float)])
        y = rng.normal(size=14)[g] * (1 + g / 4) + rng.normal(size=70)
        rejections += (
            wild_cluster_bootstrap(X, y, g, coef=1, draws=399, alpha=None, seed=rng).p_value < 0.05
        )
    assert rejections <= 6


def five_clusters() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(5), 6)
    X = np.column_stack([(g < 2).astype(float), np.ones(len(g)), rng.normal(size=len(g))])
    return X, rng.normal(size=5)[g] + rng.normal(size=len(g)), g


def test_an_interval_no_null_can_leave_is_unbounded_and_says_why():
    # with 5 clusters the 32 enumerated Rademacher draws include the two that weight
    # every cluster alike; they reproduce the observed t at every null, so p >= 2/32 >
    # 0.05 everywhere. (Found by the preset validation: rounding far from the estimate
    # used to end the search at arbitrary bounds such as -6e5 and 7e14.)
    X, y, g = five_clusters()
    with pytest.warns(InferenceWarning, match=r"stays at or above 0\.0625 however far.*'webb'"):
        out = wild_cluster_bootstrap(X, y, g, coef=0)
    assert out.enumerated and out.draws == 32
    assert out.ci_lower == -np.inf and out.ci_upper == np.inf
    far = wild_cluster_bootstrap(X, y, g, coef=0, null=out.estimate + 1e9, alpha=None)
    assert far.p_value == pytest.approx(2 / 32)


def test_webb_weights_bound_the_interval_with_five_clusters():
    X, y, g = five_clusters()
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        out = wild_cluster_bootstrap(X, y, g, coef=0, weights="webb")
    assert out.enumerated and out.draws == 6**5
    assert np.isfinite(out.ci_lower) and np.isfinite(out.ci_upper)
    for bound in (out.ci_lower, out.ci_upper):
        outside = bound + 1e-3 * out.std_error * np.sign(bound - out.estimate)
        p = wild_cluster_bootstrap(X, y, g, coef=0, weights="webb", null=outside, alpha=None)
        assert p.p_value <= 0.05
