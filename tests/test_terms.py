"""The simulator's truth and the estimators' results spell their terms the same way."""

import warnings

import impact
from impact.simulations import Scenario, simulate


def test_staggered_and_event_study_terms_merge_with_the_truth():
    sim = simulate(Scenario.staggered_rollout(n_units=120), seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", impact.ImpactWarning)
        staggered = impact.StaggeredDiD().fit(sim.panel)
        study = impact.EventStudy().fit(sim.panel)
    truth = set(sim.truth["term"])
    cells = set(staggered.effects["term"]) - {"att"}
    assert cells and cells <= truth
    for kind in ("dynamic", "group", "calendar"):
        terms = set(staggered.aggregate(kind).effects["term"]) - {"att"}
        assert terms and terms <= truth, kind
    leads_lags = set(study.effects["term"]) - {"att"}
    assert len(leads_lags & truth) >= len(leads_lags) - 1  # binned endpoints may not merge
