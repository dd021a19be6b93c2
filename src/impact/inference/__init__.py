"""Shared inference machinery: fixed-effects regression with robust covariances.

Estimators call these functions; none re-implements them.
"""

from impact.inference.regression import RegressionFit, demean, within_regression

__all__ = ["RegressionFit", "demean", "within_regression"]
