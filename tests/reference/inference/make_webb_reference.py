"""Webb-weight wild bootstrap reference values computed by the PyPI package wildboottest.

Run with wildboottest 0.3.2 installed (it needs numba, too heavy for the test extra):

    python tests/reference/inference/make_webb_reference.py

and copy the printed values into tests/inference/test_few_cluster_crosschecks.py.
The data sets are those of ``webb_data`` there: ``y`` on an intercept, ``d`` (treated
in two clusters) and ``x``, with 5 and with 8 clusters of 8 rows. wildboottest's
``WildboottestCL`` runs the WCR bootstrap of type "11" for the coefficient of ``d``
with Webb's six-point weights (the p-value, and without the draws that tie with the
observed statistic): for 5 clusters all 6^5 = 7,776 weight vectors are
passed in (wildboottest enumerates only Rademacher vectors itself), for 8 clusters it
draws 99,999 vectors (seed 1).
"""

from __future__ import annotations

import itertools
from importlib.metadata import version

import numpy as np
from wildboottest.wildboottest import WildboottestCL

WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def webb_data(n_clusters: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n_clusters)
    g = np.repeat(np.arange(n_clusters), 8)
    d = (g < 2).astype(float)
    x = rng.normal(size=len(g))
    y = 1.2 * d + x + rng.normal(size=n_clusters)[g] + rng.normal(size=len(g))
    return np.column_stack([np.ones(len(g)), d, x]), y, g


def run(n_clusters: int, weights, draws: int) -> dict:
    X, y, g = webb_data(n_clusters)
    boot = WildboottestCL(
        X=X, Y=y, cluster=g, R=np.array([0.0, 1.0, 0.0]), B=draws, seed=1, parallel=False
    )
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights)
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    t_boot = np.abs(np.asarray(boot.t_boot, dtype=float).ravel())
    t_stat = float(np.squeeze(boot.t_stat))
    # the draws that tie with the observed statistic (weight vectors constant across
    # clusters) are counted or not by rounding: set them aside
    strict = float(np.mean(t_boot > abs(t_stat) * (1 + 1e-9)))
    return {
        "t_stat": t_stat,
        "p_value": float(boot.pvalue),
        "p_value_without_ties": strict,
        "draws": int(boot.B),
    }


def main() -> None:
    grid = np.array(list(itertools.product(WEBB, repeat=5))).T  # 5 x 7776

    def enumerated(n, rng=None):
        return grid.ravel()

    print("wildboottest", version("wildboottest"))
    print("5 clusters, enumerated:", run(5, enumerated, grid.shape[1]))
    print("8 clusters, 99,999 draws:", run(8, "webb", 99_999))


if __name__ == "__main__":
    main()
