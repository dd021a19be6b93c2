"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens and Wager 2021)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from impact._defaults import ALPHA
from impact._threads import single_blas_thread
from impact.estimators._base import Estimator, check_alpha, check_choice
from impact.estimators.synthetic._sdid_core import METHODS, Block, fit_block, solver_options
from impact.estimators.synthetic._sdid_data import prepare
from impact.estimators.synthetic._sdid_result import assemble
from impact.estimators.synthetic._sdid_variance import CohortFit, bootstrap, jackknife, placebo
from impact.exceptions import DesignError
from impact.inference import ZERO_SE_RTOL, outcome_scale
from impact.registry import register

if TYPE_CHECKING:
    from impact import ImpactResult, Panel

__all__ = ["SyntheticDiD"]


def _constant_comparison(y_controls: np.ndarray, y_raw: np.ndarray) -> str | None:
    """Why no standard error can be had when no comparison unit's outcome ever varies.

    As everywhere in the package (see :mod:`impact.inference.wald`): a comparison whose
    outcome is constant within every unit (up to rounding relative to the outcome's
    spread) says nothing about how outcomes move by chance; every replicate would
    reflect the treated units alone, or nothing.
    """
    spread = (y_controls.max(axis=1) - y_controls.min(axis=1)).max()
    if spread > ZERO_SE_RTOL * outcome_scale(y_raw):
        return None
    return (
        "the outcome does not vary within any of the comparison (never-treated) units, "
        "so nothing measures how outcomes move by chance"
    )


SE_METHODS = ("auto", "placebo", "bootstrap", "jackknife")


