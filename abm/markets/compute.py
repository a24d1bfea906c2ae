"""Call auctions for GPU-hours: buyers (cloud providers, training labs) x AI data centres (sellers).

Pure functions, numpy in / numpy out. Two products:

* :func:`clear_compute_market`, the daily product: every simulated day each cloud provider ``p``
  submits bid steps (quantity, limit price) for GPU-hours of the day and each AI data centre
  (AIDC) ``a`` submits ask steps; one call auction clears them.
* :func:`clear_hourly_compute_market`, the hourly products: GPU capacity is traded for the hour in
  which it is used. Each step names its hour ``h`` in 0..H-1 (H = ``n_hours``, 24 by default), and
  hour ``h`` is a separate capacity product with its own price: exactly the daily auction below
  applied to the steps of hour ``h`` on the same edges, with the same price convention. This is
  peak-load pricing: in idle hours capacity is left over and the price falls to the asks, in tight
  hours capacity binds and the price rises to the bids that are rationed. Buyers are cloud
  providers and training labs alike. All H hours are cleared in one call. The fast path applies
  when the edges are complete bipartite inside every component (the same in every hour): one
  compiled kernel runs the merit order of every component-hour (the base graph's components are
  computed once; component-hour label ``h * n_comp + component``) and writes flows straight into a
  (B, A, H) array. Results: bid / ask fills, ``flow_gpu_hours`` (B, A, H), ``buyer_price`` (B, H),
  ``aidc_price`` (A, H), total surplus. The LP path solves the block-diagonal problem of
  buyer-hour x AIDC-hour nodes (edges ``kron(eye(H), edges)``) with :func:`_clear_lp`, whose
  components are the component-hours, so both the LP and its lattice of optimal prices split into
  the H hourly problems; the result is mapped back to the (B, A, H) / (B, H) / (A, H) shapes.
  (Quantities are divided by the largest one for the solve and multiplied back after: prices do
  not change, and HiGHS' absolute tolerances then hold for tiny and huge markets alike.)

The daily auction (hour by hour, the same with buyer ``b`` for provider ``p``)
------------------------------------------------------------------------------
A provider may only buy from the AIDCs it is connected to (``edges[p, a]``); there is no
trans-shipment, so the problem is a bipartite transportation problem::

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
nodes of a component get one uniform price. The merit order runs in compiled (numba) kernels: a
day's market is a handful of steps, so per-call overhead, not arithmetic, is what costs.

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

import operator
from dataclasses import dataclass

import numpy as np
from numba import njit

from tokenomy.abm.markets.graph import components
from tokenomy.agents.numeric import psum

__all__ = ["ComputeClearing", "HourlyComputeClearing", "clear_compute_market", "clear_hourly_compute_market"]

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
    # contiguous int64 / float64 / bool arrays: the kernels compile once for these types
    edges = np.ascontiguousarray(edges, dtype=bool)
    if edges.ndim != 2:
        raise ValueError("edges must be a (P, A) boolean matrix")
    P, A = edges.shape
    bp, qb, pb = _vector(bid_provider, np.int64), _vector(bid_gpu_hours), _vector(bid_price)
    aa, qa, pa = _vector(ask_aidc, np.int64), _vector(ask_gpu_hours), _vector(ask_price)
    K, J = bp.size, aa.size
    if qb.size != K or pb.size != K or qa.size != J or pa.size != J:
        raise ValueError("bid (ask) arrays must all have the same length")
    # one kernel call checks the steps and, in the daily case (every provider connected to every
    # AIDC), clears that single pool too
    err, cleared, out, surplus = _check_and_clear_pool(bp, qb, pb, aa, qa, pa, edges, not force_lp)
    if err:
        raise ValueError(_STEP_ERRORS[err])
    if not cleared and not force_lp:
        lab_p, lab_a, n_comp, cleared = _components(edges)
        if cleared:  # complete bipartite inside every component
            out, surplus = _merit_order(bp, qb, pb, aa, qa, pa, lab_p, lab_a, n_comp)
    if not cleared:
        return _clear_lp(bp, qb, pb, aa, qa, pa, edges)
    # unpack the kernel output [bid fill | ask fill | flow | provider price | AIDC price] (views)
    i, j, f = K, K + J, K + J + P * A
    return ComputeClearing(out[:i], out[i:j], out[j:f].reshape(P, A), out[f : f + P], out[f + P :], surplus, False)


def _vector(x, dtype=np.float64) -> np.ndarray:
    """``x`` as a contiguous 1-d array of ``dtype`` (flattened), without a copy when it already is one."""
    x = np.ascontiguousarray(x, dtype=dtype)
    return x if x.ndim == 1 else x.reshape(-1)


_STEP_ERRORS = {
    1: "bid_provider out of range 0..P-1",
    2: "ask_aidc out of range 0..A-1",
    3: "quantities must be >= 0",
}


@njit(cache=True)
def _check_and_clear_pool(bp, qb, pb, aa, qa, pa, edges, try_pool):
    """Checks the steps; then, if ``try_pool`` and all edges are present, clears that single pool.

    Returns (error code: a key of ``_STEP_ERRORS`` or 0; cleared; the output of :func:`_merit_order`
    if cleared, else an empty array and 0.0).
    """
    P, A = edges.shape
    for k in range(bp.size):
        if bp[k] < 0 or bp[k] >= P:
            return 1, False, np.empty(0), 0.0
    for j in range(aa.size):
        if aa[j] < 0 or aa[j] >= A:
            return 2, False, np.empty(0), 0.0
    for q in (qb, qa):
        for i in range(q.size):
            if q[i] < 0.0:
                return 3, False, np.empty(0), 0.0
    complete = try_pool and P > 0 and A > 0
    if complete:
        for p in range(P):
            for a in range(A):
                complete &= edges[p, a]
    if not complete:
        return 0, False, np.empty(0), 0.0
    out, surplus = _merit_order(bp, qb, pb, aa, qa, pa, np.zeros(P, np.int64), np.zeros(A, np.int64), 1)
    return 0, True, out, surplus


# --------------------------------------------------------------------------------------------
# graph structure
# --------------------------------------------------------------------------------------------
def _components(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Connected components of the bipartite graph and whether each one is complete bipartite
    (:func:`abm.markets.graph.components`, cached).

    Returns (label of each provider, label of each AIDC, number of components, complete).
    """
    return components(edges)


