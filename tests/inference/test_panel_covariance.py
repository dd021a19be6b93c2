"""Two-way clustered and Driscoll-Kraay covariances, against linearmodels and pyfixest.

Reference values are computed in the test from the libraries the package follows:

* ``linearmodels.panel.PanelOLS(y, X, entity_effects=True, time_effects=True)
  .fit(cov_type="clustered", cluster_entity=True, cluster_time=True, ...)`` and
  ``.fit(cov_type="kernel", ...)`` with ``debiased=False, auto_df=False,
  count_effects=False`` (no small-sample factor; linearmodels is a runtime dependency,
  so these tests always run);
* pyfixest's ``feols("y ~ d | unit + year", vcov={"CRV1": "unit+year"})`` (the
  convention of R ``fixest``: ``G/(G-1) (N-1)/(N-K)`` with ``G`` the smaller number
  of clusters, ``K`` the slopes plus one, t(G-1) intervals), skipped when pyfixest
  (the ``bench`` extra) is not installed.

The data are the county teen-employment panel bundled with the package (``mpdta``:
500 counties, 2003-2007, Callaway and Sant'Anna 2021).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import impact
from impact.datasets import load_mpdta
from impact.exceptions import DesignError, InferenceWarning
from impact.inference.coefficient import infer_coefficient
from impact.inference.panel_covariance import panel_covariance

PanelOLS = pytest.importorskip("linearmodels.panel").PanelOLS

RTOL = 1e-8


def _linearmodels_cov(frame: pd.DataFrame, y: str, x: list[str], kind: str) -> pd.DataFrame:
    data = frame.set_index(["countyreal", "year"])
    model = PanelOLS(data[y], data[x], entity_effects=True, time_effects=True)
    options = {"debiased": False, "auto_df": False, "count_effects": False}
    if kind == "twoway":
        res = model.fit(cov_type="clustered", cluster_entity=True, cluster_time=True, **options)
    else:
        res = model.fit(cov_type="kernel", **options)
    return res.cov


@pytest.fixture(scope="module")
def single_adoption() -> pd.DataFrame:
    """Counties first treated in 2006 and never-treated counties (a single adoption)."""
    df = load_mpdta()
    df = df[df["first_treat"].isin([0, 2006])].reset_index(drop=True)
    df["d"] = ((df["first_treat"] == 2006) & (df["year"] >= 2006)).astype(int)
    return df


@pytest.fixture(scope="module")
def staggered() -> pd.DataFrame:
    df = load_mpdta()
    df["d"] = ((df["first_treat"] > 0) & (df["year"] >= df["first_treat"])).astype(int)
    return df


def _panel(df: pd.DataFrame) -> impact.Panel:
    return impact.Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", treated="d")


def _fit(estimator, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)  # five periods: few, and warned
        return estimator.fit(panel)


@pytest.mark.parametrize("kind", ["twoway", "driscoll_kraay"])
def test_did_matches_linearmodels(single_adoption, kind):
    result = _fit(impact.DifferenceInDifferences(inference=kind), _panel(single_adoption))
    reference = _linearmodels_cov(single_adoption, "lemp", ["d"], kind)
    factor = result.settings.get("inference_small_sample_factor", 1.0)
    assert result.settings["inference_used"] == kind
    np.testing.assert_allclose(result.att.std_error**2 / factor, reference.loc["d", "d"], rtol=RTOL)
    if kind == "twoway":  # fixest's CRV1 factor: G = min(500, 5) periods, K = 1 + 1
        n = len(single_adoption)
        assert factor == pytest.approx(5 / 4 * (n - 1) / (n - 2), rel=1e-12)
    assert result.settings["df_inference"] == 4.0  # t(T - 1) with T = 5 periods


@pytest.mark.parametrize("kind", ["twoway", "driscoll_kraay"])
def test_event_study_every_coefficient_matches_linearmodels(staggered, kind):
    # the 2006 and 2007 cohorts and the never-treated counties, endpoints binned at
    # e=-2 and e=1: a window whose two-way covariance needs no eigenvalue clipping
    frame = staggered[staggered["first_treat"] != 2004].reset_index(drop=True)
    estimator = impact.EventStudy(inference=kind, leads=2, lags=1)
    result = _fit(estimator, _panel(frame))
    assert "inference_eigenvalues_clipped" not in result.settings
    effects = result.effects.set_index("term")
    terms = [t for t in effects.index if t.startswith("e=") and t != "e=-1"]
    assert terms == ["e=-2", "e=0", "e=1"]
    cohort, year = frame["first_treat"], frame["year"]
    event = np.where(cohort > 0, np.clip(year - cohort, -2, 1), np.nan)
    frame = frame.assign(**{t: (event == int(t[2:])).astype(float) for t in terms})
    reference = _linearmodels_cov(frame, "lemp", terms, kind)
    factor = result.settings.get("inference_small_sample_factor", 1.0)
    np.testing.assert_allclose(
        effects.loc[terms, "std_error"].to_numpy() ** 2 / factor,
        np.diag(reference.loc[terms, terms]),
        rtol=RTOL,
    )
    # the pre-trend Wald test uses the same covariance
    leads = [t for t in terms if int(t[2:]) < 0]
    b = effects.loc[leads, "estimate"].to_numpy()
    v = reference.loc[leads, leads].to_numpy() * factor
    pretrend = result.diagnostics["pretrend_test"].iloc[0]
    assert pretrend["covariance"] == kind
    np.testing.assert_allclose(
        pretrend["statistic"], b @ np.linalg.solve(v, b) / len(leads), rtol=1e-7
    )
    # the att (mean of the post-adoption terms) from the same covariance
    post = [t for t in terms if int(t[2:]) >= 0]
    w = np.full(len(post), 1 / len(post))
    np.testing.assert_allclose(
        effects.loc["att", "std_error"] ** 2 / factor,
        w @ reference.loc[post, post].to_numpy() @ w,
        rtol=RTOL,
    )


def test_did_twoway_matches_pyfixest(single_adoption):
    pf = pytest.importorskip("pyfixest")
    fit = pf.feols(
        "lemp ~ d | countyreal + year", data=single_adoption, vcov={"CRV1": "countyreal+year"}
    )
    tidy = fit.tidy().loc["d"]
    att = _fit(impact.DifferenceInDifferences(inference="twoway"), _panel(single_adoption)).att
    np.testing.assert_allclose(att.estimate, tidy["Estimate"], rtol=RTOL)
    np.testing.assert_allclose(att.std_error, tidy["Std. Error"], rtol=RTOL)
    np.testing.assert_allclose(att.p_value, tidy["Pr(>|t|)"], rtol=1e-7)
    np.testing.assert_allclose([att.ci_lower, att.ci_upper], tidy[["2.5%", "97.5%"]], rtol=1e-7)


def test_covariate_block_matches_linearmodels_and_pyfixest(single_adoption):
    """Two slopes: the whole covariance block, not only one variance."""
    df = single_adoption.copy()
    df["x"] = df["lpop"] * np.sin(df["year"])  # a covariate that varies within counties
    unit = pd.factorize(df["countyreal"], sort=True)[0]
    time = pd.factorize(df["year"], sort=True)[0]
    dummies = np.eye(5)[time][:, 1:]
    X = np.column_stack([df["d"], df["x"], dummies])
    names = ["d", "x", *(f"period[{y}]" for y in range(2004, 2008))]
    for kind in ("twoway", "driscoll_kraay"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InferenceWarning)
            out = infer_coefficient(
                df["lemp"].to_numpy(), X, names, unit_codes=unit, method=kind, time_codes=time
            )
        factor = out.details.get("small_sample_factor", 1.0)
        ours = out.fit.cov.loc[["d", "x"], ["d", "x"]].to_numpy() / factor
        reference = _linearmodels_cov(df, "lemp", ["d", "x"], kind).to_numpy()
        np.testing.assert_allclose(ours, reference, rtol=RTOL)
    pf = pytest.importorskip("pyfixest")
    fit = pf.feols("lemp ~ d + x | countyreal + year", data=df, vcov={"CRV1": "countyreal+year"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        out = infer_coefficient(
            df["lemp"].to_numpy(), X, names, unit_codes=unit, method="twoway", time_codes=time
        )
    np.testing.assert_allclose(
        out.fit.cov.loc[["d", "x"], ["d", "x"]].to_numpy(), fit._vcov, rtol=RTOL
    )


def test_few_periods_warn_and_are_recorded(single_adoption):
    panel = _panel(single_adoption)
    for kind in ("twoway", "driscoll_kraay"):
        with pytest.warns(InferenceWarning, match="only 5 periods"):
            result = impact.DifferenceInDifferences(inference=kind).fit(panel)
        assert result.settings["inference"] == kind
        assert result.settings["inference_n_time_clusters"] == 5
        assert "only 5 periods" in result.settings["inference_reason"]
    assert result.settings["cluster"] == "year"
    assert result.settings["inference_bandwidth"] == 2.0  # floor(4 (5/100)^(2/9))
    with pytest.warns(InferenceWarning):
        twoway = impact.DifferenceInDifferences(inference="twoway").fit(panel)
    assert twoway.settings["cluster"] == ("countyreal", "year")


def _year_shock_frame(n_periods: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_units = 40
    unit = np.repeat(np.arange(n_units), n_periods)
    time = np.tile(np.arange(n_periods), n_units)
    treated = unit < n_units // 2
    shock = rng.normal(size=n_periods)[time] * (1 + treated)
    d = (treated & (time >= n_periods // 2)).astype(int)
    y = rng.normal(size=n_units)[unit] + shock + d + rng.normal(size=len(unit))
    return pd.DataFrame({"u": unit, "t": time, "d": d, "y": y})


def _year_shock_panel(n_periods: int, seed: int = 0) -> impact.Panel:
    frame = _year_shock_frame(n_periods, seed)
    return impact.Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")


def test_many_periods_do_not_warn():
    panel = _year_shock_panel(20)
    for kind in ("twoway", "driscoll_kraay"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = impact.DifferenceInDifferences(inference=kind).fit(panel)
            assert result.settings["inference_reason"] == "requested"
            result = impact.EventStudy(inference=kind, leads=3, lags=3).fit(panel)
            assert result.diagnostics["pretrend_test"]["covariance"].iloc[0] == kind
        assert not [w for w in caught if "periods:" in str(w.message) and "only" in str(w.message)]


def test_options_are_validated():
    impact.EventStudy(inference="driscoll_kraay")
    with pytest.raises(DesignError, match="inference"):
        impact.DifferenceInDifferences(inference="two-way")
    # the matched designs do not offer them (their regressions have no period clusters)
    with pytest.raises(DesignError, match="inference"):
        impact.MatchedDiD(inference="twoway")


def test_needs_time_codes():
    rng = np.random.default_rng(0)
    unit = np.repeat(np.arange(10), 3)
    with pytest.raises(ValueError, match="time_codes"):
        infer_coefficient(
            rng.normal(size=30), rng.normal(size=(30, 1)), ["d"], unit_codes=unit, method="twoway"
        )


def test_non_positive_two_way_covariance_is_clipped_with_a_warning():
    """Unit and period score sums of zero: the intersection term alone is negative."""
    unit = np.repeat(np.arange(4), 2)
    time = np.tile([0, 1], 4)
    X = np.ones((8, 1))
    resid = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0])
    with pytest.warns(InferenceWarning, match="not positive semi-definite"):
        out = panel_covariance(X, resid, cluster_codes=unit, time_codes=time, kind="twoway")
    assert out.cov[0, 0] == 0.0
    assert out.details["eigenvalues_clipped"] == 1


@pytest.mark.parametrize("kind", ["twoway", "driscoll_kraay"])
def test_weighted_matches_linearmodels_and_pyfixest(single_adoption, kind):
    df = single_adoption.assign(w=np.exp(single_adoption["lpop"] - single_adoption["lpop"].mean()))
    panel = impact.Panel.from_frame(
        df, unit="countyreal", time="year", outcome="lemp", treated="d", weights="w"
    )
    result = _fit(impact.DifferenceInDifferences(inference=kind), panel)
    factor = result.settings.get("inference_small_sample_factor", 1.0)
    data = df.set_index(["countyreal", "year"])
    model = PanelOLS(data["lemp"], data[["d"]], entity_effects=True, time_effects=True,
                     weights=data["w"])  # fmt: skip
    options = {"debiased": False, "auto_df": False, "count_effects": False}
    if kind == "twoway":
        res = model.fit(cov_type="clustered", cluster_entity=True, cluster_time=True, **options)
    else:
        res = model.fit(cov_type="kernel", **options)
    np.testing.assert_allclose(result.att.estimate, res.params["d"], rtol=RTOL)
    np.testing.assert_allclose(result.att.std_error**2 / factor, res.cov.loc["d", "d"], rtol=RTOL)
    if kind == "twoway":
        pf = pytest.importorskip("pyfixest")
        fit = pf.feols(
            "lemp ~ d | countyreal + year",
            data=df,
            vcov={"CRV1": "countyreal+year"},
            weights="w",
        )
        np.testing.assert_allclose(
            result.att.std_error, fit.tidy().loc["d", "Std. Error"], rtol=RTOL
        )


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    scale=st.floats(0.01, 100.0),
    shift=st.floats(-50.0, 50.0),
    kind=st.sampled_from(["twoway", "driscoll_kraay"]),
)
def test_row_order_and_outcome_units_do_not_matter(seed, scale, shift, kind):
    """Shuffled rows give the same interval; an affine outcome scales the SE by |a|."""
    frame = _year_shock_frame(14, seed=seed)
    base = impact.Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    rng = np.random.default_rng(seed)
    shuffled = frame.iloc[rng.permutation(len(frame))].assign(y=lambda f: scale * f["y"] + shift)
    other = impact.Panel.from_frame(shuffled, unit="u", time="t", outcome="y", treated="d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        a = impact.DifferenceInDifferences(inference=kind).fit(base).att
        b = impact.DifferenceInDifferences(inference=kind).fit(other).att
    np.testing.assert_allclose(b.estimate, scale * a.estimate, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(b.std_error, scale * a.std_error, rtol=1e-7)
    np.testing.assert_allclose(b.p_value, a.p_value, rtol=1e-6, atol=1e-12)
