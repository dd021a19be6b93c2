"""The page every HTML report is: sections of tables and figures in one self-contained file.

A report is a list of :class:`Section` objects; :func:`html_document` renders them as a
page with no external files or links, :func:`figure_html` embeds a matplotlib figure as
a base64 PNG, and :func:`write_page` writes the page.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from impact import __version__
from impact._format import format_table

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Section",
    "figure_html",
    "figures_section",
    "html_document",
    "table_sections",
    "write_page",
]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { border-bottom: 2px solid #446; padding-bottom: .2em; }
h2 { margin-top: 1.6em; color: #335; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #ccd; padding: .25em .6em; text-align: right; }
th { background: #eef; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; }
img { max-width: 100%; }
.meta { color: #666; font-size: .9em; }
"""


@dataclass(frozen=True)
class Section:
    """A titled block of a report; ``body`` is trusted HTML."""

    title: str
    body: str


def figure_html(fig: Figure, *, caption: str = "") -> str:
    """Return an ``<figure>`` element embedding ``fig`` as a base64 PNG.

    Parameters
    ----------
    fig : matplotlib Figure
        The figure; it is not closed.
    caption : str, optional
        Caption under the image.

    Returns
    -------
    str
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    image = f'<img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
    return f"<figure>{image}{cap}</figure>"


def html_document(title: str, sections: Iterable[Section], *, preamble: str = "") -> str:
    """Render a complete, self-contained HTML page (no external files or links).

    Parameters
    ----------
    title : str
        Page title and heading.
    sections : iterable of Section
        The body, in order.
    preamble : str, optional
        Plain text shown under the heading (escaped).

    Returns
    -------
    str

    Examples
    --------
    >>> page = html_document("Study", [Section("Effects", "<p>none</p>")])
    >>> page.startswith("<!DOCTYPE html>") and "<h2>Effects</h2>" in page
    True
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if preamble:
        parts.append(f'<p class="meta">{html.escape(preamble)}</p>')
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>\n{section.body}")
    parts.append(f'<p class="meta">Written by impact {html.escape(__version__)}.</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_page(
    path: str | Path, title: str, sections: Iterable[Section], *, preamble: str = ""
) -> Path:
    """Render ``sections`` as a self-contained page and write it to ``path`` (UTF-8).

    Parameters
    ----------
    path : str or Path
        The HTML file to write.
    title : str
        Page title and heading.
    sections : iterable of Section
        The body, in order.
    preamble : str, optional
        Plain text shown under the heading.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    path.write_text(html_document(title, sections, preamble=preamble), encoding="utf-8")
    return path


def table_sections(
    tables: Mapping[str, pd.DataFrame], titles: Mapping[str, str] | None = None
) -> list[Section]:
    """One section per named table (a summary's), titled from ``titles`` or the name."""
    titles = titles or {}
    return [
        Section(
            titles.get(name, name.capitalize()), format_table(table).to_html(index=False, border=0)
        )
        for name, table in tables.items()
    ]


def figures_section(
    drawings: Iterable[tuple[str, Callable[[Axes], object]]],
    *,
    skip: tuple[type[Exception], ...],
) -> Section | None:
    """A "Figures" section of each ``(caption, draw)`` whose ``draw(ax)`` succeeds.

    A drawing that raises one of ``skip`` (a kind the object cannot draw) is left out;
    None when no figure is left.
    """
    import matplotlib.pyplot as plt

    figures = []
    for caption, draw in drawings:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        try:
            draw(ax)
        except skip:
            continue
        else:
            figures.append(figure_html(fig, caption=caption))
        finally:
            plt.close(fig)
    return Section("Figures", "\n".join(figures)) if figures else None
