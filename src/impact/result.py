"""Results of an impact estimate: :class:`ImpactResult`, :class:`Summary`, :func:`compare`.

A result is a value: tidy tables of effects, the observed and counterfactual paths and
named diagnostics, plus the settings that produced it. Summaries, plots, comparisons
and economic appraisals all read results; none of them knows how an estimator works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact._format import format_table, format_value
from impact._frozen import FrozenMapping, restore_slots, slot_values
from impact.exceptions import DesignError
from impact.summary import Summary

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["EFFECT_COLUMNS", "PATH_COLUMNS", "Effect", "ImpactResult", "Summary", "compare"]

EFFECT_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "ci_lower",
    "ci_upper",
    "p_value",
)
"""The canonical leading columns of every ``effects`` table."""

PATH_COLUMNS: tuple[str, ...] = ("time", "observed", "counterfactual", "effect")
"""The canonical leading columns of every ``paths`` table."""


@dataclass(frozen=True, slots=True)
class Effect:
    """One estimated effect with its uncertainty.

    Attributes
    ----------
    term : str
        What the effect is of (``"att"``, an event time, a group...).
    estimate, std_error, ci_lower, ci_upper, p_value : float
        The point estimate, its standard error, the confidence interval and the
        p-value of the test of no effect.
    """

    term: str
    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    p_value: float

    def __str__(self) -> str:
        return (
            f"{self.term}: {self.estimate:.4g} (SE {self.std_error:.4g}; "
            f"CI {self.ci_lower:.4g} to {self.ci_upper:.4g}; p = {self.p_value:.3g})"
        )

    def __float__(self) -> float:
        """The point estimate: ``float(result.att)``."""
        return float(self.estimate)

    def __format__(self, spec: str) -> str:
        """``f"{effect}"`` is the full line; with a format, the estimate: ``f"{effect:.2f}"``."""
        return str(self) if not spec else format(self.estimate, spec)

    def _repr_html_(self) -> str:
        row = pd.DataFrame([{c: getattr(self, c) for c in EFFECT_COLUMNS}])
        return format_table(row).to_html(index=False)


_STR_DTYPE = pd.Series([], dtype=str).dtype  # what ``astype(str)`` gives


def _frozen_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy(deep=True)
    out.index = pd.RangeIndex(len(out))
    return out


TableSource = pd.DataFrame | Callable[[], pd.DataFrame]


def _own_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame the result built itself: re-indexed in place, no defensive copy needed."""
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame.index = pd.RangeIndex(len(frame))
    return frame


