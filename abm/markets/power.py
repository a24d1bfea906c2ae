"""Zonal / nodal day-ahead power market, cleared as a pure function of numpy arrays.

One call clears the ``H`` hourly markets of a day (``H >= 1``).  Every hour is an independent
linear programme::

    min  sum(offer_price * dispatch) - sum(bid_price * served_bid)
         + price_cap * unserved + (-price_floor) * spill
    s.t. per zone z:  dispatch_z + unserved_z + imports_z = load_z + served_bids_z + exports_z + spill_z
         0 <= dispatch <= offer_mw,  0 <= served_bid <= bid_mw,  0 <= unserved <= load,  spill >= 0,
         |flow_l| <= line_limit_l,
         (DC power flow only) Kirchhoff's voltage law: sum over every cycle of x_l * flow_l = 0.

Offer and bid prices are clipped to ``[price_floor, price_cap]`` first.  The price of a zone is the
dual of its balance constraint (the marginal cost of serving one more MW of load there).

Two solution paths give the same optimum:

* **Fast path** (networks without cycles, i.e. forests, including a single zone): each connected
  component is cleared as one merit-order market per hour, vectorised over hours with numpy; the
  flows implied on the tree are computed with a precomputed subtree-incidence matrix.  Hours in which
  a line limit would be violated are handed to the LP path.  On a forest the DC power flow and the
  transport model coincide (the flows are fixed by the injections), so reactances are irrelevant.
* **LP path**: all remaining hours in one block-diagonal sparse LP solved with HiGHS
  (``scipy.optimize.linprog``).  Meshed networks always take this path.  With reactances the
  Kirchhoff constraints are written on a fundamental cycle basis of the grid.

Price convention where the dual is not unique
---------------------------------------------
On the fast path the price is the largest valid dual of the component, i.e. the *incremental cost*
of serving one more MW of load (right-hand derivative of the optimum with respect to load):

* a partially dispatched offer or partially served bid fixes the price (the dual is unique);
* when supply and demand meet on a step (e.g. load exactly equal to the capacity of the cheapest
  offers), the price is the price of the next, not yet dispatched, supply (or the price of the
  cheapest served bid, whichever is lower), capped at ``price_cap``;
* zero load and no bids -> the price of the cheapest offer with positive capacity; a zone with no
  offers at all -> ``price_cap`` (the next MW would be unserved).

Ties between equally priced offers are broken by offer index (lower index dispatched first, the
unserved-load "offer" at the cap after all real offers); equally priced bids by reverse index.  The
fast path never spills.  Unserved load of a component is shared among its zones pro rata to load.

On the LP path the price is the balance dual HiGHS returns (a valid dual, deterministic for given
input but not necessarily the one chosen above when the dual is degenerate).  In the transport model
the duals are clipped to ``[price_floor, price_cap]``, which keeps them valid duals.  In a *meshed DC*
network a nodal price can legitimately exceed ``price_cap`` (counter-flow at a node whose load is
zero or fully shed); it is returned unclipped because clipping would break the dual certificate.
Prices are never below ``price_floor`` (spill is always possible).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

__all__ = ["PowerMarketInput", "PowerMarketResult", "clear_power_market"]


@dataclass(frozen=True)
class PowerMarketInput:
    """The day-ahead market of one day: ``H`` hours, ``Z`` zones, ``N`` offers, ``M`` bids, ``L`` lines."""

    n_zones: int
    offer_zone: np.ndarray  # (N,) int, zone of each supply offer (generating units, storage discharge)
    offer_mw: np.ndarray  # (H, N) float >= 0, MW offered in each hour (availability already applied)
    offer_price: np.ndarray  # (H, N) CNY/MWh
    bid_zone: np.ndarray  # (M,) int, zone of each price-sensitive demand bid
    bid_mw: np.ndarray  # (H, M) float >= 0
    bid_price: np.ndarray  # (H, M) CNY/MWh, willingness to pay
    load_mw: np.ndarray  # (H, Z) inelastic load per zone (unserved at the price cap if it must be)
    line_from: np.ndarray  # (L,) int zone
    line_to: np.ndarray  # (L,) int zone
    line_limit_mw: np.ndarray  # (L,) or (H, L) float >= 0, thermal limit in both directions
    line_reactance: np.ndarray | None = None  # (L,) per-unit; None or all-NaN -> transport model
    price_cap: float = 1500.0  # value of lost load, CNY/MWh
    price_floor: float = -100.0  # CNY/MWh


@dataclass(frozen=True)
class PowerMarketResult:
    price: np.ndarray  # (H, Z) CNY/MWh, marginal price of each zone = dual of its balance
    offer_dispatch_mw: np.ndarray  # (H, N)
    bid_served_mw: np.ndarray  # (H, M)
    unserved_mw: np.ndarray  # (H, Z) inelastic load not served
    line_flow_mw: np.ndarray  # (H, L) positive = from -> to
    lp_hours: int  # how many hours needed the LP path


# ----------------------------------------------------------------------------------------------
# Network precomputation (cached per grid)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Network:
    n_zones: int
    active: np.ndarray  # indices of the lines that are not self-loops
    frm: np.ndarray  # (La,) from-zone of the active lines
    to: np.ndarray  # (La,) to-zone of the active lines
    n_comp: int
    comp: np.ndarray  # (Z,) component of each zone
    comp_onehot: np.ndarray  # (Z, C) float
    is_forest: bool
    tree_incidence_t: np.ndarray  # (Z, La): flows = injections @ this   (forest only, else empty)
    kvl: np.ndarray  # (n_cycles, La) rows x_l * cycle orientation (DC meshed only, else (0, La))
    dc: bool  # Kirchhoff constraints in the LP (DC power flow on a meshed grid)
    export_mat: np.ndarray  # (La, Z): +1 at the from-zone, -1 at the to-zone (zone exports = flows @ this)
    # components of the forest with a set of lines removed, keyed by the mask of removed lines
    sub: dict = field(default_factory=dict, compare=False, hash=False)


_NETWORK_CACHE: dict[tuple, _Network] = {}
_NETWORK_CACHE_MAX = 256


def _network(n_zones: int, line_from: np.ndarray, line_to: np.ndarray, x: np.ndarray | None) -> _Network:
    key = (n_zones, line_from.tobytes(), line_to.tobytes(), None if x is None else x.tobytes())
    net = _NETWORK_CACHE.get(key)
    if net is None:
        net = _build_network(n_zones, line_from, line_to, x)
        if len(_NETWORK_CACHE) >= _NETWORK_CACHE_MAX:
            _NETWORK_CACHE.clear()
        _NETWORK_CACHE[key] = net
    return net


def _build_network(n_zones: int, line_from: np.ndarray, line_to: np.ndarray, x: np.ndarray | None) -> _Network:
    active = np.flatnonzero(line_from != line_to)
    frm = line_from[active]
    to = line_to[active]
    la = active.size
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_zones)]
    for k in range(la):
        adj[frm[k]].append((to[k], k))
        adj[to[k]].append((frm[k], k))
    # BFS spanning forest: component, parent zone, parent line of every zone
    comp = np.full(n_zones, -1, dtype=np.int64)
    parent = np.full(n_zones, -1, dtype=np.int64)
    parent_line = np.full(n_zones, -1, dtype=np.int64)
    in_tree = np.zeros(la, dtype=bool)
    n_comp = 0
    for root in range(n_zones):
        if comp[root] >= 0:
            continue
        comp[root] = n_comp
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v, k in adj[u]:
                if comp[v] < 0:
                    comp[v] = n_comp
                    parent[v] = u
                    parent_line[v] = k
                    in_tree[k] = True
                    queue.append(v)
        n_comp += 1
    # Subtree incidence of the spanning forest: flow on tree line k (from -> to) caused by a unit
    # injection at zone z (withdrawn at the root of z's component) is inc[k, z].
    inc = np.zeros((la, n_zones))
    for z in range(n_zones):
        child = z
        while parent[child] >= 0:
            k = parent_line[child]
            inc[k, z] = 1.0 if frm[k] == child else -1.0
            child = parent[child]
    is_forest = bool(in_tree.all())
    export_mat = np.zeros((la, n_zones))
    export_mat[np.arange(la), frm] += 1.0
    export_mat[np.arange(la), to] -= 1.0
    comp_onehot = np.zeros((n_zones, n_comp))
    comp_onehot[np.arange(n_zones), comp] = 1.0
    dc = x is not None and not is_forest
    kvl = np.zeros((0, la))
    if dc:
        assert x is not None
        xa = x[active]
        rows = []
        for k in np.flatnonzero(~in_tree):
            # circulation: along line k from -> to, then back from `to` to `from` on the tree
            cyc = inc[:, to[k]] - inc[:, frm[k]]
            cyc[k] = 1.0
            rows.append(cyc * xa)
        kvl = np.array(rows)
    return _Network(
        n_zones=n_zones,
        active=active,
        frm=frm,
        to=to,
        n_comp=n_comp,
        comp=comp,
        comp_onehot=comp_onehot,
        is_forest=is_forest,
        tree_incidence_t=np.ascontiguousarray(inc.T) if is_forest else np.zeros((n_zones, 0)),
        kvl=kvl,
        dc=dc,
        export_mat=export_mat,
    )


def _split(net: _Network, mask: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Components of the network without the active lines in ``mask``: (comp, n_comp, comp_onehot)."""
    key = mask.tobytes()
    hit = net.sub.get(key)
    if hit is None:
        label = list(range(net.n_zones))

        def find(a: int) -> int:
            while label[a] != a:
                label[a] = label[label[a]]
                a = label[a]
            return a

        for k in np.flatnonzero(~mask):
            ra, rb = find(int(net.frm[k])), find(int(net.to[k]))
            if ra != rb:
                label[max(ra, rb)] = min(ra, rb)
        roots = np.array([find(z) for z in range(net.n_zones)])
        _, comp = np.unique(roots, return_inverse=True)
        n_comp = int(comp.max()) + 1
        onehot = np.zeros((net.n_zones, n_comp))
        onehot[np.arange(net.n_zones), comp] = 1.0
        hit = (comp.astype(np.int64), n_comp, onehot)
        if len(net.sub) >= 4096:
            net.sub.clear()
        net.sub[key] = hit
    return hit


