"""impact: counterfactual impact estimation for programme evaluation.

Turn a long DataFrame into a :class:`Panel`, configure an estimator, call
``fit(panel)`` and read the :class:`ImpactResult`::

    import impact
    panel = impact.Panel.from_frame(df, unit="school", time="year",
                                    outcome="score", treated="pilot")
    result = impact.estimate(panel, method="did")
    print(result.summary())
"""

from __future__ import annotations

from typing import Any

from impact import diagnostics as diagnostics
from impact import economics as economics
from impact import estimators as estimators
from impact import plotting_its as _plotting_its  # noqa: F401  (registers ITS plot kinds)
from impact import plotting_matching as plotting_matching  # registers its plot kinds
from impact import plotting_staggered as plotting_staggered  # registers its plot kinds
from impact import simulations as simulations
from impact.data import Panel
from impact.economics import Appraisal, BenefitStream, CostStream, DiscountSchedule, appraise
from impact.estimators import (
    DifferenceInDifferences,
    Estimator,
    EventStudy,
    InterruptedTimeSeries,
    MatchedComparison,
    MatchedDiD,
    StaggeredDiD,
    StaggeredResult,
)
from impact.exceptions import (
    DataError,
    DataWarning,
    DesignError,
    DesignWarning,
    EstimationError,
    ImpactError,
    ImpactWarning,
    InferenceWarning,
    UnknownEstimatorError,
)
from impact.many import estimate_many
from impact.registry import available_estimators, get_estimator, register
from impact.result import Effect, ImpactResult, Summary, compare
from impact.simulations import Scenario, simulate

__version__ = "0.1.0"


def estimate(panel: Panel, method: str = "did", **params: Any) -> ImpactResult:
    """Fit the estimator registered as ``method`` on ``panel``.

    A thin convenience for ``get_estimator(method, **params).fit(panel)``.

    Parameters
    ----------
    panel : Panel
        The data.
    method : str, default "did"
        A name from :func:`available_estimators`.
    **params
        Hyperparameters of the estimator.

    Returns
    -------
    ImpactResult

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "t": [1, 2] * 3,
    ...                    "y": [1.0, 4.0, 2.0, 3.0, 0.0, 1.5], "d": [0, 1, 0, 0, 0, 0]})
    >>> panel = Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> round(estimate(panel, method="did", inference="iid").att.estimate, 6)
    1.75
    """
    return get_estimator(method, **params).fit(panel)


__all__ = [
    "Appraisal",
    "BenefitStream",
    "CostStream",
    "DataError",
    "DataWarning",
    "DesignError",
    "DesignWarning",
    "DifferenceInDifferences",
    "DiscountSchedule",
    "Effect",
    "EstimationError",
    "Estimator",
    "EventStudy",
    "ImpactError",
    "ImpactResult",
    "ImpactWarning",
    "InferenceWarning",
    "InterruptedTimeSeries",
    "MatchedComparison",
    "MatchedDiD",
    "Panel",
    "Scenario",
    "StaggeredDiD",
    "StaggeredResult",
    "Summary",
    "UnknownEstimatorError",
    "__version__",
    "appraise",
    "available_estimators",
    "compare",
    "estimate",
    "estimate_many",
    "get_estimator",
    "register",
    "simulate",
]
