"""Daily call auction for GPU-hours: cloud providers (buyers) x AI data centres (sellers).

Pure function, numpy in / numpy out. Every simulated day each cloud provider ``p`` submits bid
steps (quantity, limit price) and each AI data centre (AIDC) ``a`` submits ask steps. A provider
may only buy from the AIDCs it is connected to (``edges[p, a]``); there is no trans-shipment, so
the problem is a bipartite transportation problem::

    max  sum_k bid_price_k x_k - sum_j ask_price_j y_j
    s.t. sum_{k of p} x_k - sum_a f_pa = 0           (provider balance, dual = provider_price[p])
         sum_p f_pa - sum_{j of a} y_j = 0           (AIDC balance,     dual = aidc_price[a])
         0 <= x_k <= bid_gpu_hours_k,  0 <= y_j <= ask_gpu_hours_j,  f_pa >= 0 only on edges.

Prices are the marginal values (duals) of the two balance constraints. Dual feasibility reads

* bid step k of provider p: filled if ``bid_price > provider_price``, rejected if ``<``,
  partially filled only if ``=``; mirrored for asks with ``aidc_price``;
* every edge (p, a): ``provider_price[p] <= aidc_price[a]``, with equality if ``f_pa > 0``.
  Trades on a used edge therefore happen at one price (the AIDC's, equal to the provider's).

Two solution paths
------------------
Fast path (``used_lp=False``): when the edges are complete bipartite inside every connected
component of the provider/AIDC graph (the common case: everyone can trade with everyone), each
component is a single pool and clears by merit order: bids sorted descending, asks ascending,
the volume-maximising intersection is traded. Steps at the same price in the same component are
filled pro rata (a tie is shared, not decided by index). Flows are allocated proportionally,
``flow[p, a] = X_p * Y_a / sum(Y in component)``, which is deterministic and feasible. All
nodes of a component get one uniform price. Fully vectorised over components, bids and asks.

LP path (``used_lp=True``): otherwise (or with ``force_lp=True``) the LP above is solved with
HiGHS (scipy ``linprog``, sparse constraint matrix).

Price convention (where the market-clearing price is not unique)
---------------------------------------------------------------
Steps with zero quantity impose no price restriction and are ignored for pricing.

* Fast path, per component: the set of clearing prices is the interval
  ``[lo, hi]`` with ``lo = max(marginal accepted ask price, best rejected bid price)`` and
  ``hi = min(marginal accepted bid price, best rejected ask price)`` (a partially filled step is
  both accepted and rejected, which pins the price). The price is the midpoint ``(lo + hi) / 2``.
  A missing term is dropped from the max/min. With no trade this is the midpoint between the best
  bid and the best ask; with only bids (only asks) it is the best bid (best ask); with no bid and
  no ask of positive quantity in the component the price is NaN.
* LP path: given the optimal flows, the set of optimal duals is described by difference
  constraints (complementary slackness), so it is a lattice with a componentwise minimum and
  maximum price vector. It is intersected with the box [lowest, highest] price of the positive
  steps of the node's connected component (clipping an optimal dual into this box keeps it
  optimal; finite lattice bounds always lie inside it), the box-clipped minimum and maximum are
  computed exactly with a shortest-path pass (Bellman-Ford on P + A + 1 nodes), and each node
  gets the midpoint. Again NaN only in components without any step of positive quantity. On
  complete bipartite components this reproduces the fast-path price for every node that trades;
  a node that does not trade may get a different (equally valid) price, e.g. with no trade at all
  a provider gets the midpoint between its own best bid and the best ask it can reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import NegativeCycleError, csgraph_from_dense, shortest_path

__all__ = ["ComputeClearing", "clear_compute_market"]

_SNAP = 1e-12  # fill ratios within this of 0 or 1 are snapped (float noise on exact ties)


@dataclass(frozen=True, slots=True)
class ComputeClearing:
    """Result of :func:`clear_compute_market`. Quantities in GPU-hours, prices in CNY/GPU-hour."""

    bid_filled_gpu_hours: np.ndarray  # (K,)
    ask_filled_gpu_hours: np.ndarray  # (J,)
    flow_gpu_hours: np.ndarray  # (P, A) GPU-hours provider p buys from AIDC a
    provider_price: np.ndarray  # (P,)
    aidc_price: np.ndarray  # (A,)
    surplus_cny: float
    used_lp: bool


def clear_compute_market(
    bid_provider: np.ndarray,
    bid_gpu_hours: np.ndarray,
    bid_price: np.ndarray,
    ask_aidc: np.ndarray,
    ask_gpu_hours: np.ndarray,
    ask_price: np.ndarray,
    edges: np.ndarray,
    *,
    force_lp: bool = False,
) -> ComputeClearing:
    """Clear one day of the GPU-hour call auction (see the module docstring).

    Args:
        bid_provider: (K,) int, buying cloud provider of each bid step, in 0..P-1.
        bid_gpu_hours: (K,) >= 0, quantity of each bid step.
        bid_price: (K,) limit price (maximum willing to pay), CNY per GPU-hour.
        ask_aidc: (J,) int, selling AIDC of each ask step, in 0..A-1.
        ask_gpu_hours: (J,) >= 0, quantity of each ask step.
        ask_price: (J,) minimum acceptable price, CNY per GPU-hour.
        edges: (P, A) bool, provider p may buy from AIDC a.
        force_lp: solve with the LP path even when the fast path applies (testing/benchmarks).
    """
    edges = np.asarray(edges, dtype=bool)
    if edges.ndim != 2:
        raise ValueError("edges must be a (P, A) boolean matrix")
    P, A = edges.shape
    bp = np.asarray(bid_provider, dtype=np.intp).reshape(-1)
    qb = np.asarray(bid_gpu_hours, dtype=float).reshape(-1)
    pb = np.asarray(bid_price, dtype=float).reshape(-1)
    aa = np.asarray(ask_aidc, dtype=np.intp).reshape(-1)
    qa = np.asarray(ask_gpu_hours, dtype=float).reshape(-1)
    pa = np.asarray(ask_price, dtype=float).reshape(-1)
    K, J = bp.size, aa.size
    if qb.size != K or pb.size != K or qa.size != J or pa.size != J:
        raise ValueError("bid (ask) arrays must all have the same length")
    if K and (bp.min() < 0 or bp.max() >= P):
        raise ValueError("bid_provider out of range 0..P-1")
    if J and (aa.min() < 0 or aa.max() >= A):
        raise ValueError("ask_aidc out of range 0..A-1")
    if (K and qb.min() < 0) or (J and qa.min() < 0):
        raise ValueError("quantities must be >= 0")

    if not force_lp:
        lab_p, lab_a, n_comp, complete = _components(edges)
        if complete:
            if n_comp == 1:
                return _clear_single_pool(bp, qb, pb, aa, qa, pa, P, A)
            return _clear_merit_order(bp, qb, pb, aa, qa, pa, edges, lab_p, lab_a, n_comp)
    return _clear_lp(bp, qb, pb, aa, qa, pa, edges)


# --------------------------------------------------------------------------------------------
# graph structure
# --------------------------------------------------------------------------------------------
def _components(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Connected components of the bipartite graph and whether each one is complete bipartite.

    Returns (label of each provider, label of each AIDC, number of components, complete).
    """
    P, A = edges.shape
    if P and A and edges.all():
        return np.zeros(P, np.intp), np.zeros(A, np.intp), 1, True
    # provider-provider reachability by repeated boolean squaring (log2(P) small matmuls)
    e = edges.astype(np.float64)
    reach = (e @ e.T) > 0
    reach[np.diag_indices(P)] = True
    steps = int(np.ceil(np.log2(P))) if P > 1 else 0
    for _ in range(steps):
        r = reach.astype(np.float64)
        reach = (r @ r) > 0
    lab_p = np.argmax(reach, axis=1) if P else np.zeros(0, np.intp)  # smallest provider index
    has_edge = edges.any(axis=0)
    lab_a = np.where(has_edge, lab_p[np.argmax(edges, axis=0)] if P else 0, P + np.arange(A))
    # compress labels to 0..C-1
    present = np.zeros(P + A, dtype=bool)
    present[lab_p] = True
    present[lab_a] = True
    new = np.cumsum(present) - 1
    lab_p, lab_a = new[lab_p], new[lab_a]
    n_comp = int(present.sum())
    n_p = np.bincount(lab_p, minlength=n_comp)
    n_a = np.bincount(lab_a, minlength=n_comp)
    complete = int(np.count_nonzero(edges)) == int(n_p @ n_a)
    return lab_p, lab_a, n_comp, complete


