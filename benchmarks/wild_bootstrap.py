"""Wild cluster restricted bootstrap: 9,999 draws on 50 clusters, ours vs wildboottest.

Usage (wildboottest is in the ``bench`` extra)::

    python benchmarks/wild_bootstrap.py --repeats 7
    python benchmarks/wild_bootstrap.py --clusters 25 --repeats 21

Times the p-value (and, for ours, also the test-inversion interval) for one
coefficient of a regression with 50 (``--clusters``) clusters of 40 rows and 5
regressors; reports the median of the repeats (the first wildboottest call, which
compiles with numba, is excluded) and the ratio.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from impact.inference import wild_cluster_bootstrap


def data(seed: int = 0, n_clusters: int = 50, size: int = 40):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_clusters), size)
    n = len(g)
    X = np.column_stack(
        [np.ones(n), (g < 10).astype(float) * rng.integers(0, 2, n), rng.normal(size=(n, 3))]
    )
    y = X @ [1.0, 0.0, 0.5, -0.2, 0.1] + rng.normal(size=n_clusters)[g] + rng.normal(size=n)
    return X, y, g


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--draws", type=int, default=9999)
    parser.add_argument("--clusters", type=int, default=50)
    args = parser.parse_args()
    X, y, g = data(n_clusters=args.clusters)
    ours_p = median_time(
        lambda: wild_cluster_bootstrap(X, y, g, coef=1, draws=args.draws, seed=1, alpha=None),
        args.repeats,
    )
    ours_ci = median_time(
        lambda: wild_cluster_bootstrap(X, y, g, coef=1, draws=args.draws, seed=1), args.repeats
    )
    print(f"impact p-value only:        {1000 * ours_p:8.1f} ms (median of {args.repeats})")
    print(f"impact p-value + interval:  {1000 * ours_ci:8.1f} ms")
    try:
        import statsmodels.api as sm
        from wildboottest.wildboottest import wildboottest
    except ImportError:
        print("wildboottest not installed (pip install -e '.[bench]'); no comparison")
        return
    model = sm.OLS(y, X)

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wildboottest(model, param="x1", cluster=g, B=args.draws, seed=1, show=False)

    theirs()  # numba compilation
    their_p = median_time(theirs, args.repeats)
    print(f"wildboottest p-value only:  {1000 * their_p:8.1f} ms")
    print(f"ratio wildboottest / impact (p-value): {their_p / ours_p:.1f}")


if __name__ == "__main__":
    main()
