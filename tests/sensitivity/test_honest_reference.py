"""Rambachan-Roth sets on the Medicaid event study match the HonestDiD README.

Reference: HonestDiD R package README ("Example usage - Medicaid expansions"), numbers
frozen in tests/reference/sensitivity/README.md with the data's source.
"""

from __future__ import annotations

import numpy as np
import pytest

from impact.sensitivity import breakdown_value, honest_sensitivity, robust_confidence_sets

RM_REFERENCE = {  # Mbar: (lb, ub), Delta^RM, C-LF
    0.5: (0.0240, 0.0672),
    1.0: (0.0170, 0.0720),
    1.5: (0.00824, 0.0797),
    2.0: (-0.000916, 0.0881),
}
SD_REFERENCE = {  # M: (lb, ub), Delta^SD, FLCI
    0.0: (0.0259, 0.0607),
    0.01: (0.0132, 0.0787),
    0.02: (0.00286, 0.0907),
    0.03: (-0.00714, 0.101),
    0.04: (-0.0171, 0.111),
    0.05: (-0.0271, 0.121),
}


def _half_digit(value: float) -> float:
    """Half a unit in the third significant digit of ``value`` (its printed precision)."""
    return 0.5 * 10 ** (np.floor(np.log10(abs(value))) - 2)


def test_relative_magnitudes_c_lf_matches_honestdid(medicaid):
    table = robust_confidence_sets(**medicaid.arrays(), M=list(RM_REFERENCE))
    assert table.method.unique().tolist() == ["C-LF"]
    for row in table.itertuples():
        lb, ub = RM_REFERENCE[row.M]
        # the printed digits, plus the grid step and simulation of the critical value
        assert row.lb == pytest.approx(lb, abs=_half_digit(lb) + 2e-5)
        assert row.ub == pytest.approx(ub, abs=_half_digit(ub) + 2e-5)


def test_smoothness_flci_matches_honestdid(medicaid):
    table = robust_confidence_sets(
        **medicaid.arrays(), restriction="smoothness", M=list(SD_REFERENCE)
    )
    assert table.method.unique().tolist() == ["FLCI"]
    for row in table.itertuples():
        lb, ub = SD_REFERENCE[row.M]
        # the printed digits, plus 1e-4 as HonestDiD simulates the folded-normal quantile
        # (see the reference README)
        assert row.lb == pytest.approx(lb, abs=_half_digit(lb) + 1e-4)
        assert row.ub == pytest.approx(ub, abs=_half_digit(ub) + 1e-4)


def test_front_end_reads_the_event_study(medicaid_result, medicaid):
    table = honest_sensitivity(medicaid_result, M=[1.0])
    direct = robust_confidence_sets(**medicaid.arrays(), M=[1.0])
    assert table.iloc[0].lb == direct.iloc[0].lb and table.iloc[0].ub == direct.iloc[0].ub
    original = table[table.method == "Original"].iloc[0]
    effect = medicaid_result.effects.set_index("term").loc["e=0"]
    assert original.lb == pytest.approx(effect.estimate - 1.959964 * effect.std_error)


def test_breakdown_values_lie_where_the_tables_cross_zero(medicaid):
    # the README: significant up to Mbar = 2 (set at 1.5 excludes 0, at 2 includes it)
    mbar = breakdown_value(**medicaid.arrays())
    assert 1.5 < mbar < 2.0
    below, above = robust_confidence_sets(**medicaid.arrays(), M=[0.98 * mbar, 1.02 * mbar]).lb
    assert below > 0 > above
    # smoothness: between M = 0.02 and 0.03 ("M approx 0.03" in the README)
    m = breakdown_value(**medicaid.arrays(), restriction="smoothness")
    assert 0.02 < m < 0.03
    below, above = robust_confidence_sets(
        **medicaid.arrays(), restriction="smoothness", M=[0.99 * m, 1.01 * m]
    ).lb
    assert below > 0 > above


def test_average_target_and_conditional_method_run(medicaid):
    table = robust_confidence_sets(
        **medicaid.arrays(), M=[0.0, 1.0], target="average", method="Conditional"
    )
    assert (table.lb < table.ub).all()
    assert table.lb.iloc[1] <= table.lb.iloc[0] and table.ub.iloc[1] >= table.ub.iloc[0]
