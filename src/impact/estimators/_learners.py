"""Flexible nuisance models: scikit-learn learners, cloned per fit and cross-fitted.

Designs that fit a propensity score or an outcome model accept any scikit-learn
classifier (an object with ``fit`` and ``predict_proba``) or regressor (``fit`` and
``predict``) in place of their built-in logistic or linear model. This module holds
what they share:

- :func:`check_learner` and :func:`check_cross_fit` validate the hyperparameters;
- :func:`learner_seeds` splits an estimator's ``seed`` into the seed of the folds and
  the ``random_state`` given to learners that have none, so the same seed gives the
  same result whatever the backend;
- :func:`cross_fit_folds` assigns units (or whole clusters, when the Panel has them)
  to ``K`` folds, stratified by group so every fold's complement holds treated and
  comparison units;
- :func:`predict_proba` and :func:`predict` fit a fresh clone of the learner on all
  folds but one and predict the held-out fold (``folds=None``: fit and predict on the
  whole sample).

With cross-fitted nuisances a doubly robust score is Neyman-orthogonal, so its
influence function needs no correction for the estimation of the nuisance models
(Chernozhukov et al. 2018; Chang 2020). scikit-learn is imported only when a learner is
fitted; without it the error names the ``ml`` extra.

References
----------
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and
structural parameters. The Econometrics Journal 21(1), C1-C68.
Chang, N.-C. (2020). Double/debiased machine learning for difference-in-differences
models. The Econometrics Journal 23(2), 177-191.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impact._optional import import_optional
from impact._threads import limit_learner_threads
from impact.exceptions import DesignError, EstimationError

__all__ = [
    "check_cross_fit",
    "check_learner",
    "cross_fit_folds",
    "fresh_learner",
    "is_linear_model",
    "learner_name",
    "learner_seeds",
    "predict",
    "predict_proba",
]


def check_learner(name: str, model: Any, kind: str) -> None:
    """Check that ``model`` is None or a scikit-learn-style classifier / regressor.

    Parameters
    ----------
    name : str
        The hyperparameter's name, for the message.
    model : object or None
        The learner.
    kind : {"classifier", "regressor"}
        What it must be: a classifier needs ``predict_proba``, a regressor ``predict``.

    Examples
    --------
    >>> check_learner("outcome_model", None, "regressor")
    >>> check_learner("propensity_model", object(), "classifier")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    impact.exceptions.DesignError: propensity_model=<object object at ...> must be ...
    """
    if model is None:
        return
    needed = ("fit", "predict_proba" if kind == "classifier" else "predict", "get_params")
    missing = [attr for attr in needed if not callable(getattr(model, attr, None))]
    if isinstance(model, type) or missing:
        raise DesignError(
            f"{name}={model!r} must be a scikit-learn {kind} instance (an object with "
            f"{', '.join(needed)}), e.g. "
            + (
                "HistGradientBoostingClassifier()"
                if kind == "classifier"
                else "HistGradientBoostingRegressor()"
            )
            + ", or None for the built-in model"
        )


def check_cross_fit(cross_fit: Any) -> None:
    """Check ``cross_fit``: None (no cross-fitting) or a number of folds of at least 2.

    Examples
    --------
    >>> check_cross_fit(5)
    >>> check_cross_fit(1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    impact.exceptions.DesignError: cross_fit=1 must be None or a whole number of folds >= 2...
    """
    if cross_fit is None:
        return
    if isinstance(cross_fit, bool) or not isinstance(cross_fit, int | np.integer) or cross_fit < 2:
        raise DesignError(
            f"cross_fit={cross_fit!r} must be None or a whole number of folds >= 2 "
            "(e.g. cross_fit=5)"
        )


def learner_name(model: Any) -> str | None:
    """A short description of a learner for ``settings`` (None for the built-in model).

    Examples
    --------
    >>> learner_name(None) is None
    True
    """
    return None if model is None else repr(model)


def is_linear_model(model: Any) -> bool:
    """Whether ``model`` is one of scikit-learn's linear models (a parametric index).

    Examples
    --------
    >>> is_linear_model(object())
    False
    """
    return type(model).__module__.startswith("sklearn.linear_model")


def learner_seeds(seed: int | np.random.Generator | None) -> tuple[int, int]:
    """The seed of the folds and the ``random_state`` of learners, from ``seed``.

    Examples
    --------
    >>> learner_seeds(0) == learner_seeds(0)
    True
    """
    rng = np.random.default_rng(seed)
    fold_seed, learner_seed = rng.integers(0, 2**31 - 1, size=2)
    return int(fold_seed), int(learner_seed)


def cross_fit_folds(
    n_folds: int,
    strata: np.ndarray,
    *,
    clusters: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Assign each unit to one of ``n_folds`` folds, by unit or by cluster.

    Units (or clusters) are shuffled within each stratum and dealt to the folds in
    turn, so every fold holds about ``1/n_folds`` of each stratum. A cluster's stratum
    is that of its first unit; all its units share a fold, so a learner never predicts
    a unit from the other units of its own cluster.

    Parameters
    ----------
    n_folds : int
        Number of folds.
    strata : ndarray of int, shape (n,)
        Group of each unit (e.g. its cohort).
    clusters : ndarray of int, shape (n,), optional
        Cluster code of each unit; None: each unit is its own cluster.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    ndarray of int, shape (n,)
        Fold of each unit, in ``0 .. n_folds - 1``.

    Raises
    ------
    DesignError
        Fewer units (or clusters) than folds.

    Examples
    --------
    >>> import numpy as np
    >>> folds = cross_fit_folds(2, np.array([0, 0, 1, 1]), seed=0)
    >>> sorted(folds[:2].tolist()), sorted(folds[2:].tolist())
    ([0, 1], [0, 1])
    """
    strata = np.asarray(strata)
    n = len(strata)
    if clusters is None:
        groups = np.arange(n)
    else:
        groups = np.unique(np.asarray(clusters), return_inverse=True)[1]
    n_groups = int(groups.max()) + 1 if n else 0
    what = "units" if clusters is None else "clusters"
    if n_groups < n_folds:
        raise DesignError(
            f"cross_fit={n_folds} folds need at least {n_folds} {what}, but there are "
            f"{n_groups}; use fewer folds or cross_fit=None"
        )
    first = np.full(n_groups, -1, dtype=np.int64)
    first[groups[::-1]] = np.arange(n)[::-1]  # the first unit of each group
    group_stratum = np.unique(strata, return_inverse=True)[1][first]
    rng = np.random.default_rng(seed)
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    offset = 0
    for s in np.unique(group_stratum):
        members = rng.permutation(np.flatnonzero(group_stratum == s))
        fold_of_group[members] = (np.arange(len(members)) + offset) % n_folds
        offset += len(members)  # the next stratum continues where this one stopped
    return fold_of_group[groups]


def fresh_learner(model: Any, random_state: int) -> Any:
    """A clone of ``model`` (``sklearn.base.clone``), its unset ``random_state`` filled.

    Every parameter ending in ``random_state`` that is None (nested ones of pipelines
    included) is set to ``random_state``, so a learner that draws random numbers gives
    the same fit for the same estimator seed. Parameters the user set are kept.
    """
    base = import_optional(
        "sklearn.base", extra="ml", purpose="fit a scikit-learn model as a nuisance model"
    )
    fresh = base.clone(model)
    unset = {
        key: random_state
        for key, value in fresh.get_params(deep=True).items()
        if (key == "random_state" or key.endswith("__random_state")) and value is None
    }
    if unset:
        fresh.set_params(**unset)
    return fresh


def _fit(model: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None, name: str) -> Any:
    if w is None or np.all(w == w[0]):
        return model.fit(X, y)
    try:
        return model.fit(X, y, sample_weight=w)
    except TypeError as exc:
        if "sample_weight" not in str(exc):
            raise
        raise DesignError(
            f"{name}={model!r} does not accept sample_weight, but the Panel has sampling "
            "weights; use a learner that does, or build the Panel without weights="
        ) from None


def _positive_column(model: Any) -> int:
    classes = list(getattr(model, "classes_", [0, 1]))
    for k, value in enumerate(classes):
        if value in (1, True):
            return k
    raise EstimationError(f"the fitted classifier {model!r} has no class 1 among {classes}")


def predict_proba(
    model: Any,
    X: np.ndarray,
    d: np.ndarray,
    w: np.ndarray | None,
    folds: np.ndarray | None,
    *,
    random_state: int,
    name: str = "propensity_model",
) -> np.ndarray:
    """Probability of ``d == 1`` for each row: out of fold, or in sample without folds.

    Parameters
    ----------
    model : scikit-learn classifier
        Cloned (:func:`fresh_learner`) for every fold; the object passed is not fitted.
    X : ndarray, shape (m, k)
        Covariates (no intercept column).
    d : ndarray, shape (m,)
        0/1 treatment.
    w : ndarray or None
        Sampling weights (passed as ``sample_weight`` when they vary).
    folds : ndarray of int or None
        Fold of each row; None fits and predicts on every row.
    random_state : int
        Filled into a learner's unset ``random_state``.

    Returns
    -------
    ndarray, shape (m,)

    Raises
    ------
    EstimationError
        When the rows outside a fold hold only treated or only comparison units.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.arange(8.0)[:, None]; d = np.array([0, 1, 0, 0, 1, 1, 0, 1.0])
    >>> p = predict_proba(LogisticRegression(), X, d, None, np.arange(8) % 2, random_state=0)
    >>> p.shape
    (8,)
    """
    d = np.asarray(d).astype(int)
    out = np.empty(len(d))
    with limit_learner_threads():  # the thread budget of a parallel Monte Carlo worker
        _fit_predict_proba(model, X, d, w, folds, out, random_state, name)
    return out


def _fit_predict_proba(model, X, d, w, folds, out, random_state, name) -> None:
    for train, test in _splits(folds, len(d)):
        if d[train].min() == d[train].max():
            raise EstimationError(
                "a cross-fitting fold left only treated or only comparison units to train "
                f"{name} on; use fewer folds (cross_fit) or cross_fit=None"
            )
        fitted = _fit(
            fresh_learner(model, random_state),
            X[train],
            d[train],
            None if w is None else w[train],
            name,
        )
        out[test] = fitted.predict_proba(X[test])[:, _positive_column(fitted)]


def predict(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    train: np.ndarray,
    folds: np.ndarray | None,
    *,
    random_state: int,
    name: str = "outcome_model",
) -> np.ndarray:
    """Predictions for every row from a regression fitted on the ``train`` rows.

    With ``folds`` each row is predicted by the model fitted on the ``train`` rows of
    the other folds; without, by the model fitted on every ``train`` row.

    Parameters
    ----------
    model : scikit-learn regressor
    X : ndarray, shape (m, k)
    y : ndarray, shape (m,)
        Outcome (read on the ``train`` rows only).
    w : ndarray or None
        Sampling weights.
    train : ndarray of bool, shape (m,)
        Rows the model learns from (e.g. the comparison units).
    folds : ndarray of int or None
    random_state : int

    Returns
    -------
    ndarray, shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(6.0)[:, None]; y = 2 * X[:, 0]
    >>> predict(LinearRegression(), X, y, None, np.ones(6, bool), None, random_state=0).round(6)
    array([ 0.,  2.,  4.,  6.,  8., 10.])
    """
    out = np.empty(len(y))
    with limit_learner_threads():  # the thread budget of a parallel Monte Carlo worker
        _fit_predict(model, X, y, w, train, folds, out, random_state, name)
    return out


def _fit_predict(model, X, y, w, train, folds, out, random_state, name) -> None:
    for fold_train, test in _splits(folds, len(y)):
        use = train & fold_train
        if not use.any():
            raise EstimationError(
                f"a cross-fitting fold left no comparison units to train {name} on; use "
                "fewer folds (cross_fit) or cross_fit=None"
            )
        fitted = _fit(
            fresh_learner(model, random_state),
            X[use],
            y[use],
            None if w is None else w[use],
            name,
        )
        out[test] = fitted.predict(X[test])


def _splits(folds: np.ndarray | None, m: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, test)`` row masks: one pair per fold present, or every row for both."""
    if folds is None:
        every = np.ones(m, dtype=bool)
        return [(every, every)]
    return [(folds != f, folds == f) for f in np.unique(folds)]
