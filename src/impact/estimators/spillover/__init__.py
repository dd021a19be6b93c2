"""Difference-in-differences with spillovers onto comparison units (Butts 2021).

``spillover_did.py`` holds :class:`SpilloverDiD`: the direct effect on treated units and
the spillover effect on exposed comparison units, both measured against the units that
are neither treated nor exposed. Imports only downwards (inference, panel, result,
registry); no other design family.
"""

from impact.estimators.spillover.spillover_did import SpilloverDiD

__all__ = ["SpilloverDiD"]
