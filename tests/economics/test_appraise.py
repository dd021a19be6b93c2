"""appraise(): hand-computed values, invariances, uncertainty, perspectives, errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import impact
from impact import DesignError, ImpactResult, InferenceWarning
from impact.economics import GREEN_BOOK, QUANTITIES, BenefitStream, CostStream, appraise
from tests.conftest import make_did_frame


def make_result(estimate=1.0, std_error=0.2, draws=None):
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [estimate],
            "std_error": [std_error],
            "ci_lower": [estimate - 1.96 * std_error],
            "ci_upper": [estimate + 1.96 * std_error],
            "p_value": [0.01],
        }
    )
    return ImpactResult(estimator="hand", effects=effects, n_obs=10, n_units=5, draws=draws)


def simple(result, *, n_draws=0, seed=0, **kwargs):
    options = {
        "costs": [CostStream("cost", amount=1000.0)],
        "benefits": [BenefitStream("saving", value=600.0, start=1, duration=2)],
        "horizon": 5,
        "discount": 0.035,
    }
    options.update(kwargs)
    return appraise(result, n_draws=n_draws, seed=seed, **options)


# ------------------------------------------------------------------ hand-computed values
def test_npv_bcr_by_hand_constant_rate():
    """Cost 1000 in year 0; effect 1 worth 600 in each of years 1 and 2; 3.5%:

    PV benefits = 600/1.035 + 600/1.035**2 = 579.7101 + 560.1064 = 1139.8166
    NPV = 1139.8166 - 1000 = 139.8166;  BCR = 1.1398166
    break-even effect = 1000 / 1139.8166 = 0.877334
    cumulative PV: -1000 (year 0), -420.29 (year 1), +139.82 (year 2): breaks even
    with a horizon of 3 periods.
    """
    appraisal = simple(make_result(1.0, 0.0))
    assert appraisal.value("pv_costs") == pytest.approx(1000.0)
    assert appraisal.value("pv_benefits") == pytest.approx(1139.8166, abs=1e-4)
    assert appraisal.value("npv") == pytest.approx(139.8166, abs=1e-4)
    assert appraisal.value("bcr") == pytest.approx(1.1398166, abs=1e-7)
    assert appraisal.value("break_even_effect") == pytest.approx(0.877334, abs=1e-6)
    assert appraisal.value("break_even_horizon") == 3.0


def test_green_book_npv_beyond_year_30_by_hand():
    """Cost 50 in year 0; effect 2 worth 100 per unit in year 40 only, Green Book:

    D(40) = 1.035**-30 * 1.03**-10 = 0.2651046
    NPV = 2 * 100 * 0.2651046 - 50 = 3.02092
    (a flat 3.5% would give 2 * 100 * 1.035**-40 - 50 = 200 * 0.2525725 - 50 = 0.51449).
    """
    appraisal = appraise(
        make_result(2.0, 0.0),
        costs=[CostStream("cost", amount=50.0)],
        benefits=[BenefitStream("late", value=100.0, start=40, duration=1)],
        horizon=41,
        discount=GREEN_BOOK,
        n_draws=0,
    )
    assert appraisal.value("npv") == pytest.approx(3.02092, abs=1e-5)
    flat = appraise(
        make_result(2.0, 0.0),
        costs=[CostStream("cost", amount=50.0)],
        benefits=[BenefitStream("late", value=100.0, start=40, duration=1)],
        horizon=41,
        discount=0.035,
        n_draws=0,
    )
    assert flat.value("npv") == pytest.approx(0.51449, abs=1e-5)


def test_counts_growth_reach_and_effect_periods_by_hand():
    """Undiscounted (rate 0) so the sums can be read off:

    costs: 3 workers x 100 in years 0-1 with 10% growth: 300 + 330 = 630
    effect -0.5 exclusions per school per year, 4 schools, years 0 and 1, a decrease
    is the gain: gain per year = 0.5 x 4 = 2 exclusions avoided.
    benefit: 50 per exclusion avoided in the year of the effect and the next
    (duration 2): year 0: 2 x 50, year 1: 2 x 2 x 50, year 2: 2 x 50 -> 400.
    NPV = 400 - 630 = -230; PV outcome = 4 exclusions; ICER = 630 / 4 = 157.5.
    """
    appraisal = appraise(
        make_result(-0.5, 0.0),
        costs=[CostStream("workers", amount=100.0, per="worker", count=3, duration=2, growth=0.1)],
        benefits=[BenefitStream("provision", value=50.0, duration=2)],
        horizon=4,
        discount=0.0,
        effect_per="school",
        reach=4,
        effect_periods=2,
        direction="decrease",
        n_draws=0,
    )
    assert appraisal.value("pv_costs") == pytest.approx(630.0)
    assert appraisal.value("pv_benefits") == pytest.approx(400.0)
    assert appraisal.value("npv") == pytest.approx(-230.0)
    assert appraisal.value("pv_outcome") == pytest.approx(4.0)
    assert appraisal.value("icer") == pytest.approx(157.5)
    assert np.isinf(appraisal.value("break_even_horizon"))
    flows = appraisal.cash_flows()
    benefit = flows[flows.kind == "benefit"].set_index("period")["amount"]
    assert benefit.tolist() == pytest.approx([100.0, 200.0, 100.0, 0.0])


def test_price_rebasing_by_hand():
    """A cost of 100 in 2020 prices, appraised in 2024 prices with index 95 -> 114: 120."""
    appraisal = appraise(
        make_result(0.0, 0.0),
        costs=[CostStream("cost", amount=100.0, price_year=2020)],
        benefits=[],
        horizon=1,
        price_year=2024,
        price_index={2020: 95.0, 2024: 114.0},
        n_draws=0,
    )
    assert appraisal.value("pv_costs") == pytest.approx(120.0)


# ------------------------------------------------------------------ invariances
@settings(max_examples=30, deadline=None)
@given(
    theta=st.floats(-50, 50, allow_nan=False),
    scale=st.floats(-5, 5, allow_nan=False),
    rate=st.floats(0, 0.1),
)
def test_npv_is_linear_in_the_effect(theta, scale, rate):
    base = simple(make_result(0.0, 0.0), discount=rate).value("npv")
    one = simple(make_result(theta, 0.0), discount=rate).value("npv") - base
    scaled = simple(make_result(scale * theta, 0.0), discount=rate).value("npv") - base
    assert scaled == pytest.approx(scale * one, rel=1e-9, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(theta=st.floats(0.1, 10), rate=st.floats(0, 0.1), value=st.floats(1, 5000))
def test_npv_is_zero_at_the_break_even_effect(theta, rate, value):
    benefits = [BenefitStream("saving", value=value, start=1, duration=2)]
    first = simple(make_result(theta, 0.0), discount=rate, benefits=benefits)
    break_even = first.value("break_even_effect")
    second = simple(make_result(break_even, 0.0), discount=rate, benefits=benefits)
    assert second.value("npv") == pytest.approx(0.0, abs=1e-7 * max(1.0, value))


@settings(max_examples=25, deadline=None)
@given(theta=st.floats(-5, 5), se=st.floats(0, 3), seed=st.integers(0, 2**16))
def test_zero_uncertainty_gives_degenerate_intervals(theta, se, seed):
    """No sampling uncertainty and fixed parameters: every interval is the point value
    (with a warning that the effect is taken as known exactly)."""
    with pytest.warns(InferenceWarning, match="known exactly"):
        appraisal = simple(make_result(theta, 0.0), n_draws=200, seed=seed)
    table = appraisal.to_frame().set_index("quantity")
    for quantity in QUANTITIES:
        row = table.loc[quantity]
        if np.isnan(row["estimate"]):
            continue
        assert row["ci_lower"] == pytest.approx(row["estimate"], rel=1e-9, abs=1e-9)
        assert row["ci_upper"] == pytest.approx(row["estimate"], rel=1e-9, abs=1e-9)
    assert appraisal.prob_npv_positive in (0.0, 1.0)


@settings(max_examples=20, deadline=None)
@given(c=st.floats(0.01, 100))
def test_money_scale_scales_npv_and_leaves_bcr(c):
    result = make_result(1.3, 0.0)
    base = simple(result)
    scaled = simple(
        result,
        costs=[CostStream("cost", amount=1000.0 * c)],
        benefits=[BenefitStream("saving", value=600.0 * c, start=1, duration=2)],
    )
    assert scaled.value("npv") == pytest.approx(c * base.value("npv"), rel=1e-9)
    assert scaled.value("bcr") == pytest.approx(base.value("bcr"), rel=1e-9)
    assert scaled.value("break_even_effect") == pytest.approx(
        base.value("break_even_effect"), rel=1e-9
    )


def test_direction_flips_the_sign_of_the_gain():
    up = simple(make_result(2.0, 0.0))
    down = simple(make_result(-2.0, 0.0), direction="decrease")
    for quantity in ("npv", "bcr", "pv_benefits"):
        assert down.value(quantity) == pytest.approx(up.value(quantity))
    assert down.value("break_even_effect") == pytest.approx(-up.value("break_even_effect"))


# ------------------------------------------------------------------ uncertainty
def test_normal_draws_match_the_analytic_npv_distribution():
    """NPV = 1139.8166 * theta - 1000 with theta ~ N(1, 0.2**2): its 95% interval is
    139.82 -/+ 1.96 * 227.96 = [-306.99, 586.62]; P(NPV > 0) = Phi(139.82 / 227.96)
    = 0.7302. With 20,000 draws the Monte Carlo error is about 1%.
    """
    appraisal = simple(make_result(1.0, 0.2), n_draws=20_000, seed=3)
    row = appraisal.to_frame().set_index("quantity").loc["npv"]
    sd = 1139.8166 * 0.2
    assert row["ci_lower"] == pytest.approx(139.8166 - 1.959964 * sd, abs=12)
    assert row["ci_upper"] == pytest.approx(139.8166 + 1.959964 * sd, abs=12)
    assert appraisal.prob_npv_positive == pytest.approx(stats.norm.cdf(139.8166 / sd), abs=0.01)


def test_result_draws_are_used_instead_of_the_normal():
    """Draws that are all 2.0 give a degenerate interval even though the SE is large."""
    result = make_result(1.0, 5.0, draws={"att": np.full(50, 2.0)})
    with pytest.warns(InferenceWarning, match="every one of its draws"):
        appraisal = simple(result, n_draws=300)
    row = appraisal.to_frame().set_index("quantity").loc["effect"]
    assert row["ci_lower"] == row["ci_upper"] == 2.0
    assert "result draws" in appraisal.settings["effect"]


def test_parameter_distributions_widen_the_interval_and_enter_the_tornado():
    with pytest.warns(InferenceWarning, match="known exactly"):
        fixed = simple(make_result(1.0, 0.0), n_draws=500)
    with pytest.warns(InferenceWarning, match="known exactly"):
        uncertain = simple(
            make_result(1.0, 0.0),
            n_draws=500,
            benefits=[BenefitStream("saving", value=stats.uniform(500, 200), start=1, duration=2)],
        )
    assert uncertain.value("npv") == pytest.approx(fixed.value("npv"))  # mean 600
    row = uncertain.to_frame().set_index("quantity").loc["npv"]
    assert row["ci_upper"] - row["ci_lower"] > 100
    tornado = uncertain.tornado()
    assert tornado.loc[0, "parameter"] == "saving: value"
    # value at its 2.5% and 97.5% quantiles: 505 and 695
    assert tornado.loc[0, "low"] == pytest.approx(505.0)
    low_npv = 505 * (1 / 1.035 + 1 / 1.035**2) - 1000
    assert tornado.loc[0, "npv_at_low"] == pytest.approx(low_npv)


def test_same_seed_same_appraisal():
    a = simple(make_result(1.0, 0.3), n_draws=200, seed=11)
    b = simple(make_result(1.0, 0.3), n_draws=200, seed=11)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    c = simple(make_result(1.0, 0.3), n_draws=200, seed=12)
    assert not a.draws.equals(c.draws)


def test_ceac_is_monotone_and_reaches_one():
    """With a positive effect, P(wtp * outcome >= cost) rises with wtp to 1."""
    appraisal = simple(make_result(1.0, 0.1), n_draws=400)
    curve = appraisal.ceac([0, 500, 1000, 2000, 1e6])
    assert curve["probability"].iloc[0] == 0.0
    assert curve["probability"].iloc[-1] == 1.0
    assert curve["probability"].is_monotonic_increasing
    default = appraisal.ceac()
    assert len(default) == 101 and default["wtp"].iloc[0] == 0


def test_perspectives_add_up_to_the_total():
    appraisal = simple(
        make_result(1.0, 0.2),
        n_draws=100,
        costs=[CostStream("cost", amount=1000.0, bearer="education authority")],
        benefits=[
            BenefitStream("provision", value=400.0, duration=2, bearer="education authority"),
            BenefitStream("family", value=100.0, bearer="families"),
        ],
    )
    table = appraisal.by_perspective().set_index("bearer")
    assert list(table.index) == ["education authority", "families"]
    assert table["npv"].sum() == pytest.approx(appraisal.value("npv"))
    assert table.loc["families", "pv_costs"] == 0.0


def test_summary_and_repr():
    appraisal = simple(make_result(1.0, 0.2), n_draws=100)
    text = str(appraisal.summary())
    for name in ("value for money", "by perspective", "one-way sensitivity", "npv", "bcr"):
        assert name in text
    assert "P(NPV > 0)" in repr(appraisal)
    assert "<h3>" in appraisal.summary()._repr_html_()


def test_n_draws_zero_gives_points_and_nan_intervals():
    appraisal = simple(make_result(1.0, float("nan")), n_draws=0)
    assert np.isnan(appraisal.to_frame()["ci_lower"]).all()
    assert np.isnan(appraisal.prob_npv_positive)
    assert appraisal.value("npv") == pytest.approx(139.8166, abs=1e-4)


def test_inputs_are_not_mutated():
    result = make_result(1.0, 0.2, draws={"att": np.linspace(0.5, 1.5, 20)})
    before = result.effects.copy()
    costs = [CostStream("cost", amount=1000.0)]
    simple(result, costs=costs, n_draws=50)
    pd.testing.assert_frame_equal(result.effects, before)
    assert costs == [CostStream("cost", amount=1000.0)]


# ------------------------------------------------------------------ any estimator
def test_works_on_a_did_result():
    panel = impact.Panel.from_frame(
        make_did_frame(effect=-1.0, n_units=20),
        unit="unit",
        time="time",
        outcome="y",
        treated="d",
    )
    result = impact.DifferenceInDifferences().fit(panel)
    appraisal = impact.appraise(
        result,
        costs=[CostStream("programme", amount=1000.0, duration=3)],
        benefits=[BenefitStream("saving", value=400.0, per="unit", duration=2)],
        effect_per="unit",
        reach=10,
        effect_periods=3,
        direction="decrease",
        horizon=10,
        n_draws=300,
        seed=1,
    )
    assert appraisal.value("effect") == pytest.approx(result.att.estimate)
    row = appraisal.to_frame().set_index("quantity").loc["npv"]
    assert row["ci_lower"] < row["estimate"] < row["ci_upper"]


# ------------------------------------------------------------------ errors
def test_horizon_shorter_than_cost_stream():
    with pytest.raises(DesignError, match=r"horizon .* shorter than cost stream 'cost'"):
        simple(
            make_result(), costs=[CostStream("cost", amount=10.0, start=2, duration=4)], horizon=5
        )


def test_per_pupil_benefit_with_per_school_effect_needs_sizes():
    benefit = BenefitStream("attainment", value=10.0, per="pupil", count=900, duration=1)
    with pytest.raises(DesignError, match=r"units do not agree.*'pupil'.*'school'"):
        simple(make_result(), benefits=[benefit], effect_per="school", reach=5)
    ok = simple(
        make_result(),
        benefits=[benefit],
        effect_per="school",
        reach=5,
        unit_sizes={"school": 900, "pupil": 1},
    )
    # an effect of 1 per school spread over 900 pupils, times 900 pupils: 10 per year
    assert ok.value("pv_benefits") == pytest.approx(10.0)


def test_total_benefit_with_per_school_effect_needs_reach():
    with pytest.raises(DesignError, match="reach="):
        simple(make_result(), effect_per="school")


def test_result_without_standard_error_needs_n_draws_zero():
    with pytest.raises(DesignError, match="n_draws=0"):
        simple(make_result(1.0, float("nan")), n_draws=10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"discount": -0.02}, "negative"),
        ({"discount": 7}, "implausibly high"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 5000}, "beyond 1000"),
        ({"n_draws": -1}, "n_draws"),
        ({"effect_periods": 9}, "beyond the horizon"),
        ({"direction": "down"}, "direction"),
        ({"reach": 5}, "effect_per='total'"),
        ({"alpha": 1.5}, "alpha"),
        (
            {"costs": [CostStream("x", amount=1.0)], "benefits": [BenefitStream("x", value=1.0)]},
            "unique",
        ),
        ({"costs": [BenefitStream("x", value=1.0)]}, "CostStream"),
        ({"costs": [CostStream("old", amount=1.0, price_year=2010)]}, "price_index"),
    ],
)
def test_bad_arguments_raise_design_errors(kwargs, match):
    with pytest.raises(DesignError, match=match):
        simple(make_result(), **kwargs)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: CostStream("c", amount=1.0, per="pupil"), "no count"),
        (lambda: CostStream("c", amount=1.0, count=3), "per='total'"),
        (lambda: CostStream("c", amount="lots"), "must be a number"),
        (lambda: CostStream("c", amount=1.0, duration=0), "duration"),
        (lambda: CostStream("c", amount=1.0, duration=None), "finite duration"),
        (lambda: BenefitStream("b", value=1.0, start=-1), "start"),
        (lambda: BenefitStream("b", value=1.0, growth=-1.5), "growth"),
        (lambda: BenefitStream("", value=1.0), "label"),
        (lambda: BenefitStream("b", value=float("inf")), "finite"),
    ],
)
def test_bad_streams_raise(make, match):
    with pytest.raises(DesignError, match=match):
        make()


def test_appraise_rejects_non_results():
    with pytest.raises(DesignError, match="ImpactResult"):
        appraise("not a result", costs=[], benefits=[BenefitStream("b", value=1.0)], horizon=2)


def test_icer_has_no_interval_when_the_outcome_can_be_lost():
    """Draws of the effect on both sides of zero make the ICER's ratio meaningless."""
    wide = simple(make_result(1.0, 2.0), n_draws=400)
    row = wide.to_frame().set_index("quantity").loc["icer"]
    assert np.isfinite(row["estimate"]) and np.isnan(row["ci_lower"])
    assert "ceac" in row["description"]
    narrow = simple(make_result(1.0, 0.1), n_draws=400)
    assert np.isfinite(narrow.to_frame().set_index("quantity").loc["icer", "ci_lower"])


