"""The buyer-seller pairs that can trade, as lists: what flows between them is stored per pair, not in a table.

A (B, S) table of who may trade with whom has B x S cells, but a buyer considers at most ``MAX_CONSIDERED`` sellers
(:mod:`networks.consideration`), so its pairs grow with the entries: at 1,000 entries of each kind the compute market
has 2,000 buyers, 1,000 AIDCs and 200,000 pairs, and a day's (B, A, 24) table of GPU-hours would be 0.4 GB where the
pairs' (E, 24) is 38 MB.  The pairs are listed buyer after buyer, each buyer's sellers in increasing order (the order
of the table's cells), so a sum over them in that order adds what a sum over the table adds, without its zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from tokenomy.agents.numeric import bipartite_lists, psum


@dataclass(frozen=True, slots=True)
class TradeLinks:
    """The pairs of a (B, S) trade table that can trade: pair ``e`` joins ``buyer[e]`` and ``seller[e]``; buyer
    b's pairs are ``ptr[b]:ptr[b + 1]``; ``cell`` (E * 24,) is where each pair-hour sits in the (B, S, 24) table
    (row-major, increasing), for sums in numpy's order over that table (:func:`agents.numeric.psum_at`)."""

    ptr: np.ndarray  # (B + 1,) int64
    seller: np.ndarray  # (E,) int64
    buyer: np.ndarray  # (E,) int64
    cell: np.ndarray  # (E * 24,) int64
    n_sellers: int

    @classmethod
    def of(cls, table: np.ndarray) -> TradeLinks:
        table = np.ascontiguousarray(table, dtype=np.bool_)
        ptr, seller, _, _ = bipartite_lists(table)
        buyer = np.repeat(np.arange(table.shape[0], dtype=np.int64), np.diff(ptr))
        key = buyer * table.shape[1] + seller
        cell = (key[:, None] * 24 + np.arange(24, dtype=np.int64)[None, :]).ravel()
        return cls(ptr, seller, buyer, cell, int(table.shape[1]))

    @property
    def n_buyers(self) -> int:
        return self.ptr.size - 1

    def dense(self, flow: np.ndarray) -> np.ndarray:
        """(B, S, 24) the table of a pairs' ``flow`` (E, 24) (zero where a pair cannot trade): for tests and small
        worlds only."""
        out = np.zeros((self.n_buyers, self.n_sellers, flow.shape[1]))
        out[self.buyer, self.seller] = flow
        return out

    def pair_totals(self, flow: np.ndarray) -> np.ndarray:
        """(B, S) each pair's ``flow`` (E, 24) over the day (numpy's sum over the last axis of the table)."""
        return _pair_totals(flow, self.buyer, self.seller, self.n_buyers, self.n_sellers)

    def to_pairs(self, table: np.ndarray) -> np.ndarray:
        """(E, 24) a (B, S, 24) ``table``'s values at the pairs; ValueError if it holds any elsewhere."""
        out = np.ascontiguousarray(table[self.buyer, self.seller])
        if np.count_nonzero(table) != np.count_nonzero(out):
            raise ValueError("a flow between a buyer and a seller that cannot trade")
        return out


@njit(cache=True)
def _pair_totals(flow, buyer, seller, n_buyers, n_sellers):
    out = np.zeros((n_buyers, n_sellers))
    for e in range(buyer.size):
        out[buyer[e], seller[e]] = psum(flow[e])
    return out
