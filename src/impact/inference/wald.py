"""Wald intervals and p-values from standard errors, with the degenerate cases made explicit.

Every effects row of the package whose interval is ``estimate +- crit * std_error``
(and whose p-value is that of ``estimate / std_error``) is computed here, by
:func:`wald` (arrays) or :func:`wald_row` (one term), so that the handling of a
standard error that cannot support an interval lives in one place.

Degenerate standard errors
--------------------------
A standard error that is zero *up to rounding* (at most :data:`ZERO_SE_RTOL` times
``scale``, the size of the outcome in the units of the estimate), not finite, or
paired with no residual degrees of freedom (``df <= 0`` or NaN) does not measure
anything: the data leave no residual variation (a constant outcome, a fit without
error, as many parameters as observations). Dividing by such an error gave p-values
of 0 and intervals of zero width. Some designs cannot support a standard error at
all, and their callers say so (``undefined=``): a single cluster holding comparison
units, or comparison units whose outcome never varies
(:func:`~impact.inference.comparison.undefined_comparison`, and its counterpart in
:class:`~impact.StaggeredDiD`); their standard error is then NaN too.

The choice, the same for every estimator: **the estimate is kept, the interval and
the p-value are NaN, and an** :class:`~impact.exceptions.InferenceWarning` **says the
interval is undefined and why.** A standard error that is zero up to rounding is
reported as exactly 0 (so that it scales with the outcome). No error is raised: the
estimate itself may still be meaningful (a constant outcome does give an effect of 0,
noise-free simulated data the true effect), other rows of the same table may be fine,
and a caller can turn the warning into an error with :mod:`warnings` filters.

The tolerance is relative to the outcome, never absolute, so that the decision does
not depend on the outcome's units nor on a shift of it: ``scale`` is the outcome's
spread (see :func:`outcome_scale`) divided by the size of the regressor whose
coefficient the estimate is, when it is one (so the estimate's own units). The spread
is floored at ``1e-2`` times the outcome's largest absolute value, because rounding of
values that large leaves standard errors of about ``1e-16`` to ``1e-14`` times it
(:data:`LEVEL_RTOL`): an outcome of ``1e12`` plus noise of 1 keeps four digits of its
noise and a genuine standard error, a constant one at ``1e12 + 0.1`` only rounding.
The scale thus ignores shifts of up to about a hundred times the spread; beyond them
only standard errors below ``1e-14`` times the shifted level are affected, which
rounding of the shifted values alone could produce (noise of 1 reaches that only at
shifts of about ``1e14``, where fewer than three digits of it survive and the Panel
warns that a baseline should be subtracted). Measured on noise-free and constant
panels in every estimator, rounding left standard errors below ``2e-16`` times the
level, 70 times under the floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token

import numpy as np

from impact._distributions import reference
from impact.exceptions import InferenceWarning, warn

__all__ = [
    "LEVEL_RTOL",
    "ZERO_SE_RTOL",
    "OneWarningPerFit",
    "outcome_scale",
    "regressor_size",
    "undefined_se",
    "wald",
    "wald_row",
]

ZERO_SE_RTOL = 1e-12
"""A standard error at most this times the outcome's scale is zero up to rounding.

The scale (see :func:`outcome_scale`) is the outcome's spread, so the rule ignores a
shift of the outcome. Rounding leaves standard errors near ``1e-16`` times the spread on
a fit without error (about ``1e-14`` with badly conditioned regressors); a genuine
standard error this small would need noise twelve orders of magnitude below the
outcome's variation.
"""

LEVEL_RTOL = 1e-14
"""Rounding relative to the outcome's level: the floor of the zero-up-to-rounding rule.

