"""Benchmark: the staggered estimator against the Python peers, side by side.

A staggered panel (4 cohorts plus never treated, 10 periods, one time-invariant
covariate) at each size is estimated by ``impact.StaggeredDiD`` and by the peers
``diff-diff`` (CallawaySantAnna), ``csdid`` (ATTgt) and ``differences`` (ATTgt),
each computing every ATT(g,t) with analytic standard errors and then the dynamic
(event-study) aggregation, without covariates and doubly robust with the covariate.

Every measurement runs in a fresh process, which builds the data (not timed), then
times the estimation from the DataFrame (for impact this includes building the
Panel) and records the peak resident memory during it (Linux: the high-water mark is
reset before the estimation). Times are medians over ``--repeats`` runs, the tools
taking turns run by run so that a drift in a shared machine's speed falls on all. The
overall dynamic ATT of every tool is printed so that agreement can be checked.

Usage::

    python benchmarks/staggered.py --sizes 10000 100000 --repeats 3

The peers are in the ``bench`` extra (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

PANEL_SECONDS: list[float] = []
TOOLS = ("impact", "diff-diff", "csdid", "differences")
CONFIGS = ("nocov", "dr_cov")


def make_data(n_units: int, *, n_periods: int = 10, seed: int = 0) -> pd.DataFrame:
    """Balanced staggered panel: cohorts 2004-2007 and never treated, in equal shares."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + n_periods)
    cohort_of_unit = rng.choice(np.array([0, 2004, 2005, 2006, 2007]), size=n_units)
    x_unit = rng.normal(size=n_units)
    unit = np.repeat(np.arange(n_units), n_periods)
    time_ = np.tile(years, n_units)
    cohort = cohort_of_unit[unit]
    event = np.where(cohort > 0, time_ - cohort, -1)
    effect = np.where(event >= 0, 0.5 + 0.2 * event, 0.0)
    y = (
        rng.normal(size=n_units)[unit]
        + 0.3 * (time_ - 2000)
        + 0.2 * x_unit[unit] * (time_ - 2000) / n_periods
        + effect
        + rng.normal(scale=0.5, size=len(unit))
    )
    return pd.DataFrame({"unit": unit, "time": time_, "y": y, "cohort": cohort, "x": x_unit[unit]})


def run_impact(df: pd.DataFrame, covariates: bool) -> float:
    import impact

    start = time.perf_counter()
    panel = impact.Panel.from_frame(
        df,
        unit="unit",
        time="time",
        outcome="y",
        cohort="cohort",
        covariates=["x"] if covariates else (),
    )
    PANEL_SECONDS.append(time.perf_counter() - start)
    result = impact.StaggeredDiD(method="dr").fit(panel)
    return result.aggregate("dynamic").att.estimate


def run_diff_diff(df: pd.DataFrame, covariates: bool) -> float:
    from diff_diff import CallawaySantAnna

    result = CallawaySantAnna(estimation_method="dr", n_bootstrap=0).fit(
        df,
        outcome="y",
        unit="unit",
        time="time",
        first_treat="cohort",
        covariates=["x"] if covariates else None,
        aggregate="event_study",
    )
    effects = result.event_study_effects
    post = [v["effect"] for e, v in effects.items() if e >= 0]
    return float(np.mean(post))


def run_csdid(df: pd.DataFrame, covariates: bool) -> float:
    from csdid.att_gt import ATTgt

    model = ATTgt(
        yname="y",
        tname="time",
        idname="unit",
        gname="cohort",
        data=df,
        xformla="y~x" if covariates else "y~1",
    ).fit(est_method="dr", bstrap=False)
    model.aggte(typec="dynamic", bstrap=False)
    return float(model.atte["overall_att"])


def run_differences(df: pd.DataFrame, covariates: bool) -> float:
    import differences

    data = df.assign(cohort=df["cohort"].replace(0, np.nan)).set_index(["unit", "time"])
    model = differences.ATTgt(data=data, cohort_column="cohort")
    model.fit(formula="y ~ x" if covariates else "y", est_method="dr", progress_bar=False)
    table = model.aggregate("event", overall=True)
    return float(np.asarray(table.iloc[0, 0]))


MODULES = {
    "impact": "impact",
    "diff-diff": "diff_diff",
    "csdid": "csdid.att_gt",
    "differences": "differences",
}

