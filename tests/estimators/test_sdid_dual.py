"""The exact weight solvers of the synthetic DiD replications (dual Newton; NNLS for time weights).

Checked against the optimality (KKT) conditions of the simplex-constrained ridge problem,
against scipy's SLSQP on a small problem, and against the accelerated projected gradient
it replaced.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from impact.estimators.synthetic._sdid_core import _exact_time_weights, _exact_unit_weights
from impact.estimators.synthetic._sdid_dual import dual_newton_weights
from impact.estimators.synthetic._sdid_weights import accelerated_weights


def _problems(seed: int, n_problems: int = 6, n: int = 80, rows: int = 12):
    rng = np.random.default_rng(seed)
    design = rng.normal(size=(n_problems, n, rows)).cumsum(axis=2)
    target = rng.normal(size=(n_problems, rows)).cumsum(axis=1)
    design -= design.mean(axis=2, keepdims=True)
    target -= target.mean(axis=1, keepdims=True)
    eta = rows * rng.uniform(0.1, 10.0, n_problems)
    return design, target, eta


def _kkt_gap(design, target, eta, x, valid=None):
    """Largest violation of the simplex KKT conditions, relative to the gradient's scale."""
    fitted = np.einsum("rn,rnt->rt", x, design)
    grad = 2 * np.einsum("rnt,rt->rn", design, fitted - target) + 2 * eta[:, None] * x
    worst = 0.0
    for r in range(len(x)):
        use = np.ones(x.shape[1], bool) if valid is None else valid[r]
        on = use & (x[r] > 0)
        level = grad[r, on].mean()
        scale = np.abs(grad[r, use]).max()
        spread = np.abs(grad[r, on] - level).max()  # equal on the support
        below = max(0.0, level - grad[r, use & ~on].min()) if (use & ~on).any() else 0.0
        worst = max(worst, (spread + below) / scale)
    return worst


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_solution_meets_the_optimality_conditions(seed: int) -> None:
    design, target, eta = _problems(seed)
    x0 = np.full(design.shape[:2], 1 / design.shape[1])
    x, converged = dual_newton_weights(design=design, target=target, eta=eta, x0=x0, valid=None)
    assert converged.all()
    np.testing.assert_allclose(x.sum(axis=1), 1.0, atol=1e-12)
    assert (x >= 0).all()
    assert _kkt_gap(design, target, eta, x) < 1e-9


def test_agrees_with_scipy_slsqp_on_a_small_problem() -> None:
    design, target, eta = _problems(3, n_problems=1, n=15, rows=8)
    a, b = design[0].T, target[0]

    def objective(v):
        r = a @ v - b
        return r @ r + eta[0] * v @ v

    reference = minimize(
        objective,
        np.full(15, 1 / 15),
        jac=lambda v: 2 * a.T @ (a @ v - b) + 2 * eta[0] * v,
        bounds=[(0, 1)] * 15,
        constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1, "jac": lambda v: np.ones(15)}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    x, _ = dual_newton_weights(
        design=design, target=target, eta=eta, x0=np.full((1, 15), 1 / 15), valid=None
    )
    np.testing.assert_allclose(x[0], reference.x, atol=1e-6)
    assert objective(x[0]) <= reference.fun + 1e-10


def test_agrees_with_the_accelerated_gradient_and_respects_padding() -> None:
    design, target, eta = _problems(11)
    valid = np.ones(design.shape[:2], dtype=bool)
    valid[::2, -10:] = False  # padded entries of every other problem
    x0 = valid / valid.sum(axis=1, keepdims=True)
    lipschitz = float(np.linalg.eigvalsh(design.transpose(0, 2, 1) @ design)[:, -1].max())
    x, converged = dual_newton_weights(design=design, target=target, eta=eta, x0=x0, valid=valid)
    slow = accelerated_weights(
        design=design, target=target, eta=eta, lipschitz=lipschitz, x0=x0, valid=valid,
        tolerance=1e-12, max_iter=20_000,
    )  # fmt: skip
    assert converged.all()
    assert (x[~valid] == 0).all()
    np.testing.assert_allclose(x, slow, atol=1e-7)
    assert _kkt_gap(design, target, eta, x, valid) < 1e-9


def test_a_negligible_ridge_goes_to_the_first_order_solver_without_warnings() -> None:
    design, target, eta = _problems(5, n_problems=3)
    eta[1] = 0.0  # noise-free data: the synthetic DiD penalty is zero
    x0 = np.full(design.shape[:2], 1 / design.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = _exact_unit_weights(design, target, eta, x0, None, newton=True)
    assert np.isfinite(x).all()
    np.testing.assert_allclose(x.sum(axis=1), 1.0, atol=1e-12)
    alone, _ = dual_newton_weights(
        design=design[[0, 2]], target=target[[0, 2]], eta=eta[[0, 2]], x0=x0[[0, 2]], valid=None
    )
    np.testing.assert_array_equal(x[[0, 2]], alone)  # the well-posed ones by Newton


@pytest.mark.parametrize("seed", [0, 1])
def test_starting_point_does_not_matter(seed: int) -> None:
    design, target, eta = _problems(seed)
    n = design.shape[1]
    uniform = np.full(design.shape[:2], 1 / n)
    corner = np.zeros(design.shape[:2])
    corner[:, 0] = 1.0
    a, _ = dual_newton_weights(design=design, target=target, eta=eta, x0=uniform, valid=None)
    b, _ = dual_newton_weights(design=design, target=target, eta=eta, x0=corner, valid=None)
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_exact_time_weights_minimise_the_penalised_objective() -> None:
    rng = np.random.default_rng(8)
    n_problems, n_controls, n_pre = 4, 40, 6
    a = rng.normal(size=(n_problems, n_controls, n_pre)).cumsum(axis=2)
    b = a[:, :, -1] + rng.normal(size=(n_problems, n_controls))
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    gram = np.einsum("rut,rus->rts", a, a)
    cross = np.einsum("rut,ru->rt", a, b)
    bb = np.einsum("ru,ru->r", b, b)
    eta = np.array([1e-10, 1e-3, 1.0, 50.0])
    lam = _exact_time_weights(gram, cross, bb, eta)
    np.testing.assert_allclose(lam.sum(axis=1), 1.0, atol=1e-12)
    assert (lam >= 0).all()
    for r in range(n_problems):

        def objective(v, r=r):
            res = a[r] @ v - b[r]
            return res @ res + eta[r] * v @ v

        best = minimize(
            objective,
            np.full(n_pre, 1 / n_pre),
            bounds=[(0, 1)] * n_pre,
            constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        # as good as SLSQP's optimum, up to the solver's tie-breaking penalty
        assert objective(lam[r]) <= best.fun * (1 + 1e-6) + 1e-9
