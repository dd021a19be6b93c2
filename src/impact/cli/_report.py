"""``impact report``: a self-contained HTML report of an estimate or a validation study."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._common import fit_from_options, optional_data_options
from ._output import check_output_file, writing
from ._validate import format_report, run_validation, validation_options

__all__ = ["report"]

_ESTIMATE_ONLY = ("data", "unit", "time", "outcome", "treated", "cohort", "cluster", "weights")


@click.command(
    epilog="""\b
Examples:
  impact report demo/scottish_schools.csv --unit school --time year \\
      --outcome attainment --treated pilot --out did-report.html
  impact report --validation examples/scenarios/small_pilot.toml \\
      --designs did,its --reps 500 --out pilot-validation.html
  impact report --validation scenario.toml --designs did \\
      --param did.inference=wild --reps 1000 --workers 2 --out study.html
"""
)
@optional_data_options
@click.option(
    "--validation",
    "scenario_file",
    metavar="SCENARIO",
    type=click.Path(exists=True, dir_okay=False),
    help="Report a validation study of this scenario file (TOML) instead of an estimate.",
)
@validation_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default="impact-report.html",
    show_default=True,
    help="The HTML file to write.",
)
@click.option("--title", help="Heading of the report.")
def report(out: str, title: str | None, scenario_file: str | None, **options: Any) -> None:
    """Write a self-contained HTML report (tables and figures).

    Of an estimate: give DATA and the same data and design options as `impact
    estimate` (--param KEY=VALUE). Of a validation study: give --validation SCENARIO
    with the options of `impact validate` (--designs, --reps, --seed, --workers or
    --scheduler, --param DESIGN.KEY=VALUE). The report is one file with the figures
    embedded, to open in a browser or attach to an email.
    """
    check_output_file(out, "--out", suffixes=("html", "htm"))
    validation_keys = ("designs", "reps", "seed", "workers", "scheduler", "alpha")
    study = {k: options.pop(k) for k in validation_keys}
    if scenario_file is None:
        if study["designs"]:
            raise click.UsageError("--designs is for a validation study: add --validation SCENARIO")
        _estimate_report(out, title, options)
        return
    given = [k for k in _ESTIMATE_ONLY if options.get(k)]
    if given:
        names = ", ".join("DATA" if k == "data" else f"--{k}" for k in given)
        raise click.UsageError(
            f"{names}: options of an estimate report; a validation study (--validation) "
            "simulates its own data, so leave them out"
        )
    if not study["designs"]:
        raise click.UsageError("a validation study needs --designs (e.g. --designs did,its)")
    from impact.reports.validation import write_validation_report

    result = run_validation(scenario_file=scenario_file, design_params=options["params"], **study)
    with writing(out, "--out"):
        path = write_validation_report(result, out, title=title)
    click.echo(format_report(result, "text"))
    click.echo(f"report written to {path}")


def _estimate_report(out: str, title: str | None, options: dict[str, Any]) -> None:
    from impact.reports.result import write_report

    result = fit_from_options(**options)
    preamble = (
        f"Data: {Path(options['data']).name}; design: {options['design']}; unit "
        f"{options['unit']!r}, time {options['time']!r}, outcome {options['outcome']!r}."
    )
    with writing(out, "--out"):
        path = write_report(result, out, title=title, preamble=preamble)
    click.echo(f"report written to {path}")