def test_t_reference_distribution_is_inferred_from_the_interval():
    """An interval of estimate -/+ t(9, 0.975) * SE implies 9 degrees of freedom, and the
    effect's 2.5% point in the tornado is 1 - 2.262157 * 0.5 = -0.1310785."""
    crit = stats.t.ppf(0.975, 9)
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [1.0],
            "std_error": [0.5],
            "ci_lower": [1 - crit * 0.5],
            "ci_upper": [1 + crit * 0.5],
            "p_value": [0.07],
        }
    )
    result = ImpactResult(estimator="hand", effects=effects, n_obs=10, n_units=10)
    appraisal = simple(result, n_draws=100)
    assert "t(9)" in appraisal.settings["effect"]
    tornado = appraisal.tornado().set_index("parameter")
    assert tornado.loc["effect", "low"] == pytest.approx(1 - 2.262157 * 0.5, abs=1e-6)


def test_did_result_uses_its_inference_degrees_of_freedom():
    panel = impact.Panel.from_frame(
        make_did_frame(n_units=12), unit="unit", time="time", outcome="y", treated="d"
    )
    # CR1 records t(G - 1); the default would choose the wild bootstrap for 6 + 6 clusters
    result = impact.DifferenceInDifferences(inference="cr1").fit(panel)
    appraisal = simple(result, n_draws=50)
    assert f"t({result.settings['df_inference']:.4g})" in appraisal.settings["effect"]


