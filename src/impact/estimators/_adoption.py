"""The adoption check shared by the single-adoption designs.

The 2x2 DiD, the matched comparison and the matched DiD need one adoption period,
never-treated comparisons and treatment that stays on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact.exceptions import DesignError
from impact.panel._input import show

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["require_single_adoption"]


def require_single_adoption(panel: Panel, design: str) -> object:
    """Check that ``panel`` fits a single-adoption design and return the adoption period.

    Raises
    ------
    DesignError
        For a cross-section, no treated or no never-treated units, staggered adoption,
        treatment that switches off, or adoption in the first period.
    """
    if panel.is_cross_section:
        raise DesignError(
            f"{design} needs observations before and after adoption, but the Panel holds "
            f"a single period of {panel.time!r}; use a matching design for a cross-section"
        )
    cohort = panel.cohort_view()
    cohort_values = cohort.to_numpy()
    never = pd.isna(cohort_values)  # as cohort.isna(), on the array
    if never.all():
        raise DesignError(f"no unit is ever treated in {panel.treated!r}; nothing to estimate")
    if not never.any():
        raise DesignError(
            f"every unit of {panel.unit!r} is treated at some point; {design} needs "
            "never-treated comparison units"
        )
    first = cohort_values[~never]
    if (first != first[0]).any():
        cohorts = panel.cohorts
        raise DesignError(
            f"treatment starts in {len(cohorts)} different periods ({show(cohorts)}): "
            f"staggered adoption. {design} assumes one adoption date and would mix "
            "already-treated units into the comparison; use the staggered estimator "
            "(method 'staggered_did', impact.estimators.StaggeredDiD)"
        )
    codes = panel.codes()
    time_levels = codes.periods
    # the sorted distinct periods: as panel.periods (the same scalars), for plain numbers
    periods = time_levels.to_numpy() if time_levels.dtype.kind in "if" else panel.periods
    adoption = periods[periods == first[0]][0]
    if adoption <= periods[0]:
        raise DesignError(
            f"treatment starts in the first observed period ({show([adoption])}) of "
            f"{panel.time!r}: "
            "there is no pre-programme period to difference against"
        )
    times = panel.values(panel.time)
    if times.dtype.kind in "iuf" and cohort_values.dtype.kind in "iuf":
        # each row's cohort through the unit codes (the cohort is indexed by sorted unit)
        expected = times >= cohort_values[codes.unit_codes]
    else:
        frame = panel.view()
        expected = (frame[panel.time] >= frame[panel.unit].map(cohort)).to_numpy()
    if not np.array_equal(expected, panel.values(panel.treated) == 1):
        raise DesignError(
            f"treated column {panel.treated!r} switches off for some units; {design} needs "
            "treatment that stays on once it starts"
        )
    return adoption