A double carries about 16 significant digits, so an outcome value ``y`` is stored (and
every sum, mean or residual built from it is computed) only up to about ``1e-16 * |y|``,
``1e-14 * |y|`` after a badly conditioned regression. An outcome far from zero relative
to its variation (``1e12`` plus noise of 1) keeps its variation to about
``1e-16 * 1e12 = 1e-4``, four digits of the noise: its standard error is genuine, and
the rule must not depend on the level. But a standard error below ``LEVEL_RTOL`` times
the largest ``|y|`` measures nothing but rounding (a constant outcome at ``1e12 + 0.1``
gives residuals of about ``1e-4``, not 0), so :func:`outcome_scale` never falls below
``LEVEL_RTOL / ZERO_SE_RTOL`` times the level.
"""


def outcome_scale(y: np.ndarray | Sequence[float], *, level: float | None = None) -> float:
    """The outcome's scale for the zero-up-to-rounding rule: its spread, floored by its level.

    The range of the finite values of ``y`` (``max(y) - min(y)``, 0 for none), which
    ignores a shift of the outcome; but never less than ``LEVEL_RTOL / ZERO_SE_RTOL``
    (``1e-2``) times the largest ``|y|``, below which a standard error is rounding of an
    outcome that far from zero (see :data:`LEVEL_RTOL`). The range rather than a robust
    spread: an outcome constant except in one cell varies by that cell's difference.
    An outcome whose spread is far below its level loses significant digits; the Panel
    warns when fewer than three are left (see ``impact.panel._input.check_precision``).

    ``level``: the largest absolute value of the outcome ``y`` was computed from, when
    that is not ``y`` itself (changes ``post - pre`` lose the level but keep its
    rounding); by default that of ``y``.

    Examples
    --------
    >>> outcome_scale([1.0, -3.0, float("nan")])
    4.0
    >>> round(outcome_scale([1e12 + 1.0, 1e12 - 3.0]))  # the level's floor, 1e-2 * 1e12
    10000000000
    """
    values = np.asarray(y, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0
    spread = float(values.max() - values.min())
    largest = float(np.abs(values).max()) if level is None else max(abs(float(level)), 0.0)
    if not np.isfinite(largest):
        largest = float(np.abs(values).max())
    return max(spread, largest * (LEVEL_RTOL / ZERO_SE_RTOL))


def regressor_size(x: np.ndarray | Sequence[float]) -> float:
    """The largest absolute finite value of a regressor ``x`` (0 for none).

    The outcome's scale divided by it is the scale in the units of the coefficient on
    ``x`` (a treatment indicator has size 1).

    Examples
    --------
    >>> regressor_size([0.0, -2.0, float("nan")])
    2.0
    """
    values = np.abs(np.asarray(x, dtype=float).ravel())
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def undefined_se(std_error: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    """Where a standard error is zero up to rounding (relative to ``scale``) or not finite.

    Examples
    --------
    >>> undefined_se([0.0, 1e-16, 0.1, float("nan")], 8.0).tolist()
    [True, True, False, True]
    """
    se = np.asarray(std_error, dtype=float)
    scale = np.abs(np.asarray(scale, dtype=float))
    scale = np.where(np.isfinite(scale), scale, 0.0)
    return ~np.isfinite(se) | ~(se > ZERO_SE_RTOL * scale)


def wald(
    estimate: np.ndarray | Sequence[float],
    std_error: np.ndarray | Sequence[float],
    df: float | np.ndarray | None,
    alpha: float,
    *,
    scale: float | np.ndarray,
    terms: Sequence[str] | None = None,
    announce: bool = True,
    undefined: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Wald intervals and two-sided p-values, NaN (with a warning) where undefined.

    Parameters
    ----------
    estimate, std_error : array-like
        Estimates and their standard errors.
    df : float, array-like or None
        Degrees of freedom of the t reference distribution; ``None`` or infinite for
        the normal. A value of at most 0, or NaN, leaves the interval undefined.
    alpha : float
        Intervals have coverage ``1 - alpha``.
    scale : float or array-like
        The outcome's scale in the units of each estimate (see the module docstring);
        0 makes only an exactly zero standard error degenerate.
    terms : sequence of str, optional
        Names of the estimates, for the warning.
    announce : bool
        Issue the :class:`~impact.exceptions.InferenceWarning` for undefined intervals.
    undefined : str, optional
        Why the design cannot support any standard error (e.g. a single comparison
        cluster); every row's standard error, interval and p-value are then NaN and the
        warning gives this reason.

    Returns
    -------
    std_error, ci_lower, ci_upper, p_value : ndarray
        The standard errors (exactly 0 where zero up to rounding, NaN with
        ``undefined``), the interval and the p-value.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     se, lo, hi, p = wald([2.0, 3.0], [0.5, 1e-16], None, 0.05, scale=8.0)
    >>> round(float(lo[0]), 3), float(se[1]), bool(np.isnan(p[1]))
    (1.02, 0.0, True)
    """
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    se = np.atleast_1d(np.asarray(std_error, dtype=float)).copy()
    scale_a = np.broadcast_to(np.asarray(scale, dtype=float), est.shape)
    df_a = np.broadcast_to(np.asarray(np.inf if df is None else df, dtype=float), est.shape)
    finite = np.isfinite(se)
    zero = finite & undefined_se(se, scale_a)  # zero up to rounding
    se[zero] = 0.0
    no_df = ~(df_a > 0)
    bad = ~finite | zero | no_df | (undefined is not None)
    if undefined is not None:  # no standard error can be estimated at all
        se[:] = np.nan
    lower = np.full(est.shape, np.nan)
    upper = np.full(est.shape, np.nan)
    p = np.full(est.shape, np.nan)
    for value in np.unique(df_a[~bad]):
        rows = ~bad & (df_a == value)
        dist = reference(float(value))  # t(df), normal when df is infinite
        crit = float(dist.ppf(1 - alpha / 2))
        lower[rows] = est[rows] - crit * se[rows]
        upper[rows] = est[rows] + crit * se[rows]
        p[rows] = 2 * dist.sf(np.abs(est[rows]) / se[rows])
    if announce and bad.any():
        names = list(terms) if terms is not None else [f"#{i}" for i in range(len(est))]
        reasons = [
            undefined
            if undefined is not None
            else _NO_DF
            if no_df[i]
            else _ZERO
            if finite[i]
            else _MISSING
            for i in np.flatnonzero(bad)
        ]
        _warn_undefined([names[i] for i in np.flatnonzero(bad)], reasons)
    return se, lower, upper, p


