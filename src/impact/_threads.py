"""One BLAS thread for the tall, thin matrix products of the estimators.

``threadpoolctl.threadpool_limits`` scans the loaded libraries on every call (a few
milliseconds); the controller here scans once, on first use, after numpy and scipy
have loaded their BLAS.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["single_blas_thread"]


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
