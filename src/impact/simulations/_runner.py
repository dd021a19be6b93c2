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
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact._threads import learner_thread_budget, single_blas_thread
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
MIN_AUTO_REPS = 10
"""Fewest replications for which ``backend=None`` considers worker processes."""
AUTO_START_SECONDS = 1.0
"""``backend=None`` starts worker processes when the study would take longer than this
in one process: about what fresh workers take to start (import the package)."""
AUTO_WARM_SECONDS = 0.25
"""The same, when this process's worker processes ran a study in the last few minutes
(they are still up)."""
_HELPERS_USED: dict[int, float] = {}  # number of helpers -> when they last finished
WORKER_IDLE_SECONDS = 300
"""Idle worker processes stay up this long, ready for the next study."""
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


def run_chunk_one_thread(threads: int | None, *args: Any) -> Chunk:
    """:func:`run_chunk` with BLAS limited to one thread and learners to ``threads``."""
    # a replication's matrices are small: BLAS threads only add overhead, and worker
    # processes would compete for the same cores
    with single_blas_thread(), learner_thread_budget(threads):
        return run_chunk(*args)


def run_chunk_capped(threads: int | None, *args: Any) -> Chunk:
    """:func:`run_chunk` with learners limited to ``threads`` threads (Dask workers)."""
    with learner_thread_budget(threads):
        return run_chunk(*args)


def learner_budget(backend: str | Any, workers: int, override: int | None) -> int | None:
    """Threads each learner fit may use: the cores shared out among the workers.

    ``override`` (``monte_carlo(learner_threads=...)``) wins. Serially there is no cap
    (a learner may use every core); local worker processes share the CPUs
    (``cpu_count // workers``, at least one); a Dask task gets one thread, since each
    Dask worker thread runs a task of its own.

    Examples
    --------
    >>> learner_budget("serial", 1, None) is None, learner_budget("dask", 8, None)
    (True, 1)
    >>> learner_budget("processes", 2, 3)
    3
    """
    if override is not None:
        return int(override)
    if backend == "serial":
        return None
    if backend in ("processes", "auto"):
        return max(1, (os.cpu_count() or 1) // max(1, workers))
    return 1


def _message(exc: object) -> str:
    text = str(exc)
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


# ---------------------------------------------------------------------- backends
def _progress_bar(total: int, enabled: bool, desc: str) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, unit="rep", leave=False)


def resolve_backend(backend: Any, n_reps: int) -> str | Any:
    """Name the backend: ``"serial"``, ``"processes"``, ``"auto"`` or a Dask client.

    ``None`` gives ``"auto"`` (processes once the first chunk shows the study is long
    enough to repay starting them) on a machine with several CPUs and at least
    :data:`MIN_AUTO_REPS` replications, ``"serial"`` otherwise.
    """
    if backend is None:
        many = (os.cpu_count() or 1) > 1 and n_reps >= MIN_AUTO_REPS
        return "auto" if many else "serial"
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


