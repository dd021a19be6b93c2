"""Matched designs honour the Panel's clusters (matched sets within or across them).

Reference variances are statsmodels' ``WLS(...).fit(cov_type="cluster")`` (one-way CR1
with its small-sample correction; two-way when given two columns of groups, Cameron,
Gelbach and Miller 2011), computed in each test on the matched sample.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import impact
from impact.exceptions import DesignError, InferenceWarning


def pupils(seed: int = 1, periods: int = 1) -> pd.DataFrame:
    """40 pupils in 5 schools sharing a school shock; 12 treated, spread over schools."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(5), 8)
    treated = np.zeros(40, dtype=int)
    treated[rng.choice(40, 12, replace=False)] = 1
    x = rng.normal(size=40)
    shock = rng.normal(0, 2.0, 5)[school]
    frames = []
    for t in range(periods):
        y = x + shock + rng.normal(0, 0.3, 40) + 0.2 * t
        last = t == periods - 1
        frames.append(
            pd.DataFrame(
                {
                    "pupil": np.arange(40),
                    "year": 2020 + t,
                    "y": y,
                    "d": treated * last if periods > 1 else treated,
                    "x": x,
                    "school": school,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def panel(frame: pd.DataFrame, covariates=("x",), cluster: str | None = "school"):
    return impact.Panel.from_frame(
        frame,
        unit="pupil",
        time="year",
        outcome="y",
        treated="d",
        covariates=list(covariates),
        cluster=cluster,
    )


def matched_sample(result, frame: pd.DataFrame) -> pd.DataFrame:
    matches = result.diagnostics["matches"]
    sample = matches.loc[matches["weight"] > 0, ["unit", "treated", "weight", "subclass"]]
    first = frame.drop_duplicates("pupil").set_index("pupil")
    return sample.join(first[["y", "school"]], on="unit")


def cluster_se(sample: pd.DataFrame, groups: np.ndarray) -> float:
    X = sm.add_constant(sample["treated"].astype(float).to_numpy())
    fit = sm.WLS(sample["y"].to_numpy(), X, weights=sample["weight"].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}
    )
    return float(np.sqrt(fit.cov_params()[1, 1]))


# ---------------------------------------------------------------- the reproducer
def test_forty_pupils_in_five_schools_are_not_twelve_independent_matched_sets() -> None:
    # issue: CR1 over the 12 matched sets, p = 0.037, no warning; the schools' shared
    # shocks make pupils of one school dependent across matched sets
    frame = pupils()
    with pytest.warns(InferenceWarning, match="only 5 clusters"):
        result = impact.MatchedComparison(adjustment="none").fit(panel(frame))
    assert result.n_clusters == 5
    assert "'school'" in result.settings["inference_clusters"]
    assert result.settings["n_inference_clusters"] == 5
    # the sets cross the schools: two-way by matched set and school, t with 4 df
    sample = matched_sample(result, frame)
    sets, schools = sample["subclass"].to_numpy(), sample["school"].to_numpy()
    assert len(np.unique(sets)) == 12
    two_way = cluster_se(sample, np.column_stack([sets, schools]))
    by_set, by_school = cluster_se(sample, sets), cluster_se(sample, schools)
    assert result.att.std_error == pytest.approx(max(two_way, by_set, by_school), rel=1e-9)
    att = result.effects.iloc[0]
    width = att["ci_upper"] - att["ci_lower"]
    from scipy import stats

    assert width == pytest.approx(2 * stats.t.ppf(0.975, 4) * att["std_error"], rel=1e-9)


def test_matched_sets_within_schools_are_clustered_by_school() -> None:
    frame = pupils()
    within = panel(frame, covariates=("x", "school"))
    with pytest.warns(InferenceWarning, match="only 5 clusters"):
        result = impact.MatchedComparison(distance="x", exact=("school",), adjustment="none").fit(
            within
        )
    sample = matched_sample(result, frame)
    assert result.n_clusters == 5
    assert "holding the" in result.settings["inference_clusters"]
    assert result.att.std_error == pytest.approx(
        cluster_se(sample, sample["school"].to_numpy()), rel=1e-9
    )


def test_without_clusters_the_matched_sets_are_the_clusters_as_before() -> None:
    frame = pupils()
    for cluster in (None, "pupil"):  # clusters of single units change nothing
        with warnings.catch_warnings():
            warnings.simplefilter("error", InferenceWarning)
            result = impact.MatchedComparison(adjustment="none").fit(panel(frame, cluster=cluster))
        sample = matched_sample(result, frame)
        assert result.n_clusters == 12
        assert result.settings["inference_clusters"] == "matched sets (12)"
        assert result.settings["inference"] == "CR1 clustered by matched set"
        assert result.att.std_error == pytest.approx(
            cluster_se(sample, sample["subclass"].to_numpy()), rel=1e-9
        )


def test_matching_with_replacement_says_it_ignores_the_clusters() -> None:
    with pytest.warns(InferenceWarning, match="Abadie-Imbens.*'school'.*replace=False"):
        result = impact.MatchedComparison(replace=True).fit(panel(pupils()))
    assert result.settings["inference_clusters"].startswith("none")


def test_weighting_clusters_its_sandwich_on_the_schools() -> None:
    frame = pupils()
    plain = impact.MatchedComparison(method="weighting", adjustment="none").fit(
        panel(frame, cluster=None)
    )
    with pytest.warns(InferenceWarning, match="only 5 clusters"):
        clustered = impact.MatchedComparison(method="weighting", adjustment="none").fit(
            panel(frame)
        )
    assert clustered.att.estimate == pytest.approx(plain.att.estimate, rel=1e-12)
    assert clustered.n_clusters == 5
    assert clustered.settings["inference"] == "sandwich (M-estimation), clustered"
    assert clustered.att.std_error != pytest.approx(plain.att.std_error, rel=1e-3)


def test_one_school_holding_every_matched_unit_is_a_design_error() -> None:
    frame = pupils()
    frame["one"] = 0
    with pytest.raises(DesignError, match="one cluster of 'one'"):
        impact.MatchedComparison().fit(panel(frame, cluster="one"))


def test_a_single_matched_set_without_panel_clusters_says_so() -> None:
    # one treated unit matched 1:1 on a Panel built without cluster=: the refusal once
    # spoke of "one cluster of None" and advised building the Panel without cluster=
    frame = pd.DataFrame(
        dict(u=[1, 1, 2, 2], t=[1, 2, 1, 2], y=[1.0, 3.0, 2.0, 2.5], d=[0, 1, 0, 0])
    )
    p = impact.Panel.from_frame(frame, unit="u", time="t", outcome="y", treated="d")
    with pytest.raises(DesignError, match="single matched set") as caught:
        impact.MatchedDiD().fit(p)
    message = str(caught.value)
    assert "None" not in message and "cluster=" not in message
    assert "Add treated units" in message


def test_exact_matching_into_one_stratum_is_a_single_matched_set() -> None:
    frame = pd.DataFrame(
        dict(
            u=range(8),
            t=2020,
            b=["a"] * 6 + ["b"] * 2,
            y=[1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            d=[1, 1, 0, 0, 0, 0, 0, 0],
        )
    )
    p = impact.Panel.from_frame(
        frame, unit="u", time="t", outcome="y", treated="d", covariates=["b"]
    )
    with pytest.raises(DesignError, match=r"single matched set \(6 units\)") as caught:
        impact.MatchedComparison(method="exact").fit(p)
    assert "method='nearest'" in str(caught.value)


# ---------------------------------------------------------------- matched DiD
def test_matched_did_two_way_clusters_across_schools() -> None:
    frame = pupils(periods=4)
    with pytest.warns(InferenceWarning, match="two-way"):
        result = impact.MatchedDiD(adjustment="none").fit(panel(frame, covariates=()))
    assert result.settings["inference_used"] == "cr1 two-way"
    assert result.settings["inference_clusters"].startswith("two-way")
    assert result.n_clusters == 5
    assert result.settings["df_inference"] == 4


def test_matched_did_within_schools_uses_the_wild_bootstrap_over_schools() -> None:
    frame = pupils(periods=4)
    with pytest.warns(InferenceWarning, match="only 5 clusters of 'school'"):
        result = impact.MatchedDiD(exact=("school",), adjustment="none").fit(
            panel(frame, covariates=("school",))
        )
    assert result.settings["inference_used"] == "wild"
    assert result.n_clusters == 5
    assert "holding the" in result.settings["inference_clusters"]


def test_matched_did_one_way_request_merges_sets_and_clusters_or_refuses() -> None:
    frame = pupils(periods=4)
    with pytest.raises(DesignError, match=r"single cluster.*inference='auto'"):
        impact.MatchedDiD(inference="cr1").fit(panel(frame, covariates=()))
    # matched within two regions of schools: the sets cross schools, not regions
    frame["region"] = (frame["school"] >= 2).astype(int)
    result = impact.MatchedDiD(inference="cr1", exact=("region",)).fit(
        panel(frame, covariates=("region",))
    )
    # connected components of matched sets and schools, by union-find
    sample = matched_sample(result, frame)
    parent: dict[object, object] = {}

    def root(node):
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for matched_set, school in zip(sample["subclass"], sample["school"], strict=True):
        parent[root(("set", matched_set))] = root(("school", school))
    n_merged = len({root(("school", school)) for school in sample["school"]})
    assert 2 <= n_merged < sample["school"].nunique()
    assert result.settings["inference_clusters"] == (
        f"matched sets merged with the clusters of 'school' ({n_merged})"
    )
    assert result.n_clusters == n_merged


def test_matched_did_without_clusters_is_unchanged() -> None:
    frame = pupils(periods=4)
    plain = impact.MatchedDiD().fit(panel(frame, covariates=(), cluster=None))
    by_pupil = impact.MatchedDiD().fit(panel(frame, covariates=(), cluster="pupil"))
    pd.testing.assert_frame_equal(plain.effects, by_pupil.effects)
    assert plain.settings["inference_clusters"] == "matched sets (12)"
    assert plain.n_clusters == 12


def test_scottish_schools_in_local_authorities_are_two_way_clustered() -> None:
    from impact.datasets import load_scottish_schools

    schools = load_scottish_schools()
    clustered = impact.Panel.from_frame(
        schools,
        unit="school",
        time="year",
        outcome="attainment",
        treated="pilot",
        cluster="local_authority",
    )
    result = impact.MatchedDiD().fit(clustered)
    n_authorities = schools["local_authority"].nunique()
    assert result.settings["inference_used"] == "cr1 two-way"
    assert result.n_clusters == min(n_authorities, result.settings["n_matched_sets"])
    assert np.isfinite(result.att.std_error)


def test_clustered_ipw_sandwich_with_singleton_clusters_is_the_plain_one_corrected() -> None:
    # summing estimating functions within clusters of one unit changes nothing but the
    # G / (G - 1) small-sample factor
    from impact.estimators.matching.propensity import fit_propensity
    from impact.estimators.matching.variance import ipw_att

    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 2))
    d = rng.random(200) < 1.0 / (1.0 + np.exp(-x[:, 0]))
    y = x @ np.array([1.0, 0.5]) + d + rng.normal(size=200)
    fit = fit_propensity(x, d, ["a", "b"])
    plain = ipw_att(y, d, fit.design, fit.linear_predictor)
    single = ipw_att(y, d, fit.design, fit.linear_predictor, clusters=np.arange(200))
    assert single.estimate == plain.estimate
    assert single.std_error**2 == pytest.approx(plain.std_error**2 * 200 / 199, rel=1e-10)
    assert single.df == 199