# --------------------------------------------------------------------------------------------
# fast path: merit order per component (numba kernels)
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _merit_order(bp, qb, pb, aa, qa, pa, lab_p, lab_a, n_comp):  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    """Merit order in every component (each complete bipartite). Zero-quantity steps are ignored.

    Returns (out, surplus), ``out`` = [bid fill (K) | ask fill (J) | flow (P*A, row-major) |
    provider price (P) | AIDC price (A)] in one buffer (one array to hand back to Python).
    """
    K, J = qb.size, qa.size
    P, A = lab_p.size, lab_a.size
    out = np.zeros(K + J + P * A + P + A)
    bid_fill = out[:K]
    ask_fill = out[K : K + J]
    flow = out[K + J : K + J + P * A].reshape((P, A))
    price_p = out[K + J + P * A : K + J + P * A + P]
    price_a = out[K + J + P * A + P :]
    # positive steps grouped by component, in index order (stable counting sort)
    b_ptr = np.zeros(n_comp + 1, np.int64)
    a_ptr = np.zeros(n_comp + 1, np.int64)
    for k in range(K):
        if qb[k] > 0.0:
            b_ptr[lab_p[bp[k]] + 1] += 1
    for j in range(J):
        if qa[j] > 0.0:
            a_ptr[lab_a[aa[j]] + 1] += 1
    for c in range(n_comp):
        b_ptr[c + 1] += b_ptr[c]
        a_ptr[c + 1] += a_ptr[c]
    b_idx = np.empty(b_ptr[n_comp], np.int64)
    a_idx = np.empty(a_ptr[n_comp], np.int64)
    b_at = b_ptr[:-1].copy()
    a_at = a_ptr[:-1].copy()
    for k in range(K):
        if qb[k] > 0.0:
            c = lab_p[bp[k]]
            b_idx[b_at[c]] = k
            b_at[c] += 1
    for j in range(J):
        if qa[j] > 0.0:
            c = lab_a[aa[j]]
            a_idx[a_at[c]] = j
            a_at[c] += 1

    comp_price = np.empty(n_comp)
    for c in range(n_comp):
        ib = b_idx[b_ptr[c] : b_ptr[c + 1]]
        ia = a_idx[a_ptr[c] : a_ptr[c + 1]]
        fb, fa, price = _pool(qb[ib], pb[ib], qa[ia], pa[ia])
        comp_price[c] = price
        bid_fill[ib] = fb
        ask_fill[ia] = fa

    # flows: flow[p, a] = X_p * Y_a / (sum of Y in the component), inside each component
    X = np.zeros(P)
    for k in range(K):
        X[bp[k]] += bid_fill[k]
    Y = np.zeros(A)
    for j in range(J):
        Y[aa[j]] += ask_fill[j]
    y_comp = np.empty(n_comp)
    buf = np.empty(A)
    for c in range(n_comp):
        n = 0
        for a in range(A):
            if lab_a[a] == c:
                buf[n] = Y[a]
                n += 1
        y_comp[c] = psum(buf[:n])
    for a in range(A):
        c = lab_a[a]
        if y_comp[c] > 0.0:
            ya = Y[a] / y_comp[c]
            for p in range(P):
                if lab_p[p] == c:
                    flow[p, a] = X[p] * ya
    for p in range(P):
        price_p[p] = comp_price[lab_p[p]]
    for a in range(A):
        price_a[a] = comp_price[lab_a[a]]
    surplus = np.dot(pb, bid_fill) - np.dot(pa, ask_fill)
    return out, surplus


