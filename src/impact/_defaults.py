"""Package-wide defaults, defined once."""

ALPHA: float = 0.05
"""Default significance level: intervals are ``1 - ALPHA`` (95%) intervals."""
