"""One entry point for inference on a coefficient of a fixed-effects regression.

Every regression-based estimator (difference-in-differences, event study, ITS panel,
matched DiD) calls :func:`infer_coefficient` with its outcome, regressors and codes,
names the coefficient of interest and the method, and gets back the estimate, standard
error, interval, p-value, degrees of freedom and the method actually used, so that
the few-clusters logic lives in one place.

Methods
-------
``"cr1"``, ``"hc1"``, ``"iid"``
    Wald intervals from :func:`~impact.inference.regression.within_regression`
    (CR1: t with ``G - 1`` degrees of freedom).
``"cr2"``, ``"cr3"``
    Bias-reduced cluster-robust covariance with Satterthwaite (or Imbens-Kolesar)
    degrees of freedom, as R ``clubSandwich``. With a single treated (or control)
    cluster, whose leverage is 1, they warn (:class:`~impact.exceptions.InferenceWarning`):
    the standard error is finite but misses that cluster's variation.
``"wild"``
    Wild cluster restricted bootstrap (``bootstrap_weights="auto"``: Webb's six-point
    weights below 12 clusters, where Rademacher p-values cannot fall below ``2/2^G``;
    Rademacher from 12 on, all sign vectors when ``2^G`` is at most the draws),
    p-value and interval by test inversion; ``std_error`` is the CR1 standard error
    that the bootstrap studentizes.
``"randomization"``
    Re-assignment of treatment across clusters under the sharp null; needs
    ``exposure``; ``std_error`` is the CR1 standard error (for reference only).
``"twoway"``, ``"driscoll_kraay"``
    Covariances robust to errors correlated across units within a period (shared
    period shocks) as well as within units: two-way clustering by cluster and
    period, and Driscoll-Kraay's kernel estimator over period sums of the scores
    (:mod:`~impact.inference.panel_covariance`). They need ``time_codes``; with
    fewer than ``min_clusters`` periods an :class:`~impact.exceptions.InferenceWarning`
    says the covariance rests on few period sums. ``"auto"`` never picks them.
``"auto"`` (the default of the estimators)
    ``"cr1"`` when both the treated and the control clusters number at least
    ``min_clusters`` (12 by default) and the clusters are of similar sizes
    (coefficient of variation of rows per cluster at most 0.5) or number at least 50
    on each side; otherwise ``"wild"``, with an
    :class:`~impact.exceptions.InferenceWarning` giving the counts (or the size
    spread). The rule follows MacKinnon and Webb (2017, 2018): CR1 t-tests over-reject
    when few clusters are treated (or untreated), whatever the total, and when cluster
    sizes differ widely, while the restricted wild bootstrap stays close to its nominal
    size from about five treated clusters on. Our size study
    (validation/few_clusters_size.py, pupil-level data, school sizes 5-150) found CR1
    rejecting a true null 12.8% of the time with 5 treated of 25 schools, 9.0% with 12
    of 25, 7.5% with 20 of 40 and 30 of 60, but 5.0% with 50 of 100; the wild
    bootstrap 3.7%, 5.9% and 5.2% in the first three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact.exceptions import DesignError, EstimationError, InferenceWarning, warn
from impact.inference.absorbed import AbsorbedEffects, absorb_for_inference
from impact.inference.cluster import cluster_robust
from impact.inference.comparison import (
    coefficient_scale,
    one_cluster_message,
    treated_clusters,
    undefined_comparison,
)
from impact.inference.design import RegressionDesign, transform_design
from impact.inference.panel_covariance import (
    PANEL_METHODS,
    few_periods_warning,
    panel_covariance,
)
from impact.inference.randomization import randomization_test
from impact.inference.regression import (
    RegressionFit,
    _codes,
    _nested,
    _within,
    demean,
)
from impact.inference.wald import (
    undefined_se,
    wald_row,
)
from impact.inference.wild import wild_cluster_bootstrap

__all__ = [
    "INFERENCE_METHODS",
    "MIN_CLUSTERS",
    "PANEL_INFERENCE_METHODS",
    "CoefficientInference",
    "RegressionDesign",
    "infer_coefficient",
    "transform_design",
]

Method = Literal[
    "auto", "cr1", "cr2", "cr3", "wild", "randomization", "hc1", "iid", "twoway", "driscoll_kraay"
]
INFERENCE_METHODS: tuple[str, ...] = (
    "auto",
    "cr1",
    "cr2",
    "cr3",
    "wild",
    "randomization",
    "hc1",
    "iid",
)
# the methods of panel regressions with period effects (difference-in-differences,
# event study): the above, and the covariances robust to shocks shared within a period
PANEL_INFERENCE_METHODS: tuple[str, ...] = (*INFERENCE_METHODS, *PANEL_METHODS)
MIN_CLUSTERS = 12
MAX_SIZE_CV = 0.5
MANY_CLUSTERS = 50


@dataclass(frozen=True)
class CoefficientInference:
    """Inference on one coefficient, and how it was obtained.

    Attributes
    ----------
    term : str
        Name of the coefficient.
    estimate, std_error, ci_lower, ci_upper, p_value : float
        The statistics of the effects table.
    df : float
        Degrees of freedom of the t reference distribution (``nan`` for the
        bootstrap and randomization methods).
    method : str
        Method used (``"auto"`` resolved).
    reason : str
        Why that method was used.
    n_treated_clusters, n_control_clusters : int or None
        Clusters where the coefficient's regressor is non-zero somewhere, and the others.
    fit : RegressionFit
        The regression (covariance of every coefficient under ``cov_method``).
    cov_method : str
        Covariance in ``fit`` (``cr1`` for the resampling methods).
    details : dict
        Method-specific settings (draws, weights, enumeration, seed...).
    """

    term: str
    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float
    df: float
    method: str
    reason: str
    n_treated_clusters: int | None
    n_control_clusters: int | None
    fit: RegressionFit
    cov_method: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_settings(self) -> dict[str, Any]:
        """The record of the inference for a result's ``settings``."""
        return {
            "inference_used": self.method,
            "inference_reason": self.reason,
            "n_treated_clusters": self.n_treated_clusters,
            "n_control_clusters": self.n_control_clusters,
            **{f"inference_{k}": v for k, v in self.details.items()},
        }


