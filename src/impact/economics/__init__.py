"""Economic evaluation: from an estimated effect to costs, benefits and value for money.

Describe what a programme costs (:class:`CostStream`) and what a unit of its effect
is worth, when and to whom (:class:`BenefitStream`); choose a discount schedule (the
HM Treasury Green Book's by default, :data:`GREEN_BOOK`); and :func:`appraise` any
result with a scalar ``att``. The :class:`Appraisal` gives the net present value,
benefit-cost ratio, cost per unit of outcome (ICER), break-even effect and horizon,
each with an interval that carries the effect's sampling uncertainty and the
uncertainty of the costs and values; the probability that NPV > 0; an acceptability
curve; one-way sensitivity; and plots (:mod:`impact.plotting.economics`).

Layer: above the estimators and plotting (an appraisal reads a result and draws with
:mod:`impact.plotting`); independent of the simulations; below reports and the command
line.

Examples
--------
>>> import pandas as pd
>>> from impact.result import ImpactResult
>>> effects = pd.DataFrame({"term": ["att"], "estimate": [-1.5], "std_error": [0.4],
...                         "ci_lower": [-2.3], "ci_upper": [-0.7], "p_value": [2e-4]})
>>> result = ImpactResult(estimator="did", effects=effects, n_obs=100, n_units=25)
>>> appraisal = appraise(
...     result,
...     costs=[CostStream("support workers", amount=40_000, per="worker", count=5, duration=3)],
...     benefits=[BenefitStream("alternative provision avoided", value=20_000, per="school",
...                             count=5, duration=2, bearer="education authority")],
...     effect_per="school", effect_periods=3, direction="decrease", horizon=20, seed=0)
>>> round(appraisal.value("bcr"), 3)
1.475
"""

from __future__ import annotations

from impact.economics.appraisal import QUANTITIES, Appraisal
from impact.economics.appraise import appraise
from impact.economics.discounting import (
    GREEN_BOOK,
    GREEN_BOOK_HEALTH,
    GREEN_BOOK_LOW,
    DiscountSchedule,
    as_schedule,
    rebase,
)
from impact.economics.streams import BenefitStream, CostStream

__all__ = [
    "GREEN_BOOK",
    "GREEN_BOOK_HEALTH",
    "GREEN_BOOK_LOW",
    "QUANTITIES",
    "Appraisal",
    "BenefitStream",
    "CostStream",
    "DiscountSchedule",
    "appraise",
    "as_schedule",
    "rebase",
]
