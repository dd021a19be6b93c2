"""The robustness summary: each finding read from the result, in words, with its value."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact.exceptions import DesignError
from impact.sensitivity import breakdown
from impact.sensitivity.robustness import robustness


def _event_panel(effect: float, scale: float = 1.0, seed: int = 0) -> impact.Panel:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"u": np.repeat(np.arange(40), 6), "t": np.tile(np.arange(6), 40)})
    df["d"] = ((df.u < 20) & (df.t >= 3)).astype(int)
    df["y"] = scale * (df.u + 0.5 * df.t + effect * df.d + rng.normal(0, 0.5, len(df)))
    return impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")


def _fit(panel, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        return impact.EventStudy(inference="cr1", **params).fit(panel)


def test_event_study_breakdowns_are_the_sensitivity_module_values():
    result = _fit(_event_panel(effect=2.0))
    table = robustness(result).table.set_index("aspect")
    mbar = table.loc["breakdown Mbar (relative magnitudes)", "value"]
    m = table.loc["breakdown M (smoothness)", "value"]
    assert mbar == pytest.approx(breakdown(result, restriction="relative_magnitudes"))
    assert m == pytest.approx(breakdown(result, restriction="smoothness"))
    assert mbar > 0 and m > 0
    finding = table.loc["breakdown Mbar (relative magnitudes)", "finding"]
    assert "stays positive" in finding and f"{mbar:.3g}" in finding
    assert "pre-trend slope detected with 80% power" in table.index


def test_a_null_effect_needs_no_departure_to_be_overturned():
    table = robustness(_fit(_event_panel(effect=0.0))).table
    first = table.iloc[0]
    assert first["value"] == 0.0
    assert "not distinguishable from zero" in first["finding"]


def test_breakdown_mbar_ignores_the_outcome_scale_and_m_scales_with_it():
    """Relative magnitudes are ratios; the smoothness bound is in outcome units."""
    base = robustness(_fit(_event_panel(effect=2.0))).table.set_index("aspect")["value"]
    scaled = robustness(_fit(_event_panel(effect=2.0, scale=10.0))).table.set_index("aspect")
    scaled = scaled["value"]
    mbar = "breakdown Mbar (relative magnitudes)"
    assert scaled[mbar] == pytest.approx(base[mbar], rel=1e-3)
    m = "breakdown M (smoothness)"
    assert scaled[m] == pytest.approx(10 * base[m], rel=1e-3)


def test_matching_reads_the_rosenbaum_gamma_and_e_value():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": range(300), "t": 1, "x": rng.normal(size=300)})
    df["d"] = (rng.random(300) < 1 / (1 + np.exp(-df.x))).astype(int)
    df["y"] = df.x + 1.0 * df.d + rng.normal(size=300)
    panel = impact.Panel.from_frame(
        df, unit="id", time="t", outcome="y", treated="d", covariates=["x"]
    )
    result = impact.MatchedComparison(replace=True).fit(panel)
    table = robustness(result).table.set_index("aspect")
    summary = result.diagnostics["sensitivity_summary"].set_index("quantity")["value"]
    assert table.loc["critical Gamma (Rosenbaum)", "value"] == summary["critical_gamma"]
    assert table.loc["E-value", "value"] == summary["e_value"]
    assert summary["critical_gamma"] > 1
    assert "hidden confounder" in table.loc["critical Gamma (Rosenbaum)", "finding"]


def test_few_clusters_are_named():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"u": np.repeat(np.arange(10), 6), "t": np.tile(np.arange(6), 10)})
    df["d"] = ((df.u < 3) & (df.t >= 3)).astype(int)
    df["y"] = df.u + df.t + df.d + rng.normal(0, 0.5, len(df))
    panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        few = impact.DifferenceInDifferences(inference="cr1").fit(panel)
    row = robustness(few).table.set_index("aspect").loc["clusters on the smaller side"]
    assert row["value"] == 3
    assert "over-rejects" in row["finding"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        auto = impact.DifferenceInDifferences().fit(panel)
    row = robustness(auto).table.set_index("aspect").loc["clusters on the smaller side"]
    assert f"inference='auto' chose {auto.settings['inference_used']}" in row["finding"]


def test_a_2x2_did_points_to_the_event_study():
    result = impact.DifferenceInDifferences(inference="cr1").fit(_event_panel(effect=1.0))
    first = robustness(result).table.iloc[0]
    assert np.isnan(first["value"]) and "event study" in first["finding"]


def test_anything_but_a_result_is_a_design_error():
    with pytest.raises(DesignError, match="expected a fitted result"):
        robustness(pd.DataFrame())


def test_synthetic_comparisons_report_their_fit_and_placebo_rank():
    from impact.simulations import Scenario, simulate

    panel = simulate(Scenario.one_council(), seed=1).panel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        sc = impact.estimate(panel, method="synthetic_control")
        sdid = impact.estimate(panel, method="synthetic_did")
    table = robustness(sc).table.set_index("aspect")
    units = sc.diagnostics["treated_units"]
    assert table.loc["placebo rank p-value", "value"] == units["p_value"].max()
    assert table.loc["pre-period RMSPE / outcome SD", "value"] > 0
    fit = robustness(sdid).table.set_index("aspect").loc["pre-period RMSPE / outcome SD"]
    assert fit["value"] == sdid.diagnostics["fit"]["relative_rmspe"].max()
