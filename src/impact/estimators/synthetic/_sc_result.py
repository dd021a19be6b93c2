"""Assembling the synthetic control's :class:`~impact.ImpactResult` from its fits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.estimators.synthetic._sc_fit import UnitFit
from impact.estimators.synthetic._sc_inference import (
    PlaceboSet,
    conformal_interval,
    placebo_interval,
    placebo_standard_error,
    rank_p_value,
    rmspe_ratio,
    scale_of_noise,
)
from impact.estimators.synthetic._sc_predictors import PanelArrays, plain
from impact.exceptions import DesignWarning, InferenceWarning, warn
from impact.inference.wald import outcome_scale
from impact.result import EFFECT_COLUMNS, ImpactResult, effect_row
from impact.terms import event_term

if TYPE_CHECKING:
    from impact import Panel

__all__ = ["assemble_result", "warn_outside_hull"]

HULL_RMSPE_SHARE = 0.1
"""A treated unit outside the comparison units' range whose pre-period RMSPE exceeds
this share of the outcome's standard deviation draws a DesignWarning."""


PRE_GAP_LIMIT = 3.0
"""When the treated units' mean pre-period gap (weighted as in ``att``) is more than this
many placebo standard errors from zero, the synthetic controls miss the treated path
on average and the intervals are withheld (NaN) with an InferenceWarning. On the
conformance suite's panels (a fifth of the treated units outside the hull, misfits of
both signs) the ratio stayed below 1.3 over 40 seeds."""


def warn_outside_hull(arrays: PanelArrays, fits: list[UnitFit]) -> None:
    """Warn about treated units the comparison units cannot reproduce before adoption."""
    y = arrays.tables[arrays.outcome]
    problems = []
    for f in fits:
        pre = slice(0, f.adoption)
        donors = y[pre][:, f.donors]
        above = f.observed[pre] > donors.max(axis=1)
        below = f.observed[pre] < donors.min(axis=1)
        outside = int((above | below).sum())
        spread = float(np.std(y[pre], ddof=1)) if y[pre].size > 1 else 0.0
        if outside and spread > 0 and f.pre_rmspe > HULL_RMSPE_SHARE * spread:
            problems.append(
                f"{plain(f.unit)!r} (outside the comparison units' range in {outside} of "
                f"{f.adoption} pre-periods; pre-period RMSPE {f.pre_rmspe:.4g}, "
                f"{100 * f.pre_rmspe / spread:.0f}% of the outcome's standard deviation "
                f"{spread:.4g})"
            )
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        warn(
            "the synthetic control cannot reproduce the pre-programme path of treated "
            f"unit(s) {shown}: a weighted average of comparison units cannot lie outside "
            "their range, so the gaps mix the effect with this misfit. Consider synthetic "
            "difference-in-differences (which allows a level difference) or comparison "
            "units more like the treated one",
            DesignWarning,
        )


