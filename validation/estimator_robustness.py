"""Every registered estimator on many random simulated panels: what fits, what refuses.

Draws scenarios at random (few units, attrition, counts, binary outcomes, staggered
cohorts, spillovers, pupils in schools; the strategy of the simulator's property tests)
and fits every registered estimator, plus the settings the unit test adds (and with
``--configurations`` the non-default settings below), to each panel. Counts per
estimator: fits, refusals by the package's own error type, and defects (any other
exception, or a fit whose ``att`` is not finite), with the scenario and seed of the
first defect of each kind. The unit test
``tests/simulations/test_estimators_on_scenarios.py`` runs a fixed 30 of these draws.

Usage::

    python validation/estimator_robustness.py --draws 500 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' strategies

from tests.simulations.test_estimators_on_scenarios import ESTIMATORS
from tests.simulations.test_simulate import scenarios

import impact
from impact.exceptions import ImpactError
from impact.simulations import simulate

CONFIGURATIONS = {
    "did[2x2]": impact.DifferenceInDifferences(design="2x2"),
    "did[cr2]": impact.DifferenceInDifferences(inference="cr2"),
    "did[cr3]": impact.DifferenceInDifferences(inference="cr3"),
    "did[wild,webb]": impact.DifferenceInDifferences(inference="wild", bootstrap_weights="webb"),
    "did[randomization]": impact.DifferenceInDifferences(inference="randomization", draws=199),
    "event_study[unbinned]": impact.EventStudy(bin_endpoints=False, inference="cr1"),
    "staggered[ipw,nyt]": impact.StaggeredDiD(method="ipw", control="not_yet_treated"),
    "staggered[reg,universal]": impact.StaggeredDiD(method="reg", base_period="universal"),
    "staggered[bootstrap]": impact.StaggeredDiD(bootstrap=True, n_boot=99),
    "matching[mahalanobis]": impact.MatchedComparison(distance="mahalanobis", replace=True),
    "matching[weighting]": impact.MatchedComparison(method="weighting"),
    "matching[ratio 3, caliper]": impact.MatchedComparison(ratio=3, caliper=0.2),
    "matched_did[weighting]": impact.MatchedDiD(method="weighting"),
    "matched_did[nyt]": impact.MatchedDiD(control="not_yet_treated"),
    "its[series, no comparison]": impact.InterruptedTimeSeries(pooled=False, comparison=False),
    "its[ols errors]": impact.InterruptedTimeSeries(errors="ols", pooled=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--configurations", action="store_true", help="also the non-default settings below"
    )
    args = parser.parse_args()
    estimators = dict(ESTIMATORS)  # those of the unit test
    if args.configurations:
        estimators.update(CONFIGURATIONS)
    counts: Counter[tuple[str, str]] = Counter()
    defects: dict[tuple[str, str], str] = {}

    @seed(args.seed)
    @settings(
        max_examples=args.draws,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(scenario=scenarios(), draw=st.integers(0, 2**32 - 1))
    def run(scenario, draw):
        sim = simulate(scenario, seed=draw)
        for name, estimator in estimators.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    result = estimator.fit(sim.panel)
                except ImpactError as exc:
                    counts[name, type(exc).__name__] += 1
                    continue
                except Exception as exc:  # a defect: keep the first of each kind
                    kind = f"DEFECT {type(exc).__name__}"
                    counts[name, kind] += 1
                    defects.setdefault((name, kind), f"{scenario!r}, seed={draw}\n"
                                       + traceback.format_exc(limit=-3))  # fmt: skip
                    continue
            att = result.effects.set_index("term").loc["att", "estimate"]
            kind = "fit" if np.isfinite(att) else "DEFECT att not finite"
            counts[name, kind] += 1
            if kind != "fit":
                defects.setdefault((name, kind), f"{scenario!r}, seed={draw}")

    run()
    kinds = sorted({k for _, k in counts})
    print(f"{args.draws} random scenarios (seed {args.seed}); fits and refusals per estimator\n")
    print(f"{'estimator':<18}" + "".join(f"{k:>16}" for k in kinds))
    for name in estimators:
        print(f"{name:<18}" + "".join(f"{counts[name, k]:>16}" for k in kinds))
    print(f"\n{len(defects)} kinds of defect")
    for (name, kind), where in defects.items():
        print(f"\n== {name}: {kind}\n{where}")


if __name__ == "__main__":
    main()
