"""Consideration sets: the sellers a buyer that may trade with every seller actually compares.

Buyers in real markets compare a handful of sellers, not all of them (Roberts and Lattin 1991, "Development and
testing of a model of consideration set composition"; Goeree 2008, "Limited information and advertising in the US
personal computer industry").  A buyer whose node carries ``all_providers`` (``all_aidcs``) considers at most
``MAX_CONSIDERED`` providers (AIDCs):

* with at most ``MAX_CONSIDERED`` sellers it considers every one of them (every shipped scenario);
* with more, the ``S`` sellers are dealt round ``G = ceil(S / MAX_CONSIDERED)`` segments like cards, largest
  first (AIDCs by GPUs, those of a size by zone, then in graph order; providers, which have no size before they
  trade, in graph order): the seller of rank ``r`` joins segment ``r mod G``, so the segments' sizes differ by at
  most one and each gets its share of the large sellers and of every zone's.  The buyers are dealt the same way,
  largest first (token buyers by their demand at the mean starting price; providers and labs by the GPU-hours a
  day they expect to need), the buyer of rank ``i`` considering segment ``i mod G``: the largest buyers meet the
  segments of the largest sellers, each segment has buyers whenever there are at least ``G`` of them, and every
  seller is considered by someone.

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

MAX_CONSIDERED = 100  # sellers a buyer that may trade with every seller considers at most


def segment_of_each(n_sellers: int, limit: int = MAX_CONSIDERED) -> np.ndarray:
    """(n_sellers,) the segment of each seller by its rank in the sellers' order: dealt round ``ceil(n_sellers /
    limit)`` segments, whose sizes then differ by at most one and none is larger than ``limit``."""
    if limit < 1:
        raise ValueError("limit must be >= 1")
    return np.arange(n_sellers) % max(-(-n_sellers // limit), 1)


def considered_rows(
    n_every: int,
    seller_order: np.ndarray,
    n_sellers: int,
    limit: int = MAX_CONSIDERED,
    buyer_order: np.ndarray | None = None,
) -> np.ndarray:
    """(n_every, n_sellers) bool: the sellers each of ``n_every`` buyers that may trade with every seller considers
    (the module's rule).  ``seller_order`` (``buyer_order``, their own order by default) lists the seller (buyer)
    indices in the order they are dealt round the segments."""
    order = _permutation(seller_order, n_sellers, "seller_order")
    buyers = _permutation(np.arange(n_every) if buyer_order is None else buyer_order, n_every, "buyer_order")
    segment = np.empty(n_sellers, dtype=np.int64)
    segment[order] = segment_of_each(n_sellers, limit)
    groups = int(segment.max()) + 1 if n_sellers else 1
    buyer_segment = np.empty(n_every, dtype=np.int64)
    buyer_segment[buyers] = np.arange(n_every) % groups
    return buyer_segment[:, None] == segment[None, :]


def largest_first(size: np.ndarray) -> np.ndarray:
    """Indices by decreasing ``size``, those of a size in their order: the order the segments are dealt in."""
    size = np.asarray(size, dtype=float)
    return np.lexsort((np.arange(size.size), -size))


def _permutation(order, n: int, what: str) -> np.ndarray:
    out = np.asarray(order, dtype=np.int64)
    if out.shape != (n,) or not np.array_equal(np.sort(out), np.arange(n)):
        raise ValueError(f"{what} must list every index once")
    return out