RUNNERS = {
    "impact": run_impact,
    "diff-diff": run_diff_diff,
    "csdid": run_csdid,
    "differences": run_differences,
}


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def worker(tool: str, n_units: int, config: str) -> dict:
    """One measurement in this process: data build (untimed), then the timed estimation."""
    warnings.filterwarnings("ignore")
    importlib.import_module(MODULES[tool])  # imports are not timed
    df = make_data(n_units)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    before = _rss_kib("VmRSS:")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak resident set size
    except OSError:
        pass
    start = time.perf_counter()
    att = RUNNERS[tool](df, config == "dr_cov")
    seconds = time.perf_counter() - start
    peak = _rss_kib("VmHWM:")
    return {
        "seconds": seconds,
        "att": att,
        "peak_extra_mib": max(peak - before, 0) / 1024,
        "frame_mib": frame_bytes / 2**20,
        "panel_seconds": PANEL_SECONDS[0] if PANEL_SECONDS else float("nan"),
    }


def measure(tool: str, n_units: int, config: str, timeout: float) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", tool, str(n_units), config]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": True}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument(
        "--peer-repeats", type=int, default=None, help="repeats for the peers (default: same)"
    )
    parser.add_argument(
        "--slow-peer-limit",
        type=int,
        default=200_000,
        help="skip csdid and differences above this many units (minutes per run)",
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        tool, n_units, config = args.worker
        print(json.dumps(worker(tool, int(n_units), config)))
        return

    header = (
        f"{'units':>9} {'config':>7} {'tool':>12} {'median s':>9} {'runs':>5} "
        f"{'x impact':>9} {'Panel s':>8} {'fit s':>7} {'x fit':>6} "
        f"{'peak MiB':>9} {'x frame':>8} {'dynamic att':>12}"
    )
    print("median s: from the DataFrame to the dynamic aggregation (impact: Panel + fit);")
    print("x impact: ratio to impact's median; x fit: ratio to impact's fit alone (Panel built)")
    print(header)
    print("-" * len(header))
    for n_units in args.sizes:
        for config in args.configs:
            base = base_fit = None
            tools = []
            for tool in args.tools:
                if tool in ("csdid", "differences") and n_units > args.slow_peer_limit:
                    print(f"{n_units:>9} {config:>7} {tool:>12}   skipped (--slow-peer-limit)")
                else:
                    tools.append(tool)
            repeats = {
                tool: args.repeats if tool == "impact" else (args.peer_repeats or args.repeats)
                for tool in tools
            }
            # the tools take turns, run by run, so that a drift in the machine's speed
            # (shared, noisy) falls on all of them alike
            runs_of: dict[str, list] = {tool: [] for tool in tools}
            for round_ in range(max(repeats.values(), default=0)):
                for tool in tools:
                    if round_ < repeats[tool]:
                        runs_of[tool].append(measure(tool, n_units, config, args.timeout))
            for tool in tools:
                runs = runs_of[tool]
                good = [r for r in runs if r and "seconds" in r]
                if not good:
                    why = "timeout" if any(r and r.get("timeout") for r in runs) else "error"
                    detail = next((r.get("error") for r in runs if r and "error" in r), "")
                    print(f"{n_units:>9} {config:>7} {tool:>12} {why:>9}  {detail[:60]}")
                    continue
                seconds = statistics.median(r["seconds"] for r in good)
                peak = max(r["peak_extra_mib"] for r in good)
                frame = good[0]["frame_mib"]
                panel_s = statistics.median(r["panel_seconds"] for r in good)
                if tool == "impact":
                    base, base_fit = seconds, seconds - panel_s
                ratio = f"{seconds / base:9.1f}" if base else f"{'-':>9}"
                if tool == "impact":
                    fit_cols = f"{panel_s:8.3f} {seconds - panel_s:7.3f} {'1.0':>6}"
                else:
                    fit_ratio = f"{seconds / base_fit:6.1f}" if base_fit else f"{'-':>6}"
                    fit_cols = f"{'':>8} {'':>7} {fit_ratio}"
                print(
                    f"{n_units:>9} {config:>7} {tool:>12} {seconds:9.3f} {len(good):>5} "
                    f"{ratio} {fit_cols} {peak:9.0f} {peak / frame:8.2f} {good[0]['att']:12.5f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
