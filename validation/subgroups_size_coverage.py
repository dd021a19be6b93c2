"""Subgroup effects of pupils within schools: size of the equality test, coverage.

Pupils in repeated cross-sections of schools (``Scenario(pupils_per_unit=...)``), a
fifth of them in the most deprived subgroup, drawn within every school
(``subgroup_share=0.2``). School-by-year shocks hit both subgroups of a school, so the
two subgroup estimates are correlated and the equality test and the gap need their
joint covariance (``impact.estimate_by``, stacked regression scores clustered by
school).

Two studies of ``--reps`` replications each:

* equal effects (1 and 1): the rejection rate of the joint Wald test of equality at
  5% (target 3.5-6.5%), and the coverage of each subgroup's and the gap's interval;
* different effects (3 for the most deprived fifth, 0.5 for the rest): coverage of each
  subgroup's effect and of the gap (2.5).

Usage::

    python validation/subgroups_size_coverage.py --reps 1000 --seed 20261203
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import impact
from impact.simulations import Scenario, simulate


def scenario(effect: float, subgroup_effect: float) -> Scenario:
    return Scenario(
        n_units=50,
        n_periods=4,
        adoption_period=3,
        pupils_per_unit=20,
        unit_sd=1.0,
        noise_sd=0.5,
        pupil_noise_sd=1.0,
        effect=effect,
        subgroup_share=0.2,
        subgroup_effect=subgroup_effect,
    )


def study(sc: Scenario, reps: int, seed: int, method: str) -> dict[str, float]:
    truth = {"0": sc.effect, "1": sc.subgroup_effect, "gap": sc.subgroup_effect - sc.effect}
    seeds = np.random.SeedSequence(seed).spawn(reps)
    reject, cover = [], {k: [] for k in truth}
    for s in seeds:
        sim = simulate(sc, seed=s)
        by = sim.data["subgroup"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", impact.ImpactWarning)
            result = impact.estimate_by(sim.panel, method, by=by, gap=(1, 0))
        rows = result.effects.set_index("term")
        reject.append(result.diagnostics["equality_test"].p_value.iloc[0] < 0.05)
        for key, term in (("0", "subgroup_0"), ("1", "subgroup_1"), ("gap", "gap")):
            lo, hi = rows.loc[term, "ci_lower"], rows.loc[term, "ci_upper"]
            cover[key].append(lo <= truth[key] <= hi)
    out = {"reject": float(np.mean(reject))}
    out.update({f"cover_{k}": float(np.mean(v)) for k, v in cover.items()})
    out["covariance"] = result.settings["covariance"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--method", default="did")
    parser.add_argument(
        "--only", choices=("equal", "different"), help="run one of the two studies"
    )
    args = parser.parse_args()
    print(f"validation/subgroups_size_coverage.py --reps {args.reps} --seed {args.seed}")
    print("Scenario: 50 schools (25 piloting from year 3 of 4), 20 pupils per school-year,")
    print("school-year shocks sd 0.5, pupil noise sd 1; a fifth of pupils in the subgroup\n")
    print("| effects (rest, most deprived) | equality test rejects at 5% | MC s.e. | "
          "coverage rest | coverage most deprived | coverage gap | covariance | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for k, (effect, sub) in enumerate(((1.0, 1.0), (0.5, 3.0))):
        if args.only and args.only != ("equal", "different")[k]:
            continue
        start = time.time()
        r = study(scenario(effect, sub), args.reps, args.seed + k, args.method)
        se = np.sqrt(r["reject"] * (1 - r["reject"]) / args.reps)
        print(
            f"| {effect}, {sub} | {100 * r['reject']:.1f}% | {100 * se:.1f} | "
            f"{100 * r['cover_0']:.1f}% | {100 * r['cover_1']:.1f}% | "
            f"{100 * r['cover_gap']:.1f}% | {r['covariance']} | {time.time() - start:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
