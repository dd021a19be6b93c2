"""``impact validate``: score designs over simulated cohorts (a Monte Carlo study)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from ._common import build_estimator, parse_params
from ._estimate import _plain
from ._output import check_output_file, emit, format_options
from ._scenario import read_scenario
from ._simulate import choose_seed

__all__ = ["format_report", "run_validation", "validate", "validation_options"]


def _designs(values: tuple[str, ...]) -> list[str]:
    from impact.registry import available_estimators

    names: list[str] = []
    for value in values:
        names += [v.strip() for v in value.split(",") if v.strip()]
    known = available_estimators()
    bad = [n for n in names if n not in known]
    if bad:
        raise click.BadParameter(
            f"{', '.join(map(repr, bad))} not registered; choose from {', '.join(known)}",
            param_hint="'--designs'",
        )
    if len(set(names)) != len(names):
        raise click.BadParameter(f"{names!r} names a design twice", param_hint="'--designs'")
    if not names:
        raise click.BadParameter("name at least one design", param_hint="'--designs'")
    return names


def _design_params(pairs: tuple[str, ...], designs: list[str]) -> dict[str, dict[str, Any]]:
    """``("did.inference=hc1", ...)`` to ``{"did": {"inference": "hc1"}}``."""
    out: dict[str, dict[str, Any]] = {d: {} for d in designs}
    for pair in pairs:
        design, dot, rest = pair.partition(".")
        if not dot or "=" not in rest:
            raise click.BadParameter(
                f"{pair!r} is not of the form design.key=value (e.g. did.inference=hc1)",
                param_hint="'--param'",
            )
        if design not in out:
            raise click.BadParameter(
                f"{pair!r} sets a hyperparameter of {design!r}, which is not in --designs "
                f"({', '.join(designs)})",
                param_hint="'--param'",
            )
        out[design].update(parse_params((rest,)))
    return out


_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option(
        "--designs",
        "designs",
        multiple=True,
        metavar="NAME[,NAME...]",
        help="Registered estimators to validate, comma-separated or repeated (e.g. did,its).",
    ),
    click.option(
        "--reps",
        type=click.IntRange(min=1),
        default=200,
        show_default=True,
        help="Number of replications.",
    ),
    click.option("--seed", type=click.IntRange(min=0), help="Seed (overrides the file's seed)."),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        help=(
            "Processes working on the study, this one included (1: serially; default: "
            "all cores, once a first chunk shows the study is long enough)."
        ),
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="Run on a Dask cluster at this scheduler address (needs impact[dask]).",
    ),
    click.option(
        "--alpha",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.05,
        show_default=True,
        help="Level of the tests whose rejection rate is reported.",
    ),
]


_PARAM = click.option(
    "--param",
    "design_params",
    multiple=True,
    metavar="DESIGN.KEY=VALUE",
    help="Hyperparameter of one design, repeatable (e.g. --param did.inference=hc1).",
)


def validation_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command with the designs, replications and backend options.

    The ``--param`` option (``design_params``) is left to the command: ``impact
    report`` shares it with its estimate options.
    """
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def run_validation(
    *,
    scenario_file: str,
    designs: tuple[str, ...],
    design_params: tuple[str, ...],
    reps: int,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    alpha: float,
) -> Any:
    """Read the scenario, build the estimators and run the Monte Carlo study."""
    from impact._optional import import_optional
    from impact.simulations import monte_carlo

    if workers is not None and scheduler is not None:
        raise click.UsageError("give at most one of --workers and --scheduler")
    names = _designs(designs)
    hyper = _design_params(design_params, names)
    estimators = {name: build_estimator(name, hyper[name]) for name in names}
    read = read_scenario(scenario_file)
    used = choose_seed(seed, read.seed)
    backend: Any = None
    if scheduler is not None:
        import_optional("distributed", extra="dask", purpose="run a study on a Dask cluster")
        backend = scheduler
        if scheduler != "dask" and "://" not in scheduler:
            backend = f"tcp://{scheduler}"
    elif workers == 1:
        backend = "serial"
    elif workers is not None:
        backend = "processes"
    try:
        return monte_carlo(
            estimators,
            read.scenario,
            n_reps=reps,
            seed=used,
            backend=backend,
            n_workers=workers,
            alpha=alpha,
        )
    except OSError as exc:  # the scheduler cannot be reached
        raise click.UsageError(f"could not reach the Dask scheduler {scheduler!r}: {exc}") from None


