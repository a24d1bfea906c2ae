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
  a line limit would be violated are re-cleared with the overloaded lines fixed at their limits (the
  network split there; all such hours in one vectorised pass per round, see ``_clear_congested``) and
  accepted if a KKT certificate holds; the others are handed to the LP path.  On a forest the DC power
  flow and the transport model coincide (the flows are fixed by the injections), so reactances are
  irrelevant.  Everything that depends only on the grid and on the offer/bid zones is cached.
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


@dataclass(frozen=True)
class _Struct:
    """Everything that depends only on the grid and on the zones of the offers and bids (cached)."""

    net: _Network
    L: int  # number of lines (incl. self-loops)
    oz: np.ndarray  # (N,) int64
    bz: np.ndarray  # (M,) int64
    gen: np.ndarray  # (N, Z) one-hot offer zone
    dem: np.ndarray  # (M, Z) one-hot bid zone
    is_bid: np.ndarray  # (K,) bool over the items [offers, bids, unserved]
    kn: np.ndarray  # (1, N) arange
    km: np.ndarray  # (1, M) arange + N
    all_active: bool  # no self-loop lines (the active lines are all lines, in order)
    masks: dict = field(default_factory=dict, compare=False, hash=False)  # see _comp_masks


_STRUCT_CACHE: dict[tuple, _Struct] = {}


def _key_part(a) -> tuple:
    a = np.asarray(a)
    return (a.dtype.str, a.shape, a.tobytes())


def _struct(inp: PowerMarketInput, Z: int) -> _Struct:
    x = inp.line_reactance
    key = (
        Z,
        _key_part(inp.offer_zone),
        _key_part(inp.bid_zone),
        _key_part(inp.line_from),
        _key_part(inp.line_to),
        None if x is None else _key_part(x),
    )
    s = _STRUCT_CACHE.get(key)
    if s is None:
        s = _build_struct(inp, Z)
        if len(_STRUCT_CACHE) >= _NETWORK_CACHE_MAX:
            _STRUCT_CACHE.clear()
        _STRUCT_CACHE[key] = s
    return s


def _build_struct(inp: PowerMarketInput, Z: int) -> _Struct:
    oz = _zones(inp.offer_zone, Z, "offer_zone")
    bz = _zones(inp.bid_zone, Z, "bid_zone")
    lf = _zones(inp.line_from, Z, "line_from")
    lt = _zones(inp.line_to, Z, "line_to")
    L = lf.size
    if lt.size != L:
        raise ValueError("line_from and line_to differ in length")
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
    net = _network(Z, lf, lt, x)
    N, M = oz.size, bz.size
    gen = np.zeros((N, Z))
    gen[np.arange(N), oz] = 1.0
    dem = np.zeros((M, Z))
    dem[np.arange(M), bz] = 1.0
    is_bid = np.zeros(N + M + 1, dtype=bool)
    is_bid[N : N + M] = True
    return _Struct(
        net, L, oz, bz, gen, dem, is_bid, np.arange(N)[None, :], N + np.arange(M)[None, :], net.active.size == L
    )


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
    P: np.ndarray  # (H, N + M + 1) clipped prices of [offers, bids, unserved load at the cap]
    Q: np.ndarray  # (H, N + M + 1 + Z + L) [offer_mw, bid_mw, total load, load per zone, line limits]


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


