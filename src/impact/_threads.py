"""Thread limits: one BLAS thread for matrix products, a thread budget for learners.

The estimators' matrix products are small and run best on one BLAS thread; the
scikit-learn learners fitted inside parallel Monte Carlo workers get a budget.

``threadpoolctl.threadpool_limits`` scans the loaded libraries on every call (a few
milliseconds); the controllers here scan once, on first use (the learners' again only
when modules were imported since, which may have loaded another OpenMP runtime).

Learner threads
    A gradient-boosting learner (scikit-learn's histogram gradient boosting, LightGBM,
    XGBoost) starts one OpenMP thread per core. Run inside ``w`` Monte Carlo worker
    processes on ``c`` cores, that is ``w x c`` busy threads fighting over ``c``
    cores. :func:`learner_thread_budget` sets, for the code it wraps, how many threads
    each learner fit and prediction may use (OpenMP and BLAS alike), and
    :func:`limit_learner_threads` applies that budget around each fit. Outside a
    budget (a single fit in the user's session) learners keep their own defaults.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = [
    "learner_thread_budget",
    "learner_threads",
    "limit_learner_threads",
    "single_blas_thread",
]

_BUDGET: ContextVar[int | None] = ContextVar("impact_learner_threads", default=None)
_LEARNER_CONTROLLER: list[Any] = [None, -1]  # the controller, len(sys.modules) at its scan


@cache
def _controller() -> ThreadpoolController:
    import scipy.linalg  # noqa: F401  (load scipy's BLAS before the scan)

    return ThreadpoolController()


def single_blas_thread() -> Any:
    """Context manager limiting BLAS libraries to one thread.

    Examples
    --------
    >>> import numpy as np
    >>> with single_blas_thread():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """
    return _controller().limit(limits=1, user_api="blas")


@contextmanager
def learner_thread_budget(threads: int | None) -> Iterator[None]:
    """Within this block, learner fits use at most ``threads`` threads (None: no cap).

    Examples
    --------
    >>> with learner_thread_budget(1):
    ...     learner_threads()
    1
    >>> learner_threads() is None
    True
    """
    token = _BUDGET.set(threads)
    try:
        yield
    finally:
        _BUDGET.reset(token)


def learner_threads() -> int | None:
    """The learner thread budget in force here (None: none set)."""
    return _BUDGET.get()


def _learner_controller() -> ThreadpoolController:
    """A controller that knows every thread pool loaded so far (rescans after imports)."""
    controller, seen = _LEARNER_CONTROLLER
    if controller is None or seen != len(sys.modules):
        import scipy.linalg  # noqa: F401  (load scipy's BLAS before the scan)

        controller = ThreadpoolController()
        _LEARNER_CONTROLLER[:] = [controller, len(sys.modules)]
    return controller


def limit_learner_threads() -> Any:
    """Context manager applying the learner thread budget (OpenMP and BLAS), if any.

    Examples
    --------
    >>> with learner_thread_budget(1), limit_learner_threads():
    ...     pass
    """
    threads = _BUDGET.get()
    if threads is None:
        return nullcontext()
    return _learner_controller().limit(limits=int(threads))
