"""How small an effect on exclusions could a five-school pilot detect?

``Scenario.small_pilot()``: 5 pilot and 20 comparison schools, three years before and
three years of the programme, exclusions counted per school on rolls of about 900
pupils. Prints the power curve of the DiD test against rate reductions of 0-60% and
the minimum detectable effect (80% power, 5% level) found by bisection. The row at
no effect is the test's size: when it exceeds 5% (few clusters), the "power" of the
other rows is inflated by false rejections too.

Usage::

    python validation/power_small_pilot.py --reps 500 --workers 2
"""

from __future__ import annotations

import argparse
import math

import pandas as pd

import impact
from impact.simulations import Scenario, minimum_detectable_effect, power_curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run = {
        "backend": "processes" if args.workers > 1 else "serial",
        "n_workers": args.workers,
        "progress": False,
    }
    scenario = Scenario.small_pilot()
    did = impact.DifferenceInDifferences()
    reductions = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    curve = power_curve(
        did,
        scenario,
        effects=[math.log(1 - r) for r in reductions],
        n_reps=args.reps,
        seed=args.seed,
        **run,
    )
    curve.insert(0, "rate_reduction", reductions)
    with pd.option_context("display.width", 160):
        print(curve.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    mde = minimum_detectable_effect(
        did, scenario, n_reps=args.reps, seed=args.seed, max_iter=6, **run
    )
    print()
    print(mde)
    print(
        f"i.e. a {1 - math.exp(mde.effect):.0%} reduction in the exclusion rate "
        f"({-mde.truth:.2f} fewer exclusions per pilot school-year on average over the "
        "programme years, ramping up from zero in year 1)"
    )


if __name__ == "__main__":
    main()
