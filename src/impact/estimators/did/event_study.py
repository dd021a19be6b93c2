"""The two-way fixed effects event study (dynamic regression with leads and lags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact._distributions import chi2_sf, f_sf
from impact.estimators._base import Estimator, check_alpha, check_choice, check_inference_fields
from impact.estimators.did._absorb import Absorb, absorbed_effects, check_absorb
from impact.estimators.did.difference_in_differences import _cluster_setting
from impact.exceptions import DesignError, DesignWarning, InferenceWarning, warn
from impact.inference.absorbed import NotIdentifiedByAbsorbed
from impact.inference.coefficient import MIN_CLUSTERS, PANEL_INFERENCE_METHODS, infer_coefficient
from impact.inference.combination import infer_combinations
from impact.inference.panel_covariance import PANEL_METHODS
from impact.inference.regression import within_regression
from impact.panel._checks import show
from impact.registry import register
from impact.result import ImpactResult, effect_row
from impact.terms import event_term

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["EventStudy"]

_METHODS = tuple(m for m in PANEL_INFERENCE_METHODS if m != "randomization")


@register("event_study")
@dataclass(frozen=True, kw_only=True)
class EventStudy(Estimator):
    """Two-way fixed effects event study: leads and lags of adoption.

    Fits ``y_it = a_i + l_t + sum_e b_e 1{t - g_i = e} + X_it c + e_it`` by least
    squares, with unit effects ``a_i`` absorbed by demeaning, period effects ``l_t``
    and one indicator per event time ``e`` (periods since the unit's adoption ``g_i``)
    except the reference period. Never-treated units have no event-time indicators.
    Standard errors are cluster-robust, with the few-clusters safeguards of
    :class:`~impact.estimators.DifferenceInDifferences` (see ``inference``).

    When is it biased? The coefficients ``b_e`` are unbiased for the average effect
    ``e`` periods after adoption only if that effect is the same in every cohort.
    With staggered adoption and effects that differ across cohorts, each ``b_e`` is a
    weighted mix of effects at *other* event times and of other cohorts, with weights
    that can be negative (Sun and Abraham 2021): already-treated units serve as
    comparisons, and even the leads can show spurious pre-trends. Binning the
    endpoints also assumes the effect is constant beyond them. Use
    :class:`~impact.estimators.StaggeredDiD` and its ``aggregate("dynamic")`` for
    heterogeneity-robust event-study estimates; this estimator remains useful as
    the conventional benchmark and with a single adoption date.

    Parameters
    ----------
    leads, lags : int, optional
        Event times kept separately: ``-leads`` to ``lags``. With ``bin_endpoints``
        (the default) earlier and later event times are pooled into the endpoint
        indicators; otherwise those observations are dropped. ``None`` keeps every
        observed event time.
    reference : int, default -1
        Event time whose indicator is omitted (the normalisation ``b_ref = 0``).
    bin_endpoints : bool, default True
        Pool event times beyond ``-leads`` and ``lags`` into the endpoints.
    inference : {"auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid", "twoway", \
"driscoll_kraay"}, default "auto"
        As for :class:`~impact.estimators.DifferenceInDifferences`, applied to every
        event-time coefficient and to the ``att`` (each gets its own CR2/CR3
        Satterthwaite degrees of freedom or its own restricted wild bootstrap; the
        ``att`` is made a coefficient by re-parametrizing the regressors, see
        :mod:`impact.inference.combination`). ``"auto"`` decides from the clusters
        with a post-adoption observation of a treated unit and the others: CR1 with at
        least ``min_clusters`` of each and similar cluster sizes, else the wild cluster
        restricted bootstrap with an :class:`~impact.exceptions.InferenceWarning`.
        ``"randomization"`` is not offered: re-assigning adoption would change every
        event-time regressor, not only the one tested (use the difference-in-differences
        estimator). ``"twoway"`` and ``"driscoll_kraay"`` (errors correlated across
        units within a period) give every event-time coefficient, the ``att`` and the
        pre-trend test the same covariance. ``settings["inference_used"]`` and
        ``settings["inference_reason"]`` record the choice.
    small_sample : {"nested", "full"}, default "nested"
        CR1 small-sample correction, as for the difference-in-differences estimator.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    min_clusters : int, default 12
        Fewest treated (and control) clusters for which ``inference="auto"`` uses CR1.
    draws : int, default 9999
        Wild bootstrap samples (all sign vectors are enumerated when fewer).
    bootstrap_weights : {"auto", "rademacher", "webb"}, default "auto"
        Wild bootstrap weights. ``"auto"``: Webb's six-point weights below 12
        clusters (with ``G`` clusters Rademacher p-values cannot fall below
        ``2/2^G``, so intervals come out unbounded), Rademacher from 12 on, every
        sign vector enumerated when ``2^G`` is at most ``draws``.
        ``settings["inference_weights"]`` records the weights used.
    df_method : {"satterthwaite", "imbens-kolesar"}, default "satterthwaite"
        Degrees of freedom for ``"cr2"``/``"cr3"``.
    seed : int, Generator or None, default 0
        Randomness of the bootstrap (the same seed for each coefficient).
    absorb : tuple, default ()
        Further fixed effects absorbed besides the unit and period effects, as for
        :class:`~impact.estimators.DifferenceInDifferences`: Panel columns (carried
        with ``Panel.from_frame(..., fixed_effects=[...])``) or tuples of columns for
        interactions. An event-time term that they explain raises a
        :class:`DesignError` naming them. Not with ``inference="cr2"`` or ``"cr3"``.

    Notes
    -----
    ``effects`` holds one row per event time (``term`` like ``"e=2"``, with
    the reference period as a zero row with a missing standard error) and the
    overall ``att``: the average of the post-adoption coefficients (event times
    ``0`` to ``lags``). ``diagnostics["pretrend_test"]`` is the joint Wald (F) test
    that all lead coefficients are zero: it uses the CR2 (or CR3) covariance with
    ``inference="cr2"`` (``"cr3"``), the HC1 or conventional one with ``"hc1"`` or
    ``"iid"``, the two-way clustered or Driscoll-Kraay one with ``"twoway"`` or
    ``"driscoll_kraay"``, and the CR1 covariance otherwise (including with the wild bootstrap,
    which tests one coefficient at a time); its ``covariance`` column says which.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    >>> df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    >>> df["y"] = df.u + df.t + 2.0 * df.d + rng.normal(0, 0.01, len(df))
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    >>> result = impact.EventStudy().fit(panel)
    >>> round(result.att.estimate, 2)
    2.0
    """

    leads: int | None = None
    lags: int | None = None
    reference: int = -1
    bin_endpoints: bool = True
    inference: Literal[
        "auto", "cr1", "cr2", "cr3", "wild", "hc1", "iid", "twoway", "driscoll_kraay"
    ] = "auto"
    small_sample: Literal["nested", "full"] = "nested"
    alpha: float = ALPHA
    min_clusters: int = MIN_CLUSTERS
    draws: int = 9999
    bootstrap_weights: Literal["auto", "rademacher", "webb"] = "auto"
    df_method: Literal["satterthwaite", "imbens-kolesar"] = "satterthwaite"
    seed: int | np.random.Generator | None = 0
    absorb: Absorb = ()

    def __post_init__(self) -> None:
        check_inference_fields(self, _METHODS)
        object.__setattr__(self, "absorb", check_absorb(self.absorb, self.inference))
        check_choice("small_sample", self.small_sample, ("nested", "full"))
        check_alpha(self.alpha)
        for name in ("leads", "lags"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | np.integer) or value < 0):
                raise DesignError(f"{name}={value!r} must be a non-negative integer or None")
        if not isinstance(self.reference, int | np.integer) or self.reference >= 0:
            raise DesignError(
                f"reference={self.reference!r} must be a negative event time (e.g. -1)"
            )
        if self.leads is not None and -self.leads > self.reference:
            raise DesignError(
                f"reference={self.reference} lies outside the leads kept (leads={self.leads})"
            )

    def fit(self, panel: Panel) -> ImpactResult:
        """Fit the event-study regression on ``panel``.

        Parameters
        ----------
        panel : Panel
            Panel or repeated cross-section with absorbing treatment.

        Returns
        -------
        ImpactResult
            One row per event time plus the overall ``att``; the joint pre-trend test
            in ``diagnostics["pretrend_test"]``.

        Raises
        ------
        DesignError
            For a cross-section, no treated units, or event-time terms that the unit
            and period effects already explain: with no never-treated units the fully
            dynamic specification needs a second normalisation (bin the endpoints with
            ``leads``/``lags``), and periods holding only already-treated units have
            no comparison.
        """
        if panel.is_cross_section:
            raise DesignError("an event study needs several periods; the Panel holds one")
        if len(panel.treated_units) == 0:
            raise DesignError(f"no unit is ever treated in {panel.treated!r}; nothing to estimate")
        frame = panel.view()
        periods = panel.periods.to_numpy()
        tpos = np.searchsorted(periods, frame[panel.time].to_numpy())
        cohort = frame[panel.unit].map(panel.cohort_view()).to_numpy()
        treated_unit = ~pd.isna(cohort)
        gpos = np.full(len(frame), -1)
        gpos[treated_unit] = np.searchsorted(periods, cohort[treated_unit])
        event = np.where(treated_unit, tpos - gpos, 0)
        lo = int(event[treated_unit].min()) if self.leads is None else -int(self.leads)
        hi = int(event[treated_unit].max()) if self.lags is None else int(self.lags)
        keep = np.ones(len(frame), dtype=bool)
        binned = event.copy()
        if self.bin_endpoints:
            binned = np.clip(event, lo, hi)
        else:
            keep = ~treated_unit | ((event >= lo) & (event <= hi))
        # the observed event times in [lo, hi] (never a list of the whole range: leads
        # and lags may far exceed the periods observed)
        present = np.unique(binned[treated_unit & keep]).tolist()
        levels = [e for e in present if lo <= e <= hi and e != self.reference]
        if not any(e >= 0 for e in levels):
            raise DesignError("no post-adoption event time is observed; nothing to estimate")
        rows = np.flatnonzero(keep)
        sub_event, sub_treated = binned[rows], treated_unit[rows]
        names = [event_term(e) for e in levels]
        D = np.column_stack([(sub_treated & (sub_event == e)).astype(float) for e in levels])
        period_codes = tpos[rows]
        n_periods = 1 if self.absorb else int(period_codes.max()) + 1  # else: absorbed
        absorbed = (
            absorbed_effects(panel, self.absorb, period_codes, rows=rows) if self.absorb else None
        )
        dummies = np.zeros((len(rows), n_periods - 1))
        later = (period_codes > 0) & (n_periods > 1)
        dummies[np.flatnonzero(later), period_codes[later] - 1] = 1.0
        covariates = panel.covariate_matrix().to_numpy(dtype=float)[rows]
        X = np.column_stack([D, covariates, dummies])
        all_names = [
            *names,
            *panel.covariate_matrix().columns,
            *(f"period[{periods[p]}]" for p in range(1, n_periods)),
        ]
        unit_codes = pd.factorize(frame[panel.unit].to_numpy()[rows], sort=True)[0]
        cluster_codes = (
            pd.factorize(frame[panel.cluster].to_numpy()[rows], sort=True)[0]
            if panel.cluster
            else unit_codes
        )
        weights = frame[panel.weights].to_numpy(dtype=float)[rows] if panel.weights else None
        y = frame[panel.outcome].to_numpy(dtype=float)[rows]
        probe_method = self.inference if self.inference in ("hc1", "iid") else "cr1"
        # periods in which every observed unit is already treated: no comparison there
        # (rows of zero weight are absent from the weighted regression: not counted)
        counted = np.ones(len(rows)) if weights is None else (weights > 0).astype(float)
        already = (treated_unit & (event >= 0))[rows].astype(float) * counted
        counts = np.bincount(tpos[rows], counted, len(periods))
        treated_only = [
            periods[p]
            for p in np.flatnonzero(
                (counts > 0) & (counts == np.bincount(tpos[rows], already, len(periods)))
            )
        ]
        has_never = bool((~treated_unit[rows] & (counted > 0)).any())
        try:  # every event-time term must be identified, checked after the others
            probe = within_regression(
                y,
                X,
                all_names,
                unit_codes=unit_codes,
                cluster_codes=cluster_codes,
                weights=weights,
                inference=probe_method,
                small_sample=self.small_sample,
                keep_first=len(names),
                absorb=absorbed,
            )
        except NotIdentifiedByAbsorbed:
            raise
        except DesignError as err:
            raise DesignError(
                _not_identified(
                    treated_only,
                    has_never=has_never,
                    reference=self.reference,
                    weighted=weights is not None and not bool((weights > 0).all()),
                )
            ) from err
        if treated_only:
            warn(
                f"period(s) {show(treated_only)} of {panel.time!r} hold only units already "
                "treated: their period effects, and the event-time coefficients there, are "
                "identified only by assuming the effect at each event time is the same in "
                "every cohort"
                + ("" if has_never else " and by the binned endpoints")
                + "; trim the panel to periods with a comparison, or use staggered_did",
                DesignWarning,
            )
        estimated = [n for n in names if n in probe.params.index]
        post = [n for n in estimated if int(n.split("=")[1]) >= 0]
        kept = list(probe.params.index)
        Xk = X[:, [all_names.index(n) for n in kept]]
        combos = {"att": {n: 1.0 / len(post) for n in post}}
        combos.update({n: {n: 1.0} for n in estimated})
        common = {
            "unit_codes": unit_codes,
            "cluster_codes": cluster_codes,
            "weights": weights,
            "alpha": self.alpha,
            "seed": self.seed,
            "draws": self.draws,
            "bootstrap_weights": self.bootstrap_weights,
            "df_method": self.df_method,
            "small_sample": self.small_sample,
            "min_clusters": self.min_clusters,
            "time_codes": period_codes,
            "absorb": absorbed,
        }
        inferred = infer_combinations(y, Xk, kept, combos, method=self.inference, **common)
        head = inferred["att"]
        used = head.method
        records = []
        shown = {*levels, *([self.reference] if lo <= self.reference <= hi else [])}
        for e in sorted(shown):  # event times in [lo, hi] in order, not the whole range
            name = event_term(e)
            if e == self.reference:
                # the reference period: zero by construction, without an interval
                record = effect_row(name, 0.0, float("nan"), alpha=self.alpha, announce=False)
            elif name in estimated:
                record = _row(inferred[name])
            else:
                continue
            record["event_time"] = e
            record["binned"] = bool(
                self.bin_endpoints
                and ((e == lo and self.leads is not None) or (e == hi and self.lags is not None))
            )
            records.append(record)
        records.append(_row(head))
        if used in ("cr2", "cr3"):
            cov_fit = infer_coefficient(
                y, Xk, kept, term=kept[0], method=used, **{**common, "warn_few_clusters": False}
            ).fit
            cov_label, pretrend_df = used, float(probe.n_clusters - 1)
        elif used in PANEL_METHODS:  # the covariance every coefficient was given
            cov_fit = inferred[estimated[0]].fit
            cov_label, pretrend_df = used, cov_fit.df_inference
        else:
            cov_fit = probe
            cov_label, pretrend_df = probe_method, probe.df_inference
        fit = probe
        settings = {
            **self.get_params(),
            "event_window": (lo, hi),
            "cluster": _cluster_setting(panel, used),
            "df_inference": head.df,
            **head.to_settings(),
            "dropped_terms": fit.dropped,
        }
        pretrend = _pretrend(cov_fit, estimated, pretrend_df)
        pretrend["covariance"] = cov_label
        return ImpactResult(
            estimator=self.name,
            effects=pd.DataFrame(records),
            settings=settings,
            diagnostics={
                "pretrend_test": pretrend,
                "event_covariance": _covariance_table(cov_fit, estimated, cov_label),
            },
            n_obs=fit.n_obs,
            n_units=len(np.unique(unit_codes if weights is None else unit_codes[weights > 0])),
            n_clusters=fit.n_clusters,
        )


def _not_identified(
    treated_only: list, *, has_never: bool, reference: int, weighted: bool = False
) -> str:
    """Why the event-time terms are not identified, and what to do about it."""
    note = " (rows of zero weight not counted)" if weighted else ""
    where = (
        f" (period(s) {show(treated_only)} hold only units already treated{note})"
        if treated_only
        else ""
    )
    if not has_never:
        why = (
            f"no unit is never treated{where}, so the unit and period effects absorb a "
            "linear trend in event time: as in fixest, the dynamic specification is "
            f"identified only if a second event time is normalised besides reference={reference}"
        )
    else:
        why = "they are collinear with the unit and period effects or the covariates" + (
            f": period(s) {show(treated_only)} hold no never-treated or not-yet-treated "
            f"unit to compare with{note}"
            if treated_only
            else ""
        )
    return (
        f"the event-time terms are not identified: {why}. Bin the endpoints (leads and "
        "lags below the observed range with bin_endpoints=True), trim the panel to "
        "periods in which some unit is not yet treated, add never-treated units, or use "
        "staggered_did with control='not_yet_treated'"
    )


def _row(inference) -> dict:
    """The effects-table row of one coefficient's inference."""
    return {
        "term": inference.term,
        "estimate": inference.estimate,
        "std_error": inference.std_error,
        "ci_lower": inference.ci_lower,
        "ci_upper": inference.ci_upper,
        "p_value": inference.p_value,
    }


def _covariance_table(fit, estimated: list[str], label: str) -> pd.DataFrame:
    """Covariance of the event-time coefficients (the pre-trend test's), one row per term."""
    table = pd.DataFrame(fit.cov.loc[estimated, estimated].to_numpy(), columns=estimated)
    table.insert(0, "term", estimated)
    table["covariance"] = label
    return table


def _pretrend(fit, estimated: list[str], df: float) -> pd.DataFrame:
    """Joint Wald F-test that every lead coefficient is zero."""
    leads = [n for n in estimated if int(n.split("=")[1]) < 0]
    out = {"statistic": np.nan, "df": len(leads), "df_denominator": df, "p_value": np.nan}
    if leads:
        at = [fit._names.index(n) for n in leads]  # the fit's arrays, not its labelled frames
        b = fit._values[at]
        v = fit._cov_values[np.ix_(at, at)]
        rank = int(np.linalg.matrix_rank(v)) if np.isfinite(v).all() else 0
        if rank == 0:
            warn("the leads' covariance is zero or undefined: no pre-trend test", InferenceWarning)
            return pd.DataFrame([out])
        if rank < len(leads):  # test the combinations the data identify, as Stata does
            warn(
                f"the covariance of the {len(leads)} leads has rank {rank}: the pre-trend "
                f"test has {rank} degrees of freedom",
                InferenceWarning,
            )
            wald = float(b @ np.linalg.pinv(v, hermitian=True) @ b)
        else:
            wald = float(b @ np.linalg.solve(v, b))
        f_stat = wald / rank
        out.update(statistic=f_stat, df=rank)
        out["p_value"] = float(f_sf(f_stat, rank, df) if np.isfinite(df) else chi2_sf(wald, rank))
    return pd.DataFrame([out])
