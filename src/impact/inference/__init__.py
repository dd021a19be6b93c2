"""Shared inference machinery, used by every regression-based estimator.

- :mod:`~impact.inference.regression`: fixed-effects regression (CR1/HC1/iid).
- :mod:`~impact.inference.cluster`: CR1, CR2 (Bell-McCaffrey) and CR3 covariances with
  Satterthwaite / Imbens-Kolesar degrees of freedom.
- :mod:`~impact.inference.wild`: the wild cluster restricted bootstrap.
- :mod:`~impact.inference.randomization`: randomization inference across clusters.
- :mod:`~impact.inference.coefficient`: :func:`infer_coefficient`, one call that runs
  the regression and any of these methods (or ``"auto"``) on one coefficient.
- :mod:`~impact.inference.multiple`: p-values adjusted for many outcomes.

Estimators call these functions; none re-implements them.
"""

from impact.inference.cluster import ClusterRobust, cluster_robust
from impact.inference.coefficient import (
    INFERENCE_METHODS,
    MIN_CLUSTERS,
    CoefficientInference,
    infer_coefficient,
)
from impact.inference.randomization import RandomizationTest, randomization_test
from impact.inference.regression import RegressionFit, demean, within_regression
from impact.inference.wild import WildBootstrap, bootstrap_weights, wild_cluster_bootstrap

__all__ = [
    "INFERENCE_METHODS",
    "MIN_CLUSTERS",
    "ClusterRobust",
    "CoefficientInference",
    "RandomizationTest",
    "RegressionFit",
    "WildBootstrap",
    "bootstrap_weights",
    "cluster_robust",
    "demean",
    "infer_coefficient",
    "randomization_test",
    "wild_cluster_bootstrap",
    "within_regression",
]
