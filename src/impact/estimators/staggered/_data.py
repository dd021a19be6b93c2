"""Arrays for the staggered estimator, prepared once from a Panel.

Units (panel data) or rows (repeated cross-sections) are sorted once so that every
cohort, and every cohort within a period, is a contiguous block: the treated and
comparison samples of each group-time cell are then a few slices, never a fresh
group-by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DataWarning, DesignError, DesignWarning, warn
from impact.panel._checks import is_numeric
from impact.terms import plain_period

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["Cell", "StaggeredData", "prepare"]


@dataclass(frozen=True)
class Cell:
    """One group-time cell: cohort ``group`` in period ``time`` against ``base``.

    Positions index the sorted periods. Comparison units are those whose cohort
    position exceeds ``threshold`` (never-treated units always do), except the
    cohort itself. ``treated`` and ``controls`` are slices of the cohort-sorted units.
    """

    group: int
    time: int
    base: int
    reference: bool
    threshold: int
    treated: tuple[int, int]
    controls: tuple[tuple[int, int], ...]
    n_treated: int
    n_control: int


@dataclass
class StaggeredData:
    """Everything the cell estimators and the aggregation read (see :func:`prepare`)."""

    kind: str
    periods: np.ndarray
    cells: list[Cell]
    never: int
    obs_group: np.ndarray
    obs_weight: np.ndarray
    clusters: np.ndarray | None
    n_rows: int
    n_units: int
    n_clusters: int
    covariate_names: list[str]
    n_dropped_units: int
    cohort_sizes: dict[int, int]
    n_incomplete_units: int = 0
    X: np.ndarray | None = None
    # panel data: outcome by period (T x units, units sorted by cohort) and unit weights
    y_by_period: np.ndarray | None = None
    unit_weight: np.ndarray | None = None
    # repeated cross-sections: rows sorted by (period, cohort)
    y: np.ndarray | None = None
    row_weight: np.ndarray | None = None
    row_key: np.ndarray | None = None
    obs_of_row: np.ndarray | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def n_obs_units(self) -> int:
        """Rows of the influence functions (units, or rows of a cross-section)."""
        return len(self.obs_group)

    def label(self, position: int) -> Any:
        """Period label at ``position``."""
        return plain_period(self.periods[int(position)])

    def cohort_table(self) -> pd.DataFrame:
        """Units per cohort (never-treated last)."""
        rows = [
            {"cohort": self.label(g) if g != self.never else "never treated", "n_units": n}
            for g, n in sorted(self.cohort_sizes.items())
        ]
        return pd.DataFrame(rows)

    def rows_for(self, period: int, cell: Cell) -> tuple[np.ndarray, np.ndarray]:
        """Row indices of the cell's treated and comparison rows in ``period``."""
        key = self.row_key
        base = period * (self.never + 1)

        def block(lo: int, hi: int) -> tuple[int, int]:
            return (
                int(np.searchsorted(key, base + lo, side="left")),
                int(np.searchsorted(key, base + hi, side="right")),
            )

        t0, t1 = block(cell.group, cell.group)
        c0, c1 = block(cell.threshold + 1, self.never)
        parts = [np.arange(t0, t1)]
        if cell.group > cell.threshold:
            parts += [np.arange(c0, t0), np.arange(t1, c1)]
        else:
            parts.append(np.arange(c0, c1))
        idx = np.concatenate(parts)
        d = np.zeros(len(idx), dtype=bool)
        d[: t1 - t0] = True
        return idx, d


def _column(panel: Panel, name: str) -> np.ndarray:
    """A column of the Panel's validated frame, without copying the whole frame."""
    return panel.view()[name].to_numpy()


