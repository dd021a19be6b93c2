"""appraise() and the uncertainty of the effect: unbounded intervals, zero SEs, draws."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DesignError, ImpactResult, InferenceWarning
from impact.economics import BenefitStream, CostStream, appraise
from tests.conftest import make_did_frame


def _appraise(result, n_draws=200, **kwargs):
    return appraise(
        result,
        costs=[CostStream("cost", amount=1000.0)],
        benefits=[BenefitStream("saving", value=600.0, start=1, duration=2)],
        horizon=5,
        discount=0.035,
        n_draws=n_draws,
        seed=0,
        **kwargs,
    )


def _hand_result(estimate, std_error, lower, upper, draws=None):
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [estimate],
            "std_error": [std_error],
            "ci_lower": [lower],
            "ci_upper": [upper],
            "p_value": [0.06],
        }
    )
    return ImpactResult(estimator="hand", effects=effects, n_obs=10, n_units=5, draws=draws)


def _few_cluster_did():
    """DiD with 5 schools: the Rademacher wild cluster bootstrap cannot bound the effect.

    (The default weights below 12 clusters are Webb's, which bound it here; Rademacher
    weights are asked for to keep an unbounded interval to appraise.)
    """
    frame = make_did_frame(n_units=20, n_periods=4, adoption=2, seed=0, noise=1.0)
    frame["school"] = frame["unit"] // 4
    panel = impact.Panel.from_frame(
        frame, unit="unit", time="time", outcome="y", treated="d", cluster="school"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        return impact.estimate(panel, method="did", bootstrap_weights="rademacher")


def test_an_unbounded_interval_of_the_effect_is_refused():
    """Reproducer A6: the result's own 95% interval is -inf to inf, yet the appraisal
    used to report a finite interval of the effect and of the NPV (from the CR1 SE)."""
    result = _few_cluster_did()
    assert result.settings["inference_used"] == "wild"
    assert np.isinf(result.att.ci_lower) and np.isinf(result.att.ci_upper)
    with pytest.raises(DesignError, match=r"unbounded.*n_draws=0"):
        _appraise(result)
    point = _appraise(result, n_draws=0)  # point values remain available
    assert point.value("effect") == pytest.approx(result.att.estimate)
    assert np.isnan(point.to_frame().set_index("quantity").loc["npv", "ci_lower"])


@pytest.mark.parametrize(("lower", "upper"), [(-np.inf, 3.0), (0.5, np.inf)])
def test_a_half_open_interval_is_refused_too(lower, upper):
    with pytest.raises(DesignError, match="unbounded"):
        _appraise(_hand_result(1.0, 0.3, lower, upper))


def test_a_zero_standard_error_warns_instead_of_a_silent_zero_width_interval():
    """Reproducer A6: SE 0 gave an NPV interval of zero width without a word."""
    result = _hand_result(0.0, 0.0, 0.0, 0.0)
    with pytest.warns(InferenceWarning, match=r"standard error of the effect is 0"):
        appraisal = _appraise(result)
    row = appraisal.to_frame().set_index("quantity").loc["npv"]
    assert row["ci_lower"] == row["ci_upper"] == row["estimate"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _appraise(result, n_draws=0)  # point values only: nothing to warn about


def test_a_positive_standard_error_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _appraise(_hand_result(1.0, 0.2, 0.608, 1.392))


def _staggered_panel():
    rng = np.random.default_rng(5)
    rows = []
    for u in range(60):
        cohort = (2004, 2006, 0)[u % 3]
        for t in range(2001, 2009):
            d = int(cohort > 0 and t >= cohort)
            rows.append((u, t, u % 7 + 0.2 * t + 1.5 * d + rng.normal(0, 1.0), d))
    frame = pd.DataFrame(rows, columns=["unit", "time", "y", "d"])
    return impact.Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")


def test_a_bootstrap_staggered_result_carries_its_draws_into_the_appraisal():
    panel = _staggered_panel()
    boot = impact.StaggeredDiD(inference="bootstrap", n_boot=499, seed=3).fit(panel)
    draws = boot.draws["att"]
    assert len(draws) == 499
    # the draws are those the reported standard error came from: their interquartile
    # range over the normal's is that standard error, and they centre on the estimate
    q25, q75 = np.quantile(draws, [0.25, 0.75], method="inverted_cdf")
    assert (q75 - q25) / 1.3489795003921634 == pytest.approx(boot.att.std_error, rel=1e-9)
    assert np.median(draws) == pytest.approx(boot.att.estimate, abs=boot.att.std_error / 3)
    appraisal = _appraise(boot, n_draws=300)
    assert appraisal.settings["effect"].endswith("(result draws (499, resampled))")
    assert set(appraisal.draws["effect"]) <= set(draws)
    # the analytic fit has none, and the appraisal falls back on the standard error
    analytic = impact.StaggeredDiD(inference="analytic").fit(panel)
    assert dict(analytic.draws) == {}
    assert "result draws" not in _appraise(analytic).settings["effect"]


def test_an_asymmetric_interval_is_carried_over_not_rebuilt_from_the_standard_error():
    """Review finding: a wild bootstrap interval of -7.3 to 4.3 around -0.07 (SE 0.08)
    became -4.6 to 3.8 in the appraisal (a symmetric t rebuilt from the SE), narrowing the
    wider side without a word. Its draws now follow a split normal whose quantiles are the
    result's own interval ends."""
    result = _hand_result(-0.07, 0.0787, -7.336, 4.338)
    appraisal = _appraise(result, n_draws=20_000)
    effect = appraisal.to_frame().set_index("quantity").loc["effect"]
    assert effect["ci_lower"] == pytest.approx(-7.336, rel=0.05)
    assert effect["ci_upper"] == pytest.approx(4.338, rel=0.05)
    assert "split normal" in appraisal.settings["effect"]
    # a symmetric interval keeps the t/normal built from the standard error
    symmetric = _appraise(_hand_result(1.0, 0.2, 0.608, 1.392))
    assert "split normal" not in symmetric.settings["effect"]


def test_an_interval_that_excludes_its_estimate_is_refused():
    with pytest.raises(DesignError, match="does not contain its estimate"):
        _appraise(_hand_result(5.0, 0.3, 0.5, 1.5))
