"""Benchmark: absorbing pupil fixed effects in a difference-in-differences regression.

Pupils followed over five years in 200 schools, 5% of pupil-years in another school
than the pupil's own; the programme runs in half the schools from the fourth year.
The regression is ``y ~ D | school + year + pupil`` (R ``fixest``'s notation). Timed:

* ``impact``: ``DifferenceInDifferences(absorb=("pupil",), inference="cr1")`` from
  the Panel (the Panel's build timed apart), i.e. alternating projections with pyhdfe
  at a tolerance of 1e-13 plus the clustered fit;
* pyfixest (if installed): ``feols("y ~ D | school + year + pupil",
  vcov={"CRV1": "school"})`` at the same tolerance (its first call compiles numba
  code, so the best of the repeats is shown);
* linearmodels' ``AbsorbingLS`` with the three effects, at pyhdfe's default
  tolerance (1e-8), clustered by school.

The estimates must agree (printed). Usage::

    python benchmarks/absorb.py --pupils 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def make_data(n_pupils: int, *, years: int = 5, n_schools: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    pupil = np.repeat(np.arange(n_pupils), years)
    year = np.tile(np.arange(2001, 2001 + years), n_pupils)
    home = rng.integers(0, n_schools, n_pupils)[pupil]
    moved = rng.random(len(pupil)) < 0.05
    school = np.where(moved, rng.integers(0, n_schools, len(pupil)), home)
    treated = ((school < n_schools // 2) & (year >= 2004)).astype(int)
    y = (
        rng.normal(size=n_pupils)[pupil]
        + rng.normal(size=n_schools)[school]
        + 0.1 * (year - 2001)
        + 0.5 * treated
        + rng.normal(size=len(pupil))
    )
    return pd.DataFrame({"y": y, "D": treated, "school": school, "year": year, "pupil": pupil})


def best_of(repeats: int, work) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - began)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import impact

    df = make_data(args.pupils)
    print(f"{len(df):,} pupil-years, {args.pupils:,} pupils, 200 schools")
    seconds, panel = best_of(
        args.repeats,
        lambda: impact.Panel.from_frame(
            df,
            unit="school",
            time="year",
            outcome="y",
            treated="D",
            fixed_effects=["pupil"],
            repeated_cross_section=True,
        ),
    )
    print(f"Panel.from_frame: {seconds:.2f} s")
    estimator = impact.DifferenceInDifferences(absorb=("pupil",), inference="cr1")
    seconds, result = best_of(args.repeats, lambda: estimator.fit(panel))
    print(f"impact fit: {seconds:.2f} s  estimate {result.att.estimate:.10f}")
    try:
        import pyfixest as pf
        from pyfixest.demeaners import MapDemeaner
    except ImportError:
        print("pyfixest: not installed")
    else:
        seconds, fit = best_of(
            args.repeats,
            lambda: pf.feols(
                "y ~ D | school + year + pupil",
                data=df,
                vcov={"CRV1": "school"},
                demeaner=MapDemeaner(fixef_tol=1e-13),
            ),
        )
        print(f"pyfixest: {seconds:.2f} s  estimate {fit.coef().iloc[0]:.10f}")
    from linearmodels.iv import AbsorbingLS

    cats = pd.DataFrame({c: pd.Categorical(df[c]) for c in ("school", "year", "pupil")})
    seconds, fit = best_of(
        args.repeats,
        lambda: AbsorbingLS(df["y"], df[["D"]].astype(float), absorb=cats).fit(
            cov_type="clustered", clusters=df["school"]
        ),
    )
    print(f"AbsorbingLS: {seconds:.2f} s  estimate {fit.params['D']:.10f}")


if __name__ == "__main__":
    main()
