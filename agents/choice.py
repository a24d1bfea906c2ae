"""Discrete choice with switching costs: how a buyer's customers split over its providers from one day to the next.

Each day every customer of provider q chooses again by a logit on log price, with a bond ``theta`` to q (as in
Dube, Hitsch and Rossi 2009, "Do switching costs make markets less competitive?"):

    P(p | q) = w_p theta^[p = q] / (sum_r w_r + (theta - 1) w_q),   w_p = price_p^-sigma (appeal raises it)

``theta`` is set so that a customer stays with probability ``inertia`` when all prices are equal; new customers
(a growing buyer's new demand) choose with no bond.  A small price gap moves few customers, a large one many.
The token market (:func:`abm.markets.token.logit_shares`) moves the split by these rules, and a provider that
prices with switching costs in view (:mod:`agents.cloud_provider`) foresees it by the same functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def switching_bond(inertia, n_providers):
    """The bond theta a customer has to its provider, so that it stays with probability ``inertia`` when all of a
    buyer's ``n_providers`` charge the same (1: none; inf: it never leaves)."""
    if n_providers <= 1 or inertia * n_providers <= 1.0:
        return 1.0
    if inertia >= 1.0:
        return np.inf
    return inertia * (n_providers - 1) / (1.0 - inertia)


@njit(cache=True)
def choice_probability(w_to, w_from, same, total, theta):
    """P(p | q): the probability a customer of provider q (logit weight ``w_from``) takes provider p (``w_to``;
    ``same`` if p is q) when the buyer's weights sum to ``total`` and its bond is ``theta``."""
    return w_to * (theta if same else 1.0) / (total + (theta - 1.0) * w_from)


@njit(cache=True)
def bonded_logit_row(w, before, total, kept, theta, new, edges, out):
    """One buyer's new split over its providers into ``out``: its new demand (share ``new``) by the logit weights
    ``w`` (0 off its ``edges``, summing to ``total``), the rest from its providers of yesterday (``before``, summing to
    ``kept``), each customer of provider q choosing again with the bond ``theta`` to q."""
    fresh = new if kept > 0.0 else 1.0  # all-zero previous: everyone chooses afresh
    for p in range(w.size):
        out[p] = fresh * w[p] / total
    if fresh >= 1.0:
        return
    for q in range(w.size):
        if before[q] <= 0.0:
            continue
        mass = (1.0 - fresh) * before[q] / kept
        if theta == np.inf:
            out[q] += mass
            continue
        for p in range(w.size):
            if edges[p]:
                out[p] += mass * choice_probability(w[p], w[q], p == q, total, theta)
