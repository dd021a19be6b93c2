"""Standard errors of synthetic DiD: placebo, bootstrap and jackknife (R ``synthdid``'s ``vcov``).

Each method gives replicates of the overall effect, of each cohort's effect and (one
cohort) of each post-period's effect; the standard error of each is their spread:

- ``"placebo"`` (Algorithm 4 of Arkhangelsky et al. 2021): the treated units are set
  aside; among the never-treated, a random set as large as the treated group (split
  into cohorts of the same sizes and adoption periods) plays treated, the rest are the
  comparisons, and the estimator is re-run with its weights re-estimated (started from
  the fitted ones, as ``synthdid`` does). Needs more never-treated than treated units.
  The standard error is ``sqrt((R-1)/R)`` times the replicates' standard deviation.
- ``"bootstrap"`` (Algorithm 2): units drawn with replacement, weights re-estimated;
  draws without a treated or without a never-treated unit are redrawn.
- ``"jackknife"`` (Algorithm 3): each unit left out in turn with the weights held fixed
  (the unit weights renormalised); undefined with a single treated unit, or when one
  comparison unit carries all the weight.

With staggered adoption the replicates combine the cohorts with the weights of the
replicate (a cohort absent from a bootstrap draw drops out), as Stata ``sdid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impact.estimators.synthetic._sdid_core import Block, BlockFit, fit_block
from impact.estimators.synthetic._sdid_weights import SolverOptions

__all__ = ["CohortFit", "Replicates", "bootstrap", "jackknife", "placebo"]

BATCH = 50  # replications estimated side by side (memory: BATCH x units x units floats)


@dataclass(frozen=True)
class CohortFit:
    """The fit of one cohort: its adoption index, treated rows, weights and options."""

    start: int
    treated: np.ndarray
    fit: BlockFit
    options: SolverOptions


@dataclass(frozen=True)
class Replicates:
    """Replicates of the effect: overall ``(R,)``, per cohort ``(R, C)``, per period ``(R, T1)``."""

    att: np.ndarray
    cohort: np.ndarray
    curve: np.ndarray | None
    se_scale: float  # the standard error is se_scale times the replicates' spread (ddof=0)


def _combine(taus: np.ndarray, sizes: np.ndarray, n_post: np.ndarray) -> np.ndarray:
    """Overall effect: cohorts weighted by their treated unit-periods (rows: replicates)."""
    weight = sizes * n_post[None, :]
    total = weight.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (np.nan_to_num(taus) * weight).sum(axis=1) / total, np.nan)


def _renormalise(x: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Rows summing to one; a row of zeros becomes uniform (R ``sum_normalize``)."""
    x = x if valid is None else np.where(valid, x, 0.0)
    total = x.sum(axis=1, keepdims=True)
    count = x.shape[1] if valid is None else valid.sum(axis=1, keepdims=True)
    uniform = (np.ones_like(x) if valid is None else valid.astype(float)) / count
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, x / total, uniform)


def placebo(
    y: np.ndarray,
    controls: np.ndarray,
    cohorts: list[CohortFit],
    *,
    method: str,
    replications: int,
    rng: np.random.Generator,
) -> Replicates:
    """Placebo replicates (see the module docstring); ``controls``: never-treated rows."""
    n_co = len(controls)
    sizes = np.array([len(c.treated) for c in cohorts])
    n_tr = int(sizes.sum())
    n_post = np.array([y.shape[1] - c.start for c in cohorts], dtype=float)
    perms = np.array([rng.permutation(n_co) for _ in range(replications)]).reshape(
        replications, n_co
    )
    n_keep = n_co - n_tr
    taus = np.empty((replications, len(cohorts)))
    curve = None
    bounds = np.concatenate([[n_keep], n_keep + np.cumsum(sizes)])
    for lo in range(0, replications, BATCH):
        batch = perms[lo : lo + BATCH]
        kept = batch[:, :n_keep]
        for k, cohort in enumerate(cohorts):
            pseudo = batch[:, bounds[k] : bounds[k + 1]]
            omega0 = _renormalise(cohort.fit.omega[0][kept])
            lambda0 = np.repeat(cohort.fit.lam, len(batch), axis=0)
            fit = fit_block(
                Block(y, cohort.start, controls[kept], controls[pseudo]),
                method=method,
                options=cohort.options,
                omega0=omega0,
                lambda0=lambda0,
                exact=True,
            )
            taus[lo : lo + len(batch), k] = fit.estimate
            if len(cohorts) == 1:
                if curve is None:
                    curve = np.empty((replications, fit.curve.shape[1]))
                curve[lo : lo + len(batch)] = fit.curve
    att = _combine(taus, np.broadcast_to(sizes, taus.shape).astype(float), n_post)
    return Replicates(att, taus, curve, np.sqrt((replications - 1) / replications))


