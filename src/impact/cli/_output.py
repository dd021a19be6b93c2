"""The files a command writes: checked before the work starts, written without tracebacks.

A path the command cannot write (a folder that does not exist, an unsupported figure
format, a place without permission) is a usage error: one line on stderr and exit
status 2, found before a long fit or study runs where it can be.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

__all__ = [
    "FIGURE_FORMATS",
    "OutputError",
    "check_output_dir",
    "check_output_file",
    "emit",
    "format_options",
    "writing",
]

FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")
"""Extensions a figure can be saved as (matplotlib's Agg backend writes each)."""


class OutputError(click.UsageError):
    """A usage error shown as one line, ``Error: <option>: <message>`` (exit status 2)."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(f"{option}: {message}")

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message alone (no usage block): it is about a path, not the syntax."""
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


def check_output_file(
    path: str | Path, option: str, *, suffixes: tuple[str, ...] | None = None
) -> Path:
    """Check that ``path`` can be written as a file, before any work is done.

    Parameters
    ----------
    path : str or Path
        The file the command is asked to write.
    option : str
        The option that named it (``--out``), quoted in the message.
    suffixes : tuple of str, optional
        Extensions (without the dot) the file may have; any when None.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        When the extension is not one of ``suffixes``, the path is a folder, or its
        folder does not exist or is not writable.

    Examples
    --------
    >>> check_output_file("figure.png", "--plot", suffixes=FIGURE_FORMATS).name
    'figure.png'
    """
    file = Path(path)
    if suffixes is not None:
        suffix = file.suffix.lower().lstrip(".")
        if suffix not in suffixes:
            found = f"'.{suffix}'" if suffix else "no extension"
            raise OutputError(
                f"cannot write {str(path)!r}: {found} is not a supported format; end the "
                f"name with one of {', '.join('.' + s for s in suffixes)}",
                option,
            )
    if file.is_dir():
        raise OutputError(f"{str(path)!r} is a folder; give a file name", option)
    folder = file.parent
    if not folder.is_dir():
        raise OutputError(
            f"cannot write {str(path)!r}: the folder {str(folder)!r} does not exist; create "
            "it first or choose another place",
            option,
        )
    if not os.access(folder, os.W_OK):
        raise OutputError(
            f"cannot write {str(path)!r}: the folder {str(folder)!r} is not writable", option
        )
    return file


def check_output_dir(path: str | Path, option: str) -> Path:
    """Create the folder ``path`` (and its parents) if needed; a failure is an OutputError.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_output_dir(Path(tmp) / "figures", "--out").is_dir()
    True
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the folder {str(path)!r}: {exc.strerror or exc}", option
        ) from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"the folder {str(path)!r} is not writable", option)
    return folder


@contextmanager
def writing(path: str | Path, option: str) -> Iterator[None]:
    """Turn an operating-system error while writing ``path`` into an OutputError."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"could not write {str(path)!r}: {exc.strerror or exc}", option) from None


def format_options(
    *, what: str, out_flags: tuple[str, str]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command with ``--format`` (text, csv, json) and a file option.

    ``what`` completes the help of ``--format`` ("the summary tables, the effects as
    CSV, or JSON"); ``out_flags`` are the file option's short and long names, and the
    command receives ``fmt`` and the long name's value.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            *out_flags,
            type=click.Path(dir_okay=False, writable=True),
            help="Write the output to this file instead of the screen.",
        )(func)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "csv", "json"]),
            default="text",
            show_default=True,
            help=f"Output: {what}.",
        )(func)

    return decorate


def emit(text: str, *, fmt: str, path: str | None, option: str) -> None:
    """Write ``text`` to ``path`` (checked before the work began), or print it."""
    if path:
        with writing(path, option):
            Path(path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"{fmt} output written to {path}", err=True)
    else:
        click.echo(text.rstrip("\n"))
