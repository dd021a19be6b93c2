"""The Goodman-Bacon decomposition of the two-way fixed effects DiD estimate.

With staggered adoption, the static regression ``y_it = a_i + l_t + b D_it + e_it``
estimates ``b`` as a weighted average of every two-group, two-period DiD that can be
formed from the timing groups (Goodman-Bacon 2021, Theorem 1):

* each cohort against the never-treated units;
* each earlier cohort against a later one, before the later one adopts
  (``"earlier vs later treated"``: a clean comparison);
* each later cohort against an earlier one, after the earlier one has adopted
  (``"later vs earlier treated"``: the already-treated units are the comparison,
  so changes in their effects bias the estimate).

The weights depend on group sizes and on the variance of treatment within each
pair (cohorts treated near the middle of the panel get the most weight), are
non-negative and sum to one; on a balanced panel the weighted sum of the 2x2
estimates is exactly the TWFE coefficient.

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment
timing. Journal of Econometrics 225(2), 254-277.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impact.exceptions import DesignError, DesignWarning, warn
from impact.inference.regression import within_regression
from impact.terms import plain_period

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from impact.panel.container import Panel

__all__ = ["BaconDecomposition", "bacon_decomposition"]

NEVER = "never treated"
_TYPES = {
    "never": "treated vs never treated",
    "earlier": "earlier vs later treated",
    "later": "later vs earlier treated",
    "always": "later vs always treated",
}


@dataclass(frozen=True)
class BaconDecomposition:
    """The 2x2 comparisons behind a TWFE estimate.

    Attributes
    ----------
    comparisons : pandas.DataFrame
        One row per 2x2 comparison: ``type``, ``treated`` and ``control`` (cohorts or
        ``"never treated"``), ``estimate`` (the 2x2 DiD) and ``weight``.
    twfe : float
        The static TWFE coefficient, ``sum(weight * estimate)``.
    """

    comparisons: pd.DataFrame
    twfe: float

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted average estimate of each type of comparison."""
        c = self.comparisons
        out = (
            c.assign(weighted=c["estimate"] * c["weight"])
            .groupby("type", sort=False)[["weight", "weighted"]]
            .sum()
        )
        out["estimate"] = out["weighted"] / out["weight"]
        return out[["estimate", "weight"]].reset_index()

    def plot(self, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Scatter the 2x2 estimates against their weights; see ``plot_bacon``."""
        from impact.plot_kinds import BACON_PLOT, resolve

        return resolve(BACON_PLOT)(self, ax=ax, **kwargs)


def bacon_decomposition(panel: Panel) -> BaconDecomposition:
    """Decompose the static TWFE DiD estimate into its 2x2 comparisons.

    Parameters
    ----------
    panel : Panel
        A balanced panel with absorbing treatment (weights are ignored: the
        decomposition is of the unweighted regression without covariates).

    Returns
    -------
    BaconDecomposition

    Raises
    ------
    DesignError
        For an unbalanced panel, a repeated cross-section, or no variation in timing.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import impact
    >>> df = pd.DataFrame({"u": np.repeat(np.arange(6), 4), "t": np.tile(np.arange(4), 6)})
    >>> df["g"] = df.u.map({0: 1, 1: 1, 2: 2, 3: 2, 4: 0, 5: 0})
    >>> df["y"] = df.u + df.t + np.where((df.g > 0) & (df.t >= df.g), 1.0 + df.t, 0.0)
    >>> panel = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    >>> out = bacon_decomposition(panel)
    >>> bool(np.isclose((out.comparisons.estimate * out.comparisons.weight).sum(), out.twfe))
    True
    """
    if panel.is_repeated_cross_section or not panel.is_balanced:
        raise DesignError(
            "the Bacon decomposition needs a balanced panel (each unit observed once in "
            "every period); balance the panel first"
        )
    if panel.covariates or panel.weights:
        warn(
            "the Bacon decomposition is of the unweighted TWFE regression without "
            "covariates; the Panel's covariates and weights are ignored",
            DesignWarning,
        )
    frame = panel.view()
    periods = panel.periods.to_numpy()
    n_periods = len(periods)
    n_units = panel.n_units
    y = frame[panel.outcome].to_numpy(dtype=float).reshape(n_units, n_periods)
    d = frame[panel.treated].to_numpy(dtype=float).reshape(n_units, n_periods)
    first = np.where(d.any(axis=1), d.argmax(axis=1), n_periods)
    expected = np.arange(n_periods)[None, :] >= first[:, None]
    if not np.array_equal(expected, d == 1):
        raise DesignError(
            f"treatment in {panel.treated!r} switches off for some units; the Bacon "
            "decomposition needs absorbing treatment"
        )
    groups, inverse, counts = np.unique(first, return_inverse=True, return_counts=True)
    if len(groups) < 2:
        raise DesignError("every unit has the same treatment timing; there is nothing to compare")
    means = np.zeros((len(groups), n_periods))
    np.add.at(means, inverse, y)
    means /= counts[:, None]
    share = counts / n_units
    dbar = (n_periods - groups) / n_periods  # share of periods treated
    resid = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + d.mean()
    var_d = float(np.mean(resid**2))
    if var_d <= 0:
        raise DesignError("treatment does not vary once unit and period effects are removed")

    def did(k: int, c: int, window: tuple[int, int], start: int) -> float:
        pre = slice(window[0], start)
        post = slice(start, window[1])
        gap = means[k] - means[c]
        return float(gap[post].mean() - gap[pre].mean())

    def label(g: int) -> Any:
        if g >= n_periods:
            return NEVER
        return plain_period(periods[g])

    rows = []
    never = np.flatnonzero(groups >= n_periods)
    timing = [k for k in range(len(groups)) if groups[k] < n_periods]
    for k in timing:
        gk = int(groups[k])
        for u in never:
            if gk == 0:
                continue  # always treated vs never treated: no pre-period
            n_ku = share[k] / (share[k] + share[u])
            weight = (share[k] + share[u]) ** 2 * n_ku * (1 - n_ku) * dbar[k] * (1 - dbar[k])
            rows.append((_TYPES["never"], label(gk), NEVER, did(k, u, (0, n_periods), gk), weight))
    for a, k in enumerate(timing):
        for l_ in timing[a + 1 :]:
            gk, gl = int(groups[k]), int(groups[l_])  # gk < gl: k adopts earlier
            n_kl = share[k] / (share[k] + share[l_])
            pair = (share[k] + share[l_]) ** 2 * n_kl * (1 - n_kl)
            if gk > 0:
                weight = (
                    pair
                    * (1 - dbar[l_]) ** 2
                    * (dbar[k] - dbar[l_])
                    / (1 - dbar[l_])
                    * (1 - dbar[k])
                    / (1 - dbar[l_])
                )
                rows.append(
                    (_TYPES["earlier"], label(gk), label(gl), did(k, l_, (0, gl), gk), weight)
                )
            weight = pair * dbar[k] ** 2 * (dbar[l_] / dbar[k]) * (dbar[k] - dbar[l_]) / dbar[k]
            kind = _TYPES["always"] if gk == 0 else _TYPES["later"]
            rows.append((kind, label(gl), label(gk), did(l_, k, (gk, n_periods), gl), weight))
    comparisons = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    comparisons["weight"] = comparisons["weight"] / var_d
    twfe = _twfe(y.ravel(), d.ravel(), n_units, n_periods)
    return BaconDecomposition(comparisons=comparisons, twfe=twfe)


def _twfe(y: np.ndarray, d: np.ndarray, n_units: int, n_periods: int) -> float:
    """The static TWFE coefficient (unit effects absorbed, period dummies)."""
    unit_codes = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(n_periods), n_units)
    dummies = (period[:, None] == np.arange(1, n_periods)[None, :]).astype(float)
    names = ["d", *(f"period[{p}]" for p in range(1, n_periods))]
    fit = within_regression(
        y, np.column_stack([d, dummies]), names, unit_codes=unit_codes, inference="iid"
    )
    return float(fit.params["d"])