@pytest.mark.parametrize("name", impact.available_estimators())
def test_works_on_every_registered_estimator(name):
    """The conformance suite's standard panel, each estimator with default settings; the
    appraisal's effect is the result's att and NPV at the point is linear in it."""
    from tests.estimators.test_conformance import fit, standard_frame

    result = fit(name, standard_frame())
    appraisal = simple(result, n_draws=200, seed=0)
    assert appraisal.value("effect") == pytest.approx(result.att.estimate)
    expected = 1139.8166 * result.att.estimate - 1000.0
    assert appraisal.value("npv") == pytest.approx(expected, rel=1e-6)
    assert appraisal.to_frame()["ci_lower"].notna().sum() >= 7


def test_break_even_horizon_waits_until_the_cumulative_npv_stays_positive():
    """Undiscounted flows +50 (year 0), -100 (year 1), +80 (year 2): the cumulative NPV
    is 50, -50, 30, so the programme has paid for itself for good after 3 periods, not 1.
    """
    appraisal = appraise(
        make_result(1.0, 0.0),
        costs=[CostStream("cost", amount=100.0, start=1)],
        benefits=[
            BenefitStream("early", value=50.0, duration=1),
            BenefitStream("late", value=80.0, start=2, duration=1),
        ],
        horizon=4,
        discount=0.0,
        n_draws=0,
    )
    assert appraisal.value("npv") == pytest.approx(30.0)
    assert appraisal.value("break_even_horizon") == 3.0
