"""Group-time ATTs with scikit-learn nuisance models, cross-fitted (DML DiD).

When :class:`~impact.estimators.staggered.StaggeredDiD` is given a
``propensity_model`` or an ``outcome_model``, each cell's propensity score (cohort
``g`` against its comparison group) and outcome regression (the comparison units'
outcome change between the cell's two periods) come from those learners instead of
the built-in logit and least squares; a model not given stays the built-in one,
fitted the same way through a small adapter.

*Cross-fitting* (``cross_fit=K``): units, or whole clusters when the Panel has them,
are dealt to ``K`` folds once per fit (stratified by cohort, seeded by the
estimator's ``seed``); every unit's nuisance predictions come from models trained on
the other folds. The doubly robust estimate is then the DML DiD of Chang (2020), in
the normalised form of Sant'Anna and Zhao (2020):

``att = sum(w_t r) / sum(w_t) - sum(w_c r) / sum(w_c)``, with ``r = dy - m(X)``,
``w_t = w d`` and ``w_c = w (1 - d) p(X) / (1 - p(X))``,

and its influence function the score's own,
``phi = w_t (r - eta_t) / mean(w_t) - w_c (r - eta_c) / mean(w_c)``: the score is
Neyman-orthogonal, so with cross-fitted nuisances the estimation of ``p`` and ``m``
adds nothing to the first-order variance, and the logit's and least squares'
estimation-effect terms of the parametric estimator are dropped. ``"ipw"`` and
``"reg"`` are not orthogonal: their influence functions here omit the learners'
estimation error, which a warning says.

Repeated cross-sections, and unbalanced panels kept with
``allow_unbalanced_panel=True``, use the cross-section estimator of
:mod:`._learned_rcs` (four outcome regressions per cell), with every row in its
unit's fold; they need cross-fitting.

*Without cross-fitting* (``cross_fit=None``) the learners' in-sample predictions enter
the parametric estimator's formulas, estimation-effect terms included: with
``LogisticRegression(penalty=None)`` and ``LinearRegression()`` this is the default
estimator, to the tolerance of the learners' solvers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impact.estimators._learners import (
    cross_fit_folds,
    is_linear_model,
    learner_seeds,
    predict,
    predict_proba,
)
from impact.estimators.staggered._data import Cell, StaggeredData
from impact.estimators.staggered._drdid import (
    _PS_CEILING,
    PanelComparison,
    PropensityFit,
    fit_logit,
)
from impact.exceptions import DesignError, EstimationError, InferenceWarning, warn

__all__ = ["Nuisances", "learned_panel_cell"]


class _BuiltinLogit:
    """The built-in logit (:func:`fit_logit`) behind the classifier interface."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def fit(self, X: np.ndarray, d: np.ndarray, sample_weight: Any = None) -> _BuiltinLogit:
        w = np.ones(len(d)) if sample_weight is None else np.asarray(sample_weight)
        self.coef_ = _logit_coef(_with_intercept(X), np.asarray(d, dtype=float), w)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        eta = _with_intercept(X) @ self.coef_
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))
        return np.column_stack([1.0 - p, p])


class _BuiltinLinear:
    """Weighted least squares behind the regressor interface."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> _BuiltinLinear:
        Z = _with_intercept(X)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
        xtw = Z.T * w
        try:
            self.coef_ = np.linalg.solve(xtw @ Z, xtw @ y)
        except np.linalg.LinAlgError:
            raise EstimationError(
                "the outcome regression on the comparison units is singular; drop or "
                "combine covariates"
            ) from None
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return _with_intercept(X) @ self.coef_


def _with_intercept(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def _logit_coef(X: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Coefficients of :func:`fit_logit` (recovered from its fitted logits)."""
    p = np.clip(fit_logit(X, d, w).fitted, 1e-12, 1 - 1e-12)
    coef, *_ = np.linalg.lstsq(X, np.log(p / (1 - p)), rcond=None)
    return coef


