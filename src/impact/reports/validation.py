"""HTML report of a Monte Carlo validation study, built on :mod:`impact.reports.result`.

:func:`validation_sections` turns a
:class:`~impact.simulations.ValidationReport` into report sections (the validation
table, failures and warnings, the settings and the validation plots);
:func:`write_validation_report` writes them as one self-contained HTML file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from impact._format import format_table
from impact.exceptions import ImpactError
from impact.reports.result import Section, figure_html, html_document

if TYPE_CHECKING:
    from impact.simulations import ValidationReport

__all__ = ["validation_sections", "write_validation_report"]

_TITLES = {
    "validation": "Validation: bias, coverage and rejection rate per design and term",
    "failures": "Failed fits",
    "warnings": "Warnings",
    "settings": "Settings",
}


def validation_sections(
    report: ValidationReport,
    *,
    plots: Sequence[str] = ("coverage", "bias", "estimates"),
    term: str = "att",
) -> list[Section]:
    """Sections describing a validation study: its tables and its figures.

    Parameters
    ----------
    report : ValidationReport
        The study (from :func:`impact.simulations.monte_carlo`).
    plots : sequence of str, default ("coverage", "bias", "estimates")
        Kinds of :func:`impact.simulations.plot_validation` to embed; a kind that
        cannot be drawn (too few replications, no such term) is skipped.
    term : str, default "att"
        The term the figures show.

    Returns
    -------
    list of Section

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from impact.simulations import Scenario, monte_carlo
    >>> study = monte_carlo(["did"], Scenario(n_units=30, n_periods=4, adoption_period=3),
    ...                     n_reps=5, seed=0, backend="serial", progress=False)
    >>> [s.title.split(":")[0] for s in validation_sections(study, plots=("coverage",))]
    ['Validation', 'Settings', 'Figures']
    """
    import matplotlib.pyplot as plt

    summary = report.summary()
    sections = []
    for name, table in summary.tables.items():
        body = format_table(table).to_html(index=False, border=0)
        sections.append(Section(_TITLES.get(name, name.capitalize()), body))
    figures = []
    for kind in plots:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
        try:
            report.plot(kind, term=term, ax=ax)
        except (ImpactError, ValueError):
            plt.close(fig)
            continue
        figures.append(figure_html(fig, caption=f"{kind} of {term}"))
        plt.close(fig)
    if figures:
        sections.append(Section("Figures", "\n".join(figures)))
    return sections


def write_validation_report(
    report: ValidationReport,
    path: str | Path,
    *,
    title: str | None = None,
    preamble: str = "",
    plots: Sequence[str] = ("coverage", "bias", "estimates"),
) -> Path:
    """Write a self-contained HTML report of a validation study to ``path``.

    Parameters
    ----------
    report : ValidationReport
        The study.
    path : str or Path
        The HTML file to write.
    title : str, optional
        Heading; "Validation study: <designs>" by default.
    preamble : str, optional
        Text under the heading (the scenario and the call, say); by default the
        scenario, the number of replications and the seed.
    plots : sequence of str, default ("coverage", "bias", "estimates")
        Plot kinds to embed.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    settings = report.settings
    designs = ", ".join(settings["estimators"])
    preamble = preamble or (
        f"{settings['scenario'].describe()}; {settings['n_reps']} replications, "
        f"seed {settings['seed']}."
    )
    page = html_document(
        title or f"Validation study: {designs}",
        validation_sections(report, plots=plots),
        preamble=preamble,
    )
    path.write_text(page, encoding="utf-8")
    return path