@njit(cache=True)
def _pool(qb, pb, qa, pa):
    """Merit-order clearing of one pool; all quantities > 0. Returns (bid fill, ask fill, price)."""
    nb, na = qb.size, qa.size
    bid_fill = np.empty(nb)
    ask_fill = np.empty(na)
    price = _pool_into(qb, pb, qa, pa, _scratch(nb, na), bid_fill, ask_fill)
    return bid_fill, ask_fill, price


@njit(cache=True)
def _scratch(nb, na):
    """Work arrays for :func:`_pool_into` on pools of up to ``nb`` bids and ``na`` asks (allocated once per call of
    a market, not once per pool)."""
    return (
        np.empty(nb, np.int64),
        np.empty(na, np.int64),
        np.empty(nb + 1),
        np.empty(na + 1),
        np.empty(nb),
        np.empty(na),
    )


@njit(cache=True)
def _pool_into(qb, pb, qa, pa, scratch, bid_fill, ask_fill):
    """:func:`_pool` writing the fills into ``bid_fill`` and ``ask_fill`` and working in ``scratch``; returns the
    price."""
    nb, na = qb.size, qa.size
    ob, oa, cb, ca, rb, ra = scratch
    ob, oa, cb, ca, rb, ra = ob[:nb], oa[:na], cb[: nb + 1], ca[: na + 1], rb[:nb], ra[:na]
    _stable_order(pb, -1.0, ob)  # bids by descending price, ties in index order
    _stable_order(pa, 1.0, oa)  # asks by ascending price
    cb[0] = 0.0  # cumulative volume along the merit order
    for i in range(nb):
        cb[i + 1] = cb[i] + qb[ob[i]]
    ca[0] = 0.0
    for j in range(na):
        ca[j + 1] = ca[j] + qa[oa[j]]
    # traded volume: max over bids of min(bid volume up to it, ask volume at prices <= its price)
    vol = 0.0
    j = na
    for i in range(nb):
        while j > 0 and pa[oa[j - 1]] > pb[ob[i]]:
            j -= 1
        v = min(cb[i + 1], ca[j])
        if v > vol:
            vol = v
    # pro rata within a price level: volume strictly better than the level, and level volume
    _level_ratios_into(pb, ob, cb, vol, rb)
    _level_ratios_into(pa, oa, ca, vol, ra)
    # fill ratios are non-increasing along the merit order: accepted = prefix, rejected = suffix.
    # price interval [lo, hi]: lo = max(best rejected bid, marginal accepted ask),
    # hi = min(marginal accepted bid, best rejected ask); midpoint convention.
    b_acc, b_full = _count_accepted(rb)
    a_acc, a_full = _count_accepted(ra)
    lo = pb[ob[b_full]] if b_full < nb else -np.inf
    if a_acc and pa[oa[a_acc - 1]] > lo:
        lo = pa[oa[a_acc - 1]]
    hi = pb[ob[b_acc - 1]] if b_acc else np.inf
    if a_full < na and pa[oa[a_full]] < hi:
        hi = pa[oa[a_full]]
    for i in range(nb):
        bid_fill[ob[i]] = qb[ob[i]] * rb[i]
    for j in range(na):
        ask_fill[oa[j]] = qa[oa[j]] * ra[j]
    return _midpoint_scalar(lo, hi)


