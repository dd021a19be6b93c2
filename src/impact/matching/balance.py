"""Covariate balance before and after matching or weighting.

The statistics follow R ``MatchIt``'s ``summary()`` for the ATT, so its printed tables
can be reproduced:

- standardised mean difference: difference in (weighted) means divided by the standard
  deviation of the treated group in the full sample (``sqrt(p (1 - p))`` for a binary
  covariate, the ``n - 1`` standard deviation otherwise);
- variance ratio: weighted variance of the treated over that of the controls (not
  defined, ``NaN``, for binary covariates); weighted variances use the unbiased
  ``sum(w) / (sum(w)^2 - sum(w^2))`` correction;
- eCDF mean and max: mean and maximum, over the distinct values the covariate takes
  among all units (matched or not), of the absolute difference between the groups'
  weighted empirical distribution functions (the absolute difference in means for a
  binary covariate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BALANCE_COLUMNS", "balance_table", "effective_sample_size", "sample_sizes"]

BALANCE_COLUMNS: tuple[str, ...] = (
    "covariate",
    "mean_treated",
    "mean_control_before",
    "mean_control_after",
    "smd_before",
    "smd_after",
    "variance_ratio_before",
    "variance_ratio_after",
    "ecdf_mean_after",
    "ecdf_max_after",
)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum(w^2)``.

    Examples
    --------
    >>> import numpy as np
    >>> effective_sample_size(np.array([1.0, 1.0, 2.0]))
    2.6666666666666665
    """
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    return float(total**2 / (w**2).sum()) if total > 0 else 0.0


def _is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    # elementwise sums: faster than BLAS dot products on a busy machine, same result
    total = w.sum()
    return float((w * x).sum() / total) if total > 0 else float("nan")


def _wvar(x: np.ndarray, w: np.ndarray, binary: bool, mean: float | None = None) -> float:
    """Weighted variance (``w`` zero outside the group), unbiased correction."""
    m = _wmean(x, w) if mean is None else mean
    if binary:
        return m * (1 - m)
    total = w.sum()
    if not total > 0:
        return float("nan")
    denom = 1.0 - float((w * w).sum()) / total**2
    if denom <= 1e-12:
        return float("nan")
    return float((w * (x - m) ** 2).sum() / total / denom)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def _ecdf_stats(x: np.ndarray, wt: np.ndarray, wc: np.ndarray) -> tuple[float, float]:
    # evaluated at every distinct value among all units, matched or not (as MatchIt)
    if _is_binary(x):
        diff = abs(_wmean(x, wt) - _wmean(x, wc))
        return diff, diff
    signed = wt / wt.sum() - wc / wc.sum()
    order = np.argsort(x)
    xs = x[order]
    cum = np.abs(np.cumsum(signed[order]))
    last_of_value = np.append(xs[1:] != xs[:-1], True)
    gaps = cum[last_of_value]
    return float(gaps.mean()), float(gaps.max())


def balance_table(
    covariates: pd.DataFrame,
    treated: np.ndarray,
    weights: np.ndarray,
    *,
    base_weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per covariate: means, standardised differences, variance ratios, eCDFs.

    Parameters
    ----------
    covariates : DataFrame
        Numeric columns, one row per unit (categoricals one-hot encoded, every level).
    treated : ndarray of bool
        Treatment indicator per unit.
    weights : ndarray
        Matching or weighting weights per unit after matching (0 = not matched).
    base_weights : ndarray, optional
        Weights before matching (sampling weights); ones by default.

    Returns
    -------
    DataFrame
        The columns of :data:`BALANCE_COLUMNS`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> x = pd.DataFrame({"age": [30.0, 40.0, 31.0, 50.0, 60.0]})
    >>> t = np.array([True, True, False, False, False])
    >>> w = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    >>> table = balance_table(x, t, w)
    >>> float(table.loc[0, "mean_control_after"]), round(float(table.loc[0, "smd_after"]), 3)
    (40.5, -0.778)
    """
    t = np.asarray(treated, dtype=bool)
    w_after = np.asarray(weights, dtype=float)
    w_before = np.ones(len(t)) if base_weights is None else np.asarray(base_weights, float)
    w_after = w_after * w_before
    # group weights, zero outside the group: statistics are dot products, no copies
    bt, bc = w_before * t, w_before * ~t
    at, ac = w_after * t, w_after * ~t
    has_after = at.sum() > 0 and ac.sum() > 0
    rows = []
    for name in covariates.columns:
        x = covariates[name].to_numpy(dtype=float)
        binary = _is_binary(x)
        mt_before, mc_before = _wmean(x, bt), _wmean(x, bc)
        sd_t = np.sqrt(_wvar(x, bt, binary, mt_before))
        mt_after = _wmean(x, at) if has_after else float("nan")
        mc_after = _wmean(x, ac) if has_after else float("nan")
        scale = sd_t if sd_t > np.sqrt(np.finfo(float).eps) else float("nan")
        if binary:
            vr_before = vr_after = float("nan")
        else:
            vr_before = _ratio(_wvar(x, bt, False, mt_before), _wvar(x, bc, False, mc_before))
            vr_after = (
                _ratio(_wvar(x, at, False, mt_after), _wvar(x, ac, False, mc_after))
                if has_after
                else float("nan")
            )
        e_mean, e_max = _ecdf_stats(x, at, ac) if has_after else (np.nan, np.nan)
        rows.append(
            {
                "covariate": str(name),
                "mean_treated": mt_after,
                "mean_control_before": mc_before,
                "mean_control_after": mc_after,
                "smd_before": (mt_before - mc_before) / scale,
                "smd_after": (mt_after - mc_after) / scale,
                "variance_ratio_before": vr_before,
                "variance_ratio_after": vr_after,
                "ecdf_mean_after": e_mean,
                "ecdf_max_after": e_max,
            }
        )
    return pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))


def sample_sizes(
    treated: np.ndarray,
    weights: np.ndarray,
    discarded: np.ndarray,
) -> pd.DataFrame:
    """Counts of units before and after matching, as ``MatchIt`` prints them.

    Rows ``all``, ``matched_ess`` (effective sample size of the weights), ``matched``,
    ``unmatched`` (kept but not matched) and ``discarded`` (dropped by common-support
    trimming); columns ``sample, control, treated``. After weighting every unit with a
    positive weight counts as matched.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([True, False, False])
    >>> sample_sizes(t, np.array([1.0, 1.0, 0.0]), np.zeros(3, bool))["control"].tolist()
    [2.0, 1.0, 1.0, 1.0, 0.0]
    """
    t = np.asarray(treated, dtype=bool)
    w = np.asarray(weights, dtype=float)
    disc = np.asarray(discarded, dtype=bool)
    out = {"sample": ["all", "matched_ess", "matched", "unmatched", "discarded"]}
    for label, group in (("control", ~t), ("treated", t)):
        matched = group & (w > 0)
        out[label] = [
            float(group.sum()),
            effective_sample_size(w[matched]),
            float(matched.sum()),
            float((group & (w <= 0) & ~disc).sum()),
            float((group & disc).sum()),
        ]
    return pd.DataFrame(out)
