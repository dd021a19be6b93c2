"""Estimators: each a frozen dataclass of hyperparameters with ``fit(panel)``.

Importing this package registers every built-in estimator.
"""

from impact.estimators._base import Estimator
from impact.estimators.did import DifferenceInDifferences
from impact.estimators.event_study import EventStudy
from impact.estimators.its import InterruptedTimeSeries
from impact.estimators.matched_did import MatchedDiD
from impact.estimators.matching import MatchedComparison
from impact.estimators.staggered import StaggeredDiD
from impact.estimators.staggered_result import StaggeredResult
from impact.estimators.synthetic import SyntheticControl

__all__ = [
    "DifferenceInDifferences",
    "Estimator",
    "EventStudy",
    "InterruptedTimeSeries",
    "MatchedComparison",
    "MatchedDiD",
    "StaggeredDiD",
    "StaggeredResult",
    "SyntheticControl",
]