# ----------------------------------------------------------------------------------------------
# Input preparation
# ----------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    H: int
    Z: int
    N: int
    M: int
    L: int
    oz: np.ndarray
    omw: np.ndarray
    op: np.ndarray
    bz: np.ndarray
    bmw: np.ndarray
    bp: np.ndarray
    load: np.ndarray
    limit: np.ndarray  # (H, L)
    cap: float
    floor: float


def _as2d(a: np.ndarray, H: int, n: int, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if n == 0 and a.size == 0:
        return np.zeros((H, 0))
    if a.shape != (H, n):
        raise ValueError(f"{name} has shape {a.shape}, expected {(H, n)}")
    return a


def _zones(a: np.ndarray, Z: int, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if a.dtype != np.int64:
        a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= Z):
        raise ValueError(f"{name} refers to a zone outside 0..{Z - 1}")
    return a


def _prepare(inp: PowerMarketInput) -> tuple[_Prepared, _Network]:
    Z = int(inp.n_zones)
    if Z < 1:
        raise ValueError("n_zones must be >= 1")
    cap = float(inp.price_cap)
    floor = float(inp.price_floor)
    if not floor <= cap:
        raise ValueError("price_floor must not exceed price_cap")
    load = np.asarray(inp.load_mw, dtype=np.float64)
    if load.ndim != 2 or load.shape[1] != Z or load.shape[0] < 1:
        raise ValueError(f"load_mw has shape {load.shape}, expected (H >= 1, {Z})")
    H = load.shape[0]
    oz = _zones(inp.offer_zone, Z, "offer_zone")
    bz = _zones(inp.bid_zone, Z, "bid_zone")
    N, M = oz.size, bz.size
    omw = _as2d(inp.offer_mw, H, N, "offer_mw")
    op = np.clip(_as2d(inp.offer_price, H, N, "offer_price"), floor, cap)
    bmw = _as2d(inp.bid_mw, H, M, "bid_mw")
    bp = np.clip(_as2d(inp.bid_price, H, M, "bid_price"), floor, cap)
    lf = _zones(inp.line_from, Z, "line_from")
    lt = _zones(inp.line_to, Z, "line_to")
    L = lf.size
    if lt.size != L:
        raise ValueError("line_from and line_to differ in length")
    lim = np.asarray(inp.line_limit_mw, dtype=np.float64)
    if L == 0:
        lim = np.zeros((H, 0))
    elif lim.shape == (L,):
        lim = np.broadcast_to(lim, (H, L))
    elif lim.shape != (H, L):
        raise ValueError(f"line_limit_mw has shape {lim.shape}, expected {(L,)} or {(H, L)}")
    x = inp.line_reactance
    if x is not None:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (L,):
            raise ValueError(f"line_reactance has shape {x.shape}, expected {(L,)}")
        nan = np.isnan(x)
        if nan.all():
            x = None
        elif nan.any() or not np.all(np.isfinite(x)) or np.any(x <= 0):
            raise ValueError("line_reactance must be finite and > 0 for every line (or all NaN)")
    for name, arr in (("offer_mw", omw), ("bid_mw", bmw), ("load_mw", load), ("line_limit_mw", lim)):
        # min() propagates NaN; the sum of values >= 0 is finite iff every value is
        if arr.size and not (arr.min() >= 0.0 and np.isfinite(arr.sum())):
            raise ValueError(f"{name} must be finite and >= 0")
    for name, arr in (("offer_price", op), ("bid_price", bp)):
        if arr.size and np.isnan(arr.sum()):  # clipped prices are finite unless NaN
            raise ValueError(f"{name} contains NaN")
    net = _network(Z, lf, lt, x)
    prep = _Prepared(H, Z, N, M, L, oz, omw, op, bz, bmw, bp, load, lim, cap, floor)
    return prep, net


# ----------------------------------------------------------------------------------------------
# Fast path: merit order per connected component and hour
# ----------------------------------------------------------------------------------------------


def _clear_merit_order(
    p: _Prepared,
    comp: np.ndarray,
    C: int,
    comp_onehot: np.ndarray,
    hours: np.ndarray | None = None,
    export: np.ndarray | None = None,
):
    """Clear every component as a single market, for all hours (or ``hours``) at once.

    ``export`` (len(hours), Z) are fixed net exports of each zone over lines that are not part of the
    components (congested lines fixed at their limit): extra load where positive, a fixed injection
    where negative.  Returns price (H, Z), dispatch (H, N), served (H, M), unserved (H, Z) and
    ``bad`` (H,): hours in which some component cannot be cleared without spilling or without
    failing to deliver its fixed exports (never true when ``export`` is None).
    """
    if hours is None:
        op, omw, bp, bmw, load = p.op, p.omw, p.bp, p.bmw, p.load
    else:
        op, omw, bp, bmw, load = p.op[hours], p.omw[hours], p.bp[hours], p.bmw[hours], p.load[hours]
    H = load.shape[0]
    N, M, Z = p.N, p.M, p.Z
    K = N + M + 1  # items: offers, bids, unserved load (an "offer" at the cap of the component's load)
    price = np.empty((H, K))
    price[:, :N] = op
    price[:, N : N + M] = bp
    price[:, K - 1] = p.cap
    order = np.argsort(price, axis=1, kind="stable")
    # flat indices into (C, H, K) arrays: component c, hour h, k-th item in merit order
    fidx = order + (np.arange(C * H) * K).reshape(C, H, 1)
    ps = price.ravel()[fidx[0]]  # (H, K) prices in merit order

    load_c = (load @ comp_onehot).T  # (C, H)
    if export is None:
        dfix = load_c[:, :, None]  # fixed demand of each component (inelastic load)
        s0 = 0.0  # fixed supply (imports over fixed lines, net of load and exports)
    else:
        net_c = ((load + export) @ comp_onehot).T[:, :, None]
        dfix = np.maximum(net_c, 0.0)
        s0 = np.maximum(-net_c, 0.0)
    # quantities of every item in each component (supply for offers and unserved, demand for bids)
    qty = np.zeros((C, H, K))
    if C == 1:
        qty[0, :, :N] = omw
        qty[0, :, N : N + M] = bmw
    else:
        ocomp = comp[p.oz]
        bcomp = comp[p.bz]
        qty[ocomp, :, np.arange(N)] = omw.T
        qty[bcomp, :, N + np.arange(M)] = bmw.T
    qty[:, :, K - 1] = load_c
    is_bid = np.zeros(K, dtype=bool)
    is_bid[N : N + M] = True
    bid_sorted = is_bid[order]  # (H, K)
    qs = qty.ravel()[fidx]
    dqs = np.where(bid_sorted, qs, 0.0)
    sqs = qs - dqs  # exact: an item is either supply or demand
    cs = np.cumsum(sqs, axis=2)
    cd = np.cumsum(dqs, axis=2)
    btot = cd[:, :, K - 1 :]  # (C, H, 1) all bids of the component
    # exclusive cumulative sums by shifting (exactly monotone, unlike cs - sqs)
    cs_ex = np.zeros((C, H, K))
    cs_ex[:, :, 1:] = cs[:, :, :-1]
    cd_ex = np.zeros((C, H, K))
    cd_ex[:, :, 1:] = cd[:, :, :-1]
    # The price p_k is a valid dual "from above" iff s0 + S(< p_k) <= D(>= p_k) = dfix + btot - D(< p_k).
    # Evaluated at the first item of a group of equal prices this is exact; at later items of the group
    # it is stricter, so `ok` is a prefix of the merit order ending inside the group of the highest
    # valid price p* (item 0 is always ok unless the fixed supply s0 exceeds all bids).
    ok = cs_ex + cd_ex + s0 <= dfix + btot
    kstar = ok.sum(axis=2) - 1  # (C, H)
    bad = None
    if export is not None:
        # s0 > all bids (would need spill), or the supply incl. unserved load cannot meet dfix
        bad_c = (kstar < 0) | (cs[:, :, K - 1] + s0[:, :, 0] < dfix[:, :, 0] * (1.0 - 1e-12) - 1e-9)
        bad = bad_c.any(axis=0)
        kstar = np.maximum(kstar, 0)
    pstar = ps.ravel()[kstar + np.arange(H) * K]  # (C, H)
    p3 = pstar[:, :, None]
    s_lt_star = s0 + np.where(ps < p3, sqs, 0.0).sum(axis=2, keepdims=True)  # supply priced below p*
    d_gt_star = dfix + np.where(ps > p3, dqs, 0.0).sum(axis=2, keepdims=True)
    q = np.maximum(s_lt_star, d_gt_star)  # (C, H, 1) traded quantity incl. fixed items (minimal trade)
    a_s = np.clip(q - s0 - cs_ex, 0.0, sqs)
    a_d = np.clip(q - dfix - (btot - cd), 0.0, dqs)
    alloc = np.empty((C, H, K))
    alloc.ravel()[fidx] = a_s + a_d  # an item is either supply or demand

    if C == 1:
        dispatch = alloc[0, :, :N]
        served = alloc[0, :, N : N + M]
        price_z = pstar[0][:, None].repeat(Z, axis=1)
        unserved_c = alloc[0, :, K - 1 :]
    else:
        dispatch = alloc[ocomp, :, np.arange(N)].T
        served = alloc[bcomp, :, N + np.arange(M)].T
        price_z = pstar.T[:, comp]
        unserved_c = alloc[:, :, K - 1].T  # (H, C)
    lc = load_c.T[:, comp]  # (H, Z) load of each zone's component
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(lc > 0.0, load / lc, 0.0)
    unserved = np.minimum(unserved_c[:, comp] * share, load)
    return price_z, dispatch, served, unserved, bad


def _injections(p: _Prepared, hours, dispatch, served, unserved, gen, dem) -> np.ndarray:
    """Net physical injection of every zone (H', Z)."""
    inj = unserved - (p.load if hours is None else p.load[hours])
    if p.N:
        inj += dispatch @ gen
    if p.M:
        inj -= served @ dem
    return inj


_PTOL = 1e-9  # price tolerance of the congestion certificate (CNY/MWh, relative to max(1, |price|))


def _clear_congested(p: _Prepared, net: _Network, hours: np.ndarray, fa0: np.ndarray, gen, dem):
    """Exact congested clearing on a forest for ``hours`` whose unconstrained tree flows ``fa0`` overload lines.

    Lines whose flow exceeds the limit are fixed at the limit (in the violated direction); the network
    is split there, the fixed exchange becomes extra load on the exporting side and a fixed injection on
    the importing side, and each part is cleared as its own merit-order market.  Fixed lines whose
    prices turn out to point the wrong way are released again; repeated (bounded) until nothing
    changes.  Hours are processed in groups sharing the same set of fixed lines.  An hour is accepted
    only if its result passes a KKT certificate (see ``_certificate``); the others are returned in
    ``rejected`` for the LP.
    """
    n, la, Z = hours.size, net.active.size, p.Z
    lim = p.limit[hours][:, net.active]  # (n, la)
    fsign = np.where(np.abs(fa0) > lim * (1.0 + 1e-12) + 1e-9, np.sign(fa0), 0.0)
    price = np.empty((n, Z))
    dispatch = np.empty((n, p.N))
    served = np.empty((n, p.M))
    unserved = np.empty((n, Z))
    flow = np.empty((n, la))
    accepted = np.zeros(n, dtype=bool)
    pending = np.arange(n)
    weights = (1 << np.arange(la, dtype=np.int64)) if la <= 62 else None
    for _ in range(2 * la + 2):
        if pending.size == 0:
            break
        masks = fsign[pending] != 0.0
        if weights is not None:
            _, first, inv = np.unique(masks @ weights, return_index=True, return_inverse=True)
        else:
            _, first, inv = np.unique(masks, axis=0, return_index=True, return_inverse=True)
        nxt = []
        for g in range(first.size):
            sel = pending[inv.ravel() == g]
            mask = masks[first[g]]
            comp, n_comp, onehot = _split(net, mask)
            hs = hours[sel]
            fixed = fsign[sel] * lim[sel]  # (n_sel, la) flows on fixed lines, 0 elsewhere
            pr, di, se, un, bad = _clear_merit_order(p, comp, n_comp, onehot, hs, fixed @ net.export_mat)
            fa = _injections(p, hs, di, se, un, gen, dem) @ net.tree_incidence_t
            limh = lim[sel]
            over = ~mask & (np.abs(fa) > limh * (1.0 + 1e-12) + 1e-9)
            dp = pr[:, net.frm] - pr[:, net.to]  # exporter minus importer price for from -> to flow
            tol = _PTOL * np.maximum(1.0, np.maximum(np.abs(pr[:, net.frm]), np.abs(pr[:, net.to])))
            wrong = mask & (fsign[sel] * dp > tol) & (limh > 0.0)
            done = ~bad & ~over.any(axis=1) & ~wrong.any(axis=1)
            if done.any():
                d = sel[done]
                price[d] = pr[done]
                dispatch[d] = di[done]
                served[d] = se[done]
                unserved[d] = un[done]
                flow[d] = np.where(mask, fixed[done], np.clip(fa[done], -limh[done], limh[done]))
                accepted[d] = True
            retry = ~done & ~bad
            if retry.any():
                r = sel[retry]
                fs = fsign[r]
                fs[over[retry]] = np.sign(fa[retry][over[retry]])
                fs[wrong[retry]] = 0.0
                fsign[r] = fs
                nxt.append(r)
        pending = np.concatenate(nxt) if nxt else np.zeros(0, dtype=np.int64)
    acc = np.flatnonzero(accepted)
    if acc.size:
        cert = _certificate(
            p, net, hours[acc], price[acc], dispatch[acc], served[acc], unserved[acc], flow[acc], lim[acc], gen, dem
        )
        accepted[acc[~cert]] = False
    return accepted, price, dispatch, served, unserved, flow


def _certificate(p: _Prepared, net: _Network, hours, price, dispatch, served, unserved, flow, lim, gen, dem):
    """KKT check on a forest (transport model) per hour: primal feasibility and balance, and network duals.

    Each zone's price comes from a merit-order clearing of its part of the network, which makes it a valid
    dual for the offers, bids and unserved load of that zone; what remains is the network: every line
    strictly inside its limits must have equal prices at both ends, and a line at its limit must carry
    power from the cheaper to the dearer end.
    """
    inj = _injections(p, hours, dispatch, served, unserved, gen, dem)
    resid = inj - flow @ net.export_mat  # injection minus net export over the lines (must be 0)
    scale = 1.0 + np.abs(p.load[hours]).sum(axis=1) + np.abs(flow).sum(axis=1)
    ok = np.abs(resid).max(axis=1, initial=0.0) <= 1e-9 * scale
    ok &= np.all(np.abs(flow) <= lim * (1.0 + 1e-12) + 1e-9, axis=1)
    pf, pt = price[:, net.frm], price[:, net.to]
    tol = _PTOL * np.maximum(1.0, np.maximum(np.abs(pf), np.abs(pt)))
    qtol = 1e-9 * np.maximum(1.0, lim)
    at_pos = flow >= lim - qtol  # at the limit from -> to: need pt >= pf
    at_neg = flow <= -lim + qtol  # at the limit to -> from: need pf >= pt
    ok &= np.all(at_pos | (pt - pf <= tol), axis=1)  # could carry more from -> to: pt <= pf
    ok &= np.all(at_neg | (pf - pt <= tol), axis=1)  # could carry more to -> from: pf <= pt
    return ok


# ----------------------------------------------------------------------------------------------
# LP path
# ----------------------------------------------------------------------------------------------


def _solve_lp(p: _Prepared, net: _Network, hours: np.ndarray):
    """One block-diagonal LP over ``hours``.  Returns price, dispatch, served, unserved, active flows."""
    N, M, Z = p.N, p.M, p.Z
    la = net.active.size
    ncyc = net.kvl.shape[0]
    nv = N + M + 2 * Z + la
    nr = Z + ncyc
    nh = hours.size
    zr = np.arange(Z)
    rows = np.concatenate([p.oz, p.bz, zr, zr, net.frm, net.to])
    cols = np.arange(nv)
    cols = np.concatenate([cols, N + M + 2 * Z + np.arange(la)])
    vals = np.concatenate([np.ones(N), -np.ones(M), np.ones(Z), -np.ones(Z), -np.ones(la), np.ones(la)])
    if ncyc:
        kr, kc = np.nonzero(net.kvl)
        rows = np.concatenate([rows, Z + kr])
        cols = np.concatenate([cols, N + M + 2 * Z + kc])
        vals = np.concatenate([vals, net.kvl[kr, kc]])
    # per-hour block in CSC form, then repeated along the diagonal for every LP hour
    a1 = sp.csc_matrix((vals, (rows, cols)), shape=(nr, nv))
    nnz = a1.indptr[-1]
    indptr = np.append((a1.indptr[:-1] + nnz * np.arange(nh)[:, None]).ravel(), nnz * nh)
    indices = (a1.indices + nr * np.arange(nh)[:, None]).ravel()
    a_eq = sp.csc_matrix((np.tile(a1.data, nh), indices, indptr), shape=(nh * nr, nh * nv))

    load = p.load[hours]
    lim = p.limit[hours][:, net.active]
    b = np.zeros((nh, nr))
    b[:, :Z] = load
    c = np.empty((nh, nv))
    c[:, :N] = p.op[hours]
    c[:, N : N + M] = -p.bp[hours]
    c[:, N + M : N + M + Z] = p.cap
    c[:, N + M + Z : N + M + 2 * Z] = -p.floor
    c[:, N + M + 2 * Z :] = 0.0
    lb = np.zeros((nh, nv))
    lb[:, N + M + 2 * Z :] = -lim
    ub = np.empty((nh, nv))
    ub[:, :N] = p.omw[hours]
    ub[:, N : N + M] = p.bmw[hours]
    ub[:, N + M : N + M + Z] = load
    ub[:, N + M + Z : N + M + 2 * Z] = np.inf
    ub[:, N + M + 2 * Z :] = lim
    res = linprog(
        c.ravel(),
        A_eq=a_eq,
        b_eq=b.ravel(),
        bounds=np.column_stack([lb.ravel(), ub.ravel()]),
        method="highs",
        options={"presolve": False},  # small block-diagonal LPs: presolve costs more than it saves
    )
    if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"power market LP failed: {res.message}")
    xs = np.clip(res.x.reshape(nh, nv), lb, ub)
    price = res.eqlin.marginals.reshape(nh, nr)[:, :Z]
    price = np.maximum(price, p.floor) if net.dc else np.clip(price, p.floor, p.cap)
    dispatch = xs[:, :N]
    served = xs[:, N : N + M]
    unserved = xs[:, N + M : N + M + Z]
    flows = xs[:, N + M + 2 * Z :]
    return price, dispatch, served, unserved, flows


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


