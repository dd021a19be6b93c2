"""Monte Carlo: the FLCI hybrid (C-F) beside the FLCI and the conditional sets, smoothness.

The event-study coefficients are drawn directly, ``betahat ~ N(tau + delta, Sigma)``,
with ``Sigma`` the covariance of the Benzarti-Carloni event study that HonestDiD ships
(4 pre- and 4 post-period coefficients; ``tests/reference/sensitivity``), a true effect
``tau = 0.2`` in every post-period, and a violation ``delta`` (zero at the reference
period) inside Delta^SD(M) with ``M = 0.02`` (the first post-period's standard error is
0.018):

``linear``
    ``delta_t = 0.03 t``: a straight line (in Delta^SD(0)).
``bend``
    ``delta_t = 0.03 t + (M / 2) t^2``: its slope changes by exactly ``M`` every period,
    the largest bend the restriction allows.

Each set is computed at ``M = 0.02`` for the first post-period effect: FLCI, C-F,
Conditional and C-LF, and with the (true) restriction ``delta_post >= 0`` the C-F and
Conditional sets. Every set should cover at 95% or more; the lengths show what the
hybrid buys. Run: ``python validation/flci_hybrid_coverage.py [n_reps]``; results are
written to ``validation/results/flci_hybrid_coverage.txt``.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from impact.sensitivity import robust_confidence_sets

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "reference" / "sensitivity" / "benzarti_carloni.csv"
TAU = 0.2
M = 0.02
TIMES = np.array([-4, -3, -2, -1, 1, 2, 3, 4], dtype=float)  # reference period 0 omitted
VIOLATIONS = {
    "linear": 0.03 * TIMES,
    "bend": 0.03 * TIMES + 0.5 * M * TIMES**2,
}
SETS = [  # (label, method, sign)
    ("FLCI", "FLCI", None),
    ("C-F", "C-F", None),
    ("Conditional", "Conditional", None),
    ("C-LF", "C-LF", None),
    ("C-F, positive", "C-F", "positive"),
    ("Conditional, positive", "Conditional", "positive"),
]


def _sigma() -> np.ndarray:
    frame = pd.read_csv(DATA)
    return frame[[f"sigma_{j}" for j in range(1, 9)]].to_numpy()


def main(n_reps: int = 1000, seed: int = 20261203) -> pd.DataFrame:
    sigma = _sigma()
    factor = np.linalg.cholesky(sigma)
    truth = np.concatenate([np.zeros(4), np.full(4, TAU)])
    records = []
    for name, delta in VIOLATIONS.items():
        rng = np.random.default_rng(np.random.SeedSequence([seed, len(name)]))
        for _ in range(n_reps):
            beta = truth + delta + factor @ rng.standard_normal(8)
            for label, method, sign in SETS:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row = robust_confidence_sets(
                        beta, sigma, n_pre=4, n_post=4, restriction="smoothness", M=[M],
                        method=method, sign=sign, lf_draws=2000,
                    ).iloc[0]  # fmt: skip
                covers = bool(row.lb <= TAU <= row.ub) if np.isfinite(row.lb) else False
                records.append({"violation": name, "set": label, "covers": covers,
                                "length": row.ub - row.lb})  # fmt: skip
    frame = pd.DataFrame(records)
    summary = (
        frame.groupby(["violation", "set"], sort=False)
        .agg(coverage=("covers", "mean"), mean_length=("length", "mean"))
        .reset_index()
    )
    summary["mc_se"] = np.sqrt(summary.coverage * (1 - summary.coverage) / n_reps)
    return summary


if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    started = time.perf_counter()
    table = main(reps)
    text = (
        f"Coverage of 95% sets for the first post-period effect (truth {TAU}) under "
        f"smoothness with M = {M}, {reps} replications per violation "
        f"({time.perf_counter() - started:.0f} s)\n\n" + table.to_string(index=False) + "\n"
    )
    print(text)
    out = Path(__file__).parent / "results" / "flci_hybrid_coverage.txt"
    out.write_text(text)