def prepare(
    panel: Panel,
    *,
    control: str,
    anticipation: int,
    base_period: str,
    use_covariates: bool,
    allow_unbalanced_panel: bool = False,
) -> StaggeredData:
    """Validate the design and build the sorted arrays and the list of cells.

    An unbalanced panel is balanced by dropping the units not observed in every
    period (with a :class:`~impact.exceptions.DataWarning` counting them), as R
    ``did``'s default ``allow_unbalanced_panel = FALSE``; with
    ``allow_unbalanced_panel`` every row is kept for the unbalanced-panel estimator.

    Raises
    ------
    DesignError
        For a cross-section, no treated units, no comparison units, or a cohort of
        a single unit when covariates are used.
    """
    if panel.is_cross_section:
        raise DesignError(
            f"the staggered estimator needs several periods, but {panel.time!r} holds one"
        )
    if len(panel.treated_units) == 0:
        raise DesignError(f"no unit is ever treated in {panel.treated!r}; nothing to estimate")
    periods = panel.periods.to_numpy()
    n_periods = len(periods)
    never = n_periods + anticipation + 1
    cohort = panel.cohort_view()
    unit_group = np.full(len(cohort), never, dtype=np.int64)
    treated = cohort.notna().to_numpy()
    unit_group[treated] = np.searchsorted(periods, cohort.to_numpy()[treated])

    positions: list[np.ndarray] = []

    def row_positions() -> tuple[np.ndarray, np.ndarray]:
        """Period and unit position of every row (computed when first needed)."""
        if not positions:
            if not panel.is_repeated_cross_section and panel.n_obs == len(cohort) * n_periods:
                # balanced panel sorted by unit and period: positions without searching
                positions.append(np.tile(np.arange(n_periods), len(cohort)))
                positions.append(np.repeat(np.arange(len(cohort)), n_periods))
            else:
                positions.append(np.searchsorted(periods, _column(panel, panel.time)))
                units = cohort.index.to_numpy()
                positions.append(np.searchsorted(units, _column(panel, panel.unit)))
        return positions[0], positions[1]

    keep_rows: np.ndarray | None = None  # None: every row

    # cohorts with no period before adoption (minus anticipation)
    early = treated & (unit_group <= anticipation)
    n_dropped = int(early.sum())
    if n_dropped:
        labels = sorted({plain_period(periods[g]) for g in unit_group[early]})
        warn(
            f"dropped {n_dropped} unit(s) of cohort(s) {labels} treated from the first "
            f"observed period of {panel.time!r}"
            + (f" (with anticipation={anticipation})" if anticipation else "")
            + ": they have no pre-treatment period to compare against",
            DesignWarning,
        )
        keep_rows = ~early[row_positions()[1]]
    active = ~early
    if not (active & treated).any():
        raise DesignError(
            "every treated unit is treated from the first observed period; there is no "
            "pre-treatment period to difference against"
        )
    if not (active & ~treated).any():
        if control == "never_treated":
            raise DesignError(
                f"no unit of {panel.unit!r} is never treated, so control='never_treated' "
                "has no comparison group; use control='not_yet_treated'"
            )
        last = int(unit_group[active & treated].max())
        if not (active & treated & (unit_group < last)).any():
            raise DesignError(
                "every unit is treated in the same period and none is never treated: "
                "there is no comparison group"
            )
        # as R did: the last cohort becomes the comparison group, its periods dropped
        keep = row_positions()[0] < last - anticipation
        keep_rows = keep if keep_rows is None else keep_rows & keep
        unit_group[unit_group == last] = never

    n_incomplete = 0
    if not (panel.is_repeated_cross_section or panel.is_balanced or allow_unbalanced_panel):
        keep_rows, n_incomplete = _balance(
            panel, row_positions, keep_rows, unit_group, never, control
        )

    if keep_rows is not None and keep_rows.all():
        keep_rows = None  # every row
    if keep_rows is not None:
        row_period, row_unit = row_positions()
        kept_units = np.unique(row_unit[keep_rows])
        n_periods_used = int(row_period[keep_rows].max()) + 1
    else:
        kept_units = np.arange(len(cohort))
        n_periods_used = n_periods  # every period is observed in some row

    # covariates
    covariate_names: list[str] = []
    X_rows = None  # covariates by row, without the constant
    if use_covariates and panel.covariates:
        frame = panel.view()
        if all(is_numeric(frame[c]) for c in panel.covariates):
            covariate_names = list(panel.covariates)
            X_rows = np.column_stack([frame[c].to_numpy(dtype=float) for c in covariate_names])
        else:  # categorical covariates: dummies
            cov = panel.covariate_matrix()
            covariate_names = list(cov.columns)
            X_rows = cov.to_numpy(dtype=float)
        # centred and scaled: the regressions and the logit include an intercept, so the
        # estimates do not change, but covariates far from zero relative to their spread
        # (pre-programme outcomes shifted by a constant) no longer ill-condition them
        centre = X_rows.mean(axis=0)
        spread = X_rows.std(axis=0)
        X_rows = (X_rows - centre) / np.where(spread > 0, spread, 1.0)
        sizes = np.bincount(unit_group[kept_units])
        single = [plain_period(periods[g]) for g in np.flatnonzero(sizes == 1) if g != never]
        if single:
            raise DesignError(
                f"cohort(s) {single} hold a single unit, too few to model with covariates "
                f"{covariate_names}; drop the covariates or merge those cohorts with "
                "neighbouring ones"
            )

    weights_rows = _column(panel, panel.weights).astype(float) if panel.weights else None
    cluster_rows = (
        pd.factorize(panel.view()[panel.cluster], sort=True)[0] if panel.cluster else None
    )

    is_panel = (not panel.is_repeated_cross_section) and panel.is_balanced and keep_rows is None
    if not is_panel and not panel.is_repeated_cross_section:
        # a balanced panel with dropped rows/units is still balanced on what is left
        row_unit = row_positions()[1]
        sub_units = row_unit if keep_rows is None else row_unit[keep_rows]
        counts = np.bincount(sub_units, minlength=len(cohort))[kept_units]
        is_panel = bool(np.all(counts == n_periods_used))

    sizes_all = np.bincount(unit_group[kept_units])
    cohort_sizes = {int(g): int(sizes_all[g]) for g in np.flatnonzero(sizes_all)}

    if is_panel:
        data = _panel_arrays(
            panel,
            periods,
            never,
            unit_group,
            kept_units,
            keep_rows,
            n_periods_used,
            X_rows,
            weights_rows,
            cluster_rows,
        )
    else:
        row_period, row_unit = row_positions()
        if keep_rows is None:
            keep_rows = np.ones(panel.n_obs, dtype=bool)
        if weights_rows is None:
            weights_rows = np.ones(panel.n_obs)
        data = _rcs_arrays(
            panel,
            periods,
            never,
            unit_group,
            keep_rows,
            X_rows,
            weights_rows,
            cluster_rows,
            row_unit,
            row_period,
        )
    data.covariate_names = covariate_names
    data.n_dropped_units = n_dropped
    data.n_incomplete_units = n_incomplete
    data.cohort_sizes = cohort_sizes
    data.cells = _cells(
        unit_group[kept_units],
        never,
        n_periods_used,
        control,
        anticipation,
        base_period,
        periods,
    )
    if not data.cells:
        raise DesignError("no group-time cell has both treated and comparison units")
    return data


def _balance(
    panel: Panel,
    row_positions: Any,
    keep_rows: np.ndarray | None,
    unit_group: np.ndarray,
    never: int,
    control: str,
) -> tuple[np.ndarray, int]:
    """Keep only the units observed in every period still used (R ``did``'s default).

    Returns the rows kept and the number of units dropped; raises a DesignError when
    no treated or (for ``control="never_treated"``) no never-treated unit is left.
    """
    row_period, row_unit = row_positions()
    kept = np.ones(len(row_unit), dtype=bool) if keep_rows is None else keep_rows
    n_units = len(unit_group)
    n_present = len(np.unique(row_period[kept]))
    counts = np.bincount(row_unit[kept], minlength=n_units)
    incomplete = (counts > 0) & (counts < n_present)
    n_incomplete = int(incomplete.sum())
    if not n_incomplete:
        return kept, 0
    complete = counts == n_present
    treated_left = complete & (unit_group < never)
    if not treated_left.any():
        raise DesignError(
            f"no treated unit of {panel.unit!r} is observed in all {n_present} periods, so "
            "balancing the panel (dropping units with missing periods, as R did) leaves "
            "none; pass allow_unbalanced_panel=True to use every observed row"
        )
    if control == "never_treated" and not (complete & (unit_group == never)).any():
        raise DesignError(
            f"no never-treated unit of {panel.unit!r} is observed in all {n_present} periods, "
            "so balancing the panel (dropping units with missing periods, as R did) leaves "
            "no comparison group; pass allow_unbalanced_panel=True to use every observed "
            "row, or control='not_yet_treated'"
        )
    warn(
        f"dropped {n_incomplete} unit(s) of {panel.unit!r} not observed in all {n_present} "
        f"periods of {panel.time!r}, to balance the panel as R did does by default; pass "
        "allow_unbalanced_panel=True to keep every observed row (the unbalanced-panel "
        "estimator, which compares different units across periods)",
        DataWarning,
    )
    return kept & complete[row_unit], n_incomplete


