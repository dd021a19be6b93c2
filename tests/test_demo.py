"""The main demo: the table tells the story, the figures are written, designs plug in."""

from __future__ import annotations

import pandas as pd
import pytest

import impact
from impact import demo

from ._docs_figures import DEMO_FIGURES, publish


@pytest.fixture(scope="module")
def run():
    return demo.run_demo(None)


def test_table_naive_misses_did_covers(run):
    table = run.table.set_index("design")
    assert list(table.columns) == ["estimate", "ci_lower", "ci_upper", "truth", "covers"]
    assert run.truth == pytest.approx(1.9)  # (0.5 + 1.5 + 2.5 * 3) / 5
    naive = table.loc["naive before/after"]
    # before/after credits the programme with four years of national rise (~4 points)
    assert naive["estimate"] - run.truth == pytest.approx(4.0, abs=0.6)
    assert not naive["covers"]
    did = run.results["difference-in-differences"].att
    assert table.loc["difference-in-differences", "covers"]
    assert abs(did.estimate - run.truth) < 2 * did.std_error
    designs = (
        "staggered DiD",
        "matched DiD",
        "controlled ITS",
        "synthetic DiD",
        "synthetic control",
    )
    for design in designs:
        assert table.loc[design, "covers"], design
    text = run.format_table()
    assert "NO" in text and "yes" in text


def test_demo_is_deterministic(run):
    again = demo.run_demo(None)
    pd.testing.assert_frame_equal(run.table, again.table)


def test_writes_figures_and_data(tmp_path):
    out = demo.run_demo(tmp_path / "figs")
    assert out.out == tmp_path / "figs"
    assert set(out.figures) == {f.filename.removesuffix(".png") for f in demo.FIGURES}
    for path in out.figures.values():
        assert path.read_bytes()[:4] == b"\x89PNG"
    data = pd.read_csv(tmp_path / "figs" / "scottish_schools.csv")
    assert len(data) == 350 * 8
    for asset, drawn in DEMO_FIGURES.items():  # the README's figure is the demo's
        publish(tmp_path / "figs" / drawn, asset)


def test_a_design_is_one_entry(run):
    designs = (
        *demo.DESIGNS,
        demo.DemoDesign("DiD, HC1", demo.registered("did", inference="hc1")),
        demo.DemoDesign(
            "DiD with deprivation x year",
            lambda panel: impact.DifferenceInDifferences().fit(panel),
            covariates=("deprivation",),
        ),
    )
    with pytest.warns(impact.ImpactWarning):  # constant-within-school covariate dropped
        out = demo.run_demo(None, designs=designs)
    assert out.table["design"].tolist()[-2:] == ["DiD, HC1", "DiD with deprivation x year"]
    est = out.table.set_index("design")["estimate"]
    assert est["DiD, HC1"] == pytest.approx(est["difference-in-differences"])


def test_before_after_by_hand():
    df = pd.DataFrame(
        {
            "u": [1, 1, 1, 2, 2, 2, 3, 3, 3],
            "t": [1, 2, 3] * 3,
            "y": [1.0, 4.0, 6.0, 2.0, 2.0, 5.0, 0.0, 1.0, 2.0],
            "d": [0, 1, 1, 0, 0, 1, 0, 0, 0],
        }
    )
    panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d")
    # unit 1: mean(4, 6) - 1 = 4; unit 2: 5 - mean(2, 2) = 3; unit 3 never treated
    result = demo.before_after(panel)
    assert result.att.estimate == pytest.approx(3.5)
    assert result.att.std_error == pytest.approx(0.5)  # sd(4, 3) / sqrt(2)
    assert result.n_units == 2
    assert result.paths["counterfactual"].tolist() == pytest.approx([5 / 3] * 3)  # mean(1, 2, 2)
