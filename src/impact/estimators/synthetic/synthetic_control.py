"""The synthetic control method of Abadie, Diamond and Hainmueller (2010, 2015).

The counterfactual of a treated unit is a weighted average of comparison units, the
weights non-negative and summing to one, chosen so that the weighted comparison units
reproduce the treated unit's predictors before the programme. See
:class:`SyntheticControl`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from impact._defaults import ALPHA
from impact.estimators._base import Estimator, check_alpha, check_choice
from impact.estimators.synthetic._sc_fit import UnitFit, fit_problem
from impact.estimators.synthetic._sc_predictors import (
    PanelArrays,
    build_problem,
    normalize_predictors,
    plain,
    predictor_rows,
    read_panel,
)
from impact.estimators.synthetic._sc_result import assemble_result
from impact.exceptions import DesignError, DesignWarning, warn
from impact.registry import register

if TYPE_CHECKING:
    from impact import ImpactResult, Panel

__all__ = ["SyntheticControl"]


@register("synthetic_control")
@dataclass(frozen=True, kw_only=True)
class SyntheticControl(Estimator):
    """Synthetic control: a weighted combination of comparison units as counterfactual.

    For each treated unit, non-negative weights summing to one are put on the
    never-treated (comparison) units so that the weighted comparison units reproduce
    the treated unit's predictors before the programme; its effect in each later
    period is the gap between its outcome and that synthetic unit's. Several treated
    units, each with its own adoption period, get one synthetic control each; their
    effects are averaged by event time, and ``att`` averages every treated unit-period.

    Parameters
    ----------
    predictors : sequence, optional
        The ADH predictors. Each entry is a column name (its mean over
        ``predictor_periods``, by default over the unit's pre-periods) or a pair
        ``(column, periods)`` (its mean over those periods; one period gives its value,
        a lagged outcome when the column is the outcome, like R ``Synth``'s special
        predictors). Columns are the outcome or numeric covariates of the Panel. Each
        predictor is divided by its standard deviation across the units (as ``Synth``
        does). ``None`` (default): the outcome-only variant, whose predictors are the
        outcomes of the pre-periods (of ``fit_periods``), weighted equally, with an
        optional ``ridge`` penalty (synthdid's ``sc_estimate``).
    predictor_periods : tuple of periods, optional
        The periods a predictor given by name alone is averaged over.
    fit_periods : tuple of periods, optional
        The pre-periods whose outcome MSPE chooses V (``Synth``'s
        ``time.optimize.ssr``); all pre-periods by default.
    v : {"optimize", "equal"} or sequence of float, default "optimize"
        The predictor weights V: chosen to minimise the outcome MSPE over
        ``fit_periods`` (nested optimisation by Nelder-Mead from the equal start, the
        regression-based start of ``Synth`` and ``starts`` random ones; the best is
        kept), equal, or given (one per predictor, normalised to sum to one). The
        outcome-only variant weights its pre-period outcomes equally unless a vector is
        given: with equal weights its objective already is the pre-period MSPE.
    ridge : float, default 0
        Outcome-only variant: penalty ``T0 * (ridge * sigma)^2 * ||w||^2`` where
        ``sigma`` is the standard deviation of the comparison units' period-to-period
        changes before adoption (synthdid's ``zeta.omega = eta.omega * noise.level``;
        its ``sc_estimate`` uses ``eta.omega = 1e-6``).
    starts : int, default 1
        Random starting points for V besides the equal and regression-based ones.
    inference : {"placebo", "none"}, default "placebo"
        ``"placebo"``: placebos in space (every comparison unit in turn as treated,
        matched by the others with the same specification) give the standard error,
        the rank p-value of the post/pre RMSPE ratio and the placebo distribution;
        with one treated unit the intervals and p-values invert the placebo test
        (unbounded with fewer than ``1 / alpha - 1`` placebos); with several they are
        normal, from the standard error. See
        :mod:`impact.estimators.synthetic._sc_inference`.
    exclude_poor_fit : float, optional
        Leave out of the rank p-value the placebos whose pre-period MSPE is more than
        this many times the treated unit's (ADH 2010 use 20, 5 and 2).
    conformal : bool, default True
        Per-period conformal intervals of Chernozhukov, Wuethrich and Zhu (2021) for
        each treated unit's effect path (bounded from 19 pre-periods on at
        ``alpha=0.05``).
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.
    seed : int, Generator or None, default 0
        Draws the random starting points of V.

    Notes
    -----
    The weights solve ``min ||D w||^2`` on the simplex (``D`` the V-weighted gaps
    between the comparison units' predictors and the treated unit's), exactly, as one
    non-negative least squares problem; see
    :mod:`impact.estimators.synthetic._sc_weights`.

    ``effects`` holds ``att`` (mean effect over every treated unit-period after
    adoption; extra column ``permutation_p_value``, the RMSPE-ratio rank p-value
    with one treated unit) and one row per event time ``e=0, e=1, ...`` with the
    number of treated units behind it and, with one treated unit, the conformal
    interval (``conformal_lower``, ``conformal_upper``). ``paths`` are by calendar
    period when all treated units adopt together, else by event time. Diagnostics:
    ``unit_weights``, ``predictor_balance`` (with V), ``treated_units`` (pre/post
    RMSPE, ratio, rank p-value), ``unit_paths``, ``placebos`` and ``placebo_gaps``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, impact
    >>> rng = np.random.default_rng(0)
    >>> years = np.arange(2000, 2012)
    >>> trend = rng.normal(0, 1, (len(years), 2)).cumsum(axis=0)
    >>> rows = []
    >>> for u in range(8):
    ...     mix = (u % 4) / 3
    ...     y = mix * trend[:, 0] + (1 - mix) * trend[:, 1]
    ...     rows += [(u, t, yt, 0) for t, yt in zip(years, y)]
    >>> y0 = 0.5 * trend[:, 0] + 0.5 * trend[:, 1]
    >>> rows += [(99, t, yt + 3.0 * (t >= 2008), int(t >= 2008)) for t, yt in zip(years, y0)]
    >>> df = pd.DataFrame(rows, columns=["council", "year", "y", "d"])
    >>> panel = impact.Panel.from_frame(df, unit="council", time="year", outcome="y", treated="d")
    >>> result = SyntheticControl(conformal=False).fit(panel)
    >>> round(result.att.estimate, 3)
    3.0
    """

    predictors: Sequence[Any] | None = None
    predictor_periods: tuple[Any, ...] | None = None
    fit_periods: tuple[Any, ...] | None = None
    v: Literal["optimize", "equal"] | tuple[float, ...] = "optimize"
    ridge: float = 0.0
    starts: int = 1
    inference: Literal["placebo", "none"] = "placebo"
    exclude_poor_fit: float | None = None
    conformal: bool = True
    alpha: float = ALPHA
    seed: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "predictors", normalize_predictors(self.predictors))
        for name in ("predictor_periods", "fit_periods"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                    raise DesignError(f"{name}={value!r} must be a sequence of periods")
                value = tuple(p.item() if isinstance(p, np.generic) else p for p in value)
                if not value:
                    raise DesignError(f"{name} is empty; leave it None for every pre-period")
                object.__setattr__(self, name, value)
        if isinstance(self.v, str):
            check_choice("v", self.v, ("optimize", "equal"))
        else:
            try:
                values = tuple(float(x) for x in self.v)
            except (TypeError, ValueError):
                raise DesignError(
                    f"v={self.v!r} must be 'optimize', 'equal' or a sequence of weights"
                ) from None
            if not values or min(values) < 0 or sum(values) <= 0 or not np.all(np.isfinite(values)):
                raise DesignError(
                    f"v={self.v!r} must hold non-negative finite weights, not all zero"
                )
            object.__setattr__(self, "v", values)
        if not (
            isinstance(self.ridge, int | float) and np.isfinite(self.ridge) and self.ridge >= 0
        ):
            raise DesignError(f"ridge={self.ridge!r} must be a non-negative number")
        if self.ridge > 0 and self.predictors is not None:
            raise DesignError(
                "ridge applies to the outcome-only variant (predictors=None); with "
                "predictors the weights are chosen through V"
            )
        if not (isinstance(self.starts, int) and not isinstance(self.starts, bool)):
            raise DesignError(f"starts={self.starts!r} must be a non-negative integer")
        if self.starts < 0:
            raise DesignError(f"starts={self.starts!r} must be a non-negative integer")
        check_choice("inference", self.inference, ("placebo", "none"))
        if self.exclude_poor_fit is not None and not (
            isinstance(self.exclude_poor_fit, int | float) and self.exclude_poor_fit >= 1
        ):
            raise DesignError(
                f"exclude_poor_fit={self.exclude_poor_fit!r} must be a number >= 1 (e.g. 5)"
            )
        if not isinstance(self.conformal, bool | np.bool_):
            raise DesignError(f"conformal={self.conformal!r} must be True or False")
        check_alpha(self.alpha)

    def fit(self, panel: Panel) -> ImpactResult:
        """Build a synthetic control for each treated unit of ``panel``.

        Parameters
        ----------
        panel : Panel
            A balanced panel with treated and never-treated units.

        Returns
        -------
        ImpactResult

        Raises
        ------
        DataError
            When unit-period cells are missing (named in the message).
        DesignError
            Without comparison units, without pre-periods, with predictors that do not
            vary or are measured after adoption.
        """
        specs = self.predictors
        columns = [] if specs is None else [c for c, _ in specs]
        arrays = read_panel(panel, columns)
        if getattr(panel, "weights", None):
            warn(
                "the synthetic control weights units by their fit, not by the Panel's "
                f"weights column {panel.weights!r}, which is not used",
                DesignWarning,
            )
        starts = self._random_starts(arrays, specs)
        treated = sorted(arrays.adoption, key=lambda u: (arrays.adoption[u], str(u)))
        fits: list[UnitFit] = []
        predictors_of: dict[int, tuple[np.ndarray, tuple[str, ...]]] = {}
        for unit in treated:
            adoption = arrays.adoption[unit]
            if adoption < 2 and specs is None:
                raise DesignError(
                    f"treated unit {plain(unit)!r} has {adoption} pre-period; the outcome-only "
                    "synthetic control needs at least 2 to fit and judge its weights"
                )
            x_all, labels = self._predictors(arrays, adoption, unit, predictors_of)
            problem = build_problem(
                arrays,
                int(arrays.units.get_loc(unit)),
                arrays.donors,
                adoption,
                specs=specs,
                predictor_periods=self.predictor_periods,
                fit_periods=self.fit_periods,
                x_all=x_all,
                labels=labels,
            )
            fits.append(
                fit_problem(problem, v=self.v, ridge=self.ridge, starts=starts, strict=True)
            )
        placebos = self._placebos(arrays, fits, starts, predictors_of)
        return assemble_result(
            self, panel, arrays, fits, placebos, name=type(self).name or "synthetic_control"
        )

    # ------------------------------------------------------------------ helpers
    def _random_starts(self, arrays: PanelArrays, specs: Any) -> list[np.ndarray]:
        if specs is None or self.v != "optimize" or self.starts == 0:
            return []
        rng = (
            self.seed
            if isinstance(self.seed, np.random.Generator)
            else np.random.default_rng(self.seed)
        )
        return [rng.dirichlet(np.ones(len(specs))) for _ in range(self.starts)]

    def _predictors(
        self,
        arrays: PanelArrays,
        adoption: int,
        unit: Any,
        cache: dict[int, tuple[np.ndarray, tuple[str, ...]]],
    ) -> tuple[np.ndarray | None, tuple[str, ...]]:
        if self.predictors is None:
            return None, ()
        if adoption not in cache:
            cache[adoption] = predictor_rows(
                arrays, self.predictors, adoption, self.predictor_periods, unit
            )
        return cache[adoption]

    def _placebos(
        self,
        arrays: PanelArrays,
        fits: list[UnitFit],
        starts: list[np.ndarray],
        predictors_of: dict[int, tuple[np.ndarray, tuple[str, ...]]],
    ) -> dict[int, list[UnitFit]]:
        """Placebo fits by adoption position: each comparison unit matched by the others."""
        if self.inference == "none" or len(arrays.donors) < 2:
            return {}
        out: dict[int, list[UnitFit]] = {}
        for adoption in sorted({f.adoption for f in fits}):
            x_all, labels = predictors_of.get(adoption, (None, ()))
            runs = []
            for j in arrays.donors:
                others = arrays.donors[arrays.donors != j]
                problem = build_problem(
                    arrays,
                    int(j),
                    others,
                    adoption,
                    specs=self.predictors,
                    predictor_periods=self.predictor_periods,
                    fit_periods=self.fit_periods,
                    x_all=x_all,
                    labels=labels,
                )
                runs.append(
                    fit_problem(problem, v=self.v, ridge=self.ridge, starts=starts, strict=False)
                )
            out[adoption] = runs
        return out
