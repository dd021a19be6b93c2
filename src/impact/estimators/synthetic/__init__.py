"""Synthetic comparisons: estimators that weight comparison units to mimic the treated.

Importing this package registers its estimators.
"""

from impact.estimators.synthetic.synthetic_did import SyntheticDiD

__all__ = ["SyntheticDiD"]
