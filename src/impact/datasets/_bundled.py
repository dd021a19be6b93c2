"""Data sets shipped inside the package."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from impact.simulations.scenario import Scenario

__all__ = ["load_mpdta", "load_scottish_schools", "scottish_schools_scenario"]


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


# The founding example as the data set shows it: the simulator's Scottish schools preset
# with deprived schools more often chosen for the pilot (selection on the covariate) and
# an effect that builds up over the first three years of the programme.
N_LOCAL_AUTHORITIES = 32
PILOT_EFFECT_BY_YEAR = (0.5, 1.5, 2.5)  # points of attainment; then stays at the last


def _pilot_profile(event: np.ndarray) -> np.ndarray:
    """Share of the full effect (2.5 points) in each year of the programme."""
    steps = np.asarray(PILOT_EFFECT_BY_YEAR) / PILOT_EFFECT_BY_YEAR[-1]
    return steps[np.clip(event, 0, len(steps) - 1)]


def scottish_schools_scenario() -> Scenario:
    """The :class:`~impact.simulations.Scenario` behind :func:`load_scottish_schools`.

    :meth:`Scenario.scottish_schools` (350 schools, 2001-2008, 60 pilot schools from
    2004, a national rise of one point a year) with pilots chosen on deprivation (the
    covariate ``x``, lowering attainment by 5 points per standard deviation), school
    noise that persists from year to year (SD 2.5 points, autocorrelation 0.5) and an
    effect of 0.5, 1.5 and then 2.5 points in the programme's first, second and later
    years.

    Examples
    --------
    >>> scenario = scottish_schools_scenario()
    >>> scenario.n_units, scenario.n_treated, scenario.selection
    (350, 60, 'covariate')
    """
    return Scenario.scottish_schools(
        unit_sd=6.0,
        noise_sd=2.5,
        rho=0.5,
        covariate_effect=-5.0,
        selection="covariate",
        selection_strength=1.0,
        effect=PILOT_EFFECT_BY_YEAR[-1],
        profile=_pilot_profile,
    )


def load_scottish_schools(*, seed: int | np.random.Generator | None = 2026) -> pd.DataFrame:
    """The synthetic founding example: schools, a pilot, and a national rise in attainment.

    About 350 secondary schools in 32 local authorities are observed for eight years
    (2001-2008). Attainment (a score around 50 points) rises in every school by about
    a point a year. Sixty pilot schools, chosen more often in deprived areas, start a
    programme in the fourth year whose effect builds up over its first three years
    (0.5, 1.5, then 2.5 points). The true effect of every school-year is in the
    ``true_effect`` column and the attainment the school would have had without the
    programme in ``attainment_untreated``, so any estimate can be scored against the
    truth.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None, default 2026
        Randomness; the default gives the data used in the tutorials.

    Returns
    -------
    pandas.DataFrame
        One row per school and year: ``school``, ``local_authority``, ``year``,
        ``attainment`` (outcome), ``pilot`` (1 while the school runs the programme),
        ``first_pilot_year`` (0 for schools never in the pilot), ``deprivation`` (share
        of pupils from the most deprived areas, 0-1), ``true_effect`` (points) and
        ``attainment_untreated`` (the potential outcome without the programme;
        ``attainment == attainment_untreated + true_effect``).

    Notes
    -----
    Simulated by :func:`impact.simulations.simulate` from
    :func:`scottish_schools_scenario`; the local authorities are then drawn at random
    and the deprivation share is the simulated covariate ``x`` mapped to a Beta(2, 5)
    distribution (mean 0.29). No real school is described. Licence: MIT, as the rest
    of ``impact``.

    Examples
    --------
    >>> from impact.datasets import load_scottish_schools
    >>> df = load_scottish_schools()
    >>> df["school"].nunique(), df.loc[df.pilot == 1, "school"].nunique()
    (350, 60)
    >>> sorted(df.loc[df.pilot == 1, "true_effect"].unique().tolist())
    [0.5, 1.5, 2.5]
    """
    from scipy import stats

    from impact.simulations import simulate

    rng = np.random.default_rng(seed)
    sim = simulate(scottish_schools_scenario(), seed=rng)
    data = sim.data
    n_units = int(data["unit"].max())
    authority = rng.integers(0, N_LOCAL_AUTHORITIES, n_units) + 1
    deprivation = stats.beta.ppf(stats.norm.cdf(data["x"].to_numpy()), 2.0, 5.0)
    return pd.DataFrame(
        {
            "school": data["unit"].to_numpy(),
            "local_authority": authority[data["unit"].to_numpy() - 1],
            "year": data["time"].to_numpy(),
            "attainment": data["y"].to_numpy(),
            "pilot": data["treated"].to_numpy().astype(int),
            "first_pilot_year": data["cohort"].to_numpy(),
            "deprivation": np.round(deprivation, 3),
            "true_effect": data["tau"].to_numpy(),
            "attainment_untreated": data["y0"].to_numpy(),
        }
    )
