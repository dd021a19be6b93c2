"""What a new user meets first in Python: clear errors, effects as numbers, readable tables."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import impact
from impact._format import format_table, format_value
from impact.datasets import load_scottish_schools


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load_scottish_schools(seed=3)


@pytest.fixture(scope="module")
def result(frame) -> impact.ImpactResult:
    panel = impact.Panel.from_frame(
        frame, unit="school", time="year", outcome="attainment", treated="pilot"
    )
    return impact.estimate(panel, method="did")


# ------------------------------------------------------------------ a DataFrame (item 6)
def test_estimate_on_a_dataframe_shows_the_panel_to_build(frame):
    with pytest.raises(impact.DesignError, match=r"impact\.Panel\.from_frame\(df, unit="):
        impact.estimate(frame, method="did")
    with pytest.raises(impact.DesignError, match="'attainment'"):  # lists the columns
        impact.DifferenceInDifferences().fit(frame)
    with pytest.raises(impact.DesignError, match="not NoneType"):
        impact.get_estimator("matching").fit(None)


# ------------------------------------------------------------------ keywords (item 7)
def test_unknown_hyperparameter_names_the_closest(result, frame):
    panel = impact.Panel.from_frame(
        frame, unit="school", time="year", outcome="attainment", treated="pilot"
    )
    with pytest.raises(impact.DesignError) as info:
        impact.estimate(panel, method="did", foo=1)
    assert "'foo'" in str(info.value) and "inference" in str(info.value)
    with pytest.raises(impact.DesignError, match="did you mean 'alpha'"):
        impact.estimate(panel, method="event_study", alpah=0.1)


def test_a_negative_seed_is_a_design_error():
    with pytest.raises(impact.DesignError, match="seed=-1"):
        impact.DifferenceInDifferences(inference="wild", seed=-1)
    with pytest.raises(impact.DesignError, match="seed=-1"):
        impact.StaggeredDiD(seed=-1)
    impact.DifferenceInDifferences(seed=np.random.default_rng(0))  # a Generator is fine


# ------------------------------------------------------------------ Effect (item 10)
def test_an_effect_is_a_number(result):
    att = result.att
    assert float(att) == att.estimate
    assert f"{att:.2f}" == f"{att.estimate:.2f}"
    assert f"{att}" == str(att)
    assert np.isclose(np.float64(att), att.estimate)


def test_results_and_summaries_render_in_notebooks(result):
    for obj in (result, result.summary(), result.att):
        page = obj._repr_html_()
        assert "<table" in page and "att" in page
        assert "np.float64" not in page


# ------------------------------------------------------------------ tables (item 8)
def test_settings_show_plain_numbers_not_numpy_reprs():
    assert format_value((np.float64(1.0), np.float64(1.1))) == "(1, 1.1)"
    assert format_value({"a": np.int64(3)}) == "{a: 3}"
    assert format_value(np.float64(0.05)) == "0.05"
    assert format_value(float("nan")) == "-"


def test_p_values_read_below_one_in_a_thousand(result):
    text = str(result.summary())
    html = result.summary()._repr_html_()
    assert result.att.p_value < 0.001
    for page in (text, html):
        assert "<0.001" in page or "&lt;0.001" in page
        assert "e-" not in page.split("settings")[0]  # no exponent in the effects table
    assert "np.float64" not in text


def test_summary_of_numpy_settings_reads_plainly():
    rng = np.random.default_rng(0)
    units = np.repeat(np.arange(40), 4)
    times = np.tile(np.arange(4), 40)
    treated = ((units < 10) & (times >= 2)).astype(int)
    y = rng.normal(size=160) + treated
    df = pd.DataFrame({"u": units, "t": times, "y": y, "d": treated})
    panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    res = impact.MatchedComparison(gammas=(np.float64(1.0), np.float64(1.1))).fit(panel)
    text = str(res.summary())
    assert "np.float64" not in text and "(1, 1.1)" in text


def test_one_formatter_for_text_and_html():
    table = pd.DataFrame({"term": ["att"], "estimate": [np.float64(2.65837)], "p_value": [3e-11]})
    shown = format_table(table)
    assert shown.iloc[0].tolist() == ["att", "2.658", "<0.001"]


def test_report_html_has_no_raw_floats(tmp_path, result):
    from impact.reports.result import write_report

    page = write_report(result, tmp_path / "r.html").read_text()
    assert "&lt;0.001" in page
    assert "e-11" not in page and "e-1" not in page.split("<img")[0]


# ------------------------------------------------------------------ import cost (item 5)
def test_import_impact_loads_the_estimators_on_first_use():
    code = (
        "import json, sys, impact\n"
        "before = 'pandas' in sys.modules\n"
        "impact.Panel\n"
        "did = 'did' in impact.available_estimators()\n"
        "print(json.dumps([before, 'pandas' in sys.modules, did]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == [False, True, True]


def test_every_public_name_resolves():
    for name in impact.__all__:
        assert getattr(impact, name) is not None
    assert set(impact.__all__) <= set(dir(impact))
    with pytest.raises(AttributeError):
        impact.not_a_name  # noqa: B018
