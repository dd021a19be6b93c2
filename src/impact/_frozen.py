"""Read-only containers for immutable values that must also travel (pickle, deep copy).

``types.MappingProxyType`` is read-only but cannot be pickled, and a list kept inside
a frozen result can still be changed in place. :func:`freeze` turns a value into one
that can be neither: mappings become :class:`FrozenMapping`, lists and tuples become
tuples, sets frozensets and arrays read-only copies, recursively.
:func:`restore_slots` rebuilds an object with ``__slots__`` that refuses
``__setattr__``, for the ``__reduce__`` of the package's immutable classes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["FrozenMapping", "freeze", "read_only", "restore_slots", "slot_values"]


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (the array itself when it already is read-only)."""
    if not array.flags.writeable:
        return array
    view = array.view()
    view.flags.writeable = False
    return view


def freeze(value: Any) -> Any:
    """``value`` with every mutable container inside it replaced by a read-only one."""
    if isinstance(value, FrozenMapping):
        return value
    if isinstance(value, Mapping):
        return FrozenMapping(value)
    if type(value) in (list, tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(value)
    if isinstance(value, np.ndarray):
        return read_only(value.copy()) if value.flags.writeable else value
    return value


class FrozenMapping(Mapping[str, Any]):
    """A read-only mapping that pickles and deep-copies; its values are frozen too.

    Examples
    --------
    >>> settings = FrozenMapping({"covariates": ["x"], "alpha": 0.05})
    >>> settings["covariates"]
    ('x',)
    >>> settings == {"covariates": ("x",), "alpha": 0.05}
    True
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        items = {} if data is None else {key: freeze(value) for key, value in data.items()}
        object.__setattr__(self, "_data", items)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMapping is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("FrozenMapping is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMapping, (dict(self._data),))


def slot_values(obj: Any) -> dict[str, Any]:
    """Every ``__slots__`` attribute of ``obj`` (over its class hierarchy) that is set."""
    values = {}
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if hasattr(obj, name):
                values[name] = object.__getattribute__(obj, name)
    return values


def restore_slots(cls: type, values: Mapping[str, Any]) -> Any:
    """An instance of ``cls`` with these slot values, bypassing ``__init__`` and ``__setattr__``."""
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj
