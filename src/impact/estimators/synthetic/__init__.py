"""Synthetic comparisons: the synthetic control method (and synthetic DiD).

Importing this package registers its estimators.
"""

from impact.estimators.synthetic.synthetic_control import SyntheticControl

__all__ = ["SyntheticControl"]
