"""Benchmark: segmented regression with Newey-West errors for many school series.

10,000 series of 60 periods (an interruption at period 36, level and slope change,
AR(1) noise), each fitted with HAC standard errors (Newey-West automatic lag 3, with
the n/(n-k) correction):

- ``impact batched``: :func:`impact.inference.time_series.ols_hac_many`, one set of
  matrix products over all series;
- ``statsmodels array loop``: ``sm.OLS(y, X).fit(cov_type="HAC", ...)`` per series;
- ``statsmodels formula loop``: ``smf.ols("y ~ trend + level + slope", df)`` per
  series, timed on a subset and scaled up (marked as extrapolated).

The numbers of the batched fit are checked against the statsmodels loop (largest
absolute differences of coefficients and standard errors). Timings are medians over
``--repeats`` runs. Run: ``python benchmarks/its.py [--series 10000] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

from impact.estimators.its._design import build_design
from impact.estimators.its._fit import newey_west_lags
from impact.inference.time_series import ols_hac_many


def simulate(m: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0, 1, (m, n))
    for t in range(1, n):
        e[:, t] += 0.5 * e[:, t - 1]
    t = np.arange(n)
    signal = 50 + 0.3 * t - 2 * (t >= 36) + 0.1 * np.maximum(t - 36, 0)
    return signal[None, :] + rng.normal(0, 3, (m, 1)) + e


def statsmodels_loop(Y: np.ndarray, X: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    params = np.empty((len(Y), X.shape[1]))
    bse = np.empty_like(params)
    for i, y in enumerate(Y):
        res = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
        params[i] = res.params
        bse[i] = res.bse
    return params, bse


def formula_loop(Y: np.ndarray, X: np.ndarray, lags: int) -> None:
    frame = pd.DataFrame(X[:, 1:], columns=["trend", "level", "slope"])
    for y in Y:
        smf.ols("y ~ trend + level + slope", frame.assign(y=y)).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}
        )


def timed(func, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--formula-subset", type=int, default=300)
    args = parser.parse_args()
    m, n = args.series, args.length
    Y = simulate(m, n)
    X = build_design(n, [36]).X.to_numpy()
    lags = newey_west_lags(n)

    batched, loop, formula = [], [], []
    for _ in range(args.repeats):
        seconds, batch = timed(ols_hac_many, Y, X, maxlags=lags)
        batched.append(seconds)
        seconds, (params, bse) = timed(statsmodels_loop, Y, X, lags)
        loop.append(seconds)
        seconds, _ = timed(formula_loop, Y[: args.formula_subset], X, lags)
        formula.append(seconds * m / args.formula_subset)
    d_params = float(np.max(np.abs(batch.params - params)))
    d_se = float(np.max(np.abs(batch.std_errors - bse)))
    rel_se = float(np.max(np.abs(batch.std_errors / bse - 1)))
    t_batch, t_loop, t_formula = map(np.median, (batched, loop, formula))
    print(f"{m} series x {n} periods, HAC lag {lags}, medians of {args.repeats} runs")
    print(f"{'method':<34}{'seconds':>10}{'speed-up vs array loop':>26}")
    print(f"{'impact batched (ols_hac_many)':<34}{t_batch:>10.3f}{t_loop / t_batch:>25.1f}x")
    print(f"{'statsmodels array loop':<34}{t_loop:>10.3f}{1.0:>25.1f}x")
    label = f"statsmodels formula loop (x{m // args.formula_subset} of {args.formula_subset})"
    print(f"{label:<34}{t_formula:>10.3f}{t_loop / t_formula:>25.2f}x")
    print(f"max |coef diff| {d_params:.2e}; max |SE diff| {d_se:.2e} (relative {rel_se:.2e})")


if __name__ == "__main__":
    main()
