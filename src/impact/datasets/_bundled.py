"""Data sets shipped inside the package."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["load_mpdta", "load_scottish_schools"]


def load_mpdta() -> pd.DataFrame:
    """County teen employment and minimum wage increases, 2003-2007 (``mpdta``).

    A balanced panel of 500 US counties observed each year from 2003 to 2007. Counties
    raised their minimum wage in 2004, 2006 or 2007 (staggered adoption), or not at all
    within the window.

    Returns
    -------
    pandas.DataFrame
        2,500 rows with columns ``year`` (period), ``countyreal`` (unit), ``lpop`` (log
        population, constant within county), ``lemp`` (log teen employment, the
        outcome), ``first_treat`` (first treated year, 0 for never treated; called
        ``first.treat`` in R) and ``treat`` (1 for a county treated at some point).

    Notes
    -----
    Origin: the ``mpdta`` data of the R package ``did`` by Brantly Callaway and Pedro H.
    C. Sant'Anna, used in Callaway and Sant'Anna (2021), "Difference-in-Differences with
    multiple time periods", *Journal of Econometrics* 225(2), 200-230.

    Licence: the R package ``did`` is distributed under the GNU General Public License
    version 2 (GPL-2); this data file is redistributed under that licence. See
    ``impact/datasets/data/README.md``.

    Examples
    --------
    >>> from impact.datasets import load_mpdta
    >>> df = load_mpdta()
    >>> df.shape, sorted(df["first_treat"].unique().tolist())
    ((2500, 6), [0, 2004, 2006, 2007])
    >>> import impact
    >>> panel = impact.Panel.from_frame(df, unit="countyreal", time="year",
    ...                                 outcome="lemp", cohort="first_treat")
    >>> panel.is_staggered, len(panel.never_treated_units)
    (True, 309)
    """
    source = resources.files("impact.datasets").joinpath("data", "mpdta.csv")
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    return frame.rename(columns={"first.treat": "first_treat"})


def load_scottish_schools(*, seed: int | np.random.Generator | None = 2026) -> pd.DataFrame:
    """The synthetic founding example: schools, a pilot, and a national rise in attainment.

    About 350 secondary schools in 32 local authorities are observed for eight years
    (2001-2008). Attainment (the percentage of pupils gaining five or more awards at
    level 5) rises in every school by about a point a year. Sixty pilot schools, chosen
    more often in deprived areas, start a programme in the fourth year whose effect
    builds up over its first three years. The true effect of every school-year is in
    the ``true_effect`` column, so any estimate can be scored against the truth.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None, default 2026
        Randomness; the default gives the data used in the demo and tutorials.

    Returns
    -------
    pandas.DataFrame
        One row per school and year: ``school``, ``local_authority``, ``year``,
        ``attainment`` (outcome), ``pilot`` (1 while the school runs the programme),
        ``first_pilot_year`` (0 for schools never in the pilot), ``deprivation`` (share
        of pupils from the most deprived areas) and ``true_effect``.

    Notes
    -----
    Synthetic data simulated by :func:`impact.demo.simulate_scottish_schools`; no real
    school is described. Licence: MIT, as the rest of ``impact``.

    Examples
    --------
    >>> from impact.datasets import load_scottish_schools
    >>> df = load_scottish_schools()
    >>> df["school"].nunique(), df.loc[df.pilot == 1, "school"].nunique()
    (350, 60)
    """
    from impact.demo import simulate_scottish_schools

    return simulate_scottish_schools(seed=seed)
