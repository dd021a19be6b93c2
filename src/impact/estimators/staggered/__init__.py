"""The staggered-adoption family: Callaway and Sant'Anna group-time effects.

Doubly robust, inverse probability weighted and outcome regression cells, and their
aggregations.

- :mod:`~impact.estimators.staggered.staggered_did`: :class:`StaggeredDiD`;
- :mod:`~impact.estimators.staggered.result`: :class:`StaggeredResult` and its
  aggregations (``"simple"``, ``"dynamic"``, ``"group"``, ``"calendar"``);
- ``_data``: the cells and comparison groups; ``_drdid``: the 2x2 doubly robust
  estimators and their influence functions; ``_learned``: the cells with
  scikit-learn nuisance models, cross-fitted (DML DiD).

Layer: a design family. It may import :mod:`impact.estimators._base` and
:mod:`impact.estimators._learners`, the registry,
:mod:`impact.result`, :mod:`impact.inference`, :mod:`impact.panel` and the bottom
helpers; never a sibling family, plotting, reports, simulations or the command line.
"""

from impact.estimators.staggered.result import GroupTimeEffects, StaggeredResult
from impact.estimators.staggered.staggered_did import StaggeredDiD

__all__ = ["GroupTimeEffects", "StaggeredDiD", "StaggeredResult"]
