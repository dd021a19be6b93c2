"""Normal and Student t tail probabilities and quantiles, without ``scipy.stats``.

Importing :mod:`scipy.stats` takes about half a second, paid by every fresh process
(the command line, notebooks, each worker of a process pool), while the package only
needs the normal and Student t distribution functions and a few chi-square and F
tail probabilities. These are the :mod:`scipy.special` functions that
``scipy.stats`` itself evaluates (its ``norm``, ``t``, ``chi2`` and ``f``
distributions call them with the same arguments), so the numbers are identical:

==========================  ==============================
``scipy.stats``             here
==========================  ==============================
``norm.cdf(x)``             ``Normal().cdf(x)``: ``ndtr(x)``
``norm.sf(x)``              ``Normal().sf(x)``: ``ndtr(-x)``
``norm.ppf(q)``             ``Normal().ppf(q)``: ``ndtri(q)``
``norm.isf(q)``             ``Normal().isf(q)``: ``-ndtri(q)``
``t(df).cdf(x)``            ``StudentT(df).cdf(x)``: ``stdtr(df, x)``
``t(df).sf(x)``             ``StudentT(df).sf(x)``: ``stdtr(df, -x)``
``t(df).ppf(q)``            ``StudentT(df).ppf(q)``: ``stdtrit(df, q)``
``t(df).isf(q)``            ``StudentT(df).isf(q)``: ``-stdtrit(df, q)``
``chi2.sf(x, k)``           ``chi2_sf(x, k)``: ``chdtrc(k, x)``
``f.sf(x, d1, d2)``         ``f_sf(x, d1, d2)``: ``fdtrc(d1, d2, x)``
==========================  ==============================

As in ``scipy.stats``, the quantiles of the probabilities 0 and 1 are the ends of the
support. Anything else (random draws, ranks, other families) imports
:mod:`scipy.stats` where it is used.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["Normal", "StudentT", "chi2_sf", "f_sf", "reference"]


class Normal:
    """The standard normal distribution (the methods of ``scipy.stats.norm`` we use).

    Examples
    --------
    >>> z = Normal()
    >>> round(float(z.ppf(0.975)), 6), round(float(z.sf(1.959964)), 6)
    (1.959964, 0.025)
    >>> float(z.cdf(0.0)), float(z.isf(0.5))
    (0.5, -0.0)
    """

    def __repr__(self) -> str:
        return "Normal()"

    def cdf(self, x):
        """Lower tail probability ``P(Z <= x)``."""
        return special.ndtr(_as_float(x))

    def sf(self, x):
        """Upper tail probability ``P(Z > x)``."""
        return special.ndtr(-_as_float(x))

    def ppf(self, q):
        """Quantile: the ``x`` with ``P(Z <= x) = q``."""
        return special.ndtri(_as_float(q))

    def isf(self, q):
        """Upper quantile: the ``x`` with ``P(Z > x) = q``."""
        return -special.ndtri(_as_float(q))


class StudentT:
    """Student's t distribution with ``df`` degrees of freedom (as ``scipy.stats.t(df)``).

    Parameters
    ----------
    df : float
        Degrees of freedom (positive; ``inf`` is accepted, as by scipy).

    Examples
    --------
    >>> t = StudentT(10)
    >>> round(float(t.ppf(0.975)), 6), round(float(2 * t.sf(2.228139)), 6)
    (2.228139, 0.05)
    >>> float(t.cdf(0.0)), float(t.isf(0.5))
    (0.5, -0.0)
    """

    def __init__(self, df: float) -> None:
        self.df = float(df)

    def __repr__(self) -> str:
        return f"StudentT({self.df:g})"

    def cdf(self, x):
        """Lower tail probability ``P(T <= x)``."""
        return special.stdtr(self.df, _as_float(x))

    def sf(self, x):
        """Upper tail probability ``P(T > x)``."""
        return special.stdtr(self.df, -_as_float(x))

    def ppf(self, q):
        """Quantile: the ``x`` with ``P(T <= x) = q``."""
        q = _as_float(q)
        return _support_ends(special.stdtrit(self.df, q), q, -np.inf, np.inf)

    def isf(self, q):
        """Upper quantile: the ``x`` with ``P(T > x) = q``."""
        q = _as_float(q)
        return _support_ends(-special.stdtrit(self.df, q), q, np.inf, -np.inf)


def reference(df: float | None) -> Normal | StudentT:
    """The reference distribution of a t-statistic: t(df), or normal when df is None or infinite.

    Examples
    --------
    >>> reference(None), reference(float("inf")), reference(12)
    (Normal(), Normal(), StudentT(12))
    """
    if df is None or not np.isfinite(df):
        return Normal()
    return StudentT(df)


def chi2_sf(x, k):
    """Upper tail probability of a chi-square variable with ``k`` degrees of freedom.

    Examples
    --------
    >>> round(float(chi2_sf(3.841459, 1)), 6)
    0.05
    """
    return special.chdtrc(k, _as_float(x))


def f_sf(x, dfn, dfd):
    """Upper tail probability of an F variable with ``(dfn, dfd)`` degrees of freedom.

    Examples
    --------
    >>> round(float(f_sf(4.964603, 1, 10)), 6)
    0.05
    """
    return special.fdtrc(dfn, dfd, _as_float(x))


def _as_float(x):
    # scipy.stats converts its arguments to float arrays before the special function
    return np.asarray(x, dtype=float)


def _support_ends(values, q, at_zero: float, at_one: float):
    # scipy.stats sets the quantiles of probabilities 0 and 1 to the ends of the support
    # itself (stdtrit(df, 0) is +inf, not -inf)
    return np.where(q == 0, at_zero, np.where(q == 1, at_one, values))[()]