@njit(cache=True)
def _stable_order(values, sign, order):
    """Indices sorting ``sign * values`` ascending, ties in index order, NaN last: ``np.argsort(sign * values,
    kind="mergesort")`` (a stable sort has one answer), by insertion for the few steps of a pool."""
    n = values.size
    if n > 64:
        order[:] = np.argsort(sign * values, kind="mergesort")
        return
    for i in range(n):
        order[i] = i
    for i in range(1, n):
        k = order[i]
        v = sign * values[k]
        j = i
        while j > 0:
            w = sign * values[order[j - 1]]
            if v < w or (w != w and v == v):  # v goes before w (NaN sorts last)
                order[j] = order[j - 1]
                j -= 1
            else:
                break
        order[j] = k


@njit(cache=True)
def _midpoint_scalar(lo, hi):
    """Midpoint of [lo, hi]; a single finite bound if the other is infinite; NaN if both are."""
    if lo > -np.inf:
        return 0.5 * (lo + hi) if hi < np.inf else lo
    return hi if hi < np.inf else np.nan


@njit(cache=True)
def _level_ratios_into(prices, order, cum, vol, ratio):
    """Fill ratio of each step along the merit order (``prices[order]``), shared pro rata within a price level.

    Equal prices are adjacent in the order; ``cum`` is the cumulative volume (n + 1).  Ratios within _SNAP of 0 or 1
    are snapped.  A level whose volume vanishes in float rounding against the volume before it gets ratio 0.
    """
    n = order.size
    s = 0
    while s < n:
        e = s + 1
        while e < n and prices[order[e]] == prices[order[s]]:
            e += 1
        before = cum[s]
        level = cum[e] - before
        r = min(max(vol - before, 0.0), level) / level if level > 0.0 else 0.0
        if r > 1.0 - _SNAP:
            r = 1.0
        elif r < _SNAP:
            r = 0.0
        ratio[s:e] = r
        s = e


@njit(cache=True)
def _count_accepted(ratio):
    """(number of steps with a positive fill ratio, number completely filled)."""
    acc = full = 0
    for r in ratio:
        acc += r != 0.0
        full += r == 1.0
    return acc, full


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
    # scipy loads only when a market needs an LP (most days need none)
    from scipy import sparse
    from scipy.optimize import linprog

    P, A = edges.shape
    K, J = qb.size, qa.size
    ep, ea = np.nonzero(edges)
    E = ep.size
    nvar = K + J + E
    flow = np.zeros((P, A))
    if nvar == 0:  # no steps and no edges: nothing to price
        return ComputeClearing(np.zeros(0), np.zeros(0), flow, np.full(P, np.nan), np.full(A, np.nan), 0.0, True)
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
    from scipy.sparse.csgraph import NegativeCycleError, csgraph_from_dense, shortest_path

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


# --------------------------------------------------------------------------------------------
# hourly products: one call auction per hour, all hours cleared in one call
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HourlyComputeClearing:
    """Result of :func:`clear_hourly_compute_market`. GPU-hours and CNY/GPU-hour, hour ``h`` last."""

    bid_filled_gpu_hours: np.ndarray  # (K,)
    ask_filled_gpu_hours: np.ndarray  # (J,)
    flow_gpu_hours: np.ndarray  # (B, A, H) GPU-hours buyer b buys from AIDC a in hour h
    buyer_price: np.ndarray  # (B, H)
    aidc_price: np.ndarray  # (A, H)
    surplus_cny: float
    used_lp: bool


