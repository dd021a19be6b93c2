"""Warnings of numpy, pandas and statsmodels about the user's data come as the
package's own classes, and their failures as the package's errors.

The panels are awkward on purpose (few units, gaps, constant or integer outcomes,
extreme scales); each once leaked a RuntimeWarning, a statsmodels
SingularMatrixWarning or a numpy LinAlgError out of an estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact._foreign_warnings import in_own_words
from impact.exceptions import ImpactError, ImpactWarning, InferenceWarning


def awkward_panel(seed: int, index: int) -> tuple[impact.Panel, str]:
    """The ``index``-th panel of a seeded stream of awkward designs (and its kind)."""
    rng = np.random.default_rng(seed)
    for _ in range(index + 1):
        n_units = int(rng.choice([3, 4, 6, 12, 30]))
        n_periods = int(rng.choice([2, 3, 5, 8]))
        staggered = rng.random() < 0.5
        cohorts = []
        for u in range(n_units):
            if staggered:
                cohorts.append(int(rng.choice([0, *range(1, n_periods)])))
            else:
                cohorts.append(n_periods // 2 if u < max(1, n_units // 3) else 0)
        if all(c == 0 for c in cohorts):
            cohorts[0] = n_periods - 1
        if all(c > 0 for c in cohorts) and rng.random() < 0.7:
            cohorts[-1] = 0
        scale = float(rng.choice([1e-8, 1, 1e8, 1e40]))
        kind = str(rng.choice(["noise", "const", "noisefree", "int", "const-ctrl"]))
        rows = []
        for u in range(n_units):
            for t in range(n_periods):
                if rng.random() < 0.1 and n_periods > 2:
                    continue
                d = int(cohorts[u] > 0 and t >= cohorts[u])
                y = {
                    "noise": u + t + d + rng.normal(),
                    "const": 1.0,
                    "noisefree": u + t + 2 * d,
                    "int": float(rng.integers(0, 3)),
                    "const-ctrl": (u + t + d + rng.normal()) if cohorts[u] else 5.0,
                }[kind]
                x, b = rng.normal(), float(rng.integers(0, 2))
                rows.append((u, t, y * scale, d, x, b, u % 3, rng.uniform(0.5, 2)))
        option = int(rng.choice(4))
    frame = pd.DataFrame(rows, columns=["u", "t", "y", "d", "x", "b", "cl", "w"])
    roles = [{}, {"covariates": ["x"]}, {"covariates": ["b"], "weights": "w"}, {"cluster": "cl"}]
    panel = impact.Panel.from_frame(
        frame, unit="u", time="t", outcome="y", treated="d", **roles[option]
    )
    return panel, kind


CASES = [
    (0, 34, "event_study"),  # negative rounding variance: sqrt of it
    (1, 33, "matched_did"),  # collinear regression on the matched sample
    (1, 40, "event_study"),
    (1, 54, "its"),  # SVD did not converge
    (1, 73, "matched_did"),  # overflow in exp
    (1, 123, "did"),
    (1, 141, "its"),  # sqrt in the pooled fit
    (1, 146, "matching"),
    (2, 90, "its"),  # sqrt in the coefficient table
]


@pytest.mark.parametrize(("seed", "index", "method"), CASES)
def test_only_the_packages_warnings_and_errors_come_out(seed, index, method):
    panel, _ = awkward_panel(seed, index)
    result = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = impact.estimate(panel, method=method)
        except ImpactError:
            pass
    foreign = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, ImpactWarning)
    ]
    assert foreign == []
    if result is not None and result.effects["std_error"].isna().any():
        assert any(issubclass(w.category, ImpactWarning) for w in caught)


def test_in_own_words_rewords_foreign_warnings_and_passes_the_packages_through():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with in_own_words(InferenceWarning, "the fit", "try more data"):
            np.log(np.array([-1.0]))
            np.log(np.array([-2.0]))  # the same message once
            warnings.warn("ours", InferenceWarning, stacklevel=1)
    assert [w.category for w in caught] == [InferenceWarning, InferenceWarning]
    assert sorted(str(w.message) for w in caught) == [
        "ours",
        "the fit: invalid value encountered in log (RuntimeWarning); try more data",
    ]
