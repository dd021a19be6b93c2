"""Benchmark: propensity-score and Mahalanobis nearest-neighbour matching at scale.

Side by side, on the same simulated data (5 covariates, treated units shifted):

- ``impact``: ``MatchedComparison(replace=True, caliper=0.2, adjustment="none")`` (1:1
  propensity-score matching with replacement and a caliper, Abadie-Imbens standard
  error, balance table, Rosenbaum bounds), timed on a ready ``Panel`` (the Panel's
  validation is timed separately);
- ``impact-step``: the same matching step alone through ``impact.estimators.matching``'s building
  blocks (logistic score, nearest neighbours, difference in means), like for like with
  the baseline;
- ``sklearn``: a plain scikit-learn baseline, ``LogisticRegression(penalty=None)`` then
  ``NearestNeighbors(n_neighbors=1)`` on the score, caliper, difference in means (no
  standard error, no diagnostics);
- ``causalinference``: ``CausalModel(Y, D, score).est_via_matching(matches=1)`` on the
  same logistic score;
- Mahalanobis matching with replacement on the 5 covariates: ``impact`` against
  scikit-learn ``NearestNeighbors`` on whitened covariates.

Each run is a separate process (so peak memory is its own), with a time limit and an
address-space cap (``--memory-limit-gb``, default 6 GB: the machine is shared). Peak
resident memory is the process's ``ru_maxrss``, data included.

Run: ``python benchmarks/matching.py [--sizes 10000x100000 100000x1000000] [--repeat 3]``.
Needs the ``bench`` extra (causalinference).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

K = 5


def make_data(n_treated: int, n_control: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = n_treated + n_control
    d = np.zeros(n, dtype=bool)
    d[:n_treated] = True
    X = rng.normal(size=(n, K))
    X[d] += 0.3
    y = X @ np.linspace(1.0, 0.2, K) + 1.0 * d + rng.normal(size=n)
    return X, d, y


def run_impact(X, d, y, distance):
    import pandas as pd

    import impact

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(K)])
    frame["id"] = np.arange(len(y))
    frame["t"] = 1
    frame["y"] = y
    frame["d"] = d.astype(int)
    start = time.perf_counter()
    panel = impact.Panel.from_frame(
        frame, unit="id", time="t", outcome="y", treated="d", covariates=list(frame.columns[:K])
    )
    panel_time = time.perf_counter() - start
    caliper = 0.2 if distance == "propensity" else None
    est = impact.MatchedComparison(
        distance=distance, replace=True, caliper=caliper, adjustment="none"
    )
    start = time.perf_counter()
    att = est.fit(panel).att
    return time.perf_counter() - start, att.estimate, {"panel_s": round(panel_time, 3)}


def run_impact_step(X, d, y, distance):
    """The matching step alone, like for like with the baseline: score, match, ATT."""
    from impact.estimators.matching import algorithms
    from impact.estimators.matching.propensity import fit_propensity

    start = time.perf_counter()
    if distance == "propensity":
        pts = fit_propensity(X, d, [f"x{j}" for j in range(K)]).probability
        caliper = 0.2 * pts.std(ddof=1)
    else:
        pts = algorithms.whiten(X, "mahalanobis")
        caliper = None
    mm = algorithms.nearest_neighbors(pts, d, replace=True, caliper=caliper)[:, 0]
    ok = mm >= 0
    att = float((y[d][ok] - y[mm[ok]]).mean())
    return time.perf_counter() - start, att, {}


def logistic_score(X, d):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(penalty=None, max_iter=1000).fit(X, d)
    return model.predict_proba(X)[:, 1]


def run_sklearn(X, d, y, distance):
    from sklearn.neighbors import NearestNeighbors

    start = time.perf_counter()
    if distance == "propensity":
        pts = logistic_score(X, d)[:, None]
        caliper = 0.2 * pts.std(ddof=1)
    else:
        centred = X - X.mean(axis=0)
        chol = np.linalg.cholesky(np.cov(centred, rowvar=False))
        pts = np.linalg.solve(chol, centred.T).T
        caliper = np.inf
    nn = NearestNeighbors(n_neighbors=1).fit(pts[~d])
    dist, idx = nn.kneighbors(pts[d])
    ok = dist[:, 0] <= caliper
    att = float((y[d][ok] - y[~d][idx[ok, 0]]).mean())
    return time.perf_counter() - start, att, {}


def run_causalinference(X, d, y, distance):
    from causalinference import CausalModel

    start = time.perf_counter()
    score = logistic_score(X, d)
    model = CausalModel(y, d.astype(int), score[:, None])
    model.est_via_matching(matches=1)
    return time.perf_counter() - start, float(model.estimates["matching"]["att"]), {}


RUNNERS = {
    "impact": run_impact,
    "impact-step": run_impact_step,
    "sklearn": run_sklearn,
    "causalinference": run_causalinference,
}


def child(tool: str, distance: str, n_treated: int, n_control: int, limit_gb: float) -> None:
    # cap the address space so a peer that builds n_treated x n_control matrices fails
    # with MemoryError instead of exhausting a shared machine
    cap = int(limit_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    X, d, y = make_data(n_treated, n_control)
    seconds, estimate, extra = RUNNERS[tool](X, d, y, distance)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "estimate": estimate, "peak_mb": peak, **extra}))


def measure(
    tool: str, distance: str, nt: int, nc: int, repeat: int, timeout: float, limit_gb: float
) -> dict:
    runs = []
    for _ in range(repeat):
        cmd = [sys.executable, __file__, "--child", tool, distance, str(nt), str(nc)]
        cmd.append(str(limit_gb))
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": f"timed out after {timeout:.0f} s"}
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["?"])[-1]
            kind = "killed" if out.returncode < 0 else "failed"
            return {"status": f"{kind}: {last[:80]}"}
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "status": "ok",
        "seconds": float(np.median([r["seconds"] for r in runs])),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "estimate": runs[0]["estimate"],
        **{k: v for k, v in runs[0].items() if k not in ("seconds", "peak_mb", "estimate")},
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10000x100000", "100000x1000000"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--tools", nargs="+", default=list(RUNNERS))
    parser.add_argument("--memory-limit-gb", type=float, default=6.0)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        nt, nc = (int(v) for v in size.split("x"))
        plan = [(tool, "propensity") for tool in args.tools]
        plan += [(tool, "mahalanobis") for tool in args.tools if tool != "causalinference"]
        for tool, distance in plan:
            repeat = 1 if tool == "causalinference" else args.repeat
            res = measure(tool, distance, nt, nc, repeat, args.timeout, args.memory_limit_gb)
            rows.append({"size": size, "distance": distance, "tool": tool, **res})
            print(json.dumps(rows[-1]), flush=True)
    print()
    print(f"{'treated x control':>18} {'distance':>11} {'tool':>16} {'median s':>9} "
          f"{'x sklearn':>9} {'peak MB':>8} {'ATT':>7}  status")  # fmt: skip
    for row in rows:
        base = next(
            (r for r in rows if r["size"] == row["size"] and r["distance"] == row["distance"]
             and r["tool"] == "sklearn" and r["status"] == "ok"),
            None,
        )  # fmt: skip
        if row["status"] == "ok":
            ratio = row["seconds"] / base["seconds"] if base else float("nan")
            print(f"{row['size']:>18} {row['distance']:>11} {row['tool']:>16} "
                  f"{row['seconds']:9.2f} {ratio:9.2f} {row['peak_mb']:8.0f} "
                  f"{row['estimate']:7.3f}  ok")  # fmt: skip
        else:
            print(f"{row['size']:>18} {row['distance']:>11} {row['tool']:>16} "
                  f"{'-':>9} {'-':>9} {'-':>8} {'-':>7}  {row['status']}")  # fmt: skip


if __name__ == "__main__":
    main()
