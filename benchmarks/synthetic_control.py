"""Benchmark: the synthetic control with predictors and nested V, against pysyncon.

1. The Basque country (R ``Synth``'s ``basque`` data, the specification of pysyncon's
   ``tests/test_synth_basque.py``: 13 predictors, 17 comparison regions, V chosen on
   the GDP MSPE over 1960-1969): ``impact`` (``SyntheticControl``, no inference) and
   ``pysyncon`` (``Synth.fit`` with Nelder-Mead from equal V, its test's settings), both
   fitted in the same run; the weights are compared (largest absolute difference).
2. Placebos in space over 50 comparison units: a simulated factor-model panel (51
   units, 30 periods, adoption at period 24), four predictors (a covariate and three
   lagged-outcome means), V optimised for the treated unit and for each of the 50
   placebos.

Timings are medians over ``--repeats`` runs (pysyncon over ``--pysyncon-repeats``).
Run: ``python benchmarks/synthetic_control.py [--repeats 5] [--pysyncon-repeats 3]
[--out benchmarks/results_synthetic_control.txt]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import impact
from impact.estimators import SyntheticControl

DATA = Path(__file__).parents[1] / "tests" / "reference" / "synthetic" / "basque.csv"
BASQUE = "Basque Country (Pais Vasco)"
COVARIATES = [
    "school.illit",
    "school.prim",
    "school.med",
    "school.high",
    "school.post.high",
    "invest",
    "sec.agriculture",
    "sec.energy",
    "sec.industry",
    "sec.construction",
    "sec.services.venta",
    "sec.services.nonventa",
    "popdens",
]


def impact_basque(df: pd.DataFrame) -> tuple[float, pd.Series]:
    filled = df.copy()
    filled[COVARIATES] = filled.groupby("regionname")[COVARIATES].transform(
        lambda s: s.ffill().bfill()
    )
    filled["d"] = ((filled["regionname"] == BASQUE) & (filled["year"] >= 1970)).astype(int)
    predictors = [
        *[(c, range(1964, 1970)) for c in COVARIATES[:6]],
        ("gdpcap", range(1960, 1970)),
        *[(c, range(1961, 1970, 2)) for c in COVARIATES[6:12]],
        ("popdens", [1969]),
    ]
    start = time.perf_counter()
    panel = impact.Panel.from_frame(
        filled, unit="regionname", time="year", outcome="gdpcap", treated="d",
        covariates=COVARIATES,
    )  # fmt: skip
    result = SyntheticControl(
        predictors=predictors,
        fit_periods=tuple(range(1960, 1970)),
        inference="none",
        conformal=False,
    ).fit(panel)
    elapsed = time.perf_counter() - start
    return elapsed, result.diagnostics["unit_weights"].set_index("unit")["weight"]


def pysyncon_basque(df: pd.DataFrame) -> tuple[float, pd.Series]:
    from pysyncon import Dataprep, Synth

    controls = [r for r in df["regionname"].unique() if r != BASQUE]
    start = time.perf_counter()
    dataprep = Dataprep(
        foo=df,
        predictors=COVARIATES[:6],
        predictors_op="mean",
        time_predictors_prior=range(1964, 1970),
        special_predictors=[
            ("gdpcap", range(1960, 1970), "mean"),
            *[(c, range(1961, 1970, 2), "mean") for c in COVARIATES[6:12]],
            ("popdens", [1969], "mean"),
        ],
        dependent="gdpcap",
        unit_variable="regionname",
        time_variable="year",
        treatment_identifier=BASQUE,
        controls_identifier=controls,
        time_optimize_ssr=range(1960, 1970),
    )
    synth = Synth()
    synth.fit(dataprep=dataprep, optim_method="Nelder-Mead", optim_initial="equal")
    elapsed = time.perf_counter() - start
    return elapsed, synth.weights(round=12)


def placebo_panel(n_donors: int = 50, n_periods: int = 30, seed: int = 0) -> impact.Panel:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0, 1, (n_periods, 3)).cumsum(axis=0)
    loadings = rng.uniform(0, 2, (n_donors + 1, 3))
    level = rng.normal(10, 2, n_donors + 1)
    y = level[:, None] + loadings @ factors.T + rng.normal(0, 0.3, (n_donors + 1, n_periods))
    y[0, 24:] += 2.0
    unit = np.repeat(np.arange(n_donors + 1), n_periods)
    t = np.tile(np.arange(2000, 2000 + n_periods), n_donors + 1)
    frame = pd.DataFrame(
        {
            "unit": unit,
            "time": t,
            "y": y.ravel(),
            "d": ((unit == 0) & (t >= 2024)).astype(int),
            "x": (loadings[:, 0] + rng.normal(0, 0.1, n_donors + 1)).repeat(n_periods),
        }
    )
    return impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", covariates=["x"]
    )


def placebo_run(panel: impact.Panel) -> tuple[float, int]:
    est = SyntheticControl(
        predictors=[
            "x",
            ("y", range(2000, 2008)),
            ("y", range(2008, 2016)),
            ("y", range(2016, 2024)),
        ],
        conformal=False,
    )
    start = time.perf_counter()
    result = est.fit(panel)
    return time.perf_counter() - start, len(result.diagnostics["placebos"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pysyncon-repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the simulated treated unit lies outside the hull
    df = pd.read_csv(DATA)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "Synthetic control benchmark (medians over repeated runs)",
        f"load average (1 min) at the start: {load:.1f} on {os.cpu_count()} cores",
        "",
    ]

    ours = [impact_basque(df) for _ in range(args.repeats)]
    theirs = [pysyncon_basque(df) for _ in range(args.pysyncon_repeats)]
    t_ours = statistics.median(t for t, _ in ours)
    t_theirs = statistics.median(t for t, _ in theirs)
    w_ours, w_theirs = ours[0][1], theirs[0][1]
    diff = float((w_ours - w_theirs.reindex(w_ours.index)).abs().max())
    lines += [
        "1. Basque country, ADH with 13 predictors and nested V (17 comparison regions)",
        f"   impact   : {t_ours:8.3f} s  (median of {args.repeats}: "
        f"{', '.join(f'{t:.3f}' for t, _ in ours)})",
        f"   pysyncon : {t_theirs:8.3f} s  (median of {args.pysyncon_repeats}: "
        f"{', '.join(f'{t:.1f}' for t, _ in theirs)})",
        f"   speed-up : {t_theirs / t_ours:8.1f}x",
        f"   weights  : Cataluna {w_ours['Cataluna']:.4f} vs {w_theirs['Cataluna']:.4f}, "
        f"Madrid {w_ours['Madrid (Comunidad De)']:.4f} vs "
        f"{w_theirs['Madrid (Comunidad De)']:.4f}; largest difference {diff:.2e}",
        "",
    ]
    panel = placebo_panel()
    runs = [placebo_run(panel) for _ in range(args.repeats)]
    t_placebo = statistics.median(t for t, _ in runs)
    lines += [
        "2. Placebos in space, ADH with 4 predictors and nested V, 50 comparison units",
        f"   impact   : {t_placebo:8.3f} s for the fit and {runs[0][1]} placebo fits "
        f"(median of {args.repeats}: {', '.join(f'{t:.1f}' for t, _ in runs)}; goal under 60 s)",
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines.append(f"load average (1 min) at the end: {load:.1f}")
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