_HOURLY_STEP_ERRORS = {
    1: "bid_buyer out of range 0..B-1",
    2: "bid_hour out of range 0..H-1",
    3: "ask_aidc out of range 0..A-1",
    4: "ask_hour out of range 0..H-1",
    5: "quantities must be >= 0",
}


def clear_hourly_compute_market(
    bid_buyer: np.ndarray,
    bid_hour: np.ndarray,
    bid_gpu_hours: np.ndarray,
    bid_price: np.ndarray,
    ask_aidc: np.ndarray,
    ask_hour: np.ndarray,
    ask_gpu_hours: np.ndarray,
    ask_price: np.ndarray,
    edges: np.ndarray,
    n_hours: int = 24,
    *,
    force_lp: bool = False,
) -> HourlyComputeClearing:
    """Clear ``n_hours`` hourly GPU-capacity products in one call (see the module docstring).

    Hour ``h`` is an independent market: exactly :func:`clear_compute_market` applied to the steps
    of hour ``h`` on the same ``edges``, with the same price convention.

    Args:
        bid_buyer: (K,) int, buyer (cloud provider or training lab) of each bid step, in 0..B-1.
        bid_hour: (K,) int, hour of each bid step, in 0..H-1.
        bid_gpu_hours: (K,) >= 0, quantity of each bid step (GPU-hours in that hour).
        bid_price: (K,) limit price (maximum willing to pay), CNY per GPU-hour.
        ask_aidc: (J,) int, selling AIDC of each ask step, in 0..A-1.
        ask_hour: (J,) int, hour of each ask step, in 0..H-1.
        ask_gpu_hours: (J,) >= 0, quantity of each ask step.
        ask_price: (J,) minimum acceptable price, CNY per GPU-hour.
        edges: (B, A) bool, buyer b may buy from AIDC a (in every hour).
        n_hours: H, the number of hourly products (>= 1).
        force_lp: solve with the LP path even when the fast path applies (testing/benchmarks).
    """
    edges = np.ascontiguousarray(edges, dtype=bool)
    if edges.ndim != 2:
        raise ValueError("edges must be a (B, A) boolean matrix")
    H = operator.index(n_hours)
    if H < 1:
        raise ValueError("n_hours must be >= 1")
    B, A = edges.shape
    bb, bh = _vector(bid_buyer, np.int64), _vector(bid_hour, np.int64)
    aa, ah = _vector(ask_aidc, np.int64), _vector(ask_hour, np.int64)
    qb, pb, qa, pa = _vector(bid_gpu_hours), _vector(bid_price), _vector(ask_gpu_hours), _vector(ask_price)
    K, J = bb.size, aa.size
    if bh.size != K or qb.size != K or pb.size != K or ah.size != J or qa.size != J or pa.size != J:
        raise ValueError("bid (ask) arrays must all have the same length")
    # the base graph's components once; component-hour label = h * n_comp + component
    lab_b, lab_a, n_comp, complete = _components(edges)
    fast = complete and not force_lp
    # one kernel call checks the steps and, on the fast path (every component complete bipartite),
    # clears all component-hours by merit order
    err, out, surplus, _, _ = _check_and_clear_hours(bb, bh, qb, pb, aa, ah, qa, pa, lab_b, lab_a, n_comp, H, fast)
    if err:
        raise ValueError(_HOURLY_STEP_ERRORS[err])
    if not fast:
        return _clear_hourly_lp(bb, bh, qb, pb, aa, ah, qa, pa, edges, H)
    # unpack [bid fill | ask fill | flow (B, A, H) | buyer price (B, H) | AIDC price (A, H)] (views)
    i, j, f, g = K, K + J, K + J + B * A * H, K + J + B * A * H + B * H
    return HourlyComputeClearing(
        out[:i], out[i:j], out[j:f].reshape(B, A, H), out[f:g].reshape(B, H), out[g:].reshape(A, H), surplus, False
    )


