"""``impact simulate``, ``impact validate`` and ``impact report --validation``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact.cli import COMMANDS, main
from impact.cli._scenario import read_scenario
from impact.simulations import REPORT_COLUMNS, TRUTH_COLUMNS, Scenario, simulate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
SCHOOLS = str(EXAMPLES / "scottish_schools.toml")
PILOT = str(EXAMPLES / "small_pilot.toml")


def _clean(result, code):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_help_has_examples(runner, command):
    result = runner.invoke(main, [command, "--help"])
    _clean(result, 0)
    examples = result.output.split("Examples:")[1]
    assert f"impact {command}" in examples


# ----------------------------------------------------------------------------- files
def test_example_files_read_as_their_presets():
    schools = read_scenario(SCHOOLS)
    assert schools.scenario == Scenario.scottish_schools(effect=2.0, profile="ramp")
    assert schools.seed == 2026
    pilot = read_scenario(PILOT)
    assert pilot.scenario == Scenario.small_pilot()
    assert pilot.seed == 7


def test_lists_become_tuples(tmp_path):
    path = tmp_path / "rollout.toml"
    path.write_text(
        'preset = "staggered_rollout"\ncohorts = [[3, 0.3], [6, 0.3]]\n'
        'spillover_units = 2\npanel_covariates = ["x"]\n'
    )
    scenario = read_scenario(path).scenario
    assert scenario.cohorts == ((3, 0.3), (6, 0.3))
    assert scenario.panel_covariates == ("x",)
    assert scenario.cohort_sizes == {3: 60, 6: 60}


# ----------------------------------------------------------------------------- simulate
@pytest.mark.parametrize("example", [SCHOOLS, PILOT])
def test_simulate_writes_data_and_truth(runner, tmp_path, example):
    out = tmp_path / "cohort.csv"
    result = runner.invoke(main, ["simulate", example, "--out", str(out)])
    _clean(result, 0)
    read = read_scenario(example)
    assert read.scenario.describe() in result.output
    data = pd.read_csv(out)
    truth = pd.read_csv(tmp_path / "cohort_truth.csv")
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    # the file holds the simulator's draw for the file's seed, and its truth
    sim = simulate(read.scenario, seed=read.seed)
    np.testing.assert_allclose(data["y"], sim.data["y"], rtol=1e-12)
    att = truth.set_index("term").loc["att", "truth"]
    assert att == pytest.approx(data.loc[data["treated"] == 1, "tau"].mean(), rel=1e-12)
    assert att == pytest.approx(sim.true_att, rel=1e-12)
    assert f"true ATT {sim.true_att:.4g}" in result.output


def test_simulate_seed_option_and_parquet(runner, tmp_path):
    pytest.importorskip("pyarrow")
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    _clean(runner.invoke(main, ["simulate", PILOT, "--out", str(a), "--seed", "1"]), 0)
    _clean(runner.invoke(main, ["simulate", PILOT, "--out", str(b)]), 0)
    first, second = pd.read_parquet(a), pd.read_csv(b)
    assert len(first) == len(second) == 150
    assert not np.array_equal(first["y"], second["y"])  # --seed 1 overrides seed = 7
    assert (tmp_path / "a_truth.csv").is_file()


def test_simulated_file_feeds_estimate(runner, tmp_path):
    out = tmp_path / "schools.csv"
    _clean(runner.invoke(main, ["simulate", SCHOOLS, "--out", str(out)]), 0)
    roles = ["--unit", "unit", "--time", "time", "--outcome", "y", "--treated", "treated"]
    result = runner.invoke(main, ["estimate", str(out), *roles, "--format", "csv"])
    _clean(result, 0)
    effects = pd.read_csv(io.StringIO(result.output))
    truth = pd.read_csv(tmp_path / "schools_truth.csv").set_index("term")["truth"]
    att = effects.set_index("term").loc["att"]
    assert att["ci_lower"] < truth["att"] < att["ci_upper"]


# ----------------------------------------------------------------------------- bad files
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('preset = "scottish_schools"\nn_school = 3\n', "unknown Scenario field(s) 'n_school'"),
        ("n_units = 1\n", "n_units=1 must be at least 2"),
        ('outcome = "ordinal"\n', "outcome='ordinal' is not valid"),
        ('n_units = "many"\n', "n_units='many' must be an integer"),
        ('preset = "wales"\n', "preset='wales' is not a preset"),
        ('seed = "abc"\n', "seed='abc' must be a non-negative integer"),
        ("n_units = \n", "is not valid TOML"),
        ("[trend]\nkind = 'quadratic'\n", "cannot be written in TOML"),
        ("trend = [1.0, 2.0]\n", "cannot be written in TOML"),
    ],
)
def test_bad_scenario_file_exits_3_with_message(runner, tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    for command in (
        ["simulate", str(path), "--out", str(tmp_path / "x.csv")],
        ["validate", str(path), "--designs", "did", "--reps", "2"],
    ):
        result = runner.invoke(main, command)
        _clean(result, 3)
        assert expected in result.output and "bad.toml" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_missing_scenario_file_is_a_usage_error(runner, tmp_path):
    for command in (
        ["simulate", str(tmp_path / "none.toml"), "--out", str(tmp_path / "x.csv")],
        ["validate", str(tmp_path / "none.toml"), "--designs", "did"],
        ["report", "--validation", str(tmp_path / "none.toml"), "--designs", "did"],
    ):
        result = runner.invoke(main, command)
        _clean(result, 2)
        assert "does not exist" in result.output


# ----------------------------------------------------------------------------- validate
def test_validate_text_on_schools(runner):
    result = runner.invoke(
        main, ["validate", SCHOOLS, "--designs", "did,its", "--reps", "3", "--workers", "1"]
    )
    _clean(result, 0)
    assert "3 replications, seed 2026" in result.output
    lines = [ln.split() for ln in result.output.splitlines()]
    assert ["did", "att"] in [ln[:2] for ln in lines]
    assert ["its", "att"] in [ln[:2] for ln in lines]


def test_validate_csv_json_out_and_params(runner, tmp_path):
    base = ["validate", PILOT, "--designs", "did", "--reps", "3", "--workers", "1"]
    result = runner.invoke(main, [*base, "--format", "csv", "--param", "did.inference=cr1"])
    _clean(result, 0)
    table = pd.read_csv(io.StringIO(result.output))
    assert list(table.columns) == list(REPORT_COLUMNS)
    assert table["n_reps"].tolist() == [3]
    out = tmp_path / "study.json"
    again = runner.invoke(
        main, [*base, "--format", "json", "--out", str(out), "--param", "did.inference=cr1"]
    )
    _clean(again, 0)
    payload = json.loads(out.read_text())
    assert payload["estimators"]["did"]["inference"] == "cr1"
    assert payload["seed"] == 7 and payload["n_reps"] == 3
    assert payload["validation"][0]["mean_estimate"] == pytest.approx(table["mean_estimate"][0])


@pytest.mark.parametrize(
    ("extra", "backend", "n_workers"),
    [
        ([], None, None),
        (["--workers", "1"], "serial", 1),
        (["--workers", "2"], "processes", 2),
        (["--scheduler", "tcp://10.0.0.5:8786"], "tcp://10.0.0.5:8786", None),
        (["--scheduler", "10.0.0.5:8786"], "tcp://10.0.0.5:8786", None),
    ],
)
def test_validate_backend_options(runner, monkeypatch, extra, backend, n_workers):
    # the backends themselves (identical reports serially, in processes and on Dask) are
    # tested in tests/simulations; here: which backend each option asks for
    import impact.simulations

    real, seen = impact.simulations.monte_carlo, {}

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **{**kwargs, "backend": "serial"})

    monkeypatch.setattr(impact.simulations, "monte_carlo", spy)
    if extra[:1] == ["--scheduler"]:
        pytest.importorskip("distributed")
    result = runner.invoke(main, ["validate", PILOT, "--designs", "did", "--reps", "2", *extra])
    _clean(result, 0)
    assert seen["backend"] == backend and seen["n_workers"] == n_workers
    assert seen["n_reps"] == 2 and seen["seed"] == 7


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--designs", "nonsense"], "'nonsense' not registered"),
        (["--designs", "did", "--param", "inference=hc1"], "design.key=value"),
        (["--designs", "did", "--param", "its.alpha=0.1"], "not in --designs"),
        (["--designs", "did", "--param", "did.colour=red"], "no hyperparameter 'colour'"),
        (["--designs", "did", "--workers", "2", "--scheduler", "tcp://x:1"], "at most one"),
        (["--reps", "2"], "Missing option '--designs'"),
        (["--designs", "did", "--reps", "0"], "--reps"),
    ],
)
def test_validate_usage_errors_exit_2(runner, extra, expected):
    result = runner.invoke(main, ["validate", PILOT, *extra])
    _clean(result, 2)
    assert expected in result.output


def test_scheduler_without_dask_exits_3(runner, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = runner.invoke(
        main, ["validate", PILOT, "--designs", "did", "--reps", "2", "--scheduler", "tcp://h:1"]
    )
    _clean(result, 3)
    assert 'pip install "impact[dask]"' in result.output


def test_scheduler_runs_on_a_dask_cluster(runner):
    distributed = pytest.importorskip("distributed")
    base = ["validate", PILOT, "--designs", "did", "--reps", "4", "--format", "csv"]
    serial = runner.invoke(main, [*base, "--workers", "1"])
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = runner.invoke(main, [*base, "--scheduler", cluster.scheduler_address])
    _clean(on_dask, 0)
    assert on_dask.output == serial.output


# ----------------------------------------------------------------------------- report
def test_report_of_a_validation_study(runner, tmp_path):
    out = tmp_path / "study.html"
    result = runner.invoke(
        main,
        [
            *("report", "--validation", PILOT, "--designs", "did,its", "--reps", "3"),
            *("--workers", "1", "--param", "did.inference=cr1", "--out", str(out)),
        ],
    )
    _clean(result, 0)
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Validation study: did, its" in page
    assert page.count("data:image/png;base64,") == 3  # coverage, bias, estimates
    assert "<table" in page and "coverage_mcse" in page
    assert 'src="http' not in page and "href=" not in page  # self-contained


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--validation", PILOT, "--reps", "2"], "needs --designs"),
        (["--validation", PILOT, "--designs", "did", "--unit", "u"], "--unit"),
        (["--designs", "did"], "add --validation"),
        ([], "Missing argument 'DATA'"),
    ],
)
def test_report_mode_errors_exit_2(runner, tmp_path, args, expected):
    result = runner.invoke(main, ["report", *args, "--out", str(tmp_path / "r.html")])
    _clean(result, 2)
    assert expected in result.output


@pytest.mark.parametrize(
    ("follow", "flag"), [("false", "--repeated-cross-section"), ("true", "--cluster unit")]
)
def test_simulate_names_the_estimate_command_for_pupils(runner, tmp_path, follow, flag):
    path = tmp_path / "pupils.toml"
    path.write_text(
        f"n_units = 12\nn_periods = 4\nadoption_period = 3\npupils_per_unit = 5\n"
        f"follow_pupils = {follow}\neffect = 1.0\nseed = 2\n"
    )
    result = runner.invoke(main, ["simulate", str(path), "--out", str(tmp_path / "p.csv")])
    _clean(result, 0)
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("estimate with: ")]
    assert flag in line
    args = line.removeprefix("estimate with: impact ").split()
    _clean(runner.invoke(main, args), 0)
