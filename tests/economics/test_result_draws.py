"""The optional ``draws`` slot of ImpactResult (added for the economic appraisal)."""

import numpy as np
import pandas as pd
import pytest

from impact import ImpactResult


def effects():
    return pd.DataFrame(
        {
            "term": ["att"],
            "estimate": [1.0],
            "std_error": [0.1],
            "ci_lower": [0.8],
            "ci_upper": [1.2],
            "p_value": [0.0],
        }
    )


def test_draws_default_to_empty_and_old_calls_still_work():
    result = ImpactResult(estimator="x", effects=effects(), n_obs=2, n_units=2)
    assert dict(result.draws) == {}


def test_draws_are_copied_and_read_only():
    source = np.array([0.9, 1.0, 1.1])
    result = ImpactResult(
        estimator="x", effects=effects(), n_obs=2, n_units=2, draws={"att": source}
    )
    source[0] = 99.0
    assert result.draws["att"].tolist() == [0.9, 1.0, 1.1]
    with pytest.raises(ValueError, match="read-only"):
        result.draws["att"][0] = 5.0
    with pytest.raises(TypeError):
        result.draws["att2"] = np.zeros(2)
    with pytest.raises(AttributeError):
        result.draws = {}
