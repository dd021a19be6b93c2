"""Data sets of the synthetic control literature, shipped inside the package."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_basque"]


def load_basque() -> pd.DataFrame:
    """GDP per capita of Spain's regions, 1955-1997, and the Basque Country's terrorism.

    The data of Abadie and Gardeazabal (2003), the first synthetic control study: the
    Basque Country's economy after the onset of ETA's terrorism in the early 1970s,
    compared with a weighted combination of the other Spanish regions.

    Returns
    -------
    pandas.DataFrame
        774 rows, one per region and year (18 regions: 17 and the national aggregate
        ``"Spain (Espana)"``), with ``regionno``, ``regionname``, ``year``, ``gdpcap``
        (real GDP per capita, thousands of 1986 US dollars: the outcome) and the
        covariates of the paper: ``sec.*`` (sector shares of production, recorded every
        other year 1961-1969), ``school.*`` (schooling of the working-age population,
        1964-1969), ``popdens`` (population density, 1969) and ``invest`` (investment
        share, 1964-1969); missing outside those years.

    Notes
    -----
    Origin: the ``basque`` data of the R package ``Synth`` (Abadie, Diamond and
    Hainmueller), from Abadie, A. and Gardeazabal, J. (2003), "The economic costs of
    conflict: a case study of the Basque Country", *American Economic Review* 93(1),
    113-132. Licence: ``Synth`` is distributed under the GPL (version 2 or later); this
    data file is redistributed under that licence. See ``impact/datasets/data/README.md``.

    Examples
    --------
    >>> from impact.datasets import load_basque
    >>> df = load_basque()
    >>> df.shape, df["regionname"].nunique(), int(df["year"].min()), int(df["year"].max())
    ((774, 17), 18, 1955, 1997)
    """
    source = resources.files("impact.datasets").joinpath("data", "basque.csv")
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    return frame.astype({"regionno": int, "year": int})
