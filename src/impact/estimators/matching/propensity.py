"""The propensity score: a logistic regression of treatment on covariates.

The model is fitted by maximum likelihood (Newton-Raphson with step halving, stopping
when the deviance changes by less than a relative 1e-10, a stricter form of R ``glm``'s
criterion), on covariates centred and scaled to unit variance, so the fitted
probabilities do not depend on the units of the covariates (the coefficients are those
of the standardised columns; :attr:`PropensityFit.coefficients` gives them on the
covariates as given, as statsmodels' ``Logit`` reports them). The deviance is summed
as one non-negative term per unit, computed from ``exp(-|eta|)``, so it neither
overflows nor loses the last Newton steps' gains to rounding when fitted logits reach
the thousands (near-separated designs whose estimate exists but is large).

Separation (covariates that split the treated from the controls, so the maximum
likelihood estimate does not exist) is diagnosed by a linear programme (Konis 2007,
R ``detectseparation``): a direction ``b`` with ``z'b >= 0`` for every treated and
``<= 0`` for every control unit, not all zero, exists exactly when the estimate does
not. It runs only when Newton fails or meets fitted probabilities within about 1e-9
of 0 or 1, so an ordinary fit pays nothing for it; an extreme intermediate iterate
(a Newton step from the intercept-only start overshooting on covariates such as
squared earnings) is not taken as separation.

The Newton steps are written out in numpy rather than calling statsmodels' ``Logit``:
on 1.1 million units statsmodels' Hessian evaluations took 2.6 s of a 15 s fit in
``benchmarks/matching.py``, the few lines here a fraction of that, with the same
estimates (``tests/matching/test_propensity.py`` checks the coefficients against
statsmodels to 1e-6, the MatchIt reference test the fitted scores to 4 decimals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impact.exceptions import DesignError, EstimationError

__all__ = ["PropensityFit", "fit_propensity", "standardize"]

_BLOCK = 8192  # rows per block of the Newton pass


def standardize(X: np.ndarray) -> np.ndarray:
    """Centre each column at its mean and scale it to unit standard deviation.

    Constant columns are centred only.

    Examples
    --------
    >>> import numpy as np
    >>> standardize(np.array([[1.0], [3.0]])).ravel().tolist()
    [-0.7071067811865475, 0.7071067811865475]
    """
    X = np.asarray(X, dtype=float)
    return _standardize_into(X, np.empty(X.shape, order="F"))


def _standardize_into(X: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:func:`standardize` written into ``out`` (e.g. the columns of a design matrix).

    Column by column: with column-major ``X`` and ``out`` every step reads and writes
    contiguous memory.
    """
    _standardize_columns(X, out)
    return out