# --------------------------------------------------------------------------------------------
# fast path: merit order per component, vectorised
# --------------------------------------------------------------------------------------------
def _clear_single_pool(bp, qb, pb, aa, qa, pa, P, A) -> ComputeClearing:
    """Merit order for one complete bipartite pool (every provider trades with every AIDC).

    Same rules as :func:`_clear_merit_order`, specialised to one component (fewer numpy calls).
    Zero-quantity steps are dropped before clearing (they impose no price restriction).
    """
    zb = qb.size and qb.min() <= 0.0
    za = qa.size and qa.min() <= 0.0
    if zb or za:
        sb = np.flatnonzero(qb > 0) if zb else slice(None)
        sa = np.flatnonzero(qa > 0) if za else slice(None)
        fb, fa, price = _pool(qb[sb], pb[sb], qa[sa], pa[sa])
        bid_fill, ask_fill = np.zeros(qb.size), np.zeros(qa.size)
        bid_fill[sb] = fb
        ask_fill[sa] = fa
    else:
        bid_fill, ask_fill, price = _pool(qb, pb, qa, pa)
    X = np.bincount(bp, weights=bid_fill, minlength=P)
    Y = np.bincount(aa, weights=ask_fill, minlength=A)
    y_tot = Y.sum()
    flow = np.outer(X, Y / y_tot) if y_tot > 0 else np.zeros((P, A))
    surplus = float(pb @ bid_fill - pa @ ask_fill)
    return ComputeClearing(bid_fill, ask_fill, flow, np.full(P, price), np.full(A, price), surplus, False)