def choose_method(
    method: str,
    n_treated: int | None,
    n_control: int | None,
    min_clusters: int = MIN_CLUSTERS,
    size_cv: float = 0.0,
    max_size_cv: float = MAX_SIZE_CV,
    many_clusters: int = MANY_CLUSTERS,
) -> tuple[str, str, str | None]:
    """Resolve ``"auto"`` from the clusters: ``(method, reason, warning or None)``.

    CR1 needs at least ``min_clusters`` treated and as many control clusters, and,
    unless both sides have ``many_clusters``, cluster sizes that are not very unequal
    (coefficient of variation of rows per cluster at most ``max_size_cv``).

    Examples
    --------
    >>> choose_method("auto", 20, 20)[0], choose_method("auto", 5, 20)[0]
    ('cr1', 'wild')
    >>> choose_method("auto", 20, 20, size_cv=1.0)[0]
    'wild'
    """
    if method != "auto":
        return method, "requested", None
    if n_treated is None or n_control is None:
        return "cr1", "auto: cluster counts unknown, CR1", None
    counts = f"{n_treated} treated and {n_control} control clusters"
    if min(n_treated, n_control) < min_clusters:
        return (
            "wild",
            f"auto: {counts} (fewer than {min_clusters} on one side): wild cluster "
            "restricted bootstrap",
            f"only {counts}: cluster-robust (CR1) standard errors over-reject with fewer "
            f"than {min_clusters} on either side, so p-values and intervals come from the "
            "wild cluster restricted bootstrap (pass inference='cr1' to override)",
        )
    if size_cv > max_size_cv and min(n_treated, n_control) < many_clusters:
        return (
            "wild",
            f"auto: {counts} of very unequal sizes (coefficient of variation "
            f"{size_cv:.2f} > {max_size_cv}): wild cluster restricted bootstrap",
            f"{counts} of very unequal sizes (coefficient of variation of rows per cluster "
            f"{size_cv:.2f}): CR1 standard errors over-reject with fewer than "
            f"{many_clusters} clusters on a side, so p-values and intervals come from the "
            "wild cluster restricted bootstrap (pass inference='cr1' to override)",
        )
    return "cr1", f"auto: {counts} (at least {min_clusters} on each side): CR1", None


