"""Consideration sets: the sellers a buyer that may trade with every seller actually compares.

Buyers in real markets compare a handful of sellers, not all of them (Roberts and Lattin 1991, "Development and
testing of a model of consideration set composition"; Goeree 2008, "Limited information and advertising in the US
personal computer industry").  A buyer whose node carries ``all_providers`` (``all_aidcs``) considers at most
``MAX_CONSIDERED`` providers (AIDCs):

* with at most ``MAX_CONSIDERED`` sellers it considers every one of them (every shipped scenario);
* with more, the ``S`` sellers are dealt round ``G = ceil(S / MAX_CONSIDERED)`` segments in their order (AIDCs
  by zone, then in graph order; providers in graph order): the seller of rank ``r`` joins segment ``r mod G``, so
  the segments' sizes differ by at most one and each holds sellers from across the list (every zone's AIDCs, the
  large and the small).  The ``i``-th such buyer (in graph order) considers segment ``i mod G``: buyers are dealt
  round the segments too, so each segment has buyers whenever there are at least ``G`` of them, and every seller is
  considered by someone.

Segments, rather than a set drawn for each buyer, keep every market a union of complete markets: the buyers of a
segment all consider the same sellers, so each segment clears by merit order (compute), proportional rationing and
a cheapest-first spill-over (tokens), as one market does -- work in proportion to the segment, while overlapping
sets would make every market one network problem whose cost grows faster than the number of entries.  The chain
still links the segments: a token segment's providers are dealt round the compute segments, so a shortage of
compute in one region reaches token buyers across the economy.

The rule uses no random draw (it consumes nothing from the model's generator) and depends only on the graph, so a
graph written and read back builds the same sets.  A buyer with explicit trade edges (a scenario's ``providers`` or
``aidcs`` list) keeps exactly those.
"""

from __future__ import annotations

import numpy as np

MAX_CONSIDERED = 32  # sellers a buyer that may trade with every seller considers at most


def segment_of_each(n_sellers: int, limit: int = MAX_CONSIDERED) -> np.ndarray:
    """(n_sellers,) the segment of each seller by its rank in the sellers' order: dealt round ``ceil(n_sellers /
    limit)`` segments, whose sizes then differ by at most one and none is larger than ``limit``."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    return np.arange(n_sellers) % max(-(-n_sellers // limit), 1)


def considered_rows(n_every: int, seller_order: np.ndarray, n_sellers: int, limit: int = MAX_CONSIDERED) -> np.ndarray:
    """(n_every, n_sellers) bool: the sellers each of ``n_every`` buyers that may trade with every seller considers
    (the module's rule).  ``seller_order`` lists the seller indices in the order they are dealt round the segments."""
    order = np.asarray(seller_order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(n_sellers)):
        raise ValueError("seller_order must list every seller once")
    segment = np.empty(n_sellers, dtype=np.int64)
    segment[order] = segment_of_each(n_sellers, limit)
    groups = int(segment.max()) + 1 if n_sellers else 1
    buyer_segment = np.arange(n_every) % groups
    return buyer_segment[:, None] == segment[None, :]