@njit(cache=True)
def _check_and_clear_hours(bb, bh, qb, pb, aa, ah, qa, pa, lab_b, lab_a, n_comp, n_hours, clear, dense=True):  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    """Checks the steps; then, if ``clear``, merit order in every component-hour.

    Every component of the base graph must be complete bipartite. Returns (error code: a key of
    ``_HOURLY_STEP_ERRORS`` or 0; out; surplus; X; Y share) with ``out`` = [bid fill (K) | ask fill (J) |
    flow (B*A*H, row-major (B, A, H); left out unless ``dense``) | buyer price (B*H) | AIDC price (A*H)],
    or an empty array and 0.0 if not ``clear``; X (B, H) what each buyer bought in each hour and Y share
    (A, H) each AIDC's share of its component-hour's sales (0 where nothing sold), whose product is the
    flow of a pair that can trade. Within a component-hour everything is as in :func:`_merit_order`
    (same step order, same kernels), so each hour's result is bit-identical to the daily market's.
    """
    K, J = qb.size, qa.size
    B, A, H = lab_b.size, lab_a.size, n_hours
    for k in range(K):
        if bb[k] < 0 or bb[k] >= B:
            return 1, np.empty(0), 0.0, np.empty((0, 0)), np.empty((0, 0))
    for k in range(K):
        if bh[k] < 0 or bh[k] >= H:
            return 2, np.empty(0), 0.0, np.empty((0, 0)), np.empty((0, 0))
    for j in range(J):
        if aa[j] < 0 or aa[j] >= A:
            return 3, np.empty(0), 0.0, np.empty((0, 0)), np.empty((0, 0))
    for j in range(J):
        if ah[j] < 0 or ah[j] >= H:
            return 4, np.empty(0), 0.0, np.empty((0, 0)), np.empty((0, 0))
    for q in (qb, qa):
        for i in range(q.size):
            if q[i] < 0.0:
                return 5, np.empty(0), 0.0, np.empty((0, 0)), np.empty((0, 0))
    if not clear:
        return 0, np.empty(0), 0.0, np.empty((0, 0)), np.empty((0, 0))

    n_ch = H * n_comp
    n_flow = B * A * H if dense else 0
    out = np.zeros(K + J + n_flow + B * H + A * H)
    bid_fill = out[:K]
    ask_fill = out[K : K + J]
    f0 = K + J + n_flow
    flow = out[K + J : f0].reshape((B if dense else 0, A, H))
    price_b = out[f0 : f0 + B * H].reshape((B, H))
    price_a = out[f0 + B * H :].reshape((A, H))
    # positive steps grouped by component-hour, in index order (stable counting sort)
    b_ptr = np.zeros(n_ch + 1, np.int64)
    a_ptr = np.zeros(n_ch + 1, np.int64)
    for k in range(K):
        if qb[k] > 0.0:
            b_ptr[bh[k] * n_comp + lab_b[bb[k]] + 1] += 1
    for j in range(J):
        if qa[j] > 0.0:
            a_ptr[ah[j] * n_comp + lab_a[aa[j]] + 1] += 1
    for c in range(n_ch):
        b_ptr[c + 1] += b_ptr[c]
        a_ptr[c + 1] += a_ptr[c]
    # the positive steps gathered in that order once, so each pool is a contiguous slice (no copies)
    nb, na = b_ptr[n_ch], a_ptr[n_ch]
    b_idx, qb_g, pb_g = np.empty(nb, np.int64), np.empty(nb), np.empty(nb)
    a_idx, qa_g, pa_g = np.empty(na, np.int64), np.empty(na), np.empty(na)
    b_at = b_ptr[:-1].copy()
    a_at = a_ptr[:-1].copy()
    for k in range(K):
        if qb[k] > 0.0:
            c = bh[k] * n_comp + lab_b[bb[k]]
            i = b_at[c]
            b_idx[i], qb_g[i], pb_g[i] = k, qb[k], pb[k]
            b_at[c] += 1
    for j in range(J):
        if qa[j] > 0.0:
            c = ah[j] * n_comp + lab_a[aa[j]]
            i = a_at[c]
            a_idx[i], qa_g[i], pa_g[i] = j, qa[j], pa[j]
            a_at[c] += 1

    ch_price = np.full(n_ch, np.nan)  # a component-hour without a positive step has no price
    largest_b = largest_a = 0
    for c in range(n_ch):
        largest_b = max(largest_b, b_ptr[c + 1] - b_ptr[c])
        largest_a = max(largest_a, a_ptr[c + 1] - a_ptr[c])
    scratch = _scratch(largest_b, largest_a)
    fb, fa = np.empty(nb), np.empty(na)
    for c in range(n_ch):
        b0, b1, a0, a1 = b_ptr[c], b_ptr[c + 1], a_ptr[c], a_ptr[c + 1]
        if b0 == b1 and a0 == a1:
            continue
        ch_price[c] = _pool_into(qb_g[b0:b1], pb_g[b0:b1], qa_g[a0:a1], pa_g[a0:a1], scratch, fb[b0:b1], fa[a0:a1])
        for i in range(b1 - b0):
            bid_fill[b_idx[b0 + i]] = fb[b0 + i]
        for i in range(a1 - a0):
            ask_fill[a_idx[a0 + i]] = fa[a0 + i]

    # flows per component-hour: flow[b, a, h] = X[b, h] * Y[a, h] / (sum of Y in the component-hour)
    X = np.zeros((B, H))
    for k in range(K):
        X[bb[k], bh[k]] += bid_fill[k]
    Y = np.zeros((A, H))
    for j in range(J):
        Y[aa[j], ah[j]] += ask_fill[j]
    buf = np.empty(A)
    y_share = np.zeros((A, H))
    for h in range(H):
        for c in range(n_comp):
            n = 0
            for a in range(A):
                if lab_a[a] == c:
                    buf[n] = Y[a, h]
                    n += 1
            y_comp = psum(buf[:n])
            if y_comp > 0.0:
                for a in range(A):
                    if lab_a[a] == c:
                        ya = Y[a, h] / y_comp
                        y_share[a, h] = ya
                        if dense:
                            for b in range(B):
                                if lab_b[b] == c:
                                    flow[b, a, h] = X[b, h] * ya
        for b in range(B):
            price_b[b, h] = ch_price[h * n_comp + lab_b[b]]
        for a in range(A):
            price_a[a, h] = ch_price[h * n_comp + lab_a[a]]
    surplus = np.dot(pb, bid_fill) - np.dot(pa, ask_fill)
    return 0, out, surplus, X, y_share


