"""The :class:`Summary` of a result or a study: named tables, rendered as text or HTML on demand.

A summary is data: its tables are built once and rendered when printed (``str``) or
shown in a notebook (``_repr_html_``); nothing prints on its own.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from impact._format import format_table

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """A summary of a result: named tables rendered as text or HTML on demand.

    Attributes
    ----------
    title : str
        Heading of the summary.
    tables : mapping of str to DataFrame
        The tables, in display order.

    Examples
    --------
    >>> import pandas as pd
    >>> print(Summary("Study", {"effects": pd.DataFrame({"term": ["att"], "estimate": [1.5]})}))
    Study
    =====
    <BLANKLINE>
    effects
    -------
    term estimate
     att      1.5
    """

    title: str
    tables: Mapping[str, pd.DataFrame]

    def __str__(self) -> str:
        parts = [self.title, "=" * len(self.title)]
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            for name, table in self.tables.items():
                text = format_table(table).to_string(index=False)
                parts += ["", name, "-" * len(name), text]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        for name, table in self.tables.items():
            parts.append(f"<h4>{html.escape(name)}</h4>")
            parts.append(format_table(table).to_html(index=False))
        return "\n".join(parts)