def infer_coefficient(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    *,
    unit_codes: np.ndarray,
    cluster_codes: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    term: str | None = None,
    method: Method = "auto",
    alpha: float = 0.05,
    seed: int | np.random.Generator | None = None,
    draws: int = 9999,
    bootstrap_weights: Literal["auto", "rademacher", "webb"] = "auto",
    df_method: Literal["satterthwaite", "imbens-kolesar"] = "satterthwaite",
    exposure: np.ndarray | None = None,
    small_sample: Literal["nested", "full"] = "nested",
    min_clusters: int = MIN_CLUSTERS,
    warn_few_clusters: bool = True,
    time_codes: np.ndarray | None = None,
    absorb: AbsorbedEffects | None = None,
) -> CoefficientInference:
    """Estimate a fixed-effects regression and make inference on one coefficient.

    Parameters
    ----------
    y, X, names, unit_codes, cluster_codes, weights, small_sample
        As for :func:`~impact.inference.regression.within_regression` (unit effects
        absorbed; clusters default to units and must contain whole units for the
        CR2/CR3, wild and randomization methods). Rows of zero weight are left out
        first: clusters, units and observations count only rows of positive weight.
    term : str, optional
        The coefficient of interest; the first column by default.
    method : {"auto", "cr1", "cr2", "cr3", "wild", "randomization", "hc1", "iid", \
"twoway", "driscoll_kraay"}
        See the module docstring.
    alpha : float
        Intervals have coverage ``1 - alpha``.
    seed : int, Generator or None
        Randomness of the bootstrap and randomization draws.
    draws : int
        Bootstrap samples or re-assignments (enumeration replaces them when it needs
        no more).
    bootstrap_weights : {"auto", "rademacher", "webb"}
        Wild bootstrap weights; ``"auto"``: Webb's six-point weights below 12
        clusters, Rademacher otherwise (see :mod:`impact.inference.wild`). The
        weights used are recorded as ``details["weights"]``.
    df_method : {"satterthwaite", "imbens-kolesar"}
        Degrees of freedom for CR2/CR3.
    exposure : ndarray, optional
        For ``"randomization"``: the value the regressor of interest takes in each row
        when its cluster is treated (e.g. the post-adoption indicator).
    min_clusters : int
        Fewest treated (and control) clusters for which ``"auto"`` may use CR1.
    warn_few_clusters : bool
        Issue the :class:`~impact.exceptions.InferenceWarning` when ``"auto"`` falls
        back on the bootstrap, when ``"cr2"``/``"cr3"`` meet a single treated cluster
        (its leverage is 1, the bias-reduction adjustment drops it, and the finite
        standard error misses its variation), or when ``"twoway"``/``"driscoll_kraay"``
        rest on fewer than ``min_clusters`` periods.
    time_codes : ndarray, optional
        Period of each row (integers in time order), needed by ``"twoway"`` and
        ``"driscoll_kraay"``.
    absorb : AbsorbedEffects, optional
        Fixed effects absorbed with the unit effects (``X`` then holds no period
        dummies), see :mod:`impact.inference.absorbed`.

    Returns
    -------
    CoefficientInference

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> unit = np.repeat(np.arange(30), 2)
    >>> post = np.tile([0.0, 1.0], 30)
    >>> d = post * (unit < 6)
    >>> y = rng.normal(size=30)[unit] + post + 1.0 * d + rng.normal(0, 0.5, 60)
    >>> out = infer_coefficient(y, np.column_stack([d, post]), ["att", "post"],
    ...                         unit_codes=unit, method="cr2")
    >>> out.method, round(out.df, 1) < 29
    ('cr2', True)
    """
    names = list(names)
    term = names[0] if term is None else term
    if term not in names:
        raise ValueError(f"term {term!r} is not one of the regressors {names}")
    j = names.index(term)
    if j != 0:
        order = [j, *[i for i in range(len(names)) if i != j]]
        X = np.asarray(X, dtype=float).reshape(len(y), -1)[:, order]
        names = [names[i] for i in order]
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    y = np.asarray(y, dtype=float)
    unit_codes = np.asarray(unit_codes)
    if weights is not None and not (np.asarray(weights) > 0).all():
        # rows of zero weight carry no information: the clusters counted (and "auto"'s
        # choice), the bootstrap and the regression see only rows of positive weight
        positive = np.asarray(weights) > 0
        if not positive.any():
            raise EstimationError("every row has zero weight: there is nothing to fit")
        y, X, weights = y[positive], X[positive], np.asarray(weights, dtype=float)[positive]
        unit_codes = _codes(unit_codes[positive])[0]
        cluster_codes = None if cluster_codes is None else np.asarray(cluster_codes)[positive]
        exposure = None if exposure is None else np.asarray(exposure)[positive]
        time_codes = None if time_codes is None else np.asarray(time_codes)[positive]
        absorb = None if absorb is None else absorb.take(positive)
    clusters = unit_codes if cluster_codes is None else np.asarray(cluster_codes)
    cluster_index, n_groups = _codes(clusters)  # as np.unique's inverse, faster for codes
    n_treated, n_control = treated_clusters(X[:, 0], cluster_index, n_groups)
    sizes = np.bincount(cluster_index, minlength=n_groups)
    # clusters of equal sizes (a balanced panel): np.std gives exactly 0
    size_cv = 0.0 if sizes.min() == sizes.max() else float(np.std(sizes) / np.mean(sizes))
    used, reason, message = choose_method(
        method, n_treated, n_control, min_clusters, size_cv, MAX_SIZE_CV, MANY_CLUSTERS
    )
    if used in PANEL_METHODS:
        if time_codes is None:
            raise ValueError(f"inference={used!r} needs the period of each row (time_codes)")
        n_periods = _codes(np.asarray(time_codes))[1]
        message = few_periods_warning(used, n_periods, min_clusters)
        if message is not None:
            reason = f"requested, with only {n_periods} periods"
    nested = _nested(unit_codes, clusters)
    if method == "auto" and used == "wild" and not nested:
        used, reason = (
            "cr1",
            reason.replace(
                "wild cluster restricted bootstrap",
                "CR1, because units span several clusters and the bootstrap needs them nested",
            ),
        )
        message = (
            f"only {n_treated} treated and {n_control} control clusters: CR1 standard "
            "errors may be too small, and the wild bootstrap is unavailable because some "
            "units span several clusters"
        )
    if message is not None and warn_few_clusters:
        warn(message, InferenceWarning)
    if used in ("cr2", "cr3") and n_treated == 1 and n_control > 1 and warn_few_clusters:
        # (a single control cluster leaves no interval at all: see undefined_comparison)
        warn(one_cluster_message(used, term, n_treated, n_control), InferenceWarning)
    if used in ("cr2", "cr3", "wild", "randomization") and not nested:
        raise DesignError(
            f"inference={used!r} needs every unit inside one cluster (the unit effects are "
            "absorbed within clusters), but some units span several clusters; cluster by "
            "unit or by a coarser grouping, or use inference='cr1'"
        )
    base = used if used in ("cr1", "hc1", "iid") else "cr1"
    if used in PANEL_METHODS:  # the unit effects need not nest in the clusters here
        base = "cr1"
    fe_params = twoway_params = None
    raw_y, raw_d = y, X[:, 0]  # the data as given: scale and comparison checks read them
    if absorb is not None:
        y, X, fe_params, twoway_params = absorb_for_inference(
            y, X, names, method=used, nested=base == "cr1" and small_sample == "nested",
            unit_codes=unit_codes, clusters=clusters, time_codes=time_codes,
            effects=absorb, weights=weights,
        )  # fmt: skip
    # within_regression, with the cluster codes and nesting computed above
    known = (clusters, cluster_index, n_groups, nested) if base == "cr1" else None
    fit = _within(y, X, names, unit_codes, known, weights, base, small_sample, 1, None, fe_params)
    estimate = fit.coefficient(term)
    se_scale = coefficient_scale(raw_y, raw_d)  # see impact.inference.wald
    undefined = undefined_comparison(
        raw_y, raw_d, unit_codes, cluster_index, n_groups, clustered=used not in ("hc1", "iid")
    )
    details: dict[str, Any] = {}
    if used in ("cr1", "hc1", "iid"):
        se = fit.std_error(term)
        df = fit.df_inference
        se, lower, upper, p = wald_row(
            estimate, se, df, alpha, scale=se_scale, term=term, undefined=undefined
        )
        return CoefficientInference(
            term, estimate, se, lower, upper, p, df, used, reason,
            n_treated, n_control, fit, base, details,
        )  # fmt: skip

    design = RegressionDesign(y, X, tuple(names), unit_codes, clusters, weights, exposure, term)
    kept = fit.names
    yd, Xd, scale = transform_design(design, kept)
    if used in PANEL_METHODS:
        slopes = [i for i, n in enumerate(kept) if not str(n).startswith("period[")]
        robust = panel_covariance(
            Xd,
            yd - Xd @ fit._values,
            cluster_codes=clusters,
            time_codes=time_codes,
            kind=used,
            of_interest=slopes,
            warn_clipped=warn_few_clusters,
            n_params=None if twoway_params is None else len(slopes) + twoway_params,
        )
        fit = RegressionFit._from_arrays(
            fit._values,
            robust.cov,
            kept,
            df_inference=robust.df,
            n_obs=fit.n_obs,
            # K of the two-way small-sample factor; Driscoll-Kraay makes no correction
            n_params=(len(slopes) + (twoway_params or 1)) if used == "twoway" else 0,
            n_clusters=fit.n_clusters,
            dropped=fit.dropped,
        )
        se, lower, upper, p = wald_row(
            estimate, fit.std_error(term), robust.df, alpha,
            scale=se_scale, term=term, undefined=undefined,
        )  # fmt: skip
        return CoefficientInference(
            term, estimate, se, lower, upper, p, robust.df, used, reason,
            n_treated, n_control, fit, used, dict(robust.details),
        )  # fmt: skip
    if used in ("cr2", "cr3"):
        resid = yd - Xd @ fit.params.to_numpy()
        robust = cluster_robust(
            Xd,
            resid,
            clusters,
            kind=used,
            df_for=range(len(kept)),
            df_method=df_method,
            absorbed_codes=unit_codes,
            row_scale=scale,
        )
        fit = RegressionFit(
            params=fit.params,
            cov=pd.DataFrame(robust.cov, index=fit.cov.index, columns=fit.cov.columns),
            df_inference=float(robust.df[0]),
            n_obs=fit.n_obs,
            n_params=fit.n_params,
            n_clusters=fit.n_clusters,
            dropped=fit.dropped,
        )
        se = robust.std_error(0)
        df = float(robust.df[0])
        se, lower, upper, p = wald_row(
            estimate, se, df, alpha, scale=se_scale, term=term, undefined=undefined
        )
        details = {
            "df_method": df_method,
            "df_by_term": {k: float(v) for k, v in zip(fit.params.index, robust.df, strict=True)},
        }
        return CoefficientInference(
            term, estimate, se, lower, upper, p, df, used, reason,
            n_treated, n_control, fit, used, details,
        )  # fmt: skip
    se = fit.std_error(term)
    if undefined is not None or bool(undefined_se(se, se_scale)) or not fit.df_inference > 0:
        # no residual variation: the bootstrap and re-randomization would divide by
        # rounding noise (the wild bootstrap studentizes by this very standard error)
        se, lower, upper, p = wald_row(
            estimate, se, fit.df_inference, alpha, scale=se_scale, term=term, undefined=undefined
        )
        return CoefficientInference(
            term, estimate, se, lower, upper, p, float("nan"), used, reason,
            n_treated, n_control, fit, "cr1", {"undefined": True},
        )  # fmt: skip
    if used == "wild":
        boot = wild_cluster_bootstrap(
            Xd,
            yd,
            clusters,
            coef=0,
            weights=bootstrap_weights,
            draws=draws,
            seed=seed,
            alpha=alpha,
            n_params=fit.n_params,
        )
        details = {
            "draws": boot.draws,
            "weights": boot.weights,  # resolved from "auto"
            "enumerated": boot.enumerated,
            "seed": seed if isinstance(seed, int | None) else "generator",
        }
        return CoefficientInference(
            term, estimate, se, boot.ci_lower, boot.ci_upper, boot.p_value, float("nan"),
            used, reason, n_treated, n_control, fit, "cr1", details,
        )  # fmt: skip
    if used == "randomization":
        if exposure is None:
            raise ValueError("randomization inference needs the exposure of each row")
        _, codes = np.unique(clusters, return_inverse=True)
        treated = np.zeros(int(codes.max()) + 1, dtype=bool)
        treated[codes[X[:, 0] != 0]] = True

        def transform(a: np.ndarray) -> np.ndarray:
            out = demean(a, unit_codes, weights)
            return out if scale is None else out * scale[:, None]

        res = randomization_test(
            yd,
            Xd[:, 1:],
            exposure,
            clusters,
            treated,
            transform=transform,
            draws=draws,
            seed=seed,
            alpha=alpha,
        )
        details = {
            "draws": res.draws,
            "enumerated": res.enumerated,
            "seed": seed if isinstance(seed, int | None) else "generator",
        }
        return CoefficientInference(
            term, estimate, se, res.ci_lower, res.ci_upper, res.p_value, float("nan"),
            used, reason, n_treated, n_control, fit, "cr1", details,
        )  # fmt: skip
    raise ValueError(
        f"unknown inference method {method!r}; choose one of {PANEL_INFERENCE_METHODS}"
    )
