"""Estimators: each a frozen dataclass of hyperparameters with ``fit(panel)``.

Importing this package registers every built-in estimator.
"""

from impact.estimators._base import Estimator
from impact.estimators.did import DifferenceInDifferences
from impact.estimators.its import InterruptedTimeSeries
from impact.estimators.matched_did import MatchedDiD
from impact.estimators.matching import MatchedComparison

__all__ = [
    "DifferenceInDifferences",
    "Estimator",
    "InterruptedTimeSeries",
    "MatchedComparison",
    "MatchedDiD",
]