def assemble_result(
    est: Any,
    panel: Panel,
    arrays: PanelArrays,
    fits: list[UnitFit],
    placebos: dict[int, list[UnitFit]],
    *,
    name: str,
) -> ImpactResult:
    """The result of a fit: effects, paths and diagnostics."""
    warn_outside_hull(arrays, fits)
    periods = arrays.periods
    units = arrays.units
    n_periods = len(periods)
    y = arrays.tables[arrays.outcome]
    scale = outcome_scale(y.ravel())
    n_post = np.array([n_periods - f.adoption for f in fits], dtype=float)
    shares = n_post / n_post.sum()
    donor_weights = np.zeros((len(fits), len(units)))
    for i, f in enumerate(fits):
        donor_weights[i, f.donors] = f.weights
    have_placebos = bool(placebos)
    sets = {adoption: PlaceboSet.of(runs) for adoption, runs in placebos.items() if runs}
    if not have_placebos and est.inference == "placebo":
        warn(
            "placebos in space need at least 2 comparison units; the standard errors and "
            "intervals are undefined",
            InferenceWarning,
        )

    def se_of(weights: np.ndarray, rows_of: Any) -> float:
        if not have_placebos:
            return np.nan
        keep = weights > 0
        scales = np.array(
            [
                scale_of_noise(sets[f.adoption], rows_of(f))
                for f, kept in zip(fits, keep, strict=True)
                if kept
            ],
            dtype=float,
        )
        return placebo_standard_error(weights[keep], scales, donor_weights[keep])

    # ------------------------------------------------------------------ unit-level tables
    single = len(fits) == 1
    tests = []
    for f in fits:
        p, used = (
            rank_p_value(f, sets[f.adoption], est.exclude_poor_fit)
            if have_placebos
            else (np.nan, 0)
        )
        tests.append((p, used))
    conformal: list[tuple[np.ndarray, np.ndarray]] = []
    for f in fits:
        lower = np.full(n_periods, np.nan)
        upper = np.full(n_periods, np.nan)
        if est.conformal:
            for t in range(f.adoption, n_periods):
                lower[t], upper[t] = conformal_interval(
                    f.observed,
                    y[:, f.donors],
                    f.adoption,
                    t,
                    alpha=est.alpha,
                    ridge=est.ridge,
                    center=float(f.gap[t]),
                    step=max(f.pre_rmspe, 1e-9 * scale),
                )
        conformal.append((lower, upper))

    # ------------------------------------------------------------------ effects
    att = float(shares @ np.array([f.post_mean for f in fits]))
    att_se = se_of(shares, lambda f: None)
    pre_gap = float(shares @ np.array([np.mean(f.gap[: f.adoption]) for f in fits]))
    misfit = np.isfinite(att_se) and abs(pre_gap) > PRE_GAP_LIMIT * att_se
    if misfit:
        warn(
            "the synthetic controls do not reproduce the treated units' pre-programme path "
            f"on average: the mean pre-period gap is {pre_gap:.4g}, "
            f"{abs(pre_gap) / att_se:.1f} standard errors from zero, so the gaps after "
            "adoption carry this misfit and no interval or p-value is reported. Check the "
            "treated units outside the comparison units' range (see the DesignWarning) or "
            "use a design that allows a level difference",
            InferenceWarning,
        )
        att_se = np.nan
    rows = [
        effect_row(
            "att",
            att,
            att_se,
            alpha=est.alpha,
            scale=scale,
            announce=est.inference == "placebo",
            n_treated=len(fits),
            permutation_p_value=tests[0][0] if single else np.nan,
            conformal_lower=np.nan,
            conformal_upper=np.nan,
        )
    ]
    max_event = max(n_periods - f.adoption for f in fits)
    for e in range(max_event):
        present = np.array([f.adoption + e < n_periods for f in fits])
        weights = present / present.sum()
        estimate = float(
            sum(w * f.gap[f.adoption + e] for w, f in zip(weights, fits, strict=True) if w > 0)
        )
        se = np.nan if misfit else se_of(weights, lambda f, e=e: np.array([f.adoption + e]))
        lo = conformal[0][0][fits[0].adoption + e] if single else np.nan
        hi = conformal[0][1][fits[0].adoption + e] if single else np.nan
        rows.append(
            effect_row(
                event_term(e),
                estimate,
                se,
                alpha=est.alpha,
                scale=scale,
                announce=est.inference == "placebo",
                n_treated=int(present.sum()),
                permutation_p_value=np.nan,
                conformal_lower=lo,
                conformal_upper=hi,
            )
        )
    if single and have_placebos and not misfit:
        # one treated unit: interval and p-value by inverting the placebo test
        _invert_placebos(rows, fits[0], sets[fits[0].adoption], est)
    effects = pd.DataFrame(rows)

    # ------------------------------------------------------------------ paths
    common = len({f.adoption for f in fits}) == 1
    unit_paths = pd.concat(
        [
            pd.DataFrame(
                {
                    "treated_unit": [f.unit] * n_periods,
                    "time": periods,
                    "event_time": np.arange(n_periods) - f.adoption,
                    "observed": f.observed,
                    "synthetic": f.synthetic,
                    "gap": f.gap,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
            for f, (lo, hi) in zip(fits, conformal, strict=True)
        ],
        ignore_index=True,
    )

    def paths() -> pd.DataFrame:
        key = "time" if common else "event_time"
        grouped = unit_paths.groupby(key, sort=True)
        table = pd.DataFrame(
            {
                "time": grouped["observed"].mean().index,
                "observed": grouped["observed"].mean().to_numpy(),
                "counterfactual": grouped["synthetic"].mean().to_numpy(),
            }
        )
        table["effect"] = table["observed"] - table["counterfactual"]
        if single:
            table["ci_lower"] = unit_paths["ci_lower"].to_numpy()
            table["ci_upper"] = unit_paths["ci_upper"].to_numpy()
        table["post"] = (
            table["time"].to_numpy() >= periods[fits[0].adoption]
            if common
            else table["time"].to_numpy() >= 0
        )
        return table

    # ------------------------------------------------------------------ diagnostics
    weights_table = pd.DataFrame(
        [
            {"treated_unit": f.unit, "unit": units[j], "weight": float(w)}
            for f in fits
            for j, w in zip(f.donors, f.weights, strict=True)
        ]
    )
    balance_rows = []
    for f in fits:
        if f.balance is not None:
            for label, v, (x1, xs, xm) in zip(f.labels, f.v, f.balance, strict=True):
                balance_rows.append(
                    {
                        "treated_unit": f.unit,
                        "predictor": label,
                        "v": float(v),
                        "treated": x1,
                        "synthetic": xs,
                        "pool_mean": xm,
                    }
                )
        else:
            pre = np.arange(f.adoption)
            pool = y[pre][:, f.donors].mean(axis=1)
            for t in pre:
                balance_rows.append(
                    {
                        "treated_unit": f.unit,
                        "predictor": f"{arrays.outcome}[{periods[t]}]",
                        "v": 1.0 / len(pre),
                        "treated": f.observed[t],
                        "synthetic": f.synthetic[t],
                        "pool_mean": pool[t],
                    }
                )
    treated_table = pd.DataFrame(
        [
            {
                "treated_unit": f.unit,
                "adoption": periods[f.adoption],
                "share": float(s),
                "att": f.post_mean,
                "pre_rmspe": f.pre_rmspe,
                "post_rmspe": f.post_rmspe,
                "rmspe_ratio": rmspe_ratio(f),
                "p_value": p,
                "placebos_used": used,
            }
            for f, s, (p, used) in zip(fits, shares, tests, strict=True)
        ]
    )
    placebo_rows, gap_rows = [], []
    for adoption, runs in placebos.items():
        for r in runs:
            placebo_rows.append(
                {
                    "adoption": periods[adoption],
                    "unit": r.unit,
                    "att": r.post_mean,
                    "pre_rmspe": r.pre_rmspe,
                    "post_rmspe": r.post_rmspe,
                    "rmspe_ratio": rmspe_ratio(r),
                }
            )
            gap_rows.append(
                pd.DataFrame(
                    {
                        "adoption": periods[adoption],
                        "unit": r.unit,
                        "time": periods,
                        "event_time": np.arange(n_periods) - adoption,
                        "gap": r.gap,
                    }
                )
            )
    placebo_table = pd.DataFrame(
        placebo_rows, columns=["adoption", "unit", "att", "pre_rmspe", "post_rmspe", "rmspe_ratio"]
    )
    gaps_table = (
        pd.concat(gap_rows, ignore_index=True)
        if gap_rows
        else pd.DataFrame(columns=["adoption", "unit", "time", "event_time", "gap"])
    )
    settings = {
        **{k: v for k, v in est.get_params().items() if k != "seed"},
        "seed": est.seed if not isinstance(est.seed, np.random.Generator) else "generator",
        "variant": "outcome-only" if est.predictors is None else "predictors",
        "paths_time": "calendar" if common else "event",
        "pre_period_gap": pre_gap,
        "donors": [units[j] for j in arrays.donors],
    }
    n_units = len(fits) + len(arrays.donors)
    return ImpactResult(
        estimator=name,
        effects=effects[
            [*EFFECT_COLUMNS, *[c for c in effects.columns if c not in EFFECT_COLUMNS]]
        ],
        settings=settings,
        paths=paths(),
        diagnostics={
            "unit_weights": weights_table,
            "predictor_balance": pd.DataFrame(balance_rows),
            "treated_units": treated_table,
            "unit_paths": unit_paths,
            "placebos": placebo_table,
            "placebo_gaps": gaps_table,
        },
        n_obs=n_units * n_periods,
        n_units=n_units,
    )


def _invert_placebos(rows: list[dict[str, Any]], fit: UnitFit, placebos: PlaceboSet, est) -> None:
    """Replace the Wald intervals and p-values of ``rows`` by placebo-test inversions.

    The placebos are those the rank p-value uses (``exclude_poor_fit``); the ``att``
    row compares post-period mean gaps, the row of event time ``e`` the gaps at ``e``.
    The standard errors stay as they are.
    """
    gaps = placebos.gaps[placebos.kept(fit, est.exclude_poor_fit)]
    start = placebos.adoption
    for k, row in enumerate(rows):
        values = gaps[:, start:].mean(axis=1) if k == 0 else gaps[:, start + k - 1]
        lo, hi, p = placebo_interval(row["estimate"], values, est.alpha)
        row.update(ci_lower=lo, ci_upper=hi, p_value=p)
