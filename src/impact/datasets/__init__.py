"""Data sets for examples, tutorials and tests.

Bundled with the package (no extra needed):

- :func:`load_mpdta`: county teen employment and minimum wages, 2003-2007 (staggered
  adoption; R ``did``'s ``mpdta``).
- :func:`load_basque`: GDP per capita of Spain's regions, 1955-1997 (the Basque
  Country's synthetic control; R ``Synth``'s ``basque``).
- :func:`load_scottish_schools`: the synthetic founding example, simulated schools with
  a national rise in attainment and a pilot whose true effect is known (drawn by
  :func:`impact.simulations.simulate` from :func:`scottish_schools_scenario`).

Public data sets that live in other packages, loaded through the ``datasets`` extra
(``pip install "impact[datasets]"``); a clear error names the extra when it is missing:

- :func:`load_kielmc`: house prices near a garbage incinerator, 1978 and 1981
  (Wooldridge, Example 13.3).
- :func:`load_nsw`: the National Supported Work experiment, Dehejia-Wahba sample.
- :func:`load_lalonde`: NSW treated men with non-experimental comparison men (R MatchIt).
- :func:`load_nile`: annual flow of the Nile at Aswan, 1871-1970.

Layer: above the simulations (the synthetic data set is drawn by the simulator);
below reports, the demo, the sandbox and the command line.
"""

from collections.abc import Callable

import pandas as pd

from impact.datasets._bundled import (
    load_mpdta,
    load_scottish_schools,
    scottish_schools_scenario,
)
from impact.datasets._external import load_kielmc, load_lalonde, load_nile, load_nsw
from impact.datasets._synthetic import load_basque

DATASETS: dict[str, Callable[[], pd.DataFrame]] = {
    "basque": load_basque,
    "kielmc": load_kielmc,
    "lalonde": load_lalonde,
    "mpdta": load_mpdta,
    "nile": load_nile,
    "nsw": load_nsw,
    "scottish_schools": load_scottish_schools,
}
"""Every data set by name (as ``impact data NAME`` on the command line knows them)."""

__all__ = [
    "DATASETS",
    "load_basque",
    "load_kielmc",
    "load_lalonde",
    "load_mpdta",
    "load_nile",
    "load_nsw",
    "load_scottish_schools",
    "scottish_schools_scenario",
]
