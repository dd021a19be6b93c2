"""Few-cluster inference checked against pyfixest and wildboottest.

The reference numbers are frozen here (both packages are in the ``bench`` extra, not
the test extra); each test notes the version and call that produced them, and a live
cross-check runs when the package is installed.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact import Panel
from impact.estimators import DifferenceInDifferences
from impact.exceptions import InferenceWarning
from impact.inference import bootstrap_weights, wild_cluster_bootstrap
from impact.inference.wild import resolve_weights


def crosscheck_panel() -> pd.DataFrame:
    """14 units over 6 periods, 5 treated from period 3; a covariate ``x``; pairs ``grp``."""
    rng = np.random.default_rng(18)
    rows = []
    for u in range(14):
        a = rng.normal()
        for t in range(6):
            d = float(u < 5 and t >= 3)
            y = a + 0.3 * t + 1.5 * d + rng.normal()
            rows.append({"unit": u, "time": t, "d": d, "y": y, "x": rng.normal()})
    frame = pd.DataFrame(rows)
    frame[["y", "x"]] = frame[["y", "x"]].round(6)
    frame["grp"] = frame["unit"] // 2
    return frame


# pyfixest 0.60.0: pf.feols(formula, data=crosscheck_panel(), vcov={"CRV1": cluster}),
# .se()["d"] (default ssc: adj=True, fixef_k="nested", cluster_adj=True)
PYFIXEST_CRV1 = [
    ("y ~ d | unit + time", (), "unit", 1.0943652814814817, 0.6036126825804925),
    ("y ~ d + x | unit + time", ("x",), "unit", 1.015966369561956, 0.6392995850987044),
    ("y ~ d + x | unit + time", ("x",), "grp", 1.015966369561956, 0.4101265806560064),
]


def fit_cr1(frame, covariates, cluster):
    panel = Panel.from_frame(
        frame,
        unit="unit",
        time="time",
        outcome="y",
        treated="d",
        covariates=list(covariates),
        cluster=None if cluster == "unit" else cluster,
    )
    return DifferenceInDifferences(inference="cr1").fit(panel).att


@pytest.mark.parametrize(("formula", "covariates", "cluster", "estimate", "se"), PYFIXEST_CRV1)
def test_cr1_with_nested_unit_effects_equals_pyfixest(formula, covariates, cluster, estimate, se):
    """fixest's "nested" convention keeps one parameter for the nested unit effects.

    Counting none (the old convention) made the standard error smaller by
    sqrt((N-K-1)/(N-K)), 0.64% here.
    """
    att = fit_cr1(crosscheck_panel(), covariates, cluster)
    assert att.estimate == pytest.approx(estimate, rel=1e-10)
    assert att.std_error == pytest.approx(se, rel=1e-10)


@pytest.mark.parametrize(("formula", "covariates", "cluster", "estimate", "se"), PYFIXEST_CRV1)
def test_cr1_equals_pyfixest_live(formula, covariates, cluster, estimate, se):
    pf = pytest.importorskip("pyfixest")
    frame = crosscheck_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(formula, data=frame, vcov={"CRV1": cluster})
    att = fit_cr1(frame, covariates, cluster)
    assert att.std_error == pytest.approx(float(ref.se()["d"]), rel=1e-10)
    lower, upper = ref.confint().loc["d"]
    assert (att.ci_lower, att.ci_upper) == pytest.approx((lower, upper), rel=1e-9)


@pytest.mark.parametrize("inference", ["cr2", "cr3"])
def test_cr2_cr3_warn_with_a_single_treated_cluster(inference):
    """The lone cluster has leverage 1: the standard error is finite but misses its variation."""
    frame = crosscheck_panel()
    frame["d"] = ((frame["unit"] == 0) & (frame["time"] >= 3)).astype(float)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.warns(InferenceWarning, match="single treated cluster"):
        att = DifferenceInDifferences(inference=inference).fit(panel).att
    assert np.isfinite(att.std_error)


@pytest.mark.parametrize("inference", ["cr2", "cr3"])
def test_cr2_cr3_with_a_single_control_cluster_leave_the_interval_undefined(inference):
    """One comparison cluster: no clustered variance of the comparison, so no interval
    (not a finite CR2/CR3 standard error that misses that cluster's variation)."""
    frame = crosscheck_panel()
    frame["d"] = ((frame["unit"] != 0) & (frame["time"] >= 3)).astype(float)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        att = DifferenceInDifferences(inference=inference).fit(panel).att
    messages = [str(w.message) for w in caught if issubclass(w.category, InferenceWarning)]
    assert any("only 1 cluster holds comparison units" in m for m in messages), messages
    assert not any("single control cluster" in m for m in messages), messages
    assert np.isnan(att.std_error) and np.isnan(att.p_value)


@pytest.mark.parametrize("inference", ["cr2", "cr3"])
def test_cr2_cr3_do_not_warn_with_two_treated_clusters(inference):
    frame = crosscheck_panel()
    frame["d"] = ((frame["unit"] < 2) & (frame["time"] >= 3)).astype(float)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        DifferenceInDifferences(inference=inference).fit(panel)


# ----------------------------------------------------------- bootstrap weights "auto"
def webb_data(n_clusters):
    """As tests/reference/inference/make_webb_reference.py: d treated in two clusters of 8 rows."""
    rng = np.random.default_rng(n_clusters)
    g = np.repeat(np.arange(n_clusters), 8)
    d = (g < 2).astype(float)
    x = rng.normal(size=len(g))
    y = 1.2 * d + x + rng.normal(size=n_clusters)[g] + rng.normal(size=len(g))
    return np.column_stack([np.ones(len(g)), d, x]), y, g


@pytest.mark.parametrize(
    ("n_clusters", "kind"), [(2, "webb"), (11, "webb"), (12, "rademacher"), (40, "rademacher")]
)
def test_auto_weights_are_webb_below_twelve_clusters(n_clusters, kind):
    assert resolve_weights("auto", n_clusters) == kind
    assert resolve_weights("rademacher", 5) == "rademacher"


def test_enumerated_webb_bootstrap_equals_wildboottest():
    """wildboottest 0.3.2, WCR "11", Webb weights, all 6^5 = 7,776 vectors passed in.

    Produced by tests/reference/inference/make_webb_reference.py. The 6 vectors constant
    across clusters tie with the observed statistic; we count them, wildboottest counts
    some by rounding, so the comparison sets them aside.
    """
    X, y, g = webb_data(5)
    out = wild_cluster_bootstrap(X, y, g, coef=1, weights="auto", draws=9999)
    assert (out.weights, out.enumerated, out.draws) == ("webb", True, 7776)
    assert out.t_stat == pytest.approx(6.23478590723894, rel=1e-9)
    assert out.p_value - 6 / 7776 == pytest.approx(0.015174897119341564, abs=1e-12)
    assert abs(out.p_value - 0.015432098765432098) <= 6 / 7776
    # Rademacher's 32 sign vectors cannot go below 2/32: no rejection at 5%
    assert out.p_value < 0.05 < 2 / 2**5
    assert np.isfinite(out.ci_lower) and np.isfinite(out.ci_upper)


def test_webb_draws_agree_with_wildboottest_within_simulation_error():
    """wildboottest 0.3.2, WCR "11", 99,999 random Webb vectors (seed 1): p = 0.10503.

    Ours draws 9,999: the Monte Carlo standard error of the difference is about 0.0032
    (the Rademacher enumeration's 0.0938 is outside three of them).
    """
    X, y, g = webb_data(8)
    out = wild_cluster_bootstrap(X, y, g, coef=1, weights="auto", draws=9999, seed=0)
    assert (out.weights, out.enumerated) == ("webb", False)
    assert out.t_stat == pytest.approx(3.3898148411867606, rel=1e-9)
    assert out.p_value == pytest.approx(0.10503105031050311, abs=3 * 0.0032)


def test_enumerated_webb_equals_wildboottest_live():
    pytest.importorskip("wildboottest")
    from wildboottest.wildboottest import WildboottestCL

    X, y, g = webb_data(5)
    ours = wild_cluster_bootstrap(X, y, g, coef=1, weights="webb", draws=9999)
    grid = bootstrap_weights(5, kind="webb", draws=9999)[0]
    boot = WildboottestCL(
        X=X, Y=y, cluster=g, R=np.array([0.0, 1.0, 0.0]), B=grid.shape[1], seed=1, parallel=False
    )
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(lambda n, rng=None: grid.ravel())
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    t_boot = np.sort(np.abs(np.asarray(boot.t_boot, dtype=float).ravel()))
    np.testing.assert_allclose(np.sort(np.abs(ours.t_draws)), t_boot, rtol=1e-8, atol=1e-10)


def five_cluster_panel():
    """5 units (2 treated) over 6 periods: Rademacher's p-value floor is 2/32 > 0.05."""
    frame = crosscheck_panel()
    frame = frame[frame["unit"] < 5].copy()
    frame["d"] = ((frame["unit"] < 2) & (frame["time"] >= 3)).astype(float)
    frame["y"] += 3.0 * frame["d"]
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def test_did_wild_defaults_to_webb_weights_with_few_clusters():
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)  # no unbounded-interval warning
        result = DifferenceInDifferences(inference="wild").fit(five_cluster_panel())
    assert result.settings["bootstrap_weights"] == "auto"
    assert result.settings["inference_weights"] == "webb"
    assert result.settings["inference_enumerated"] is True
    assert np.isfinite(result.att.ci_lower) and np.isfinite(result.att.ci_upper)
    assert result.att.p_value < 0.05


