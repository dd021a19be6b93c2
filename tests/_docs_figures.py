"""Tutorial figures are drawn by their scripts, never by hand.

The tests that run a tutorial hand the figures it drew to :func:`publish`, which
copies them next to the tutorial pages when ``IMPACT_PUBLISH_DOCS=1`` (the CI run sets
it before building the site), so a figure on the site always comes from the code on
the same page. Elsewhere the tests leave the working tree alone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
PUBLISH_ENV = "IMPACT_PUBLISH_DOCS"

PUBLISHED = {
    "attainment-rose-trends.png": "attainment_rose.py",
    "attainment-rose-did-paths.png": "attainment_rose.py",
    "comparison-cohort-love-plot.png": "comparison_cohort.py",
    "design-good-enough-power.png": "design_good_enough.py",
    "economic-appraisal.png": "economic_appraisal.py",
    "did-the-gap-close-forest.png": "did_the_gap_close.py",
    "did-the-gap-close-gap.png": "did_the_gap_close.py",
    "one-council-adopts-placebo-gaps.png": "one_council_adopts.py",
    "one-council-adopts-trajectories.png": "one_council_adopts.py",
    "twfe-mislead-bacon.png": "twfe_mislead.py",
    "twfe-mislead-event-study.png": "twfe_mislead.py",
    "trust-the-trend-sensitivity.png": "trust_the_trend.py",
}
"""Every figure the tutorial pages show, and the script that draws it."""

ASSETS = ROOT / "docs" / "assets"
DEMO_FIGURES = {"demo-paths.png": "paths.png"}
"""Figures of ``impact demo`` shown by the README and the home page (asset: demo file)."""


def publish(drawn: Path, name: str) -> None:
    """Copy the figure ``drawn`` to where the docs show ``name`` when publishing is on."""
    if name in PUBLISHED:
        target = TUTORIALS / name
    elif name in DEMO_FIGURES:
        target = ASSETS / name
    else:
        raise KeyError(f"{name} is not a documentation figure; add it to PUBLISHED")
    if drawn.stat().st_size <= 1000:
        raise ValueError(f"{drawn} looks empty")
    if os.environ.get(PUBLISH_ENV) == "1":
        shutil.copyfile(drawn, target)
