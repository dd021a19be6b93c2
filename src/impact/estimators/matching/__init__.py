"""The matched-comparison family: matched comparison, matched DiD, their building blocks.

- :mod:`~impact.estimators.matching.matched_comparison`: :class:`MatchedComparison`;
- :mod:`~impact.estimators.matching.matched_did`: :class:`MatchedDiD` (``_did_inference``,
  ``_clusters`` and ``_staggered`` hold its inference, its cluster bootstrap and its
  staggered-adoption path);
- building blocks: :mod:`~impact.estimators.matching.propensity` (the logistic
  propensity score; ``_learned``: a scikit-learn classifier's, cross-fitted),
  :mod:`~impact.estimators.matching.algorithms` (nearest-neighbour,
  exact and coarsened exact matching), :mod:`~impact.estimators.matching.variance`
  (standard errors valid for each method), :mod:`~impact.estimators.matching.balance`
  (balance table, sample sizes), :mod:`~impact.estimators.matching.sensitivity`
  (Rosenbaum bounds, the E-value).

Layer: a design family. It may import :mod:`impact.estimators._base` and
:mod:`impact.estimators._learners`, the registry,
:mod:`impact.result`, :mod:`impact.inference`, :mod:`impact.panel` and the bottom
helpers, and (one documented exception to family independence) the staggered family,
whose group-time machinery the staggered matched DiD reuses. Never plotting, reports,
simulations or the command line.
"""

from impact.estimators.matching.balance import balance_table, effective_sample_size
from impact.estimators.matching.matched_comparison import MatchedComparison
from impact.estimators.matching.matched_did import MatchedDiD
from impact.estimators.matching.sensitivity import e_value, rosenbaum_bounds

__all__ = [
    "MatchedComparison",
    "MatchedDiD",
    "balance_table",
    "e_value",
    "effective_sample_size",
    "rosenbaum_bounds",
]