def test_did_explicit_rademacher_keeps_its_floor_with_few_clusters():
    with pytest.warns(InferenceWarning, match="unbounded"):
        est = DifferenceInDifferences(inference="wild", bootstrap_weights="rademacher")
        result = est.fit(five_cluster_panel())
    assert result.settings["inference_weights"] == "rademacher"
    assert result.att.p_value >= 2 / 2**5
    assert np.isinf(result.att.ci_lower) and np.isinf(result.att.ci_upper)


def test_did_auto_weights_are_enumerated_rademacher_from_twelve_clusters():
    frame = crosscheck_panel()
    frame = frame[frame["unit"] < 12]
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    result = DifferenceInDifferences(inference="wild").fit(panel)
    assert result.settings["inference_weights"] == "rademacher"
    assert result.settings["inference_enumerated"] is True
    assert result.settings["inference_draws"] == 2**12


def test_every_estimator_with_bootstrap_weights_defaults_to_auto_and_records_the_choice():
    from impact import EventStudy, InterruptedTimeSeries, MatchedDiD, StaggeredDiD
    from tests.estimators.staggered_data import make_staggered_frame
    from tests.estimators.test_matched_did import diverging_trends, to_panel

    for cls in (DifferenceInDifferences, EventStudy, InterruptedTimeSeries, MatchedDiD):
        assert cls().bootstrap_weights == "auto"
    assert StaggeredDiD().bootstrap_weights == "auto"
    panel = five_cluster_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        fits = [
            EventStudy(inference="wild", draws=199).fit(panel),
            InterruptedTimeSeries(pooled=True, inference="wild", draws=199).fit(panel),
            MatchedDiD(inference="wild", draws=199).fit(
                to_panel(diverging_trends(n_units=20, seed=3))
            ),
        ]
    for result in fits:
        assert result.settings["bootstrap_weights"] == "auto"
        assert result.settings["inference_weights"] == "webb"
    frame = make_staggered_frame(n_units=10, seed=1)
    staggered = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = StaggeredDiD(inference="bootstrap", n_boot=199).fit(staggered)
    assert result.settings["bootstrap_weights"] == "auto"
    assert result.settings["inference_weights"] == "webb"


