"""The synthetic control tutorial runs, shows what it prints and tells the truth."""

from __future__ import annotations

import runpy

import pytest

from ._docs_figures import publish
from .test_docs import TUTORIALS, _assert_shown_output_is_printed


def test_one_council_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(TUTORIALS / "one_council_adopts.py"), run_name="__main__")
    _assert_shown_output_is_printed(TUTORIALS / "one-council-adopts.md", capsys.readouterr().out)
    truth = ns["true_effect"]
    att = ns["synthetic"].att
    assert att.ci_lower <= truth <= att.ci_upper
    # difference-in-differences is misled by the adopter's own trend
    assert abs(ns["did"].att.estimate - truth) > 2 * abs(att.estimate - truth)
    path = ns["path"]
    assert ((path["conformal_lower"] <= truth) & (truth <= path["conformal_upper"])).all()
    # R Synth's basque example: Cataluna 0.851, Madrid 0.149
    weights = ns["conflict"].diagnostics["unit_weights"].set_index("unit")["weight"]
    assert weights["Cataluna"] == pytest.approx(0.851, abs=0.02)
    assert weights["Madrid (Comunidad De)"] == pytest.approx(0.149, abs=0.02)
    for name in ("trajectories.png", "placebo-gaps.png"):
        publish(tmp_path / "tutorial-output" / name, f"one-council-adopts-{name}")
