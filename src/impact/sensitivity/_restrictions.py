"""The restrictions on the violation of parallel trends, as polyhedra ``A delta <= d``.

``delta`` stacks the violations (the bias of the event-study coefficients) at the
``n_pre`` pre-periods, earliest first, then at the ``n_post`` post-periods; the
reference period (event time -1 in a study normalised there, written ``t = 0`` by
Rambachan and Roth) has ``delta_0 = 0`` and no column. The matrices are those of
Rambachan and Roth (2023) as the HonestDiD R package builds them:

``smoothness`` (Delta^SD(M))
    ``|delta_{t+1} - 2 delta_t + delta_{t-1}| <= M`` at every period: one polyhedron.
``relative_magnitudes`` (Delta^RM(Mbar))
    ``|delta_{t+1} - delta_t| <= Mbar * max_{s<0} |delta_{s+1} - delta_s|`` after
    the reference period, for the pre-period first differences bounded by their own
    maximum: the union over the location ``s`` of the largest pre-period difference and
    its sign of polyhedra.
``smoothness_relative_magnitudes`` (Delta^SDRM(Mbar))
    The same with second differences: post-period changes of slope at most ``Mbar``
    times the largest pre-period change of slope.

``sign`` adds ``delta_post >= 0`` (``"positive"``) or ``<= 0``; ``monotonic`` adds
``delta`` increasing or decreasing through every period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impact.exceptions import DesignError, EstimationError

__all__ = ["RESTRICTIONS", "Polyhedron", "polyhedra", "restriction_name"]

RESTRICTIONS: dict[str, str] = {
    "relative_magnitudes": "relative_magnitudes",
    "rm": "relative_magnitudes",
    "smoothness": "smoothness",
    "sd": "smoothness",
    "smoothness_relative_magnitudes": "smoothness_relative_magnitudes",
    "sdrm": "smoothness_relative_magnitudes",
}


def restriction_name(restriction: str) -> str:
    """The canonical name of ``restriction`` (aliases ``rm``, ``sd``, ``sdrm``)."""
    if not isinstance(restriction, str) or restriction.lower() not in RESTRICTIONS:
        raise DesignError(
            f"restriction={restriction!r} is not valid; choose 'relative_magnitudes', "
            "'smoothness' or 'smoothness_relative_magnitudes'"
        )
    return RESTRICTIONS[restriction.lower()]


@dataclass(frozen=True)
class Polyhedron:
    """One polyhedron ``A delta <= d`` and the rows its conditional test uses."""

    A: np.ndarray
    d: np.ndarray
    rows: np.ndarray


def _differences(n_pre: int, n_post: int, order: int) -> np.ndarray:
    """First (``order=1``) or second differences of ``delta`` including ``delta_0``."""
    total = n_pre + n_post
    stencil = np.array([-1.0, 1.0]) if order == 1 else np.array([1.0, -2.0, 1.0])
    n_rows = total + 1 - len(stencil) + 1
    out = np.zeros((n_rows, total + 1))
    for r in range(n_rows):
        out[r, r : r + len(stencil)] = stencil
    return out


def _sign_rows(n_pre: int, n_post: int, sign: str) -> np.ndarray:
    rows = -np.eye(n_pre + n_post)[n_pre:]  # -delta_post <= 0
    return rows if sign == "positive" else -rows


def _monotone_rows(n_pre: int, n_post: int, direction: str) -> np.ndarray:
    """``delta_t - delta_{t+1} <= 0`` through the reference period (increasing)."""
    total = n_pre + n_post
    out = np.zeros((total, total))
    for r in range(n_pre - 1):
        out[r, r : r + 2] = (1.0, -1.0)
    out[n_pre - 1, n_pre - 1] = 1.0  # delta_{-1} <= delta_0 = 0
    out[n_pre, n_pre] = -1.0  # 0 <= delta_1
    for r in range(n_pre + 1, total):
        out[r, r - 1 : r + 1] = (1.0, -1.0)
    return out if direction == "increasing" else -out


def _post_rows(A: np.ndarray, n_pre: int) -> np.ndarray:
    return np.flatnonzero(np.any(A[:, n_pre:] != 0, axis=1))


def polyhedra(
    restriction: str,
    bound: float,
    *,
    n_pre: int,
    n_post: int,
    sign: str | None = None,
    monotonic: str | None = None,
) -> list[Polyhedron]:
    """The polyhedra whose union is the restriction, with the rows the test uses.

    The conditional tests use only the moments that involve a post-period (HonestDiD's
    ``postPeriodMomentsOnly``), except for smoothness with a single post-period, which
    uses them all.
    """
    name = restriction_name(restriction)
    extra, extra_d = [], []
    if sign is not None:
        extra.append(_sign_rows(n_pre, n_post, sign))
    if monotonic is not None:
        extra.append(_monotone_rows(n_pre, n_post, monotonic))
    extra_d = [np.zeros(len(e)) for e in extra]
    drop_zero = np.delete(np.arange(n_pre + n_post + 1), n_pre)
    if name == "smoothness":
        tilde = _differences(n_pre, n_post, 2)[:, drop_zero]
        A = np.vstack([tilde, -tilde, *extra])
        d = np.concatenate([np.full(2 * len(tilde), float(bound)), *extra_d])
        rows = _post_rows(A, n_pre) if n_post > 1 else np.arange(len(A))
        return [Polyhedron(A, d, rows)]
    order = 1 if name == "relative_magnitudes" else 2
    if n_pre < order:
        raise DesignError(
            f"{name} needs at least {order} pre-period(s) besides the reference period to "
            f"bound the post-period violation by; the event study has n_pre={n_pre}"
        )
    tilde = _differences(n_pre, n_post, order)
    n_pre_rows = n_pre if order == 1 else n_pre - 1
    out = []
    for s in range(-(n_pre_rows - 1), 1):
        for positive in (True, False):
            v = np.zeros(n_pre + n_post + 1)
            if order == 1:
                v[n_pre + s - 1 : n_pre + s + 1] = (-1.0, 1.0)
            else:
                v[n_pre + s - 2 : n_pre + s + 1] = (1.0, -2.0, 1.0)
            v = v if positive else -v
            upper = np.vstack([np.tile(v, (n_pre_rows, 1)), np.tile(bound * v, (n_post, 1))])
            A = np.vstack([tilde - upper, -tilde - upper])
            A = A[np.einsum("ij,ij->i", A, A) > 1e-10][:, drop_zero]
            A = np.vstack([A, *extra])
            d = np.concatenate([np.zeros(len(A) - sum(map(len, extra))), *extra_d])
            out.append(Polyhedron(A, d, _post_rows(A, n_pre)))
    return out


def identified_bounds(
    pieces: list[Polyhedron], beta: np.ndarray, l_vec: np.ndarray, n_pre: int
) -> tuple[float, float]:
    """Bounds of ``l' tau_post`` when ``beta`` is known: the identified set.

    For each polyhedron, the largest and smallest ``l' delta_post`` with
    ``delta_pre = beta_pre`` (linear programmes); the set is the union over the
    polyhedra that are feasible.
    """
    from scipy.optimize import linprog

    n = len(beta)
    c = np.concatenate([np.zeros(n_pre), l_vec])
    point = float(l_vec @ beta[n_pre:])
    eq = np.hstack([np.eye(n_pre), np.zeros((n_pre, n - n_pre))])
    lows, highs = [], []
    for piece in pieces:
        values = []
        for direction in (-1.0, 1.0):  # max then min of l' delta_post
            res = linprog(
                direction * c,
                A_ub=piece.A,
                b_ub=piece.d,
                A_eq=eq,
                b_eq=beta[:n_pre],
                bounds=(None, None),
                method="highs",
            )
            if res.status == 2:  # infeasible: this piece holds no violation
                break
            if res.status == 3:  # unbounded
                values.append(-direction * np.inf)
                continue
            if res.status != 0:
                raise EstimationError(f"the identified-set programme failed: {res.message}")
            values.append(direction * res.fun)
        if len(values) == 2:
            highs.append(point - values[1])
            lows.append(point - values[0])
    if not lows:
        raise DesignError(
            "no violation satisfies the restriction with these pre-period coefficients "
            f"({np.round(beta[:n_pre], 6).tolist()}): the identified set is empty; the "
            "restriction contradicts the pre-trend"
        )
    return float(min(lows)), float(max(highs))