def _prepare(inp: PowerMarketInput) -> tuple[_Prepared, _Struct]:
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
    s = _struct(inp, Z)
    N, M = s.oz.size, s.bz.size
    L = s.L
    omw = _as2d(inp.offer_mw, H, N, "offer_mw")
    bmw = _as2d(inp.bid_mw, H, M, "bid_mw")
    lim = np.asarray(inp.line_limit_mw, dtype=np.float64)
    if L and lim.shape != (L,) and lim.shape != (H, L):
        raise ValueError(f"line_limit_mw has shape {lim.shape}, expected {(L,)} or {(H, L)}")
    # one buffer for every quantity: a single finiteness / sign check
    K = N + M + 1
    Q = np.empty((H, K + Z + L))  # [offers, bids, total load, load per zone, line limits]
    Q[:, :N] = omw
    Q[:, N : N + M] = bmw
    Q[:, K : K + Z] = load
    load.sum(axis=1, out=Q[:, N + M])
    if L:
        Q[:, K + Z :] = lim
    if not (Q.min() >= 0.0 and np.isfinite(Q.sum())):
        for name, arr in (("offer_mw", omw), ("bid_mw", bmw), ("load_mw", load), ("line_limit_mw", lim)):
            # min() propagates NaN; the sum of values >= 0 is finite iff every value is
            if arr.size and not (arr.min() >= 0.0 and np.isfinite(arr.sum())):
                raise ValueError(f"{name} must be finite and >= 0")
    P = np.empty((H, K))
    P[:, :N] = _as2d(inp.offer_price, H, N, "offer_price")
    P[:, N : N + M] = _as2d(inp.bid_price, H, M, "bid_price")
    P[:, N + M] = cap
    np.minimum(P, cap, out=P)
    np.maximum(P, floor, out=P)
    if np.isnan(P.sum()):  # clipped prices are finite unless NaN
        name = "offer_price" if np.isnan(P[:, :N].sum()) else "bid_price"
        raise ValueError(f"{name} contains NaN")
    prep = _Prepared(
        H,
        Z,
        N,
        M,
        L,
        s.oz,
        Q[:, :N],
        P[:, :N],
        s.bz,
        Q[:, N : N + M],
        P[:, N : N + M],
        Q[:, K : K + Z],
        Q[:, K + Z :],
        cap,
        floor,
        P,
        Q,
    )
    return prep, s


# ----------------------------------------------------------------------------------------------
# Fast path: merit order per connected component and hour
# ----------------------------------------------------------------------------------------------


