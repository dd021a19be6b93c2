"""Warnings of numpy, pandas or statsmodels about the user's data, in the package's words.

A ``RuntimeWarning: invalid value encountered in sqrt`` or a statsmodels
``SingularMatrixWarning`` tells the user neither what went wrong with their data nor
which warning class to filter. :func:`in_own_words` runs a block and re-issues such
warnings as one of the package's own classes, saying what was being done; warnings
of the package raised inside the block pass through unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from impact.exceptions import ImpactWarning, warn

__all__ = ["in_own_words"]


@contextmanager
def in_own_words(category: type[ImpactWarning], doing: str, advice: str = "") -> Iterator[None]:
    """Re-issue warnings of other libraries raised in the block as ``category``.

    Parameters
    ----------
    category : type of ImpactWarning
        The package's warning class to use (InferenceWarning, DataWarning...).
    doing : str
        What the block does, e.g. ``"the regression on the matched sample"``.
    advice : str, optional
        What the user can do, appended to the message.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from impact.exceptions import InferenceWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with in_own_words(InferenceWarning, "the standard error"):
    ...         _ = np.sqrt(np.array([-1.0]))
    >>> caught[0].category.__name__, str(caught[0].message)
    ('InferenceWarning', 'the standard error: invalid value encountered in sqrt (RuntimeWarning)')
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for item in caught:
        if issubclass(item.category, ImpactWarning):
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
            continue
        text = f"{doing}: {item.message} ({item.category.__name__})"
        if text in seen:
            continue
        seen.add(text)
        warn(f"{text}; {advice}" if advice else text, category)
