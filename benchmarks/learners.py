"""Benchmark: cross-fitted doubly robust staggered DiD with gradient boosting.

The panel of ``benchmarks/staggered.py`` (cohorts 2004-2007 and never treated in equal
shares, 10 periods) with two time-invariant covariates, one of which moves the trend
non-linearly. ``StaggeredDiD(method="dr")`` is timed three ways from the DataFrame
(building the Panel included): the default logit and least squares; and
``HistGradientBoostingClassifier``/``Regressor`` with 5-fold cross-fitting. For the
learners the time spent inside their ``fit``/``predict``/``predict_proba`` is
accumulated separately, so the report says how the time splits between the learners
and the rest (folds, data preparation, influence functions, aggregation).

Each group-time cell needs a propensity score for its cohort against the comparison
group (one cross-fitted fit per cohort, shared by the cohort's cells) and an outcome
regression of the comparison units' change between the cell's two periods (one per
distinct pair of periods, shared by the cohorts): with 4 cohorts and 10 periods,
4 x 5 classifier fits and about 24 x 5 regressor fits.

Usage::

    python benchmarks/learners.py --units 100000 --threads 1

``--threads`` limits the OpenMP threads of scikit-learn's boosting (on a shared machine
more threads than free cores make it many times slower). CPU seconds are reported
beside wall-clock seconds: with one thread they are what the fit takes on an idle core.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

SECONDS = {"learners": 0.0, "learners_cpu": 0.0, "fits": 0}


def make_data(n_units: int, *, n_periods: int = 10, seed: int = 0) -> pd.DataFrame:
    """Balanced staggered panel; the trend depends on ``x1**2`` and on ``x2``."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + n_periods)
    x1, x2 = rng.normal(size=n_units), rng.normal(size=n_units)
    score = 0.5 * x1**2 + 0.3 * x2
    # later cohorts for higher scores: selection on the covariates
    cut = np.quantile(score, [0.2, 0.4, 0.6, 0.8])
    noisy = score + rng.normal(scale=0.5, size=n_units)
    cohort_of_unit = np.array([0, 2004, 2005, 2006, 2007])[np.searchsorted(cut, noisy)]
    unit = np.repeat(np.arange(n_units), n_periods)
    time_ = np.tile(years, n_units)
    cohort = cohort_of_unit[unit]
    event = np.where(cohort > 0, time_ - cohort, -1)
    effect = np.where(event >= 0, 0.5 + 0.2 * event, 0.0)
    y = (
        rng.normal(size=n_units)[unit]
        + (0.3 + 0.1 * x1**2 + 0.05 * x2)[unit] * (time_ - 2000)
        + effect
        + rng.normal(scale=0.5, size=len(unit))
    )
    return pd.DataFrame(
        {"unit": unit, "time": time_, "y": y, "cohort": cohort, "x1": x1[unit], "x2": x2[unit]}
    )


def timed_learners() -> tuple[type, type]:
    """Boosting classes whose fit and predictions add their time to ``SECONDS``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    def timing(method):
        def wrapped(self, *args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return method(self, *args, **kwargs)
            finally:
                SECONDS["learners"] += time.perf_counter() - started
                SECONDS["learners_cpu"] += time.process_time() - cpu
                SECONDS["fits"] += method.__name__ == "fit"

        return wrapped

    class Classifier(HistGradientBoostingClassifier):
        fit = timing(HistGradientBoostingClassifier.fit)
        predict_proba = timing(HistGradientBoostingClassifier.predict_proba)

    class Regressor(HistGradientBoostingRegressor):
        fit = timing(HistGradientBoostingRegressor.fit)
        predict = timing(HistGradientBoostingRegressor.predict)

    return Classifier, Regressor


def fit(df: pd.DataFrame, estimator) -> tuple[float, float, float]:
    """Wall-clock seconds, CPU seconds and the dynamic ATT of one fit from the frame."""
    import impact

    started, cpu = time.perf_counter(), time.process_time()
    panel = impact.Panel.from_frame(
        df, unit="unit", time="time", outcome="y", cohort="cohort", covariates=["x1", "x2"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = estimator.fit(panel)
    dynamic = result.aggregate("dynamic").att.estimate
    return time.perf_counter() - started, time.process_time() - cpu, float(dynamic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-iter", type=int, default=100)
    args = parser.parse_args()
    import impact

    Classifier, Regressor = timed_learners()
    df = make_data(args.units, n_periods=args.periods)
    print(f"{args.units:,} units x {args.periods} periods, covariates x1, x2")
    seconds, cpu, att = fit(df, impact.StaggeredDiD(method="dr"))
    print(
        f"default (logit, least squares):       {seconds:7.2f} s  (CPU {cpu:7.2f} s)"
        f"   dynamic ATT {att:.4f}"
    )
    boosted = impact.StaggeredDiD(
        method="dr",
        propensity_model=Classifier(max_iter=args.max_iter),
        outcome_model=Regressor(max_iter=args.max_iter),
        cross_fit=5,
    )
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.threads, user_api="openmp"):
            seconds, cpu, att = fit(df, boosted)
    else:
        seconds, cpu, att = fit(df, boosted)
    learners, learners_cpu = SECONDS["learners"], SECONDS["learners_cpu"]
    print(
        f"boosting, 5-fold cross-fitting:       {seconds:7.2f} s  (CPU {cpu:7.2f} s)"
        f"   dynamic ATT {att:.4f}\n"
        f"  inside the learners ({SECONDS['fits']} fits):   {learners:7.2f} s  "
        f"(CPU {learners_cpu:7.2f} s, {100 * learners / seconds:.0f}% of the time)\n"
        f"  the rest:                           {seconds - learners:7.2f} s  "
        f"(CPU {cpu - learners_cpu:7.2f} s)"
    )


if __name__ == "__main__":
    main()
