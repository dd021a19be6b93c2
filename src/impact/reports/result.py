"""The HTML report of one result: its summary tables and its figures in one file.

:func:`result_sections` turns an :class:`~impact.result.ImpactResult` into sections of
a page (:mod:`impact.reports.page`); :func:`write_report` writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from impact.exceptions import ImpactError
from impact.reports.page import Section, figures_section, table_sections, write_page

if TYPE_CHECKING:
    from pathlib import Path

    from impact.result import ImpactResult

__all__ = ["result_sections", "write_report"]


def result_sections(
    result: ImpactResult,
    *,
    plots: Sequence[str] = ("paths", "effects"),
    robustness: bool = True,
) -> list[Section]:
    """Sections describing one result: its summary tables and its figures.

    Parameters
    ----------
    result : ImpactResult
        The estimate.
    plots : sequence of str, default ("paths", "effects")
        Plot kinds to draw (from :data:`impact.plot_kinds.PLOT_KINDS`); a kind the result
        cannot draw (no paths, say) is skipped.
    robustness : bool, default True
        Include the robustness section (:func:`impact.robustness`).

    Returns
    -------
    list of Section
    """
    sections = table_sections(result.summary(robustness=robustness).tables)
    figures = figures_section(
        (
            (f"{result.estimator}: {kind}", lambda ax, kind=kind: result.plot(kind, ax=ax))
            for kind in plots
        ),
        skip=(ImpactError,),
    )
    return sections if figures is None else [*sections, figures]


def write_report(
    result: ImpactResult,
    path: str | Path,
    *,
    title: str | None = None,
    preamble: str = "",
    plots: Sequence[str] = ("paths", "effects"),
    robustness: bool = True,
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
    robustness : bool, default True
        Include the robustness section: how far the assumption may fail before the
        conclusion changes, in words (:func:`impact.robustness`).

    Returns
    -------
    Path
        The file written.
    """
    return write_page(
        path,
        title or f"Impact estimate: {result.estimator}",
        result_sections(result, plots=plots, robustness=robustness),
        preamble=preamble,
    )
