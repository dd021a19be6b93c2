"""The ``impact`` command line.

Commands are click commands, each in its own module, listed in :data:`COMMANDS`;
adding one is one module and one entry there. Errors of the package
(:class:`~impact.exceptions.ImpactError`: bad data, a design that does not fit, a
malformed scenario file) and missing optional dependencies print the message and exit
with status 3; usage errors exit with 2, as click does.

Layer: the top; it may import any layer of the package.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import click

from impact import __version__
from impact._optional import MissingDependencyError
from impact.exceptions import ImpactError, ImpactWarning

from ._common import HYPERPARAMETERS, ROW_WORD
from ._data import data
from ._demo import demo
from ._estimate import estimate
from ._report import report
from ._simulate import simulate
from ._teach import teach
from ._validate import validate
from ._wording import for_command_line

__all__ = ["COMMANDS", "EXIT_DATA_ERROR", "main"]

EXIT_DATA_ERROR = 3
"""Exit status for a data or design error (click uses 2 for usage errors)."""


class _Group(click.Group):
    """A group that turns the package's errors into a message and exit status 3."""

    def invoke(self, ctx: click.Context) -> Any:
        error: Exception | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ImpactWarning)
            try:
                return super().invoke(ctx)
            except (ImpactError, MissingDependencyError) as exc:
                error = exc
            finally:
                _replay(caught, ctx)
        click.echo(f"Error: {_reword(str(error), ctx)}", err=True)
        ctx.exit(EXIT_DATA_ERROR)


def _reword(message: str, ctx: click.Context) -> str:
    """The message in the command line's words where a data file was read (flags, lines)."""
    if ROW_WORD not in ctx.meta:
        return message
    return for_command_line(
        message, hyperparameters=ctx.meta.get(HYPERPARAMETERS, ()), row_word=ctx.meta[ROW_WORD]
    )


def _replay(caught: list[warnings.WarningMessage], ctx: click.Context) -> None:
    """Print the package's warnings as one line each; pass others on unchanged."""
    for item in caught:
        if issubclass(item.category, ImpactWarning):
            click.echo(f"Warning: {_reword(str(item.message), ctx)}", err=True)
        else:
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  impact demo
  impact estimate data.csv --design did --unit school --time year \\
      --outcome score --treated pilot
  impact report data.csv --unit school --time year --outcome score \\
      --treated pilot --out report.html
  impact data mpdta --out mpdta.csv
  impact simulate examples/scenarios/small_pilot.toml --out pilot.csv
  impact validate examples/scenarios/small_pilot.toml --designs did,its --reps 500
  impact report --validation examples/scenarios/small_pilot.toml \\
      --designs did --reps 500 --out validation.html
Run 'impact COMMAND --help' for the options of each command.
""",
)
@click.version_option(__version__, prog_name="impact")
def main() -> None:
    """impact: counterfactual impact estimation for programme evaluation."""
    if "matplotlib" not in sys.modules:
        # figures go to files, never a window; the variable is read when matplotlib is
        # first imported, so a command that draws nothing does not pay for importing it
        os.environ["MPLBACKEND"] = "Agg"


COMMANDS: tuple[click.Command, ...] = (demo, estimate, simulate, validate, report, data, teach)
"""The subcommands, in help order."""

for _command in COMMANDS:
    main.add_command(_command)
