"""``impact data``: write a bundled or public data set to a file."""

from __future__ import annotations

import click

from ._output import check_output_file, writing

__all__ = ["data"]


@click.command(
    epilog="""\b
Examples:
  impact data                              # list the data sets
  impact data scottish_schools --out schools.csv
  impact estimate schools.csv --unit school --time year \\
      --outcome attainment --treated pilot
  impact data mpdta --out mpdta.csv
  impact data kielmc --out kielmc.parquet  # needs impact[datasets] and impact[parquet]
"""
)
@click.argument("name", required=False)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (.csv or .parquet); NAME.csv by default.",
)
def data(name: str | None, out: str | None) -> None:
    """Write a data set of impact.datasets to a CSV or Parquet file, or list them.

    The written file is ready for `impact estimate` and `impact report`.
    """
    from impact._optional import import_optional
    from impact.datasets import DATASETS

    if name is None:
        for key, loader in DATASETS.items():
            doc = (loader.__doc__ or "").strip().splitlines()[0].replace("``", "")
            click.echo(f"{key:<18}{doc}")
        return
    if name not in DATASETS:
        raise click.BadParameter(
            f"{name!r} is not a data set; choose one of {', '.join(DATASETS)}",
            param_hint="'NAME'",
        )
    path = check_output_file(out or f"{name}.csv", "--out")
    frame = DATASETS[name]()
    with writing(path, "--out"):
        if path.suffix.lower() in {".parquet", ".pq"}:
            import_optional("pyarrow", extra="parquet", purpose="write Parquet files")
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    click.echo(f"{name}: {len(frame)} rows written to {path}")
