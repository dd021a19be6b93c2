"""The installed ``impact`` command as a user runs it: one-line errors, exit codes, imports.

Each case runs the console script (or ``python -m impact`` where it is not installed)
in a fresh process, so what is checked is what a user sees: the exit status, stderr
with no traceback, and which modules a command imports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import ROLES


def _command() -> list[str]:
    script = Path(sys.executable).with_name("impact")
    if script.exists():
        return [str(script)]
    found = shutil.which("impact")
    return [found] if found else [sys.executable, "-m", "impact"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], status: int, *words: str):
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0], lines[0]


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "impact", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "impact" in done.stdout


# ------------------------------------------------------------------ output paths (item 1)
@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--plot", "out.xyz"], ["--plot", "'.xyz' is not a supported format", ".png"]),
        (["--plot", "figure"], ["--plot", "no extension"]),
        (["--plot", "missing/fig.png"], ["--plot", "does not exist"]),
        (["-o", "missing/out.txt"], ["--output", "does not exist"]),
        (["--output", "missing/out.json", "--format", "json"], ["--output", "does not exist"]),
    ],
)
def test_estimate_output_errors_are_one_line_usage_errors(tmp_path, schools_csv, extra, words):
    done = run_cli("estimate", str(schools_csv), *ROLES, *extra, cwd=tmp_path)
    assert_one_line_error(done, 2, *words)
    assert not (tmp_path / "missing").exists()


def test_report_into_a_missing_folder(tmp_path, schools_csv):
    done = run_cli("report", str(schools_csv), *ROLES, "--out", str(tmp_path / "no" / "r.html"))
    assert_one_line_error(done, 2, "--out", "does not exist")


def test_data_into_a_missing_folder(tmp_path):
    done = run_cli("data", "scottish_schools", "--out", str(tmp_path / "no" / "s.csv"))
    assert_one_line_error(done, 2, "--out", "does not exist")


def test_demo_into_a_folder_it_cannot_create(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_cli("demo", "--out", str(blocker / "figures"))
    assert_one_line_error(done, 2, "--out", "cannot create the folder")


def test_validate_and_simulate_into_a_missing_folder(tmp_path):
    scenario = Path(__file__).parents[2] / "examples" / "scenarios" / "small_pilot.toml"
    done = run_cli("simulate", str(scenario), "--out", str(tmp_path / "no" / "pilot.csv"))
    assert_one_line_error(done, 2, "--out", "does not exist")
    done = run_cli(
        "validate", str(scenario), "--designs", "did", "--reps", "2", "--out",
        str(tmp_path / "no" / "v.txt"),
    )  # fmt: skip
    assert_one_line_error(done, 2, "--out", "does not exist")


def test_a_negative_seed_is_a_design_error(schools_csv):
    done = run_cli(
        "estimate", str(schools_csv), *ROLES, "--param", "inference=wild", "--param", "seed=-1"
    )
    assert_one_line_error(done, 3, "seed=-1", "non-negative integer")


def test_parquet_with_a_categorical_unit_column(tmp_path, schools_frame):
    pytest.importorskip("pyarrow")
    frame = schools_frame.assign(school=schools_frame["school"].astype(str).astype("category"))
    path = tmp_path / "schools.parquet"
    frame.to_parquet(path, index=False)
    done = run_cli("estimate", str(path), *ROLES, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    payload = json.loads(done.stdout)
    assert payload["n_units"] == frame["school"].nunique()
    assert payload["settings"]["columns"] == {
        "unit": "school",
        "time": "year",
        "outcome": "attainment",
    }


def test_a_good_plot_is_written(tmp_path, schools_csv):
    done = run_cli("estimate", str(schools_csv), *ROLES, "--plot", str(tmp_path / "f.svg"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")


# ------------------------------------------------------------------ imports (item 5)
def _modules_loaded_by(*args: str) -> set[str]:
    code = (
        "import json, sys\n"
        "from impact.cli import main\n"
        "try:\n"
        f"    main({list(args)!r}, prog_name='impact')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args", [("--help",), ("--version",), ("demo", "--help"), ("data", "--help")]
)
def test_help_imports_no_numerical_library(args):
    loaded = _modules_loaded_by(*args)
    heavy = {"numpy", "pandas", "scipy", "matplotlib", "statsmodels", "impact.estimators"}
    assert not heavy & loaded, sorted(heavy & loaded)


def test_the_csv_written_by_data_is_read_back(tmp_path):
    done = run_cli("data", "scottish_schools", "--out", str(tmp_path / "s.csv"))
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) > 0


# ------------------------------------------------------------------ wording (items 2, 3)
def test_messages_name_flags_not_python_keywords(tmp_path, schools_frame):
    path = tmp_path / "nan.csv"
    frame = schools_frame.copy()
    frame.loc[[3, 10], "attainment"] = float("nan")
    frame.to_csv(path, index=False)
    done = run_cli("estimate", str(path), *ROLES)
    assert_one_line_error(done, 3, "--dropna", "'attainment'")
    assert "dropna=True" not in done.stderr
    duplicated = tmp_path / "dup.csv"
    pd.concat([schools_frame, schools_frame.iloc[[5]]]).to_csv(duplicated, index=False)
    done = run_cli("estimate", str(duplicated), *ROLES)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert "--repeated-cross-section" in done.stderr
    assert "repeated_cross_section=True" not in done.stderr


def test_warnings_name_the_param_option(tmp_path, schools_csv):
    # few clusters: the InferenceWarning's "pass inference='cr1'" is a --param here
    done = run_cli("estimate", str(schools_csv), *ROLES, "--cluster", "local_authority")
    assert done.returncode == 0, done.stderr
    assert "--param inference=cr1" in done.stderr
    assert "inference='cr1'" not in done.stderr


def test_row_references_are_file_lines(tmp_path, schools_frame):
    path = tmp_path / "nan.csv"
    frame = schools_frame.copy()
    frame.loc[[3, 10], "attainment"] = float("nan")  # file lines 5 and 12 (header is 1)
    frame.to_csv(path, index=False)
    done = run_cli("estimate", str(path), *ROLES)
    assert_one_line_error(done, 3)
    assert re.search(r"file lines \[?5, 12\b", done.stderr), done.stderr


def test_validate_warnings_name_the_designs_param_option():
    scenario = Path(__file__).parents[2] / "examples" / "scenarios" / "small_pilot.toml"
    done = run_cli("validate", str(scenario), "--designs", "did", "--reps", "3", "--workers", "1")
    assert done.returncode == 0, done.stderr
    warnings_table = done.stdout.split("warnings:")[1]
    assert "--param did.inference=cr1" in warnings_table
    assert "inference='cr1'" not in warnings_table
    assert "RuntimeWarning" not in done.stdout
