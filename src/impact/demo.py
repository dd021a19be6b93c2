"""The main demo: why a before/after comparison misleads, on schools where the truth is known.

:func:`run_demo` simulates the Scottish schools scenario (a national rise in attainment,
pilot schools, a true effect that builds up), fits every design of :data:`DESIGNS` on
it, and returns one comparison table (estimate, interval, truth) together with the
figures of :data:`FIGURES` written to a folder. ``impact demo`` on the command line
prints the table and names the folder.

Adding a design to the demo is one entry in :data:`DESIGNS`; adding a figure is one
entry in :data:`FIGURES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact._defaults import ALPHA
from impact.datasets import load_scottish_schools
from impact.panel.container import Panel
from impact.registry import get_estimator
from impact.result import COLUMNS_SETTING, ImpactResult, effect_row

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DESIGNS",
    "FIGURES",
    "DemoDesign",
    "DemoFigure",
    "DemoRun",
    "before_after",
    "registered",
    "run_demo",
]


# ---------------------------------------------------------------------------- designs
def before_after(panel: Panel, *, alpha: float = ALPHA) -> ImpactResult:
    """The naive before/after comparison: the treated units' change, and nothing else.

    Each treated unit's mean outcome from adoption on minus its mean before; the
    estimate is the average of these changes with a t interval over units. Its implicit
    counterfactual is "nothing would have changed", so it credits the programme with
    any trend that affects every unit. Shown in the demo as the comparison to avoid.

    Parameters
    ----------
    panel : Panel
        Data with treated units observed before and after adoption.
    alpha : float, default 0.05
        Intervals have coverage ``1 - alpha``.

    Returns
    -------
    ImpactResult
        Estimator ``"before_after"``; ``paths`` has the treated mean and the flat
        pre-programme mean as counterfactual.

    Examples
    --------
    >>> from impact.datasets import load_scottish_schools
    >>> df = load_scottish_schools(seed=1)
    >>> panel = Panel.from_frame(df, unit="school", time="year", outcome="attainment",
    ...                          treated="pilot")
    >>> result = before_after(panel)
    >>> result.att.estimate > 4  # the national rise is counted as effect
    True
    """
    frame = panel.frame
    cohort = frame[panel.unit].map(panel.cohort)
    treated = frame.loc[cohort.notna()].copy()
    treated["post"] = treated[panel.time] >= cohort[cohort.notna()]
    by_unit = treated.groupby([panel.unit, "post"])[panel.outcome].mean().unstack("post")
    change = (by_unit[True] - by_unit[False]).dropna()
    n = len(change)
    std_error = float(change.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    row = effect_row(
        "att", float(change.mean()), std_error, df=n - 1, alpha=alpha, n_treated_units=n
    )
    means = treated.groupby(panel.time)[panel.outcome].mean()
    pre_mean = float(treated.loc[~treated["post"], panel.outcome].mean())
    start = cohort.dropna().min()
    paths = pd.DataFrame(
        {
            "time": means.index.to_numpy(),
            "observed": means.to_numpy(),
            "counterfactual": pre_mean,
            "effect": means.to_numpy() - pre_mean,
            "post": means.index.to_numpy() >= start,
        }
    )
    return ImpactResult(
        estimator="before_after",
        effects=pd.DataFrame([row]),
        settings={
            "alpha": alpha,
            "counterfactual": "pre-programme mean of the treated units",
            COLUMNS_SETTING: {"unit": panel.unit, "time": panel.time, "outcome": panel.outcome},
        },
        paths=paths,
        n_obs=len(treated),
        n_units=n,
    )


def registered(name: str, **params: Any) -> Callable[[Panel], ImpactResult]:
    """Return a function fitting the registered estimator ``name`` with ``params``.

    Examples
    --------
    >>> fit = registered("did", inference="hc1")
    >>> callable(fit)
    True
    """

    def fit(panel: Panel) -> ImpactResult:
        return get_estimator(name, **params).fit(panel)

    fit.__name__ = f"fit_{name}"
    return fit


@dataclass(frozen=True)
class DemoDesign:
    """One row of the demo's comparison: a label and how to fit it.

    Attributes
    ----------
    label : str
        Name shown in the table and figures.
    fit : callable
        ``fit(panel) -> ImpactResult``; :func:`registered` builds one from a
        registered estimator's name.
    covariates : tuple of str
        Columns of the simulated data the design's Panel carries as covariates.
    """

    label: str
    fit: Callable[[Panel], ImpactResult]
    covariates: tuple[str, ...] = ()


DESIGNS: tuple[DemoDesign, ...] = (
    DemoDesign("naive before/after", before_after),
    DemoDesign("difference-in-differences", registered("did")),
    DemoDesign("staggered DiD", registered("staggered_did")),
    DemoDesign("matched DiD", registered("matched_did")),
    DemoDesign("controlled ITS", registered("its", comparison=True)),
    DemoDesign("synthetic DiD", registered("synthetic_did")),
    DemoDesign("synthetic control", registered("synthetic_control")),
)
"""The designs the demo compares, in display order. Add one entry to add a design."""


# ---------------------------------------------------------------------------- the run
@dataclass(frozen=True)
class DemoRun:
    """What :func:`run_demo` produced.

    Attributes
    ----------
    data : pandas.DataFrame
        The simulated schools.
    truth : float
        The true average effect on the pilot schools in their programme years.
    results : dict of str to ImpactResult
        Each design's result, keyed by label.
    table : pandas.DataFrame
        The comparison table: ``design, estimate, ci_lower, ci_upper, truth, covers``.
    figures : dict of str to Path
        Figures written, keyed by name.
    out : Path or None
        The folder written to.
    """

    data: pd.DataFrame
    truth: float
    results: dict[str, ImpactResult]
    table: pd.DataFrame
    figures: dict[str, Path] = field(default_factory=dict)
    out: Path | None = None

    def format_table(self) -> str:
        """The comparison table as aligned text."""
        lines = [
            f"{'design':<30}{'estimate':>10}{'95% interval':>22}{'truth':>8}{'covers':>8}",
        ]
        for row in self.table.itertuples(index=False):
            interval = f"[{row.ci_lower:.2f}, {row.ci_upper:.2f}]"
            lines.append(
                f"{row.design:<30}{row.estimate:>10.2f}{interval:>22}{row.truth:>8.2f}"
                f"{'yes' if row.covers else 'NO':>8}"
            )
        return "\n".join(lines)


def _panel(data: pd.DataFrame, covariates: Sequence[str] = ()) -> Panel:
    return Panel.from_frame(
        data,
        unit="school",
        time="year",
        outcome="attainment",
        treated="pilot",
        covariates=tuple(covariates),
    )


def run_demo(
    out: str | Path | None = "impact-demo",
    *,
    seed: int | np.random.Generator | None = 2026,
    designs: Sequence[DemoDesign] = DESIGNS,
) -> DemoRun:
    """Simulate the schools, fit every design, build the table and write the figures.

    Parameters
    ----------
    out : str, Path or None, default "impact-demo"
        Folder for the figures and the simulated data (``scottish_schools.csv``);
        created if needed. ``None`` writes nothing.
    seed : int, numpy.random.Generator or None, default 2026
        Randomness of the simulation.
    designs : sequence of DemoDesign, default DESIGNS
        The designs to compare.

    Returns
    -------
    DemoRun

    Examples
    --------
    >>> run = run_demo(None, seed=3)
    >>> run.table["design"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['naive before/after', 'difference-in-differences', 'staggered DiD',
     'matched DiD', 'controlled ITS', 'synthetic DiD', 'synthetic control']
    >>> naive = run.table.set_index("design").loc["naive before/after"]
    >>> bool(naive["estimate"] - run.truth > 3)  # four years of national rise
    True
    """
    data = load_scottish_schools(seed=seed)
    truth = float(data.loc[data["pilot"] == 1, "true_effect"].mean())
    results: dict[str, ImpactResult] = {}
    for design in designs:
        results[design.label] = design.fit(_panel(data, design.covariates))
    rows = []
    for label, result in results.items():
        att = result.att
        rows.append(
            {
                "design": label,
                "estimate": att.estimate,
                "ci_lower": att.ci_lower,
                "ci_upper": att.ci_upper,
                "truth": truth,
                "covers": bool(att.ci_lower <= truth <= att.ci_upper),
            }
        )
    run = DemoRun(data=data, truth=truth, results=results, table=pd.DataFrame(rows))
    if out is None:
        return run
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    data.to_csv(folder / "scottish_schools.csv", index=False)
    figures = write_figures(run, folder)
    return DemoRun(
        data=data, truth=truth, results=results, table=run.table, figures=figures, out=folder
    )


# ---------------------------------------------------------------------------- figures
def _trends(run: DemoRun) -> Figure:
    import matplotlib.pyplot as plt

    from impact.plotting._style import mark_start

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    data = run.data
    group = np.where(data["first_pilot_year"] > 0, "pilot schools", "other schools")
    means = data.groupby([data["year"], group])["attainment"].mean().unstack()
    for name in ("other schools", "pilot schools"):
        ax.plot(means.index, means[name], marker="o", label=name)
    start = data.loc[data["first_pilot_year"] > 0, "first_pilot_year"].min()
    mark_start(ax, start - 1, start)
    ax.set_xlabel("year")
    ax.set_ylabel("attainment (mean, %)")
    ax.set_title("Attainment rose everywhere, not only in pilot schools")
    ax.legend()
    return fig


def _paths(run: DemoRun) -> Figure:
    import matplotlib.pyplot as plt

    from impact.plotting.results import plot_paths

    with_paths = {k: r for k, r in run.results.items() if r.paths is not None}
    n = max(len(with_paths), 1)
    ncols = min(n, 4)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5 * ncols, 3.8 * nrows), sharey=True, squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for ax, (label, result) in zip(axes.ravel(), with_paths.items(), strict=False):
        plot_paths(result, ax=ax)
        ax.set_title(f"{label}: {result.att.estimate:.2f} (truth {run.truth:.2f})")
    for ax in axes.ravel()[len(with_paths) :]:
        ax.set_visible(False)
    fig.suptitle("Pilot schools: observed attainment and each design's counterfactual")
    return fig


def _estimates(run: DemoRun) -> Figure:
    import matplotlib.pyplot as plt

    table = run.table
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(table) + 1.8), layout="constrained")
    y = np.arange(len(table))[::-1]
    est = table["estimate"].to_numpy(dtype=float)
    err = np.vstack([est - table["ci_lower"], table["ci_upper"] - est])
    ax.errorbar(est, y, xerr=err, fmt="o", capsize=4)
    ax.axvline(run.truth, color="tab:green", linestyle="--", label=f"truth ({run.truth:.2f})")
    ax.axvline(0.0, color="grey", linestyle=":")
    ax.set_yticks(y)
    ax.set_yticklabels(table["design"])
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.set_xlabel("estimated effect on attainment (points), 95% interval")
    ax.set_title("Each design's estimate against the truth")
    ax.legend()
    return fig


def _event_study(run: DemoRun) -> Figure:
    import matplotlib.pyplot as plt

    from impact.estimators.staggered.result import StaggeredResult
    from impact.plotting.staggered import plot_event_study

    staggered = [r for r in run.results.values() if isinstance(r, StaggeredResult)]
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    if staggered:
        plot_event_study(staggered[0].aggregate("dynamic"), ax=ax)
        ax.set_title("Effect by year of the programme (staggered DiD): it builds up")
    else:
        ax.text(0.5, 0.5, "no staggered design in this run", ha="center", va="center")
        ax.set_axis_off()
    return fig


def _balance(run: DemoRun) -> Figure:
    import matplotlib.pyplot as plt

    from impact.plotting.matching import plot_balance

    matched = [r for r in run.results.values() if "balance" in r.diagnostics]
    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    if matched:
        plot_balance(matched[0], ax=ax)
        ax.set_title("Matched DiD: balance of pilot and matched comparison schools")
    else:
        ax.text(0.5, 0.5, "no matching design in this run", ha="center", va="center")
        ax.set_axis_off()
    return fig


@dataclass(frozen=True)
class DemoFigure:
    """A figure the demo writes: a file name and a function drawing it from the run."""

    filename: str
    draw: Callable[[DemoRun], Figure]


FIGURES: tuple[DemoFigure, ...] = (
    DemoFigure("trends.png", _trends),
    DemoFigure("paths.png", _paths),
    DemoFigure("estimates.png", _estimates),
    DemoFigure("event_study.png", _event_study),
    DemoFigure("balance.png", _balance),
)
"""The figures the demo writes, in order. Add one entry to add a figure."""


def write_figures(run: DemoRun, folder: Path) -> dict[str, Path]:
    """Draw every figure of :data:`FIGURES` and save it in ``folder``."""
    import matplotlib.pyplot as plt

    written: dict[str, Path] = {}
    for figure in FIGURES:
        fig = figure.draw(run)
        path = folder / figure.filename
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written[Path(figure.filename).stem] = path
    return written