def _clear_merit_order(
    p: _Prepared,
    s: _Struct,
    comp: np.ndarray,
    C: int,
    hours: np.ndarray | None = None,
    export: np.ndarray | None = None,
):
    """Clear every component as a single market, for all hours (or the rows ``hours``) at once.

    ``comp`` is (Z,) or per row (len(hours), Z): the component of each zone, labels ``0..C-1`` (a label may
    be unused).  ``export`` (len(hours), Z) are fixed net exports of each zone over lines that are not part
    of the components (congested lines fixed at their limit): extra load where positive, a fixed injection
    where negative.  Returns price (H, Z), dispatch (H, N), served (H, M), unserved (H, Z) and ``bad``
    (H,): rows in which some component cannot be cleared without spilling or without failing to deliver
    its fixed exports (never true when ``export`` is None).
    """
    if hours is None:
        P, Q = p.P, p.Q
    else:
        P, Q = p.P[hours], p.Q[hours]
    H, K = P.shape
    load = Q[:, K : K + p.Z]
    N, M = p.N, p.M
    order = np.argsort(P, axis=1, kind="stable")
    off, hk1 = _offsets(C, H, K)
    fidx = order + off  # flat index into (C, H, K): component c, hour h, k-th item in merit order
    ps = P.ravel()[fidx[0]]  # (H, K) prices in merit order

    if C == 1:
        load_c = Q[:, K - 1][None, :]  # (1, H)
    elif isinstance(comp, np.ndarray):  # the same components in every hour
        itemmask, onehot = _comp_masks(s, comp, C)
        load_c = (load @ onehot).T
    else:  # (G, Z) labels of G groups of hours, and the group of every hour
        groups, inv = comp
        gm = [_comp_masks(s, g, C) for g in groups]
        itemmask = np.concatenate([m[0] for m in gm], axis=1)[:, inv]  # (C, H, K)
        onehot = np.stack([m[1] for m in gm])[inv]  # (H, Z, C)
        comp2 = groups[inv]  # (H, Z)
        load_c = (load[:, :, None] * onehot).sum(axis=1).T
    if export is None:
        dfix = load_c[:, :, None]  # fixed demand of each component (inelastic load)
        s0 = None  # fixed supply (imports over fixed lines, net of load and exports): none
    else:
        if C == 1:
            ex = export.sum(axis=1)[None, :]
        elif onehot.ndim == 2:
            ex = (export @ onehot).T
        else:
            ex = (export[:, :, None] * onehot).sum(axis=1).T
        net_c = (load_c + ex)[:, :, None]
        dfix = np.maximum(net_c, 0.0)
        s0 = np.maximum(-net_c, 0.0)
    # quantities of every item in each component (supply for offers and unserved, demand for bids)
    if C == 1:
        qs = Q.ravel()[order + _offsets(1, H, Q.shape[1])[0][0]][None]  # Q[:, :K] is [offers, bids, load]
    else:
        qty = Q[:, :K] * itemmask  # (C, H, K), zero outside the component (and for the unserved item)
        qty[:, :, K - 1] = load_c
        qs = qty.ravel()[fidx]
    # B[0]: supply quantities in merit order, B[1]: demand (bid) quantities; an item is one or the other
    B = np.empty((2, C, H, K))
    np.multiply(qs, s.is_bid[order], out=B[1])  # exact: multiplication by 0 or 1
    np.subtract(qs, B[1], out=B[0])  # exact
    cum = B.cumsum(axis=3)
    cs, cd = cum[0], cum[1]
    btot = cd[:, :, K - 1 :]  # (C, H, 1) all bids of the component
    # exclusive cumulative sums by shifting (exactly monotone, unlike cs - sqs)
    cex = np.empty((2, C, H, K))
    cex[:, :, :, 0] = 0.0
    cex[:, :, :, 1:] = cum[:, :, :, :-1]
    cs_ex, cd_ex = cex[0], cex[1]
    # The price p_k is a valid dual "from above" iff s0 + S(< p_k) <= D(>= p_k) = dfix + btot - D(< p_k).
    # Evaluated at the first item of a group of equal prices this is exact; at later items of the group
    # it is stricter, so `ok` is a prefix of the merit order ending inside the group of the highest
    # valid price p* (item 0 is always ok unless the fixed supply s0 exceeds all bids).
    lhs = cs_ex + cd_ex
    if s0 is not None:
        lhs += s0
    nok = (lhs <= dfix + btot).sum(axis=2)  # (C, H) length of the ok prefix; k* = nok - 1
    bad = None
    if s0 is not None:
        # s0 > all bids (would need spill), or the supply incl. unserved load cannot meet dfix
        bad_c = (nok == 0) | (cs[:, :, K - 1] + s0[:, :, 0] < dfix[:, :, 0] * (1.0 - 1e-12) - 1e-9)
        bad = bad_c.any(axis=0)
        nok = np.maximum(nok, 1)
    pstar = ps.ravel()[nok + hk1]  # (C, H) price of item k*
    p3 = pstar[:, :, None]
    W = np.empty((2, C, H, K), dtype=bool)
    np.less(ps, p3, out=W[0])  # supply priced below p*
    np.greater(ps, p3, out=W[1])  # demand priced above p*
    T = (B * W).sum(axis=3, keepdims=True)
    s_lt_star = T[0] if s0 is None else s0 + T[0]
    d_gt_star = dfix + T[1]
    q = np.maximum(s_lt_star, d_gt_star)  # (C, H, 1) traded quantity incl. fixed items (minimal trade)
    X = np.empty((2, C, H, K))
    np.subtract(q if s0 is None else q - s0, cs_ex, out=X[0])
    np.subtract(q - dfix, btot - cd, out=X[1])
    np.maximum(X, 0.0, out=X)
    np.minimum(X, B, out=X)
    alloc = np.empty((C, H, K))
    alloc.ravel()[fidx] = X[0] + X[1]  # an item is either supply or demand

    if C == 1:
        dispatch = alloc[0, :, :N]
        served = alloc[0, :, N : N + M]
        price_z = pstar[0][:, None].repeat(p.Z, axis=1)
        unserved_c = alloc[0, :, K - 1 :]
        lc = load_c[0][:, None]
    else:
        dispatch = alloc[:, :, :N].sum(axis=0)  # exact: zero outside the item's component
        served = alloc[:, :, N : N + M].sum(axis=0)
        if onehot.ndim == 2:
            price_z = pstar.T[:, comp]
            unserved_c = alloc[:, :, K - 1].T[:, comp]
            lc = load_c.T[:, comp]
        else:
            hh = _arange(H)[:, None]
            price_z = pstar[comp2, hh]
            unserved_c = alloc[comp2, hh, K - 1]  # (H, Z) unserved load of each zone's component
            lc = load_c[comp2, hh]  # (H, Z) load of each zone's component
    if unserved_c.max() > 0.0:
        share = load / np.where(lc > 0.0, lc, 1.0)  # lc == 0 -> every load of the component is 0
        unserved = np.minimum(unserved_c * share, load)
    else:
        unserved = np.zeros(load.shape)
    return price_z, dispatch, served, unserved, bad


def _seg_struct(s: _Struct, comp: np.ndarray, C: int):
    """Per component labelling ``comp``: item components (K2,) of [offers, bids, unserved of each component],
    and the start / end positions (C,) of each component's segment when items are sorted by component."""
    key = ("seg", C, comp.tobytes())
    hit = s.masks.get(key)
    if hit is None:
        ic = np.concatenate([comp[s.oz], comp[s.bz], np.arange(C)])
        cnt = np.bincount(ic, minlength=C)
        end = np.cumsum(cnt)
        hit = s.masks[key] = (ic, end - cnt, end - 1)
    return hit


def _clear_segments(p: _Prepared, s: _Struct, comp, C: int, hours: np.ndarray, export: np.ndarray):
    """As ``_clear_merit_order`` with fixed exports, for C > 1 components, without a dense component axis.

    The items of each hour ([offers, bids, one unserved-load item per component]) are sorted by component,
    then by price (ties by index), and every component is cleared on its contiguous segment.  Cumulative
    sums within a segment are row cumulative sums minus the value at the segment start: exactly 0 at the
    start and exactly monotone within the segment.
    """
    P, Q = p.P[hours], p.Q[hours]
    H, K = P.shape
    N, M, Z = p.N, p.M, p.Z
    NM = N + M
    K2 = NM + C
    load = Q[:, K : K + Z]
    if isinstance(comp, np.ndarray):
        ic, st, en = _seg_struct(s, comp, C)
        comp2 = comp[None, :]
        ic2 = ic[None, :]
        st2, en2 = st[None, :], en[None, :]
    else:
        groups, inv = comp
        parts = [_seg_struct(s, g, C) for g in groups]
        comp2 = groups[inv]
        ic2 = np.stack([q[0] for q in parts])[inv]
        st2 = np.stack([q[1] for q in parts])[inv]
        en2 = np.stack([q[2] for q in parts])[inv]
    hr = _arange(H)[:, None]
    idx = (comp2 * H + hr).ravel()  # flat (C, H) index of each zone's component
    load_c = np.bincount(idx, weights=load.ravel(), minlength=C * H).reshape(C, H).T  # (H, C)
    ex_c = np.bincount(idx, weights=export.ravel(), minlength=C * H).reshape(C, H).T
    net_c = load_c + ex_c
    dfix = np.maximum(net_c, 0.0)  # (H, C)
    s0 = np.maximum(-net_c, 0.0)
    P2 = np.empty((H, K2))
    P2[:, :NM] = P[:, :NM]
    P2[:, NM:] = p.cap
    Q2 = np.empty((H, K2))
    Q2[:, :NM] = Q[:, :NM]
    Q2[:, NM:] = load_c
    hk = hr * K2
    o1 = np.argsort(P2, axis=1, kind="stable") + hk  # flat, price order
    ics = np.broadcast_to(ic2, (H, K2)).ravel()[o1 - hk] if ic2.shape[0] == 1 else ic2.ravel()[o1]
    o2 = np.argsort(ics * K2 + _arange(K2), axis=1) + hk
    of = o1.ravel()[o2]  # flat index of the item at each sorted position (by component, then price)
    cflat = ics.ravel()[o2] + hr * C  # flat (H, C) index of the component of each sorted position
    stf = np.broadcast_to(st2 + hk, (H, C)).ravel()  # segment starts, flat, increasing
    enf = np.broadcast_to(en2 + hk, (H, C)).ravel()
    ps = P2.ravel()[of]
    qs = Q2.ravel()[of]
    item = of - hk  # item index of each sorted position
    B = np.empty((2, H, K2))
    np.multiply(qs, (item >= N) & (item < NM), out=B[1])  # exact: multiplication by 0 or 1
    np.subtract(qs, B[1], out=B[0])
    cum = B.cumsum(axis=2)
    cex = np.empty((2, H, K2))
    cex[:, :, 0] = 0.0
    cex[:, :, 1:] = cum[:, :, :-1]
    base_c = cex.reshape(2, -1)[:, stf]  # (2, H*C) row sums before each segment
    base = base_c[:, cflat]  # (2, H, K2)
    rel_ex = cex - base  # segment-relative exclusive sums (0 at the segment start, monotone)
    tot_c = cum.reshape(2, -1)[:, enf] - base_c  # (2, H*C) segment totals (supply, bids)
    btot_c = tot_c[1]
    dfix_f, s0_f = dfix.ravel(), s0.ravel()
    ok = rel_ex[0] + rel_ex[1] + s0_f[cflat] <= dfix_f[cflat] + btot_c[cflat]
    nok = np.add.reduceat(ok.ravel(), stf, dtype=np.intp)  # (H*C,) length of the ok prefix of each segment
    bad = ((nok == 0) | (tot_c[0] + s0_f < dfix_f * (1.0 - 1e-12) - 1e-9)).reshape(H, C).any(axis=1)
    pstar = ps.ravel()[stf + np.maximum(nok, 1) - 1]  # (H*C,)
    pi = pstar[cflat]
    W = np.empty((2, H, K2), dtype=bool)
    np.less(ps, pi, out=W[0])
    np.greater(ps, pi, out=W[1])
    T = np.add.reduceat((B * W).reshape(2, -1), stf, axis=1)  # (2, H*C)
    q = np.maximum(s0_f + T[0], dfix_f + T[1])  # (H*C,)
    X = np.empty((2, H, K2))
    np.subtract((q - s0_f)[cflat], rel_ex[0], out=X[0])
    np.subtract((q - dfix_f)[cflat], btot_c[cflat] - (cum[1] - base[1]), out=X[1])
    np.maximum(X, 0.0, out=X)
    np.minimum(X, B, out=X)
    alloc = np.empty(H * K2)
    alloc[of] = X[0] + X[1]
    alloc = alloc.reshape(H, K2)
    cz = np.broadcast_to(comp2, (H, Z)) + hr * C  # flat (H, C) index of each zone's component
    price_z = pstar[cz]
    unserved_c = alloc[:, NM:].ravel()[cz]
    if unserved_c.max() > 0.0:
        lc = load_c.ravel()[cz]
        unserved = np.minimum(unserved_c * (load / np.where(lc > 0.0, lc, 1.0)), load)
    else:
        unserved = np.zeros(load.shape)
    return price_z, alloc[:, :N], alloc[:, N:NM], unserved, bad


