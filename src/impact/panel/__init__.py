"""The Panel: a validated, immutable container of long data, its checks and its read API.

- :mod:`impact.panel.container`: :class:`Panel` (``Panel.from_frame``) and its public
  read API (the arrays every estimator reads: outcome, unit and period codes, cohort,
  weights, covariates);
- ``_input``, ``_checks``, ``_trusted``: reading the caller's frame, the checks run once,
  the cache of what a checked Panel derives.

Layer: the bottom of the package with :mod:`impact.exceptions` and the private helper
modules (``impact._*``); it imports nothing else of the package.
"""

from impact.panel._read import PanelCodes
from impact.panel.container import Panel

__all__ = ["Panel", "PanelCodes"]
