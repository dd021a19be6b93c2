"""Draw synthetic cohorts with a known truth: :func:`simulate` and :class:`SimulatedPanel`.

The simulator works on arrays of shape (units, periods) and expands them to pupils with
index arrays: there is no Python loop over units or pupils. Each row carries its
untreated potential outcome ``y0`` and its effect ``tau`` (the expected difference the
programme makes to that row's outcome), so the observed outcome is ``y0 + tau`` for a
continuous outcome, and ``y0`` wherever ``tau`` is zero.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from impact._frozen import restore_slots, slot_values
from impact.exceptions import DesignError
from impact.panel.container import Panel
from impact.simulations._truth import KINDS, kind_truth, term_kinds, term_labels
from impact.simulations.scenario import Scenario

__all__ = ["TRUTH_COLUMNS", "SimulatedPanel", "simulate"]

TRUTH_COLUMNS: tuple[str, ...] = ("term", "truth", "kind", "group", "time", "event_time", "n_obs")
"""Columns of :attr:`SimulatedPanel.truth`."""

SeedLike = int | np.random.Generator | np.random.SeedSequence | None


class SimulatedPanel:
    """One draw from a :class:`Scenario`: the Panel, the full data and the truth.

    Attributes
    ----------
    scenario : Scenario
        The scenario drawn from.
    panel : Panel
        The data as estimators see them (outcome ``y``, treatment ``treated``).
    data : pandas.DataFrame
        Every simulated column, one row per observation: ``unit``, (``pupil``),
        ``time``, ``y``, ``treated``, ``cohort`` (first treated period, 0 if never),
        ``y0`` (the untreated potential outcome), ``tau`` (the row's true effect on the
        outcome scale), ``x`` (a unit covariate), ``climate`` (the moderator),
        (``exposure`` for counts, ``spillover`` when some units receive spillover).
    trend_gap : float
        Realised mean unit trend of ever-treated minus never-treated units (outcome
        index units per period; NaN without never-treated units): the amount by which
        parallel trends fail.

    Notes
    -----
    :attr:`truth` and :attr:`paths` are computed on first access.
    """

    __slots__ = ("_data", "_parts", "_paths", "_truth", "panel", "scenario", "trend_gap")

    def __init__(
        self,
        *,
        scenario: Scenario,
        panel: Panel,
        data: pd.DataFrame | dict[str, np.ndarray] | Callable[[], dict[str, np.ndarray]],
        trend_gap: float,
        parts: dict[str, Any],
    ) -> None:
        for name, value in {
            "scenario": scenario,
            "panel": panel,
            "_data": data,
            "trend_gap": float(trend_gap),
            "_parts": parts,
            "_truth": None,
            "_paths": None,
        }.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SimulatedPanel is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and deep-copy) the built data, not the function that builds it."""
        return (restore_slots, (type(self), {**slot_values(self), "_data": self.data}))

    def __repr__(self) -> str:
        return f"SimulatedPanel({self.panel!r}; true att {self.true_att:.4g})"

    @property
    def data(self) -> pd.DataFrame:
        """Every simulated column, one row per observation (built on first access)."""
        if not isinstance(self._data, pd.DataFrame):
            columns = self._data() if callable(self._data) else self._data
            object.__setattr__(self, "_data", pd.DataFrame(columns))
        return self._data

    # ------------------------------------------------------------------ truth
    def truth_values(self) -> dict[str, float]:
        """The true value of every term, as a ``{term: value}`` mapping.

        Examples
        --------
        >>> sim = simulate(Scenario(n_units=10, n_periods=4, adoption_period=3,
        ...                         effect=2.0), seed=0)
        >>> sim.truth_values()["att"]
        2.0
        """
        terms, values, _ = self._values()
        return dict(zip(terms, values.tolist(), strict=True))

    @property
    def true_att(self) -> float:
        """The true ATT: the mean effect over treated rows."""
        return float(self._parts["att"])

    @property
    def truth(self) -> pd.DataFrame:
        """The true effects, one row per term (see :mod:`impact.terms`).

        Columns ``term, truth, kind, group, time, event_time, n_obs``: ``kind`` is
        ``overall``, ``group_time``, ``event_time``, ``group``, ``calendar`` or
        ``spillover``; ``n_obs`` counts the rows averaged.
        """
        if self._truth is None:
            terms, values, extra = self._records()
            frame = pd.DataFrame({"term": terms, "truth": values, **extra})
            for col in ("group", "time", "event_time"):
                frame[col] = frame[col].astype("Int64")
            object.__setattr__(self, "_truth", frame)
        return self._truth.copy()

    @property
    def paths(self) -> pd.DataFrame:
        """Per-period means over ever-treated units: ``time, observed, counterfactual, effect``.

        ``counterfactual`` is the mean untreated outcome ``y0`` of the same rows and
        ``effect`` the realised difference; ``post`` marks periods from the first
        adoption on.
        """
        if self._paths is None:
            p = self._parts
            ti, ever, y, y0 = p["ti"], p["gi"] >= 0, p["y"], p["y0"]
            n_t = p["n_periods"]
            counts = np.bincount(ti[ever], minlength=n_t)
            with np.errstate(invalid="ignore", divide="ignore"):
                observed = np.bincount(ti[ever], weights=y[ever], minlength=n_t) / counts
                counterfactual = np.bincount(ti[ever], weights=y0[ever], minlength=n_t) / counts
            periods = p["periods"]
            frame = pd.DataFrame(
                {
                    "time": periods,
                    "observed": observed,
                    "counterfactual": counterfactual,
                    "effect": observed - counterfactual,
                    "n_obs": counts,
                    "post": np.arange(n_t) >= p["g_first"],
                }
            )
            object.__setattr__(self, "_paths", frame.loc[counts > 0].reset_index(drop=True))
        return self._paths.copy()

    def _records(self) -> tuple[list[str], np.ndarray, dict[str, list[Any]]]:
        """Terms, true values and their group/time/event-time/kind/n_obs columns."""
        terms, values, kept = self._values()
        labels = term_labels(tuple(self._parts["periods"]), tuple(self._parts["starts"]))
        extra: dict[str, list[Any]] = {
            "kind": [],
            "group": [],
            "time": [],
            "event_time": [],
            "n_obs": [],
        }
        for kind, idx, counts in kept:
            _, group, time, event = labels[kind]
            extra["kind"].extend([kind] * len(idx))
            extra["group"].extend(group[i] for i in idx)
            extra["time"].extend(time[i] for i in idx)
            extra["event_time"].extend(event[i] for i in idx)
            extra["n_obs"].extend(int(c) for c in counts)
        return terms, values, extra

    def _values(self) -> tuple[list[str], np.ndarray, list[tuple[str, np.ndarray, np.ndarray]]]:
        """Terms, true values, and per kind of term the cells kept and their row counts."""
        p = self._parts
        if "records" not in p:
            terms: list[str] = []
            values: list[np.ndarray] = []
            kept: list[tuple[str, np.ndarray, np.ndarray]] = []
            for kind in KINDS:
                part = self._kind(kind)
                if part is not None:
                    terms.extend(part[0])
                    values.append(part[1])
                    kept.append((kind, part[2], part[3]))
            p["records"] = (terms, np.concatenate(values), kept)
        return p["records"]

    def _truth_of(self, terms: list[str]) -> dict[str, float]:
        """The true values of ``terms`` (those that have one), computing only their kinds.

        The same values as :meth:`truth_values`; a Monte Carlo study asks for the few
        terms an estimator reports.
        """
        p = self._parts
        kind_of = term_kinds(tuple(p["periods"]), tuple(p["starts"]))
        out: dict[str, float] = {}
        for kind in dict.fromkeys(kind_of[t] for t in terms if t in kind_of):
            part = self._kind(kind)
            if part is not None:
                out.update(zip(part[0], part[1].tolist(), strict=True))
        return out

    def _kind(self, kind: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None:
        """Terms of one kind with a truth, their values, cells kept and row counts."""
        cache = self._parts.setdefault("kinds", {})
        if kind not in cache:
            cache[kind] = kind_truth(self._parts, kind)
        return cache[kind]


# ---------------------------------------------------------------------- helpers
def _profile_share(scenario: Scenario, event: np.ndarray) -> np.ndarray:
    """Share of the full effect reached at non-negative event times ``event``."""
    profile = scenario.profile
    e = event.astype(float)
    if callable(profile):
        share = np.asarray(profile(event), dtype=float)
        if share.shape != event.shape:
            raise DesignError(
                f"profile callable returned shape {share.shape} for event times of shape "
                f"{event.shape}; it must return one share per event time"
            )
        return share
    if profile == "constant":
        return np.ones_like(e)
    if profile == "ramp":
        return np.minimum(e / 2.0, 1.0)
    return 0.5 ** (e / scenario.half_life)  # decay


def _violation_gap(scenario: Scenario, event: np.ndarray, ever: np.ndarray) -> np.ndarray:
    """The violation of parallel trends added to the ever-treated units' index."""
    shape = scenario.violation_shape
    if callable(shape):
        multiple = np.asarray(shape(event), dtype=float)
        if multiple.shape != event.shape:
            raise DesignError(
                f"violation_shape callable returned shape {multiple.shape} for event times "
                f"of shape {event.shape}; it must return one value per event time"
            )
    else:
        since = np.maximum(event - scenario.violation_start + 1, 0).astype(float)
        multiple = since if shape == "linear" else since**2
    return np.where(ever[:, None], scenario.violation * multiple, 0.0)


def _ar1(innovations: np.ndarray, rho: float, scale: float) -> np.ndarray:
    """AR(1) along periods (axis 1): ``y_0 = scale e_0``, ``y_t = rho y_(t-1) + scale e_t``.

    The operations of ``scipy.signal.lfilter([scale], [1, -rho], e, axis=1)``, hence
    the same numbers, without its per-call overhead: a loop over the periods,
    vectorised over units.
    """
    out = np.empty_like(innovations)
    out[:, 0] = scale * innovations[:, 0]
    for t in range(1, innovations.shape[1]):
        out[:, t] = rho * out[:, t - 1] + scale * innovations[:, t]
    return out


def _standardise(z: np.ndarray) -> np.ndarray:
    sd = z.std()
    return (z - z.mean()) / sd if sd > 0 else np.zeros_like(z)


def _assign(
    scenario: Scenario, rng: np.random.Generator, drivers: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Cohort index per unit (-1 never treated) and the spillover mask."""
    n = scenario.n_units
    noise = rng.logistic(size=n)
    if scenario.selection == "random":
        score = noise
    else:
        score = scenario.selection_strength * _standardise(drivers[scenario.selection]) + noise
    spill = np.zeros(n, dtype=bool)
    listed = scenario.spillover_units
    if isinstance(listed, tuple | list) and listed:
        spill[np.asarray(sorted(set(listed)), dtype=int) - 1] = True
        score = np.where(spill, -np.inf, score)
    order = np.argsort(-score, kind="stable")
    sizes = list(scenario.cohort_sizes.values())
    gi = np.full(n, -1, dtype=np.int64)
    starts = np.asarray(list(scenario.cohort_sizes), dtype=np.int64) - 1
    gi[order[: sum(sizes)]] = np.repeat(starts, sizes)
    if not (isinstance(listed, tuple | list)) and int(listed) > 0:
        never = np.flatnonzero(gi < 0)
        spill[rng.choice(never, size=int(listed), replace=False)] = True
    return gi, spill


def _attrition_keep(
    scenario: Scenario,
    rng: np.random.Generator,
    y: np.ndarray,
    ti: np.ndarray,
    panel_shape: tuple[int, int] | None,
) -> np.ndarray:
    """Rows kept after attrition (monotone for panels, row-wise for cross-sections)."""
    base = math.log(scenario.attrition / (1 - scenario.attrition))
    logit = base + scenario.attrition_on_outcome * _standardise(y)
    drop = rng.random(len(y)) < expit(logit)
    drop &= ti > 0
    if panel_shape is not None:
        drop = np.logical_or.accumulate(drop.reshape(panel_shape), axis=1).ravel()
    return ~drop


def _dense_codes(codes: np.ndarray) -> np.ndarray:
    """``codes`` renumbered ``0..G-1`` in the same order (a copy), skipping absent values."""
    present = np.bincount(codes) > 0
    if present.all():
        return codes.astype(np.intp)
    return (np.cumsum(present) - 1)[codes].astype(np.intp)


@functools.lru_cache(maxsize=16)
def _panel_layout(n_units: int, n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit and period positions of the rows of a balanced panel (read-only, shared)."""
    ui = np.repeat(np.arange(n_units, dtype=np.intp), n_periods)
    ti = np.tile(np.arange(n_periods, dtype=np.intp), n_units)
    ui.flags.writeable = False
    ti.flags.writeable = False
    return ui, ti


# ---------------------------------------------------------------------- simulate
def simulate(scenario: Scenario, *, seed: SeedLike) -> SimulatedPanel:
    """Draw one synthetic cohort from ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        The design, outcome model, effect and missingness.
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Source of randomness; the same seed gives identical data. ``None`` draws fresh
        entropy.

    Returns
    -------
    SimulatedPanel
        ``panel`` for the estimators, ``data`` with ``y0`` and ``tau``, and ``truth``
        in the tidy shape of :attr:`ImpactResult.effects` (a ``term`` column).

    Examples
    --------
    >>> from impact.simulations import Scenario, simulate
    >>> sim = simulate(Scenario(n_units=20, n_periods=6, adoption_period=4,
    ...                         effect=2.0, profile="ramp"), seed=1)
    >>> sim.panel.n_units, sim.panel.n_periods
    (20, 6)
    >>> truth = sim.truth.set_index("term")["truth"]
    >>> [float(truth[t]) for t in ("e=0", "e=1", "e=2", "att")]
    [0.0, 1.0, 2.0, 1.0]
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario, got {type(scenario).__name__}")
    if not isinstance(seed, np.random.Generator | np.random.SeedSequence | None) and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
    ):
        raise DesignError(
            f"seed={seed!r} must be a non-negative int, a SeedSequence, a Generator or None"
        )
    s = scenario
    rng = np.random.default_rng(seed)
    n_u, n_t = s.n_units, s.n_periods
    tidx = np.arange(n_t)
    time_f = tidx.astype(float)

    # unit draws
    x = rng.standard_normal(n_u)
    climate = rng.standard_normal(n_u)
    alpha = s.unit_sd * rng.standard_normal(n_u)
    slope = s.unit_trend_sd * rng.standard_normal(n_u)
    drivers = {"covariate": x, "level": alpha, "trend": slope}
    if s.n_factors:  # drawn only then, so that other scenarios' data do not change
        loadings = rng.standard_normal((n_u, s.n_factors))
        steps = s.factor_sd * rng.standard_normal((s.n_factors, n_t))
        steps[0] += s.factor_trend
        factors = np.cumsum(steps, axis=1)
        drivers["factor"] = loadings[:, 0]
    gi, spill = _assign(s, rng, drivers)

    # unit-period index (link scale)
    common = np.asarray(s.trend(time_f), dtype=float) if callable(s.trend) else s.trend * time_f
    if common.shape != (n_t,):
        raise DesignError(f"trend callable returned shape {common.shape}; expected ({n_t},)")
    shocks = rng.standard_normal((n_u, n_t)) * s.noise_sd
    if s.rho != 0 and n_t > 1:
        innov = math.sqrt(1 - s.rho**2)
        shocks[:, 0] /= innov
        shocks = _ar1(shocks, s.rho, innov)
    unit_slope = slope + s.covariate_trend * x
    index = (
        s.baseline
        + (alpha + s.covariate_effect * x)[:, None]
        + common[None, :]
        + unit_slope[:, None] * time_f[None, :]
        + shocks
    )
    if s.n_factors:
        index = index + loadings @ factors

    # effects on the link scale
    ever_u = gi >= 0
    event = tidx[None, :] - gi[:, None]
    if s.violation:  # a gap between the adopters' untreated outcomes and the others'
        index = index + _violation_gap(s, event, ever_u)
    treated_ut = ever_u[:, None] & (event >= 0)
    scale = s.effect + s.heterogeneity * climate
    share = np.zeros((n_u, n_t))
    if treated_ut.any():
        share[treated_ut] = _profile_share(s, event[treated_ut])
    if s.anticipation:
        ant = ever_u[:, None] & (event < 0) & (event >= -s.anticipation)
        share[ant] = s.anticipation_share
    g_first = int(gi[ever_u].min())
    if spill.any() and s.spillover_share:
        since = tidx - g_first
        reached = since >= 0
        spill_share = np.zeros(n_t)
        spill_share[reached] = s.spillover_share * _profile_share(s, since[reached])
        share[spill] = spill_share[None, :]
    effect_ut = scale[:, None] * share

    # expand to rows
    pupils = s.pupils_per_unit
    if pupils is None:
        ui, ti = _panel_layout(n_u, n_t)
        lin = index.ravel()
        panel_shape: tuple[int, int] | None = (n_u, n_t)
        pupil_id = None
    elif not s.follow_pupils:
        ui = np.repeat(np.arange(n_u), n_t * pupils)
        ti = np.tile(np.repeat(tidx, pupils), n_u)
        sd = math.hypot(s.pupil_sd, s.pupil_noise_sd)
        lin = index[ui, ti] + sd * rng.standard_normal(len(ui))
        panel_shape = None
        pupil_id = np.arange(1, len(ui) + 1)
    else:
        n_pupils = n_u * pupils
        ui = np.repeat(np.arange(n_u), pupils * n_t)
        ti = np.tile(tidx, n_pupils)
        pidx = np.repeat(np.arange(n_pupils), n_t)
        lin = (
            index[ui, ti]
            + s.pupil_sd * rng.standard_normal(n_pupils)[pidx]
            + s.pupil_noise_sd * rng.standard_normal(len(ui))
        )
        panel_shape = (n_pupils, n_t)
        pupil_id = pidx + 1
    eff = effect_ut[ui, ti] if pupils is not None else effect_ut.ravel()
    subgroup = None
    if s.subgroup_share > 0:
        # a stream of its own (spawned, so the draws above and below stay as they were)
        (sub_rng,) = rng.spawn(1)
        if pupils is None:
            subgroup = (sub_rng.random(n_u) < s.subgroup_share)[ui]
        elif s.follow_pupils:
            subgroup = (sub_rng.random(n_u * pupils) < s.subgroup_share)[pidx]
        else:
            subgroup = sub_rng.random(len(ui)) < s.subgroup_share
        sub_scale = s.subgroup_effect + s.heterogeneity * climate
        eff = np.where(subgroup, sub_scale[ui] * share[ui, ti], eff)

    exposure = None
    if s.outcome == "continuous":
        y0 = lin
        tau = eff
        y = y0 + tau
    elif s.outcome == "binary":
        p0 = expit(lin)
        p1 = expit(lin + eff)
        u = rng.random(len(lin))
        y0 = (u < p0).astype(float)
        y = (u < p1).astype(float)
        tau = p1 - p0
    else:  # count
        unit_exposure = np.full(n_u, float(s.exposure))
        if s.exposure_cv > 0:
            sigma = math.sqrt(math.log1p(s.exposure_cv**2))
            unit_exposure *= np.exp(sigma * rng.standard_normal(n_u) - sigma**2 / 2)
        exposure = unit_exposure[ui]
        mu0 = exposure * np.exp(lin)
        mu1 = exposure * np.exp(lin + eff)
        y0_int = rng.poisson(mu0)
        extra = rng.poisson(np.maximum(mu1 - mu0, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            keep_p = np.where(mu0 > 0, np.minimum(mu1 / mu0, 1.0), 1.0)
        thinned = rng.binomial(y0_int, keep_p)
        y = np.where(mu1 >= mu0, y0_int + extra, thinned).astype(float)
        y0 = y0_int.astype(float)
        tau = mu1 - mu0

    treated = treated_ut[ui, ti] if pupils is not None else treated_ut.ravel()
    if s.attrition > 0:
        keep = _attrition_keep(s, rng, y, ti, panel_shape)
        ui, ti, y, y0, tau, treated = (a[keep] for a in (ui, ti, y, y0, tau, treated))
        if subgroup is not None:
            subgroup = subgroup[keep]
        if pupil_id is not None:
            pupil_id = pupil_id[keep]
        if exposure is not None:
            exposure = exposure[keep]

    periods = s.periods
    gi_row = gi[ui]
    columns: dict[str, Any] = {"unit": ui + 1}
    if pupil_id is not None:
        columns["pupil"] = pupil_id
    columns.update(time=periods[ti], y=y, treated=treated.astype(np.int8))
    unit_covariates = {"x": x, "climate": climate}
    for name in s.panel_covariates:
        columns[name] = unit_covariates[name][ui]

    def data() -> dict[str, Any]:
        """Every simulated column (built when SimulatedPanel.data is first read)."""
        out = {c: columns[c] for c in ("unit", "pupil", "time", "y", "treated") if c in columns}
        out.update(
            cohort=np.where(gi_row >= 0, periods[np.maximum(gi_row, 0)], 0),
            y0=y0,
            tau=tau,
            x=columns["x"] if "x" in columns else x[ui],
            climate=columns["climate"] if "climate" in columns else climate[ui],
        )
        if exposure is not None:
            out["exposure"] = exposure
        if spill.any():
            out["spillover"] = spill[ui].astype(np.int8)
        if subgroup is not None:
            out["subgroup"] = subgroup.astype(np.int8)
        return out

    # the Panel's columns only (a Monte Carlo study never needs the full data frame,
    # which is built when SimulatedPanel.data is first read); the data are valid by
    # construction and in unit-then-period order, so the Panel skips the checks
    if pupils is not None and s.follow_pupils:
        roles = {"unit": "pupil", "cluster": "unit", "repeated_cross_section": False}
        used = ("pupil", "time", "y", "treated", "unit")
        unit_codes = pupil_id - 1
    else:
        roles = {"unit": "unit", "repeated_cross_section": pupils is not None}
        used = ("unit", "time", "y", "treated")
        unit_codes = ui
    used = tuple(dict.fromkeys((*used, *s.panel_covariates)))
    panel = Panel._from_trusted(
        {c: columns[c] for c in used if c in columns},
        time="time",
        outcome="y",
        treated="treated",
        covariates=s.panel_covariates,
        # without attrition every unit and period has rows: the codes are dense already
        unit_codes=unit_codes if s.attrition == 0 else _dense_codes(unit_codes),
        time_codes=ti if s.attrition == 0 else _dense_codes(ti),
        **roles,
    )
    starts = np.asarray(list(s.cohort_sizes), dtype=np.int64) - 1
    cohort_index = np.full(n_u, -1, dtype=np.int64)
    cohort_index[ever_u] = np.searchsorted(starts, gi[ever_u])
    never = ~ever_u
    trend_gap = (
        float(unit_slope[ever_u].mean() - unit_slope[never].mean()) if never.any() else math.nan
    )
    parts = {
        "ti": ti,
        "gi": gi_row,
        "cohort_index": cohort_index[ui],
        "tau": tau,
        "y": y,
        "y0": y0,
        "treated": treated,
        "spill": spill[ui],
        "periods": periods,
        "starts": starts,
        "n_periods": n_t,
        "g_first": g_first,
        "att": float(tau[treated].mean()) if treated.any() else math.nan,
    }
    return SimulatedPanel(scenario=s, panel=panel, data=data, trend_gap=trend_gap, parts=parts)
