"""``impact simulate``: draw one synthetic cohort from a scenario file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._output import check_output_file, writing
from ._scenario import read_scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["choose_seed", "simulate", "truth_path", "write_table"]

_PARQUET = {".parquet", ".pq"}


def choose_seed(seed: int | None, from_file: int | None) -> int:
    """The seed to use: the option, else the file's, else fresh entropy (to report)."""
    if seed is not None:
        return seed
    if from_file is not None:
        return from_file
    import numpy as np

    return int(np.random.SeedSequence().entropy % 2**63)


def truth_path(out: Path) -> Path:
    """Where the truth table of ``out`` goes: ``<stem>_truth.csv`` next to it."""
    return out.with_name(f"{out.stem}_truth.csv")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet (``.parquet``) or CSV (anything else)."""
    from impact._optional import import_optional

    if path.suffix.lower() in _PARQUET:
        import_optional("pyarrow", extra="parquet", purpose="write Parquet files")
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


@click.command(
    epilog="""\b
Examples:
  impact simulate examples/scenarios/small_pilot.toml --out pilot.csv
  impact simulate scenario.toml --out cohort.parquet --seed 7
  impact estimate pilot.csv --unit unit --time time --outcome y --treated treated

\b
A scenario file (TOML) holds an optional preset, a seed and Scenario fields:
  preset = "scottish_schools"   # or small_pilot, staggered_rollout, selected_on_trend, one_council
  seed = 2026
  effect = 2.0                  # any impact.simulations.Scenario field
  profile = "ramp"
  cohorts = [[3, 0.2], [5, 0.2]]
Custom trend or effect functions cannot be written in TOML (use Python).
"""
)
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Data file to write (.csv or .parquet); the truth goes to <name>_truth.csv.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Seed (overrides the file's seed).")
def simulate(scenario_file: str, out: str, seed: int | None) -> None:
    """Simulate one synthetic cohort whose true effect is known.

    Reads the scenario from SCENARIO (TOML), draws the data and writes every simulated
    column (outcome y, treatment, cohort, the untreated outcome y0 and the effect tau,
    covariates) to --out, and the true value of every term (att, event times, cohorts,
    years) to a CSV next to it, ready to score an estimate against.
    """
    from impact.simulations import simulate as draw

    path = check_output_file(out, "--out")
    read = read_scenario(scenario_file)
    used = choose_seed(seed, read.seed)
    sim = draw(read.scenario, seed=used)
    truth = truth_path(path)
    with writing(path, "--out"):
        write_table(sim.data, path)
        sim.truth.to_csv(truth, index=False)
    panel = sim.panel
    click.echo(read.scenario.describe())
    click.echo(
        f"seed {used}: {len(sim.data)} rows, {read.scenario.n_units} units over "
        f"{read.scenario.n_periods} periods, {read.scenario.n_treated} treated; "
        f"true ATT {sim.true_att:.4g}"
    )
    click.echo(f"data written to {path}; truth to {truth}")
    extra = ""
    if panel.cluster:
        extra += f" --cluster {panel.cluster}"
    if panel.is_repeated_cross_section:
        extra += " --repeated-cross-section"
    click.echo(
        f"estimate with: impact estimate {path} --unit {panel.unit} --time {panel.time} "
        f"--outcome {panel.outcome} --treated treated{extra}"
    )
