"""The propensity score from a scikit-learn classifier, cross-fitted.

:class:`~impact.estimators.matching.MatchedComparison` and
:class:`~impact.estimators.matching.MatchedDiD` take ``propensity_model=`` (any object
with ``fit`` and ``predict_proba``) in place of the built-in logit. With
``cross_fit=K`` each unit's score comes from a clone of the model trained on the
other folds (units, or whole clusters of the Panel, dealt to folds by the estimator's
``seed``, stratified by treatment), so a flexible learner cannot match a unit on its
own overfitted score. The scores then serve exactly as the logit's do: nearest
neighbours on the score or its logit, inverse-odds weights, and the ``common_support``
trimming. A learned score has no parametric design, so weighting's standard errors
treat the weights as known (the weighted regression's clustered or HC1 errors)
instead of stacking the logit's score equations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impact.estimators._learners import cross_fit_folds, learner_seeds, predict_proba
from impact.estimators.matching._data import UnitData
from impact.estimators.matching.propensity import PropensityFit
from impact.exceptions import DesignError

__all__ = ["learned_propensity"]

_EDGE = 1e-12  # learned probabilities are kept this far from 0 and 1 (finite logits)


def learned_propensity(
    model: Any,
    data: UnitData,
    *,
    cross_fit: int | None,
    seed: Any,
    clusters: np.ndarray | None = None,
) -> PropensityFit:
    """Fit ``model`` to the treatment on the matching covariates; the scores per unit.

    Parameters
    ----------
    model : scikit-learn classifier
    data : UnitData
    cross_fit : int or None
        Folds (None: fit and predict on every unit).
    seed : int, Generator or None
        The estimator's seed (folds, and the model's unset ``random_state``).
    clusters : ndarray of int, optional
        The Panel's cluster of each unit: folds then hold whole clusters.

    Returns
    -------
    PropensityFit
        ``probability`` and ``linear_predictor`` from the model; ``params`` empty and
        ``design`` None (no parametric model behind them).
    """
    treated = data.treated
    X = data.model_array
    if X.shape[1] == 0:
        raise DesignError("propensity_model needs covariates to learn from; the Panel has none")
    fold_seed, random_state = learner_seeds(seed)
    folds = None
    if cross_fit is not None:
        folds = cross_fit_folds(int(cross_fit), treated, clusters=clusters, seed=fold_seed)
    p = predict_proba(
        model,
        X,
        treated.astype(int),
        data.sampling_weights,
        folds,
        random_state=random_state,
    )
    p = np.clip(p, _EDGE, 1.0 - _EDGE)
    return PropensityFit(
        probability=p,
        linear_predictor=np.log(p) - np.log1p(-p),
        params=np.empty(0),
        design=None,  # type: ignore[arg-type]
    )
