import sys
import textwrap

import pytest

import impact
from impact import UnknownEstimatorError, registry


def test_did_is_available():
    assert "did" in impact.available_estimators()
    assert impact.get_estimator("did").__class__ is impact.DifferenceInDifferences


def test_unknown_estimator_lists_available_names():
    with pytest.raises(UnknownEstimatorError, match=r"no estimator named 'nope'.*did"):
        impact.get_estimator("nope")
    with pytest.raises(KeyError):
        impact.estimate(None, method="nope")


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="inference='robust'"):
        impact.get_estimator("did", inference="robust")
    # an unknown keyword is a DesignError naming the closest hyperparameter (was a bare
    # TypeError from the dataclass constructor)
    with pytest.raises(impact.DesignError, match="did you mean 'inference'"):
        impact.get_estimator("did", inferense="hc1")


def test_register_rejects_a_name_clash():
    class Other:
        def fit(self, panel):
            return None

    with pytest.raises(impact.ImpactError, match="already registered"):
        impact.register("did")(Other)


def test_entry_point_plugin_is_discovered(tmp_path, monkeypatch, did_frame):
    """A tiny distribution with an ``impact.estimators`` entry point, made on the fly."""
    package = tmp_path / "impact_plugin_demo.py"
    package.write_text(
        textwrap.dedent(
            """
        from dataclasses import dataclass
        import pandas as pd
        from impact import ImpactResult

        @dataclass(frozen=True, kw_only=True)
        class MeanGap:
            def fit(self, panel):
                frame = panel.frame
                gap = frame.loc[frame[panel.treated] == 1, panel.outcome].mean()
                effects = pd.DataFrame({"term": ["att"], "estimate": [gap],
                                        "std_error": [float("nan")], "ci_lower": [float("nan")],
                                        "ci_upper": [float("nan")], "p_value": [float("nan")]})
                return ImpactResult(estimator=self.name, effects=effects,
                                    n_obs=panel.n_obs, n_units=panel.n_units)
        """
        )
    )
    dist = tmp_path / "impact_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: impact-plugin-demo\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        "[impact.estimators]\nmean_gap = impact_plugin_demo:MeanGap\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._reload_plugins()
    try:
        assert "mean_gap" in impact.available_estimators()
        panel = impact.Panel.from_frame(
            did_frame, unit="unit", time="time", outcome="y", treated="d"
        )
        result = impact.estimate(panel, method="mean_gap")
        assert result.estimator == "mean_gap"
        assert result.att.estimate == pytest.approx(did_frame.loc[did_frame["d"] == 1, "y"].mean())
    finally:
        registry._REGISTRY.pop("mean_gap", None)
        sys.modules.pop("impact_plugin_demo", None)
        registry._reload_plugins()
