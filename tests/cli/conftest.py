from __future__ import annotations

import pytest
from click.testing import CliRunner

from impact.datasets import load_scottish_schools


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def schools_frame():
    return load_scottish_schools(seed=11)


@pytest.fixture
def schools_csv(tmp_path, schools_frame):
    path = tmp_path / "schools.csv"
    schools_frame.to_csv(path, index=False)
    return path


ROLES = ["--unit", "school", "--time", "year", "--outcome", "attainment", "--treated", "pilot"]