def _comp_masks(s: _Struct, comp: np.ndarray, C: int) -> tuple[np.ndarray, np.ndarray]:
    """(C, 1, K) item-in-component mask (0 for the unserved item) and (Z, C) zone one-hot of ``comp``."""
    key = (C, comp.tobytes())
    hit = s.masks.get(key)
    if hit is None:
        item_comp = np.concatenate([comp[s.oz], comp[s.bz], [-1]])
        itemmask = (item_comp[None, None, :] == np.arange(C)[:, None, None]).astype(np.float64)
        onehot = np.zeros((comp.size, C))
        onehot[np.arange(comp.size), comp] = 1.0
        if len(s.masks) >= 4096:
            s.masks.clear()
        hit = s.masks[key] = (itemmask, onehot)
    return hit


def _injections(p: _Prepared, s: _Struct, hours, dispatch, served, unserved) -> np.ndarray:
    """Net physical injection of every zone (H', Z)."""
    inj = unserved - (p.load if hours is None else p.load[hours])
    if p.N:
        inj += dispatch @ s.gen
    if p.M:
        inj -= served @ s.dem
    return inj


_OFFSETS: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
_ARANGE: dict[int, np.ndarray] = {}


def _arange(n: int) -> np.ndarray:
    a = _ARANGE.get(n)
    if a is None:
        a = _ARANGE[n] = np.arange(n)
    return a


