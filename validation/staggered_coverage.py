"""Monte Carlo coverage of the staggered estimator's intervals.

Simulates staggered panels with dynamic, cohort-specific effects (truth known by
construction), fits StaggeredDiD and records how often the 95% intervals cover the
true ATT(g,t), the true simple ATT and the true dynamic effects; with
``--bootstrap`` also how often the uniform band covers every dynamic effect at once.

Usage::

    python validation/staggered_coverage.py --reps 200 --units 400
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

import impact

COHORTS = {2004: 0.25, 2006: 0.25}  # first treated year: share of units


def true_effect(cohort: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Effects build up after adoption, faster for the earlier cohort."""
    slope = np.where(cohort == 2004, 0.5, 0.3)
    return np.where(event >= 0, 0.2 + slope * event, 0.0)


def simulate(n_units: int, rng: np.random.Generator, covariate: bool) -> pd.DataFrame:
    years = np.arange(2001, 2009)
    draw = rng.uniform(size=n_units)
    cohort = np.select([draw < 0.25, draw < 0.5], [2004, 2006], 0)
    x = rng.normal(size=n_units)
    unit = np.repeat(np.arange(n_units), len(years))
    year = np.tile(years, n_units)
    g = cohort[unit]
    event = np.where(g > 0, year - g, -1)
    trend = 0.3 * (year - 2000) + (0.2 * x[unit] * (year - 2000) / 8 if covariate else 0.0)
    y = (
        rng.normal(size=n_units)[unit]
        + trend
        + true_effect(g, event)
        + rng.normal(scale=0.5, size=len(unit))
    )
    return pd.DataFrame({"unit": unit, "year": year, "y": y, "cohort": g, "x": x[unit]})


def truth_tables(frame: pd.DataFrame) -> tuple[pd.Series, float, pd.Series]:
    treated = frame[(frame.cohort > 0) & (frame.year >= frame.cohort)]
    cells = true_effect(treated.cohort.to_numpy(), (treated.year - treated.cohort).to_numpy())
    labels = [f"ATT({g},{t})" for g, t in zip(treated.cohort, treated.year, strict=True)]
    gt = pd.Series(cells, index=labels)
    gt = gt.groupby(level=0).first()
    simple = float(np.mean(cells))
    sizes = frame.groupby("cohort")["unit"].nunique()
    dyn = {}
    for e in range(0, 5):
        groups = [g for g in COHORTS if g + e <= 2008]
        w = np.array([sizes.get(g, 0) for g in groups], dtype=float)
        vals = np.array([true_effect(np.array(g), np.array(e)) for g in groups], dtype=float)
        dyn[e] = float(np.dot(w, vals) / w.sum())
    return gt, simple, pd.Series(dyn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--method", default="dr", choices=["dr", "ipw", "reg"])
    parser.add_argument("--covariate", action="store_true")
    parser.add_argument("--bootstrap", action="store_true")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    warnings.filterwarnings("ignore")
    cover_gt, cover_simple, cover_dyn, cover_band = [], [], [], []
    for _ in range(args.reps):
        frame = simulate(args.units, rng, args.covariate)
        panel = impact.Panel.from_frame(
            frame,
            unit="unit",
            time="year",
            outcome="y",
            cohort="cohort",
            covariates=["x"] if args.covariate else (),
        )
        est = impact.StaggeredDiD(
            method=args.method, bootstrap=args.bootstrap, n_boot=499, seed=rng
        ).fit(panel)
        gt_truth, simple_truth, dyn_truth = truth_tables(frame)
        cells = est.effects.set_index("term").loc[gt_truth.index]
        cover_gt.extend(((cells.ci_lower <= gt_truth) & (gt_truth <= cells.ci_upper)).tolist())
        att = est.att
        cover_simple.append(att.ci_lower <= simple_truth <= att.ci_upper)
        dyn = est.aggregate("dynamic").effects.dropna(subset=["event_time"])
        dyn = dyn[dyn.event_time >= 0].set_index("event_time")
        inside = (dyn.ci_lower <= dyn_truth) & (dyn_truth <= dyn.ci_upper)
        cover_dyn.extend(inside.tolist())
        if args.bootstrap:
            band = (dyn.cband_lower <= dyn_truth) & (dyn_truth <= dyn.cband_upper)
            cover_band.append(bool(band.all()))
    print(f"reps={args.reps} units={args.units} method={args.method} covariate={args.covariate}")
    print(f"  post-treatment ATT(g,t), pointwise 95%: {np.mean(cover_gt):.3f}")
    print(f"  simple ATT, 95%:                        {np.mean(cover_simple):.3f}")
    print(f"  dynamic effects e>=0, pointwise 95%:    {np.mean(cover_dyn):.3f}")
    if args.bootstrap:
        print(f"  dynamic effects, uniform band (all e):  {np.mean(cover_band):.3f}")


if __name__ == "__main__":
    main()
