"""What every estimator shares: the :class:`Estimator` base class."""

from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from impact.exceptions import DesignError

if TYPE_CHECKING:
    from impact.panel.container import Panel
    from impact.result import ImpactResult

__all__ = [
    "Estimator",
    "check_alpha",
    "check_choice",
    "check_inference_fields",
    "check_seed",
    "require_panel",
]


class Estimator(ABC):
    """Base class of estimators: frozen keyword-only dataclasses of hyperparameters.

    Subclasses are decorated with ``@dataclass(frozen=True, kw_only=True)``, check
    their fields in ``__post_init__`` and implement :meth:`fit`, which returns a new
    :class:`~impact.result.ImpactResult` and stores nothing on the estimator.

    Each subclass's ``fit`` is wrapped so that anything but a Panel (a DataFrame) is a
    DesignError showing the ``Panel.from_frame`` call to make, so that the result
    records the Panel's column names (``settings["columns"]``, read by the plots), and
    so that the terms whose interval is undefined (a standard error zero up to rounding,
    see :mod:`impact.inference.wald`) are named in one
    :class:`~impact.exceptions.InferenceWarning` per fit.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # every estimator with a ``seed`` field checks it, before its own checks run;
        # every fit refuses anything but a Panel and records the Panel's column names
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is not None and not getattr(own, "_checks_seed", False):
            cls.__post_init__ = _checking_seed(own)  # type: ignore[attr-defined]
        fit = cls.__dict__.get("fit")
        if fit is not None and not getattr(fit, "__isabstractmethod__", False):
            checked = _checking_the_panel(fit)
            cls.fit = _announcing_undefined_intervals_once(checked)  # type: ignore[method-assign]

    def __post_init__(self) -> None:
        check_seed(getattr(self, "seed", None))

    @abstractmethod
    def fit(self, panel: Panel) -> ImpactResult:
        """Estimate the effect on ``panel`` and return a result."""

    def get_params(self) -> dict[str, Any]:
        """Return the hyperparameters as a dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _checking_the_panel(fit: Callable[..., Any]) -> Callable[..., Any]:
    """``fit`` refusing anything but a Panel, and noting its column names in the result."""

    @functools.wraps(fit)
    def wrapped(self: Any, panel: Any, *args: Any, **kwargs: Any) -> Any:
        require_panel(panel, f"{type(self).__name__}.fit")
        result = fit(self, panel, *args, **kwargs)
        from impact.result import ImpactResult, record_columns

        if isinstance(result, ImpactResult):
            record_columns(result, panel)
        return result

    return wrapped


def _announcing_undefined_intervals_once(fit: Callable[..., Any]) -> Callable[..., Any]:
    """``fit`` issuing one warning for all the terms whose interval is undefined."""
    from impact.inference.wald import OneWarningPerFit

    @functools.wraps(fit)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        with OneWarningPerFit():
            return fit(self, *args, **kwargs)

    return wrapped


def require_panel(panel: Any, caller: str) -> None:
    """Raise a DesignError unless ``panel`` is a :class:`~impact.panel.container.Panel`.

    A DataFrame gets a message showing the ``Panel.from_frame`` call that names the
    role of each column; nothing is converted implicitly.
    """
    from impact.panel.container import Panel

    if isinstance(panel, Panel):
        return
    if hasattr(panel, "columns") and hasattr(panel, "index"):
        columns = ", ".join(map(repr, list(panel.columns)[:8]))
        more = ", ..." if len(panel.columns) > 8 else ""
        raise DesignError(
            f"{caller} needs an impact.Panel, not a {type(panel).__name__}: name the role "
            "of each column once, e.g. panel = impact.Panel.from_frame(df, unit='school', "
            "time='year', outcome='score', treated='pilot') (or cohort= for the first "
            f"treated period), then pass the panel. The frame's columns are {columns}{more}"
        )
    raise DesignError(
        f"{caller} needs an impact.Panel, not {type(panel).__name__}; build one with "
        "impact.Panel.from_frame(df, unit=..., time=..., outcome=..., treated=...)"
    )


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """Raise a ValueError-compatible DesignError when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise DesignError(
            f"{name}={value!r} is not valid; choose one of {', '.join(map(repr, choices))}"
        )


def check_alpha(alpha: float) -> None:
    """Check that a significance level lies strictly between 0 and 1."""
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise DesignError(f"alpha={alpha!r} must lie strictly between 0 and 1 (e.g. 0.05)")


def check_inference_fields(estimator: Any, methods: tuple[str, ...]) -> None:
    """Check the few-cluster inference hyperparameters an estimator shares with others.

    Checks ``inference`` against ``methods`` and, where the estimator has them,
    ``bootstrap_weights``, ``df_method``, ``min_clusters`` (an integer >= 2) and
    ``draws`` (an integer >= 99).
    """
    check_choice("inference", estimator.inference, methods)
    if hasattr(estimator, "bootstrap_weights"):
        check_choice(
            "bootstrap_weights", estimator.bootstrap_weights, ("auto", "rademacher", "webb")
        )
    if hasattr(estimator, "df_method"):
        check_choice("df_method", estimator.df_method, ("satterthwaite", "imbens-kolesar"))
    min_clusters = estimator.min_clusters
    if not (isinstance(min_clusters, int) and min_clusters >= 2):
        raise DesignError(f"min_clusters={min_clusters!r} must be an integer >= 2")
    if hasattr(estimator, "draws"):
        draws = estimator.draws
        if not (isinstance(draws, int) and draws >= 99):
            raise DesignError(f"draws={draws!r} must be an integer >= 99 (e.g. 9999)")


def check_seed(seed: Any) -> None:
    """Check a ``seed`` hyperparameter: a non-negative integer, a numpy Generator or None.

    Examples
    --------
    >>> check_seed(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    impact.exceptions.DesignError: seed=-1 must be a non-negative integer (e.g. seed=0), ...
    """
    if seed is None or isinstance(seed, np.random.Generator | np.random.SeedSequence):
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DesignError(
            f"seed={seed!r} must be a non-negative integer (e.g. seed=0), a numpy Generator or None"
        )


def _checking_seed(post_init: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(post_init)
    def checked(self: Any) -> None:
        check_seed(getattr(self, "seed", None))
        post_init(self)

    checked._checks_seed = True  # type: ignore[attr-defined]
    return checked