def default_chunk_size(n_reps: int, workers: int, backend: str | Any) -> int:
    """Replications per chunk by default.

    Twenty chunks serially (they pace the progress bar); ten per worker in local
    processes, where the chunks also shrink towards the end of the study so that the
    workers finish together; four per worker on Dask, whose tasks cost more to send.
    """
    if backend == "serial":
        per = 20
    else:
        per = (10 if backend in ("processes", "auto") else 4) * max(workers, 1)
    return max(1, min(500, math.ceil(n_reps / per)))


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
    learner_threads: int | None = None,
) -> list[Chunk]:
    """Run ``n_reps`` replications on ``backend`` and return the chunks in order."""
    client, own_client = None, False
    if backend == "serial":
        workers = 1
    elif backend in ("processes", "auto"):
        workers = n_workers or os.cpu_count() or 1
    else:
        client, own_client = _dask_client(backend)
        workers = n_workers or max(1, sum(client.nthreads().values()))
    shrink = chunk_size is None and backend in ("processes", "auto")
    if chunk_size is None:
        chunk_size = default_chunk_size(n_reps, workers, backend)
    queue = _ChunkQueue(n_reps, int(chunk_size), workers=workers, shrink=shrink)
    bar = _progress_bar(n_reps, progress, "replications")
    args = (estimators, scenario, root)
    threads = learner_budget(backend, workers, learner_threads)

    def done(chunk: Chunk) -> Chunk:
        if bar is not None:
            bar.update(chunk.stop - chunk.start)
        return chunk

    try:
        if backend in ("serial", "processes", "auto"):
            helpers = 0 if backend == "serial" else workers - 1
            chunks = _run_local(
                args, queue, terms, helpers, done, eager=backend != "auto", threads=threads
            )
        else:
            chunks = _run_dask(client, args, queue.take_all(), terms, done, threads)
    finally:
        if bar is not None:
            bar.close()
        if own_client:
            client.close()
    return sorted(chunks, key=lambda c: c.start)


