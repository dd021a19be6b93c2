"""MatchedDiD: the common inference option (clusters = matched sets) and sampling weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import DesignError, MatchedDiD, Panel
from impact.estimators.matching.variance import weighted_regression
from impact.exceptions import InferenceWarning
from tests.estimators.test_matched_did import diverging_trends, to_panel


@pytest.fixture(scope="module")
def panel() -> Panel:
    return to_panel(diverging_trends())


def test_cr1_equals_the_change_regression_clustered_by_pair(panel):
    result = MatchedDiD(adjustment="none", inference="cr1").fit(panel)
    m = result.diagnostics["matches"]
    frame = panel.frame
    pre = frame[frame["year"] < 2018].groupby("school")["score"].mean()
    post = frame[frame["year"] >= 2018].groupby("school")["score"].mean()
    change = (post - pre).reindex(m["unit"]).to_numpy()
    direct = weighted_regression(
        change, m["treated"].to_numpy(), None, m["weight"].to_numpy(), clusters=m["subclass"]
    )
    att = result.att
    assert att.estimate == pytest.approx(direct.estimate, rel=1e-10)
    # same clusters; the two-row form counts 2n observations in the CR1 factor
    assert att.std_error == pytest.approx(direct.std_error, rel=0.02)
    assert result.settings["inference_used"] == "cr1"
    assert result.settings["n_matched_sets"] == result.effects.loc[0, "n_treated"]


@pytest.mark.parametrize("method", ["cr2", "cr3", "hc1", "iid"])
def test_each_method_is_used_and_recorded(panel, method):
    base = MatchedDiD().fit(panel).att
    result = MatchedDiD(inference=method).fit(panel)
    assert result.settings["inference_used"] == method
    assert result.att.estimate == pytest.approx(base.estimate, rel=1e-10)
    assert 0 < result.att.std_error < 1
    assert result.att.ci_lower < result.att.estimate < result.att.ci_upper


def test_auto_falls_back_to_wild_bootstrap_with_few_matched_sets():
    small = to_panel(diverging_trends(n_units=30, seed=3))
    with pytest.warns(InferenceWarning, match="matched sets"):
        result = MatchedDiD(draws=199).fit(small)
    assert result.settings["inference_used"] == "wild"
    assert "matched sets" in result.settings["inference_reason"]
    att = result.att
    assert att.ci_lower < att.estimate < att.ci_upper
    assert abs(att.estimate - 1.0) < 0.3


def test_inference_choices_the_design_cannot_support():
    with pytest.raises(DesignError, match="several"):
        MatchedDiD(replace=True, inference="cr1")
    with pytest.raises(DesignError, match="Rosenbaum"):
        MatchedDiD(inference="randomization")
    with pytest.raises(DesignError, match="weighting does not"):
        MatchedDiD(method="weighting", inference="cr2")
    with pytest.raises(DesignError, match="inference"):
        MatchedDiD(inference="bogus")  # type: ignore[arg-type]


def weighted_panel(weight) -> Panel:
    frame = diverging_trends()
    frame["w"] = weight(frame["school"].to_numpy())
    return Panel.from_frame(
        frame, unit="school", time="year", outcome="score", treated="pilot", weights="w"
    )


@pytest.mark.parametrize("params", [{}, {"method": "cem"}, {"method": "weighting"}])
def test_constant_sampling_weights_change_nothing(panel, params):
    plain = MatchedDiD(**params).fit(panel)
    weighted = MatchedDiD(**params).fit(weighted_panel(lambda s: np.full(len(s), 3.0)))
    assert weighted.att.estimate == pytest.approx(plain.att.estimate, rel=1e-9)
    assert weighted.att.std_error == pytest.approx(plain.att.std_error, rel=1e-6)


def test_sampling_weights_enter_the_estimate_and_balance(panel):
    weighted = MatchedDiD().fit(weighted_panel(lambda s: 1.0 + (s % 3)))
    plain = MatchedDiD().fit(panel)
    assert weighted.att.estimate != pytest.approx(plain.att.estimate, rel=1e-9)
    assert abs(weighted.att.estimate - 1.0) < 0.05 + 3 * weighted.att.std_error
    before_w = weighted.diagnostics["balance"]["mean_control_before"]
    before = plain.diagnostics["balance"]["mean_control_before"]
    assert not np.allclose(before_w, before)


def test_sampling_weights_with_replacement_are_refused():
    with pytest.raises(DesignError, match="Abadie-Imbens variance has no weighted form"):
        MatchedDiD(replace=True).fit(weighted_panel(lambda s: 1.0 + (s % 3)))


@pytest.mark.parametrize("params", [{"method": "cem"}, {"method": "weighting"}, {}])
def test_matched_comparison_sampling_weights(params):
    from impact import MatchedComparison

    rng = np.random.default_rng(5)
    n = 600
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    w = rng.choice([1.0, 4.0], size=n)
    # the effect differs with the weight: the weighted ATT is the one to recover
    effect = np.where(w > 1, 2.0, 1.0)
    y = x + effect * d + rng.normal(0, 0.5, n)
    frame = pd.DataFrame({"id": range(n), "t": 1, "y": y, "d": d, "x": x, "w": w})
    panel = Panel.from_frame(
        frame, unit="id", time="t", outcome="y", treated="d", covariates=["x"], weights="w"
    )
    result = MatchedComparison(**params).fit(panel)
    treated = d == 1
    truth = np.average(effect[treated], weights=w[treated])
    assert abs(result.att.estimate - truth) < 4 * result.att.std_error
    unweighted = Panel.from_frame(
        frame, unit="id", time="t", outcome="y", treated="d", covariates=["x"]
    )
    plain = MatchedComparison(**params).fit(unweighted)
    unweighted_truth = effect[treated].mean()
    assert abs(result.att.estimate - truth) < abs(result.att.estimate - unweighted_truth)
    assert abs(plain.att.estimate - unweighted_truth) < abs(plain.att.estimate - truth)
