"""What :meth:`impact.panel.container.Panel._from_trusted` derives from data valid by construction.

The same codes, levels, cohort and column arrays that :meth:`Panel.from_frame` derives
from a frame, computed from the arrays the simulator hands over, without the checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impact.panel._checks import cohort_series

__all__ = ["trusted_cache"]


def trusted_cache(
    columns: dict[str, np.ndarray],
    *,
    unit: str,
    time: str,
    treated: str,
    codes: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, Any], pd.Series]:
    """The Panel's cache (codes, levels, column arrays) and each unit's cohort.

    ``codes`` are the rows' unit and period codes (positions among the sorted distinct
    values); rows are sorted by unit then period.
    """
    unit_values = columns[unit]
    time_values = columns[time]
    unit_codes = np.asarray(codes[0], dtype=np.intp)
    time_codes = np.asarray(codes[1], dtype=np.intp)
    # every row of a code holds the same value: write them into place, no sort needed
    units = np.empty(int(unit_codes.max()) + 1, dtype=unit_values.dtype)
    units[unit_codes] = unit_values
    unit_levels = pd.Index(units)
    n_periods = int(time_codes.max()) + 1
    periods = np.empty(n_periods, dtype=time_values.dtype)
    periods[time_codes] = time_values
    time_levels = pd.Index(periods)
    # first treated period per unit: the first treated row, rows being in order
    on = columns[treated] == 1
    first_codes, at = np.unique(unit_codes[on], return_index=True)
    unit_cohort = cohort_series(time_values[on][at], first_codes, unit_levels)
    unit_cohort.index.name = unit
    unit_cohort.name = "cohort"
    unit_codes.flags.writeable = False
    time_codes.flags.writeable = False
    cache: dict[str, Any] = {
        "codes": (unit_codes, unit_levels, time_codes, time_levels),
        "n_periods": n_periods,
    }
    for column, values in columns.items():  # as _values() reads them from the frame
        kept = np.asarray(values).view()
        kept.flags.writeable = False
        cache[f"values:{column}"] = kept
    return cache, unit_cohort
