"""Score estimators over simulated cohorts: :func:`monte_carlo`, :class:`ValidationReport`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact._frozen import FrozenMapping, restore_slots, slot_values
from impact.estimators._base import check_alpha
from impact.exceptions import DesignError
from impact.registry import get_estimator
from impact.result import Summary
from impact.simulations._runner import RECORD_FIELDS, resolve_backend, run_chunks
from impact.simulations.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["REPORT_COLUMNS", "ValidationReport", "monte_carlo"]

REPORT_COLUMNS: tuple[str, ...] = (
    "estimator",
    "term",
    "truth",
    "mean_estimate",
    "bias",
    "rmse",
    "coverage",
    "coverage_mcse",
    "mean_ci_width",
    "rejection_rate",
    "n_reps",
    "n_failed",
)
"""Columns of :meth:`ValidationReport.to_frame`."""

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


class ValidationReport:
    """How well estimators recovered the truth over replications of a scenario.

    Attributes
    ----------
    replications : pandas.DataFrame
        One row per replication, estimator and scored term: ``rep, estimator, term,
        estimate, std_error, ci_lower, ci_upper, p_value, truth``.
    failures : pandas.DataFrame
        Failed fits grouped by ``estimator, error, message`` with their ``count`` and
        ``first_rep``.
    warnings : pandas.DataFrame
        Warnings raised during fits, grouped by ``estimator, category, message`` with
        their ``count`` (recorded per process: with several threads per Dask worker
        the counts may be incomplete, since Python's warning filters are global).
    settings : mapping
        ``scenario``, ``n_reps``, ``seed`` (the root entropy), ``alpha``,
        ``estimators`` (label to hyperparameters) and ``terms``.
    """

    __slots__ = ("_failures", "_replications", "_table", "_warnings", "settings")

    def __init__(
        self,
        *,
        table: pd.DataFrame,
        replications: pd.DataFrame,
        failures: pd.DataFrame,
        warnings: pd.DataFrame,
        settings: Mapping[str, Any],
    ) -> None:
        for name, value in {
            "_table": table,
            "_replications": replications,
            "_failures": failures,
            "_warnings": warnings,
            "settings": FrozenMapping(settings),
        }.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ValidationReport is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (restore_slots, (type(self), slot_values(self)))

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication, estimator and scored term (a copy)."""
        return self._replications.copy()

    @property
    def failures(self) -> pd.DataFrame:
        """Failed fits grouped by estimator, error and message (a copy)."""
        return self._failures.copy()

    @property
    def warnings(self) -> pd.DataFrame:
        """Warnings raised during fits, grouped by estimator, category and message (a copy)."""
        return self._warnings.copy()

    def __repr__(self) -> str:
        return (
            f"ValidationReport({len(self._table)} estimator-terms over "
            f"{self.settings['n_reps']} replications)"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator and term, with the columns of :data:`REPORT_COLUMNS`.

        ``truth`` is the mean true value over replications (the truth of a term can
        vary between draws, e.g. with heterogeneous effects); ``bias``, ``rmse`` and
        ``coverage`` compare each replication with its own truth. ``coverage_mcse``
        is the Monte Carlo standard error of ``coverage``; ``rejection_rate`` the
        share of p-values below ``alpha`` (the size when the truth is zero, the power
        otherwise); ``n_reps`` counts the replications scored for the term and
        ``n_failed`` the replications in which the estimator raised.
        """
        return self._table.copy()

    def summary(self) -> Summary:
        """Tables of the report (validation, failures, warnings, settings); never prints."""
        settings = pd.DataFrame(
            {
                "setting": ["n_reps", "seed", "alpha", "terms", "scenario"],
                "value": [
                    str(self.settings["n_reps"]),
                    str(self.settings["seed"]),
                    str(self.settings["alpha"]),
                    str(self.settings["terms"]),
                    self.settings["scenario"].describe(),
                ],
            }
        )
        tables = {"validation": self.to_frame()}
        if len(self._failures):
            tables["failures"] = self.failures
        if len(self._warnings):
            tables["warnings"] = self.warnings
        tables["settings"] = settings
        return Summary(title="Monte Carlo validation", tables=tables)

    def plot(self, kind: str = "coverage", *, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the report; see :func:`impact.plotting.simulations.plot_validation`."""
        from impact.plotting.simulations import plot_validation

        return plot_validation(self, kind=kind, ax=ax, **kwargs)


def _labelled(estimators: Any) -> dict[str, Any]:
    """Normalise ``estimators`` to an ordered ``{label: estimator}`` mapping."""
    if isinstance(estimators, Mapping):
        items = [(str(k), v) for k, v in estimators.items()]
    else:
        if isinstance(estimators, str) or hasattr(estimators, "fit"):
            estimators = [estimators]
        if not isinstance(estimators, Iterable):
            raise DesignError(
                f"estimators={estimators!r} must be an estimator, a list of estimators "
                "(or registered names), or a mapping {label: estimator}"
            )
        items = []
        for est in estimators:
            label = est if isinstance(est, str) else getattr(est, "name", "") or type(est).__name__
            items.append((label, est))
    if not items:
        raise DesignError("no estimators given: pass a list of estimators or a mapping")
    out: dict[str, Any] = {}
    for label, est in items:
        if label in out:
            raise DesignError(
                f"estimator label {label!r} appears twice; pass a mapping "
                "{label: estimator} to compare two configurations of one estimator"
            )
        est = get_estimator(est) if isinstance(est, str) else est
        if not callable(getattr(est, "fit", None)):
            raise DesignError(f"{label!r} is not an estimator: it has no fit(panel) method")
        out[label] = est
    return out


def _root_seed(seed: SeedLike) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise DesignError(f"seed={seed!r} must be an int, a SeedSequence, a Generator or None")
    if seed is not None and seed < 0:
        raise DesignError(f"seed={seed!r} must be a non-negative integer")
    return np.random.SeedSequence(seed)


def _params(est: Any) -> dict[str, Any]:
    get = getattr(est, "get_params", None)
    return dict(get()) if callable(get) else {}


def monte_carlo(
    estimators: Any,
    scenario: Scenario,
    *,
    n_reps: int,
    seed: SeedLike,
    backend: Any = None,
    n_workers: int | None = None,
    progress: bool = True,
    alpha: float = ALPHA,
    terms: Sequence[str] | None = None,
    chunk_size: int | None = None,
    learner_threads: int | None = None,
) -> ValidationReport:
    """Fit estimators to many simulated cohorts and score them against the truth.

    Every estimator sees the same simulated panels. Replication ``i`` draws its data
    from the ``i``-th child of ``numpy.random.SeedSequence(seed)``, so the report is
    bit-identical whatever the backend, the number of workers and the chunk size.

    Parameters
    ----------
    estimators : estimator, name, list of them, or mapping of label to estimator
        What to validate. With a list, the report's ``estimator`` column holds the
        registered names; a mapping's labels let two configurations of one estimator
        be compared.
    scenario : Scenario
        The design and truth to simulate.
    n_reps : int
        Number of replications.
    seed : int, numpy.random.SeedSequence, numpy.random.Generator or None
        Root of the replications' seeds (a Generator gives one draw of entropy; None
        fresh entropy, recorded in ``settings["seed"]``).
    backend : {"serial", "processes"}, dask.distributed.Client, str or None
        Where replications run. ``"serial"``: this process. ``"processes"``: this
        process and ``n_workers - 1`` local worker processes (joblib's loky, kept up
        between studies), taking chunks from one queue. A ``dask.distributed.Client``,
        a scheduler address (``"tcp://host:8786"``) or ``"dask"`` (the current client):
        a Dask cluster (``pip install 'impact[dask]'``). ``None``: on a machine with
        several CPUs, this process times a first small chunk and starts the worker
        processes only if the rest of the study would take longer than starting them
        (about a second; a quarter of one when they are still up from an earlier
        study); serially otherwise.
    n_workers : int, optional
        Processes working on the study, this one included (default: all CPUs); with
        Dask it only sets the chunking.
    progress : bool, default True
        Show a progress bar (tqdm) when standard error is a terminal.
    alpha : float, default 0.05
        Level of the tests whose rejection rate is reported. Coverage is that of the
        estimators' own intervals (set their ``alpha`` to match).
    terms : sequence of str, optional
        Score only these terms (default: every term an estimator reports that has a
        truth, see :mod:`impact.terms`).
    chunk_size : int, optional
        Replications per chunk. By default about ten chunks per worker in local
        processes, shrinking towards the end so the workers finish together; four per
        worker on Dask; twenty serially.
    learner_threads : int, optional
        Threads (OpenMP and BLAS) each scikit-learn learner fit may use, e.g. the
        gradient boosting of ``StaggeredDiD(outcome_model=...)``. By default the CPUs
        are shared out among local worker processes (``cpu_count // n_workers``, at
        least one), a Dask task gets one (each Dask worker thread runs its own task),
        and serially learners keep their own defaults. Without the cap every worker's
        learner starts a thread per core and they fight over the same cores. (The
        OpenMP cap holds per thread; BLAS caps are process-wide, so in a Dask worker
        running several threads another task finishing may lift them.)

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> import impact
    >>> from impact.simulations import Scenario, monte_carlo
    >>> scenario = Scenario(n_units=30, n_periods=4, adoption_period=3, effect=1.0)
    >>> report = monte_carlo([impact.DifferenceInDifferences()], scenario, n_reps=20,
    ...                      seed=1, backend="serial")
    >>> row = report.to_frame().iloc[0]
    >>> row["estimator"], row["term"], float(row["truth"]), int(row["n_reps"])
    ('did', 'att', 1.0, 20)
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"expected a Scenario, got {type(scenario).__name__}")
    if isinstance(n_reps, bool) or not isinstance(n_reps, int | np.integer) or n_reps < 1:
        raise DesignError(f"n_reps={n_reps!r} must be a positive integer")
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int | np.integer) or n_workers < 1
    ):
        raise DesignError(f"n_workers={n_workers!r} must be a positive integer or None")
    if learner_threads is not None and (
        isinstance(learner_threads, bool)
        or not isinstance(learner_threads, int | np.integer)
        or learner_threads < 1
    ):
        raise DesignError(f"learner_threads={learner_threads!r} must be a positive integer or None")
    check_alpha(alpha)
    labelled = _labelled(estimators)
    root = _root_seed(seed)
    kind = resolve_backend(backend, int(n_reps))
    chunks = run_chunks(
        labelled,
        scenario,
        root,
        int(n_reps),
        terms=None if terms is None else tuple(terms),
        backend=kind,
        n_workers=n_workers,
        chunk_size=chunk_size,
        progress=progress,
        learner_threads=learner_threads,
    )
    return _report(labelled, scenario, root, int(n_reps), chunks, alpha, terms)


def _report(
    labelled: Mapping[str, Any],
    scenario: Scenario,
    root: np.random.SeedSequence,
    n_reps: int,
    chunks: list[Any],
    alpha: float,
    terms: Sequence[str] | None,
) -> ValidationReport:
    reps = [r for c in chunks for r in c.reps]
    values = np.array([v for c in chunks for v in c.values], dtype=float).reshape(
        -1, len(RECORD_FIELDS)
    )
    replications = pd.DataFrame(
        {
            "rep": np.asarray(reps, dtype=np.int64),
            "estimator": [e for c in chunks for e in c.estimators],
            "term": [t for c in chunks for t in c.terms],
            **{name: values[:, j] for j, name in enumerate(RECORD_FIELDS)},
        }
    )
    fail_rows = [f for c in chunks for f in c.failures]
    failures = pd.DataFrame(fail_rows, columns=["rep", "estimator", "error", "message"])
    n_failed = failures.groupby("estimator")["rep"].nunique().to_dict() if len(failures) else {}
    if len(failures):
        failures = (
            failures.groupby(["estimator", "error", "message"], sort=False)
            .agg(count=("rep", "size"), first_rep=("rep", "min"))
            .reset_index()
        )
    else:
        failures = pd.DataFrame(columns=["estimator", "error", "message", "count", "first_rep"])
    warn_rows = [w for c in chunks for w in c.warnings]
    if warn_rows:
        warnings_table = (
            pd.DataFrame(warn_rows, columns=["estimator", "category", "message"])
            .groupby(["estimator", "category", "message"], sort=False)
            .size()
            .rename("count")
            .reset_index()
        )
    else:
        warnings_table = pd.DataFrame(columns=["estimator", "category", "message", "count"])

    rows = []
    for label in labelled:
        mine = replications.loc[replications["estimator"] == label]
        if mine.empty:
            rows.append({"estimator": label, "term": None, "n_reps": 0})
        for term, group in mine.groupby("term", sort=False):
            rows.append({"estimator": label, "term": term, **_score(group, alpha)})
        for row in rows:
            if row["estimator"] == label:
                row["n_failed"] = int(n_failed.get(label, 0))
    table = pd.DataFrame(rows).reindex(columns=list(REPORT_COLUMNS))
    table["n_reps"] = table["n_reps"].astype(np.int64)
    table["n_failed"] = table["n_failed"].astype(np.int64)
    settings = {
        "scenario": scenario,
        "n_reps": n_reps,
        "seed": root.entropy,
        "alpha": alpha,
        "terms": None if terms is None else tuple(terms),
        "estimators": {label: _params(est) for label, est in labelled.items()},
    }
    return ValidationReport(
        table=table,
        replications=replications,
        failures=failures,
        warnings=warnings_table,
        settings=settings,
    )


def _score(group: pd.DataFrame, alpha: float) -> dict[str, float]:
    est = group["estimate"].to_numpy()
    truth = group["truth"].to_numpy()
    lower, upper = group["ci_lower"].to_numpy(), group["ci_upper"].to_numpy()
    err = est - truth
    n = len(est)
    covered = (lower <= truth) & (truth <= upper)
    coverage = float(covered.mean())
    return {
        "truth": float(truth.mean()),
        "mean_estimate": float(est.mean()),
        "bias": float(err.mean()),
        "rmse": float(math.sqrt(np.mean(err**2))),
        "coverage": coverage,
        "coverage_mcse": float(math.sqrt(coverage * (1 - coverage) / n)),
        "mean_ci_width": float(np.mean(upper - lower)),
        "rejection_rate": float(np.mean(group["p_value"].to_numpy() < alpha)),
        "n_reps": n,
    }
