"""The sandbox's logic, without a browser: worlds, fits against the truth, explanations."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from impact.exceptions import DesignError
from impact.simulations import Scenario, simulate
from impact.teach.explain import explain, world_notes
from impact.teach.figure import draw
from impact.teach.model import DESIGNS, PRESETS, Analysis, DelayedProfile, World, run


def _row(outcome, label):
    return outcome.table().set_index("design").loc[label]


def _covers(outcome, label):
    return outcome.table().set_index("design")["covers"].to_dict()[label]


def test_presets_are_the_scenario_presets():
    # one_council's latent-factor trends have no knob in the sandbox's World (and the
    # sandbox's designs do not include the synthetic ones); every other preset is there
    assert set(PRESETS) == set(Scenario.presets()) - {"one_council"}


def test_default_world_is_the_scottish_schools_scenario():
    ours = World().to_scenario()
    preset = Scenario.scottish_schools()
    for name in ("n_units", "n_periods", "baseline", "trend", "unit_sd", "noise_sd", "rho",
                 "selection", "selection_strength", "effect"):  # fmt: skip
        assert getattr(ours, name) == getattr(preset, name), name
    assert ours.n_treated == preset.n_treated == 60
    assert ours.cohort_sizes == preset.cohort_sizes


def test_truth_is_the_simulators_true_att():
    world = World(n_schools=60, n_pilot=20, effect=2.0, profile="ramp", seed=5)
    outcome = run(world, Analysis(designs=("did",)))
    assert outcome.truth == simulate(world.to_scenario(), seed=5).true_att
    assert 0 < outcome.truth < 2.0  # a ramp averages below the full effect


def test_selection_on_trend_makes_did_miss_and_its_cover():
    outcome = run(PRESETS["selected_on_trend"], Analysis(designs=("did", "its")))
    assert _covers(outcome, "difference-in-differences") is False
    assert _covers(outcome, "controlled ITS") is True
    assert _row(outcome, "difference-in-differences")["estimate"] > 1.0  # trends counted


def test_random_selection_keeps_did_on_target():
    world = PRESETS["selected_on_trend"].replace(selection="random")
    outcome = run(world, Analysis(designs=("did",)))
    assert _covers(outcome, "difference-in-differences") is True


def test_before_after_credits_the_national_rise():
    outcome = run(World(), Analysis(designs=("before_after", "did")))
    assert _row(outcome, "naive before/after")["estimate"] > 3.0
    flat = run(World(national_rise=0.0), Analysis(designs=("before_after",)))
    assert abs(_row(flat, "naive before/after")["estimate"]) < 1.0


def test_spillover_contaminates_the_comparison():
    world = World(n_schools=120, n_pilot=40, effect=3.0, selection="random", seed=3)
    analysis = Analysis(designs=("did",))
    clean = _row(run(world, analysis), "difference-in-differences")["estimate"]
    spilled = run(world.replace(spillover_schools=80, spillover_share=1.0), analysis)
    # every comparison school gets the full effect: the comparison rises as much
    assert clean - _row(spilled, "difference-in-differences")["estimate"] > 2.0
    assert spilled.truth == pytest.approx(3.0)


def test_short_follow_up_misses_a_delayed_effect():
    world = World(effect=2.0, profile="year3", selection="random")
    short = run(world, Analysis(designs=("did",), follow_up=1))
    assert short.truth == 0.0
    assert short.simulated.scenario.n_periods == world.start_year
    assert "effect starts in programme year 3" in world_notes(short)[0]
    full = run(world, Analysis(designs=("did",)))
    assert full.truth == pytest.approx(2.0 * 3 / 5)  # years 3-5 of five programme years


def test_staggered_rollout_plain_did_cannot_run():
    outcome = run(PRESETS["staggered_rollout"], Analysis(designs=("did", "staggered_did")))
    did = _row(outcome, "difference-in-differences")
    assert _covers(outcome, "difference-in-differences") is None
    assert "staggered" in did["note"]
    assert _covers(outcome, "staggered DiD") is True
    verdicts = {e.design: e.verdict for e in explain(outcome)}
    assert verdicts["difference-in-differences"] == "cannot run"


def test_small_pilot_switches_to_the_wild_bootstrap_and_says_why():
    outcome = run(PRESETS["small_pilot"], Analysis(designs=("did",)))
    did = _row(outcome, "difference-in-differences")
    assert did["inference"] == "wild"
    assert "wild" in did["note"]
    assert "only 5 pilot school(s)" in explain(outcome)[0].text


def test_inference_choice_reaches_every_design():
    analysis = Analysis(designs=("did", "staggered_did"), inference="cr1")
    outcome = run(World(n_schools=60, n_pilot=20), analysis)
    used = dict(zip(outcome.table()["design"], outcome.table()["inference"], strict=True))
    assert used == {"difference-in-differences": "cr1", "staggered DiD": "analytic"}


def test_seed_reproduces_and_changes_the_draw():
    analysis = Analysis(designs=("did",))
    a, b = run(World(seed=1), analysis), run(World(seed=1), analysis)
    c = run(World(seed=2), analysis)
    assert a.table().equals(b.table())
    assert not np.isclose(a.table()["estimate"][0], c.table()["estimate"][0])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_pilot": 350}, "fewer than the 350 schools"),
        ({"start_year": 1}, "at least one year before"),
        ({"selection": "covariate"}, "selection="),
        ({"profile": "decay"}, "profile="),
    ],
)
def test_invalid_worlds_say_what_to_change(changes, message):
    with pytest.raises(DesignError, match=message):
        World(**changes)


def test_invalid_analysis():
    with pytest.raises(DesignError, match="unknown designs"):
        Analysis(designs=("synthetic_control",))
    with pytest.raises(DesignError, match="at least one year"):
        Analysis(follow_up=0)


def test_delayed_profile_is_picklable_for_worker_processes():
    profile = DelayedProfile(2)
    assert pickle.loads(pickle.dumps(profile)) == profile
    assert profile(np.arange(3)).tolist() == [0.0, 1.0, 1.0]


def test_explanations_follow_the_world():
    trend = explain(run(PRESETS["selected_on_trend"], Analysis()))
    by_design = {e.design: e for e in trend}
    assert "parallel trends fail" in by_design["difference-in-differences"].text
    assert "do not fool it" in by_design["controlled ITS"].text
    assert by_design["controlled ITS"].docs == "explanation/its.md"
    level = {e.design: e.text for e in explain(run(World(), Analysis()))}
    assert "removes the gap in levels" in level["difference-in-differences"]
    assert "parallel trends fail" not in level["difference-in-differences"]


def test_figure_draws_observed_paths_and_each_counterfactual():
    outcome = run(World(n_schools=60, n_pilot=20), Analysis(designs=("before_after", "did")))
    fig = draw(outcome)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == [
        "pilots (observed)",
        "comparison (observed)",
        "pilots without programme (truth)",
        "naive before/after",
        "difference-in-differences",
    ]
    colours = {line.get_color() for line in fig.axes[0].get_lines()[3:5]}
    assert colours == {DESIGNS["before_after"].colour, DESIGNS["did"].colour}
    big = draw(outcome, large=True)
    assert big.axes[0].xaxis.label.get_size() > fig.axes[0].xaxis.label.get_size()


def test_how_to_page_runs_as_shown(capsys):
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "teach-with-the-sandbox.md"
    text = page.read_text(encoding="utf-8")
    (code,) = re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    (shown,) = re.findall(r"^```text\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    exec(compile(code, str(page), "exec"), {})
    printed = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert [" ".join(line.split()) for line in shown.strip().splitlines()] == printed
    for preset in ("Scottish schools", "Small pilot", "Selected on trend", "Staggered rollout"):
        assert f"| {preset} |" in text
