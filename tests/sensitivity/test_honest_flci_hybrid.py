"""The FLCI hybrid ("C-F") of Rambachan and Roth for smoothness, and the conditional test.

Reference: the HonestDiD R package on the Benzarti-Carloni event study it ships, numbers
frozen in tests/reference/sensitivity/README.md (benzarti_carloni.csv) with their source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impact.exceptions import DesignError
from impact.sensitivity import breakdown_value, robust_confidence_sets
from impact.sensitivity._flci import optimal_flci
from impact.sensitivity._restrictions import polyhedra

DATA = Path(__file__).parents[1] / "reference" / "sensitivity" / "benzarti_carloni.csv"


@pytest.fixture(scope="module")
def bc() -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(DATA)
    assert frame.year.tolist() == [2004, 2005, 2006, 2007, 2009, 2010, 2011, 2012]
    return frame.beta.to_numpy(), frame[[f"sigma_{j}" for j in range(1, 9)]].to_numpy()


# ---------------------------------------------------------------------- reference values
def test_c_f_matches_honestdid(bc):
    # HonestDiD: accepted grid points 0.1197138266 to 0.4182383879 on a 200-point grid
    # over its level-(1 - alpha/10) FLCI. Its grid is not reproducible exactly (it
    # simulates the FLCI's half-length), so: the exact set's ends lie at most one of its
    # grid steps beyond the accepted points, never inside them.
    beta, sigma = bc
    row = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd", M=[0.1],
                                 method="C-F", grid_points=4000).iloc[0]  # fmt: skip
    first = optimal_flci(beta, sigma, n_pre=4, l_vec=np.eye(4)[0], M=0.1, alpha=0.005)
    r_step = 2 * first.half_length / 199
    fine_step = 2 * first.half_length / 3999
    assert row.method == "C-F"
    assert 0.1197138266 - r_step - fine_step <= row.lb <= 0.1197138266 + fine_step
    assert 0.4182383879 - fine_step <= row.ub <= 0.4182383879 + r_step + fine_step


def test_conditional_matches_honestdid_on_its_grid(bc):
    beta, sigma = bc
    row = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd", M=[0.1],
                                 method="Conditional", grid_points=200).iloc[0]  # fmt: skip
    assert row.lb == pytest.approx(0.1228761035, abs=1e-6)
    assert row.ub == pytest.approx(0.4168150178, abs=1e-6)
    table = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd",
                                   M=[0.0, 0.1, 0.2], method="Conditional")  # fmt: skip
    expected = [(0.2100501789, 0.3277998271), (0.1195044811, 0.4180257149),
                (0.02030132213, 0.5179737331)]  # fmt: skip
    np.testing.assert_allclose(table[["lb", "ub"]].to_numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("shape", [{"sign": "positive"}, {"monotonic": "increasing"}])
def test_conditional_with_sign_or_monotonicity_matches_honestdid(bc, shape):
    beta, sigma = bc
    table = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd",
                                   M=[0.1], method="Conditional", grid_points=100,
                                   **shape)  # fmt: skip
    row = table.iloc[0]
    assert row.lb == pytest.approx(0.1191803207, abs=1e-6)
    assert row.ub == pytest.approx(0.2232912874, abs=1e-6)


# ---------------------------------------------------------------------- the method
def test_c_f_is_the_default_with_a_sign_or_monotonicity_restriction(bc):
    beta, sigma = bc
    for shape in ({"sign": "positive"}, {"monotonic": "increasing"}):
        table = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd",
                                       M=[0.1], **shape)  # fmt: skip
        assert table.method.tolist() == ["C-F"]
    plain = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd", M=[0.1])
    assert plain.method.tolist() == ["FLCI"]


@pytest.mark.parametrize("restriction", ["relative_magnitudes", "sdrm"])
def test_c_f_is_refused_outside_smoothness(bc, restriction):
    beta, sigma = bc
    with pytest.raises(DesignError, match="C-F"):
        robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction=restriction,
                               M=[1.0], method="C-F")  # fmt: skip
    with pytest.raises(DesignError, match="C-F"):
        breakdown_value(beta, sigma, n_pre=4, n_post=4, restriction=restriction, method="c-f")


@pytest.mark.parametrize("M", [0.0, 0.05, 0.3])
@pytest.mark.parametrize("target", ["first", "average"])
def test_c_f_lies_inside_the_first_stage_flci(bc, M, target):
    beta, sigma = bc
    row = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd", M=[M],
                                 method="C-F", target=target).iloc[0]  # fmt: skip
    l_vec = np.eye(4)[0] if target == "first" else np.full(4, 0.25)
    first = optimal_flci(beta, sigma, n_pre=4, l_vec=l_vec, M=M, alpha=0.005)
    assert first.lower - 1e-12 <= row.lb < row.ub <= first.upper + 1e-12
    # and it is a real second stage: shorter than the first stage's interval
    assert row.ub - row.lb < 2 * first.half_length * 0.999


def test_c_f_breakdown_agrees_with_the_sets(bc):
    beta, sigma = bc
    value = breakdown_value(beta, sigma, n_pre=4, n_post=4, restriction="sd", method="C-F")
    assert 0 < value < np.inf
    below, above = robust_confidence_sets(beta, sigma, n_pre=4, n_post=4, restriction="sd",
                                          M=[0.98 * value, 1.02 * value], method="C-F",
                                          grid_points=4000).itertuples()  # fmt: skip
    assert below.lb > 0  # the set still excludes zero just below the breakdown value
    assert above.lb <= 0  # and takes it in just above


# ---------------------------------------------------------------------- by hand
def _c_f_by_hand(beta, sigma, *, n_pre, M, theta, alpha):
    """HonestDiD's no-nuisance FLCI hybrid (one post-period), written out directly.

    In the space of ``y = beta - e theta``: the largest standardised moment
    ``(A y - d)_j / sd_j`` is the statistic; the conditioning event is that ``j``
    stays the largest and that ``|v' y| <= chi`` (the first-stage FLCI), each a
    linear bound on ``t = A_j y / sd_j`` with the rest of ``y`` fixed.
    """
    kappa = alpha / 10
    first = optimal_flci(beta, sigma, n_pre=n_pre, l_vec=np.ones(1), M=M, alpha=kappa)
    v, chi = first.weights, first.half_length
    y = beta - np.eye(len(beta))[n_pre] * theta
    if abs(v @ y) > chi:
        return False
    (piece,) = polyhedra("smoothness", M, n_pre=n_pre, n_post=1)
    A, d = piece.A, piece.d
    sd = np.sqrt(np.diag(A @ sigma @ A.T))
    moments = (A @ y - d) / sd
    j = int(np.argmax(moments))
    g = A[j] / sd[j]
    c = sigma @ g / (g @ sigma @ g)
    z = y - c * (g @ y)
    rows = [A[k] / sd[k] - g for k in range(len(A)) if k != j] + [v, -v]
    rhs = [d[k] / sd[k] - d[j] / sd[j] for k in range(len(A)) if k != j] + [chi, chi]
    lo, hi = -np.inf, np.inf
    for row, bound in zip(rows, rhs, strict=True):
        slope, rest = row @ c, bound - row @ z
        if slope > 0:
            hi = min(hi, rest / slope)
        elif slope < 0:
            lo = max(lo, rest / slope)
    shift = d[j] / sd[j]  # t = eta + shift, t ~ N(shift, 1) at the boundary of the null
    size = (alpha - kappa) / (1 - kappa)
    q = stats.truncnorm.ppf(1 - size, lo - shift, hi - shift)
    return bool(moments[j] <= max(0.0, q))


@pytest.mark.parametrize("M", [0.0, 0.02, 0.1])
def test_c_f_one_post_period_matches_the_test_written_out(bc, M):
    beta, sigma = bc[0][:5], bc[1][:5, :5]
    first = optimal_flci(beta, sigma, n_pre=4, l_vec=np.ones(1), M=M, alpha=0.005)
    thetas = np.linspace(first.lower - 0.02, first.upper + 0.02, 61)
    from impact.sensitivity.honest import _accept, _Problem

    problem = _Problem(beta, sigma, 4, 1, "smoothness", np.ones(1), None, None)
    weights, flci = problem.first_stage(M, 0.05)
    ours = _accept(problem.tests(M, weights), thetas, "C-F", 0.05, 0, 0, flci)
    by_hand = np.array([_c_f_by_hand(beta, sigma, n_pre=4, M=M, theta=t, alpha=0.05)
                        for t in thetas])  # fmt: skip
    assert by_hand.any() and not by_hand.all()
    np.testing.assert_array_equal(ours, by_hand)


def test_c_f_by_programmes_matches_by_vertices(bc, monkeypatch):
    from impact.sensitivity import _arp
    from impact.sensitivity.honest import _accept, _Problem

    beta, sigma = bc
    problem = _Problem(beta, sigma, 4, 4, "smoothness", np.eye(4)[0], None, None)
    weights, flci = problem.first_stage(0.1, 0.05)
    thetas = np.linspace(flci[0] - flci[1], flci[0] + flci[1], 41)
    by_vertices = _accept(problem.tests(0.1, weights), thetas, "C-F", 0.05, 0, 0, flci)
    monkeypatch.setattr(_arp, "MAX_SUPPORTS", 0)
    tests = problem.tests(0.1, weights)
    assert all(t.vertices is None for t in tests)
    by_programmes = _accept(tests, thetas, "C-F", 0.05, 0, 0, flci)
    np.testing.assert_array_equal(by_programmes, by_vertices)
    assert by_vertices.any() and not by_vertices.all()


def test_far_out_every_smoothness_set_is_the_one_sided_bound_of_the_last_slope(bc):
    # with the bend M many standard errors, the lower end of each set is the same
    # one-sided bound: beta_1 + beta_-1 (the extrapolated last pre-period slope) less M
    # less z_(1 - alpha) standard errors; so FLCI, C-F and the conditional set break
    # down at the same M (about 11 standard errors of the first post-period effect here)
    beta, sigma = bc
    values = {method: breakdown_value(beta, sigma, n_pre=4, n_post=4, restriction="sd",
                                      method=method, rtol=1e-9)
              for method in ("FLCI", "C-F", "Conditional")}  # fmt: skip
    combination = np.zeros(8)
    combination[[3, 4]] = 1.0
    sd = float(np.sqrt(combination @ sigma @ combination))
    by_hand = float(combination @ beta) - stats.norm.ppf(0.95) * sd
    for value in values.values():
        assert value == pytest.approx(by_hand, rel=1e-7)
