"""``import impact`` stays fast: the slow libraries are imported on first use.

Every fresh process pays for what ``import impact`` imports (the command line, a
notebook, each worker of the process backend of the Monte Carlo runner); scipy.stats
alone took about half a second, statsmodels as much again.
"""

import json
import subprocess
import sys

import pytest

DEFERRED = (
    "linearmodels",
    "matplotlib",
    "scipy.optimize",
    "scipy.sparse.csgraph",
    "scipy.stats",
    "statsmodels",
)


@pytest.fixture(scope="module")
def loaded_by_import() -> set[str]:
    code = "import json, sys, impact; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", DEFERRED)
def test_import_impact_does_not_import(loaded_by_import, module):
    assert "impact" in loaded_by_import
    assert module not in loaded_by_import, f"`import impact` imports {module}"
