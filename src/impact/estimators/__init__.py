"""Estimators: each a frozen dataclass of hyperparameters with ``fit(panel)``.

Importing this package registers every built-in estimator. One folder per design
family (``did``, ``staggered``, ``matching``, ``its``) holds its estimator, data
preparation, result and diagnostics; ``_base`` is the base class all share and
``_adoption`` the single-adoption check.

Layer: above the registry, results, inference and the Panel, which it may import;
below plotting, simulations, economics and everything above them. The families do
not import each other (the staggered matched DiD, in ``matching``, reuses the
staggered family: the one exception, written into the contract).
"""

from impact.estimators._base import Estimator
from impact.estimators.did.difference_in_differences import DifferenceInDifferences
from impact.estimators.did.event_study import EventStudy
from impact.estimators.its.interrupted_time_series import InterruptedTimeSeries
from impact.estimators.matching.matched_comparison import MatchedComparison
from impact.estimators.matching.matched_did import MatchedDiD
from impact.estimators.spillover.spillover_did import SpilloverDiD
from impact.estimators.staggered.result import StaggeredResult
from impact.estimators.staggered.staggered_did import StaggeredDiD
from impact.estimators.synthetic import SyntheticControl, SyntheticDiD

__all__ = [
    "DifferenceInDifferences",
    "Estimator",
    "EventStudy",
    "InterruptedTimeSeries",
    "MatchedComparison",
    "MatchedDiD",
    "SpilloverDiD",
    "StaggeredDiD",
    "StaggeredResult",
    "SyntheticControl",
    "SyntheticDiD",
]
