"""Few-cluster inference checked against pyfixest and wildboottest.

The reference numbers are frozen here (both packages are in the ``bench`` extra, not
the test extra); each test notes the version and call that produced them, and a live
cross-check runs when the package is installed.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from impact import Panel
from impact.estimators import DifferenceInDifferences
from impact.exceptions import InferenceWarning


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
@pytest.mark.parametrize("side", ["treated", "control"])
def test_cr2_cr3_warn_with_a_single_treated_or_control_cluster(inference, side):
    """The lone cluster has leverage 1: the standard error is finite but misses its variation."""
    frame = crosscheck_panel()
    lone = frame["unit"] == 0
    frame["d"] = ((lone if side == "treated" else ~lone) & (frame["time"] >= 3)).astype(float)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with pytest.warns(InferenceWarning, match=f"single {side} cluster"):
        att = DifferenceInDifferences(inference=inference).fit(panel).att
    assert np.isfinite(att.std_error)


@pytest.mark.parametrize("inference", ["cr2", "cr3"])
def test_cr2_cr3_do_not_warn_with_two_treated_clusters(inference):
    frame = crosscheck_panel()
    frame["d"] = ((frame["unit"] < 2) & (frame["time"] >= 3)).astype(float)
    panel = Panel.from_frame(frame, unit="unit", time="time", outcome="y", treated="d")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        DifferenceInDifferences(inference=inference).fit(panel)
