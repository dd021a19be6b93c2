"""The truncated Frank-Wolfe of synthetic DiD: one problem alone equals the same problem in a batch.

R ``synthdid``'s reference values rest on the single-problem loop (the main fit); the
batched loop serves the replications. Padded entries (problems of different sizes) must
stay at zero and leave the other weights as if the problem had been posed without them.
"""

from __future__ import annotations

import numpy as np
import pytest

from impact.estimators.synthetic._sdid_weights import frank_wolfe


def _gram_problem(seed: int, n: int = 30, rows: int = 10):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rows, n)).cumsum(axis=0)
    b = rng.normal(size=rows).cumsum()
    return a.T @ a, a.T @ b, float(b @ b), rows


def _solve(grams, cs, bbs, rows, valid, max_iter=500):
    grams = np.asarray(grams)
    n_problems, n = grams.shape[:2]
    r = np.arange(n_problems)
    x0 = np.ones((n_problems, n)) if valid is None else valid.astype(float)
    x0 /= x0.sum(axis=1, keepdims=True)
    return frank_wolfe(
        column=lambda i: grams[r, :, i],
        matvec=lambda x: np.einsum("rij,rj->ri", grams, x),
        diag=np.diagonal(grams, axis1=1, axis2=2),
        c=np.asarray(cs),
        bb=np.asarray(bbs),
        n_rows=np.full(n_problems, float(rows)),
        zeta=0.3,
        x0=x0,
        valid=valid,
        min_decrease=1e-9,
        max_iter=max_iter,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_problem_equals_the_batched_loop(seed: int) -> None:
    g, c, bb, rows = _gram_problem(seed)
    alone = _solve([g], [c], [bb], rows, None)
    batched = _solve([g, g], [c, c], [bb, bb], rows, None)
    np.testing.assert_allclose(alone[0], batched[0], atol=1e-10)
    np.testing.assert_allclose(batched[0], batched[1], atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_padding_is_as_if_the_entries_were_absent(seed: int) -> None:
    g, c, bb, rows = _gram_problem(seed)
    valid = np.ones((1, g.shape[0]), dtype=bool)
    valid[0, [3, 7, 20]] = False
    keep = np.flatnonzero(valid[0])
    padded = _solve([g], [c], [bb], rows, valid)
    compact = _solve([g[np.ix_(keep, keep)]], [c[keep]], [bb], rows, None)
    assert (padded[0, ~valid[0]] == 0).all()
    np.testing.assert_allclose(padded[0, keep], compact[0], atol=1e-12)
    # and the batched loop, which keeps infinite gradients at the padded entries, agrees
    batched = _solve([g, g], [c, c], [bb, bb], rows, np.repeat(valid, 2, axis=0))
    np.testing.assert_allclose(batched[0], padded[0], atol=1e-10)