class _ChunkQueue:
    """The replications not yet started, taken a chunk at a time by every worker.

    With ``shrink``, chunks get smaller as the study nears its end (each about
    ``1 / (2 * workers)`` of what is left, at most ``size``, at least a tenth of it), so
    the workers finish together; otherwise every chunk holds ``size`` replications.
    """

    def __init__(self, n_reps: int, size: int, *, workers: int = 1, shrink: bool = False):
        self._next, self._stop, self._size = 0, n_reps, max(1, size)
        self._share = 2 * max(1, workers) if shrink else 0
        self._smallest = max(1, self._size // 10)
        self._lock = threading.Lock()

    def take(self, smallest: bool = False) -> tuple[int, int] | None:
        """The next chunk's ``(start, stop)`` (the smallest size if asked), or None."""
        with self._lock:
            start, left = self._next, self._stop - self._next
            if left <= 0:
                return None
            size = self._size
            if smallest:
                size = self._smallest
            elif self._share:
                size = min(size, max(self._smallest, math.ceil(left / self._share)))
            self._next = min(start + size, self._stop)
            return start, self._next

    def take_all(self) -> list[tuple[int, int]]:
        out = []
        while (bounds := self.take()) is not None:
            out.append(bounds)
        return out

    def drop(self) -> None:
        with self._lock:
            self._next = self._stop

    def remaining(self) -> int:
        with self._lock:
            return self._stop - self._next


def _run_local(
    args: tuple[Any, ...],
    queue: _ChunkQueue,
    terms: Sequence[str] | None,
    helpers: int,
    done: Callable[[Chunk], Chunk],
    *,
    eager: bool,
    threads: int | None = None,
) -> list[Chunk]:
    """Run chunks in this process, with ``helpers`` worker processes taking their share.

    This process is one of the workers: it takes chunks from the same queue as the
    helper processes, so a study starts at once while the helpers start up, and a
    machine with ``w`` cores runs ``w`` processes, not ``w`` workers and an idle
    parent. With ``eager=False`` this process first times a small chunk alone, and
    starts the helpers only if the rest of the study would take longer here than
    starting them costs (:data:`AUTO_START_SECONDS`, or :data:`AUTO_WARM_SECONDS` when
    they are still up from an earlier study).
    """
    chunks: list[Chunk] = []
    pool = (
        _HelperPool(args, queue, terms, done, threads).start(helpers)
        if helpers > 0 and eager
        else None
    )
    probe = helpers > 0 and pool is None  # time a small first chunk, then decide
    try:
        # this process is one of the workers: its learners share the cores likewise
        with single_blas_thread(), learner_thread_budget(threads):
            while (bounds := queue.take(smallest=probe)) is not None:
                began = time.perf_counter()
                chunks.append(done(run_chunk(*args, *bounds, terms)))
                if probe:
                    probe = False
                    per_rep = (time.perf_counter() - began) / (bounds[1] - bounds[0])
                    if per_rep * queue.remaining() > _start_up_seconds(helpers):
                        pool = _HelperPool(args, queue, terms, done, threads).start(helpers)
                if pool is not None and pool.error is not None:
                    break
    except BaseException:
        queue.drop()  # the helpers get no more work; theirs finishes on its own
        raise
    if pool is not None:
        chunks.extend(pool.join())
        if pool.ready:
            _HELPERS_USED[helpers] = time.monotonic()
    return chunks


def _start_up_seconds(helpers: int) -> float:
    """What starting ``helpers`` worker processes costs: little if they are still up."""
    last = _HELPERS_USED.get(helpers)
    warm = last is not None and time.monotonic() - last < 0.9 * WORKER_IDLE_SECONDS
    return AUTO_WARM_SECONDS if warm else AUTO_START_SECONDS


def _executor(helpers: int) -> Any:
    """The worker processes (loky's reusable executor: kept up between studies)."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=helpers, timeout=WORKER_IDLE_SECONDS)


def _worker_ready() -> int:
    """Run in a worker: returns once the worker has started and imported the package."""
    return os.getpid()


class _HelperPool:
    """Worker processes fed from the study's queue by a thread of this process.

    Each worker first answers a ready call (a fresh one must start and import the
    package, about a second); only then does it get chunks, two at a time so it never
    waits for the next. A study that this process finishes before the workers are
    ready does not wait for them.
    """

    _POLL_SECONDS = 0.05  # how often a thread waiting for workers checks the queue

    def __init__(
        self,
        args: tuple[Any, ...],
        queue: _ChunkQueue,
        terms: Sequence[str] | None,
        done: Callable[[Chunk], Chunk],
        threads: int | None = None,
    ) -> None:
        self._args, self._queue, self._terms, self._done = args, queue, terms, done
        self._threads = threads  # each learner fit's thread budget in the workers
        self._chunks: list[Chunk] = []
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.ready = False  # whether a worker answered (it is up for the next study)

    def start(self, helpers: int) -> _HelperPool:
        """Start feeding ``helpers`` worker processes from a thread; returns the pool."""
        self._thread = threading.Thread(
            target=self._collect, args=(helpers,), name="impact-helpers", daemon=True
        )
        self._thread.start()
        return self

    def _collect(self, helpers: int) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait

        try:
            executor = _executor(helpers)
            pending_ready = {executor.submit(_worker_ready) for _ in range(helpers)}
            running: set[Any] = set()
            slots = 0
            while running or (pending_ready and self._queue.remaining()):
                timeout = self._POLL_SECONDS if pending_ready else None
                finished, _ = wait(
                    running | pending_ready, timeout=timeout, return_when=FIRST_COMPLETED
                )
                for future in finished:
                    if future in pending_ready:
                        pending_ready.discard(future)
                        future.result()
                        slots, self.ready = slots + 2, True
                    else:
                        running.discard(future)
                        self._chunks.append(self._done(future.result()))
                while len(running) < slots and (bounds := self._queue.take()) is not None:
                    running.add(
                        executor.submit(
                            run_chunk_one_thread, self._threads, *self._args, *bounds, self._terms
                        )
                    )
        except BaseException as exc:  # re-raised in the calling thread by join()
            self.error = exc
            self._queue.drop()

    def join(self) -> list[Chunk]:
        """Wait for the chunks the workers hold; raise what went wrong there."""
        assert self._thread is not None
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self._chunks


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
    threads: int | None = None,
) -> list[Chunk]:
    from distributed import as_completed

    study = uuid.uuid4().hex[:12]
    futures = [
        client.submit(
            run_chunk_capped, threads, *args, a, b, terms, pure=False, key=f"impact-{study}-{a}"
        )
        for a, b in bounds
    ]
    return [done(future.result()) for future in as_completed(futures)]
