"""Compiled fast path of the power market: exact merit-order clearing of a forest grid, hour by hour.

The market of one hour on a network without cycles (a forest, in the transport model) is cleared as
follows (see :mod:`abm.markets.power` for the problem and the price convention):

1. Every connected component is one merit-order market: offers, bids and the component's unserved
   load (an offer at the price cap) sorted by price, ties by index.
2. The flows the injections imply on the forest are computed.  If no line is overloaded, done.
3. Otherwise overloaded lines are fixed at their limit in the violated direction: the grid splits
   there, the fixed exchange becomes extra demand on the exporting side and a fixed supply on the
   importing side, and each part is cleared again.  A fixed line whose prices point the wrong way is
   released, a newly overloaded line is fixed; repeated (bounded) until nothing changes.  The result
   is accepted only if a KKT certificate holds (balance, limits, and every line either priced flat
   or at its limit toward the dearer end); otherwise the hour is flagged for the LP.

The work per hour is a handful of passes over a few dozen items, so it is written as plain loops
compiled by numba: a numpy formulation spends its time in per-call overhead at these sizes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PRICE_TOL = 1e-9  # price tolerance of the congestion certificate (CNY/MWh, relative to max(1, |price|))


@njit(cache=True)
def _find(parent, a):
    while parent[a] != a:
        a = parent[a]
    return a


@njit(cache=True)
def _components(Z, frm, to, fixed_sign, comp):
    """Label ``comp`` (Z,) with the components of the forest without its fixed lines (labels in order of
    each component's first zone); return their count."""
    parent = np.arange(Z)
    for k in range(frm.size):
        if fixed_sign[k] == 0.0:
            a, b = _find(parent, frm[k]), _find(parent, to[k])
            if a != b:
                parent[max(a, b)] = min(a, b)
    label = np.full(Z, -1)
    n = 0
    for z in range(Z):
        r = _find(parent, z)
        if label[r] < 0:
            label[r] = n
            n += 1
        comp[z] = label[r]
    return n


@njit(cache=True)
def _clear_components(  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    price_h,
    qty_h,
    order,
    N,
    M,
    item_zone,
    load_z,
    comp,
    C,
    export_z,
    with_export,
    price_z,
    alloc,
    unserved_z,
    load_c,
    dfix,
    s0,
):
    """Merit-order clearing of every component for one hour.  Fills ``price_z``, ``alloc`` (offers and bids)
    and ``unserved_z``; returns True if some component cannot clear without spilling or without delivering
    its fixed exports (only possible ``with_export``)."""
    K = price_h.size
    Z = load_z.size
    for c in range(C):
        load_c[c] = 0.0
        dfix[c] = 0.0
    for z in range(Z):
        load_c[comp[z]] += load_z[z]
        dfix[comp[z]] += export_z[z]
    for c in range(C):
        net = load_c[c] + dfix[c]
        dfix[c] = max(net, 0.0)
        s0[c] = max(-net, 0.0)
    bad = False
    for c in range(C):
        # totals of the component: all bids, all supply (incl. unserved load at the cap)
        btot = 0.0
        stot = 0.0
        for j in range(K):
            i = order[j]
            if i == K - 1:
                stot += load_c[c]
            elif comp[item_zone[i]] == c:
                if i >= N:
                    btot += qty_h[i]
                else:
                    stot += qty_h[i]
        # the largest valid price: the last item of the prefix with s0 + S(< p) + D(< p) <= dfix + btot
        cs = 0.0
        cd = 0.0
        pstar_set = False
        pstar = 0.0
        first = True
        nok = 0
        for j in range(K):
            i = order[j]
            if i == K - 1:
                q = load_c[c]
            elif comp[item_zone[i]] == c:
                q = qty_h[i]
            else:
                continue
            if first:
                pstar = price_h[i]  # used when no item is ok
                first = False
            if cs + cd + s0[c] <= dfix[c] + btot:
                nok += 1
                pstar = price_h[i]
                pstar_set = True
            else:
                break
            if i < N or i == K - 1:
                cs += q
            else:
                cd += q
        if with_export and (not pstar_set or stot + s0[c] < dfix[c] * (1.0 - 1e-12) - 1e-9):
            bad = True
        # traded quantity: supply priced below p*, demand priced above it (minimal trade); the unserved
        # load is priced at the cap, never below p*
        t_s = 0.0
        t_d = 0.0
        for j in range(K):
            i = order[j]
            if i != K - 1 and comp[item_zone[i]] == c:
                if i < N:
                    if price_h[i] < pstar:
                        t_s += qty_h[i]
                elif price_h[i] > pstar:
                    t_d += qty_h[i]
        q_trade = max(s0[c] + t_s, dfix[c] + t_d)
        # allocate: supply in merit order, bids from the dearest down
        cs = 0.0
        cd = 0.0
        unserved_c = 0.0
        for j in range(K):
            i = order[j]
            if i == K - 1:
                q = load_c[c]
                unserved_c = min(q, max(q_trade - s0[c] - cs, 0.0))
                cs += q
            elif comp[item_zone[i]] == c:
                q = qty_h[i]
                if i < N:
                    alloc[i] = min(q, max(q_trade - s0[c] - cs, 0.0))
                    cs += q
                else:
                    cd += q
                    alloc[i] = min(q, max(q_trade - dfix[c] - (btot - cd), 0.0))
        for z in range(Z):
            if comp[z] == c:
                price_z[z] = pstar
                if unserved_c > 0.0:
                    share = load_z[z] / load_c[c] if load_c[c] > 0.0 else load_z[z]
                    unserved_z[z] = min(unserved_c * share, load_z[z])
                else:
                    unserved_z[z] = 0.0
    return bad


@njit(cache=True)
def _injections(N, M, item_zone, alloc, load_z, unserved_z, inj):
    for z in range(load_z.size):
        inj[z] = unserved_z[z] - load_z[z]
    for i in range(N):
        inj[item_zone[i]] += alloc[i]
    for i in range(N, N + M):
        inj[item_zone[i]] -= alloc[i]


@njit(cache=True)
def _tree_flows(inj, tree_inc_t, flows):
    """Flows (La,) on the forest's lines implied by the zones' net injections (Z,)."""
    for k in range(flows.size):
        f = 0.0
        for z in range(inj.size):
            f += inj[z] * tree_inc_t[z, k]
        flows[k] = f


@njit(cache=True)
def _line_flow(fixed_sign, implied, limit):
    """A fixed line carries its limit in its direction; any other its implied flow, within the limit."""
    return fixed_sign * limit if fixed_sign != 0.0 else min(max(implied, -limit), limit)


@njit(cache=True)
def clear_forest(P, Q, N, M, Z, item_zone, frm, to, tree_inc_t, limit, base_comp, C0, max_rounds):  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    """Clear every hour of a forest grid.

    ``P`` (H, K) clipped prices of [offers, bids, unserved load at the cap]; ``Q`` (H, >= K + Z) quantities
    [offers, bids, total load, load per zone, ...]; ``item_zone`` (N + M,) zone of each offer and bid;
    ``frm``/``to`` (La,) the lines; ``tree_inc_t`` (Z, La) flow on each line per unit injection at each
    zone; ``limit`` (H, La); ``base_comp`` (Z,) the forest's components, labels ``0..C0-1``.
    Returns price (H, Z), alloc (H, N + M), unserved (H, Z), flow (H, La) and ``need_lp`` (H,): hours
    whose congested clearing could not be certified (their results are not set)."""
    H, K = P.shape
    La = frm.size
    price = np.empty((H, Z))
    alloc = np.zeros((H, N + M))
    unserved = np.empty((H, Z))
    flow = np.zeros((H, La))
    need_lp = np.zeros(H, dtype=np.bool_)
    comp = np.empty(Z, dtype=np.int64)
    load_c = np.empty(Z)
    dfix = np.empty(Z)
    s0 = np.empty(Z)
    export = np.zeros(Z)
    inj = np.empty(Z)
    fa = np.empty(La)
    fsign = np.zeros(La)
    lim_tol = np.empty(La)
    for h in range(H):
        price_h = P[h]
        qty_h = Q[h]
        load_z = Q[h, K : K + Z]
        order = np.argsort(price_h, kind="mergesort")
        _clear_components(
            price_h,
            qty_h,
            order,
            N,
            M,
            item_zone,
            load_z,
            base_comp,
            C0,
            export,
            False,
            price[h],
            alloc[h],
            unserved[h],
            load_c,
            dfix,
            s0,
        )
        if La == 0:
            continue
        _injections(N, M, item_zone, alloc[h], load_z, unserved[h], inj)
        _tree_flows(inj, tree_inc_t, fa)
        over = False
        for k in range(La):
            f = fa[k]
            lim = limit[h, k]
            lim_tol[k] = lim * (1.0 + 1e-12) + 1e-9
            if abs(f) > lim_tol[k]:
                over = True
                fsign[k] = 1.0 if f > 0 else -1.0
            else:
                fsign[k] = 0.0
            flow[h, k] = min(max(f, -lim), lim)
        if not over:
            continue
        # congested: fix the overloaded lines and clear the parts, until consistent
        accepted = False
        pr = np.empty(Z)
        al = np.empty(N + M)
        un = np.empty(Z)
        for _ in range(max_rounds):
            C = _components(Z, frm, to, fsign, comp)
            export[:] = 0.0
            for k in range(La):
                if fsign[k] != 0.0:
                    f = fsign[k] * limit[h, k]
                    export[frm[k]] += f
                    export[to[k]] -= f
            bad = _clear_components(
                price_h, qty_h, order, N, M, item_zone, load_z, comp, C, export, True, pr, al, un, load_c, dfix, s0
            )
            if bad:
                break
            _injections(N, M, item_zone, al, load_z, un, inj)
            _tree_flows(inj, tree_inc_t, fa)
            failed = False
            for k in range(La):
                f = fa[k]
                pf, pt = pr[frm[k]], pr[to[k]]
                tol = PRICE_TOL * max(1.0, max(abs(pf), abs(pt)))
                if fsign[k] == 0.0:
                    if abs(f) > lim_tol[k]:
                        fsign[k] = 1.0 if f > 0 else -1.0
                        failed = True
                elif fsign[k] * (pf - pt) > tol and limit[h, k] > 0.0:
                    fsign[k] = 0.0
                    failed = True
            if failed:
                continue
            accepted = _certified(h, Q[h, N + M], inj, fa, fsign, limit, frm, to, pr, Z)
            break
        export[:] = 0.0
        if not accepted:
            need_lp[h] = True
            continue
        for k in range(La):
            flow[h, k] = _line_flow(fsign[k], fa[k], limit[h, k])
        price[h] = pr
        alloc[h] = al
        unserved[h] = un
    return price, alloc, unserved, flow, need_lp


@njit(cache=True)
def _certified(h, load_total, inj, fa, fsign, limit, frm, to, pr, Z):
    """KKT check of a congested hour: balance in every zone, limits, and network duals."""
    La = frm.size
    resid = inj.copy()
    afl = 0.0
    fl = np.empty(La)
    for k in range(La):
        f = _line_flow(fsign[k], fa[k], limit[h, k])
        fl[k] = f
        resid[frm[k]] -= f
        resid[to[k]] += f
        afl += abs(f)
    scale = 1.0 + load_total + afl
    for z in range(Z):
        if abs(resid[z]) > 1e-9 * scale:
            return False
    for k in range(La):
        lim = limit[h, k]
        f = fl[k]
        pf, pt = pr[frm[k]], pr[to[k]]
        tol = PRICE_TOL * max(1.0, max(abs(pf), abs(pt)))
        qtol = 1e-9 * max(1.0, lim)
        if abs(f) > lim * (1.0 + 1e-12) + 1e-9:
            return False
        if f < lim - qtol and pt - pf > tol:  # could carry more from -> to
            return False
        if f > -lim + qtol and pf - pt > tol:  # could carry more to -> from
            return False
    return True
