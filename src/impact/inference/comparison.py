"""What the comparison behind a coefficient can support: the checks before an interval.

A coefficient's interval needs variation from its comparison: at least two comparison
clusters for a clustered method, and an outcome that varies within comparison units.
:func:`undefined_comparison` says why an interval is undefined, if it is;
:func:`coefficient_scale` is the outcome's scale in the coefficient's units, against
which a standard error is zero up to rounding; :func:`treated_clusters` counts the
clusters on each side and :func:`one_cluster_message` warns of a single treated cluster.
"""

from __future__ import annotations

import numpy as np

from impact.inference.regression import _codes, demean
from impact.inference.wald import ZERO_SE_RTOL, outcome_scale, regressor_size

__all__ = ["coefficient_scale", "one_cluster_message", "treated_clusters", "undefined_comparison"]


def one_cluster_message(used: str, term: str, n_treated: int, n_control: int) -> str:
    """The warning for a CR2/CR3 standard error from a single treated cluster."""
    side = "treated"
    return (
        f"{used.upper()} standard error of {term!r} with a single {side} cluster "
        f"({n_treated} treated, {n_control} control): that cluster's leverage is 1, so "
        "its residuals are fitted exactly in the direction of the effect and the finite "
        "standard error, p-value and interval miss its variation; use "
        "inference='randomization' where offered (exact under the sharp null, p-value "
        f"at least 1/{n_treated + n_control}) or add {side} clusters"
    )


def treated_clusters(
    column: np.ndarray, cluster_index: np.ndarray, n_groups: int
) -> tuple[int, int]:
    """Clusters (coded ``0..G-1``) in which ``column`` is non-zero somewhere, and the others."""
    treated = np.zeros(n_groups, dtype=bool)
    treated[cluster_index[column != 0]] = True
    return int(treated.sum()), int((~treated).sum())


def undefined_comparison(
    y: np.ndarray,
    column: np.ndarray,
    unit_codes: np.ndarray,
    cluster_index: np.ndarray,
    n_groups: int,
    *,
    clustered: bool,
) -> str | None:
    """Why the comparison cannot support an interval for the coefficient on ``column``, if so.

    Comparison units are those whose ``column`` is zero in every row. Their outcome not
    varying within any of them (up to rounding, relative to the outcome's spread, which
    ignores a shift of the outcome: see :func:`~impact.inference.wald.outcome_scale`), or
    (for clustered methods) fewer than two clusters holding comparison units, leaves
    the interval undefined (see :mod:`impact.inference.wald`).

    Examples
    --------
    >>> unit = np.repeat(np.arange(4), 2)
    >>> d = np.tile([0.0, 1.0], 4) * (unit < 2)
    >>> y = np.array([0.0, 1.2, 0.3, 1.0, 5.0, 5.0, 2.0, 2.0])
    >>> undefined_comparison(y, d, unit, unit, 4, clustered=True)[:40]
    'the outcome does not vary within any of '
    """
    unit_index, n_units = _codes(np.asarray(unit_codes))
    treated = np.zeros(n_units, dtype=bool)
    treated[unit_index[np.asarray(column) != 0]] = True
    control_rows = ~treated[unit_index]
    if not control_rows.any():
        return None
    if clustered:
        holds = np.zeros(n_groups, dtype=bool)
        holds[cluster_index[control_rows]] = True
        if holds.sum() < 2:
            return (
                f"only {int(holds.sum())} cluster holds comparison units, and a clustered "
                "standard error needs at least two (the comparison's variation cannot be "
                "estimated from one); add comparison units or clusters"
            )
    y = np.asarray(y, dtype=float)
    within = demean(y[control_rows], unit_index[control_rows], None)
    if not np.abs(within).max() > ZERO_SE_RTOL * outcome_scale(y):
        n_control = int(np.unique(unit_index[control_rows]).size)
        return (
            f"the outcome does not vary within any of the {n_control} comparison units, so "
            "the comparison contributes no variation to the standard error"
        )
    return None


def coefficient_scale(y: np.ndarray, column: np.ndarray) -> float:
    """The outcome's scale in the units of the coefficient on ``column``.

    The outcome's spread (:func:`~impact.inference.wald.outcome_scale`, which ignores a
    shift of the outcome) over the largest absolute value of the regressor: a standard
    error below :data:`~impact.inference.wald.ZERO_SE_RTOL` times it is zero up to
    rounding (see :mod:`impact.inference.wald`).

    Examples
    --------
    >>> coefficient_scale(np.array([1.0, -8.0]), np.array([0.0, 2.0]))
    4.5
    """
    size = regressor_size(column)
    return outcome_scale(y) / size if size > 0 else 0.0
