"""Replications per second of a Monte Carlo study: impact against hand-written loops.

The study: ``Scenario.scottish_schools(n_units=500)`` (500 schools x 8 years, 60 pilot
schools from year 4, unit effects, a national rise, AR(1) shocks) fitted with the 2x2
difference-in-differences and standard errors clustered by school.

Compared, in one run on the same machine:

- impact, ``monte_carlo(..., backend="serial")``: simulate, build and validate a
  Panel, fit ``DifferenceInDifferences(design="2x2")``, score against the truth;
- impact with ``backend="processes", n_workers=2`` (this process and one worker
  process, started before the timings);
- the machine's own ceiling for two processes: two separate Python processes running
  the serial study side by side, started together (their summed rate); the scaling of
  the process backend is read against it as well as against one process, since on a
  shared or virtual machine two busy cores can each run slower than one;
- cold start, each in a fresh process after ``import impact``: a 1,000-replication
  study with the default backend, with ``"processes"`` (worker processes started from
  nothing) and serially;
- the parts of one impact replication (simulate with its Panel, fit);
- a loop that simulates the same design with numpy and fits pyfixest ``feols``
  (``y ~ treated | unit + post``, CRV1 by unit);
- a loop that simulates with numpy and fits statsmodels OLS (``y ~ group + post +
  treated``, cluster-robust by unit).

Timings are medians of ``--repeat`` runs; the machine may be shared, so read the
ratios rather than the absolute numbers.

With ``--designs``, instead: replications per second of every registered design with
its default hyperparameters (``"auto"`` inference) on ``Scenario.scottish_schools()``
and ``Scenario.small_pilot()`` (five treated of 25 schools: the wild bootstrap),
``monte_carlo(..., backend="serial")``, with the load average of the machine.

Usage::

    python benchmarks/simulation.py --reps 1000 --repeat 5
    python benchmarks/simulation.py --designs --reps 100 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

import impact
from impact.simulations import Scenario, monte_carlo, simulate

N_UNITS, N_PERIODS, ADOPTION, N_TREATED = 500, 8, 3, 86  # 0-based adoption (year 4)


def numpy_frame(rng: np.random.Generator) -> pd.DataFrame:
    """The same design as the scenario, simulated directly with numpy."""
    unit = np.repeat(np.arange(N_UNITS), N_PERIODS)
    t = np.tile(np.arange(N_PERIODS), N_UNITS)
    group = (unit < N_TREATED).astype(float)
    post = (t >= ADOPTION).astype(float)
    shocks = rng.standard_normal((N_UNITS, N_PERIODS)) * 2.0
    for j in range(1, N_PERIODS):  # AR(1), a loop over 8 periods (not units)
        shocks[:, j] = 0.3 * shocks[:, j - 1] + np.sqrt(1 - 0.09) * shocks[:, j]
    y = 50 + rng.normal(0, 8, N_UNITS)[unit] + 1.0 * t + shocks.ravel()
    return pd.DataFrame(
        {"unit": unit, "post": post, "group": group, "treated": group * post, "y": y}
    )


def rate(run, reps: int, repeat: int) -> float:
    """Median replications per second of ``run(reps)`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(reps)
        times.append(time.perf_counter() - start)
    return reps / statistics.median(times)


def child(mode: str, reps: int, start_at: float) -> None:
    """Run one study in this fresh process and print its seconds (``--child``).

    With ``start_at`` (a side-by-side run of the machine's ceiling), warm up, wait for
    the common start, then run serial studies of 100 replications for as long as one
    study of ``reps`` would take at about 550 replications a second, and print the
    replications per second: both processes are busy over the same span.
    """
    scenario = Scenario.scottish_schools(n_units=N_UNITS)
    did = impact.DifferenceInDifferences(design="2x2")
    if start_at:
        monte_carlo([did], scenario, n_reps=20, seed=2, backend="serial", progress=False)
        time.sleep(max(0.0, start_at - time.time()))
        start, done, seed = time.perf_counter(), 0, 0
        while time.perf_counter() - start < reps / 550:
            monte_carlo([did], scenario, n_reps=100, seed=seed, backend="serial", progress=False)
            done, seed = done + 100, seed + 1
        print(done / (time.perf_counter() - start))
        return
    backend = {"auto": None, "processes": "processes", "serial": "serial"}[mode]
    start = time.perf_counter()
    monte_carlo([did], scenario, n_reps=reps, seed=1, backend=backend, n_workers=2, progress=False)
    print(time.perf_counter() - start)


def in_fresh_processes(modes: list[str], reps: int, start_at: float = 0.0) -> list[float]:
    """What :func:`child` prints, per mode, each in its own fresh process, side by side."""
    runs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", mode, "--reps", str(reps), "--at", str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for mode in modes
    ]
    return [float(run.communicate()[0].split()[-1]) for run in runs]


def ceiling_rate(reps: int) -> float:
    """Summed rate of two serial studies run side by side in two separate processes."""
    return sum(in_fresh_processes(["serial", "serial"], reps, start_at=time.time() + 6.0))


def design_rates(reps: int, repeat: int) -> pd.DataFrame:
    """Replications per second of every registered design on the two presets (serial)."""
    import os

    presets = {
        "scottish_schools": Scenario.scottish_schools(),
        "small_pilot": Scenario.small_pilot(),
    }
    table = {}
    loads = []
    for label, scenario in presets.items():
        row = {}
        for name in impact.available_estimators():
            estimator = impact.get_estimator(name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                monte_carlo(
                    [estimator], scenario, n_reps=3, seed=0, backend="serial", progress=False
                )

                def run(n: int, estimator=estimator, scenario=scenario) -> None:
                    monte_carlo(
                        [estimator], scenario, n_reps=n, seed=1, backend="serial", progress=False
                    )

                row[name] = rate(run, reps, repeat)
            loads.append(os.getloadavg()[0])
        table[label] = row
    out = pd.DataFrame(table).T
    print(
        f"replications per second, monte_carlo(backend='serial'), {reps} reps, median of "
        f"{repeat}; load average {min(loads):.1f}-{max(loads):.1f} during the runs"
    )
    print(out.to_string(float_format=lambda x: f"{x:.1f}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["auto", "processes", "serial"])
    parser.add_argument("--at", type=float, default=0.0)
    parser.add_argument("--designs", action="store_true", help="every design on two presets")
    args = parser.parse_args()
    reps, repeat = args.reps, args.repeat
    if args.child:
        child(args.child, reps, args.at)
        return
    if args.designs:
        design_rates(reps, repeat)
        return

    scenario = Scenario.scottish_schools(n_units=N_UNITS)
    did = impact.DifferenceInDifferences(design="2x2")
    rows = []

    def impact_serial(n: int) -> None:
        monte_carlo([did], scenario, n_reps=n, seed=1, backend="serial", progress=False)

    def impact_two(n: int) -> None:
        monte_carlo(
            [did], scenario, n_reps=n, seed=1, backend="processes", n_workers=2, progress=False
        )

    sims = [simulate(scenario, seed=i) for i in range(20)]

    def simulate_only(n: int) -> None:
        for i in range(n):
            simulate(scenario, seed=i)

    def fit_only(n: int) -> None:
        for i in range(n):
            did.fit(sims[i % 20].panel)

    impact_serial(20)  # warm up imports
    impact_two(40)  # start the worker process once
    # serial, 2 processes and the machine's ceiling take turns, so that a drift in the
    # machine's speed falls on all three; the scaling is also given as the median of
    # the paired ratios
    serial_times, two_times, ceilings = [], [], []
    for _ in range(repeat):
        for run, times in ((impact_serial, serial_times), (impact_two, two_times)):
            start = time.perf_counter()
            run(reps)
            times.append(time.perf_counter() - start)
        ceilings.append(ceiling_rate(reps))
    rows.append(("impact monte_carlo, serial", reps / statistics.median(serial_times)))
    rows.append(("impact monte_carlo, 2 processes", reps / statistics.median(two_times)))
    rows.append(("machine ceiling: 2 separate serial processes", statistics.median(ceilings)))
    pairs = list(zip(serial_times, two_times, ceilings, strict=True))
    paired = statistics.median(s / t for s, t, _ in pairs)
    ceiling = statistics.median(c * s / reps for s, _, c in pairs)
    efficiency = statistics.median(reps / t / c for _, t, c in pairs)
    rows.append(("  part: simulate (with Panel)", rate(simulate_only, reps, repeat)))
    rows.append(("  part: DifferenceInDifferences.fit", rate(fit_only, reps, repeat)))

    import statsmodels.api as sm

    def statsmodels_loop(n: int) -> None:
        rng = np.random.default_rng(1)
        for _ in range(n):
            df = numpy_frame(rng)
            X = sm.add_constant(df[["group", "post", "treated"]].to_numpy())
            sm.OLS(df["y"].to_numpy(), X).fit(
                cov_type="cluster", cov_kwds={"groups": df["unit"].to_numpy()}
            )

    rows.append(("numpy + statsmodels OLS loop", rate(statsmodels_loop, reps, repeat)))

    try:
        import pyfixest as pf
    except ImportError:
        print("pyfixest not installed (pip install 'impact[bench]'): skipping its loop")
    else:

        def pyfixest_loop(n: int) -> None:
            rng = np.random.default_rng(1)
            for _ in range(n):
                df = numpy_frame(rng)
                pf.feols("y ~ treated | unit + post", data=df, vcov={"CRV1": "unit"}).tidy()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyfixest_loop(3)  # compile on first use
            rows.append(
                ("numpy + pyfixest feols loop", rate(pyfixest_loop, max(reps // 8, 20), repeat))
            )

    base = rows[0][1]
    table = pd.DataFrame(rows, columns=["method", "reps_per_s"])
    table["ratio_to_impact_serial"] = table["reps_per_s"] / base
    print(
        f"{N_UNITS} units x {N_PERIODS} periods, 2x2 DiD with clustered SEs; {reps} reps, "
        f"median of {repeat}"
    )
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(f"medians of the {repeat} paired runs:")
    print(f"  2 processes / serial:                    {paired:.2f}")
    print(f"  machine ceiling (2 separate) / serial:   {ceiling:.2f}")
    print(f"  2 processes / machine ceiling:           {efficiency:.2f}")
    cold = {mode: [] for mode in ("auto", "processes", "serial")}
    for _ in range(repeat):
        for mode in cold:
            cold[mode] += in_fresh_processes([mode], 1000)
    print(
        "cold start, 1,000 replications in a fresh process (median s): "
        + ", ".join(f"{mode} {statistics.median(t):.2f}" for mode, t in cold.items())
    )


if __name__ == "__main__":
    main()
