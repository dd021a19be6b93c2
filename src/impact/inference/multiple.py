"""P-values adjusted for testing several outcomes.

``holm``
    Holm's (1979) step-down adjustment: controls the family-wise error rate under any
    dependence between the tests (statsmodels ``multipletests(method="holm")``).
``bh``
    Benjamini and Hochberg (1995): controls the false discovery rate for independent
    or positively dependent tests (statsmodels ``method="fdr_bh"``).
``romano_wolf``
    Romano and Wolf (2005, 2016) step-down with a joint bootstrap: the family-wise
    error rate is controlled using the bootstrap distribution of the largest
    t-statistic among the hypotheses not yet rejected, which accounts for the
    correlation between outcomes measured on the same pupils and schools and so is
    less conservative than Holm. Here the bootstrap is the wild cluster restricted
    bootstrap with the same cluster weights for every outcome (Clarke, Romano and Wolf
    2020, ``rwolf2``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from impact.exceptions import DesignError
from impact.inference.coefficient import RegressionDesign, transform_design
from impact.inference.regression import within_regression
from impact.inference.wild import bootstrap_weights, wild_cluster_bootstrap

__all__ = ["adjust_p_values", "joint_wild_bootstrap", "romano_wolf"]


def adjust_p_values(p_values: Sequence[float], method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values.

    Parameters
    ----------
    p_values : sequence of float
        Unadjusted p-values.
    method : {"holm", "bh"}
        Adjustment.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    names = {"holm": "holm", "bh": "fdr_bh"}
    if method not in names:
        raise ValueError(f"unknown adjustment {method!r}; use 'holm' or 'bh'")
    from statsmodels.stats.multitest import multipletests  # on first use (slow import)

    p = np.asarray(p_values, dtype=float)
    return multipletests(p, method=names[method])[1]


def romano_wolf(t_stats: np.ndarray, t_draws: np.ndarray) -> np.ndarray:
    """Romano-Wolf step-down adjusted p-values from a joint bootstrap.

    Parameters
    ----------
    t_stats : ndarray, shape (m,)
        Observed t-statistics of the ``m`` hypotheses.
    t_draws : ndarray, shape (m, B)
        Bootstrap t-statistics under the null, drawn jointly (column ``b`` of every
        row from the same bootstrap sample).

    Returns
    -------
    ndarray, shape (m,)
        Adjusted p-values (two-sided), monotone in ``|t|``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> draws = rng.normal(size=(3, 5000))
    >>> p = romano_wolf(np.array([3.0, 0.5, 2.0]), draws)
    >>> bool(p[0] < p[2] < p[1])
    True
    """
    t = np.abs(np.asarray(t_stats, dtype=float))
    draws = np.abs(np.asarray(t_draws, dtype=float))
    order = np.argsort(-t, kind="stable")
    adjusted = np.empty(len(t))
    running = 0.0
    for step, k in enumerate(order):
        remaining = order[step:]
        max_draw = draws[remaining].max(axis=0)
        p = float(np.mean(max_draw >= t[k] * (1 - 1e-10) - 1e-12))
        running = max(running, p)
        adjusted[k] = running
    return adjusted


def joint_wild_bootstrap(
    designs: Sequence[RegressionDesign],
    *,
    draws: int = 9999,
    weights: str = "rademacher",
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Wild cluster restricted bootstrap of several regressions with shared weights.

    Parameters
    ----------
    designs : sequence of RegressionDesign
        One regression per outcome, with the same clusters.
    draws, weights, seed
        As for :func:`~impact.inference.wild.wild_cluster_bootstrap`.

    Returns
    -------
    t_stats : ndarray, shape (m,)
    t_draws : ndarray, shape (m, B)
    enumerated : bool
    """
    first = designs[0]
    _, codes = np.unique(np.asarray(first.cluster_codes), return_inverse=True)
    for design in designs[1:]:
        if not np.array_equal(np.asarray(design.cluster_codes), np.asarray(first.cluster_codes)):
            raise DesignError("a joint bootstrap needs the same clusters for every outcome")
    v, enumerated = bootstrap_weights(int(codes.max()) + 1, kind=weights, draws=draws, seed=seed)
    t_stats, t_draws = [], []
    for design in designs:
        fit = within_regression(
            design.y,
            design.X,
            design.names,
            unit_codes=design.unit_codes,
            cluster_codes=design.cluster_codes,
            weights=design.weights,
        )
        kept = list(fit.params.index)
        yd, Xd, _ = transform_design(design, kept)
        boot = wild_cluster_bootstrap(
            Xd,
            yd,
            design.cluster_codes,
            coef=kept.index(design.term),
            alpha=None,
            weight_matrix=v,
        )
        t_stats.append(boot.t_stat)
        t_draws.append(boot.t_draws)
    return np.array(t_stats), np.vstack(t_draws), enumerated
