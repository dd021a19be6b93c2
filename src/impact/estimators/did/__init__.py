"""The difference-in-differences family: 2x2/TWFE, the event study, the Bacon decomposition.

- :mod:`~impact.estimators.did.difference_in_differences`: :class:`DifferenceInDifferences`;
- :mod:`~impact.estimators.did.event_study`: :class:`EventStudy`;
- :mod:`~impact.estimators.did.bacon`: :func:`bacon_decomposition`.

Layer: a design family. It may import :mod:`impact.estimators._base`, the registry,
:mod:`impact.result`, :mod:`impact.inference`, :mod:`impact.panel` and the bottom
helpers; never a sibling family, plotting, reports, simulations or the command line.
"""

from impact.estimators.did.bacon import BaconDecomposition, bacon_decomposition
from impact.estimators.did.difference_in_differences import DifferenceInDifferences
from impact.estimators.did.event_study import EventStudy

__all__ = ["BaconDecomposition", "DifferenceInDifferences", "EventStudy", "bacon_decomposition"]