class _LazyTables(Mapping[str, pd.DataFrame]):
    """Read-only named tables; a table given as a function is built on first access."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, TableSource]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> pd.DataFrame:
        value = self._items[key]
        if not isinstance(value, pd.DataFrame):
            value = _own_frame(value())
            self._items[key] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class ImpactResult:
    """The immutable outcome of ``estimator.fit(panel)``.

    Parameters
    ----------
    estimator : str
        Registered name of the estimator that produced the result.
    effects : pandas.DataFrame
        One row per estimated term, with the leading columns ``term, estimate,
        std_error, ci_lower, ci_upper, p_value`` followed by any design-specific
        columns.
    settings : mapping, optional
        How the result was produced (hyperparameters, choices made from the data).
    paths : pandas.DataFrame, optional
        Per-period ``time, observed, counterfactual, effect`` (plus interval columns
        where the design gives them).
    diagnostics : mapping of str to DataFrame, optional
        Named diagnostic tables (balance, pre-trend test, weights...).
    n_obs, n_units : int
        Rows and units used.
    n_clusters : int, optional
        Clusters used for standard errors.
    overall_term : str, default "att"
        The term reported by :attr:`att`.
    draws : mapping of str to array-like, optional
        Draws from the sampling distribution of some terms (bootstrap replicates,
        posterior draws), keyed by term. Read by :func:`impact.economics.appraise`
        in place of a normal approximation; omitted by estimators that have none.

    Examples
    --------
    >>> import pandas as pd
    >>> effects = pd.DataFrame({"term": ["att"], "estimate": [2.0], "std_error": [0.5],
    ...                         "ci_lower": [1.02], "ci_upper": [2.98], "p_value": [6e-5]})
    >>> result = ImpactResult(estimator="did", effects=effects, n_obs=40, n_units=10)
    >>> result.att.estimate
    2.0
    """

    __slots__ = (
        "_diagnostics",
        "_draws",
        "_effect_columns",
        "_effects_table",
        "_paths_table",
        "_settings",
        "estimator",
        "n_clusters",
        "n_obs",
        "n_units",
        "overall_term",
    )

    def __init__(
        self,
        *,
        estimator: str,
        effects: pd.DataFrame,
        settings: Mapping[str, Any] | None = None,
        paths: pd.DataFrame | None = None,
        diagnostics: Mapping[str, pd.DataFrame] | None = None,
        n_obs: int,
        n_units: int,
        n_clusters: int | None = None,
        overall_term: str = "att",
        draws: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(effects, pd.DataFrame):
            raise TypeError("effects must be a pandas DataFrame")
        lead = tuple(effects.columns[: len(EFFECT_COLUMNS)])
        if lead != EFFECT_COLUMNS:
            raise ValueError(f"effects must start with the columns {EFFECT_COLUMNS}, got {lead}")
        if paths is not None:
            plead = tuple(paths.columns[: len(PATH_COLUMNS)])
            if plead != PATH_COLUMNS:
                raise ValueError(f"paths must start with the columns {PATH_COLUMNS}, got {plead}")
        effects = _frozen_frame(effects)
        if effects["term"].dtype != _STR_DTYPE:
            effects["term"] = effects["term"].astype(str)
        frozen_draws = {}
        for term, values in (draws or {}).items():
            array = np.array(values, dtype=float).ravel()
            array.flags.writeable = False
            frozen_draws[str(term)] = array
        values = {
            "estimator": str(estimator),
            "_effects_table": effects,
            "_effect_columns": None,
            "_settings": FrozenMapping(settings or {}),
            "_paths_table": None if paths is None else _frozen_frame(paths),
            "_diagnostics": MappingProxyType(
                {str(k): _frozen_frame(v) for k, v in (diagnostics or {}).items()}
            ),
            "n_obs": int(n_obs),
            "n_units": int(n_units),
            "n_clusters": None if n_clusters is None else int(n_clusters),
            "overall_term": str(overall_term),
            "_draws": FrozenMapping(frozen_draws),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def _from_parts(
        cls,
        *,
        estimator: str,
        effects: Mapping[str, Sequence[Any]],
        settings: Mapping[str, Any],
        paths: Callable[[], pd.DataFrame] | None,
        diagnostics: Mapping[str, TableSource],
        n_obs: int,
        n_units: int,
        n_clusters: int | None = None,
        overall_term: str = "att",
    ) -> ImpactResult:
        """A result from tables the estimator built itself (for estimators only).

        ``effects`` maps each column to its values (the canonical columns first);
        ``paths`` and the diagnostics may be functions that build their table. Each
        table is built on first access, so a Monte Carlo study that reads only the
        estimates never builds the others; tables are not copied, since nobody else
        holds them. The tables are the ones :class:`ImpactResult` would hold had it been
        given the built frames.
        """
        lead = tuple(effects)[: len(EFFECT_COLUMNS)]
        if lead != EFFECT_COLUMNS:
            raise ValueError(f"effects must start with the columns {EFFECT_COLUMNS}, got {lead}")
        result = object.__new__(cls)
        values = {
            "estimator": str(estimator),
            "_effects_table": None,
            "_effect_columns": {k: list(v) for k, v in effects.items()},
            "_settings": FrozenMapping(settings),
            "_paths_table": paths,
            "_diagnostics": _LazyTables({str(k): v for k, v in diagnostics.items()}),
            "n_obs": int(n_obs),
            "n_units": int(n_units),
            "n_clusters": None if n_clusters is None else int(n_clusters),
            "overall_term": str(overall_term),
            "_draws": FrozenMapping(),
        }
        for name, value in values.items():
            object.__setattr__(result, name, value)
        return result

    @property
    def _effects(self) -> pd.DataFrame:
        """The effects table itself (read only), built on first access."""
        table = self._effects_table
        if table is None:
            table = pd.DataFrame(self._effect_columns)
            if table["term"].dtype != _STR_DTYPE:
                table["term"] = table["term"].astype(str)
            object.__setattr__(self, "_effects_table", table)
        return table

    @property
    def _paths(self) -> pd.DataFrame | None:
        """The paths table itself (read only), built on first access."""
        table = self._paths_table
        if table is not None and not isinstance(table, pd.DataFrame):
            table = _own_frame(table())
            plead = tuple(table.columns[: len(PATH_COLUMNS)])
            if plead != PATH_COLUMNS:
                raise ValueError(f"paths must start with the columns {PATH_COLUMNS}, got {plead}")
            object.__setattr__(self, "_paths_table", table)
        return table

    def _estimates(self) -> tuple[list[str], np.ndarray]:
        """Terms and an array of ``estimate, std_error, ci_lower, ci_upper, p_value``.

        Read without building the effects table when it is not built yet.
        """
        columns = self._effect_columns if self._effects_table is None else None
        if columns is None:
            table = self._effects
            terms = table["term"].tolist()
            stats = [table[c].to_numpy(dtype=float) for c in EFFECT_COLUMNS[1:]]
        else:
            terms = [str(t) for t in columns["term"]]
            stats = [np.asarray(columns[c], dtype=float) for c in EFFECT_COLUMNS[1:]]
        return terms, np.column_stack(stats)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ImpactResult is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ImpactResult is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and deep-copy) the built tables, never the functions that build them."""
        values = slot_values(self)
        values.update(
            _effects_table=self._effects,
            _effect_columns=None,
            _paths_table=self._paths,
            _diagnostics=dict(self._diagnostics.items()),
        )
        return (_restore_result, (type(self), values))

    def __repr__(self) -> str:
        try:
            head = str(self.att)
        except DesignError:
            head = f"{len(self._effects)} terms"
        return f"ImpactResult({self.estimator}; {head})"

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # -------------------------------------------------------------- tables (copies)
    @property
    def effects(self) -> pd.DataFrame:
        """A copy of the effects table."""
        return self._effects.copy()

    @property
    def paths(self) -> pd.DataFrame | None:
        """A copy of the per-period paths, or None when the design has none."""
        return None if self._paths is None else self._paths.copy()

    @property
    def diagnostics(self) -> Mapping[str, pd.DataFrame]:
        """Named diagnostic tables (copies, in a read-only mapping)."""
        return MappingProxyType({k: v.copy() for k, v in self._diagnostics.items()})

    @property
    def draws(self) -> Mapping[str, np.ndarray]:
        """Sampling draws by term (read-only arrays in a read-only mapping; may be empty)."""
        return self._draws

    @property
    def settings(self) -> Mapping[str, Any]:
        """How the result was produced (a read-only mapping)."""
        return self._settings

    # -------------------------------------------------------------- effects
    def effect(self, term: str) -> Effect:
        """Return the effect of one term.

        Parameters
        ----------
        term : str
            A value of the ``term`` column.

        Returns
        -------
        Effect

        Raises
        ------
        DesignError
            When the result has no such term.
        """
        columns = self._effect_columns if self._effects_table is None else None
        if columns is not None:  # read the columns without building the table
            terms = [str(t) for t in columns["term"]]
            if str(term) in terms:
                i = terms.index(str(term))
                return Effect(terms[i], *(float(columns[c][i]) for c in EFFECT_COLUMNS[1:]))
        rows = self._effects.loc[self._effects["term"] == str(term)]
        if rows.empty:
            raise DesignError(
                f"this {self.estimator} result has no term {term!r}; terms are "
                f"{list(self._effects['term'])[:10]}"
            )
        row = rows.iloc[0]
        return Effect(str(row["term"]), *(float(row[c]) for c in EFFECT_COLUMNS[1:]))

    @property
    def att(self) -> Effect:
        """The overall effect (the row whose term is :attr:`overall_term`)."""
        return self.effect(self.overall_term)

    def to_frame(self) -> pd.DataFrame:
        """Return the effects table as a new DataFrame."""
        return self._effects.copy()

    # -------------------------------------------------------------- presentation
    def summary(self, *, robustness: bool = False) -> Summary:
        """Return a :class:`Summary` (text and HTML renderings); never prints.

        Parameters
        ----------
        robustness : bool, default False
            Add a ``robustness`` table: how far the design's assumption may fail before
            the conclusion changes, the pre-test's power and the few-cluster status, in
            words (:func:`impact.robustness`; the breakdown values of an event study
            take a few seconds, hence off by default).

        Returns
        -------
        Summary
        """
        settings = pd.DataFrame(
            {
                "setting": list(self._settings),
                "value": [format_value(v) for v in self._settings.values()],
            }
        )
        sample = pd.DataFrame(
            {
                "quantity": ["observations", "units", "clusters"],
                "value": [self.n_obs, self.n_units, self.n_clusters or "-"],
            },
            dtype=object,
        )
        tables: dict[str, pd.DataFrame] = {"effects": self.to_frame(), "sample": sample}
        if len(settings):
            tables["settings"] = settings
        for name, table in self._diagnostics.items():
            tables[f"diagnostics: {name}"] = table.copy()
        if "pretrend_test" in self._diagnostics and "event_covariance" in self._diagnostics:
            # the pre-test's power beside it: the linear divergence per period it detects
            # half the time and 80% of the time (Roth 2022)
            from impact.sensitivity.pretrends import pretest_power_row

            row = pretest_power_row(self, alpha=float(self._settings.get("alpha", 0.05)))
            if row is not None:
                tables["diagnostics: pretrend_test"] = tables["diagnostics: pretrend_test"].assign(
                    **row
                )
        if robustness:
            from impact.sensitivity.robustness import robustness as robustness_of

            tables["robustness"] = robustness_of(self).table
        return Summary(title=f"Impact estimate: {self.estimator}", tables=tables)

    def plot(self, kind: str = "paths", *, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the result with the function :data:`impact.plot_kinds.PLOT_KINDS` names.

        Parameters
        ----------
        kind : str, default "paths"
            One of :data:`impact.plot_kinds.PLOT_KINDS` (``"paths"``, ``"effects"``...).
        ax : matplotlib Axes, optional
            Axes to draw on; a new figure when omitted.
        **kwargs
            Passed to the plotting function.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from impact.plot_kinds import plot_function

        return plot_function(kind)(self, ax=ax, **kwargs)


def _restore_result(cls: type, values: dict[str, Any]) -> ImpactResult:
    """Rebuild a pickled result (see :meth:`ImpactResult.__reduce__`)."""
    values = dict(values, _diagnostics=MappingProxyType(dict(values["_diagnostics"])))
    return restore_slots(cls, values)


COLUMNS_SETTING = "columns"
"""Key of ``settings`` naming the Panel's unit, time and outcome columns (plots use it)."""


def record_columns(result: ImpactResult, panel: Any) -> ImpactResult:
    """Note ``panel``'s unit, time and outcome column names in ``result.settings``.

    Called once by :class:`~impact.estimators.Estimator` on the result a ``fit`` has
    just built, before anyone holds it; plots label their axes with these names.
    """
    if COLUMNS_SETTING in result._settings or not hasattr(panel, "outcome"):
        return result
    columns = {"unit": panel.unit, "time": panel.time, "outcome": panel.outcome}
    settings = FrozenMapping({**result._settings, COLUMNS_SETTING: columns})
    object.__setattr__(result, "_settings", settings)
    return result


def compare(results: Iterable[ImpactResult] | Mapping[str, ImpactResult]) -> pd.DataFrame:
    """Stack several results' effects with an ``estimator`` column in front.

    Parameters
    ----------
    results : iterable of ImpactResult, or mapping of label to ImpactResult
        With a mapping, the labels fill the ``estimator`` column; otherwise the
        estimators' registered names do.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> row = {"term": ["att"], "estimate": [1.0], "std_error": [0.1], "ci_lower": [0.8],
    ...        "ci_upper": [1.2], "p_value": [0.0]}
    >>> a = ImpactResult(estimator="did", effects=pd.DataFrame(row), n_obs=4, n_units=2)
    >>> compare({"first": a, "second": a})["estimator"].tolist()
    ['first', 'second']
    """
    items = results.items() if isinstance(results, Mapping) else ((r.estimator, r) for r in results)
    frames = []
    for label, result in items:
        frame = result.to_frame()
        frame.insert(0, "estimator", label)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["estimator", *EFFECT_COLUMNS])
    return pd.concat(frames, ignore_index=True, sort=False)


