"""Benchmark: synthetic DiD, at scale and side by side with the Python ``synthdid`` package.

1. Scale: ``impact.SyntheticDiD`` with placebo standard errors (200 placebos) on a
   factor-model panel of 1,000 comparison units and one treated unit over 40 periods
   (30 before adoption), from the Panel.
2. California's Proposition 99 (the ``synthdid`` data, 39 states x 31 years), side by
   side with the Python ``synthdid`` package's point estimate (``Synthdid(...).fit()``),
   against impact's fit with 2 placebo replications (the least it runs) and with 50.
   The package (0.10.1) fails on pandas 3 in its ``panel_matrices`` (``groupby.apply``
   no longer passes the grouping column), so the benchmark substitutes an equivalent
   ``panel_matrices``; its estimation code is what is timed. Its placebo standard
   error fails the same way inside its own loop and is not timed.

Times are medians over ``--repeats`` runs, the tools taking turns run by run. The
estimates are printed so that agreement can be checked.

Usage::

    python benchmarks/synthetic_did.py --repeats 5

The Python ``synthdid`` package (0.10.1) pins exact, years-old versions of numpy,
pandas, scipy, statsmodels and matplotlib among its requirements: install it with
``pip install --no-deps synthdid`` (it runs with current versions), never with its
dependencies, which would downgrade the environment.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import impact

PROP99 = Path(__file__).parents[1] / "tests" / "reference" / "synthetic" / "california_prop99.csv"


def factor_panel(n_controls: int = 1000, n_periods: int = 40, adoption: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_controls + 1
    loadings = rng.normal(size=(n, 3))
    factors = np.cumsum(rng.normal(size=(3, n_periods)), axis=1)
    y = rng.normal(0, 3, n)[:, None] + loadings @ factors + 0.5 * rng.normal(size=(n, n_periods))
    d = (np.arange(n)[:, None] == n_controls) & (np.arange(n_periods)[None, :] >= adoption)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), n_periods),
            "time": np.tile(np.arange(n_periods), n),
            "y": (y + 2.0 * d).ravel(),
            "d": d.ravel().astype(int),
        }
    )
    return frame


def _patch_peer() -> None:
    """Replace the peer's ``panel_matrices``, which fails on pandas 3, by an equivalent."""
    import synthdid.sdid
    import synthdid.synthdid
    import synthdid.utils

    def panel_matrices(data, unit, time, treatment, outcome, covariates=None):
        ref = pd.DataFrame(
            {
                "unit": data[unit].to_numpy(),
                "time": data[time].to_numpy(),
                "outcome": data[outcome].to_numpy(),
                "treatment": data[treatment].to_numpy(),
            }
        )
        ever = ref.groupby("unit")["treatment"].transform("max")
        on = ref["time"].where(ref["treatment"] == 1)
        ref["treated"] = ever
        ref["ty"] = on.fillna(0)
        ref["tyear"] = on.groupby(ref["unit"]).transform("min").where(ever == 1).fillna(0)
        ref = ref.sort_values(["treated", "time", "unit"])
        return ref, np.unique(ref.loc[ref["tyear"] > 0, "tyear"])

    for module in (synthdid.sdid, synthdid.utils, synthdid.synthdid):
        module.panel_matrices = panel_matrices


def timed(func) -> tuple[float, object]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    frame = factor_panel()

    def scale_run():
        panel = impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
        return impact.SyntheticDiD(replications=200, seed=0).fit(panel).att

    times, cpu = [], []
    for _ in range(args.repeats):
        start_cpu = time.process_time()
        seconds, att = timed(scale_run)
        cpu.append(time.process_time() - start_cpu)
        times.append(seconds)
    print(
        f"scale: 1,000 comparison units x 40 periods, 200 placebos: median "
        f"{statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s CPU over "
        f"{args.repeats} runs (wall: {', '.join(f'{t:.2f}' for t in times)}); {att}"
    )

    prop99 = pd.read_csv(PROP99, sep=";")

    def impact_point():
        panel = impact.Panel.from_frame(
            prop99, unit="State", time="Year", outcome="PacksPerCapita", treated="treated"
        )
        return impact.SyntheticDiD(replications=2, seed=0).fit(panel).att

    def impact_placebo():
        panel = impact.Panel.from_frame(
            prop99, unit="State", time="Year", outcome="PacksPerCapita", treated="treated"
        )
        return impact.SyntheticDiD(replications=50, seed=0).fit(panel).att

    runs = {"impact point": (impact_point, []), "impact +50 placebos": (impact_placebo, [])}
    if not args.skip_peer:
        _patch_peer()
        from synthdid.synthdid import Synthdid

        def peer_point():
            return Synthdid(prop99, "State", "Year", "treated", "PacksPerCapita").fit().att

        try:
            peer_point()
        except Exception as error:  # the peer fails on current pandas: say so, time impact
            print(
                f"the synthdid package fails here ({type(error).__name__}: {error}); "
                "timing impact alone"
            )
            args.skip_peer = True
        else:
            runs["synthdid point"] = (peer_point, [])
    values = {}
    for _ in range(args.repeats):
        for name, (func, store) in runs.items():
            seconds, value = timed(func)
            store.append(seconds)
            values[name] = value
    medians = {name: statistics.median(store) for name, (_, store) in runs.items()}
    for name, median in medians.items():
        print(f"prop99 {name}: median {median:.3f} s; {values[name]}")
    if not args.skip_peer:
        for mine in ("point", "+50 placebos"):
            ratio = medians["synthdid point"] / medians[f"impact {mine}"]
            print(f"prop99: impact {mine} is {ratio:.1f}x faster than synthdid's point estimate")


if __name__ == "__main__":
    main()
