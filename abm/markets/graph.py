"""The structure of a bipartite trade graph (buyers x sellers): its connected components and whether each one is
complete, as the markets' fast paths need them.  Work in proportion to the table of who may trade with whom."""

from __future__ import annotations

import numpy as np
from numba import njit

_COMPONENT_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray, int, bool]] = {}
_COMPONENT_CACHE_MAX = 256


def components(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Connected components of the bipartite graph ``edges`` (B, S) and whether each one is complete bipartite
    (cached: a simulation clears the same graph every day).

    Returns (label of each buyer, label of each seller, number of components, complete).  Components are numbered
    in the order of their smallest buyer, then sellers without a buyer each alone, in their order.
    """
    edges = np.ascontiguousarray(edges, dtype=np.bool_)
    key = (edges.shape, edges.tobytes())
    found = _COMPONENT_CACHE.get(key)
    if found is None:
        if len(_COMPONENT_CACHE) >= _COMPONENT_CACHE_MAX:
            _COMPONENT_CACHE.clear()
        found = _COMPONENT_CACHE[key] = find_components(edges)
    return found


def find_components(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """:func:`components` without the cache."""
    B, S = edges.shape
    if B and S and edges.all():
        return np.zeros(B, np.int64), np.zeros(S, np.int64), 1, True
    lab_b, lab_s = _raw_labels(np.ascontiguousarray(edges, dtype=np.bool_))
    # compress labels to 0..C-1
    present = np.zeros(B + S, dtype=bool)
    present[lab_b] = True
    present[lab_s] = True
    new = np.cumsum(present) - 1
    lab_b, lab_s = new[lab_b].astype(np.int64, copy=False), new[lab_s].astype(np.int64, copy=False)
    n_comp = int(present.sum())
    n_b = np.bincount(lab_b, minlength=n_comp)
    n_s = np.bincount(lab_s, minlength=n_comp)
    complete = int(np.count_nonzero(edges)) == int(n_b @ n_s)
    return lab_b, lab_s, n_comp, complete


@njit(cache=True)
def _root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True)
def _raw_labels(edges):
    """Union-find over buyers and sellers: each buyer's label is the smallest buyer index of its component, a seller's
    that of its component, or ``B + its index`` if it has no buyer."""
    B, S = edges.shape
    parent = np.arange(B + S)
    for b in range(B):
        for s in range(S):
            if edges[b, s]:
                x, y = _root(parent, b), _root(parent, B + s)
                if x != y:  # the smaller index is the root: a component's root is its smallest buyer
                    if x < y:
                        parent[y] = x
                    else:
                        parent[x] = y
    lab_b = np.empty(B, np.int64)
    lab_s = np.empty(S, np.int64)
    for b in range(B):
        lab_b[b] = _root(parent, b)
    for s in range(S):
        lab_s[s] = _root(parent, B + s)  # B + s itself when it has no buyer
    return lab_b, lab_s