class Nuisances:
    """The learners of one fit, their folds and the predictions already made.

    Parameters
    ----------
    data : StaggeredData
        Balanced panel data with covariates.
    method : {"dr", "ipw", "reg"}
    propensity_model, outcome_model : scikit-learn estimators or None
        None: the built-in logit / least squares.
    cross_fit : int or None
        Number of folds.
    seed : int, Generator or None
        The estimator's seed: folds and the learners' unset ``random_state``.
    """

    def __init__(
        self,
        data: StaggeredData,
        method: str,
        propensity_model: Any,
        outcome_model: Any,
        cross_fit: int | None,
        seed: Any,
    ) -> None:
        if data.kind != "panel" and cross_fit is None:
            raise DesignError(_not_panel_message(data.kind))
        if data.X is None:
            raise DesignError(
                "propensity_model and outcome_model need covariates to learn from; build "
                "the Panel with covariates= or leave the models at None"
            )
        self.data, self.method, self.cross_fit = data, method, cross_fit
        self.ps_model = _BuiltinLogit() if propensity_model is None else propensity_model
        self.or_model = _BuiltinLinear() if outcome_model is None else outcome_model
        fold_seed, self.random_state = learner_seeds(seed)
        self.folds = self.row_folds = None
        if cross_fit is not None:
            self.folds = cross_fit_folds(
                int(cross_fit), data.obs_group, clusters=data.clusters, seed=fold_seed
            )
            if data.kind != "panel":  # every row in its unit's (or cluster's) fold
                self.row_folds = self.folds[data.obs_of_row]
        self._ps: dict = {}
        self._or: dict = {}
        self.Z = data.X[:, 1:]  # the covariates without the intercept column
        learners = [m for m in (propensity_model, outcome_model) if m is not None]
        if cross_fit is None and any(not is_linear_model(m) for m in learners):
            warn(
                "a flexible learner fitted and evaluated on the same units (cross_fit=None) "
                "overfits: its in-sample predictions bias the estimate and the standard "
                "errors assume a parametric model; use cross_fit=5",
                InferenceWarning,
            )
        if cross_fit is not None and method != "dr":
            warn(
                f"method={method!r} is not doubly robust: with learners its standard errors "
                "ignore the error in the learned nuisance model; use method='dr', whose "
                "cross-fitted influence function needs no such correction",
                InferenceWarning,
            )

    def propensity(self, key: Any, idx: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Propensity score of each unit of ``idx`` (cohort membership ``d``)."""
        p = self._ps.get(key)
        if p is None:
            data = self.data
            p = predict_proba(
                self.ps_model,
                self.Z[idx],
                d.astype(int),
                data.unit_weight[idx],
                None if self.folds is None else self.folds[idx],
                random_state=self.random_state,
            )
            self._ps[key] = p
        return p

    def outcome_change(self, ctrl: Any, time: int, base: int) -> np.ndarray:
        """Predicted comparison-group change from ``base`` to ``time``, for every unit.

        The model learns from the units of the comparison blocks ``ctrl`` (those of the
        other folds, when cross-fitting) and predicts every unit, so the cells sharing a
        comparison group and a pair of periods share one set of fits.
        """
        key = (ctrl, time, base)
        fitted = self._or.get(key)
        if fitted is None:
            y = self.data.y_by_period
            train = np.zeros(self.data.n_obs_units, dtype=bool)
            for a, b in ctrl:
                train[a:b] = True
            fitted = predict(
                self.or_model,
                self.Z,
                y[time] - y[base],
                self.data.unit_weight,
                train,
                self.folds,
                random_state=self.random_state,
            )
            self._or[key] = fitted
        return fitted


def learned_panel_cell(
    data: StaggeredData,
    cell: Cell,
    method: str,
    out: np.ndarray,
    nuisances: Nuisances,
    overlap_limit: float,
) -> float:
    """One cell from balanced panel data with learned nuisances; writes ``out``.

    Raises
    ------
    EstimationError
        When the propensity score reaches ``overlap_limit`` (no overlap); the caller
        skips the cell with a warning.
    """
    n = data.n_obs_units
    tr, ctrl = cell.treated, cell.controls
    blocks = (tr, *ctrl)
    idx = np.concatenate([np.arange(a, b) for a, b in blocks])
    m = len(idx)
    d = np.zeros(m, dtype=bool)
    d[: tr[1] - tr[0]] = True
    y = data.y_by_period
    dy = y[cell.time, idx] - y[cell.base, idx]
    w = data.unit_weight[idx]
    w = w / w.mean()
    p = None
    if method in ("dr", "ipw"):
        p = nuisances.propensity((tr, ctrl), idx, d)
        top = float(p.max())
        if top >= overlap_limit:
            raise EstimationError(
                "the propensity score predicts membership of the cohort almost perfectly "
                f"(max {top:.4f}); the overlap condition fails. Use fewer or coarser "
                "covariates, or a smoother propensity_model"
            )
        p = np.clip(p, 1e-12, _PS_CEILING)
    out_delta = None
    if method in ("dr", "reg"):
        out_delta = nuisances.outcome_change(ctrl, cell.time, cell.base)[idx]
    if nuisances.cross_fit is None:
        ps = None
        X = data.X[idx]
        if p is not None:
            info = (X * (w * p * (1 - p))[:, None]).T @ X
            try:
                hessian_inv = np.linalg.inv(info) * m
            except np.linalg.LinAlgError:
                raise EstimationError(
                    "the propensity score's information matrix is singular; drop or "
                    "combine covariates"
                ) from None
            ps = PropensityFit(fitted=p, hessian_inv=hessian_inv, max_fitted=float(p.max()))
        estimate, phi = PanelComparison(d, X, w, method, ps=ps).att(dy, out_delta)
    else:
        estimate, phi = orthogonal_att(dy, d, w, method, p, out_delta)
    phi = phi * (n / m)
    start = 0
    for a, b in blocks:
        out[a:b] = phi[start : start + b - a]
        start += b - a
    return float(estimate)


def orthogonal_att(
    dy: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    method: str,
    p: np.ndarray | None,
    out_delta: np.ndarray | None,
) -> tuple[float, np.ndarray]:
    """ATT and influence function from cross-fitted nuisances (no estimation effects).

    Parameters
    ----------
    dy : ndarray, shape (m,)
        Outcome changes.
    d : ndarray of bool, shape (m,)
        Cohort membership.
    w : ndarray, shape (m,)
        Weights, normalised to mean one.
    method : {"dr", "ipw", "reg"}
    p : ndarray or None
        Cross-fitted propensity scores (``"dr"``, ``"ipw"``).
    out_delta : ndarray or None
        Cross-fitted comparison-group outcome changes (``"dr"``, ``"reg"``).

    Returns
    -------
    att : float
    phi : ndarray, shape (m,)
        Influence function, scaled as :func:`~impact.estimators.staggered._drdid.panel_att`.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([True, True, False, False])
    >>> att, phi = orthogonal_att(np.array([3.0, 1.0, 0.0, 2.0]), d, np.ones(4), "dr",
    ...                           np.full(4, 0.5), np.zeros(4))
    >>> att
    1.0
    """
    df = d.astype(float)
    w_t = w * df
    mean_t = w_t.mean()
    if method == "reg":
        r = dy - out_delta
        att = float(np.dot(w_t, r) / w_t.sum())
        return att, w_t * (r - att) / mean_t
    r = dy if method == "ipw" else dy - out_delta
    w_c = w * (1.0 - df) * p / (1.0 - p)
    mean_c = w_c.mean()
    eta_t = float(np.dot(w_t, r) / w_t.sum())
    eta_c = float(np.dot(w_c, r) / w_c.sum())
    phi = w_t * (r - eta_t) / mean_t - w_c * (r - eta_c) / mean_c
    return eta_t - eta_c, phi


def _not_panel_message(kind: str) -> str:
    """Why learners without cross-fitting refuse rows that are not a balanced panel.

    The repeated cross-section estimators that such rows use would need the estimation
    effects of every learner's in-sample fit in their influence function; only the
    cross-fitted (orthogonal) version is implemented (:mod:`._learned_rcs`).
    """
    what = (
        "repeated cross-sections (several rows per unit and period)"
        if kind == "repeated_cross_section"
        else "an unbalanced panel kept with allow_unbalanced_panel=True"
    )
    return (
        f"propensity_model and outcome_model need cross-fitting on {what}: without it "
        "their influence function would need the estimation effects of the learners' "
        "in-sample fits, which are not implemented for these rows. Pass cross_fit=5 "
        "(or another number of folds), keep the built-in models (propensity_model=None, "
        "outcome_model=None)"
        + (
            ", or set allow_unbalanced_panel=False (units not observed in every period are "
            "dropped, counted in settings['dropped_incomplete_units'])"
            if kind != "repeated_cross_section"
            else ""
        )
    )
