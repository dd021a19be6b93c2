"""Power of pre-trend tests and the bias left by passing them (Roth 2022).

The pre-test here is the one most event studies are read by: it "fails" when any
pre-period coefficient is individually significant (``|beta_j / se_j| > z``, with
``z = 1.96`` at ``alpha = 0.05``), as in the R package ``pretrends``. Against a
hypothesised violation of parallel trends ``delta`` (by default linear: the trend gap
grows by ``slope`` per period, so a coefficient that compares event time ``t`` with
base period ``b`` has mean ``slope * (t - b)``; :func:`linear_violation`). With a
universal base period (every coefficient compared with the reference period -1) that
is ``slope * (t + 1)``; with the varying base period of a staggered DiD's dynamic
aggregation each pre-period coefficient compares ``t`` with ``t - 1`` and has mean
``slope``, while the post-period ones, compared with -1, have ``slope * (t + 1)``:

- :func:`pretest_power`: the probability that the pre-test detects ``delta``;
- :func:`slope_for_power`: the slope of a linear violation detected with a given
  probability (50% and 80% in :func:`pretrend_power`);
- :func:`pretrend_power`: the power, the Bayes factor (probability of passing under
  ``delta`` over that under parallel trends), the likelihood ratio of the estimated
  pre-period coefficients, and the expected coefficients *conditional on passing*:
  for the post-periods, the bias an analysis that proceeds only after a passed
  pre-test carries when ``delta`` is the truth.

Probabilities of the pre-test's box are multivariate normal probabilities (Genz's
algorithm in :func:`scipy.stats.multivariate_normal`); the conditional means use the
exact formula for the mean of a truncated multivariate normal (Tallis 1961; as
R ``tmvtnorm::mtmvnorm``), whose terms are lower-dimensional box probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from impact._defaults import ALPHA
from impact.exceptions import DesignError

if TYPE_CHECKING:
    from impact.result import ImpactResult

__all__ = [
    "PretrendPower",
    "linear_violation",
    "pretest_power",
    "pretest_power_row",
    "pretrend_power",
    "slope_for_power",
]

_SEED = 20220101  # Genz's algorithm draws randomised lattice points: fixed for reproducibility


def _box_probability(mean: np.ndarray, cov: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """``P(lower <= X <= upper)`` for ``X ~ N(mean, cov)``."""
    d = len(mean)
    if d == 0:
        return 1.0
    if d == 1:
        sd = float(np.sqrt(cov[0, 0]))
        return float(
            special.ndtr((upper[0] - mean[0]) / sd) - special.ndtr((lower[0] - mean[0]) / sd)
        )
    from scipy.stats import multivariate_normal

    dist = multivariate_normal(
        mean=mean, cov=cov, allow_singular=True, seed=_SEED, maxpts=100_000 * d,
        abseps=1e-6, releps=1e-6,
    )  # fmt: skip
    return float(dist.cdf(upper, lower_limit=lower))


def _threshold(alpha: float, threshold: float | None) -> float:
    if threshold is not None:
        if not np.isfinite(threshold) or threshold <= 0:
            raise DesignError(f"threshold={threshold!r} must be a positive t-statistic")
        return float(threshold)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise DesignError(f"alpha={alpha!r} must lie strictly between 0 and 1 (e.g. 0.05)")
    return float(special.ndtri(1 - alpha / 2))


def _pre_covariance(sigma, n_pre: int) -> np.ndarray:
    cov = np.asarray(sigma, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] < n_pre:
        raise DesignError(f"sigma has shape {cov.shape}; expected a square matrix with at "
                          f"least n_pre={n_pre} rows")  # fmt: skip
    if isinstance(n_pre, bool) or not isinstance(n_pre, int | np.integer) or n_pre < 1:
        raise DesignError(f"n_pre={n_pre!r} must be a positive integer: a pre-test needs a "
                          "pre-period coefficient")  # fmt: skip
    pre = cov[:n_pre, :n_pre]
    if not np.isfinite(pre).all() or np.any(np.diag(pre) <= 0):
        raise DesignError("the pre-period variances must be finite and positive")
    return pre


def _linear(slope: float, n_pre: int, n_post: int = 0) -> np.ndarray:
    """``slope * (t + 1)`` at event times ``-n_pre - 1 .. -2`` and ``0 .. n_post - 1``."""
    times = np.concatenate([np.arange(-n_pre - 1, -1), np.arange(n_post)])
    return float(slope) * (times + 1)


def linear_violation(
    event_times: Sequence[int], *, base_period: str = "universal", anticipation: int = 0
) -> np.ndarray:
    """Means of event-time coefficients under a linear violation of slope 1 per period.

    A coefficient compares its event time ``t`` with a base period ``b``; when the
    trend gap grows by 1 per period its mean is ``t - b``. Post-period coefficients
    (``t >= 0``) compare with ``b = -1 - anticipation``; pre-period ones with the
    same period (``base_period="universal"``) or with ``t - 1`` (``"varying"``, as
    a staggered DiD's default).

    Parameters
    ----------
    event_times : sequence of int
        The event times of the coefficients.
    base_period : {"universal", "varying"}, default "universal"
    anticipation : int, default 0

    Examples
    --------
    >>> linear_violation([-3, -2, 0, 1]).tolist()
    [-2.0, -1.0, 1.0, 2.0]
    >>> linear_violation([-2, -1, 0, 1], base_period="varying").tolist()
    [1.0, 1.0, 1.0, 2.0]
    """
    if base_period not in ("universal", "varying"):
        raise DesignError(f"base_period={base_period!r} is not valid; use 'universal' or "
                          "'varying'")  # fmt: skip
    integer = isinstance(anticipation, int | np.integer) and not isinstance(anticipation, bool)
    if not integer or anticipation < 0:
        raise DesignError(f"anticipation={anticipation!r} must be a non-negative integer")
    times = np.asarray(event_times, dtype=float).ravel()
    post = times + 1.0 + anticipation
    if base_period == "universal":
        return post
    return np.where(times >= 0, post, 1.0)


def pretest_power(
    sigma: np.ndarray,
    *,
    n_pre: int,
    slope: float | None = None,
    violation: Sequence[float] | np.ndarray | None = None,
    alpha: float = ALPHA,
    threshold: float | None = None,
    shape: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Probability that some pre-period coefficient is significant under a violation.

    Parameters
    ----------
    sigma : ndarray
        Covariance of the event-study coefficients, pre-periods first (earliest
        first); only its first ``n_pre`` rows and columns are used.
    n_pre : int
        Number of pre-period coefficients (the reference period -1 omitted).
    slope : float, optional
        A linear violation: mean ``slope * shape`` (by default ``shape = t + 1`` at
        event time ``t``).
    violation : array-like, optional
        Or the violation at the pre-periods themselves (``n_pre`` values).
    alpha : float, default 0.05
        Each coefficient is tested at level ``alpha`` (``|t| > z_{1 - alpha/2}``).
    threshold : float, optional
        The critical t-statistic itself (``pretrends`` uses 1.96).
    shape : array-like, optional
        The pre-period coefficients' means under a linear violation of slope 1
        (:func:`linear_violation`; at least ``n_pre`` values, the first used); default
        ``t + 1`` at event times ``-n_pre - 1`` to ``-2`` (a universal base period).

    Examples
    --------
    >>> import numpy as np
    >>> round(pretest_power(np.eye(1), n_pre=1, slope=0.0), 3)  # the test's size
    0.05
    """
    pre = _pre_covariance(sigma, n_pre)
    z = _threshold(alpha, threshold)
    delta = _pre_violation(slope, violation, n_pre, shape)
    half = z * np.sqrt(np.diag(pre))
    return 1.0 - _box_probability(delta, pre, -half, half)


def _shape(shape, n_pre: int) -> np.ndarray | None:
    if shape is None:
        return None
    values = np.asarray(shape, dtype=float).ravel()
    if len(values) < n_pre or not np.isfinite(values).all():
        raise DesignError(f"shape must hold at least n_pre={n_pre} finite values")
    return values


def _pre_violation(slope, violation, n_pre: int, shape=None) -> np.ndarray:
    if (slope is None) == (violation is None):
        raise DesignError("give either slope (a linear violation) or violation (its values)")
    if slope is not None:
        if not np.isfinite(slope):
            raise DesignError(f"slope={slope!r} must be finite")
        unit = _shape(shape, n_pre)
        return _linear(slope, n_pre) if unit is None else float(slope) * unit[:n_pre]
    delta = np.asarray(violation, dtype=float).ravel()
    if len(delta) < n_pre or not np.isfinite(delta).all():
        raise DesignError(f"violation must hold at least n_pre={n_pre} finite values")
    return delta[:n_pre]


def slope_for_power(
    sigma: np.ndarray,
    *,
    n_pre: int,
    power: float = 0.8,
    alpha: float = ALPHA,
    threshold: float | None = None,
    shape: Sequence[float] | np.ndarray | None = None,
) -> float:
    """The slope of a linear violation that the pre-test detects with probability ``power``.

    A magnitude (positive); as ``slope_for_power`` of the R package ``pretrends``,
    solved here to a relative precision of 1e-9. ``shape``: as for
    :func:`pretest_power` (the base-period convention of the coefficients).

    Examples
    --------
    >>> import numpy as np
    >>> slope = slope_for_power(np.eye(1), n_pre=1, power=0.5)
    >>> round(slope, 2)  # |N(-slope, 1)| exceeds 1.96 half the time
    1.96
    """
    from scipy.optimize import brentq

    pre = _pre_covariance(sigma, n_pre)
    z = _threshold(alpha, threshold)
    unit = _shape(shape, n_pre)
    if unit is not None and not np.any(unit[:n_pre] != 0):
        raise DesignError("shape is zero at every pre-period: no slope is ever detected")
    size = pretest_power(pre, n_pre=n_pre, slope=0.0, threshold=z)
    if isinstance(power, bool) or not isinstance(power, int | float) or not size < power < 1:
        raise DesignError(
            f"power={power!r} must lie between the pre-test's size ({size:.3g}) and 1"
        )
    high = 8 * float(np.sqrt(np.diag(pre)).max())
    while pretest_power(pre, n_pre=n_pre, slope=high, threshold=z, shape=unit) < power:
        high *= 2
    return float(
        brentq(
            lambda s: pretest_power(pre, n_pre=n_pre, slope=s, threshold=z, shape=unit) - power,
            0.0,
            high,
            xtol=1e-9 * high,
            rtol=1e-9,
        )
    )


def _truncated_mean(
    mean: np.ndarray, cov: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Mean of ``N(mean, cov)`` truncated to the box ``[lower, upper]`` (Tallis 1961)."""
    d = len(mean)
    a, b = lower - mean, upper - mean
    mass = _box_probability(np.zeros(d), cov, a, b)
    if mass <= 0:
        raise DesignError("the pre-test rejects with probability one under this violation")
    F = np.zeros(d)
    for k in range(d):
        others = np.delete(np.arange(d), k)
        sd = np.sqrt(cov[k, k])
        c_k = cov[others, k] / cov[k, k]
        cond_cov = cov[np.ix_(others, others)] - np.outer(c_k, cov[k, others])
        for x, sign in ((a[k], 1.0), (b[k], -1.0)):
            if not np.isfinite(x):
                continue
            density = np.exp(-0.5 * (x / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
            rest = _box_probability(c_k * x, cond_cov, a[others], b[others])
            F[k] += sign * density * rest
    return mean + cov @ F / mass


@dataclass(frozen=True)
class PretrendPower:
    """The power of a pre-test against a hypothesised violation, and what passing it leaves.

    Attributes
    ----------
    power : float
        Probability that some pre-period coefficient is significant under ``violation``.
    bayes_factor : float
        Probability of passing under ``violation`` over that under parallel trends.
    likelihood_ratio : float
        Density of the estimated pre-period coefficients under ``violation`` over that
        under parallel trends.
    slope : float or None
        The slope of the (linear) violation, when it is one.
    slopes : dict of float to float
        The slopes of linear violations detected with probability 0.5 and 0.8.
    table : pandas.DataFrame
        By event time (the reference period included): ``estimate``, ``std_error``,
        ``violation``, and ``mean_after_pretest``, the expected coefficient when the
        pre-test is passed and ``violation`` is the truth with no effect; for the
        post-periods, the bias an analysis conditional on passing carries.
    """

    power: float
    bayes_factor: float
    likelihood_ratio: float
    slope: float | None
    slopes: dict = field(default_factory=dict)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def bias_after_pretest(self) -> pd.Series:
        """Expected bias of each post-period estimate given a passed pre-test, by event time."""
        post = self.table[self.table.event_time >= 0]
        return pd.Series(post.mean_after_pretest.to_numpy(), index=post.event_time.to_numpy())


def _power_inputs(source):
    """The :class:`EventStudyInputs` of a result (either base period) or the inputs."""
    from impact.sensitivity.results import EventStudyInputs, is_result, pretest_inputs

    if is_result(source):
        source = pretest_inputs(source)
    if isinstance(source, EventStudyInputs):
        return source
    raise DesignError(
        f"expected an ImpactResult or EventStudyInputs, got {type(source).__name__}; for "
        "arrays use EventStudyInputs(betahat, sigma, n_pre, n_post, event_times)"
    )


def pretrend_power(
    source,
    *,
    slope: float | None = None,
    violation: Sequence[float] | np.ndarray | None = None,
    alpha: float = ALPHA,
    threshold: float | None = None,
) -> PretrendPower:
    """Power of the pre-trend test against a violation, and the bias left after passing it.

    Parameters
    ----------
    source : ImpactResult or EventStudyInputs
        An event-study result with its covariance (see
        :func:`impact.sensitivity.results.pretest_inputs`: a staggered dynamic
        aggregation with either base period), or the inputs themselves.
    slope : float, optional
        A linear violation of ``slope`` per period (means from
        :func:`linear_violation` and the inputs' base period). Default: the slope the
        pre-test detects half the time.
    violation : array-like, optional
        Or the violation at every coefficient (pre-periods, then post-periods).
    alpha, threshold
        As for :func:`pretest_power`.

    Returns
    -------
    PretrendPower

    Examples
    --------
    >>> import numpy as np
    >>> from impact.sensitivity import EventStudyInputs
    >>> inputs = EventStudyInputs(np.array([0.0, 0.1]), np.eye(2) * 0.01, 1, 1, (-2, 0))
    >>> result = pretrend_power(inputs)
    >>> round(result.power, 3), round(result.slope, 3)
    (0.5, 0.196)
    """
    inputs = _power_inputs(source)
    beta, sigma, n_pre, n_post = inputs.betahat, inputs.sigma, inputs.n_pre, inputs.n_post
    times = np.asarray(inputs.event_times, dtype=int)
    if len(times) != n_pre + n_post:
        raise DesignError(f"event_times has {len(times)} values; expected n_pre + n_post = "
                          f"{n_pre + n_post}")  # fmt: skip
    unit = linear_violation(times, base_period=inputs.base_period,
                            anticipation=inputs.anticipation)  # fmt: skip
    z = _threshold(alpha, threshold)
    slopes = {p: slope_for_power(sigma, n_pre=n_pre, power=p, threshold=z, shape=unit)
              for p in (0.5, 0.8)}  # fmt: skip
    if slope is None and violation is None:
        slope = slopes[0.5]
    if slope is not None:
        if violation is not None:
            raise DesignError("give either slope (a linear violation) or violation, not both")
        delta = float(slope) * unit
    else:
        delta = np.asarray(violation, dtype=float).ravel()
        if len(delta) != n_pre + n_post or not np.isfinite(delta).all():
            raise DesignError(
                f"violation must hold n_pre + n_post = {n_pre + n_post} finite values"
            )
    pre_cov = sigma[:n_pre, :n_pre]
    half = z * np.sqrt(np.diag(pre_cov))
    power = 1.0 - _box_probability(delta[:n_pre], pre_cov, -half, half)
    size = 1.0 - _box_probability(np.zeros(n_pre), pre_cov, -half, half)
    solve = np.linalg.solve(pre_cov, np.column_stack([beta[:n_pre] - delta[:n_pre], beta[:n_pre]]))
    quad_alt = float((beta[:n_pre] - delta[:n_pre]) @ solve[:, 0])
    quad_null = float(beta[:n_pre] @ solve[:, 1])
    mean_pre = _truncated_mean(delta[:n_pre], pre_cov, -half, half)
    post_shift = sigma[n_pre:, :n_pre] @ np.linalg.solve(pre_cov, mean_pre - delta[:n_pre])
    mean_post = delta[n_pre:] + post_shift
    se = np.sqrt(np.diag(sigma))
    columns = {"event_time": times, "estimate": beta, "std_error": se, "violation": delta,
               "mean_after_pretest": np.concatenate([mean_pre, mean_post])}  # fmt: skip
    if inputs.base_period == "universal" and -1 not in times:
        # the reference period: zero by construction
        columns = {key: np.insert(np.asarray(value, dtype=float), n_pre, 0.0)
                   for key, value in columns.items()}  # fmt: skip
        columns["event_time"] = np.insert(times, n_pre, -1)
    table = pd.DataFrame(columns)
    return PretrendPower(
        power=float(power),
        bayes_factor=float((1 - power) / (1 - size)),
        likelihood_ratio=float(np.exp(-0.5 * (quad_alt - quad_null))),
        slope=None if slope is None else float(slope),
        slopes=slopes,
        table=table,
    )


def pretest_power_row(result: ImpactResult, alpha: float = ALPHA) -> dict[str, float] | None:
    """The slopes of a linear violation its pre-test detects with 50% and 80% power.

    For the summary of an event-study-shaped result (shown beside its Wald pre-test),
    with either base period of a staggered dynamic aggregation; None when the result
    carries no event-time covariance to compute them from.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.1, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> row = pretest_power_row(impact.EventStudy(inference="cr1").fit(panel))
    >>> sorted(row)
    ['slope_50_power', 'slope_80_power']
    """
    from impact.sensitivity.results import pretest_inputs

    try:
        inputs = pretest_inputs(result)
    except DesignError:
        return None
    unit = linear_violation(inputs.event_times, base_period=inputs.base_period,
                            anticipation=inputs.anticipation)  # fmt: skip
    return {
        f"slope_{int(100 * power)}_power": slope_for_power(
            inputs.sigma, n_pre=inputs.n_pre, power=power, alpha=alpha, shape=unit
        )
        for power in (0.5, 0.8)
    }