def wald_row(
    estimate: float,
    std_error: float,
    df: float | None,
    alpha: float,
    *,
    scale: float,
    term: str = "att",
    announce: bool = True,
    undefined: str | None = None,
) -> tuple[float, float, float, float]:
    """:func:`wald` for one estimate: ``(std_error, ci_lower, ci_upper, p_value)``.

    Examples
    --------
    >>> se, lo, hi, p = wald_row(2.0, 0.5, 10, 0.05, scale=8.0)
    >>> round(lo, 3), round(hi, 3), round(p, 4)
    (0.886, 3.114, 0.0025)
    """
    se, lower, upper, p = wald(
        [estimate],
        [std_error],
        df,
        alpha,
        scale=scale,
        terms=[term],
        announce=announce,
        undefined=undefined,
    )
    return float(se[0]), float(lower[0]), float(upper[0]), float(p[0])


_ZERO = (
    "their standard errors are zero up to rounding: the data leave no residual variation "
    "beyond rounding (a constant outcome, or one constant within the comparison, a fit "
    "without error, or an outcome so far from zero that its variation is lost to "
    "rounding: then subtract a baseline from it)"
)
_NO_DF = "no residual degrees of freedom are left (as many parameters as observations)"
_MISSING = (
    "their standard errors are undefined (a single comparison unit or cluster, or no "
    "residual variation)"
)

_pending: ContextVar[dict[str, set[str]] | None] = ContextVar("_pending", default=None)


class OneWarningPerFit:
    """Gather the warnings of :func:`wald` and issue one at the end, for all terms.

    An estimator's ``fit`` runs inside it (see :class:`~impact.estimators._base.Estimator`),
    so a constant outcome gives one warning listing every term, not one per term (nor
    one per pass when a term is estimated twice). Nested uses join the outermost.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with OneWarningPerFit():
    ...         _ = wald([1.0, 2.0], [0.0, 0.0], None, 0.05, scale=1.0, terms=["a", "b"])
    ...         _ = wald([1.0], [0.0], None, 0.05, scale=1.0, terms=["a"])
    >>> len(caught), "'a', 'b'" in str(caught[0].message)
    (1, True)
    """

    def __enter__(self) -> None:
        # a class rather than a generator: the warning is issued from ``__exit__``,
        # called by the ``with`` statement, so it points at the caller's line
        self._token: Token | None = None
        if _pending.get() is None:
            self._pending: dict[str, set[str]] = {}
            self._token = _pending.set(self._pending)

    def __exit__(self, *exc: object) -> None:
        if self._token is None:
            return
        _pending.reset(self._token)
        if self._pending and exc[0] is None:
            _issue(list(self._pending), set().union(*self._pending.values()))


def _warn_undefined(terms: list[str], reasons: list[str]) -> None:
    pending = _pending.get()
    if pending is None:
        _issue(terms, set(reasons))
        return
    for term, reason in zip(terms, reasons, strict=True):
        pending.setdefault(term, set()).add(reason)


def _issue(terms: list[str], reasons: set[str]) -> None:
    listed = ", ".join(repr(t) for t in terms[:8]) + (
        f" and {len(terms) - 8} more" if len(terms) > 8 else ""
    )
    known = [r for r in (_ZERO, _MISSING, _NO_DF) if r in reasons]
    why = "; ".join(known + sorted(reasons - set(known)))
    warn(
        f"the interval and p-value of {listed} are undefined and reported as NaN: {why}; "
        "the estimate carries no measure of its uncertainty. Check that the outcome varies "
        "within the treated and the comparison units and that the design leaves "
        "observations beyond its parameters",
        InferenceWarning,
    )
