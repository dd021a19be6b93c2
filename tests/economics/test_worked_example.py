"""The worked example runs, and the numbers in its docs page are the ones it prints."""

import re
import runpy
from pathlib import Path

import pytest

from .._docs_figures import publish

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "tutorials" / "economic_appraisal.py"
PAGE = ROOT / "docs" / "tutorials" / "economic-appraisal.md"


@pytest.fixture(scope="module")
def example():
    return runpy.run_path(str(SCRIPT), run_name="worked_example")


@pytest.fixture(scope="module")
def output(example, tmp_path_factory):
    figure = tmp_path_factory.mktemp("appraisal") / "economic-appraisal.png"
    text = example["main"](figure=str(figure))
    publish(figure, "economic-appraisal.png")
    return text


def test_docs_page_shows_the_script_output(output):
    page = PAGE.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- output:start -->\n```text\n(.*?)\n```\n<!-- output:end -->", page, re.S
    )
    assert block is not None
    assert block.group(1) == output


def test_docs_page_shows_the_warning_a_reader_sees(example):
    import warnings

    import impact

    frame, _ = example["simulate_pilot"]()
    panel = impact.Panel.from_frame(
        frame, unit="school", time="year", outcome="exclusions", treated="pilot"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        impact.DifferenceInDifferences().fit(panel)
    raised = [f"{w.category.__name__}: {w.message}" for w in caught]
    block = re.search(
        r"<!-- warning:start -->\n```text\n(.*?)\n```\n<!-- warning:end -->",
        PAGE.read_text(encoding="utf-8"),
        re.S,
    )
    assert block is not None
    assert block.group(1).splitlines() == raised


def test_example_numbers_are_right_by_construction(example):
    """PV of five workers at the mean GBP 38,000 for years 0-2 under the Green Book:
    190,000 * (1 + 1/1.035 + 1/1.035**2) = 190,000 * 2.8996942 = 550,942.
    The simulated truth lies inside the DiD interval.
    """
    frame, truth = example["simulate_pilot"]()
    import impact

    panel = impact.Panel.from_frame(
        frame, unit="school", time="year", outcome="exclusions", treated="pilot"
    )
    result = impact.DifferenceInDifferences().fit(panel)
    assert result.att.ci_lower < truth < result.att.ci_upper
    appraisal = example["appraise_pilot"](result)
    assert appraisal.value("pv_costs") == pytest.approx(190_000 * 2.8996942, abs=1)
    by_bearer = appraisal.by_perspective().set_index("bearer")
    assert by_bearer["npv"].sum() == pytest.approx(appraisal.value("npv"))