@pytest.mark.parametrize("cls_name", ["DifferenceInDifferences", "EventStudy", "StaggeredDiD"])
def test_unknown_bootstrap_weights_are_refused(cls_name):
    import impact

    with pytest.raises(ValueError, match="bootstrap_weights"):
        getattr(impact, cls_name)(bootstrap_weights="gaussian")


def test_estimate_many_bootstraps_with_the_estimators_weights():
    """With 8 clusters "auto" is Webb: p_wild is each outcome's own wild p-value."""
    import impact
    from tests.test_many import frame

    df = frame(seed=1, n_schools=8, n_treated=3)
    panel = Panel.from_frame(
        df,
        unit="school",
        time="year",
        outcome="maths",
        treated="pilot",
        extra_outcomes=["reading"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        result = impact.estimate_many(panel, draws=999, seed=3)
        single = DifferenceInDifferences(draws=999, seed=3).fit(panel.with_outcome("reading"))
    assert result.settings["romano_wolf_weights"] == "webb"
    assert single.settings["inference_weights"] == "webb"
    p_wild = result.effects.set_index("term").loc["reading", "p_wild"]
    assert p_wild == pytest.approx(single.att.p_value, abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(n_clusters=st.integers(3, 16), seed=st.integers(0, 2**16))
def test_auto_is_the_resolved_explicit_choice(n_clusters, seed):
    """'auto' gives exactly the result of the weights it names, at any cluster count."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_clusters), 3)
    X = np.column_stack([(g < 2).astype(float), np.ones(len(g))])
    y = rng.normal(size=n_clusters)[g] + rng.normal(size=len(g))
    auto = wild_cluster_bootstrap(X, y, g, weights="auto", draws=999, seed=seed, alpha=None)
    kind = "webb" if n_clusters < 12 else "rademacher"
    explicit = wild_cluster_bootstrap(X, y, g, weights=kind, draws=999, seed=seed, alpha=None)
    assert auto.weights == kind
    assert auto.p_value == explicit.p_value
    np.testing.assert_array_equal(auto.t_draws, explicit.t_draws)
