"""Self-contained HTML reports: tables and figures embedded in one file.

A report is a list of :class:`Section` objects rendered by :func:`html_document`;
:func:`result_sections` turns an :class:`~impact.result.ImpactResult` into sections
(its summary tables and its figures as base64-encoded PNG images), and
:func:`write_report` writes an estimate's report. Other reports (a validation study)
build their own sections and reuse :func:`html_document`.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from impact import __version__
from impact._format import format_table
from impact.exceptions import ImpactError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from impact.result import ImpactResult

__all__ = ["Section", "figure_html", "html_document", "result_sections", "write_report"]

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


def result_sections(
    result: ImpactResult, *, plots: Sequence[str] = ("paths", "effects")
) -> list[Section]:
    """Sections describing one result: its summary tables and its figures.

    Parameters
    ----------
    result : ImpactResult
        The estimate.
    plots : sequence of str, default ("paths", "effects")
        Plot kinds to draw (from :data:`impact.plot_kinds.PLOT_KINDS`); a kind the result
        cannot draw (no paths, say) is skipped.

    Returns
    -------
    list of Section
    """
    import matplotlib.pyplot as plt

    sections = []
    summary = result.summary()
    for name, table in summary.tables.items():
        body = format_table(table).to_html(index=False, border=0)
        sections.append(Section(name.capitalize(), body))
    figures = []
    for kind in plots:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        try:
            result.plot(kind, ax=ax)
        except ImpactError:
            plt.close(fig)
            continue
        figures.append(figure_html(fig, caption=f"{result.estimator}: {kind}"))
        plt.close(fig)
    if figures:
        sections.append(Section("Figures", "\n".join(figures)))
    return sections


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


def write_report(
    result: ImpactResult,
    path: str | Path,
    *,
    title: str | None = None,
    preamble: str = "",
    plots: Sequence[str] = ("paths", "effects"),
) -> Path:
    """Write a self-contained HTML report of ``result`` to ``path``.

    Parameters
    ----------
    result : ImpactResult
        The estimate.
    path : str or Path
        The HTML file to write.
    title : str, optional
        Heading; "Impact estimate: <estimator>" by default.
    preamble : str, optional
        Text under the heading (the data and the call, say).
    plots : sequence of str, default ("paths", "effects")
        Plot kinds to embed.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    page = html_document(
        title or f"Impact estimate: {result.estimator}",
        result_sections(result, plots=plots),
        preamble=preamble,
    )
    path.write_text(page, encoding="utf-8")
    return path
