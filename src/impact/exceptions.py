"""Errors and warnings raised by :mod:`impact`.

Every error the package raises on purpose derives from :class:`ImpactError`, and every
warning from :class:`ImpactWarning`, so a caller can catch or filter them all at once::

    Exception
    └── ImpactError
        ├── DataError(ImpactError, ValueError)           the frame itself is wrong
        ├── DesignError(ImpactError, ValueError)         valid data that does not fit the design
        ├── UnknownEstimatorError(ImpactError, KeyError) no estimator of that name
        └── EstimationError(ImpactError, RuntimeError)   a fit failed numerically

    UserWarning
    └── ImpactWarning
        ├── DataWarning        rows dropped or data repaired
        ├── DesignWarning      a term dropped, a cell skipped, a weak design
        └── InferenceWarning   standard errors that may be unreliable (few clusters, ...)

Messages name the column, unit or value at fault and say what was expected.
"""

from __future__ import annotations

import warnings
from pathlib import Path

__all__ = [
    "DataError",
    "DataWarning",
    "DesignError",
    "DesignWarning",
    "EstimationError",
    "ImpactError",
    "ImpactWarning",
    "InferenceWarning",
    "UnknownEstimatorError",
]


class ImpactError(Exception):
    """Root of every error raised on purpose by :mod:`impact`."""


class DataError(ImpactError, ValueError):
    """The input frame is malformed: a missing column, a wrong type, a bad value."""


class DesignError(ImpactError, ValueError):
    """The data are valid but do not fit the design (no controls, no pre-periods, ...)."""


class UnknownEstimatorError(ImpactError, KeyError):
    """No estimator is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EstimationError(ImpactError, RuntimeError):
    """The estimation failed numerically (singular design, no convergence)."""


class ImpactWarning(UserWarning):
    """Root of every warning issued by :mod:`impact`."""


class DataWarning(ImpactWarning):
    """Rows were dropped or values repaired while reading the data."""


class DesignWarning(ImpactWarning):
    """A term was dropped, a cell skipped, or the design is weak."""


class InferenceWarning(ImpactWarning):
    """The standard errors or intervals may be unreliable."""


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def warn(message: str, category: type[ImpactWarning] = ImpactWarning) -> None:
    """Issue ``message`` so that it points at the first frame outside :mod:`impact`.

    Parameters
    ----------
    message : str
        The warning text.
    category : type of ImpactWarning
        The warning class.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("two rows dropped", DataWarning)
    >>> caught[0].category.__name__
    'DataWarning'
    """
    import sys

    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
