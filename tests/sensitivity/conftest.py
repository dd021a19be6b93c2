"""The Medicaid event study of the HonestDiD README (see tests/reference/sensitivity)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.sensitivity import event_study_inputs

DATA = Path(__file__).parents[1] / "reference" / "sensitivity" / "ehec_data.csv"


def medicaid_panel() -> impact.Panel:
    """Years before 2016, the 2015 adopters dropped, D = first treated in 2014."""
    df = pd.read_csv(DATA)
    df = df[(df.year < 2016) & (df.yexp2.isna() | (df.yexp2 != 2015))].copy()
    df["treated"] = ((df.yexp2 == 2014) & (df.year >= 2014)).astype(int)
    return impact.Panel.from_frame(
        df, unit="stfips", time="year", outcome="dins", treated="treated"
    )


@pytest.fixture(scope="session")
def medicaid_result() -> impact.ImpactResult:
    # fixest's clustered default: CR1 by state with the nested small-sample correction
    return impact.EventStudy(inference="cr1").fit(medicaid_panel())


@pytest.fixture(scope="session")
def medicaid(medicaid_result):
    inputs = event_study_inputs(medicaid_result)
    assert inputs.event_times == (-6, -5, -4, -3, -2, 0, 1)
    return inputs


@pytest.fixture
def small():
    """A hand-sized event study: 3 pre-periods, 2 post-periods."""
    beta = np.array([0.01, -0.005, 0.002, 0.05, 0.06])
    sigma = np.diag([0.01, 0.01, 0.01, 0.012, 0.014]) ** 2
    sigma[3, 4] = sigma[4, 3] = 0.5 * 0.012 * 0.014
    return beta, sigma