def clear_power_market(inp: PowerMarketInput, *, force_lp: bool = False) -> PowerMarketResult:
    """Clear the ``H`` hourly markets of ``inp``; ``force_lp`` sends every hour through the LP (tests)."""
    p, net = _prepare(inp)
    H, Z = p.H, p.Z
    flow = np.zeros((H, p.L))
    if net.is_forest and not force_lp:
        price, dispatch, served, unserved, _ = _clear_merit_order(p, net.comp, net.n_comp, net.comp_onehot)
        if net.active.size:
            gen = np.zeros((p.N, Z))
            gen[np.arange(p.N), p.oz] = 1.0
            dem = np.zeros((p.M, Z))
            dem[np.arange(p.M), p.bz] = 1.0
            fa = _injections(p, None, dispatch, served, unserved, gen, dem) @ net.tree_incidence_t
            lim = p.limit[:, net.active]
            over = np.abs(fa) > lim * (1.0 + 1e-12) + 1e-9
            flow[:, net.active] = np.clip(fa, -lim, lim)
            cong = np.flatnonzero(over.any(axis=1))
            if cong.size:
                acc, pr, di, se, un, fl = _clear_congested(p, net, cong, fa[cong], gen, dem)
                ah = cong[acc]
                price[ah] = pr[acc]
                dispatch[ah] = di[acc]
                served[ah] = se[acc]
                unserved[ah] = un[acc]
                fz = flow[ah]
                fz[:, net.active] = fl[acc]
                flow[ah] = fz
                lp_h = cong[~acc]
            else:
                lp_h = cong
        else:
            lp_h = np.zeros(0, dtype=np.int64)
    else:
        price = np.empty((H, Z))
        dispatch = np.empty((H, p.N))
        served = np.empty((H, p.M))
        unserved = np.empty((H, Z))
        lp_h = np.arange(H)
    if lp_h.size:
        pr, di, se, un, fl = _solve_lp(p, net, lp_h)
        price[lp_h] = pr
        dispatch[lp_h] = di
        served[lp_h] = se
        unserved[lp_h] = un
        fz = np.zeros((lp_h.size, p.L))
        fz[:, net.active] = fl
        flow[lp_h] = fz
    return PowerMarketResult(
        price=price,
        offer_dispatch_mw=dispatch,
        bid_served_mw=served,
        unserved_mw=unserved,
        line_flow_mw=flow,
        lp_hours=int(lp_h.size),
    )
