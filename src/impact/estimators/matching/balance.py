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

from collections.abc import Iterable

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


class _Group:
    """The units of one group (positions ``index``) and their weights, sums precomputed.

    Statistics are computed on the group's own units rather than on full-length weight
    vectors that are zero outside the group: the matched groups are often a small part
    of the sample.
    """

    def __init__(self, index: np.ndarray, weights: np.ndarray) -> None:
        self.index = index
        self.w = weights[index]
        self.total = float(self.w.sum())
        self.sum_sq = float(np.einsum("i,i->", self.w, self.w))

    def mean(self, x: np.ndarray) -> float:
        # einsum: one pass, no temporary, and no multithreaded BLAS call that can stall
        # on a busy machine
        return float(np.einsum("i,i->", self.w, x) / self.total) if self.total > 0 else np.nan

    def var(self, x: np.ndarray, binary: bool, mean: float) -> float:
        """Weighted variance with the unbiased correction (``x`` on the group's units)."""
        if binary:
            return mean * (1 - mean)
        if not self.total > 0:
            return float("nan")
        denom = 1.0 - self.sum_sq / self.total**2
        if denom <= 1e-12:
            return float("nan")
        centred = x - mean
        return float(np.einsum("i,i,i->", self.w, centred, centred) / self.total / denom)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def _ecdf_stats(x: np.ndarray, treated: _Group, control: _Group) -> tuple[float, float]:
    """Mean and max absolute difference of the groups' weighted eCDFs.

    Evaluated at every distinct value among all units, matched or not (as MatchIt).
    The full sample is sorted once (values only, the fast sort); the weighted units,
    usually far fewer, are sorted with their signed weights, whose running sum is the
    eCDF difference, and placed in the full sample by binary search.
    """
    xs = np.sort(x)
    xw = np.concatenate([x[treated.index], x[control.index]])
    signed = np.concatenate([treated.w / treated.total, -(control.w / control.total)])
    order = np.argsort(xw)
    xw = xw[order]
    pos = np.searchsorted(xs, xw, side="left")
    tied = xs[1:] == xs[:-1]
    if not tied.any():
        # distinct values: the difference after weighted unit k holds at every value up
        # to the next weighted unit, pos[k + 1] - pos[k] of them (none before the first)
        gaps = np.abs(np.cumsum(signed[order]))
        count = np.diff(pos, append=len(xs))
        return float((gaps * count).sum() / len(xs)), float(gaps.max())
    cum = np.cumsum(np.bincount(pos, weights=signed[order], minlength=len(xs)))
    gaps = np.abs(cum[np.append(~tied, True)])
    return float(gaps.mean()), float(gaps.max())


def balance_table(
    covariates: pd.DataFrame | Iterable[tuple[str, np.ndarray]],
    treated: np.ndarray,
    weights: np.ndarray,
    *,
    base_weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per covariate: means, standardised differences, variance ratios, eCDFs.

    Parameters
    ----------
    covariates : DataFrame or iterable of (name, array) pairs
        Numeric columns, one row per unit (categoricals one-hot encoded, every level).
        Pairs let a caller add a column (e.g. the distance) without copying a frame.
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
    bt = _Group(np.flatnonzero(t), w_before)
    bc = _Group(np.flatnonzero(~t), w_before)
    at = _Group(np.flatnonzero(t & (w_after != 0)), w_after)
    ac = _Group(np.flatnonzero(~t & (w_after != 0)), w_after)
    has_after = at.total > 0 and ac.total > 0
    rows = []
    columns = covariates.items() if isinstance(covariates, pd.DataFrame) else covariates
    for name, values in columns:
        x = np.asarray(values, dtype=float)
        binary = _is_binary(x)
        xt, xc = x[bt.index], x[bc.index]
        mt_before, mc_before = bt.mean(xt), bc.mean(xc)
        sd_t = np.sqrt(bt.var(xt, binary, mt_before))
        scale = sd_t if sd_t > np.sqrt(np.finfo(float).eps) else float("nan")
        mt_after = mc_after = vr_after = e_mean = e_max = float("nan")
        vr_before = float("nan")
        if not binary:
            vr_before = _ratio(bt.var(xt, False, mt_before), bc.var(xc, False, mc_before))
        if has_after:
            xat, xac = x[at.index], x[ac.index]
            mt_after, mc_after = at.mean(xat), ac.mean(xac)
            if binary:
                e_mean = e_max = abs(mt_after - mc_after)
            else:
                vr_after = _ratio(at.var(xat, False, mt_after), ac.var(xac, False, mc_after))
                e_mean, e_max = _ecdf_stats(x, at, ac)
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
