"""The package's messages in the command line's words: flags for keywords, file lines.

The Python API's errors and warnings say what to pass to a function
(``dropna=True``, ``inference='cr1'``) and quote the caller's index labels. A command
line user has flags and a file instead, so every message a data command relays goes
through :func:`for_command_line`, the one mapping from one vocabulary to the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["FLAGS", "ROLE_OPTIONS", "for_command_line"]

FLAGS = {
    "dropna=True": "--dropna",
    "repeated_cross_section=True": "--repeated-cross-section",
}
"""Keyword arguments of ``Panel.from_frame`` that are a flag on the command line."""

ROLE_OPTIONS = ("unit", "time", "outcome", "treated", "cohort", "covariates", "cluster", "weights")
"""Column roles: ``unit='school'`` is ``--unit school`` on the command line."""

_ROLE = re.compile(r"\b(" + "|".join(ROLE_OPTIONS) + r")=(['\"])([^'\"]*)\2")
_QUOTES = "'\""
_ROWS = re.compile(r"\b(?:in )?rows? (?=\[|\d)")


def for_command_line(
    message: str,
    *,
    hyperparameters: Iterable[str] = (),
    row_word: str | None = None,
    design: str | None = None,
) -> str:
    """Reword a message of the Python API for a user of ``impact estimate`` or ``report``.

    Parameters
    ----------
    message : str
        The error or warning text.
    hyperparameters : iterable of str
        Names that are estimator hyperparameters: ``name=value`` becomes
        ``--param name=value``.
    design : str, optional
        For ``impact validate``, whose ``--param`` names the design:
        ``inference='cr1'`` becomes ``--param did.inference=cr1``.
    row_word : str, optional
        What the row numbers in the message are, e.g. ``"file line"`` when the command
        numbered the rows of the frame by their line in the file; ``rows [3, 4]``
        becomes ``file lines [3, 4]``. Left alone when None.

    Returns
    -------
    str

    Examples
    --------
    >>> for_command_line("clean them or pass dropna=True to drop those rows")
    'clean them or pass --dropna to drop those rows'
    >>> for_command_line("pass inference='cr1' to override", hyperparameters=["inference"])
    'pass --param inference=cr1 to override'
    >>> for_command_line("pass inference='cr1'", hyperparameters=["inference"], design="its")
    'pass --param its.inference=cr1'
    >>> for_command_line("1 missing value(s) in rows [5, 9]", row_word="file line")
    '1 missing value(s) on file lines [5, 9]'
    """
    for keyword, flag in FLAGS.items():
        message = re.sub(rf"\b{re.escape(keyword)}", flag, message)
    message = _ROLE.sub(lambda m: f"--{m.group(1)} {m.group(3)}", message)
    prefix = f"{design}." if design else ""
    names = sorted(set(hyperparameters) - set(ROLE_OPTIONS), key=len, reverse=True)
    if names:
        pattern = re.compile(
            r"(?<![\w.-])(" + "|".join(map(re.escape, names)) + r")=('[^']*'|\"[^\"]*\"|[^\s,;)]+)"
        )
        message = pattern.sub(
            lambda m: f"--param {prefix}{m.group(1)}={m.group(2).strip(_QUOTES)}", message
        )
    if row_word:

        def rows(match: re.Match[str]) -> str:
            text = match.group(0)
            plural = text.rstrip().split()[-1] == "rows"
            lead = "on " if text.startswith("in ") else ""
            return f"{lead}{row_word}{'s' if plural else ''} "

        message = _ROWS.sub(rows, message)
    return message
