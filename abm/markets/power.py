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
  component is cleared as one merit-order market per hour; the flows implied on the tree are computed
  with a precomputed subtree-incidence matrix.  Hours in which a line limit would be violated are
  re-cleared with the overloaded lines fixed at their limits (the network split there) and accepted if
  a KKT certificate holds; the others are handed to the LP path.  This runs hour by hour in a kernel
  compiled with numba (:mod:`abm.markets.power_forest`).  On a forest the DC power flow and the
  transport model coincide (the flows are fixed by the injections), so reactances are irrelevant.
  Everything that depends only on the grid and on the offer/bid zones is cached (and a simulation that
  clears a market every day can hold it in a :class:`PowerGrid`).
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
from dataclasses import dataclass

import numpy as np
from numba import njit

from tokenomy.abm.markets.power_forest import clear_forest

__all__ = ["PowerGrid", "PowerMarketInput", "PowerMarketResult", "clear_power_market"]


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
    is_forest: bool
    tree_incidence_t: np.ndarray  # (Z, La): flows = injections @ this   (forest only, else empty)
    kvl: np.ndarray  # (n_cycles, La) rows x_l * cycle orientation (DC meshed only, else (0, La))
    dc: bool  # Kirchhoff constraints in the LP (DC power flow on a meshed grid)


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
        is_forest=is_forest,
        tree_incidence_t=np.ascontiguousarray(inc.T) if is_forest else np.zeros((n_zones, 0)),
        kvl=kvl,
        dc=dc,
    )


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
    item_zone: np.ndarray  # (N + M,) int64, zone of every offer and bid
    all_active: bool  # no self-loop lines (the active lines are all lines, in order)


_STRUCT_CACHE: dict[tuple, _Struct] = {}


def _key_part(a) -> tuple:
    a = np.asarray(a)
    return (a.dtype.str, a.shape, a.tobytes())


def _struct(inp: PowerMarketInput, Z: int) -> _Struct:
    return _struct_of(Z, inp.offer_zone, inp.bid_zone, inp.line_from, inp.line_to, inp.line_reactance)


def _struct_of(Z: int, offer_zone, bid_zone, line_from, line_to, x) -> _Struct:
    key = (
        Z,
        _key_part(offer_zone),
        _key_part(bid_zone),
        _key_part(line_from),
        _key_part(line_to),
        None if x is None else _key_part(x),
    )
    s = _STRUCT_CACHE.get(key)
    if s is None:
        s = _build_struct(Z, offer_zone, bid_zone, line_from, line_to, x)
        if len(_STRUCT_CACHE) >= _NETWORK_CACHE_MAX:
            _STRUCT_CACHE.clear()
        _STRUCT_CACHE[key] = s
    return s


def _build_struct(Z: int, offer_zone, bid_zone, line_from, line_to, x) -> _Struct:
    oz = _zones(offer_zone, Z, "offer_zone")
    bz = _zones(bid_zone, Z, "bid_zone")
    lf = _zones(line_from, Z, "line_from")
    lt = _zones(line_to, Z, "line_to")
    L = lf.size
    if lt.size != L:
        raise ValueError("line_from and line_to differ in length")
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
    return _Struct(net, L, oz, bz, np.concatenate([oz, bz]), net.active.size == L)


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
    cap, floor, load = _check_caps_and_load(inp.price_cap, inp.price_floor, inp.load_mw, Z)
    s = _struct(inp, Z)
    P, Q = _assemble_day(
        s, inp.offer_mw, inp.offer_price, inp.bid_mw, inp.bid_price, load, inp.line_limit_mw, cap, floor
    )
    return _prepared(s, Z, P, Q, cap, floor), s


def _check_caps_and_load(price_cap, price_floor, load_mw, Z: int) -> tuple[float, float, np.ndarray]:
    cap = float(price_cap)
    floor = float(price_floor)
    if not floor <= cap:
        raise ValueError("price_floor must not exceed price_cap")
    load = np.asarray(load_mw, dtype=np.float64)
    if load.ndim != 2 or load.shape[1] != Z or load.shape[0] < 1:
        raise ValueError(f"load_mw has shape {load.shape}, expected (H >= 1, {Z})")
    return cap, floor, load


