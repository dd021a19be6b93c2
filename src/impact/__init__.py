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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy attributes below resolve to, for type checkers and IDEs
    from impact import diagnostics as diagnostics
    from impact import economics as economics
    from impact import estimators as estimators
    from impact import simulations as simulations
    from impact.economics import Appraisal, BenefitStream, CostStream, DiscountSchedule, appraise
    from impact.estimators import (
        DifferenceInDifferences,
        Estimator,
        EventStudy,
        InterruptedTimeSeries,
        MatchedComparison,
        MatchedDiD,
        SpilloverDiD,
        StaggeredDiD,
        StaggeredResult,
        SyntheticControl,
        SyntheticDiD,
    )
    from impact.many import estimate_many
    from impact.panel.container import Panel
    from impact.result import Effect, ImpactResult, Summary, compare
    from impact.sensitivity.robustness import robustness
    from impact.simulations import Scenario, simulate
    from impact.subgroups import estimate_by

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
from impact.registry import available_estimators, get_estimator, register

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

    Raises
    ------
    DesignError
        When ``panel`` is not a :class:`Panel` (a DataFrame: the message shows the
        ``Panel.from_frame`` call to make) or a hyperparameter is unknown (the message
        lists the estimator's hyperparameters and the closest match).
    UnknownEstimatorError
        When no estimator is registered as ``method``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": [1, 1, 2, 2, 3, 3], "t": [1, 2] * 3,
    ...                    "y": [1.0, 4.0, 2.0, 3.0, 0.0, 1.5], "d": [0, 1, 0, 0, 0, 0]})
    >>> import impact
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> round(impact.estimate(panel, method="did", inference="iid").att.estimate, 6)
    1.75
    """
    from impact.estimators._base import require_panel

    estimator = get_estimator(method, **params)
    require_panel(panel, f"impact.estimate(..., method={method!r})")
    return estimator.fit(panel)


_LAZY: dict[str, str] = {
    "Appraisal": "impact.economics",
    "BenefitStream": "impact.economics",
    "CostStream": "impact.economics",
    "DifferenceInDifferences": "impact.estimators",
    "DiscountSchedule": "impact.economics",
    "Effect": "impact.result",
    "Estimator": "impact.estimators",
    "EventStudy": "impact.estimators",
    "ImpactResult": "impact.result",
    "InterruptedTimeSeries": "impact.estimators",
    "MatchedComparison": "impact.estimators",
    "MatchedDiD": "impact.estimators",
    "Panel": "impact.panel.container",
    "Scenario": "impact.simulations",
    "SpilloverDiD": "impact.estimators",
    "StaggeredDiD": "impact.estimators",
    "StaggeredResult": "impact.estimators",
    "SyntheticControl": "impact.estimators",
    "SyntheticDiD": "impact.estimators",
    "Summary": "impact.result",
    "appraise": "impact.economics",
    "compare": "impact.result",
    "estimate_by": "impact.subgroups",
    "estimate_many": "impact.many",
    "robustness": "impact.sensitivity.robustness",
    "simulate": "impact.simulations",
}
"""Public names imported on first use, so ``import impact`` (and ``impact --help``) stays
fast: pandas, scipy and the estimators load when a name that needs them is first read."""

_SUBMODULES = frozenset(
    {
        "datasets",
        "demo",
        "diagnostics",
        "economics",
        "estimators",
        "inference",
        "panel",
        "plotting",
        "reports",
        "sensitivity",
        "simulations",
        "terms",
    }
)
"""Subpackages and modules readable as attributes (``impact.demo.before_after``)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"impact.{name}")
    else:
        raise AttributeError(f"module 'impact' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})


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
    "SpilloverDiD",
    "StaggeredDiD",
    "StaggeredResult",
    "Summary",
    "SyntheticControl",
    "SyntheticDiD",
    "UnknownEstimatorError",
    "__version__",
    "appraise",
    "available_estimators",
    "compare",
    "estimate",
    "estimate_by",
    "estimate_many",
    "get_estimator",
    "register",
    "robustness",
    "simulate",
]
