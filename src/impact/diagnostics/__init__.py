"""Diagnostics of designs and estimates that are not estimators themselves.

- :func:`bacon_decomposition`: the Goodman-Bacon decomposition of the static two-way
  fixed effects estimate under staggered adoption.

Layer: the public home of these diagnostics; they live with their design family
(:mod:`impact.estimators.did.bacon`) and this package re-exports them, so it sits just
above the estimators.
"""

from impact.estimators.did.bacon import BaconDecomposition, bacon_decomposition

__all__ = ["BaconDecomposition", "bacon_decomposition"]