def _panel_arrays(
    panel: Panel,
    periods: np.ndarray,
    never: int,
    unit_group: np.ndarray,
    kept_units: np.ndarray,
    keep_rows: np.ndarray | None,
    n_periods: int,
    X_rows: np.ndarray | None,
    weights_rows: np.ndarray | None,
    cluster_rows: np.ndarray | None,
) -> StaggeredData:
    """Arrays of a balanced panel; ``keep_rows`` None keeps every row."""
    n = len(kept_units)
    y = np.asarray(_column(panel, panel.outcome), dtype=float)
    if keep_rows is not None:
        y = y[keep_rows]
    groups = unit_group[kept_units]
    blocks = _group_blocks(groups)
    order = np.concatenate(blocks)  # units sorted by cohort (a stable sort)
    # periods in rows, units sorted by cohort in columns: gathered and transposed one
    # cohort at a time, which keeps the transposes in cache
    y_units = y.reshape(n, n_periods)
    y_by_period = np.empty((n_periods, n))
    start = 0
    for block in blocks:
        y_by_period[:, start : start + len(block)] = y_units[block].T
        start += len(block)

    def per_unit(values: np.ndarray, what: str) -> np.ndarray:
        v = values if keep_rows is None else values[keep_rows]
        v = v.reshape(n, n_periods, *v.shape[1:])
        first = v[:, 0]
        if not np.array_equal(v, np.broadcast_to(first[:, None], v.shape)):
            warn(
                f"{what} vary over time within units; the staggered estimator uses each "
                "unit's values in its first observed period",
                DesignWarning,
            )
        return first[order]

    if weights_rows is None:
        unit_weight = np.ones(n)
    else:
        unit_weight = per_unit(weights_rows, f"weights {panel.weights!r}")
    X = None
    if X_rows is not None:
        X = per_unit(X_rows, f"covariates {list(panel.covariates)}")
        X = np.column_stack([np.ones(n), X])
    clusters = None
    n_clusters = n
    if cluster_rows is not None:
        c = cluster_rows if keep_rows is None else cluster_rows[keep_rows]
        c = c.reshape(n, n_periods)
        if not np.all(c == c[:, :1]):
            raise DesignError(
                f"cluster column {panel.cluster!r} varies over time within units; "
                "clusters must contain whole units"
            )
        clusters = pd.factorize(c[:, 0][order], sort=True)[0]
        n_clusters = int(clusters.max()) + 1
    return StaggeredData(
        kind="panel",
        periods=periods,
        cells=[],
        never=never,
        obs_group=groups[order],
        obs_weight=unit_weight,
        clusters=clusters,
        n_rows=n * n_periods,
        n_units=n,
        n_clusters=n_clusters,
        covariate_names=[],
        n_dropped_units=0,
        cohort_sizes={},
        X=X,
        y_by_period=y_by_period,
        unit_weight=unit_weight,
    )


def _group_blocks(groups: np.ndarray) -> list[np.ndarray]:
    """Positions of each group's members, groups in increasing order.

    Concatenated they give ``np.argsort(groups, kind="stable")``; for many groups
    (more than 64) the stable sort itself is cut at the group boundaries.
    """
    counts = np.bincount(groups)  # groups are small non-negative positions
    values = np.flatnonzero(counts)
    if len(values) > 64:
        order = np.argsort(groups, kind="stable")
        return np.split(order, np.cumsum(counts[values])[:-1])
    return [np.flatnonzero(groups == g) for g in values]


