"""Building blocks of matched comparisons, shared by the matching estimators.

- :mod:`impact.matching.propensity`: the logistic propensity score;
- :mod:`impact.matching.algorithms`: nearest-neighbour, exact and coarsened exact
  matching, returning matched sets and weights (memory linear in the number of units);
- :mod:`impact.matching.variance`: standard errors valid for each matching method;
- :mod:`impact.matching.balance`: the balance table and sample sizes;
- :mod:`impact.matching.sensitivity`: Rosenbaum bounds and the E-value.
"""

from impact.matching.balance import balance_table, effective_sample_size
from impact.matching.sensitivity import e_value, rosenbaum_bounds

__all__ = ["balance_table", "e_value", "effective_sample_size", "rosenbaum_bounds"]
