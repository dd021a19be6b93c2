"""Rambachan-Roth sensitivity read from a fitted result.

A result qualifies when its ``effects`` hold event-time rows (an ``event_time``
column) and its ``diagnostics["event_covariance"]`` the covariance of those
estimates: :class:`~impact.EventStudy`, ``StaggeredDiD(...).aggregate("dynamic")``
(with ``base_period="universal"``, so that every pre-period estimate compares with the
same period) and the dynamic aggregation of a staggered matched DiD. Any other result
can be given the same two tables, or the arrays passed to
:mod:`impact.sensitivity.honest` directly.

The covariance is the one the result stores: for an event study, the covariance of its
pre-trend test (CR1 when the intervals come from the wild bootstrap, which gives no
covariance; the table's ``covariance`` column names it); for a staggered aggregation,
the analytic (influence-function) covariance, also when its standard errors come from
the multiplier bootstrap.

The pre-test's power (:mod:`impact.sensitivity.pretrends`) also reads a staggered
dynamic aggregation with the default varying base period (:func:`pretest_inputs`),
whose pre-period estimates each compare a period with the one before it.

The reference period must be event time -1 (the period just before adoption): the
restrictions are written relative to it. Pre-period estimates must be present for
event times ``-n_pre - 1`` to ``-2`` without gaps, post-period estimates for ``0`` to
``n_post - 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.exceptions import DesignError
from impact.sensitivity.honest import (
    breakdown_value,
    original_interval,
    robust_confidence_sets,
)

if TYPE_CHECKING:
    from impact.result import ImpactResult

__all__ = [
    "EventStudyInputs",
    "breakdown",
    "event_study_inputs",
    "honest_sensitivity",
    "pretest_inputs",
]

COVARIANCE_TABLE = "event_covariance"


@dataclass(frozen=True)
class EventStudyInputs:
    """Event-study coefficients and covariance in the order the sensitivity methods use.

    Attributes
    ----------
    betahat : ndarray
        Pre-period estimates (earliest first), then post-period estimates.
    sigma : ndarray
        Their covariance.
    n_pre, n_post : int
        Numbers of pre- and post-period estimates.
    event_times : tuple of int
        The event time of each estimate.
    base_period : {"universal", "varying"}, default "universal"
        What each estimate compares with: the reference period -1 (``"universal"``),
        or, before adoption, the period before it (``"varying"``; the
        Rambachan-Roth sets refuse those, the pre-trend power reads them).
    anticipation : int, default 0
        Periods of anticipation: post-period estimates compare with event time
        ``-1 - anticipation``.
    """

    betahat: np.ndarray
    sigma: np.ndarray
    n_pre: int
    n_post: int
    event_times: tuple[int, ...]
    base_period: str = "universal"
    anticipation: int = 0

    def arrays(self) -> dict:
        """Keyword arguments for the functions of :mod:`impact.sensitivity.honest`."""
        return {"betahat": self.betahat, "sigma": self.sigma, "n_pre": self.n_pre,
                "n_post": self.n_post}  # fmt: skip


def is_result(obj: object) -> bool:
    """Whether ``obj`` is a fitted result (read by its effects, diagnostics and settings).

    This package sits below :mod:`impact.result` in the layers, so it recognises a
    result by what it carries rather than by its class.
    """
    return all(hasattr(obj, name) for name in ("effects", "diagnostics", "settings", "estimator"))


def event_study_inputs(result: ImpactResult) -> EventStudyInputs:
    """The event-time estimates and covariance of ``result``, checked for the methods.

    Raises
    ------
    DesignError
        When ``result`` has no event-time estimates or no stored covariance, uses a
        varying base period, is normalised at another period than -1, has no pre- or
        post-period estimate, or has gaps among its event times.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> inputs = event_study_inputs(impact.EventStudy().fit(panel))
    >>> inputs.n_pre, inputs.n_post, inputs.event_times
    (2, 3, (-3, -2, 0, 1, 2))
    """
    if not is_result(result):
        raise DesignError(f"expected an ImpactResult, got {type(result).__name__}")
    effects = result.effects
    if "event_time" not in effects.columns:
        raise DesignError(
            f"the {result.estimator!r} result has no event-time estimates (no 'event_time' "
            "column); use an event study or StaggeredDiD(...).aggregate('dynamic')"
        )
    if COVARIANCE_TABLE not in result.diagnostics:
        raise DesignError(
            f"the {result.estimator!r} result stores no covariance of its event-time "
            f"estimates (diagnostics[{COVARIANCE_TABLE!r}]); pass betahat and sigma to "
            "impact.sensitivity.robust_confidence_sets instead"
        )
    base = result.settings.get("base_period")
    if base == "varying" or ("aggregation" in result.settings and base != "universal"):
        matched = (
            " (and a matched DiD's pre-periods are matched on, so their trend is small by "
            "construction, not evidence about the post-period one)"
            if "pre_periods" in result.settings
            else ""
        )
        raise DesignError(
            f"the result's pre-period estimates use base_period={base!r}: each compares "
            "with the period before it, not with the reference period, so they do not "
            "trace the pre-trend" + matched + "; fit StaggeredDiD(base_period='universal')"
        )
    table = result.diagnostics[COVARIANCE_TABLE]
    terms = list(table["term"])
    rows = effects.set_index("term").loc[terms]
    if "binned" in rows.columns and rows["binned"].fillna(False).astype(bool).any():
        binned = rows.index[rows["binned"].fillna(False).astype(bool)].tolist()
        raise DesignError(
            f"the event-time estimate(s) {binned} pool several periods (binned endpoints); "
            "the restrictions compare single consecutive periods: refit with "
            "bin_endpoints=False or with leads and lags that cover the panel"
        )
    times = rows["event_time"].astype(int).to_numpy()
    order = np.argsort(times)
    times, terms = times[order], [terms[i] for i in order]
    sigma = table.set_index("term").loc[terms, terms].to_numpy(dtype=float)
    beta = rows["estimate"].to_numpy(dtype=float)[order]
    # the reference period: estimated as zero with no variance (a universal base period)
    scale = max(float(np.abs(beta).max()), np.finfo(float).tiny)
    var_scale = max(float(np.nanmax(np.diag(sigma))), np.finfo(float).tiny)
    keep = ~(
        (times == -1)
        & (np.abs(beta) <= 1e-10 * scale)
        & ~(np.nan_to_num(np.diag(sigma), nan=0.0) > 1e-20 * var_scale)
    )
    times, beta, sigma = times[keep], beta[keep], sigma[np.ix_(keep, keep)]
    if -1 in times:
        raise DesignError(
            "the event study is not normalised at event time -1 (it has an estimate "
            f"there; reference={result.settings.get('reference')!r}): the restrictions "
            "are written relative to the period just before adoption; refit with "
            "reference=-1"
        )
    pre, post = times[times < 0], times[times >= 0]
    if len(pre) == 0 or len(post) == 0:
        raise DesignError(
            f"the result has {len(pre)} pre-period and {len(post)} post-period event-time "
            "estimates; the sensitivity analysis needs at least one of each"
        )
    expected_pre = np.arange(-len(pre) - 1, -1)
    expected_post = np.arange(len(post))
    if not (np.array_equal(pre, expected_pre) and np.array_equal(post, expected_post)):
        raise DesignError(
            f"the event times {times.tolist()} have gaps: the restrictions need consecutive "
            f"periods {expected_pre.tolist()} before and {expected_post.tolist()} after "
            "adoption"
        )
    if not np.isfinite(sigma).all():
        raise DesignError(
            "the covariance of the event-time estimates is undefined (missing values); "
            "no sensitivity analysis is possible"
        )
    return EventStudyInputs(
        betahat=beta,
        sigma=sigma,
        n_pre=len(pre),
        n_post=len(post),
        event_times=tuple(int(t) for t in times),
    )


def pretest_inputs(result: ImpactResult) -> EventStudyInputs:
    """The event-time estimates a pre-test reads, with either base period.

    As :func:`event_study_inputs` for a result normalised at event time -1; for a
    staggered dynamic aggregation with ``base_period="varying"`` also the pre-period
    estimates that compare each period with the one before it (event times ``-1``
    and earlier all estimated), marked as such (``base_period="varying"``) so that a
    hypothesised violation is translated into their means accordingly.

    Raises
    ------
    DesignError
        As :func:`event_study_inputs`, and for a matched DiD with a varying base period
        (its pre-periods are matched on).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(60), 6), "t": np.tile(np.arange(6), 60)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3) | (df.u >= 20) & (df.u < 40) & (df.t >= 4))
    >>> df["d"] = df["d"].astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> dynamic = impact.StaggeredDiD().fit(panel).aggregate("dynamic")
    >>> inputs = pretest_inputs(dynamic)
    >>> inputs.base_period, inputs.event_times
    ('varying', (-3, -2, -1, 0, 1, 2))
    """
    if not is_result(result):
        raise DesignError(f"expected an ImpactResult, got {type(result).__name__}")
    varying = (
        result.settings.get("base_period") == "varying"
        and "aggregation" in result.settings
        and "pre_periods" not in result.settings
        and "event_time" in result.effects.columns
        and COVARIANCE_TABLE in result.diagnostics
    )
    if not varying:
        return event_study_inputs(result)
    table = result.diagnostics[COVARIANCE_TABLE]
    terms = list(table["term"])
    rows = result.effects.set_index("term").loc[terms]
    times = rows["event_time"].astype(int).to_numpy()
    order = np.argsort(times, kind="stable")
    times, terms = times[order], [terms[i] for i in order]
    sigma = table.set_index("term").loc[terms, terms].to_numpy(dtype=float)
    beta = rows["estimate"].to_numpy(dtype=float)[order]
    pre, post = times[times < 0], times[times >= 0]
    if len(pre) == 0 or len(post) == 0:
        raise DesignError(
            f"the result has {len(pre)} pre-period and {len(post)} post-period event-time "
            "estimates; a pre-test needs at least one of each"
        )
    if not np.isfinite(sigma).all() or not np.isfinite(beta).all():
        raise DesignError(
            "the event-time estimates or their covariance hold missing values; no pre-test "
            "power can be computed"
        )
    anticipation = int(result.settings.get("anticipation", 0) or 0)
    return EventStudyInputs(
        betahat=beta,
        sigma=sigma,
        n_pre=len(pre),
        n_post=len(post),
        event_times=tuple(int(t) for t in times),
        base_period="varying",
        anticipation=anticipation,
    )


def honest_sensitivity(
    result: ImpactResult,
    *,
    restriction: str = "relative_magnitudes",
    M: float | Sequence[float] | None = None,
    method: str | None = None,
    target: str | int | Sequence[float] = "first",
    alpha: float = ALPHA,
    sign: str | None = None,
    monotonic: str | None = None,
    original: bool = True,
    **options,
) -> pd.DataFrame:
    """Robust confidence sets for a fitted event-study result (Rambachan and Roth 2023).

    Parameters
    ----------
    result : ImpactResult
        A result with event-time estimates and their covariance (see the module).
    restriction, M, method, target, alpha, sign, monotonic
        As for :func:`~impact.sensitivity.honest.robust_confidence_sets`; ``target``
        counts event times from 0 (the first period of adoption).
    original : bool, default True
        Append the ordinary interval (``method="Original"``).
    **options
        ``grid_points``, ``lf_draws``, ``seed``.

    Returns
    -------
    pandas.DataFrame
        Columns ``restriction, M, lb, ub, method``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> table = honest_sensitivity(impact.EventStudy().fit(panel), M=[0.5, 1.0])
    >>> table.method.tolist()
    ['C-LF', 'C-LF', 'Original']
    """
    inputs = event_study_inputs(result)
    table = robust_confidence_sets(
        **inputs.arrays(),
        restriction=restriction,
        M=M,
        method=method,
        target=target,
        alpha=alpha,
        sign=sign,
        monotonic=monotonic,
        **options,
    )
    if original:
        row = original_interval(**inputs.arrays(), target=target, alpha=alpha)
        table = pd.concat([table, row], ignore_index=True)
    return table


def breakdown(
    result: ImpactResult,
    *,
    restriction: str = "relative_magnitudes",
    method: str | None = None,
    target: str | int | Sequence[float] = "first",
    alpha: float = ALPHA,
    null: float = 0.0,
    **options,
) -> float:
    """The breakdown value of a fitted event-study result: the largest ``Mbar`` (or ``M``).

    The largest bound at which the robust set still excludes ``null`` (0: the effect
    is significant); see :func:`~impact.sensitivity.honest.breakdown_value`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> bool(breakdown(impact.EventStudy().fit(panel)) > 2)
    True
    """
    inputs = event_study_inputs(result)
    return breakdown_value(
        **inputs.arrays(),
        restriction=restriction,
        method=method,
        target=target,
        alpha=alpha,
        null=null,
        **options,
    )