def _clear_hourly_lp(bb, bh, qb, pb, aa, ah, qa, pa, edges, H) -> HourlyComputeClearing:
    """LP path: :func:`_clear_lp` on the block-diagonal problem of buyer-hour x AIDC-hour nodes.

    Node (b, h) is buyer-hour ``h * B + b``, (a, h) is AIDC-hour ``h * A + a``, and the expanded
    edges are ``kron(eye(H), edges)``: the hours share no edge, so the LP, its components (the
    component-hours) and its lattice of optimal duals split into the H daily problems. Quantities
    are scaled by the largest one before the solve and back after (the prices do not change; HiGHS'
    absolute tolerances then act relative to the market's size).
    """
    B, A = edges.shape
    scale = max(float(qb.max(initial=0.0)), float(qa.max(initial=0.0)))
    scale = scale if 0.0 < scale < np.inf else 1.0
    r = _clear_lp(bh * B + bb, qb / scale, pb, ah * A + aa, qa / scale, pa, np.kron(np.eye(H, dtype=bool), edges))
    f = r.flow_gpu_hours.reshape(H, B, H, A)
    hours = np.arange(H)
    flow = np.ascontiguousarray(f[hours, :, hours, :].transpose(1, 2, 0)) * scale  # (H, B, A) -> (B, A, H)
    bid_fill = np.minimum(r.bid_filled_gpu_hours * scale, qb)
    ask_fill = np.minimum(r.ask_filled_gpu_hours * scale, qa)
    return HourlyComputeClearing(
        bid_fill,
        ask_fill,
        flow,
        np.ascontiguousarray(r.provider_price.reshape(H, B).T),
        np.ascontiguousarray(r.aidc_price.reshape(H, A).T),
        float(pb @ bid_fill - pa @ ask_fill),
        True,
    )
