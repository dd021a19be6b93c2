"""Shared inference machinery, used by every regression-based estimator.

- :mod:`~impact.inference.regression`: fixed-effects regression (CR1/HC1/iid).
- :mod:`~impact.inference.cluster`: CR1, CR2 (Bell-McCaffrey) and CR3 covariances with
  Satterthwaite / Imbens-Kolesar degrees of freedom.
- :mod:`~impact.inference.panel_covariance`: two-way clustered (unit and period) and
  Driscoll-Kraay covariances, for errors correlated across units within a period.
- :mod:`~impact.inference.wild`: the wild cluster restricted bootstrap.
- :mod:`~impact.inference.randomization`: randomization inference across clusters.
- :mod:`~impact.inference.absorbed`: fixed effects beyond the units' (pupils, school
  by year) absorbed by alternating projections, with ``fixest``'s count of them and
  the check that an effect term is not explained by them.
- :mod:`~impact.inference.design`: the regression an estimator hands over
  (:class:`RegressionDesign`) and its within transform.
- :mod:`~impact.inference.coefficient`: :func:`infer_coefficient`, one call that runs
  the regression and any of these methods (or ``"auto"``) on one coefficient.
- :mod:`~impact.inference.combination`: the same, for several coefficients or linear
  combinations of them (event studies, panel ITS).
- :mod:`~impact.inference.adoption`: randomization inference over adoption dates
  (staggered designs), re-fitting any estimator.
- :mod:`~impact.inference.multiple`: p-values adjusted for many outcomes.
- :mod:`~impact.inference.wald`: every Wald interval and p-value, with standard errors
  that are zero up to rounding (relative to the outcome's scale) or undefined giving
  NaN and a warning, never a p-value of 0.

Estimators call these functions; none re-implements them.

Layer: below the estimators and results; it may import :mod:`impact.panel`, the
exceptions and the bottom helpers, never an estimator, a result, plotting or above.
"""

from impact.inference.adoption import adoption_randomization_test
from impact.inference.cluster import ClusterRobust, cluster_robust
from impact.inference.coefficient import (
    INFERENCE_METHODS,
    MIN_CLUSTERS,
    CoefficientInference,
    RegressionDesign,
    infer_coefficient,
)
from impact.inference.combination import combination_design, infer_combinations
from impact.inference.multiple import adjust_p_values, joint_wild_bootstrap, romano_wolf
from impact.inference.randomization import RandomizationTest, randomization_test
from impact.inference.regression import RegressionFit, demean, within_regression
from impact.inference.wald import ZERO_SE_RTOL, outcome_scale, wald, wald_row
from impact.inference.wild import WildBootstrap, bootstrap_weights, wild_cluster_bootstrap

__all__ = [
    "INFERENCE_METHODS",
    "MIN_CLUSTERS",
    "ZERO_SE_RTOL",
    "ClusterRobust",
    "CoefficientInference",
    "RandomizationTest",
    "RegressionDesign",
    "RegressionFit",
    "WildBootstrap",
    "adjust_p_values",
    "adoption_randomization_test",
    "bootstrap_weights",
    "cluster_robust",
    "combination_design",
    "demean",
    "infer_coefficient",
    "infer_combinations",
    "joint_wild_bootstrap",
    "outcome_scale",
    "randomization_test",
    "romano_wolf",
    "wald",
    "wald_row",
    "wild_cluster_bootstrap",
    "within_regression",
]
