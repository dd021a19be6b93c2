"""The fast arithmetic of the wild bootstrap gives the numbers of the plain one."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact.inference import wild_cluster_bootstrap
from impact.inference._wild_kernels import Counter, draw_statistics, draw_weights
from impact.inference.wild import _WEBB, _invert, bootstrap_weights

RADEMACHER = np.array([-1.0, 1.0])


@pytest.mark.parametrize("support", [RADEMACHER, _WEBB])
def test_random_weights_are_those_of_generator_choice(support):
    v, enumerated = draw_weights(support, 12, 300, 12)
    expected = np.random.default_rng(12).choice(support, size=(12, 300))
    assert not enumerated
    np.testing.assert_array_equal(v, expected)


@pytest.mark.parametrize("support,n", [(RADEMACHER, 5), (_WEBB, 3)])
def test_enumerated_weights_in_the_order_of_itertools(support, n):
    v, enumerated = draw_weights(support, n, 10_000, None)
    expected = np.array(list(itertools.product(support, repeat=n))).T
    assert enumerated
    np.testing.assert_array_equal(v, expected)


def test_weights_drawn_from_a_generator_consume_it():
    rng = np.random.default_rng(3)
    first, _ = bootstrap_weights(20, draws=50, seed=rng)
    second, _ = bootstrap_weights(20, draws=50, seed=rng)
    assert not np.array_equal(first, second)
    # and the public function hands out arrays the caller may change
    first[0, 0] = 7.0


def _plain(c, d, s0, s1, v):
    a0, a1 = s0 @ c, s1 @ c
    m0 = a0[:, None] * v - d @ (s0.T @ v)
    m1 = a1[:, None] * v - d @ (s1.T @ v)
    return (
        a0 @ v,
        a1 @ v,
        np.einsum("gb,gb->b", m0, m0),
        np.einsum("gb,gb->b", m0, m1),
        np.einsum("gb,gb->b", m1, m1),
    )


@settings(max_examples=25, deadline=None)
@given(
    n_clusters=st.integers(2, 30),
    k=st.integers(1, 12),
    webb=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_draw_statistics_equal_the_plain_sums_of_squares(n_clusters, k, webb, seed):
    """Both arrangements (expanded for few regressors, direct otherwise) agree."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=k)
    d, s0, s1 = (rng.normal(size=(n_clusters, k)) for _ in range(3))
    v = rng.choice(_WEBB if webb else RADEMACHER, size=(n_clusters, 200))
    fast = draw_statistics(c, d, s0, s1, v, unit_weights=not webb)
    for got, want in zip(fast, _plain(c, d, s0, s1, v), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def _design(seed, n_clusters, size=8, k=3):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_clusters), size)
    n = len(g)
    X = np.column_stack(
        [(g < max(2, n_clusters // 3)).astype(float) * rng.integers(0, 2, n)]
        + [rng.normal(size=n) for _ in range(k - 1)]
    )
    y = rng.normal(size=n_clusters)[g] + rng.normal(size=n)
    return X, y, g


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), n_clusters=st.sampled_from([5, 9, 12, 25]))
def test_interval_is_that_of_the_plain_bisection(seed, n_clusters):
    """The counted bisection reaches the end points of the plain one (p-values as before)."""
    X, y, g = _design(seed, n_clusters)
    out = wild_cluster_bootstrap(X, y, g, draws=999, seed=seed, weights="auto")
    plain_p = _plain_p_value(X, y, g, seed)
    assert out.p_value == plain_p(0.0)
    lower, upper = _invert(plain_p, out.estimate, out.std_error, 0.05)
    for fast, plain in ((out.ci_lower, lower), (out.ci_upper, upper)):
        if np.isfinite(plain):
            reach = max(out.std_error, abs(plain))
            assert abs(fast - plain) <= 1e-9 * reach
        else:
            assert fast == plain


def _plain_p_value(X, y, g, seed):
    """The p-value function of the bootstrap before its arithmetic was rearranged."""
    n, k = X.shape
    n_clusters = len(np.unique(g))
    weights = "webb" if n_clusters < 12 else "rademacher"
    small = n_clusters / (n_clusters - 1) * (n - 1) / (n - k)
    bread = np.linalg.pinv(X.T @ X)
    beta = bread @ X.T @ y
    resid = y - X @ beta
    c = bread[:, 0]
    sums = np.array([(X[g == h] * resid[g == h, None]).sum(0) for h in range(n_clusters)])
    se = float(np.sqrt(small * np.sum((sums @ c) ** 2)))
    q, _ = np.linalg.qr(X[:, 1:])
    u0 = y - q @ (q.T @ y)
    z = X[:, 0] - q @ (q.T @ X[:, 0])
    s0 = np.array([(X[g == h] * u0[g == h, None]).sum(0) for h in range(n_clusters)])
    s1 = np.array([(X[g == h] * z[g == h, None]).sum(0) for h in range(n_clusters)])
    d = np.stack([X[g == h].T @ (X[g == h] @ c) for h in range(n_clusters)]) @ bread
    v, _ = bootstrap_weights(n_clusters, kind=weights, draws=999, seed=seed)
    num0, num1, q00, q01, q11 = _plain(c, d, s0, s1, v)
    flat = q11 <= 1e-12 * q11.max()
    q01[flat] = q11[flat] = 0.0
    b = float(beta[0])

    def p_value(r):
        var = small * (q00 - 2 * r * q01 + r * r * q11)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.nan_to_num((num0 - r * num1) / np.sqrt(np.maximum(var, 0.0)), nan=0.0)
        return float(np.mean(np.abs(t) >= abs(b - r) / se * (1 - 1e-10) - 1e-12))

    return p_value


def test_counter_counts_as_the_plain_rule():
    rng = np.random.default_rng(5)
    num0, num1 = rng.normal(size=500), rng.normal(size=500)
    q = rng.gamma(2.0, size=(3, 500))
    q[1] = 0.3 * np.sqrt(q[0] * q[2])  # a positive definite quadratic in r
    counter = Counter(num0, num1, q[0], q[1], q[2], 1.1, 0.4, 0.7)
    for r in (-3.0, -0.5, 0.4, 0.41, 2.0, 9.0):
        var = 1.1 * (q[0] - 2 * r * q[1] + r * r * q[2])
        t = np.abs(num0 - r * num1) / np.sqrt(var)
        plain = int(np.count_nonzero(t >= abs(0.4 - r) / 0.7 * (1 - 1e-10) - 1e-12))
        assert counter.count(r) == plain


def test_weights_of_an_integer_seed_are_drawn_once_and_read_only():
    from impact.inference._wild_kernels import shared_weights

    first = shared_weights("rademacher", RADEMACHER, 20, 300, 8)
    again = shared_weights("rademacher", RADEMACHER, 20, 300, 8)
    assert again[0] is first[0]
    assert not first[0].flags.writeable
    np.testing.assert_array_equal(first[0], draw_weights(RADEMACHER, 20, 300, 8)[0])
    rng = np.random.default_rng(8)
    fresh = shared_weights("rademacher", RADEMACHER, 20, 300, rng)
    assert fresh[0] is not shared_weights("rademacher", RADEMACHER, 20, 300, rng)[0]


def test_results_do_not_depend_on_the_shared_weights():
    """A second call (weights from the cache) gives the first call's numbers."""
    X, y, g = _design(3, 25)
    one = wild_cluster_bootstrap(X, y, g, draws=999, seed=77)
    two = wild_cluster_bootstrap(X, y, g, draws=999, seed=77)
    assert (one.p_value, one.ci_lower, one.ci_upper) == (two.p_value, two.ci_lower, two.ci_upper)
