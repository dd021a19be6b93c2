"""Benchmark: Rambachan-Roth relative-magnitudes sets, 5 values of Mbar, 5 pre / 2 post.

The inputs are the TWFE event study of the HonestDiD README (Medicaid expansion, 5
pre-period and 2 post-period coefficients, target the first post-period effect; data
in tests/reference/sensitivity), the bounds ``Mbar = 0, 0.5, 1, 1.5, 2``:

- ``impact``: :func:`impact.sensitivity.robust_confidence_sets` (C-LF, 1,000-point
  grid as HonestDiD, 10,000 draws for the least-favourable critical value);
- ``honestdid``: the Python port's ``createSensitivityResults_relativeMagnitudes``
  (C-LF, its defaults). Version 0.1.1 converts one-element arrays with ``float()``,
  which NumPy 2 refuses, so it is run in a subprocess whose ``PYTHONPATH`` puts an
  older NumPy stack first (``--honestdid-path DIR``, a folder holding ``numpy<2``,
  ``pandas<3`` and ``cvxpy==1.5.3`` installed with ``pip install --target DIR``); it
  is timed once per run over ``--honestdid-mbar`` values and scaled to five;
- ``diff-diff``: ``HonestDiD(method="relative_magnitude").sensitivity_analysis`` on
  the same coefficients and covariance (handed to it in place of its own extraction
  from a fitted result). Its relative-magnitudes interval is the identified set
  widened by ``z * se`` (its docstring: "naive FLCI (conservative)"), not C-LF: its
  bounds are shown beside the identified set computed here, which they must contain.

Timings are medians over ``--repeats`` runs (honestdid: ``--honestdid-repeats``).
Run: ``python benchmarks/sensitivity.py [--repeats 5] [--honestdid-path DIR]``;
results are written to ``benchmarks/results_sensitivity.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import impact
from impact.sensitivity import event_study_inputs, identified_set, robust_confidence_sets

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "reference" / "sensitivity" / "ehec_data.csv"
MBAR = [0.0, 0.5, 1.0, 1.5, 2.0]


def medicaid_inputs():
    df = pd.read_csv(DATA)
    df = df[(df.year < 2016) & (df.yexp2.isna() | (df.yexp2 != 2015))].copy()
    df["treated"] = ((df.yexp2 == 2014) & (df.year >= 2014)).astype(int)
    panel = impact.Panel.from_frame(
        df, unit="stfips", time="year", outcome="dins", treated="treated"
    )
    return event_study_inputs(impact.EventStudy(inference="cr1").fit(panel))


def run_impact(inputs, repeats: int) -> tuple[float, pd.DataFrame]:
    times, table = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        table = robust_confidence_sets(**inputs.arrays(), M=MBAR)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), table


HONESTDID_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
import honestdid
beta, sigma, mbar = json.loads(sys.stdin.read())
start = time.perf_counter()
out = honestdid.createSensitivityResults_relativeMagnitudes(
    np.array(beta), np.array(sigma), 5, 2, Mbarvec=mbar)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "lb": list(map(float, out["lb"])),
                  "ub": list(map(float, out["ub"])), "Mbar": list(map(float, out["Mbar"]))}))
"""


def run_honestdid(inputs, path: str, mbar: list[float], repeats: int) -> dict | None:
    env = {**os.environ, "PYTHONPATH": path}
    payload = json.dumps([inputs.betahat.tolist(), inputs.sigma.tolist(), mbar])
    runs = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", HONESTDID_SCRIPT],
            input=payload,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return None
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    out = runs[-1]
    out["seconds"] = float(np.median([r["seconds"] for r in runs]))
    return out


def run_diff_diff(inputs, repeats: int) -> tuple[float, pd.DataFrame] | None:
    try:
        import diff_diff.honest_did as dd
    except ImportError:
        return None
    n_pre, n_post = inputs.n_pre, inputs.n_post
    extracted = (inputs.betahat, inputs.sigma, n_pre, n_post,
                 list(range(-n_pre - 1, -1)), list(range(n_post)), None)  # fmt: skip
    dd._extract_event_study_params = lambda results: extracted  # the same inputs
    honest = dd.HonestDiD(method="relative_magnitude", l_vec=np.eye(n_post)[0])
    times, rows = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = honest.sensitivity_analysis(object(), M_grid=MBAR)
        times.append(time.perf_counter() - start)
        rows = pd.DataFrame(
            {"M": MBAR, "lb": [b[0] for b in found.robust_cis],
             "ub": [b[1] for b in found.robust_cis]}
        )  # fmt: skip
    return float(np.median(times)), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--honestdid-path", default=None)
    parser.add_argument("--honestdid-repeats", type=int, default=1)
    parser.add_argument("--honestdid-mbar", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results_sensitivity.txt"))
    args = parser.parse_args()
    inputs = medicaid_inputs()
    lines = [
        "Rambachan-Roth relative magnitudes (C-LF), 5 pre / 2 post, Mbar = 0, 0.5, 1, 1.5, 2",
        "Medicaid TWFE event study of the HonestDiD README; target the first post-period.",
        "",
    ]
    seconds, table = run_impact(inputs, args.repeats)
    lines.append(f"impact            median {seconds:8.3f} s over {args.repeats} runs")
    lines.append(table.to_string(index=False))
    lines.append("")
    if args.honestdid_path:
        mbar = MBAR[: args.honestdid_mbar]
        found = run_honestdid(inputs, args.honestdid_path, mbar, args.honestdid_repeats)
        if found is None:
            lines.append("honestdid         failed (see stderr)")
        else:
            scaled = found["seconds"] * len(MBAR) / len(mbar)
            note = "" if len(mbar) == len(MBAR) else f" (timed on {len(mbar)} values, scaled)"
            lines.append(f"honestdid         median {scaled:8.3f} s{note}; "
                         f"impact is {scaled / seconds:,.0f}x faster")  # fmt: skip
            ours = table.set_index("M")
            for m, lb, ub in zip(found["Mbar"], found["lb"], found["ub"], strict=True):
                lines.append(
                    f"  Mbar {m:3.1f}: honestdid [{lb:.6f}, {ub:.6f}]  impact "
                    f"[{ours.loc[m, 'lb']:.6f}, {ours.loc[m, 'ub']:.6f}]  largest difference "
                    f"{max(abs(lb - ours.loc[m, 'lb']), abs(ub - ours.loc[m, 'ub'])):.2e}"
                )
        lines.append("")
    found_dd = run_diff_diff(inputs, args.repeats)
    if found_dd is not None:
        dd_seconds, rows = found_dd
        lines.append(f"diff-diff         median {dd_seconds:8.3f} s over {args.repeats} runs "
                     "(identified set +- z se, not C-LF)")  # fmt: skip
        for row in rows.itertuples():
            lo, hi = identified_set(inputs.betahat, n_pre=inputs.n_pre, n_post=inputs.n_post,
                                    M=row.M)  # fmt: skip
            lines.append(
                f"  Mbar {row.M:3.1f}: diff-diff [{row.lb:.6f}, {row.ub:.6f}]  identified set "
                f"[{lo:.6f}, {hi:.6f}]  contains it: {row.lb <= lo and hi <= row.ub}"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
