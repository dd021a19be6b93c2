import pandas as pd
import pytest

from impact import DesignError, ImpactResult, compare
from impact.result import EFFECT_COLUMNS, Summary


def effects(estimate=1.5):
    return pd.DataFrame(
        {
            "term": ["att", "2002"],
            "estimate": [estimate, 0.5],
            "std_error": [0.5, 0.2],
            "ci_lower": [0.52, 0.1],
            "ci_upper": [2.48, 0.9],
            "p_value": [0.003, 0.01],
            "extra": ["a", "b"],
        }
    )


def make(estimate=1.5, **kwargs):
    return ImpactResult(estimator="did", effects=effects(estimate), n_obs=10, n_units=5, **kwargs)


def test_effects_schema_is_enforced():
    bad = effects().rename(columns={"std_error": "se"})
    with pytest.raises(ValueError, match="must start with the columns"):
        ImpactResult(estimator="did", effects=bad, n_obs=1, n_units=1)
    with pytest.raises(ValueError, match="paths must start"):
        ImpactResult(
            estimator="did", effects=effects(), n_obs=1, n_units=1, paths=pd.DataFrame({"t": [1]})
        )


def test_att_and_effect_lookup():
    result = make()
    assert result.att.estimate == 1.5
    assert result.att.p_value == 0.003
    assert result.effect("2002").std_error == 0.2
    with pytest.raises(DesignError, match="no term 'nope'"):
        result.effect("nope")
    assert "att: 1.5" in repr(result)


def test_result_is_immutable_and_tables_are_copies():
    frame = effects()
    result = ImpactResult(
        estimator="did",
        effects=frame,
        n_obs=10,
        n_units=5,
        settings={"a": 1},
        diagnostics={"d": frame},
    )
    frame.loc[0, "estimate"] = 99.0
    assert result.att.estimate == 1.5
    table = result.effects
    table.loc[0, "estimate"] = 42.0
    assert result.att.estimate == 1.5
    with pytest.raises(AttributeError):
        result.estimator = "other"
    with pytest.raises(TypeError):
        result.settings["a"] = 2
    with pytest.raises(TypeError):
        result.diagnostics["e"] = frame


def test_to_frame_has_canonical_columns_first():
    assert tuple(make().to_frame().columns[:6]) == EFFECT_COLUMNS


def test_summary_text_and_html_never_print(capsys):
    summary = make(settings={"inference": "cr1"}).summary()
    assert isinstance(summary, Summary)
    assert capsys.readouterr().out == ""
    text = str(summary)
    assert "Impact estimate: did" in text and "att" in text and "inference" in text
    html = summary._repr_html_()
    assert "<table" in html and "<h3>Impact estimate: did</h3>" in html


def test_compare_stacks_results():
    table = compare([make(1.0), make(2.0)])
    assert list(table.columns[:2]) == ["estimator", "term"]
    assert table["estimate"].tolist() == [1.0, 0.5, 2.0, 0.5]
    labelled = compare({"a": make(1.0), "b": make(2.0)})
    assert labelled["estimator"].tolist() == ["a", "a", "b", "b"]
    assert list(compare([]).columns) == ["estimator", *EFFECT_COLUMNS]


def test_result_from_parts_builds_the_same_tables_on_first_access():
    """Estimators' trusted constructor: lazy tables equal those of the public one."""
    paths = pd.DataFrame(
        {"time": [1, 2], "observed": [1.0, 2.0], "counterfactual": [1.0, 1.5], "effect": [0, 0.5]}
    )
    eager = make(paths=paths, diagnostics={"d": effects()}, settings={"a": 1})
    calls = []

    def build_paths():
        calls.append("paths")
        return paths.copy()

    lazy = ImpactResult._from_parts(
        estimator="did",
        effects={c: effects()[c].tolist() for c in effects().columns},
        settings={"a": 1},
        paths=build_paths,
        diagnostics={"d": effects},
        n_obs=10,
        n_units=5,
    )
    assert lazy.att == eager.att and lazy.effect("2002") == eager.effect("2002")
    terms, stats = lazy._estimates()
    assert terms == ["att", "2002"]
    assert stats.tolist() == eager.effects[list(EFFECT_COLUMNS[1:])].to_numpy().tolist()
    assert calls == []  # nothing built yet
    pd.testing.assert_frame_equal(lazy.effects, eager.effects)
    pd.testing.assert_frame_equal(lazy.paths, eager.paths)
    pd.testing.assert_frame_equal(lazy.diagnostics["d"], eager.diagnostics["d"])
    assert lazy._estimates()[1].tolist() == stats.tolist()
    assert calls == ["paths"]
    table = lazy.paths
    table.loc[0, "observed"] = 99.0  # copies, as for the public constructor
    assert lazy.paths.loc[0, "observed"] == 1.0 and calls == ["paths"]
    with pytest.raises(DesignError, match="no term 'nope'"):
        lazy.effect("nope")
    with pytest.raises(TypeError):
        lazy.diagnostics["e"] = paths
    with pytest.raises(ValueError, match="must start with the columns"):
        ImpactResult._from_parts(
            estimator="did",
            effects={"term": ["att"], "estimate": [1.0]},
            settings={},
            paths=None,
            diagnostics={},
            n_obs=1,
            n_units=1,
        )
