"""The bundled Basque data are the frozen reference file, with their licence note."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from impact.datasets import DATASETS, load_basque

ROOT = Path(__file__).resolve().parents[1]


def test_basque_is_the_reference_file_and_is_listed():
    bundled = load_basque()
    frozen = pd.read_csv(ROOT / "tests" / "reference" / "synthetic" / "basque.csv")
    pd.testing.assert_frame_equal(bundled, frozen, check_dtype=False)
    assert DATASETS["basque"] is load_basque
    readme = (ROOT / "src" / "impact" / "datasets" / "data" / "README.md").read_text()
    assert "## basque.csv" in readme and "GNU General Public License" in readme