def bootstrap(
    y: np.ndarray,
    controls: np.ndarray,
    cohorts: list[CohortFit],
    *,
    method: str,
    replications: int,
    rng: np.random.Generator,
) -> Replicates:
    """Bootstrap replicates over units (see the module docstring)."""
    n_units = y.shape[0]
    is_control = np.zeros(n_units, dtype=bool)
    is_control[controls] = True
    cohort_of = np.full(n_units, -1)
    for k, cohort in enumerate(cohorts):
        cohort_of[cohort.treated] = k
    position = np.full(n_units, -1)
    position[controls] = np.arange(len(controls))
    draws: list[np.ndarray] = []
    while len(draws) < replications:
        candidate = np.sort(rng.integers(0, n_units, n_units))
        if is_control[candidate].any() and (~is_control[candidate]).any():
            draws.append(candidate)
    sample = np.array(draws)
    n_post = np.array([y.shape[1] - c.start for c in cohorts], dtype=float)
    taus = np.full((replications, len(cohorts)), np.nan)
    sizes = np.zeros((replications, len(cohorts)))
    curve = None
    for lo in range(0, replications, BATCH):
        batch = sample[lo : lo + BATCH]
        ctrl, cvalid = _pad(batch, is_control[batch])
        for k, cohort in enumerate(cohorts):
            member = cohort_of[batch] == k
            present = member.any(axis=1)
            sizes[lo : lo + len(batch), k] = member.sum(axis=1)
            if not present.any():
                continue
            trt, tvalid = _pad(batch[present], member[present])
            c_rows, c_valid = ctrl[present], cvalid[present]
            omega0 = _renormalise(cohort.fit.omega[0][position[c_rows]], c_valid)
            fit = fit_block(
                Block(y, cohort.start, c_rows, trt, c_valid, tvalid),
                method=method,
                options=cohort.options,
                omega0=omega0,
                lambda0=np.repeat(cohort.fit.lam, int(present.sum()), axis=0),
                exact=True,
            )
            index = lo + np.flatnonzero(present)
            taus[index, k] = fit.estimate
            if len(cohorts) == 1:
                if curve is None:
                    curve = np.full((replications, fit.curve.shape[1]), np.nan)
                curve[index] = fit.curve
    att = _combine(taus, sizes, n_post)
    return Replicates(att, taus, curve, np.sqrt((replications - 1) / replications))


def _pad(rows: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the entries of ``rows`` where ``keep``, left-aligned and padded; with the mask."""
    width = max(int(keep.sum(axis=1).max()), 1)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    out = np.take_along_axis(rows, order, axis=1)
    valid = np.take_along_axis(keep, order, axis=1)
    out = np.where(valid, out, out[:, :1])  # padding points at a real row, never used
    return out, valid


def jackknife(y: np.ndarray, controls: np.ndarray, cohorts: list[CohortFit]) -> Replicates | None:
    """Fixed-weight jackknife replicates, one per unit left out; None where undefined."""
    n_tr = sum(len(c.treated) for c in cohorts)
    if n_tr < 2:
        return None
    n_units = y.shape[0]
    n_post = np.array([y.shape[1] - c.start for c in cohorts], dtype=float)
    taus = np.empty((n_units, len(cohorts)))
    sizes = np.empty((n_units, len(cohorts)))
    curves = None
    for k, cohort in enumerate(cohorts):
        omega = cohort.fit.omega[0]
        lam = cohort.fit.lam[0]
        if np.count_nonzero(omega) <= 1:
            return None
        pre = y[:, : cohort.start]
        # each unit's post-period outcomes net of its time-weighted pre-period mean
        d_t = y[:, cohort.start :] - (pre @ lam)[:, None]  # (units, T1)
        treated_sum = d_t[cohort.treated].sum(axis=0)
        n_a = len(cohort.treated)
        synthetic = omega @ d_t[controls]
        base = treated_sum / n_a - synthetic
        curve_k = np.broadcast_to(base, (n_units, len(base))).copy()
        # a comparison unit left out: the remaining unit weights renormalised
        keep = 1.0 - omega
        curve_k[controls] = (
            treated_sum / n_a - (synthetic - omega[:, None] * d_t[controls]) / keep[:, None]
        )
        size = np.full(n_units, float(n_a))
        size[cohort.treated] = n_a - 1
        if n_a > 1:
            curve_k[cohort.treated] = (treated_sum - d_t[cohort.treated]) / (n_a - 1) - synthetic
        else:
            curve_k[cohort.treated] = np.nan
        taus[:, k] = curve_k.mean(axis=1)
        sizes[:, k] = size
        if len(cohorts) == 1:
            curves = curve_k
    att = _combine(taus, sizes, n_post)
    n = n_units
    return Replicates(att, taus, curves, float(np.sqrt(n - 1)))


def spread(values: np.ndarray, scale: float) -> np.ndarray:
    """``scale`` times the standard deviation (ddof=0) of each column's finite replicates."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    out = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        col = values[:, j]
        col = col[np.isfinite(col)]
        if col.size >= 2:
            out[j] = scale * np.std(col, ddof=0)
    return out
