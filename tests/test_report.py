from __future__ import annotations

import pandas as pd

import impact
from impact.reports.page import Section, html_document
from impact.reports.result import result_sections, write_report
from impact.result import ImpactResult


def test_write_report_embeds_tables_and_figures(did_frame, tmp_path):
    panel = impact.Panel.from_frame(did_frame, unit="unit", time="time", outcome="y", treated="d")
    result = impact.DifferenceInDifferences().fit(panel)
    path = write_report(result, tmp_path / "r.html", preamble="a <test> & more")
    page = path.read_text()
    assert "a &lt;test&gt; &amp; more" in page
    assert page.count("<img") == 2
    assert "<h2>Effects</h2>" in page and "<h2>Diagnostics: coefficients</h2>" in page


def test_kinds_a_result_cannot_draw_are_skipped():
    effects = pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [1.0],
            "std_error": [0.1],
            "ci_lower": [0.8],
            "ci_upper": [1.2],
            "p_value": [0.0],
        }
    )
    result = ImpactResult(estimator="x", effects=effects, n_obs=4, n_units=2)
    sections = result_sections(result, plots=("paths", "effects"))
    figures = [s for s in sections if s.title == "Figures"]
    assert len(figures) == 1 and figures[0].body.count("<img") == 1


def test_html_document_escapes_titles():
    page = html_document("A & B", [Section("<x>", "<p>ok</p>")])
    assert "<h1>A &amp; B</h1>" in page and "<h2>&lt;x&gt;</h2>" in page
