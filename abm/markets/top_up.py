"""Spot top-up: providers short of GPUs in an hour buy idle GPU-hours at the AIDCs' asks.

Pure function, numpy in / numpy out.  After the token market has cleared against what providers bought
day-ahead, some buyer-hours may still be unserved (demand above forecast, a rival's buyers spilling
over).  In each hour, providers are taken from the cheapest token price up (the one a buyer would turn
to first); a provider asks for the unserved tokens of every buyer connected to it, converts them to
GPU-hours at its efficiency, and buys the cheapest unsold GPU-hours of the AIDCs it is connected to,
as long as the ask is no dearer than what the tokens earn (token price x Mtok per GPU-hour).  Each trade
is at the ask (on-demand capacity, pay as offered).  Served tokens are shared among the provider's
unserved buyers in proportion to what each still lacks.

Property (tested): afterwards no buyer-hour is unserved while a provider connected to it could still
buy, from an AIDC connected to that provider, an unsold GPU-hour in that hour at an ask no dearer than
the provider earns on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from tokenomy.agents.numeric import bipartite_lists

__all__ = ["TopUp", "top_up_unserved"]


@dataclass(frozen=True, slots=True)
class TopUp:
    """Result of :func:`top_up_unserved`."""

    served: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # (buyer, provider, hour, Mtok) of every top-up
    bought: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # (provider, AIDC, hour, GPU-hours) of every purchase
    cost_cny: np.ndarray  # (P, A) paid, at the asks
    ask_used_gpu_hours: np.ndarray  # (J,) taken from each ask step
    shape: tuple[int, int, int]  # (B, P, H)

    @property
    def gpu_hours(self) -> np.ndarray:
        """(P, A, H) GPU-hours bought; built on access."""
        out = np.zeros((self.shape[1], self.cost_cny.shape[1], self.shape[2]))
        np.add.at(out, self.bought[:3], self.bought[3])
        return out

    @property
    def served_mtok(self) -> np.ndarray:
        """(B, P, H) tokens served from the top-up; built on access (the top-up serves few buyer-provider-hours)."""
        out = np.zeros(self.shape)
        b, p, h, s = self.served
        out[b, p, h] = s  # (each buyer-provider-hour is served once)
        return out


def top_up_unserved(
    unserved_mtok: np.ndarray,
    token_price: np.ndarray,
    mtok_per_gpu_hour: np.ndarray,
    token_edges: np.ndarray,
    ask_aidc: np.ndarray,
    ask_hour: np.ndarray,
    ask_left_gpu_hours: np.ndarray,
    ask_price: np.ndarray,
    compute_edges: np.ndarray,
) -> TopUp:
    """Run the top-up (module docstring).

    Args:
        unserved_mtok: (B, H) tokens each buyer still lacks in each hour.
        token_price: (P,) posted prices, CNY per Mtok.
        mtok_per_gpu_hour: (P,) > 0, each provider's efficiency.
        token_edges: (B, P) bool, buyer b may buy from provider p.
        ask_aidc, ask_hour, ask_left_gpu_hours, ask_price: (J,) the AIDCs' ask steps and what is left of each.
        compute_edges: (P, A) bool, provider p may buy from AIDC a.
    """
    unserved = np.ascontiguousarray(unserved_mtok, dtype=np.float64)
    price = np.ascontiguousarray(token_price, dtype=np.float64)
    eff = np.ascontiguousarray(mtok_per_gpu_hour, dtype=np.float64)
    t_edges = np.ascontiguousarray(token_edges, dtype=np.bool_)
    c_edges = np.ascontiguousarray(compute_edges, dtype=np.bool_)
    aa = np.ascontiguousarray(ask_aidc, dtype=np.int64)
    ah = np.ascontiguousarray(ask_hour, dtype=np.int64)
    left = np.ascontiguousarray(ask_left_gpu_hours, dtype=np.float64)
    ap = np.ascontiguousarray(ask_price, dtype=np.float64)
    B, H = unserved.shape
    P = price.size
    if t_edges.shape != (B, P) or c_edges.shape[0] != P or eff.size != P:
        raise ValueError("shape mismatch: unserved (B, H), token_price (P,), token_edges (B, P), compute_edges (P, A)")
    if not (aa.size == ah.size == left.size == ap.size):
        raise ValueError("ask arrays must all have the same length")
    error = _check(eff, aa, ah, c_edges.shape[1], H)
    if error:
        raise ValueError(_ERRORS[error])
    tb, tp, th, ts, gp, ga, gh, gt, cost, used = _top_up(unserved, price, eff, t_edges, aa, ah, left, ap, c_edges)
    return TopUp((tb, tp, th, ts), (gp, ga, gh, gt), cost, used, (B, P, H))


_ERRORS = {1: "mtok_per_gpu_hour must be > 0", 2: "ask_aidc out of range 0..A-1", 3: "ask_hour out of range 0..H-1"}


@njit(cache=True)
def _check(eff, aa, ah, n_aidcs, n_hours):
    """0, or the key in ``_ERRORS`` of the first problem found."""
    for p in range(eff.size):
        if eff[p] <= 0.0:
            return 1
    for j in range(aa.size):
        if aa[j] < 0 or aa[j] >= n_aidcs:
            return 2
    for j in range(ah.size):
        if ah[j] < 0 or ah[j] >= n_hours:
            return 3
    return 0


@njit(cache=True)
def _top_up(unserved, price, eff, t_edges, aa, ah, left, ap, c_edges):  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    B, H = unserved.shape
    P = price.size
    A = c_edges.shape[1]
    J = aa.size
    n_served = 0  # the top-ups served, as (buyer, provider, hour, Mtok), in the order they happen
    tb = np.empty(64, np.int64)
    tp = np.empty(64, np.int64)
    th = np.empty(64, np.int64)
    ts = np.empty(64)
    n_bought = 0  # the GPU-hours bought, as (provider, AIDC, hour, GPU-hours), in the order they are bought
    gp = np.empty(64, np.int64)
    ga = np.empty(64, np.int64)
    gh = np.empty(64, np.int64)
    gt = np.empty(64)
    cost = np.zeros((P, A))
    used = np.zeros(J)
    remaining = left.copy()
    _, _, col_ptr, col_idx = bipartite_lists(t_edges)  # each provider's buyers
    by_price = np.argsort(price, kind="mergesort")
    ask_order = np.argsort(ap, kind="mergesort")
    # the asks of each hour, cheapest first (ties in index order): hour h's are ask_order_h[start[h]:start[h + 1]]
    start = np.zeros(H + 1, np.int64)
    for j in range(J):
        start[ah[j] + 1] += 1
    for h in range(H):
        start[h + 1] += start[h]
    ask_order_h = np.empty(J, np.int64)
    at = start[:-1].copy()
    for jj in range(J):
        j = ask_order[jj]
        ask_order_h[at[ah[j]]] = j
        at[ah[j]] += 1
    lack = np.empty(B)
    for h in range(H):
        total = 0.0
        for b in range(B):
            lack[b] = unserved[b, h]
            total += lack[b]
        if total <= 0.0:
            continue
        for k in range(P):
            p = by_price[k]
            want = 0.0
            for i in range(col_ptr[p], col_ptr[p + 1]):
                b = col_idx[i]
                if lack[b] > 0.0:
                    want += lack[b]
            if want <= 0.0:
                continue
            need = want / eff[p]
            value = price[p] * eff[p]
            got = 0.0
            for jj in range(start[h], start[h + 1]):
                j = ask_order_h[jj]
                if ap[j] > value:
                    break
                if remaining[j] <= 0.0 or not c_edges[p, aa[j]]:
                    continue
                take = min(remaining[j], need - got)
                remaining[j] -= take
                used[j] += take
                if n_bought == gp.size:
                    gp, ga, gh, gt = _grown(gp), _grown(ga), _grown(gh), _grown(gt)
                gp[n_bought], ga[n_bought], gh[n_bought], gt[n_bought] = p, aa[j], h, take
                n_bought += 1
                cost[p, aa[j]] += take * ap[j]
                got += take
                if got >= need:
                    break
            if got <= 0.0:
                continue
            share = min(got * eff[p] / want, 1.0)
            for i in range(col_ptr[p], col_ptr[p + 1]):
                b = col_idx[i]
                if lack[b] > 0.0:
                    s = lack[b] * share
                    if n_served == tb.size:
                        tb, tp, th, ts = _grown(tb), _grown(tp), _grown(th), _grown(ts)
                    tb[n_served], tp[n_served], th[n_served], ts[n_served] = b, p, h, s
                    n_served += 1
                    lack[b] -= s
    return (
        tb[:n_served],
        tp[:n_served],
        th[:n_served],
        ts[:n_served],
        gp[:n_bought],
        ga[:n_bought],
        gh[:n_bought],
        gt[:n_bought],
        cost,
        used,
    )


@njit(cache=True)
def _grown(x):
    """``x`` in an array twice its size."""
    out = np.empty(2 * x.size, x.dtype)
    out[: x.size] = x
    return out
