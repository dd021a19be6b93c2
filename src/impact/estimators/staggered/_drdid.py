"""Two-group, two-period ATT estimators with their influence functions.

These are the building blocks of the staggered estimator: for one group-time cell,
the doubly robust (``"dr"``), inverse probability weighting (``"ipw"``, the
normalised/Hajek form) and outcome regression (``"reg"``) estimators of Sant'Anna
and Zhao (2020), for panel data (one outcome change per unit) and for repeated
cross-sections (one row per observation and period).

Every function returns the estimate and its influence function ``phi`` on the
estimator's own sample of size ``m``: the estimate is asymptotically
``att + mean(phi)``, so ``sqrt(sum(phi**2)) / m`` is its standard error. The
formulas are the sample analogues of the paper's asymptotic linear representations,
with the nuisance models (a logit propensity score, weighted least squares outcome
models) estimated on the same sample; their estimation effects enter ``phi``. The
influence function is therefore the exact derivative of the estimate with respect to
each observation's weight (``d att / d w_i = phi_i / m`` at normalised weights), which
the tests check numerically.

References
----------
Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences
estimators. Journal of Econometrics 219(1), 101-122.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impact.exceptions import EstimationError

__all__ = [
    "PanelComparison",
    "PropensityFit",
    "fit_logit",
    "panel_att",
    "panel_att_nocov",
    "rcs_att",
    "rcs_att_nocov",
]

_PS_CEILING = 1.0 - 1e-6
"""Fitted propensity scores are capped here so that ``p / (1 - p)`` stays finite."""


@dataclass(frozen=True)
class PropensityFit:
    """A fitted logit propensity score.

    Attributes
    ----------
    fitted : ndarray
        Fitted probabilities, capped at ``1 - 1e-6``.
    hessian_inv : ndarray
        ``m (X' diag(w p (1 - p)) X)^{-1}`` with weights normalised to mean one: the
        matrix that turns each observation's score into its influence on the
        coefficients.
    max_fitted : float
        Largest uncapped fitted probability (near one means no overlap).
    """

    fitted: np.ndarray
    hessian_inv: np.ndarray
    max_fitted: float


def fit_logit(
    X: np.ndarray, d: np.ndarray, w: np.ndarray, *, tol: float = 1e-12, max_iter: int = 100
) -> PropensityFit:
    """Weighted logistic regression of ``d`` on ``X`` by Newton-Raphson.

    The maximum likelihood fit of R ``glm(d ~ -1 + X, family = binomial, weights = w)``,
    iterated to a tighter tolerance. With an intercept only, the fit is the weighted
    share of ``d`` in closed form.

    Parameters
    ----------
    X : ndarray, shape (m, k)
        Regressors, including the intercept column.
    d : ndarray, shape (m,)
        0/1 outcome.
    w : ndarray, shape (m,)
        Non-negative weights (normalised to mean one inside).
    tol : float
        Convergence tolerance on the largest Newton step.
    max_iter : int
        Iteration cap.

    Returns
    -------
    PropensityFit

    Raises
    ------
    EstimationError
        When the information matrix is singular (collinear covariates).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((4, 1)); d = np.array([1.0, 0.0, 0.0, 0.0])
    >>> float(fit_logit(X, d, np.ones(4)).fitted[0])
    0.25
    """
    m = len(d)
    wn = w / w.mean()
    if X.shape[1] == 1 and np.all(X[:, 0] == 1.0):
        share = float(np.dot(wn, d) / wn.sum())
        p = np.full(m, share)
        info = np.array([[np.sum(wn * p * (1 - p))]])
    else:
        beta = np.zeros(X.shape[1])
        # start from the weighted share, as glm does, to converge in a few steps
        share = float(np.clip(np.dot(wn, d) / wn.sum(), 1e-6, 1 - 1e-6))
        beta[0] = np.log(share / (1 - share)) if np.all(X[:, 0] == 1.0) else 0.0
        for _ in range(max_iter):
            eta = X @ beta
            p = 0.5 * (1.0 + np.tanh(0.5 * eta))
            v = wn * p * (1 - p)
            info = (X * v[:, None]).T @ X
            grad = X.T @ (wn * (d - p))
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                raise EstimationError(
                    "the propensity score model is singular: covariates are collinear "
                    "within this comparison; drop or combine covariates"
                ) from None
            beta = beta + step
            if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
                break
        eta = X @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))
        info = (X * (wn * p * (1 - p))[:, None]).T @ X
    max_fitted = float(p.max()) if m else 0.0
    p = np.minimum(p, _PS_CEILING)
    try:
        hessian_inv = np.linalg.inv(info) * m
    except np.linalg.LinAlgError:
        raise EstimationError(
            "the propensity score model is singular; drop or combine covariates"
        ) from None
    return PropensityFit(fitted=p, hessian_inv=hessian_inv, max_fitted=max_fitted)


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares coefficients (``y`` may have several columns)."""
    xtw = X.T * w
    try:
        return np.linalg.solve(xtw @ X, xtw @ y)
    except np.linalg.LinAlgError:
        raise EstimationError(
            "the outcome regression is singular: too few comparison units for the "
            "covariates; drop or combine covariates"
        ) from None


def _linrep(X: np.ndarray, resid: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """Asymptotic linear representation of WLS coefficients (one row per observation).

    ``w`` is zero outside the regression's sample; returns ``m * w e X (X'WX)^{-1}``.
    """
    xtwx = (X.T * w) @ X
    try:
        inv = np.linalg.inv(xtwx)
    except np.linalg.LinAlgError:
        raise EstimationError(
            "the outcome regression is singular: too few comparison units for the "
            "covariates; drop or combine covariates"
        ) from None
    return (m * (w * resid))[:, None] * (X @ inv)


def panel_att_nocov(dy: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Unconditional 2x2 ATT from outcome changes (all three methods coincide).

    Parameters
    ----------
    dy : ndarray, shape (m,)
        Outcome change of each unit between the base and the current period.
    d : ndarray of bool, shape (m,)
        Treated-group indicator.
    w : ndarray, shape (m,)
        Weights.

    Returns
    -------
    att : float
    phi : ndarray, shape (m,)
        Influence function (``m * (w d (dy - mu_1) / S_1 - w (1 - d) (dy - mu_0) / S_0)``).

    Examples
    --------
    >>> import numpy as np
    >>> att, phi = panel_att_nocov(np.array([3.0, 1.0, 0.0, 2.0]),
    ...                            np.array([True, True, False, False]), np.ones(4))
    >>> att
    1.0
    """
    m = len(dy)
    wt = np.where(d, w, 0.0)
    wc = w - wt
    s1, s0 = wt.sum(), wc.sum()
    mu1 = float(np.dot(wt, dy) / s1)
    mu0 = float(np.dot(wc, dy) / s0)
    phi = m * (wt * (dy - mu1) / s1 - wc * (dy - mu0) / s0)
    return mu1 - mu0, phi


class PanelComparison:
    """One treated group against one comparison group in panel data, with covariates.

    Everything that does not depend on the two periods compared is computed once:
    the propensity score and its influence, the comparison-group regression's
    design and the derivative vectors of the influence function. :meth:`att` then
    costs a few vector operations per pair of periods.

    Parameters
    ----------
    d : ndarray of bool, shape (m,)
        Treated-group indicator.
    X : ndarray, shape (m, k)
        Covariates with an intercept column first.
    w : ndarray, shape (m,)
        Weights.
    method : {"dr", "ipw", "reg"}
        Estimator (see :func:`panel_att`).
    ps : PropensityFit, optional
        Propensity score fitted on this sample, when already available.
    """

    def __init__(
        self,
        d: np.ndarray,
        X: np.ndarray,
        w: np.ndarray,
        method: str,
        *,
        ps: PropensityFit | None = None,
    ) -> None:
        m = len(d)
        self.m, self.X, self.method = m, X, method
        w = w / w.mean()
        df = d.astype(float)
        self.w_treat = w * df
        self.mean_wt = self.w_treat.mean()
        self.w_ols = w * (1.0 - df)
        if method in ("dr", "reg"):
            xtwx = (X.T * self.w_ols) @ X
            try:
                inv = np.linalg.inv(xtwx)
            except np.linalg.LinAlgError:
                raise EstimationError(
                    "the outcome regression is singular: too few comparison units for the "
                    "covariates; drop or combine covariates"
                ) from None
            self.ols_inv = inv
            # influence of the regression coefficients: resid_i * basis_i
            basis = (m * self.w_ols)[:, None] * (X @ inv)
            self.basis_treat = basis @ (self.w_treat @ X / m)
        if method in ("dr", "ipw"):
            if ps is None:
                ps = fit_logit(X, df, w)
            p = ps.fitted
            self.w_cont = w * p * (1.0 - df) / (1.0 - p)
            self.mean_wc = self.w_cont.mean()
            self.lin_ps = (w * (df - p))[:, None] * X @ ps.hessian_inv
            if method == "dr":
                self.basis_cont = basis @ (self.w_cont @ X / m)
                # the influence function is linear in the residuals: its per-unit
                # coefficients, fixed for this comparison (see :meth:`att`)
                self.treat_scaled = self.w_treat / self.mean_wt
                self.cont_scaled = self.w_cont / self.mean_wc
                self.resid_coef = (self.w_treat - self.basis_treat) / self.mean_wt - (
                    self.w_cont - self.basis_cont
                ) / self.mean_wc
                self.x_cont = X.T @ self.w_cont

    def fitted_change(self, dy: np.ndarray) -> np.ndarray:
        """Comparison-group regression of ``dy`` on the covariates, fitted for everyone."""
        beta = self.ols_inv @ ((self.X.T * self.w_ols) @ dy)
        return self.X @ beta

    def att(self, dy: np.ndarray, out_delta: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """ATT and influence function for outcome changes ``dy``."""
        m, X = self.m, self.X
        if self.method in ("dr", "reg") and out_delta is None:
            out_delta = self.fitted_change(dy)
        if self.method == "dr":
            # inf_t = (w_t (r - eta_t) - r b_t) / mean_wt and
            # inf_c = (w_c (r - eta_c) + lin_ps (X'w_c (r - eta_c) / m) - r b_c) / mean_wc,
            # regrouped by what multiplies the residuals r
            resid = dy - out_delta
            eta_t = float(np.dot(self.w_treat, resid)) / m / self.mean_wt
            weighted = self.w_cont * resid
            eta_c = float(weighted.sum()) / m / self.mean_wc
            moment = (X.T @ weighted - eta_c * self.x_cont) / (m * self.mean_wc)
            inf = resid * self.resid_coef
            inf -= eta_t * self.treat_scaled
            inf += eta_c * self.cont_scaled
            inf -= self.lin_ps @ moment
            return eta_t - eta_c, inf
        if self.method == "ipw":
            eta_t = np.dot(self.w_treat, dy) / m / self.mean_wt
            eta_c = np.dot(self.w_cont, dy) / m / self.mean_wc
            inf_t = self.w_treat * (dy - eta_t) / self.mean_wt
            weighted = self.w_cont * (dy - eta_c)
            inf_c = (weighted + self.lin_ps @ (weighted @ X / m)) / self.mean_wc
            return float(eta_t - eta_c), inf_t - inf_c
        # outcome regression
        eta_t = np.dot(self.w_treat, dy) / m / self.mean_wt
        eta_c = np.dot(self.w_treat, out_delta) / m / self.mean_wt
        inf_t = self.w_treat * (dy - eta_t) / self.mean_wt
        resid = dy - out_delta
        inf_c = (self.w_treat * (out_delta - eta_c) + resid * self.basis_treat) / self.mean_wt
        return float(eta_t - eta_c), inf_t - inf_c


def panel_att(
    dy: np.ndarray,
    d: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    method: str,
    *,
    ps: PropensityFit | None = None,
    out_delta: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """2x2 ATT with covariates from panel outcome changes.

    Parameters
    ----------
    dy : ndarray, shape (m,)
        Outcome changes.
    d : ndarray of bool, shape (m,)
        Treated-group indicator (the rest are comparison units).
    X : ndarray, shape (m, k)
        Covariates with an intercept column first.
    w : ndarray, shape (m,)
        Weights.
    method : {"dr", "ipw", "reg"}
        Doubly robust (Sant'Anna and Zhao 2020, eq. 3.1; R ``DRDID::drdid_panel``),
        normalised inverse probability weighting (``std_ipw_did_panel``), or outcome
        regression (``reg_did_panel``).
    ps : PropensityFit, optional
        A propensity score already fitted on this sample.
    out_delta : ndarray, optional
        Fitted outcome changes ``X beta`` from the comparison-group regression.

    Returns
    -------
    att : float
    phi : ndarray, shape (m,)
    """
    return PanelComparison(d, X, w, method, ps=ps).att(dy, out_delta)


def rcs_att_nocov(
    y: np.ndarray, d: np.ndarray, post: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Unconditional 2x2 ATT from repeated cross-sections: a difference of four means.

    Parameters
    ----------
    y : ndarray, shape (m,)
        Outcomes of the observations in the two periods.
    d, post : ndarray of bool, shape (m,)
        Treated-group and current-period indicators.
    w : ndarray, shape (m,)
        Weights.

    Returns
    -------
    att : float
    phi : ndarray, shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 4.0, 1.0, 2.0]); d = np.array([1, 1, 0, 0], bool)
    >>> post = np.array([0, 1, 0, 1], bool)
    >>> rcs_att_nocov(y, d, post, np.ones(4))[0]
    2.0
    """
    m = len(y)
    att = 0.0
    phi = np.zeros(m)
    for dval, sign_d in ((True, 1.0), (False, -1.0)):
        for pval, sign_p in ((True, 1.0), (False, -1.0)):
            cell = (d == dval) & (post == pval)
            wc = np.where(cell, w, 0.0)
            s = wc.sum()
            mu = float(np.dot(wc, y) / s)
            att += sign_d * sign_p * mu
            phi += sign_d * sign_p * m * wc * (y - mu) / s
    return att, phi


def rcs_att(
    y: np.ndarray,
    d: np.ndarray,
    post: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    method: str,
) -> tuple[float, np.ndarray]:
    """2x2 ATT with covariates from repeated cross-sections.

    ``"dr"`` is the locally efficient doubly robust estimator of Sant'Anna and Zhao
    (2020, eq. 3.4), with outcome models for both groups in both periods; ``"ipw"``
    the normalised IPW estimator; ``"reg"`` outcome regression on the comparison group.

    For ``"dr"`` the influence function follows R ``DRDID::drdid_rc`` (which R ``did``
    calls) term by term, including its sign for the estimation effect of the
    comparison group's pre-period outcome regression, which is the opposite of the
    exact derivative of the estimate. The difference vanishes asymptotically when
    the propensity score balances the covariates; we keep R's formula for parity.

    Parameters
    ----------
    y : ndarray, shape (m,)
        Outcomes.
    d, post : ndarray of bool, shape (m,)
        Treated-group and current-period indicators.
    X : ndarray, shape (m, k)
        Covariates with an intercept column first.
    w : ndarray, shape (m,)
        Weights.
    method : {"dr", "ipw", "reg"}
        Estimator.

    Returns
    -------
    att : float
    phi : ndarray, shape (m,)
    """
    m = len(y)
    w = w / w.mean()
    df = d.astype(float)
    pf = post.astype(float)

    def mean_w(weights: np.ndarray, values: np.ndarray) -> float:
        return float(np.mean(weights * values) / np.mean(weights))

    if method == "reg":
        w_c0, w_c1 = w * (1 - df) * (1 - pf), w * (1 - df) * pf
        beta0, beta1 = _wls(X, y, w_c0), _wls(X, y, w_c1)
        out0, out1 = X @ beta0, X @ beta1
        lin0, lin1 = _linrep(X, y - out0, w_c0, m), _linrep(X, y - out1, w_c1, m)
        w_t0, w_t1, w_d = w * df * (1 - pf), w * df * pf, w * df
        eta_t0, eta_t1 = mean_w(w_t0, y), mean_w(w_t1, y)
        eta_c = mean_w(w_d, out1 - out0)
        inf_t = w_t1 * (y - eta_t1) / w_t1.mean() - w_t0 * (y - eta_t0) / w_t0.mean()
        m1 = w_d @ X / m
        inf_c = (w_d * (out1 - out0 - eta_c) + (lin1 - lin0) @ m1) / w_d.mean()
        return (eta_t1 - eta_t0) - eta_c, inf_t - inf_c

    ps = fit_logit(X, df, w)
    p = ps.fitted
    lin_ps = (w * (df - p))[:, None] * X @ ps.hessian_inv
    odds = p / (1 - p)
    w_t0, w_t1 = w * df * (1 - pf), w * df * pf
    w_c0, w_c1 = w * odds * (1 - df) * (1 - pf), w * odds * (1 - df) * pf

    if method == "ipw":
        a_t0, a_t1 = mean_w(w_t0, y), mean_w(w_t1, y)
        a_c0, a_c1 = mean_w(w_c0, y), mean_w(w_c1, y)
        inf_t = w_t1 * (y - a_t1) / w_t1.mean() - w_t0 * (y - a_t0) / w_t0.mean()
        inf_c = w_c1 * (y - a_c1) / w_c1.mean() - w_c0 * (y - a_c0) / w_c0.mean()
        m2 = (w_c1 * (y - a_c1)) @ X / m / w_c1.mean() - (w_c0 * (y - a_c0)) @ X / m / (w_c0.mean())
        inf_c = inf_c + lin_ps @ m2
        return (a_t1 - a_t0) - (a_c1 - a_c0), inf_t - inf_c

    # locally efficient doubly robust
    sel = {
        "c0": w * (1 - df) * (1 - pf),
        "c1": w * (1 - df) * pf,
        "t0": w_t0,
        "t1": w_t1,
    }
    fits = {k: X @ _wls(X, y, v) for k, v in sel.items()}
    lins = {k: _linrep(X, y - fits[k], v, m) for k, v in sel.items()}
    out_c = pf * fits["c1"] + (1 - pf) * fits["c0"]
    resid = y - out_c
    w_d, w_dt1, w_dt0 = w * df, w_t1, w_t0
    a_t0, a_t1 = mean_w(w_t0, resid), mean_w(w_t1, resid)
    a_c0, a_c1 = mean_w(w_c0, resid), mean_w(w_c1, resid)
    gap1 = fits["t1"] - fits["c1"]
    gap0 = fits["t0"] - fits["c0"]
    a_d1, a_dt1 = mean_w(w_d, gap1), mean_w(w_dt1, gap1)
    a_d0, a_dt0 = mean_w(w_d, gap0), mean_w(w_dt0, gap0)
    att = (a_t1 - a_t0) - (a_c1 - a_c0) + (a_d1 - a_dt1) - (a_d0 - a_dt0)

    # treated component: leading terms and the comparison outcome models' effect
    inf_t = w_t1 * (resid - a_t1) / w_t1.mean() - w_t0 * (resid - a_t0) / w_t0.mean()
    m1_post = -(w_t1 * pf) @ X / m / w_t1.mean()
    m1_pre = -(w_t0 * (1 - pf)) @ X / m / w_t0.mean()
    inf_t = inf_t + lins["c1"] @ m1_post + lins["c0"] @ m1_pre
    # comparison component: leading terms, propensity and outcome-model effects
    inf_c = w_c1 * (resid - a_c1) / w_c1.mean() - w_c0 * (resid - a_c0) / w_c0.mean()
    m2_pre = (w_c0 * (resid - a_c0)) @ X / m / w_c0.mean()
    m2_post = (w_c1 * (resid - a_c1)) @ X / m / w_c1.mean()
    inf_c = inf_c + lin_ps @ (m2_post - m2_pre)
    m3_post = -(w_c1 * pf) @ X / m / w_c1.mean()
    m3_pre = -(w_c0 * (1 - pf)) @ X / m / w_c0.mean()
    inf_c = inf_c + lins["c1"] @ m3_post + lins["c0"] @ m3_pre
    phi = inf_t - inf_c
    # local-efficiency adjustment terms
    inf_eff = (
        w_d * (gap1 - a_d1) / w_d.mean()
        - w_dt1 * (gap1 - a_dt1) / w_dt1.mean()
        - w_d * (gap0 - a_d0) / w_d.mean()
        + w_dt0 * (gap0 - a_dt0) / w_dt0.mean()
    )
    mom_post = (w_d / w_d.mean() - w_dt1 / w_dt1.mean()) @ X / m
    mom_pre = (w_d / w_d.mean() - w_dt0 / w_dt0.mean()) @ X / m
    inf_or = (lins["t1"] - lins["c1"]) @ mom_post - (lins["t0"] - lins["c0"]) @ mom_pre
    return float(att), phi + inf_eff + inf_or
