"""The group-time cells of the staggered estimator: each cell's ATT and influence function.

:func:`estimate_cells` runs every cell's 2x2 comparison (doubly robust, inverse
probability weighted or outcome regression; panel or repeated cross-section), skips with
a warning the cells that cannot be estimated (no treated or comparison observations,
propensity scores at the overlap limit), and returns the cells' estimates with their
influence functions, one column per cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from impact.estimators.staggered._data import Cell, StaggeredData
from impact.estimators.staggered._drdid import (
    PanelComparison,
    PropensityFit,
    fit_logit,
    rcs_att,
    rcs_att_nocov,
)
from impact.estimators.staggered._learned import Nuisances, learned_panel_cell
from impact.estimators.staggered._learned_rcs import learned_rcs_cell
from impact.exceptions import DesignError, DesignWarning, EstimationError, warn

if TYPE_CHECKING:
    pass

__all__ = ["OVERLAP_LIMIT", "estimate_cells"]


OVERLAP_LIMIT = 0.999


_TINY = np.sqrt(np.finfo(float).eps) * 10


def estimate_cells(
    data: StaggeredData, method: str, nuisances: Nuisances | None = None
) -> tuple[np.ndarray, np.ndarray, list[Cell]]:
    """ATT and influence function of every cell (one influence column per cell)."""
    cells = [c for c in data.cells]
    n = data.n_obs_units
    influence = np.zeros((n, len(cells)), order="F")
    att = np.zeros(len(cells))
    kept = np.ones(len(cells), dtype=bool)
    ps_cache: dict = {}
    or_cache: dict = {}
    for k, cell in enumerate(cells):
        if cell.reference:
            continue
        try:
            if nuisances is not None and data.kind != "panel":
                att[k] = learned_rcs_cell(
                    data, cell, method, influence[:, k], nuisances, OVERLAP_LIMIT
                )
            elif nuisances is not None:
                att[k] = learned_panel_cell(
                    data, cell, method, influence[:, k], nuisances, OVERLAP_LIMIT
                )
            elif data.kind == "panel":
                att[k] = _panel_cell(data, cell, method, influence[:, k], ps_cache, or_cache)
            else:
                att[k] = _rcs_cell(data, cell, method, influence[:, k])
        except _SkipCell as skip:
            warn(str(skip), DesignWarning)
            data.skipped.append(f"ATT({data.label(cell.group)},{data.label(cell.time)})")
            kept[k] = False
        except EstimationError as err:
            warn(
                f"skipped ATT({data.label(cell.group)},{data.label(cell.time)}): {err}",
                DesignWarning,
            )
            data.skipped.append(f"ATT({data.label(cell.group)},{data.label(cell.time)})")
            kept[k] = False
    if not kept.any():
        raise DesignError("no group-time cell could be estimated; see the warnings")
    if kept.all():
        return att, influence, cells
    cells = [c for c, keep in zip(cells, kept, strict=True) if keep]
    return att[kept], np.asfortranarray(influence[:, kept]), cells


class _SkipCell(Exception):
    """A cell that cannot be estimated (reported as a warning)."""


def _panel_cell(
    data: StaggeredData,
    cell: Cell,
    method: str,
    out: np.ndarray,
    ps_cache: dict,
    or_cache: dict,
) -> float:
    """One cell from balanced panel data; writes the influence column into ``out``."""
    y = data.y_by_period
    n = data.n_obs_units
    tr = cell.treated
    ctrl = cell.controls
    if data.X is None:
        # closed form, computed in place in the influence column (no temporaries):
        # n w (dy - mean) / sum(w) on the treated, minus the same on the comparison
        w, now, then = data.unit_weight, y[cell.time], y[cell.base]
        means = []
        for blocks, sign in (((tr,), 1.0), (ctrl, -1.0)):
            total = 0.0
            weighted = 0.0
            for a, b in blocks:
                np.subtract(now[a:b], then[a:b], out=out[a:b])
                total += float(w[a:b].sum())
                weighted += float(np.einsum("i,i->", w[a:b], out[a:b]))  # no BLAS
            if total <= 0:
                group = "cohort" if sign > 0 else "comparison group"
                raise _SkipCell(
                    f"skipped ATT({data.label(cell.group)},{data.label(cell.time)}): its "
                    f"{group} has zero total weight"
                )
            mean = weighted / total
            scale = sign * n / total
            for a, b in blocks:
                out[a:b] -= mean
                out[a:b] *= w[a:b]
                out[a:b] *= scale
            means.append(mean)
        return means[0] - means[1]
    key = (tr, ctrl)
    comparison = ps_cache.get(key)
    if comparison is None:
        idx = np.concatenate([np.arange(tr[0], tr[1]), *(np.arange(a, b) for a, b in ctrl)])
        d = np.zeros(len(idx), dtype=bool)
        d[: tr[1] - tr[0]] = True
        X, w = data.X[idx], data.unit_weight[idx]
        ps = None
        if method in ("dr", "ipw"):
            ps = fit_logit(X, d.astype(float), w)
            if ps.max_fitted >= OVERLAP_LIMIT:
                ps_cache[key] = ps
                comparison = ps
            else:
                comparison = (idx, PanelComparison(d, X, w, method, ps=ps))
        else:
            comparison = (idx, PanelComparison(d, X, w, method))
        ps_cache[key] = comparison
    if isinstance(comparison, PropensityFit):
        raise _SkipCell(
            f"skipped ATT({data.label(cell.group)},{data.label(cell.time)}): the "
            "propensity score predicts membership of the cohort almost perfectly "
            f"(max {comparison.max_fitted:.4f}); the overlap condition fails. Use fewer or "
            "coarser covariates"
        )
    idx, model = comparison
    m = len(idx)
    blocks = (tr, *ctrl)
    dy = np.concatenate([y[cell.time, a:b] - y[cell.base, a:b] for a, b in blocks])
    out_delta = None
    if method in ("dr", "reg"):
        coef = or_cache.get(ctrl)
        if coef is None:
            cidx = idx[m - sum(b - a for a, b in ctrl) :]
            Xc, wc = data.X[cidx], data.unit_weight[cidx]
            xtw = Xc.T * wc
            try:
                coef = np.linalg.solve(xtw @ Xc, xtw @ y[:, cidx].T)
            except np.linalg.LinAlgError:
                raise EstimationError(
                    "the outcome regression on the comparison units is singular; drop "
                    "or combine covariates"
                ) from None
            or_cache[ctrl] = coef
        out_delta = model.X @ (coef[:, cell.time] - coef[:, cell.base])
    estimate, phi = model.att(dy, out_delta)
    phi *= n / m
    start = 0
    for a, b in blocks:
        out[a:b] = phi[start : start + b - a]
        start += b - a
    return estimate


def _rcs_cell(data: StaggeredData, cell: Cell, method: str, out: np.ndarray) -> float:
    """One cell from repeated cross-sections or an unbalanced panel."""
    idx_t, d_t = data.rows_for(cell.time, cell)
    idx_b, d_b = data.rows_for(cell.base, cell)
    label = f"ATT({data.label(cell.group)},{data.label(cell.time)})"
    if not d_t.any() or not d_b.any():
        raise _SkipCell(f"skipped {label}: no treated observations in one of its two periods")
    if d_t.all() or d_b.all():
        raise _SkipCell(f"skipped {label}: no comparison observations in one of its periods")
    idx = np.concatenate([idx_t, idx_b])
    d = np.concatenate([d_t, d_b])
    post = np.zeros(len(idx), dtype=bool)
    post[: len(idx_t)] = True
    y = data.y[idx]
    w = data.row_weight[idx]
    if data.X is None:
        estimate, phi = rcs_att_nocov(y, d, post, w)
    else:
        X = data.X[idx]
        if method in ("dr", "ipw"):
            ps = fit_logit(X, d.astype(float), w)
            if ps.max_fitted >= OVERLAP_LIMIT:
                raise _SkipCell(
                    f"skipped {label}: the propensity score predicts membership of the "
                    f"cohort almost perfectly (max {ps.max_fitted:.4f}); use fewer or "
                    "coarser covariates"
                )
        estimate, phi = rcs_att(y, d, post, X, w, method)
    m = len(idx)
    n = data.n_obs_units
    out[:] = np.bincount(data.obs_of_row[idx], weights=(n / m) * phi, minlength=n)
    return float(estimate)
