"""Discrete choice with switching costs: how a buyer's customers split over its providers from one day to the next.

Each day every customer of provider q chooses again by a logit on log price, with a bond ``theta`` to q (as in
Dube, Hitsch and Rossi 2009, "Do switching costs make markets less competitive?"):

    P(p | q) = w_p theta^[p = q] / (sum_r w_r + (theta - 1) w_q),   w_p = appeal_p price_p^-sigma

``theta`` is set so that a customer stays with probability ``inertia`` when all prices are equal; new customers
(a growing buyer's new demand) choose with no bond.  A small price gap moves few customers, a large one many.
The token market (:func:`abm.markets.token.logit_shares`) moves the split by these rules, and a provider that
prices with switching costs in view (:mod:`agents.cloud_provider`) foresees it by the same functions.

A provider's appeal (a fresh model launch) enters as an effective price, price_p / appeal_p^(1 / sigma): the price
at which it would be as attractive without it.  Buyers who weigh price little or not at all (sigma near or at 0)
see no price in an appeal -- the factor overflows -- and the weights are then taken from their logs,
ln w_p = ln appeal_p - sigma ln price_p (:func:`effective_prices`, :func:`log_weights`): the same weights.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MIN_NORMAL = float(np.finfo(np.float64).tiny)  # below it a float loses precision: it cannot stand for a price


def appeal_factor(appeal: np.ndarray, sensitivity: float) -> np.ndarray:
    """(P,) appeal ** (1 / sensitivity): how many times cheaper a provider's appeal makes it look to buyers whose
    logit weight on log price is ``sensitivity``; infinite where the appeal has no price equivalent (sensitivity 0:
    price-blind buyers; or so small that the power overflows)."""
    appeal = np.asarray(appeal, dtype=np.float64)
    if not sensitivity > 0.0:
        return np.full(appeal.shape, np.inf)
    exponent = 1.0 / sensitivity
    if exponent <= 1.0:  # x ** e <= max(x, 1): nothing can overflow (and numpy's error state costs a day's microsecond)
        return appeal**exponent
    with np.errstate(over="ignore"):
        return appeal**exponent


@njit(cache=True)
def effective_prices(price, factor):
    """(price / factor, whether every one of them is a positive normal number): if it is, the effective prices stand
    for the logit weights (w_p = effective_p^-sigma); if not (an infinite factor), :func:`log_weights` does."""
    effective = price / factor
    for x in effective:
        if not (x >= MIN_NORMAL and x < np.inf):
            return effective, False
    return effective, True


@njit(cache=True)
def log_weights(price, appeal, sigma):
    """(P,) ln w_p - max ln w: the logit weights w_p = appeal_p price_p^-sigma taken from their logs (for prices and
    appeals > 0), relative to the largest one."""
    out = np.empty(price.size)
    top = -np.inf
    for p in range(price.size):
        out[p] = np.log(appeal[p]) - sigma * np.log(price[p])
        top = max(top, out[p])
    for p in range(price.size):
        out[p] -= top
    return out


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
