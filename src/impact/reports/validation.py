"""HTML report of a Monte Carlo validation study, built on :mod:`impact.reports.page`.

:func:`validation_sections` turns a
:class:`~impact.simulations.ValidationReport` into report sections (the validation
table, failures and warnings, the settings and the validation plots);
:func:`write_validation_report` writes them as one self-contained HTML file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from impact.exceptions import ImpactError
from impact.reports.page import Section, figures_section, table_sections, write_page

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
    sections = table_sections(report.summary().tables, _TITLES)
    figures = figures_section(
        (
            (f"{kind} of {term}", lambda ax, kind=kind: report.plot(kind, term=term, ax=ax))
            for kind in plots
        ),
        skip=(ImpactError, ValueError),
    )
    return sections if figures is None else [*sections, figures]


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
    settings = report.settings
    designs = ", ".join(settings["estimators"])
    preamble = preamble or (
        f"{settings['scenario'].describe()}; {settings['n_reps']} replications, "
        f"seed {settings['seed']}."
    )
    return write_page(
        path,
        title or f"Validation study: {designs}",
        validation_sections(report, plots=plots),
        preamble=preamble,
    )
