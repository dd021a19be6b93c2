"""What every estimator shares: the :class:`Estimator` base class."""

from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from impact.exceptions import DesignError

if TYPE_CHECKING:
    from impact.data import Panel
    from impact.result import ImpactResult

__all__ = ["Estimator", "check_alpha", "check_choice", "check_inference_fields"]


class Estimator(ABC):
    """Base class of estimators: frozen keyword-only dataclasses of hyperparameters.

    Subclasses are decorated with ``@dataclass(frozen=True, kw_only=True)``, check
    their fields in ``__post_init__`` and implement :meth:`fit`, which returns a new
    :class:`~impact.result.ImpactResult` and stores nothing on the estimator.

    Each subclass's ``fit`` is wrapped so that the terms whose interval is undefined
    (a standard error zero up to rounding, see :mod:`impact.inference.wald`) are named
    in one :class:`~impact.exceptions.InferenceWarning` per fit.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fit = cls.__dict__.get("fit")
        if fit is not None and not getattr(fit, "__isabstractmethod__", False):
            cls.fit = _announcing_undefined_intervals_once(fit)  # type: ignore[method-assign]

    @abstractmethod
    def fit(self, panel: Panel) -> ImpactResult:
        """Estimate the effect on ``panel`` and return a result."""

    def get_params(self) -> dict[str, Any]:
        """Return the hyperparameters as a dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _announcing_undefined_intervals_once(fit: Callable[..., Any]) -> Callable[..., Any]:
    """``fit`` issuing one warning for all the terms whose interval is undefined."""
    from impact.inference.wald import OneWarningPerFit

    @functools.wraps(fit)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        with OneWarningPerFit():
            return fit(self, *args, **kwargs)

    return wrapped


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
        check_choice("bootstrap_weights", estimator.bootstrap_weights, ("rademacher", "webb"))
    if hasattr(estimator, "df_method"):
        check_choice("df_method", estimator.df_method, ("satterthwaite", "imbens-kolesar"))
    min_clusters = estimator.min_clusters
    if not (isinstance(min_clusters, int) and min_clusters >= 2):
        raise DesignError(f"min_clusters={min_clusters!r} must be an integer >= 2")
    if hasattr(estimator, "draws"):
        draws = estimator.draws
        if not (isinstance(draws, int) and draws >= 99):
            raise DesignError(f"draws={draws!r} must be an integer >= 99 (e.g. 9999)")