def _pool(qb, pb, qa, pa) -> tuple[np.ndarray, np.ndarray, float]:
    """Merit-order clearing of one pool; all quantities > 0. Returns (bid fill, ask fill, price)."""
    nb, na = qb.size, qa.size
    ob = np.argsort(-pb, kind="stable")
    oa = np.argsort(pa, kind="stable")
    nbs, qbs = -pb[ob], qb[ob]  # bids by descending price (as ascending negated price)
    pas, qas = pa[oa], qa[oa]
    cb = np.zeros(nb + 1)
    np.cumsum(qbs, out=cb[1:])
    ca = np.zeros(na + 1)
    np.cumsum(qas, out=ca[1:])
    # traded volume: max over bids of min(bid volume up to it, ask volume at prices <= its price)
    vol = np.minimum(cb[1:], ca[np.searchsorted(pas, -nbs, side="right")]).max(initial=0.0)
    # pro rata within a price level: volume strictly better than the level, and level volume
    b_gt = cb[np.searchsorted(nbs, nbs, side="left")]
    b_lv = cb[np.searchsorted(nbs, nbs, side="right")] - b_gt
    a_lt = ca[np.searchsorted(pas, pas, side="left")]
    a_lv = ca[np.searchsorted(pas, pas, side="right")] - a_lt
    rb = np.minimum(np.maximum(vol - b_gt, 0.0), b_lv) / b_lv
    ra = np.minimum(np.maximum(vol - a_lt, 0.0), a_lv) / a_lv
    rb[rb > 1.0 - _SNAP] = 1.0
    rb[rb < _SNAP] = 0.0
    ra[ra > 1.0 - _SNAP] = 1.0
    ra[ra < _SNAP] = 0.0
    # fill ratios are non-increasing along the merit order: accepted = prefix, rejected = suffix.
    # price interval [lo, hi]: lo = max(best rejected bid, marginal accepted ask),
    # hi = min(marginal accepted bid, best rejected ask); midpoint convention.
    b_acc, b_full = np.count_nonzero(rb), np.count_nonzero(rb == 1.0)
    a_acc, a_full = np.count_nonzero(ra), np.count_nonzero(ra == 1.0)
    lo = max(-nbs[b_full] if b_full < nb else -np.inf, pas[a_acc - 1] if a_acc else -np.inf)
    hi = min(-nbs[b_acc - 1] if b_acc else np.inf, pas[a_full] if a_full < na else np.inf)
    price = _midpoint_scalar(lo, hi)
    bid_fill = np.empty(nb)
    bid_fill[ob] = qbs * rb
    ask_fill = np.empty(na)
    ask_fill[oa] = qas * ra
    return bid_fill, ask_fill, price


