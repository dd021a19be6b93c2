"""Optional dependencies: import them on demand with a message naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingDependencyError", "import_optional"]


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def import_optional(module: str, *, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``extra``.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"pyarrow"``.
    extra : str
        The extra of the ``impact`` distribution that installs it, e.g. ``"parquet"``.
    purpose : str
        What the module is needed for, completing "... is needed to <purpose>".

    Returns
    -------
    module

    Examples
    --------
    >>> import_optional("json", extra="none", purpose="read JSON").__name__
    'json'
    >>> import_optional("no_such_module_xyz", extra="datasets", purpose="load it")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    impact._optional.MissingDependencyError: ... install it with: pip install "impact[datasets]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the module exists but something it imports is broken
        raise MissingDependencyError(
            f"the package {top!r} is needed to {purpose} but is not installed; install it "
            f'with: pip install "impact[{extra}]"'
        ) from None
