"""Monte Carlo coverage of interrupted time series intervals under AR(1) errors.

Part 1, single series (60 or 24 periods, interruption at 60%, level change -2, slope
change +0.1 per period, AR(1) errors with rho in {0, 0.3, 0.6}, innovation sd 1):
coverage of the nominal 95% interval of the level change and of ``att`` (average
post-period effect) with

- ``ols``: conventional standard errors, t(n - k);
- ``hac``: Newey-West with the automatic lag floor(4 (n/100)^(2/9)), t(n - k);
- ``ar``: regression with AR(1) errors by maximum likelihood (fewer replications).

The OLS and HAC fits of all replications are batched
(:func:`impact.inference.time_series.ols_hac_many`, numbers identical to
statsmodels); the AR fits go through the estimator.

Part 2, panels like the conformance suite's (40 units, 8 periods, half treated from
period 5, no effect): coverage of ``att`` for the default pooled fit (clustered by
unit) against the aggregate series with OLS and with HAC errors.

Run: ``python validation/its_coverage.py [--reps 2000] [--ar-reps 200] [--panel-reps 300]
[--part all|series|panels]`` from the repository root (the panels come from the test
suite's simulator).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import impact
from impact.estimators.its._design import build_design
from impact.estimators.its._fit import newey_west_lags
from impact.inference.time_series import ols_hac_many

LEVEL, SLOPE = -2.0, 0.1


def ar1(rng, m, n, rho):
    e = rng.normal(0, 1, (m, n))
    out = np.empty_like(e)
    out[:, 0] = e[:, 0] / np.sqrt(1 - rho**2)
    for t in range(1, n):
        out[:, t] = rho * out[:, t - 1] + e[:, t]
    return out


def single_series(reps, ar_reps, seed):
    rows = []
    rng = np.random.default_rng(seed)
    for n in (60, 24):
        cut = int(0.6 * n)
        design = build_design(n, [cut])
        X = design.X.to_numpy()
        names = list(design.X.columns)
        post = design.post
        idx = [names.index("level_change"), names.index("slope_change")]
        c = np.zeros(X.shape[1])
        c[idx] = X[post][:, idx].mean(axis=0)
        truth_att = c @ np.r_[np.zeros(X.shape[1] - 2), LEVEL, SLOPE]
        mean = X @ np.r_[10.0, 0.2, np.zeros(X.shape[1] - 4), LEVEL, SLOPE]
        for rho in (0.0, 0.3, 0.6):
            Y = mean[None, :] + ar1(rng, reps, n, rho)
            crit = stats.t.ppf(0.975, n - X.shape[1])
            for label, lags in (("ols", None), ("hac", newey_west_lags(n))):
                fit = ols_hac_many(Y, X, maxlags=lags)
                se_level = np.sqrt(fit.cov[:, idx[0], idx[0]])
                cover_level = np.abs(fit.params[:, idx[0]] - LEVEL) <= crit * se_level
                att = fit.params @ c
                se_att = np.sqrt(np.einsum("i,mij,j->m", c, fit.cov, c))
                cover_att = np.abs(att - truth_att) <= crit * se_att
                rows.append((n, rho, label, reps, cover_level.mean(), cover_att.mean()))
            cover = []
            est = impact.InterruptedTimeSeries(errors="ar", ar_order=1)
            for y in Y[:ar_reps]:
                res = est.fit_series(y, interruption=cut)
                lev, att = res.effect("level_change"), res.att
                cover.append(
                    (
                        lev.ci_lower <= LEVEL <= lev.ci_upper,
                        att.ci_lower <= truth_att <= att.ci_upper,
                    )
                )
            cover = np.array(cover)
            rows.append((n, rho, "ar", ar_reps, *cover.mean(axis=0)))
    return pd.DataFrame(rows, columns=["periods", "rho", "errors", "reps", "level_change", "att"])


def panels(reps, seed):
    from tests.conftest import make_did_frame

    hits = {"pooled (clustered, default)": [], "aggregate ols": [], "aggregate hac": []}
    for r in range(reps):
        frame = make_did_frame(
            n_units=40, n_periods=8, adoption=4, effect=0.0, noise=0.1, seed=seed + r
        )
        panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
        for label, est in (
            ("pooled (clustered, default)", impact.InterruptedTimeSeries()),
            ("aggregate ols", impact.InterruptedTimeSeries(pooled=False, errors="ols")),
            ("aggregate hac", impact.InterruptedTimeSeries(pooled=False, errors="hac")),
        ):
            att = est.fit(panel).att
            hits[label].append(att.ci_lower <= 0.0 <= att.ci_upper)
    return pd.DataFrame(
        {"design": list(hits), "reps": reps, "att": [np.mean(v) for v in hits.values()]}
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--ar-reps", type=int, default=200)
    parser.add_argument("--panel-reps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--part", choices=["all", "series", "panels"], default="all")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 120)
    if args.part in ("all", "series"):
        print("Coverage of nominal 95% intervals, single series with AR(1) errors")
        print(single_series(args.reps, args.ar_reps, args.seed).round(3).to_string(index=False))
        print()
    if args.part in ("all", "panels"):
        print("Coverage of att (truth 0), 40 units x 8 periods, half treated from period 5")
        print(panels(args.panel_reps, args.seed).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