def _clear_merit_order(bp, qb, pb, aa, qa, pa, edges, lab_p, lab_a, n_comp) -> ComputeClearing:
    K, J = qb.size, qa.size
    P, A = edges.shape
    n = K + J
    if n == 0:
        nan = np.full(n_comp, np.nan)
        return ComputeClearing(
            np.zeros(0), np.zeros(0), np.zeros((P, A)), nan[lab_p], nan[lab_a], 0.0, False
        )
    comp = np.concatenate((lab_p[bp], lab_a[aa]))
    price = np.concatenate((pb, pa))
    qty = np.concatenate((qb, qa))
    side = np.concatenate((np.ones(K, np.int8), np.zeros(J, np.int8)))  # asks before bids at ties
    order = np.lexsort((side, price, comp))
    c_s, p_s, s_s, q_s = comp[order], price[order], side[order], qty[order]
    is_bid = s_s == 1

    # run boundaries: a run is one (component, price, side) level; a segment is one component
    new_comp = np.empty(n, dtype=bool)
    new_comp[0] = True
    np.not_equal(c_s[1:], c_s[:-1], out=new_comp[1:])
    new_run = new_comp.copy()
    new_run[1:] |= (p_s[1:] != p_s[:-1]) | (s_s[1:] != s_s[:-1])
    idx = np.arange(n)
    seg_starts = np.flatnonzero(new_comp)
    seg = np.cumsum(new_comp) - 1
    comp_start = seg_starts[seg]
    comp_end = np.append(seg_starts[1:], n)[seg] - 1
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))
    end_run = np.empty(n, dtype=bool)
    end_run[-1] = True
    end_run[:-1] = new_run[1:]
    run_end = np.minimum.accumulate(np.where(end_run, idx, n - 1)[::-1])[::-1]

    # cumulative bid / ask volume in ascending price order (exclusive versions are exact shifts)
    cb = np.cumsum(np.where(is_bid, q_s, 0.0))
    ca = np.cumsum(np.where(is_bid, 0.0, q_s))
    cb_ex = np.concatenate(((0.0,), cb[:-1]))
    ca_ex = np.concatenate(((0.0,), ca[:-1]))
    b_off = cb_ex[comp_start]
    a_off = ca_ex[comp_start]
    b_tot = cb[comp_end] - b_off  # total bid volume of the component

    # bids: volume at prices >= level (b_ge) and > level (b_gt); asks: <= level (a_le), < level (a_lt)
    b_ge = b_tot - (cb_ex[run_start] - b_off)
    b_gt = b_tot - (cb[run_end] - b_off)
    a_le = ca[run_end] - a_off
    a_lt = ca_ex[run_start] - a_off
    # traded volume per component: max over bid levels of min(bid vol >= v, ask vol <= v);
    # at a bid position all asks with price <= the bid price precede it (asks sort first at ties)
    cand = np.where(is_bid, np.minimum(b_ge, ca - a_off), 0.0)
    vol = np.maximum.reduceat(cand, seg_starts)[seg]

    lvl = np.where(is_bid, b_ge - b_gt, a_le - a_lt)
    before = np.where(is_bid, b_gt, a_lt)
    fill = np.clip(vol - before, 0.0, lvl)
    ratio = np.divide(fill, lvl, out=np.zeros(n), where=lvl > 0)
    ratio[ratio > 1.0 - _SNAP] = 1.0
    ratio[ratio < _SNAP] = 0.0

    # prices per component: midpoint of [lo, hi]. Accepted bid -> price <= bid (hi), rejected bid
    # -> price >= bid (lo); accepted ask -> price >= ask (lo), rejected ask -> price <= ask (hi).
    pos = q_s > 0
    acc = pos & (ratio > 0)
    rej = pos & (ratio < 1)
    lo = np.maximum.reduceat(np.where(np.where(is_bid, rej, acc), p_s, -np.inf), seg_starts)
    hi = np.minimum.reduceat(np.where(np.where(is_bid, acc, rej), p_s, np.inf), seg_starts)
    comp_price = np.full(n_comp, np.nan)
    comp_price[c_s[seg_starts]] = _midpoint(lo, hi)

    r = np.empty(n)
    r[order] = ratio
    bid_fill = qb * r[:K]
    ask_fill = qa * r[K:]
    X = np.bincount(bp, weights=bid_fill, minlength=P)
    Y = np.bincount(aa, weights=ask_fill, minlength=A)
    y_comp = np.bincount(lab_a, weights=Y, minlength=n_comp)
    denom = y_comp[lab_p]
    flow = np.zeros((P, A))
    np.divide(np.outer(X, Y), denom[:, None], out=flow, where=edges & (denom[:, None] > 0))
    surplus = float(pb @ bid_fill - pa @ ask_fill)
    return ComputeClearing(bid_fill, ask_fill, flow, comp_price[lab_p], comp_price[lab_a], surplus, False)


