import importlib

import pytest

import impact
from impact import exceptions

EXPECTED_ALL = [
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


def test_public_api_is_pinned():
    assert impact.__all__ == EXPECTED_ALL
    assert impact.__all__ == sorted(impact.__all__)
    for name in impact.__all__:
        assert hasattr(impact, name), name


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (exceptions.ImpactError, (Exception,)),
        (exceptions.DataError, (exceptions.ImpactError, ValueError)),
        (exceptions.DesignError, (exceptions.ImpactError, ValueError)),
        (exceptions.UnknownEstimatorError, (exceptions.ImpactError, KeyError)),
        (exceptions.EstimationError, (exceptions.ImpactError, RuntimeError)),
        (exceptions.ImpactWarning, (UserWarning,)),
        (exceptions.DataWarning, (exceptions.ImpactWarning,)),
        (exceptions.DesignWarning, (exceptions.ImpactWarning,)),
        (exceptions.InferenceWarning, (exceptions.ImpactWarning,)),
    ],
)
def test_exception_tree(cls, bases):
    for base in bases:
        assert issubclass(cls, base)


def test_exception_tree_is_drawn_in_module_docstring():
    doc = exceptions.__doc__
    for name in exceptions.__all__:
        assert name in doc


def test_unknown_estimator_message_is_not_quoted():
    err = exceptions.UnknownEstimatorError("no estimator named 'x'")
    assert str(err) == "no estimator named 'x'"


def test_warn_points_at_caller(did_frame):
    frame = did_frame.copy()
    frame.loc[0, "y"] = float("nan")
    with pytest.warns(exceptions.DataWarning) as record:
        impact.Panel.from_frame(
            frame, unit="unit", time="time", outcome="y", treated="d", dropna=True
        )
    assert record[0].filename == __file__


def test_modules_import_cleanly():
    for module in [
        "impact.panel.container",
        "impact.result",
        "impact.registry",
        "impact.plotting.results",
        "impact.estimators",
        "impact.inference",
        "impact.economics",
        "impact.plotting.economics",
        "impact.simulations",
    ]:
        importlib.import_module(module)
