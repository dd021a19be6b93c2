"""Freeze wild cluster bootstrap reference values computed by the PyPI package wildboottest.

Run with wildboottest 0.3.2 installed (it needs numba, too heavy for the test extra):

    python tests/reference/inference/make_wild_reference.py

It simulates a small clustered data set (12 clusters of 6 rows, heteroskedastic,
treatment in 4 clusters), writes it to wild_data.csv, runs wildboottest's
``WildboottestCL`` (WCR, bootstrap type "11", Rademacher weights; with B = 99,999 >
2^12 it enumerates all 4,096 sign vectors) for the coefficients of ``d`` and ``x``, and
writes the observed t-statistic, its p-value, the p-value without the two draws that tie
with the observed statistic (the sign vectors +1 and -1, which wildboottest counts or
not depending on rounding) and the sorted absolute bootstrap t-statistics to
wild_reference.json.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from wildboottest.wildboottest import WildboottestCL

HERE = Path(__file__).parent


def main() -> None:
    rng = np.random.default_rng(1)
    n_clusters, size = 12, 6
    g = np.repeat(np.arange(n_clusters), size)
    x = rng.normal(size=n_clusters * size)
    d = (g < 4).astype(float) * rng.integers(0, 2, n_clusters * size)
    noise = rng.normal(size=n_clusters)[g] + rng.normal(size=n_clusters * size) * (1 + g / 5)
    y = 0.3 * d + x + noise
    data = pd.DataFrame({"cluster": g, "y": y, "d": d, "x": x})
    data.to_csv(HERE / "wild_data.csv", index=False, float_format="%.17g")
    X = np.column_stack([np.ones(len(y)), d, x])
    out = {"wildboottest_version": version("wildboottest")}
    for j, name in ((1, "d"), (2, "x")):
        R = np.zeros(3)
        R[j] = 1
        boot = WildboottestCL(X=X, Y=y, cluster=g, R=R, B=99999, seed=1, parallel=False)
        boot.get_scores(bootstrap_type="11", impose_null=True)
        boot.get_weights("rademacher")
        boot.get_numer()
        boot.get_denom()
        boot.get_tboot()
        boot.get_vcov()
        boot.get_tstat()
        boot.get_pvalue(pval_type="two-tailed")
        t_boot = np.abs(np.asarray(boot.t_boot, dtype=float).ravel())
        t_stat = float(np.squeeze(boot.t_stat))
        strict = float(np.mean(t_boot > abs(t_stat) * (1 + 1e-9)))
        out[name] = {
            "t_stat": t_stat,
            "p_value": float(boot.pvalue),
            "p_value_without_ties": strict,
            "draws": int(boot.B),
            "abs_t_boot_sorted": np.sort(t_boot).tolist(),
        }
    (HERE / "wild_reference.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
