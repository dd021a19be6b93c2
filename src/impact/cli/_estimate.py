"""``impact estimate``: fit a design on a CSV or Parquet file."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._common import data_options, fit_from_options
from ._output import FIGURE_FORMATS, check_output_file, emit, format_options, writing

if TYPE_CHECKING:
    from impact.result import ImpactResult

__all__ = ["estimate", "format_result", "save_plot"]


def _plain(value: Any) -> Any:
    """JSON-friendly version of a setting or table cell."""
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):  # settings hold read-only mappings, not dicts
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def format_result(result: ImpactResult, fmt: str) -> str:
    """Render a result as ``text`` (the summary), ``csv`` (effects) or ``json``."""
    if fmt == "text":
        return str(result.summary())
    if fmt == "csv":
        return result.effects.to_csv(index=False)
    payload = {
        "estimator": result.estimator,
        "n_obs": result.n_obs,
        "n_units": result.n_units,
        "n_clusters": result.n_clusters,
        "settings": {k: _plain(v) for k, v in result.settings.items()},
        "effects": [
            {k: _plain(v) for k, v in row.items()}
            for row in result.effects.to_dict(orient="records")
        ],
    }
    return json.dumps(payload, indent=2)


def save_plot(result: ImpactResult, path: str | Path, kind: str | None) -> Path:
    """Draw ``kind`` (paths when the result has them, else effects) and save it."""
    import matplotlib.pyplot as plt

    from impact.plot_kinds import PLOT_KINDS

    if kind is None:
        kind = "paths" if result.paths is not None else "effects"
    if kind not in PLOT_KINDS:
        raise click.BadParameter(
            f"unknown plot kind {kind!r}; choose one of {', '.join(sorted(PLOT_KINDS))}",
            param_hint="'--plot-kind'",
        )
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    try:
        result.plot(kind, ax=ax)
        with writing(path, "--plot"):
            fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return Path(path)


@click.command(
    epilog="""\b
Examples:
  impact demo --out demo                  # writes demo/scottish_schools.csv
  impact estimate demo/scottish_schools.csv --design did \\
      --unit school --time year --outcome attainment --treated pilot
  impact estimate schools.parquet --unit school --time year \\
      --outcome score --cohort first_year --cluster authority --format json
  impact estimate houses.csv --unit nearinc --time year --outcome rprice \\
      --treated y81nrinc --param inference=iid --plot paths.png
"""
)
@data_options
@format_options(
    what="the summary tables, the effects as CSV, or JSON", out_flags=("-o", "--output")
)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Save a figure of the result (PNG, PDF or SVG, from the extension).",
)
@click.option("--plot-kind", help="Plot kind for --plot (default: paths, else effects).")
def estimate(
    fmt: str, output: str | None, plot_file: str | None, plot_kind: str | None, **options: Any
) -> None:
    """Estimate the effect of a programme from a CSV or Parquet file.

    DATA is a long table with one row per unit and period (or per pupil, unit and
    period). Name the role of each column; give --treated (a 0/1 column) or --cohort
    (each unit's first treated period, 0 for never treated).
    """
    if output:
        check_output_file(output, "--output")
    if plot_file:
        check_output_file(plot_file, "--plot", suffixes=FIGURE_FORMATS)
    result = fit_from_options(**options)
    emit(format_result(result, fmt), fmt=fmt, path=output, option="--output")
    if plot_file:
        save_plot(result, plot_file, plot_kind)
        click.echo(f"figure written to {plot_file}", err=True)
