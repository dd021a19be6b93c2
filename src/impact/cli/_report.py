"""``impact report``: a self-contained HTML report of an estimate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._common import data_options, fit_from_options

__all__ = ["report"]


@click.command(
    epilog="""\b
Examples:
  impact report demo/scottish_schools.csv --unit school --time year \\
      --outcome attainment --treated pilot --out did-report.html
"""
)
@data_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default="impact-report.html",
    show_default=True,
    help="The HTML file to write.",
)
@click.option("--title", help="Heading of the report.")
def report(out: str, title: str | None, **options: Any) -> None:
    """Write a self-contained HTML report (tables and figures) of an estimate.

    Takes the same data and design options as `impact estimate`. The report is one
    file with the figures embedded, to open in a browser or attach to an email.
    """
    from impact.report import write_report

    result = fit_from_options(**options)
    preamble = (
        f"Data: {Path(options['data']).name}; design: {options['design']}; unit "
        f"{options['unit']!r}, time {options['time']!r}, outcome {options['outcome']!r}."
    )
    path = write_report(result, out, title=title, preamble=preamble)
    click.echo(f"report written to {path}")
