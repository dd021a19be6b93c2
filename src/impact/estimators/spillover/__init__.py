"""Difference-in-differences with spillovers onto comparison units (Butts 2021).

``spillover_did.py`` holds :class:`SpilloverDiD`: the direct effect on treated units and
the spillover effect on exposed comparison units, both measured against the units that
are neither treated nor exposed.

Layer: one design family under :mod:`impact.estimators`; it may import the registry,
results, inference and the Panel (and the estimators' shared ``_base`` and
``_adoption``), never another family.
"""

from impact.estimators.spillover.spillover_did import SpilloverDiD

__all__ = ["SpilloverDiD"]