def _assemble_day(
    s: _Struct, offer_mw, offer_price, bid_mw, bid_price, load: np.ndarray, line_limit_mw, cap: float, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """The day's quantities and prices checked and laid out in the solvers' buffers P and Q (see :func:`_assemble`)
    for the (checked) structure ``s``."""
    H = load.shape[0]
    N, M = s.oz.size, s.bz.size
    L = s.L
    omw = _as2d(offer_mw, H, N, "offer_mw")
    bmw = _as2d(bid_mw, H, M, "bid_mw")
    lim = np.asarray(line_limit_mw, dtype=np.float64)
    if L and lim.shape != (L,) and lim.shape != (H, L):
        raise ValueError(f"line_limit_mw has shape {lim.shape}, expected {(L,)} or {(H, L)}")
    op = _as2d(offer_price, H, N, "offer_price")
    bp = _as2d(bid_price, H, M, "bid_price")
    P, Q, bad = _assemble(omw, bmw, load, lim.reshape(-1, L) if L else np.zeros((1, 0)), op, bp, cap, floor)
    if bad >= 0:
        name = ("offer_mw", "bid_mw", "load_mw", "line_limit_mw", "offer_price", "bid_price")[bad]
        raise ValueError(f"{name} must be finite and >= 0" if bad < 4 else f"{name} contains NaN")
    return P, Q


def _prepared(s: _Struct, Z: int, P: np.ndarray, Q: np.ndarray, cap: float, floor: float) -> _Prepared:
    """Views of the buffers by name (what the LP path reads)."""
    N, M, L = s.oz.size, s.bz.size, s.L
    K = N + M + 1
    return _Prepared(
        P.shape[0],
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


@njit(cache=True)
def _assemble(omw, bmw, load, lim, op, bp, cap, floor):
    """One buffer of prices P = [offers, bids, unserved load at the cap], clipped to [floor, cap], and one of
    quantities Q = [offers, bids, total load, load per zone, line limits], hour by hour; and which of (offers, bids,
    load, limits) first has a negative or non-finite quantity, or of (offers, bids) a NaN price (-1: none)."""
    H, Z = load.shape
    N, M, L = omw.shape[1], bmw.shape[1], lim.shape[1]
    K = N + M + 1
    P = np.empty((H, K))
    Q = np.empty((H, K + Z + L))
    bad = np.zeros(6, dtype=np.bool_)
    for h in range(H):
        for i in range(N):
            q = omw[h, i]
            bad[0] |= not (0.0 <= q < np.inf)
            Q[h, i] = q
            p = op[h, i]
            bad[4] |= p != p
            P[h, i] = max(min(p, cap), floor)
        for j in range(M):
            q = bmw[h, j]
            bad[1] |= not (0.0 <= q < np.inf)
            Q[h, N + j] = q
            p = bp[h, j]
            bad[5] |= p != p
            P[h, N + j] = max(min(p, cap), floor)
        P[h, K - 1] = cap
        total = 0.0
        for z in range(Z):
            q = load[h, z]
            bad[2] |= not (0.0 <= q < np.inf)
            Q[h, K + z] = q
            total += q
        Q[h, K - 1] = total
        row = h if lim.shape[0] > 1 else 0
        for k in range(L):
            q = lim[row, k]
            bad[3] |= not (0.0 <= q < np.inf)
            Q[h, K + Z + k] = q
    for i in range(bad.size):
        if bad[i]:
            return P, Q, i
    return P, Q, -1


_NO_HOURS = np.zeros(0, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# LP path
# ----------------------------------------------------------------------------------------------


def _solve_lp(p: _Prepared, net: _Network, hours: np.ndarray):
    """One block-diagonal LP over ``hours``.  Returns price, dispatch, served, unserved, active flows."""
    # scipy loads only when a market needs an LP (most days need none)
    import scipy.sparse as sp
    from scipy.optimize import linprog

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
    return _solve(s, p.Z, p.P, p.Q, p.cap, p.floor, force_lp, p)


class PowerGrid:
    """What stays the same from one day's market to the next -- the zones, the lines and the zone of every offer and
    bid -- checked and precomputed once, so that a simulation clearing every day passes only the day's arrays.

    ``PowerGrid(...).clear(...)`` gives exactly what :func:`clear_power_market` gives for the same arrays.
    """

    def __init__(
        self,
        n_zones: int,
        offer_zone: np.ndarray,
        bid_zone: np.ndarray,
        line_from: np.ndarray,
        line_to: np.ndarray,
        line_reactance: np.ndarray | None = None,
    ):
        self.n_zones = int(n_zones)
        if self.n_zones < 1:
            raise ValueError("n_zones must be >= 1")
        self._struct = _struct_of(self.n_zones, offer_zone, bid_zone, line_from, line_to, line_reactance)

    def clear(
        self,
        offer_mw: np.ndarray,
        offer_price: np.ndarray,
        bid_mw: np.ndarray,
        bid_price: np.ndarray,
        load_mw: np.ndarray,
        line_limit_mw: np.ndarray,
        price_cap: float = 1500.0,
        price_floor: float = -100.0,
        *,
        force_lp: bool = False,
    ) -> PowerMarketResult:
        """Clear one day: the arrays as in :class:`PowerMarketInput`."""
        s, Z = self._struct, self.n_zones
        cap, floor, load = _check_caps_and_load(price_cap, price_floor, load_mw, Z)
        net = s.net
        if net.is_forest and s.all_active and not force_lp:  # one kernel call unless an hour needs the LP
            H = load.shape[0]
            N, M, L = s.oz.size, s.bz.size, s.L
            lim = np.asarray(line_limit_mw, dtype=np.float64)
            if L and lim.shape != (L,) and lim.shape != (H, L):
                raise ValueError(f"line_limit_mw has shape {lim.shape}, expected {(L,)} or {(H, L)}")
            bad, price, alloc, unserved, flow, need_lp = _assemble_and_clear_forest(
                _as2d(offer_mw, H, N, "offer_mw"),
                _as2d(bid_mw, H, M, "bid_mw"),
                load,
                lim.reshape(-1, L) if L else np.zeros((1, 0)),
                _as2d(offer_price, H, N, "offer_price"),
                _as2d(bid_price, H, M, "bid_price"),
                cap,
                floor,
                Z,
                s.item_zone,
                net.frm,
                net.to,
                net.tree_incidence_t,
                net.comp,
                net.n_comp,
                2 * net.active.size + 2,
            )
            if bad < 0 and not need_lp:
                return PowerMarketResult(
                    price=price,
                    offer_dispatch_mw=alloc[:, :N],
                    bid_served_mw=alloc[:, N:],
                    unserved_mw=unserved,
                    line_flow_mw=flow,
                    lp_hours=0,
                )
        P, Q = _assemble_day(s, offer_mw, offer_price, bid_mw, bid_price, load, line_limit_mw, cap, floor)
        return _solve(s, Z, P, Q, cap, floor, force_lp)


@njit(cache=True)
def _assemble_and_clear_forest(
    omw, bmw, load, lim, op, bp, cap, floor, Z, item_zone, frm, to, tree_inc_t, comp, n_comp, max_rounds
):
    """:func:`_assemble` then :func:`clear_forest` (a forest grid whose lines are all active).  Returns (the input
    problem found by :func:`_assemble` or -1, price, allocation, unserved, flows, whether an hour needs the LP)."""
    N, M = omw.shape[1], bmw.shape[1]
    P, Q, bad = _assemble(omw, bmw, load, lim, op, bp, cap, floor)
    if bad >= 0:
        return bad, np.empty((0, 0)), np.empty((0, 0)), np.empty((0, 0)), np.empty((0, 0)), False
    limit = np.ascontiguousarray(Q[:, N + M + 1 + Z :])
    price, alloc, unserved, flow, need_lp = clear_forest(
        P, Q, N, M, Z, item_zone, frm, to, tree_inc_t, limit, comp, n_comp, max_rounds
    )
    return -1, price, alloc, unserved, flow, need_lp.any()


def _solve(
    s: _Struct,
    Z: int,
    P: np.ndarray,
    Q: np.ndarray,
    cap: float,
    floor: float,
    force_lp: bool,
    p: _Prepared | None = None,
) -> PowerMarketResult:
    net = s.net
    H = P.shape[0]
    N, M, L = s.oz.size, s.bz.size, s.L
    la = net.active.size
    if net.is_forest and not force_lp:
        lim = Q[:, N + M + 1 + Z :]
        price, alloc, unserved, fl, need_lp = clear_forest(
            P,
            Q,
            N,
            M,
            Z,
            s.item_zone,
            net.frm,
            net.to,
            net.tree_incidence_t,
            np.ascontiguousarray(lim if s.all_active else lim[:, net.active]),
            net.comp,
            net.n_comp,
            2 * la + 2,
        )
        dispatch, served = alloc[:, :N], alloc[:, N:]
        if s.all_active:
            flow = fl
        else:
            flow = np.zeros((H, L))
            flow[:, net.active] = fl
        lp_h = np.flatnonzero(need_lp) if need_lp.any() else _NO_HOURS
    else:
        flow = np.zeros((H, L))
        price = np.empty((H, Z))
        dispatch = np.empty((H, N))
        served = np.empty((H, M))
        unserved = np.empty((H, Z))
        lp_h = np.arange(H)
    if lp_h.size:
        pr, di, se, un, fl = _solve_lp(_prepared(s, Z, P, Q, cap, floor) if p is None else p, net, lp_h)
        price[lp_h] = pr
        dispatch[lp_h] = di
        served[lp_h] = se
        unserved[lp_h] = un
        fz = np.zeros((lp_h.size, L))
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
