"""Diagnostics of designs and estimates that are not estimators themselves.

- :func:`bacon_decomposition`: the Goodman-Bacon decomposition of the static two-way
  fixed effects estimate under staggered adoption.
"""

from impact.estimators.did.bacon import BaconDecomposition, bacon_decomposition

__all__ = ["BaconDecomposition", "bacon_decomposition"]
