"""Interrupted time series: effects, paths and intervals from a fitted segmented model.

The effect at a post period is the model's difference between the fitted and the
counterfactual mean: a linear combination of the interruption coefficients for a
Gaussian outcome, ``E_t (exp(x_t b) - exp(x0_t b))`` for counts (expected cases, the
delta method giving its standard error). ``att`` averages these effects over the post
periods (after the phase-in window when it is excluded from the fit) and
``cumulative`` sums them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impact._distributions import Normal, StudentT
from impact.estimators.its._design import period_label
from impact.estimators.its._fit import SeriesFit
from impact.inference.wald import outcome_scale, regressor_size
from impact.result import effect_row

__all__ = ["Contrast", "assemble"]


class Contrast:
    """The rows of the treated series, fitted and counterfactual, for one fit.

    Parameters
    ----------
    X, X0 : ndarray, shape (n, k)
        Design rows of the treated series with and without the programme.
    base : ndarray, shape (n,)
        Added to both linear predictions (the comparison series in a controlled
        Gaussian design; zero otherwise).
    exposure : ndarray, shape (n,), optional
        Exposure of count models.
    """

    def __init__(
        self,
        X: np.ndarray,
        X0: np.ndarray,
        *,
        base: np.ndarray | None = None,
        exposure: np.ndarray | None = None,
    ) -> None:
        self.X = np.asarray(X, dtype=float)
        self.X0 = np.asarray(X0, dtype=float)
        n = len(self.X)
        self.base = np.zeros(n) if base is None else np.asarray(base, dtype=float)
        self.exposure = np.ones(n) if exposure is None else np.asarray(exposure, dtype=float)

    def means(self, fit: SeriesFit) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Fitted and counterfactual means and their gradients in the coefficients."""
        b = fit.params.to_numpy()
        if fit.family == "gaussian":
            return self.base + self.X @ b, self.base + self.X0 @ b, self.X, self.X0
        mu1 = self.exposure * np.exp(self.X @ b)
        mu0 = self.exposure * np.exp(self.X0 @ b)
        return mu1, mu0, mu1[:, None] * self.X, mu0[:, None] * self.X0


def _se(grad: np.ndarray, cov: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", grad, cov, grad), 0.0))


def _crit(df: float | None, alpha: float) -> float:
    dist = Normal() if df is None else StudentT(df)
    return float(dist.ppf(1 - alpha / 2))


def assemble(
    fit: SeriesFit,
    contrast: Contrast,
    *,
    times: pd.Index,
    observed: np.ndarray,
    post: np.ndarray,
    in_att: np.ndarray,
    fitted_rows: np.ndarray,
    terms: dict[str, str],
    alpha: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the effects table and the paths table.

    Parameters
    ----------
    fit : SeriesFit
    contrast : Contrast
    times : pandas.Index
        Period of each row of the treated series.
    observed : ndarray
        Observed outcome of the treated series.
    post : ndarray of bool
        Periods from the (first) interruption on.
    in_att : ndarray of bool
        Post periods averaged in ``att``.
    fitted_rows : ndarray of bool
        Rows used in the fit.
    terms : dict
        Reported term -> coefficient name (``level_change`` -> ``level_change`` or
        ``g:level_change`` in a stacked design).
    alpha : float

    Returns
    -------
    effects, paths : pandas.DataFrame
    """
    cov = fit.cov.to_numpy()
    crit = _crit(fit.df, alpha)
    mu1, mu0, g1, g0 = contrast.means(fit)
    effect = mu1 - mu0
    grad = g1 - g0
    rows: list[dict[str, Any]] = []
    counts = fit.family != "gaussian"
    # the outcome's scale in each estimate's units (see impact.inference.wald): effects
    # are in the outcome's units, coefficients of count models in log rates
    y_scale = outcome_scale(observed)
    names = list(fit.params.index)
    for term, coef in terms.items():
        est = float(fit.params[coef])
        se = float(np.sqrt(fit.cov.loc[coef, coef]))
        size = regressor_size(contrast.X[:, names.index(coef)])
        scale = (1.0 if counts else y_scale) / size if size > 0 else 0.0
        row = effect_row(term, est, se, df=fit.df, alpha=alpha, scale=scale, kind="segment")
        if counts:
            row.update(
                rate_ratio=float(np.exp(est)),
                rate_ratio_lower=float(np.exp(row["ci_lower"])),
                rate_ratio_upper=float(np.exp(row["ci_upper"])),
            )
        rows.append(row)
    for label, weights in (
        ("att", in_att / max(in_att.sum(), 1)),
        ("cumulative", in_att.astype(float)),
    ):
        g = weights @ grad
        est = float(weights @ effect)
        se = float(np.sqrt(max(g @ cov @ g, 0.0)))
        rows.append(
            effect_row(
                label,
                est,
                se,
                df=fit.df,
                alpha=alpha,
                scale=y_scale * weights.sum(),
                kind="summary",
            )
        )
    se_effect = _se(grad, cov)
    for i in np.flatnonzero(post):
        rows.append(
            effect_row(
                f"period[{period_label(times[i])}]",
                float(effect[i]),
                float(se_effect[i]),
                df=fit.df,
                alpha=alpha,
                scale=y_scale,
                kind="period",
            )
        )
    effects = pd.DataFrame(rows)
    # paths: intervals of the fitted and counterfactual means, prediction interval
    se1 = _se(g1, cov)
    se0 = _se(g0, cov)
    if counts:
        var_new = fit.scale * mu0 if fit.alpha_nb is None else mu0 + fit.alpha_nb * mu0**2
    else:
        var_new = np.full(len(mu0), fit.sigma2)
    pred_se = np.sqrt(se0**2 + var_new)
    paths = pd.DataFrame(
        {
            "time": np.asarray(times),
            "observed": observed,
            "counterfactual": mu0,
            "effect": observed - mu0,
            "fitted": mu1,
            "fitted_lower": mu1 - crit * se1,
            "fitted_upper": mu1 + crit * se1,
            "counterfactual_lower": mu0 - crit * se0,
            "counterfactual_upper": mu0 + crit * se0,
            "prediction_lower": mu0 - crit * pred_se,
            "prediction_upper": mu0 + crit * pred_se,
            "model_effect": effect,
            "post": post,
            "in_fit": fitted_rows,
        }
    )
    if counts:
        for col in ("fitted_lower", "counterfactual_lower", "prediction_lower"):
            paths[col] = paths[col].clip(lower=0.0)
    return effects, paths
