"""The estimator registry: names to estimator classes.

Estimators register with the :func:`register` decorator; third-party packages plug in
through the entry-point group ``impact.estimators`` (the entry point's name is the
estimator's name and its value the class), loaded the first time the registry is read.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from impact.exceptions import DesignError, ImpactError, UnknownEstimatorError

__all__ = ["ENTRY_POINT_GROUP", "available_estimators", "get_estimator", "register"]

ENTRY_POINT_GROUP = "impact.estimators"

_REGISTRY: dict[str, type] = {}
_T = TypeVar("_T", bound=type)


def register(name: str) -> Callable[[_T], _T]:
    """Register an estimator class under ``name``.

    The class must be callable with keyword hyperparameters and have a
    ``fit(panel) -> ImpactResult`` method. The decorator sets ``cls.name``.

    Parameters
    ----------
    name : str
        The registered name, e.g. ``"did"``.

    Returns
    -------
    callable
        The class decorator.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @register("my_design")
    ... @dataclass(frozen=True, kw_only=True)
    ... class MyDesign:
    ...     def fit(self, panel): ...
    >>> "my_design" in available_estimators()
    True
    >>> _ = _REGISTRY.pop("my_design")
    """
    if not isinstance(name, str) or not name:
        raise ValueError("an estimator name must be a non-empty string")

    def decorator(cls: _T) -> _T:
        if not callable(getattr(cls, "fit", None)):
            raise TypeError(f"{cls.__name__} has no fit(panel) method")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ImpactError(
                f"an estimator named {name!r} is already registered ({existing.__qualname__})"
            )
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return decorator


_PLUGINS_LOADED = False


BUILT_IN = "impact.estimators"
"""The package whose import registers the built-in estimators."""


def _load_plugins() -> None:
    # the built-in estimators load as plug-ins do: by name, when the registry is first
    # read (the registry sits below the estimators, which import ``register`` from it)
    global _PLUGINS_LOADED
    importlib.import_module(BUILT_IN)

    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    from importlib import metadata  # a tenth of a second: only when the registry is read

    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in _REGISTRY:
            continue
        cls = entry.load()
        register(entry.name)(cls)


def _reload_plugins() -> None:
    """Forget that plug-ins were loaded (tests install plug-ins at run time)."""
    global _PLUGINS_LOADED
    _PLUGINS_LOADED = False


def available_estimators() -> list[str]:
    """Return the sorted names of every registered estimator, plug-ins included.

    Examples
    --------
    >>> import impact
    >>> "did" in impact.available_estimators()
    True
    """
    _load_plugins()
    return sorted(_REGISTRY)


def get_estimator_class(name: str) -> type:
    """Return the class registered under ``name``."""
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownEstimatorError(
            f"no estimator named {name!r}; available estimators are {', '.join(sorted(_REGISTRY))}"
        ) from None


def get_estimator(name: str, **params: Any) -> Any:
    """Return an instance of the estimator registered under ``name``.

    Parameters
    ----------
    name : str
        Registered name, one of :func:`available_estimators`.
    **params
        Hyperparameters passed to the estimator's constructor.

    Returns
    -------
    estimator
        A configured estimator with a ``fit(panel)`` method.

    Raises
    ------
    UnknownEstimatorError
        When no estimator has that name; the message lists the available ones.
    DesignError
        When a hyperparameter is unknown; the message names the closest one and lists
        them all.

    Examples
    --------
    >>> import impact
    >>> impact.get_estimator("did", inference="hc1").inference
    'hc1'
    """
    cls = get_estimator_class(name)
    problem = unknown_hyperparameters(cls, params)
    if problem:
        raise DesignError(problem)
    return cls(**params)


def hyperparameters(cls: type) -> list[str] | None:
    """Return the hyperparameter names of an estimator class (None when it cannot tell).

    Examples
    --------
    >>> import impact
    >>> "inference" in hyperparameters(impact.DifferenceInDifferences)
    True
    """
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if f.init]
    return None


def unknown_hyperparameters(cls: type, given: Iterable[str]) -> str | None:
    """Describe the names in ``given`` that ``cls`` does not take, with the closest match.

    Returns None when every name is a hyperparameter (or ``cls`` is not a dataclass,
    so its parameters cannot be listed).

    Examples
    --------
    >>> import impact
    >>> print(unknown_hyperparameters(impact.DifferenceInDifferences, ["inferrence"]))
    ... # doctest: +ELLIPSIS
    'did' has no hyperparameter 'inferrence' (did you mean 'inference'?); its ...
    """
    known = hyperparameters(cls)
    if known is None:
        return None
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    label = getattr(cls, "name", "") or cls.__name__
    plural = "hyperparameter" if len(unknown) == 1 else "hyperparameters"
    return (
        f"{label!r} has no {plural} {', '.join(hints)}; its hyperparameters are "
        f"{', '.join(known) or '(none)'}"
    )
