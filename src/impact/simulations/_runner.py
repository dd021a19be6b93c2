"""Running replications: the per-chunk worker and the serial, process and Dask backends.

A study is cut into chunks of consecutive replications. Replication ``i`` always draws
its data from the ``i``-th child of ``numpy.random.SeedSequence(seed)``, so a chunk's
output depends only on the replications it holds, and the study's output does not
depend on the backend, the number of workers or the chunk size.
"""

from __future__ import annotations

import math
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact._threads import single_blas_thread
from impact.simulations.scenario import Scenario
from impact.simulations.simulate import simulate

__all__ = ["Chunk", "child_seed", "run_chunks"]

RECORD_FIELDS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "ci_lower",
    "ci_upper",
    "p_value",
    "truth",
)
_MESSAGE_CHARS = 300
_DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


def child_seed(root: np.random.SeedSequence, rep: int) -> np.random.SeedSequence:
    """The ``rep``-th child of ``root``, as ``root.spawn(rep + 1)[rep]`` would give it."""
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, rep), pool_size=root.pool_size
    )


@dataclass
class Chunk:
    """The output of a run of consecutive replications.

    Attributes
    ----------
    start, stop : int
        Replications ``start..stop-1``.
    reps, estimators, terms : list
        One entry per scored (replication, estimator, term).
    values : list of tuple
        ``estimate, std_error, ci_lower, ci_upper, p_value, truth`` per entry.
    failures : list of tuple
        ``(rep, estimator, error type, message)`` per failed fit.
    warnings : list of tuple
        ``(estimator, category, message)`` per warning raised during a fit.
    """

    start: int
    stop: int
    reps: list[int]
    estimators: list[str]
    terms: list[str]
    values: list[tuple[float, ...]]
    failures: list[tuple[int, str, str, str]]
    warnings: list[tuple[str, str, str]]


def run_chunk(
    estimators: Mapping[str, Any],
    scenario: Scenario,
    root: np.random.SeedSequence,
    start: int,
    stop: int,
    terms: Sequence[str] | None,
) -> Chunk:
    """Simulate replications ``start..stop-1`` and fit every estimator to each."""
    out = Chunk(start, stop, [], [], [], [], [], [])
    wanted = None if terms is None else set(terms)
    for rep in range(start, stop):
        try:
            sim = simulate(scenario, seed=np.random.default_rng(child_seed(root, rep)))
        except Exception as exc:  # a draw the design cannot use counts against everyone
            for label in estimators:
                out.failures.append((rep, label, type(exc).__name__, _message(exc)))
            continue
        for label, estimator in estimators.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = estimator.fit(sim.panel)
                except Exception as exc:
                    out.failures.append((rep, label, type(exc).__name__, _message(exc)))
                    result = None
            for w in caught:
                out.warnings.append((label, w.category.__name__, _message(w.message)))
            if result is None:
                continue
            names, stats = result._estimates()  # read only: no copy of result.effects
            truth = sim._truth_of(names)  # only the kinds of term reported (kept per draw)
            for name, row in zip(names, stats, strict=True):
                value = truth.get(name)
                if value is None or (wanted is not None and name not in wanted):
                    continue
                out.reps.append(rep)
                out.estimators.append(label)
                out.terms.append(name)
                out.values.append((*row.tolist(), value))
    return out


def run_chunk_one_thread(*args: Any) -> Chunk:
    """:func:`run_chunk` with BLAS limited to one thread (serial and process backends)."""
    # a replication's matrices are small: BLAS threads only add overhead, and worker
    # processes would compete for the same cores
    with single_blas_thread():
        return run_chunk(*args)


def _message(exc: object) -> str:
    text = str(exc)
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


# ---------------------------------------------------------------------- backends
def _bounds(n_reps: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk_size, n_reps)) for s in range(0, n_reps, chunk_size)]


def _progress_bar(total: int, enabled: bool, desc: str) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, unit="rep", leave=False)


def resolve_backend(backend: Any, n_reps: int) -> str | Any:
    """Name the backend: ``"serial"``, ``"processes"``, or a Dask client."""
    if backend is None:
        many = (os.cpu_count() or 1) > 1 and n_reps >= 100
        return "processes" if many else "serial"
    if isinstance(backend, str):
        if backend in ("serial", "processes"):
            return backend
        if backend == "dask" or backend.startswith(_DASK_SCHEMES):
            return backend
        raise ValueError(
            f"backend={backend!r} is not valid; use 'serial', 'processes', a "
            "dask.distributed.Client or a scheduler address such as 'tcp://host:8786'"
        )
    if type(backend).__name__ == "Client" and hasattr(backend, "submit"):
        return backend
    raise ValueError(
        f"backend={backend!r} is not valid; use 'serial', 'processes', a "
        "dask.distributed.Client or a scheduler address"
    )


def run_chunks(
    estimators: Mapping[str, Any],
    scenario: Scenario,
    root: np.random.SeedSequence,
    n_reps: int,
    *,
    terms: Sequence[str] | None,
    backend: str | Any,
    n_workers: int | None,
    chunk_size: int | None,
    progress: bool,
) -> list[Chunk]:
    """Run ``n_reps`` replications on ``backend`` and return the chunks in order."""
    client, own_client = None, False
    if backend == "serial":
        workers = 1
    elif backend == "processes":
        workers = n_workers or os.cpu_count() or 1
    else:
        client, own_client = _dask_client(backend)
        workers = n_workers or max(1, sum(client.nthreads().values()))
    if chunk_size is None:
        # a few chunks per worker balances the load; serial chunks pace the progress bar
        per = 4 * max(workers, 1) if backend != "serial" else 20
        chunk_size = max(1, min(500, math.ceil(n_reps / per)))
    bounds = _bounds(n_reps, int(chunk_size))
    bar = _progress_bar(n_reps, progress, "replications")
    args = (estimators, scenario, root)

    def done(chunk: Chunk) -> Chunk:
        if bar is not None:
            bar.update(chunk.stop - chunk.start)
        return chunk

    try:
        if backend == "serial":
            with single_blas_thread():
                chunks = [done(run_chunk(*args, a, b, terms)) for a, b in bounds]
        elif backend == "processes":
            chunks = _run_processes(args, bounds, terms, workers, done)
        else:
            chunks = _run_dask(client, args, bounds, terms, done)
    finally:
        if bar is not None:
            bar.close()
        if own_client:
            client.close()
    return sorted(chunks, key=lambda c: c.start)


def _run_processes(
    args: tuple[Any, ...],
    bounds: list[tuple[int, int]],
    terms: Sequence[str] | None,
    workers: int,
    done: Callable[[Chunk], Chunk],
) -> list[Chunk]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=min(workers, len(bounds)), backend="loky", return_as="generator")
    results: Iterator[Chunk] = parallel(
        delayed(run_chunk_one_thread)(*args, a, b, terms) for a, b in bounds
    )
    return [done(chunk) for chunk in results]


def _dask_client(backend: Any) -> tuple[Any, bool]:
    """The Dask client to use, and whether this study opened it (and must close it)."""
    if not isinstance(backend, str):
        return backend, False
    try:
        from distributed import Client, get_client
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Dask backend needs dask.distributed: pip install 'impact[dask]'"
        ) from exc
    if backend == "dask":
        return get_client(), False
    return Client(backend), True


def _run_dask(
    client: Any,
    args: tuple[Any, ...],
    bounds: list[tuple[int, int]],
    terms: Sequence[str] | None,
    done: Callable[[Chunk], Chunk],
) -> list[Chunk]:
    from distributed import as_completed

    study = uuid.uuid4().hex[:12]
    futures = [
        client.submit(run_chunk, *args, a, b, terms, pure=False, key=f"impact-{study}-{a}")
        for a, b in bounds
    ]
    return [done(future.result()) for future in as_completed(futures)]
