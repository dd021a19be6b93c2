"""Options shared by the commands that fit an estimator on a data file."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from impact.registry import (
    available_estimators,
    get_estimator_class,
    hyperparameters,
    unknown_hyperparameters,
)

if TYPE_CHECKING:
    from impact.result import ImpactResult

__all__ = [
    "HYPERPARAMETERS",
    "ROW_WORD",
    "EstimatorName",
    "build_estimator",
    "data_options",
    "fit_from_options",
    "optional_data_options",
    "parse_params",
]


ROW_WORD = "impact.row_word"
"""Key in ``click.Context.meta``: what the row labels of the data frame are in the file."""

HYPERPARAMETERS = "impact.hyperparameters"
"""Key in ``click.Context.meta``: the hyperparameter names of the design being fitted."""


class EstimatorName(click.ParamType):
    """A registered estimator name, read from the registry when the command runs."""

    name = "design"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """Show the registered names in the usage line."""
        return "[" + "|".join(available_estimators()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Accept a registered name."""
        names = available_estimators()
        if value in names:
            return str(value)
        self.fail(f"{value!r} is not a registered design; choose one of {', '.join(names)}")

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        """Complete registered names."""
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in available_estimators() if n.startswith(incomplete)]


def _value(text: str) -> Any:
    """Read a hyperparameter value: JSON or a Python literal, else the text itself."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return text


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """Turn ``("key=value", ...)`` into a dict of hyperparameters.

    Examples
    --------
    >>> parse_params(("inference=hc1", "alpha=0.1", "periods=[1978, 1981]"))
    {'inference': 'hc1', 'alpha': 0.1, 'periods': (1978, 1981)}
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise click.BadParameter(
                f"{pair!r} is not of the form key=value (e.g. inference=hc1)",
                param_hint="'--param'",
            )
        value = _value(text.strip())
        params[key] = tuple(value) if isinstance(value, list) else value
    return params


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(out)


def _options(required: bool) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    return [
        click.argument("data", required=required, type=click.Path(exists=True, dir_okay=False)),
        click.option(
            "--design",
            type=EstimatorName(),
            default="did",
            show_default=True,
            help="Registered estimator (see impact.available_estimators()).",
        ),
        click.option("--unit", required=required, help="Column identifying units (schools)."),
        click.option("--time", required=required, help="Column of periods (years)."),
        click.option("--outcome", required=required, help="Numeric outcome column."),
        click.option("--treated", help="0/1 column: unit under the programme that period."),
        click.option("--cohort", help="Column of each unit's first treated period (0 = never)."),
        click.option(
            "--covariates",
            multiple=True,
            help="Covariate column(s); repeat the option or separate with commas.",
        ),
        click.option("--cluster", help="Column of clusters for standard errors (default: unit)."),
        click.option("--weights", help="Column of non-negative sampling weights."),
        click.option(
            "--dropna",
            is_flag=True,
            help="Drop rows whose outcome is missing (with a warning) instead of failing.",
        ),
        click.option(
            "--repeated-cross-section",
            "repeated_cross_section",
            is_flag=True,
            default=None,
            help="Rows are individuals nested in units (pupils in schools), several per period.",
        ),
        click.option(
            "--param",
            "params",
            multiple=True,
            metavar="KEY=VALUE",
            help="Estimator hyperparameter, repeatable (e.g. --param inference=hc1).",
        ),
    ]


def data_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command with the data file, column role and design options."""
    for option in reversed(_options(required=True)):
        func = option(func)
    return func


def optional_data_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """As :func:`data_options` with nothing required (for a command of several modes)."""
    for option in reversed(_options(required=False)):
        func = option(func)
    return func


def build_estimator(design: str, hyper: dict[str, Any]) -> Any:
    """Configure the registered estimator ``design``; unknown hyperparameters are usage errors."""
    cls = get_estimator_class(design)
    problem = unknown_hyperparameters(cls, hyper)
    if problem:
        raise click.BadParameter(problem, param_hint="'--param'")
    return cls(**hyper)


def fit_from_options(
    *,
    data: str | None,
    design: str,
    unit: str | None,
    time: str | None,
    outcome: str | None,
    treated: str | None,
    cohort: str | None,
    covariates: tuple[str, ...],
    cluster: str | None,
    weights: str | None,
    params: tuple[str, ...],
    dropna: bool = False,
    repeated_cross_section: bool | None = None,
) -> ImpactResult:
    """Read the file, build the Panel, configure the estimator and fit it."""
    for name, value in (("data", data), ("--unit", unit), ("--time", time), ("--outcome", outcome)):
        if value is None:
            what = "argument 'DATA'" if name == "data" else f"option '{name}'"
            raise click.UsageError(f"Missing {what}.")
    if (treated is None) == (cohort is None):
        raise click.UsageError("give exactly one of --treated and --cohort")
    from impact.panel.container import Panel

    from ._io import read_table

    estimator = build_estimator(design, parse_params(params))
    meta = click.get_current_context().meta
    meta[HYPERPARAMETERS] = hyperparameters(type(estimator)) or ()
    frame = read_table(data)
    # label rows by where they are in the file, so a message quoting rows points there
    if Path(data).suffix.lower() in {".parquet", ".pq"}:
        frame.index = range(1, len(frame) + 1)
        meta[ROW_WORD] = "file row"
    else:
        frame.index = range(2, len(frame) + 2)  # line 1 is the header
        meta[ROW_WORD] = "file line"
    panel = Panel.from_frame(
        frame,
        unit=unit,
        time=time,
        outcome=outcome,
        treated=treated,
        cohort=cohort,
        covariates=_split(covariates),
        cluster=cluster,
        weights=weights,
        dropna=dropna,
        repeated_cross_section=repeated_cross_section,
    )
    return estimator.fit(panel)