def _midpoint_scalar(lo: float, hi: float) -> float:
    """Scalar version of :func:`_midpoint`."""
    if lo > -np.inf:
        return float(0.5 * (lo + hi)) if hi < np.inf else float(lo)
    return float(hi) if hi < np.inf else np.nan


def _midpoint(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Midpoint of [lo, hi]; a single finite bound if the other is infinite; NaN if both are."""
    fl, fh = np.isfinite(lo), np.isfinite(hi)
    out = np.where(fl, lo, np.where(fh, hi, np.nan))
    both = fl & fh
    out[both] = 0.5 * (lo[both] + hi[both])
    return out


# --------------------------------------------------------------------------------------------
# general path: LP (HiGHS) + lattice-midpoint duals
# --------------------------------------------------------------------------------------------
def _clear_lp(bp, qb, pb, aa, qa, pa, edges) -> ComputeClearing:
    P, A = edges.shape
    K, J = qb.size, qa.size
    ep, ea = np.nonzero(edges)
    E = ep.size
    nvar = K + J + E
    flow = np.zeros((P, A))
    if nvar == 0:  # no steps and no edges: nothing to price
        return ComputeClearing(
            np.zeros(0), np.zeros(0), flow, np.full(P, np.nan), np.full(A, np.nan), 0.0, True
        )
    # rows 0..P-1: provider balance, rows P..P+A-1: AIDC balance
    rows = np.concatenate((bp, P + aa, ep, P + ea))
    cols = np.concatenate((np.arange(K), K + np.arange(J), K + J + np.arange(E), K + J + np.arange(E)))
    vals = np.concatenate((np.ones(K), -np.ones(J), -np.ones(E), np.ones(E)))
    a_eq = sparse.csc_array((vals, (rows, cols)), shape=(P + A, nvar))
    cost = np.concatenate((-pb, pa, np.zeros(E)))
    upper = np.concatenate((qb, qa, np.full(E, np.inf)))
    bounds = np.column_stack((np.zeros(nvar), upper))
    res = linprog(cost, A_eq=a_eq, b_eq=np.zeros(P + A), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"compute market LP failed: {res.message}")
    x = np.clip(res.x, 0.0, upper)
    bid_fill, ask_fill, f = x[:K], x[K : K + J], x[K + J :]
    flow[ep, ea] = f
    tol = 1e-9 * max(1.0, float(qb.max(initial=0.0)), float(qa.max(initial=0.0)))
    # price box per connected component: [lowest, highest] price of its positive-quantity steps
    lab_p, lab_a, n_comp, _ = _components(edges)
    box_lo, box_hi = np.full(n_comp, np.inf), np.full(n_comp, -np.inf)
    for lab, q, pr in ((lab_p[bp], qb, pb), (lab_a[aa], qa, pa)):
        m = q > 0
        np.minimum.at(box_lo, lab[m], pr[m])
        np.maximum.at(box_hi, lab[m], pr[m])
    node_lab = np.concatenate((lab_p, lab_a))
    prices = _lattice_midpoint_duals(
        P, A, bp, qb, pb, bid_fill, aa, qa, pa, ask_fill, ep, ea, f, tol, box_lo[node_lab], box_hi[node_lab]
    )
    if prices is None:  # numerical trouble: fall back to HiGHS' own duals
        prices = -np.asarray(res.eqlin.marginals, dtype=float)
    surplus = float(pb @ bid_fill - pa @ ask_fill)
    return ComputeClearing(bid_fill, ask_fill, flow, prices[:P], prices[P:], surplus, True)


def _lattice_midpoint_duals(
    P, A, bp, qb, pb, xb, aa, qa, pa, ya, ep, ea, f, tol, node_lo, node_hi
) -> np.ndarray | None:
    """Midpoint of the componentwise min and max optimal dual vectors inside the price box.

    Optimal duals = potentials satisfying complementary slackness with the optimal primal; each
    condition is a difference constraint ``pot[v] - pot[u] <= w`` (arc u -> v of weight w), with a
    root node of potential 0 carrying the step prices. The max potential is the shortest distance
    root -> v, the min potential is minus the shortest distance v -> root. The box
    ``node_lo <= pot <= node_hi`` (infinite for components without steps) only clips bounds that
    would otherwise be infinite, and clipping keeps every optimal dual optimal.
    """
    n = P + A + 1
    root = P + A
    w = np.full((n, n), np.inf)
    pos_b, pos_a = qb > 0, qa > 0
    m = pos_b & (xb > tol)  # accepted bid: pi_p <= pb
    np.minimum.at(w, (np.full(np.count_nonzero(m), root), bp[m]), pb[m])
    m = pos_b & (xb < qb - tol)  # rejected bid: pi_p >= pb
    np.minimum.at(w, (bp[m], np.full(np.count_nonzero(m), root)), -pb[m])
    m = pos_a & (ya > tol)  # accepted ask: rho_a >= pa
    np.minimum.at(w, (P + aa[m], np.full(np.count_nonzero(m), root)), -pa[m])
    m = pos_a & (ya < qa - tol)  # rejected ask: rho_a <= pa
    np.minimum.at(w, (np.full(np.count_nonzero(m), root), P + aa[m]), pa[m])
    boxed = np.flatnonzero(np.isfinite(node_lo))
    w[root, boxed] = np.minimum(w[root, boxed], node_hi[boxed])
    w[boxed, root] = np.minimum(w[boxed, root], -node_lo[boxed])
    w[P + ea, ep] = 0.0  # every edge: pi_p <= rho_a
    used = f > tol
    w[ep[used], P + ea[used]] = 0.0  # used edge: rho_a <= pi_p
    g = csgraph_from_dense(w, null_value=np.inf)
    try:
        d_from = shortest_path(g, method="BF", directed=True, indices=root)
        d_to = shortest_path(g.T.tocsr(), method="BF", directed=True, indices=root)
    except NegativeCycleError:
        return None
    return _midpoint(-d_to[:root], d_from[:root])