def effect_row(
    term: str,
    estimate: float,
    std_error: float,
    *,
    df: float | None = None,
    alpha: float,
    scale: float | None = None,
    announce: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """Build one effects row with a Wald interval and p-value.

    The interval and p-value come from :func:`impact.inference.wald.wald`: where the
    standard error is zero up to rounding (relative to ``scale``), not finite, or has
    no degrees of freedom, they are NaN, the standard error is reported as exactly 0
    (when zero up to rounding) and an :class:`~impact.exceptions.InferenceWarning`
    says the interval is undefined; see :mod:`impact.inference.wald`.

    Parameters
    ----------
    term : str
        Term label.
    estimate, std_error : float
        Point estimate and standard error.
    df : float, optional
        Degrees of freedom of a t reference distribution; normal when None.
    alpha : float
        One minus the interval's coverage.
    scale : float, optional
        The outcome's scale in the units of the estimate (its spread, floored by
        rounding of its level: :func:`~impact.inference.wald.outcome_scale`, for an
        effect measured in the outcome's units); ``None`` makes only an exactly
        zero standard error degenerate.
    announce : bool
        Warn when the interval is undefined.
    **extra
        Extra columns.

    Returns
    -------
    dict

    Examples
    --------
    >>> row = effect_row("att", 2.0, 0.5, alpha=0.05, scale=10.0)
    >>> round(row["ci_lower"], 2), round(row["p_value"], 5)
    (1.02, 6e-05)
    """
    from impact.inference.wald import wald_row

    se, lower, upper, p = wald_row(
        float(estimate),
        float(std_error),
        df,
        alpha,
        scale=0.0 if scale is None else float(scale),
        term=str(term),
        announce=announce,
    )
    return {
        "term": term,
        "estimate": float(estimate),
        "std_error": se,
        "ci_lower": lower,
        "ci_upper": upper,
        "p_value": p,
        **extra,
    }
