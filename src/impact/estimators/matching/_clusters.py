"""Clusters for inference on a matched sample: matched sets and the Panel's clusters.

After matching without replacement (and exact or coarsened exact matching), the units
of a matched set are dependent: Abadie and Spiess (2022, "Robust post-matching
inference", *JASA* 117:983) show that the regression on the matched sample needs
standard errors clustered by matched set. When the Panel also has clusters (pupils in
schools, schools in local authorities), outcomes are dependent within them too. The
standard errors allow for both:

- no Panel cluster: clustered by matched set, as Abadie and Spiess recommend;
- every matched set within one Panel cluster (matching within schools, or with
  ``exact=`` on the cluster): clustered by the Panel's clusters, the coarser level,
  which holds the matched sets; the few-clusters rules count these clusters;
- matched sets that cross the Panel's clusters (a treated school matched to a school of
  another authority): two-way clustered by matched set and by Panel cluster (Cameron,
  Gelbach and Miller 2011, ``V = V_sets + V_clusters - V_both``, each CR1, t with
  ``min(G_sets, G_clusters) - 1`` degrees of freedom, and never below either one-way
  variance: with few clusters the difference is noisy). Merging crossing sets and
  clusters into one-way clusters would also be valid, but it chains them: on the
  bundled Scottish schools panel the 60 matched pairs link all 32 authorities into a
  single cluster and leave no standard error at all. A requested one-way method
  (``inference="wild"``, ``"cr2"``...) of MatchedDiD uses these merged clusters, and
  refuses when they are fewer than two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from impact.exceptions import DesignError

if TYPE_CHECKING:
    from impact.panel.container import Panel

__all__ = ["Clustering", "merge_clusters", "plan_clusters", "require_two", "unit_clusters"]


def unit_clusters(panel: Panel, units: pd.Index) -> np.ndarray | None:
    """The Panel's cluster of each of ``units`` as integer codes.

    None without a cluster column, or when each unit is its own cluster (the same as
    none). A unit whose rows lie in several clusters (a pupil who moved school) joins
    them into one.

    Examples
    --------
    >>> import pandas as pd, impact
    >>> df = pd.DataFrame({"u": [1, 2, 3, 4], "t": 2020, "y": [1.0, 2.0, 3.0, 4.0],
    ...                    "d": [1, 0, 1, 0], "school": ["a", "a", "b", "b"]})
    >>> p = impact.Panel.from_frame(df, unit="u", time="t", outcome="y", treated="d",
    ...                             cluster="school")
    >>> unit_clusters(p, pd.Index([1, 2, 3, 4])).tolist()
    [0, 0, 1, 1]
    """
    if panel.cluster is None:
        return None
    frame = panel.view()  # read only
    if panel.cluster == panel.unit:
        return None
    pairs = pd.DataFrame(
        {"unit": frame[panel.unit].to_numpy(), "cluster": frame[panel.cluster].to_numpy()}
    ).drop_duplicates()
    unit_pos = pd.Index(units).get_indexer(pairs["unit"])
    found = unit_pos >= 0
    cluster_codes = pd.factorize(pairs["cluster"], sort=True)[0]
    codes, n_codes = _components(unit_pos[found], cluster_codes[found], len(units))
    return None if n_codes == len(units) else codes


def merge_clusters(sets: np.ndarray, clusters: np.ndarray | None) -> tuple[np.ndarray, int]:
    """One-way clusters for the matched units: their matched sets merged through ``clusters``.

    The coarsest partition in which every matched set and every cluster lies within
    one cluster (connected components).

    Parameters
    ----------
    sets : ndarray of int
        Matched set of each matched unit.
    clusters : ndarray of int or None
        The Panel's cluster of each matched unit (None: the matched sets alone).

    Returns
    -------
    codes, n_clusters
        Cluster code (0 to ``n_clusters - 1``) of each unit.

    Examples
    --------
    >>> import numpy as np
    >>> codes, n = merge_clusters(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 2]))
    >>> codes.tolist(), n
    ([0, 0, 0, 0, 1, 1], 2)
    """
    sets = np.unique(np.asarray(sets), return_inverse=True)[1]
    if clusters is None:
        return sets, int(sets.max()) + 1 if len(sets) else 0
    return _components(sets, np.asarray(clusters), None)


def _components(left: np.ndarray, right: np.ndarray, n_left: int | None) -> tuple[np.ndarray, int]:
    """Connected components of the bipartite graph with edges ``left[i] - right[i]``.

    Returns each left node's component (renumbered from 0 in order of appearance)
    and the number of components met by the left nodes.
    """
    from scipy import sparse  # on first use (slow import of the graph routines)
    from scipy.sparse.csgraph import connected_components

    left = np.asarray(left, dtype=np.int64)
    right = np.unique(np.asarray(right), return_inverse=True)[1].astype(np.int64)
    n_l = int(left.max()) + 1 if n_left is None else n_left
    n_r = int(right.max()) + 1 if len(right) else 0
    graph = sparse.coo_matrix(
        (np.ones(len(left)), (left, n_l + right)), shape=(n_l + n_r, n_l + n_r)
    )
    _, component = connected_components(graph, directed=False)
    codes = np.unique(component[:n_l], return_inverse=True)[1]
    if n_left is None:  # per edge (one edge per matched unit)
        codes = codes[left]
    return codes, int(codes.max()) + 1 if len(codes) else 0


@dataclass(frozen=True)
class Clustering:
    """The clusters of a matched-sample regression, per matched unit.

    Attributes
    ----------
    first : ndarray of int
        One-way clusters (matched sets, or the Panel's clusters that hold them).
    second : ndarray of int or None
        The Panel's clusters, for two-way clustering with ``first`` the matched sets.
    n_clusters : int
        Clusters that inference counts (the smaller dimension when two-way).
    label : str
        What was clustered on, for ``settings["inference_clusters"]``.
    """

    first: np.ndarray
    second: np.ndarray | None
    n_clusters: int
    label: str

    @property
    def two_way(self) -> bool:
        """Whether the clustering is two-way."""
        return self.second is not None

    @property
    def by_matched_sets(self) -> bool:
        """Whether the clusters are the matched sets alone (no Panel clusters used)."""
        return self.second is None and self.label.startswith("matched sets (")


def plan_clusters(
    sets: np.ndarray, clusters: np.ndarray | None, cluster_name: str | None
) -> Clustering:
    """The clustering for matched units in ``sets`` and the Panel's ``clusters``.

    Examples
    --------
    >>> import numpy as np
    >>> plan_clusters(np.array([0, 0, 1, 1]), np.array([5, 5, 6, 6]), "school").label
    "clusters of 'school' (2, holding the 2 matched sets)"
    >>> plan_clusters(np.array([0, 0, 1, 1]), np.array([5, 6, 5, 6]), "school").two_way
    True
    >>> plan_clusters(np.array([0, 0, 1, 1]), np.array([1, 2, 3, 4]), "unit").label
    'matched sets (2)'
    """
    sets = np.unique(np.asarray(sets), return_inverse=True)[1]
    n_sets = int(sets.max()) + 1
    codes = None
    if clusters is not None:
        codes = np.unique(np.asarray(clusters), return_inverse=True)[1]
    if codes is None or int(codes.max()) + 1 == len(codes):
        # no clusters, or each matched unit its own (clusters by unit): the matched sets
        return Clustering(sets, None, n_sets, f"matched sets ({n_sets})")
    n_codes = int(codes.max()) + 1
    pairs = len(np.unique(sets * n_codes + codes))
    if pairs == n_sets:  # every matched set within one cluster
        return Clustering(
            codes,
            None,
            n_codes,
            f"clusters of {cluster_name!r} ({n_codes}, holding the {n_sets} matched sets)",
        )
    return Clustering(
        sets,
        codes,
        min(n_sets, n_codes),
        f"two-way: matched sets ({n_sets}) and clusters of {cluster_name!r} ({n_codes}), "
        "which the sets cross",
    )


def require_two(clustering: Clustering, cluster_name: str | None, *, merged: bool = False) -> None:
    """Refuse fewer than two clusters, saying why and what to do.

    The message names what the single cluster is: one matched set (the Panel has no
    clusters, or each unit is its own), one of the Panel's clusters holding every
    matched unit, or matched sets and clusters merged into one.

    Examples
    --------
    >>> import numpy as np
    >>> require_two(plan_clusters(np.array([0, 0, 1, 1]), None, None), None)
    >>> try:
    ...     require_two(plan_clusters(np.array([0, 0]), None, None), None)
    ... except ValueError as error:
    ...     print(str(error)[:55])
    the matched sample is a single matched set (2 units): t
    """
    if clustering.n_clusters >= 2:
        return
    if merged:
        raise DesignError(
            f"the matched sets cross the clusters of {cluster_name!r} so that, merged "
            "into one-way clusters (each matched set and each cluster within one), they "
            "form a single cluster: clustered standard errors need at least two clusters. "
            "Use inference='auto' (two-way clustering by matched set and cluster) or "
            "match within clusters"
        )
    if clustering.by_matched_sets:
        raise DesignError(
            f"the matched sample is a single matched set ({len(clustering.first)} units): "
            "too few to estimate a standard error, which after matching is clustered by "
            "matched set (Abadie and Spiess 2022) and needs at least two sets. Add treated "
            "units (matching without replacement puts each treated unit and its controls "
            "in a set of their own); with exact or coarsened exact matching, whose sets are "
            "their strata, use method='nearest' or covariates that split the matched units "
            "into at least two strata"
        )
    raise DesignError(
        f"every matched unit lies in one cluster of {cluster_name!r}: clustered standard "
        "errors need at least two clusters. Build the Panel without cluster= if its units "
        "are independent"
    )