def _standardize_columns(X: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardise ``X`` into ``out``; return the centres and scales used."""
    centres, scales = np.zeros(X.shape[1]), np.ones(X.shape[1])
    for j in range(X.shape[1]):
        col = X[:, j]
        mean = col.mean()
        centred = np.subtract(col, mean, out=out[:, j])
        sd = 1.0
        if len(col) > 1:
            # the n - 1 standard deviation in one pass; a (nearly) constant column, whose
            # centred values are rounding noise, the usual way
            sd = float(np.sqrt(np.einsum("i,i->", centred, centred) / (len(col) - 1)))
            if not sd > 1e-8 * (1.0 + abs(mean)):
                sd = float(centred.std(ddof=1))
        sd = sd if sd > 0 else 1.0
        centred /= sd
        centres[j], scales[j] = mean, sd
    return centres, scales


@dataclass(frozen=True)
class PropensityFit:
    """A fitted propensity model.

    Attributes
    ----------
    probability : ndarray
        Fitted probability of treatment per unit.
    linear_predictor : ndarray
        The logit of :attr:`probability`.
    params : ndarray
        Coefficients (intercept first) on the standardised covariates.
    design : ndarray
        The design matrix used (intercept and standardised covariates).
    centres, scales : ndarray or None
        The mean and standard deviation each covariate was standardised with.
    n_iterations : int
        Newton steps taken.
    """

    probability: np.ndarray
    linear_predictor: np.ndarray
    params: np.ndarray
    design: np.ndarray
    centres: np.ndarray | None = None
    scales: np.ndarray | None = None
    n_iterations: int = 0

    @property
    def coefficients(self) -> np.ndarray:
        """Coefficients (intercept first) on the covariates as given.

        The same numbers as statsmodels' ``Logit(treated, add_constant(X)).fit()``.
        """
        if self.centres is None or self.scales is None:
            return self.params.copy()
        slopes = self.params[1:] / self.scales
        return np.concatenate([[self.params[0] - slopes @ self.centres], slopes])


def fit_propensity(X: np.ndarray, treated: np.ndarray, names: list[str]) -> PropensityFit:
    """Fit a logistic propensity score model.

    Parameters
    ----------
    X : ndarray, shape (n, k)
        Covariates (categoricals already one-hot encoded, one level dropped).
    treated : ndarray of bool, shape (n,)
        Treatment indicator.
    names : list of str
        Covariate names, for error messages.

    Returns
    -------
    PropensityFit

    Raises
    ------
    DesignError
        When the covariates separate the treated from the control units, completely
        or quasi-completely (the maximum likelihood estimate does not exist).
    EstimationError
        When the covariates are collinear or the fit fails to converge for another
        reason.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 1))
    >>> d = rng.random(200) < 1 / (1 + np.exp(-x[:, 0]))
    >>> fit = fit_propensity(x, d, ["x"])
    >>> bool(0 < fit.probability.min() and fit.probability.max() < 1)
    True
    >>> fit.coefficients.shape
    (2,)
    """
    d = np.asarray(treated, dtype=float)
    X = np.asarray(X, dtype=float)
    # column-major: the columns are standardised in place and the Newton passes read
    # blocks of rows as (k x block) arrays of contiguous rows
    Z = np.empty((len(d), X.shape[1] + 1), order="F")
    Z[:, 0] = 1.0
    centres, scales = _standardize_columns(X, Z[:, 1:])
    if _separating(Z, d):
        raise DesignError(_separation_message(names))
    params, eta, steps, converged, checked = _newton_logit(Z, d, names)
    if not checked and not (converged and np.abs(eta).max() <= _EXTREME):
        # fitted probabilities within about 1e-9 of 0 or 1, or no convergence: the
        # linear programme tells separation from merely extreme covariate values
        if _separated(Z, d):
            raise DesignError(_separation_message(names))
    if not converged:
        raise EstimationError(
            f"the propensity model did not converge in {_MAX_ITER} Newton steps; check the "
            f"covariates {', '.join(names)} for extreme values or near-separation"
        )
    with np.errstate(over="ignore"):
        p = 1.0 / (1.0 + np.exp(-eta))
    return PropensityFit(
        probability=p,
        linear_predictor=eta,
        params=params,
        design=Z,
        centres=centres,
        scales=scales,
        n_iterations=steps,
    )


_MAX_ITER = 100
_EXTREME = 20.0  # |logit| beyond which a fitted probability is within 2e-9 of 0 or 1
_DECREMENT = 1e-16  # squared Newton decrement at which the fit has converged


def _newton_logit(
    Z: np.ndarray, d: np.ndarray, names: list[str], max_iter: int = _MAX_ITER, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray, int, bool, bool]:
    """Newton-Raphson with step halving for the logistic likelihood.

    Stops when the deviance has changed by less than a relative ``tol`` and the Newton
    decrement (the distance to the optimum in standard errors) is below 1e-8, or
    three steps after the deviance settled. A step that raises the deviance (or
    overflows) is halved until it does not. The first time an
    iterate has fitted probabilities within about 1e-9 of 0 or 1 the separation check
    runs (a DesignError if the covariates separate the groups), so a separated design
    stops early instead of running out of steps.

    Returns the coefficients, the linear predictor (in the caller's ``eta``), the
    steps taken, whether the fit converged and whether the separation check ran.
    """
    beta = np.zeros(Z.shape[1])
    share = float(np.clip(d.mean(), 1e-6, 1 - 1e-6))
    beta[0] = np.log(share / (1 - share))  # start at the intercept-only fit
    eta = np.empty(len(d))
    deviance, gradient, hessian = _newton_pass(Z, d, beta, eta)
    checked = False
    settled = 0  # consecutive steps that changed the deviance by less than tol
    for step_count in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError as exc:
            if _separated(Z, d):
                raise DesignError(_separation_message(names)) from exc
            raise EstimationError(
                "the propensity model could not be fitted: its covariates are collinear "
                f"({', '.join(names)}); drop redundant covariates"
            ) from exc
        # the Newton decrement g'H^-1 g: the distance to the optimum in standard errors,
        # squared; near it, each coefficient is within sqrt(decrement) of its standard
        # error of the maximum likelihood estimate
        decrement = float(gradient @ step)
        if settled and (decrement < _DECREMENT or settled > 3):
            return beta, eta, step_count - 1, True, checked
        slack = 1e-12 * (abs(deviance) + 0.1)  # rounding in the deviance near the optimum
        for _ in range(40):
            candidate = beta + step
            new, new_gradient, new_hessian = _newton_pass(Z, d, candidate, eta)
            if np.isfinite(new) and new <= deviance + slack:
                break
            step = step / 2.0
        else:  # no step lowers the deviance: at the optimum to rounding, or stuck
            _newton_pass(Z, d, beta, eta)
            return beta, eta, step_count, decrement < 1e-8 * (abs(deviance) + 0.1), checked
        beta, gradient, hessian = candidate, new_gradient, new_hessian
        change, deviance = abs(new - deviance), new
        settled = settled + 1 if change < tol * (abs(new) + 0.1) else 0
        if not checked and np.abs(eta).max() > _EXTREME:
            checked = True
            if _separated(Z, d):
                raise DesignError(_separation_message(names))
    return beta, eta, max_iter, False, checked


def _newton_pass(
    Z: np.ndarray, d: np.ndarray, beta: np.ndarray, eta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Linear predictor (into ``eta``), deviance, score and information at ``beta``.

    One pass over the design in blocks of rows that stay in the processor's cache: on
    a million units about four times faster than whole-array operations, which stream
    the design through memory once per operation (and, as single large BLAS calls,
    may wait on busy cores).
    """
    k = Z.shape[1]
    gradient = np.zeros(k)
    hessian = np.zeros((k, k))
    scaled = np.empty((k, _BLOCK))
    total = 0.0
    for start in range(0, len(d), _BLOCK):
        zb, db = Z[start : start + _BLOCK], d[start : start + _BLOCK]
        eb = np.dot(zb, beta, out=eta[start : start + _BLOCK])
        # everything from a = exp(-|eta|), which cannot overflow: p = 1 / (1 + a) where
        # eta >= 0 and a / (1 + a) below, p (1 - p) = a / (1 + a)^2
        a = np.exp(-np.abs(eb))
        r = 1.0 / (1.0 + a)
        p = np.where(eb >= 0.0, r, a * r)
        # half the deviance, one non-negative term per unit so that the sum does not
        # cancel (a sum of eta's, thousands apart near separation, rounded the deviance
        # by more than the last Newton steps gain): log(1 + exp(eta)) - d eta, which is
        # max(eta, 0) + log(1 + a) - d eta = max(s, 0) + log(1 + a), s = (1 - 2d) eta
        s = eb - 2.0 * db * eb
        total += float(np.maximum(s, 0.0, out=s).sum() + np.log1p(a).sum())
        zw = np.multiply(zb.T, np.sqrt(a) * r, out=scaled[:, : len(db)])
        hessian += zw @ zw.T
        gradient += zb.T @ (db - p)
    return 2.0 * total, gradient, hessian


def _separating(Z: np.ndarray, d: np.ndarray) -> bool:
    """Cheap check for complete separation along one covariate."""
    t_index, c_index = np.flatnonzero(d == 1), np.flatnonzero(d != 1)
    for j in range(1, Z.shape[1]):
        zt, zc = Z[:, j][t_index], Z[:, j][c_index]
        if zt.min() > zc.max() or zt.max() < zc.min():
            return True
    return False


def _separated(Z: np.ndarray, d: np.ndarray) -> bool:
    """Whether the design separates the groups, completely or quasi-completely.

    The linear programme of Konis (2007): maximise ``sum_i s_i z_i'b`` over ``b`` in
    ``[-1, 1]^k`` subject to ``s_i z_i'b >= 0`` for every unit, with ``s_i = +1`` for
    the treated and ``-1`` for the controls. Its optimum is 0 (attained at ``b = 0``)
    exactly when the maximum likelihood estimate exists; a positive optimum gives a
    direction along which the likelihood keeps rising. The direction found is checked
    on the data (no margin below minus a millionth of the largest), so the solver's
    feasibility tolerance cannot manufacture a separation.
    """
    from scipy.optimize import linprog  # on first use: only doubtful fits get here

    signed = Z * np.where(d == 1, 1.0, -1.0)[:, None]
    res = linprog(
        -signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(len(d)),
        bounds=(-1.0, 1.0),
        method="highs",
    )
    if res.status != 0 or res.x is None:
        return False
    margins = signed @ res.x
    largest = float(margins.max())
    return largest > 1e-6 and float(margins.min()) >= -1e-6 * largest


def _separation_message(names: list[str]) -> str:
    return (
        "the covariates perfectly separate the treated from the control units "
        f"({', '.join(names)}): no control unit resembles the treated ones on some "
        "combination of them, so the propensity score is 0 or 1. Use coarsened exact "
        "matching (method='cem'), trim to common support, or drop the separating covariate"
    )