def _rcs_arrays(
    panel: Panel,
    periods: np.ndarray,
    never: int,
    unit_group: np.ndarray,
    keep_rows: np.ndarray,
    X_rows: np.ndarray | None,
    weights_rows: np.ndarray,
    cluster_rows: np.ndarray | None,
    row_unit: np.ndarray,
    row_period: np.ndarray,
) -> StaggeredData:
    rows = np.flatnonzero(keep_rows)
    group_of_row = unit_group[row_unit[rows]]
    key = row_period[rows] * (never + 1) + group_of_row
    order = np.argsort(key, kind="stable")
    rows = rows[order]
    key = key[order]
    y = _column(panel, panel.outcome).astype(float)[rows]
    w = weights_rows[rows]
    X = np.column_stack([np.ones(len(rows)), X_rows[rows]]) if X_rows is not None else None
    units = row_unit[rows]
    if panel.is_repeated_cross_section:
        kind = "repeated_cross_section"
        obs_of_row = np.arange(len(rows))
        obs_group = unit_group[units]
        obs_weight = w
        cl = cluster_rows[rows] if cluster_rows is not None else units
        clusters = pd.factorize(cl, sort=True)[0]
    else:
        kind = "unbalanced_panel"
        obs_of_row, uniq = pd.factorize(units, sort=True)
        obs_group = unit_group[uniq]
        obs_weight = np.bincount(obs_of_row, weights=w) / np.bincount(obs_of_row)
        clusters = None
        if cluster_rows is not None:
            cl = cluster_rows[rows]
            first = np.zeros(len(uniq), dtype=np.int64)
            first[obs_of_row] = cl
            if not np.all(cl == first[obs_of_row]):
                raise DesignError(
                    f"cluster column {panel.cluster!r} varies over time within units; "
                    "clusters must contain whole units"
                )
            clusters = pd.factorize(first, sort=True)[0]
    n_clusters = int(clusters.max()) + 1 if clusters is not None else len(obs_group)
    return StaggeredData(
        kind=kind,
        periods=periods,
        cells=[],
        never=never,
        obs_group=obs_group,
        obs_weight=obs_weight,
        clusters=clusters,
        n_rows=len(rows),
        n_units=len(np.unique(units)),
        n_clusters=n_clusters,
        covariate_names=[],
        n_dropped_units=0,
        cohort_sizes={},
        X=X,
        y=y,
        row_weight=w,
        row_key=key,
        obs_of_row=obs_of_row,
    )


def _cells(
    groups: np.ndarray,
    never: int,
    n_periods: int,
    control: str,
    anticipation: int,
    base_period: str,
    periods: np.ndarray,
) -> list[Cell]:
    """Enumerate the group-time cells with their base periods and comparison groups."""
    per_group = np.bincount(groups, minlength=never + 2)  # groups are positions <= never
    below = np.concatenate([[0], np.cumsum(per_group)])
    counts = {int(g): int(per_group[g]) for g in np.flatnonzero(per_group)}

    def lo(g: int) -> int:  # units in groups below g (g's block starts here when sorted)
        return int(below[min(max(g, 0), never + 1)])

    def hi(g: int) -> int:
        return int(below[min(max(g + 1, 0), never + 1)])

    n = len(groups)
    cohorts = [g for g in sorted(counts) if g != never]
    cells = []
    first_t = 1 if base_period == "varying" else 0
    for g in cohorts:
        if g >= n_periods:
            continue
        for t in range(first_t, n_periods):
            post = g <= t
            base = g - 1 - anticipation if (post or base_period == "universal") else t - 1
            reference = base_period == "universal" and t == base
            if control == "never_treated":
                threshold = never - 1
            else:
                threshold = max(t, base) + anticipation
            start = lo(threshold + 1)
            if g > threshold:
                controls = ((start, lo(g)), (hi(g), n))
            else:
                controls = ((start, n),)
            controls = tuple((a, b) for a, b in controls if b > a)
            n_control = sum(b - a for a, b in controls)
            if n_control == 0 and not reference:
                warn(
                    f"skipped ATT({plain_period(periods[g])},{plain_period(periods[t])}): no "
                    "comparison units are left (not yet treated) in that period",
                    DesignWarning,
                )
                continue
            cells.append(
                Cell(
                    group=g,
                    time=t,
                    base=base,
                    reference=reference,
                    threshold=threshold,
                    treated=(lo(g), hi(g)),
                    controls=controls,
                    n_treated=counts[g],
                    n_control=n_control,
                )
            )
    return cells