@register("synthetic_did")
@dataclass(frozen=True, kw_only=True)
class SyntheticDiD(Estimator):
    """Synthetic difference-in-differences, synthetic control and DiD on one footing.

    The effect on the treated units is a weighted difference-in-differences:
    ``tau = (Y_tr,post - sum_t lambda_t Y_tr,t) - sum_i omega_i (Y_i,post - sum_t lambda_t Y_i,t)``
    with unit weights ``omega`` on the never-treated units, chosen so that their
    weighted pre-period path runs parallel to the treated units' (up to a constant), and
    time weights ``lambda`` on the pre-periods, chosen so that the weighted pre-period
    outcomes of the comparison units predict their post-period mean (Arkhangelsky et al.
    2021, Algorithm 1). The weights are those of R ``synthdid`` (version 0.0.9) with its
    defaults: the unit weights penalised by ``zeta = (N_tr T_post)^(1/4) sigma``
    (``sigma``: the standard deviation of the controls' period-to-period changes before
    adoption), the time weights by ``1e-6 sigma``, both with an intercept, found by
    Frank-Wolfe with the same sparsification step and stopping rule, so that the
    estimates agree with ``synthdid`` (California's Proposition 99: -15.60383).

    Parameters
    ----------
    method : {"sdid", "sc", "did"}, default "sdid"
        ``"sdid"``: synthetic DiD (R ``synthdid_estimate``). ``"sc"``: the synthetic
        control of ``synthdid``'s ``sc_estimate`` (unit weights without intercept and
        with a negligible penalty ``1e-6 sigma``, no time weights: the post-period gap
        between the treated units and their synthetic control). ``"did"``: uniform unit
        and time weights (``did_estimate``, the textbook difference-in-differences).
    se_method : {"auto", "placebo", "bootstrap", "jackknife"}, default "auto"
        How the standard error is estimated (R ``vcov(method=)``; see
        :mod:`impact.estimators.synthetic._sdid_variance`). ``"placebo"`` re-runs the
        estimator with never-treated units in the treated units' place: it is the only
        method defined with a single treated unit, and needs more never-treated than
        treated units; it assumes the treated units' noise resembles the controls'.
        ``"bootstrap"`` resamples units and ``"jackknife"`` leaves each out (weights
        fixed, fast); both need several treated units to mean anything, and the
        jackknife is undefined with a single treated unit (and conservative for
        ``method="sc"``). ``"auto"`` chooses ``"placebo"`` when the never-treated units
        outnumber the treated ones, otherwise the ``"jackknife"`` (then at least two
        units are treated); ``settings["se_method_used"]`` and
        ``settings["se_method_reason"]`` record the choice. Intervals are normal
        (``estimate +- z se``), as in ``synthdid``.
    replications : int, default 200
        Placebo or bootstrap replications (ignored by the jackknife).
    covariates : {"projected", "ignore"}, default "projected"
        Time-varying covariates of the Panel: ``"projected"`` (Kranz 2022; Stata
        ``sdid``'s ``projected``) regresses the outcome on them with unit and period
        effects in the untreated cells and runs the estimator on the outcome net of
        ``X beta``; ``"ignore"`` leaves them out.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    seed : int, Generator or None, default 0
        Randomness of the placebo and bootstrap draws.

    Notes
    -----
    Staggered adoption is handled as Clarke, Pailanir, Athey and Imbens (2023, Stata
    ``sdid``): one estimate per adoption cohort against the never-treated units (its
    pre-periods are those before it adopts), and the overall effect is their average
    weighted by treated unit-periods (``N_cohort x T_post,cohort``);
    ``diagnostics["cohorts"]`` lists them. The panel must be balanced; rows of several
    individuals per unit-period are averaged into the cell.

    A treated unit far outside the range of the comparisons cannot be reproduced by
    their weighted average: a :class:`~impact.exceptions.DesignWarning` reports the
    pre-period root mean squared prediction error relative to the outcome's spread
    when it exceeds 0.25 (``diagnostics["fit"]``).

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(impact.Scenario(n_units=30, n_periods=10,
    ...     treated_share=0.1, adoption_period=7, effect=2.0, noise_sd=0.1), seed=1)
    >>> result = impact.SyntheticDiD(replications=50).fit(sim.panel)
    >>> round(result.att.estimate)
    2
    """

    method: Literal["sdid", "sc", "did"] = "sdid"
    se_method: Literal["auto", "placebo", "bootstrap", "jackknife"] = "auto"
    replications: int = 200
    covariates: Literal["projected", "ignore"] = "projected"
    alpha: float = ALPHA
    seed: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        check_choice("method", self.method, METHODS)
        check_choice("se_method", self.se_method, SE_METHODS)
        check_choice("covariates", self.covariates, ("projected", "ignore"))
        check_alpha(self.alpha)
        r = self.replications
        if isinstance(r, bool) or not isinstance(r, int | np.integer) or r < 2:
            raise DesignError(f"replications={r!r} must be an integer >= 2 (e.g. 200)")

    def fit(self, panel: Panel) -> ImpactResult:
        """Estimate the effect on the treated units of ``panel``.

        Parameters
        ----------
        panel : Panel
            A balanced panel with never-treated units; treatment absorbing.

        Returns
        -------
        ImpactResult
            ``effects``: ``att`` and, with one adoption period, one row per
            post-period (``t=1989``...); ``paths``: the treated mean, its synthetic
            comparison shifted by the time-weighted pre-period gap (the
            counterfactual), the unshifted synthetic path and the time weights;
            ``diagnostics``: ``unit_weights``, ``time_weights``, ``fit`` (pre-period
            RMSPE), ``cohorts``, ``replicates`` (placebo, bootstrap or jackknife
            estimates) and ``covariates`` (projected coefficients) where used.

        Raises
        ------
        DataError
            For missing unit-period cells (named).
        DesignError
            For no never-treated or no treated unit, fewer than two pre-periods,
            treatment that switches off, sampling weights, or an ``se_method`` the
            design cannot support (placebo with as many treated as never-treated
            units, jackknife with one treated unit).
        """
        data = prepare(panel, use_covariates=self.covariates == "projected")
        # a canonical order of the units (by their outcomes): the result does not depend
        # on the units' labels nor on the order of the rows, rounding included
        order = np.lexsort(data.y.T[::-1])
        y = np.ascontiguousarray(data.y[order])
        adoption = data.adoption[order]
        controls = np.flatnonzero(adoption < 0)
        starts = np.unique(adoption[adoption >= 0])
        n_periods = y.shape[1]
        fits = []
        for start in starts:
            treated = np.flatnonzero(adoption == start)
            options = solver_options(
                y[controls, :start], len(treated), n_periods - int(start), self.method
            )
            block = Block(y, int(start), controls[None, :], treated[None, :])
            fits.append(
                CohortFit(
                    int(start),
                    treated,
                    fit_block(block, method=self.method, options=options),
                    options,
                )
            )
        used, reason = self._choose_se(len(controls), int((adoption >= 0).sum()))
        rng = np.random.default_rng(self.seed)
        undefined = _constant_comparison(y[controls], data.y_raw)
        if undefined is not None:
            reps = None
        elif used in ("placebo", "bootstrap"):
            # many small products, one BLAS thread each: threads would spin, not help
            replicate = placebo if used == "placebo" else bootstrap
            with single_blas_thread():
                reps = replicate(
                    y, controls, fits, method=self.method, replications=self.replications, rng=rng
                )
        else:
            reps = jackknife(y, controls, fits)
        settings = {
            **self.get_params(),
            "se_method_used": used,
            "se_method_reason": reason,
            "adoption_periods": [data.periods[s] for s in starts],
            "zeta_omega": [f.options.zeta_omega for f in fits],
            "zeta_lambda": [f.options.zeta_lambda for f in fits],
        }
        return assemble(
            estimator=self.name,
            panel=panel,
            data=data,
            order=order,
            y=y,
            controls=controls,
            fits=fits,
            replicates=reps,
            method=self.method,
            alpha=self.alpha,
            settings=settings,
            undefined=undefined,
        )

    def _choose_se(self, n_co: int, n_tr: int) -> tuple[str, str]:
        """The standard-error method used, and why (see ``se_method``)."""
        if self.se_method == "placebo" and n_co <= n_tr:
            raise DesignError(
                f"se_method='placebo' needs more never-treated units than treated units "
                f"({n_co} never-treated, {n_tr} treated): each placebo replaces the treated "
                "units by as many never-treated ones and still needs comparisons. Use "
                "se_method='jackknife' or 'bootstrap'"
            )
        if self.se_method == "jackknife" and n_tr < 2:
            raise DesignError(
                "se_method='jackknife' is undefined with a single treated unit (leaving it "
                "out leaves no treated unit); use se_method='placebo'"
            )
        if self.se_method != "auto":
            return self.se_method, "requested"
        if n_co > n_tr:
            return "placebo", (
                f"placebo: the {n_co} never-treated units outnumber the {n_tr} treated, so "
                "never-treated units can stand in for them; it is the only method defined "
                "with one treated unit and the recommended one with few"
            )
        return "jackknife", (
            f"jackknife: the {n_tr} treated units are at least as many as the {n_co} "
            "never-treated, so no placebo can be drawn; the fixed-weight jackknife needs "
            "at least two treated units"
        )
