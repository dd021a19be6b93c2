"""The sensitivity plot: robust sets against the bound, the original interval beside them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from impact.exceptions import DesignError
from impact.plotting.sensitivity import plot_sensitivity
from impact.sensitivity import honest_sensitivity


def test_plot_draws_each_set_and_the_original(medicaid_result):
    table = honest_sensitivity(medicaid_result, M=[0.5, 1.0, 2.0])
    ax = plot_sensitivity(table)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["original", "0.5", "1", "2"]
    # one vertical segment per set: the ends drawn are the table's bounds
    segments = [c for c in ax.collections if c.get_segments()]
    ends = sorted(float(y) for c in segments for s in c.get_segments() for y in s[:, 1])
    expected = sorted(table.lb.tolist() + table.ub.tolist())
    np.testing.assert_allclose(ends, expected)
    plt.close(ax.figure)


def test_plot_refuses_mixed_or_incomplete_tables():
    table = pd.DataFrame(
        {"restriction": ["smoothness", "relative_magnitudes"], "M": [0.0, 1.0], "lb": [0.0, 0.0],
         "ub": [1.0, 1.0], "method": ["FLCI", "C-LF"]}
    )  # fmt: skip
    with pytest.raises(DesignError, match="several restrictions"):
        plot_sensitivity(table)
    with pytest.raises(DesignError, match=r"lacks the column\(s\) \['method'\]"):
        plot_sensitivity(table.drop(columns="method"))
