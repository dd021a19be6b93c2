"""Synthetic comparisons: estimators that weight comparison units to mimic the treated.

- :mod:`~impact.estimators.synthetic.synthetic_control`: :class:`SyntheticControl`, the
  Abadie-Diamond-Hainmueller estimator with predictors and nested predictor weights, or
  outcome-only with a ridge penalty; placebos in space and conformal intervals
  (``_sc_weights``, ``_sc_predictors``, ``_sc_fit``, ``_sc_inference``, ``_sc_result``);
- :mod:`~impact.estimators.synthetic.synthetic_did`: :class:`SyntheticDiD` (Arkhangelsky
  et al. 2021), with ``method="sc"`` and ``method="did"`` as special cases, staggered
  adoption by cohort and placebo, bootstrap and jackknife standard errors; its unit and
  time weights (``_sdid_weights``), data (``_sdid_data``), fit (``_sdid_core``),
  variance (``_sdid_variance``) and result (``_sdid_result``).

Importing this package registers its estimators.

Layer: a design family. It may import :mod:`impact.estimators._base`, the registry,
:mod:`impact.result`, :mod:`impact.inference`, :mod:`impact.panel` and the bottom
helpers; never a sibling family, plotting, reports, simulations or the command line.
"""

from impact.estimators.synthetic.synthetic_control import SyntheticControl
from impact.estimators.synthetic.synthetic_did import SyntheticDiD

__all__ = ["SyntheticControl", "SyntheticDiD"]