def _offsets(C: int, H: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat offsets (C, H, 1) of the rows of a (C, H, K) array, and (H,) offsets - 1 of the rows of (H, K)."""
    hit = _OFFSETS.get((C, H, K))
    if hit is None:
        if len(_OFFSETS) >= 4096:
            _OFFSETS.clear()
        hit = _OFFSETS[(C, H, K)] = ((np.arange(C * H) * K).reshape(C, H, 1), np.arange(H) * K - 1)
    return hit


_NO_HOURS = np.zeros(0, dtype=np.int64)
_SEG_MIN_C = 3  # from this many components the segmented clearing beats the dense one
_PTOL = 1e-9  # price tolerance of the congestion certificate (CNY/MWh, relative to max(1, |price|))


def _clear_congested(p: _Prepared, s: _Struct, hours: np.ndarray, fa0: np.ndarray):
    """Exact congested clearing on a forest for ``hours`` whose unconstrained tree flows ``fa0`` overload lines.

    Lines whose flow exceeds the limit are fixed at the limit (in the violated direction); the network
    is split there, the fixed exchange becomes extra load on the exporting side and a fixed injection on
    the importing side, and each part is cleared as its own merit-order market.  Fixed lines whose
    prices turn out to point the wrong way are released again; repeated (bounded) until nothing
    changes.  All pending hours are cleared in one vectorised pass per round, each with the components of
    its own set of fixed lines.  An hour is accepted only if its result passes a KKT certificate (see
    ``_certificate``); the others are returned as not accepted, for the LP.
    """
    net = s.net
    n, la, Z = hours.size, net.active.size, p.Z
    frm, to = net.frm, net.to
    lim = p.limit[hours][:, net.active]  # (n, la)
    lim_tol = lim * (1.0 + 1e-12) + 1e-9
    fsign = np.where(np.abs(fa0) > lim_tol, np.sign(fa0), 0.0)
    out = None
    accepted = np.zeros(n, dtype=bool)
    pending = _arange(n)
    weights = (1 << np.arange(la, dtype=np.int64)) if la <= 62 else None
    for _ in range(2 * la + 2):
        if pending.size == 0:
            break
        fs = fsign[pending]
        masks = fs != 0.0
        codes = masks @ weights if weights is not None else None
        if codes is not None and codes.min() == codes.max():
            comp, C, _ = _split(net, masks[0])
        else:
            if codes is not None:
                _, first, inv = np.unique(codes, return_index=True, return_inverse=True)
            else:
                _, first, inv = np.unique(masks, axis=0, return_index=True, return_inverse=True)
            parts = [_split(net, masks[f]) for f in first]
            C = max(part[1] for part in parts)
            comp = (np.stack([part[0] for part in parts]), inv.ravel())
        hs = hours[pending]
        limh = lim[pending]
        fixed = fs * limh  # (n_sel, la) flows on fixed lines, 0 elsewhere
        if C >= _SEG_MIN_C:
            pr, di, se, un, bad = _clear_segments(p, s, comp, C, hs, fixed @ net.export_mat)
        else:
            pr, di, se, un, bad = _clear_merit_order(p, s, comp, C, hs, fixed @ net.export_mat)
        inj = _injections(p, s, hs, di, se, un)
        fa = inj @ net.tree_incidence_t
        over = ~masks & (np.abs(fa) > lim_tol[pending])
        pf, pt = pr[:, frm], pr[:, to]
        tol = _PTOL * np.maximum(1.0, np.maximum(np.abs(pf), np.abs(pt)))
        wrong = masks & (fs * (pf - pt) > tol) & (limh > 0.0)
        failed = over | wrong
        done = ~(bad | failed.any(axis=1))
        retry = ~done & ~bad
        if done.any():
            fl = np.where(masks, fixed, np.minimum(np.maximum(fa, -limh), limh))
            if out is None and pending.size == n and done.all():  # common: every hour cleared in one round
                ok = _certificate(p.Q[hs, p.N + p.M], inj, fl, limh, pf, pt, tol, net.export_mat)
                return ok, pr, di, se, un, fl
            if out is None:
                out = tuple(np.empty((n, a.shape[1])) for a in (pr, di, se, un, fl, inj))
            d = pending[done]
            for dst, src_ in zip(out, (pr, di, se, un, fl, inj), strict=True):
                dst[d] = src_[done]
            accepted[d] = True
        if retry.any():
            r = pending[retry]
            fs = fs[retry]
            fs[over[retry]] = np.sign(fa[retry][over[retry]])
            fs[wrong[retry]] = 0.0
            fsign[r] = fs
            pending = r
        else:
            break
    if out is None:
        return accepted, np.empty((n, Z)), np.empty((n, p.N)), np.empty((n, p.M)), np.empty((n, Z)), np.empty((n, la))
    pr, di, se, un, fl, inj = out
    acc = np.flatnonzero(accepted)
    if acc.size:
        pf, pt = pr[acc][:, frm], pr[acc][:, to]
        tol = _PTOL * np.maximum(1.0, np.maximum(np.abs(pf), np.abs(pt)))
        cert = _certificate(p.Q[hours[acc], p.N + p.M], inj[acc], fl[acc], lim[acc], pf, pt, tol, net.export_mat)
        accepted[acc[~cert]] = False
    return accepted, pr, di, se, un, fl


def _certificate(load_total, inj, flow, lim, pf, pt, tol, export_mat):
    """KKT check on a forest (transport model) per hour: primal feasibility and balance, and network duals.

    Each zone's price comes from a merit-order clearing of its part of the network, which makes it a valid
    dual for the offers, bids and unserved load of that zone; what remains is the network: every line
    strictly inside its limits must have equal prices at both ends, and a line at its limit must carry
    power from the cheaper to the dearer end.  ``inj`` are the zones' net injections, ``pf``/``pt`` the
    prices at the ends of the lines, ``tol`` the price tolerance per line.
    """
    resid = inj - flow @ export_mat  # injection minus net export over the lines (must be 0)
    afl = np.abs(flow)
    scale = 1.0 + load_total + afl.sum(axis=1)  # total load (>= 0) of each hour
    ok = np.abs(resid).max(axis=1, initial=0.0) <= 1e-9 * scale
    qtol = 1e-9 * np.maximum(1.0, lim)
    bad = afl > lim * (1.0 + 1e-12) + 1e-9
    bad |= (flow < lim - qtol) & (pt - pf > tol)  # could carry more from -> to: need pt <= pf
    bad |= (flow > -lim + qtol) & (pf - pt > tol)  # could carry more to -> from: need pf <= pt
    ok &= ~bad.any(axis=1)
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
    p, s = _prepare(inp)
    net = s.net
    H, Z = p.H, p.Z
    flow = np.zeros((H, p.L))
    la = net.active.size
    if net.is_forest and not force_lp:
        price, dispatch, served, unserved, _ = _clear_merit_order(p, s, net.comp, net.n_comp)
        lp_h = _NO_HOURS
        if la:
            fa = _injections(p, s, None, dispatch, served, unserved) @ net.tree_incidence_t
            lim = p.limit if s.all_active else p.limit[:, net.active]
            over = (np.abs(fa) > lim * (1.0 + 1e-12) + 1e-9).any(axis=1)
            fl = np.minimum(np.maximum(fa, -lim), lim)
            if s.all_active:
                flow = fl
            else:
                flow[:, net.active] = fl
            if over.any():
                cong = np.flatnonzero(over)
                acc, pr, di, se, un, fl = _clear_congested(p, s, cong, fa[cong])
                if acc.all():
                    ah = cong
                else:
                    ah = cong[acc]
                    lp_h = cong[~acc]
                    pr, di, se, un, fl = pr[acc], di[acc], se[acc], un[acc], fl[acc]
                price[ah] = pr
                dispatch[ah] = di
                served[ah] = se
                unserved[ah] = un
                if s.all_active:
                    flow[ah] = fl
                else:
                    fz = flow[ah]
                    fz[:, net.active] = fl
                    flow[ah] = fz
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