def _reword(message: str, design: str) -> str:
    """A design's message in the words of ``impact validate`` (``--param DESIGN.KEY=...``)."""
    from impact.registry import _REGISTRY, hyperparameters

    from ._wording import for_command_line

    cls = _REGISTRY.get(design)
    names = (hyperparameters(cls) or []) if cls is not None else []
    return for_command_line(message, hyperparameters=names, design=design)


def format_report(report: Any, fmt: str) -> str:
    """Render a ValidationReport as ``text`` (its tables), ``csv`` or ``json``."""
    from impact._format import format_table

    table = report.to_frame()
    if fmt == "text":
        settings = report.settings
        lines = [
            f"Monte Carlo validation: {settings['n_reps']} replications, seed "
            f"{settings['seed']}, alpha {settings['alpha']}",
            settings["scenario"].describe(),
            "",
            format_table(table).to_string(index=False),
        ]
        for name, frame in (("failures", report.failures), ("warnings", report.warnings)):
            if len(frame) and "message" in frame.columns and "estimator" in frame.columns:
                frame = frame.assign(
                    message=[
                        _reword(str(m), str(e))
                        for m, e in zip(frame["message"], frame["estimator"], strict=True)
                    ]
                )
            if len(frame):
                lines += ["", f"{name}:", format_table(frame).to_string(index=False)]
        return "\n".join(lines)
    if fmt == "csv":
        return table.to_csv(index=False)
    settings = dict(report.settings)
    payload = {
        "scenario": settings["scenario"].describe(),
        "n_reps": settings["n_reps"],
        "seed": _plain(settings["seed"]),
        "alpha": settings["alpha"],
        "estimators": {
            k: {p: _plain(v) for p, v in d.items()} for k, d in settings["estimators"].items()
        },
        "validation": [
            {k: _plain(v) for k, v in row.items()} for row in table.to_dict(orient="records")
        ],
        "failures": [
            {k: _plain(v) for k, v in row.items()}
            for row in report.failures.to_dict(orient="records")
        ],
    }
    return json.dumps(payload, indent=2)


@click.command(
    epilog="""\b
Examples:
  impact validate examples/scenarios/scottish_schools.toml --designs did,its --reps 200
  impact validate examples/scenarios/small_pilot.toml --designs did \\
      --param did.inference=wild --reps 1000 --workers 2 --format csv --out pilot.csv
  impact validate scenario.toml --designs did,matched_did --reps 5000 \\
      --scheduler tcp://scheduler:8786          # a Dask cluster (impact[dask])
See 'impact simulate --help' for the scenario file.
"""
)
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(exists=True, dir_okay=False))
@validation_options
@_PARAM
@format_options(
    what="the report's tables, the validation table as CSV, or JSON", out_flags=("-o", "--out")
)
def validate(fmt: str, out: str | None, **options: Any) -> None:
    """Check designs on simulated cohorts whose true effect is known.

    Simulates --reps cohorts from the scenario in SCENARIO (TOML), fits every design in
    --designs to each, and prints per design and term the mean estimate, bias, RMSE,
    coverage of the nominal interval, mean interval width, rejection rate (size when
    the truth is zero, power otherwise) and failures. The same seed gives the same
    table, serially, with local workers or on a Dask cluster.
    """
    if not options["designs"]:
        raise click.UsageError("Missing option '--designs'.")
    if out:
        check_output_file(out, "--out")
    report = run_validation(**options)
    emit(format_report(report, fmt), fmt=fmt, path=out, option="--out")
