"""The sandbox's picture: observed pilot and comparison schools, each design's counterfactual.

Colours are the Okabe-Ito palette (distinguishable with every common colour-vision
deficiency), and lines also differ by style and marker so nothing relies on colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from impact.teach.model import Outcome

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["draw"]

_MARKERS = ("v", "^", "D", "P", "X", "*")


def draw(outcome: Outcome, *, large: bool = False, width: float = 10.0) -> Figure:
    """Draw mean attainment of pilot and comparison schools with each counterfactual.

    Parameters
    ----------
    outcome : Outcome
        The current world and fits.
    large : bool, default False
        Larger fonts and lines, for a projector.
    width : float, default 10.0
        Figure width in inches (height is 0.45 of it).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (no window, no global state).

    Examples
    --------
    >>> from impact.teach.model import Analysis, World, run
    >>> fig = draw(run(World(n_schools=40, n_pilot=10), Analysis(designs=("did",))))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
    ['pilots (observed)', 'comparison (observed)']
    """
    from matplotlib.figure import Figure

    size = 15 if large else 10
    line = 2.6 if large else 1.8
    fig = Figure(figsize=(width, width * 0.45), layout="tight")
    ax = fig.add_subplot()
    paths = outcome.trajectories()
    ax.plot(paths["time"], paths["pilot"], color="#000000", marker="o", lw=line + 0.6,
            label="pilots (observed)")  # fmt: skip
    ax.plot(paths["time"], paths["comparison"], color="#56B4E9", marker="s", lw=line,
            label="comparison (observed)")  # fmt: skip
    ax.plot(paths["time"], paths["pilot_untreated"], color="#000000", linestyle=":", lw=line,
            label="pilots without programme (truth)")  # fmt: skip
    for fit, marker in zip(outcome.fits, _MARKERS, strict=False):
        result = fit.result
        if result is None or result.paths is None:
            continue
        p = result.paths
        ax.plot(p["time"], p["counterfactual"], color=fit.design.colour, linestyle="--",
                marker=marker, lw=line, label=fit.design.label)  # fmt: skip
    starts = [s for s, _ in outcome.world.cohorts(outcome.simulated.scenario.n_periods)]
    first = int(outcome.simulated.scenario.first_period)
    for start in starts:
        ax.axvline(first + start - 1.5, color="#666666", linestyle="-.", lw=1)
    ax.text(first + min(starts) - 1.45, 0.02, " programme starts", fontsize=size * 0.85,
            transform=ax.get_xaxis_transform(), color="#444444")  # fmt: skip
    ax.set_xlabel("year", fontsize=size)
    ax.set_ylabel("mean attainment (points)", fontsize=size)
    ax.tick_params(labelsize=size * 0.9)
    ax.set_title(f"True effect: {outcome.truth:.2f} points", fontsize=size * 1.1)
    ax.grid(alpha=0.3)
    # outside the axes (a tight layout, which web frameworks keep, makes room for it):
    # beside them, or below them with large fonts, where the width is needed for the plot
    where = (
        {"loc": "upper center", "bbox_to_anchor": (0.5, -0.28), "ncols": 3}
        if large
        else {"loc": "center left", "bbox_to_anchor": (1.01, 0.5)}
    )
    legend_size = size * (0.7 if large else 0.8)
    ax.legend(fontsize=legend_size, frameon=False, title="dashed: counterfactuals",
              title_fontsize=legend_size, **where)  # fmt: skip
    return fig
