"""Tests of the zonal/nodal day-ahead power market (abm.markets.power).

The random instances are checked against an independent oracle: the LP built directly from the input,
one hour at a time, with the DC power flow written in the angle formulation (the module uses a cycle
basis).  Every result must reach the oracle's optimum, be feasible, and come with prices that are a
valid dual certificate; where the dual is unique the prices must equal the oracle's duals.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.optimize import linprog

from tokenomy.abm.markets.power import PowerMarketInput, PowerMarketResult, clear_power_market

QTOL = 1e-6  # MW
PTOL = 1e-6  # CNY/MWh


# ----------------------------------------------------------------------------------------------
# Independent oracle
# ----------------------------------------------------------------------------------------------


def _components(n_zones: int, lf: np.ndarray, lt: np.ndarray) -> np.ndarray:
    label = list(range(n_zones))

    def find(a: int) -> int:
        while label[a] != a:
            label[a] = label[label[a]]
            a = label[a]
        return a

    for a, b in zip(lf, lt, strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            label[max(ra, rb)] = min(ra, rb)
    return np.array([find(z) for z in range(n_zones)])


def _dc(inp: PowerMarketInput) -> bool:
    x = inp.line_reactance
    return x is not None and not np.all(np.isnan(x))


def _limits(inp: PowerMarketInput, H: int) -> np.ndarray:
    lim = np.asarray(inp.line_limit_mw, dtype=float)
    return np.broadcast_to(lim, (H, lim.shape[-1])) if lim.ndim == 1 else lim


def _is_forest(inp: PowerMarketInput) -> bool:
    lf, lt = np.asarray(inp.line_from), np.asarray(inp.line_to)
    keep = lf != lt
    n_comp = np.unique(_components(inp.n_zones, lf[keep], lt[keep])).size
    return int(keep.sum()) == inp.n_zones - n_comp


@dataclass
class Oracle:
    objective: float
    price: np.ndarray  # (Z,) balance duals


def oracle_hour(inp: PowerMarketInput, h: int) -> Oracle:
    """The hour-h LP, written out densely: [dispatch, bids, unserved, spill, flows, (angles)]."""
    Z = inp.n_zones
    cap, floor = inp.price_cap, inp.price_floor
    oz, bz = np.asarray(inp.offer_zone), np.asarray(inp.bid_zone)
    N, M = oz.size, bz.size
    lf, lt = np.asarray(inp.line_from), np.asarray(inp.line_to)
    L = lf.size
    lim = _limits(inp, np.asarray(inp.load_mw).shape[0])[h]
    dc = _dc(inp)
    nth = Z if dc else 0
    nv = N + M + 2 * Z + L + nth
    c = np.zeros(nv)
    c[:N] = np.clip(inp.offer_price[h], floor, cap)
    c[N : N + M] = -np.clip(inp.bid_price[h], floor, cap)
    c[N + M : N + M + Z] = cap
    c[N + M + Z : N + M + 2 * Z] = -floor
    rows = []
    rhs = []
    for z in range(Z):
        r = np.zeros(nv)
        r[:N][oz == z] = 1.0
        r[N : N + M][bz == z] = -1.0
        r[N + M + z] = 1.0
        r[N + M + Z + z] = -1.0
        r[N + M + 2 * Z : N + M + 2 * Z + L][lt == z] += 1.0
        r[N + M + 2 * Z : N + M + 2 * Z + L][lf == z] -= 1.0
        rows.append(r)
        rhs.append(inp.load_mw[h, z])
    bounds = (
        [(0.0, q) for q in inp.offer_mw[h]]
        + [(0.0, q) for q in inp.bid_mw[h]]
        + [(0.0, q) for q in inp.load_mw[h]]
        + [(0.0, None)] * Z
        + [(-q, q) for q in lim]
    )
    if dc:
        x = np.asarray(inp.line_reactance)
        for l in range(L):
            r = np.zeros(nv)
            r[N + M + 2 * Z + l] = 1.0
            r[N + M + 2 * Z + L + lf[l]] -= 1.0 / x[l]
            r[N + M + 2 * Z + L + lt[l]] += 1.0 / x[l]
            rows.append(r)
            rhs.append(0.0)
        comp = _components(Z, lf, lt)
        bounds += [(0.0, 0.0) if comp[z] == z else (None, None) for z in range(Z)]
    res = linprog(c, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return Oracle(objective=float(res.fun), price=res.eqlin.marginals[:Z].copy())


# ----------------------------------------------------------------------------------------------
# Checks of a result
# ----------------------------------------------------------------------------------------------


def zonal_sum(values: np.ndarray, zones: np.ndarray, Z: int) -> np.ndarray:
    out = np.zeros((values.shape[0], Z))
    for j, z in enumerate(zones):
        out[:, z] += values[:, j]
    return out


def spill_of(inp: PowerMarketInput, r: PowerMarketResult) -> np.ndarray:
    Z = inp.n_zones
    imports = np.zeros_like(r.unserved_mw)
    for l, (a, b) in enumerate(zip(inp.line_from, inp.line_to, strict=True)):
        imports[:, b] += r.line_flow_mw[:, l]
        imports[:, a] -= r.line_flow_mw[:, l]
    return (
        zonal_sum(r.offer_dispatch_mw, inp.offer_zone, Z)
        + r.unserved_mw
        + imports
        - inp.load_mw
        - zonal_sum(r.bid_served_mw, inp.bid_zone, Z)
    )


def objective_of(inp: PowerMarketInput, r: PowerMarketResult) -> np.ndarray:
    cap, floor = inp.price_cap, inp.price_floor
    return (
        (np.clip(inp.offer_price, floor, cap) * r.offer_dispatch_mw).sum(axis=1)
        - (np.clip(inp.bid_price, floor, cap) * r.bid_served_mw).sum(axis=1)
        + cap * r.unserved_mw.sum(axis=1)
        - floor * spill_of(inp, r).sum(axis=1)
    )


def network_subproblem_gap(inp: PowerMarketInput, r: PowerMarketResult, h: int) -> tuple[float, float]:
    """DC certificate: the flows must minimise sum((lambda_from - lambda_to) * f) over DC-feasible flows."""
    Z = inp.n_zones
    lf, lt = np.asarray(inp.line_from), np.asarray(inp.line_to)
    L = lf.size
    x = np.asarray(inp.line_reactance)
    lim = _limits(inp, r.price.shape[0])[h]
    lam = r.price[h]
    w = lam[lf] - lam[lt]
    c = np.concatenate([w, np.zeros(Z)])
    a = np.zeros((L, L + Z))
    for l in range(L):
        a[l, l] = 1.0
        a[l, L + lf[l]] -= 1.0 / x[l]
        a[l, L + lt[l]] += 1.0 / x[l]
    comp = _components(Z, lf, lt)
    bounds = [(-q, q) for q in lim] + [(0.0, 0.0) if comp[z] == z else (None, None) for z in range(Z)]
    res = linprog(c, A_eq=a, b_eq=np.zeros(L), bounds=bounds, method="highs")
    assert res.status == 0
    scale = 1.0 + float(np.abs(w) @ lim)
    return float(w @ r.line_flow_mw[h]) - float(res.fun), scale


def check_result(inp: PowerMarketInput, r: PowerMarketResult, oracles: list[Oracle], unique: bool, tag: str):
    H, Z = np.asarray(inp.load_mw).shape
    N, M, L = len(inp.offer_zone), len(inp.bid_zone), len(inp.line_from)
    cap, floor = inp.price_cap, inp.price_floor
    assert r.price.shape == (H, Z), tag
    assert r.offer_dispatch_mw.shape == (H, N), tag
    assert r.bid_served_mw.shape == (H, M), tag
    assert r.unserved_mw.shape == (H, Z), tag
    assert r.line_flow_mw.shape == (H, L), tag
    assert 0 <= r.lp_hours <= H, tag
    dc = _dc(inp)
    meshed_dc = dc and not _is_forest(inp)
    op = np.clip(inp.offer_price, floor, cap)
    bp = np.clip(inp.bid_price, floor, cap)
    lim = _limits(inp, H)
    lf, lt = np.asarray(inp.line_from), np.asarray(inp.line_to)
    g, d, u, f, lam = r.offer_dispatch_mw, r.bid_served_mw, r.unserved_mw, r.line_flow_mw, r.price

    # 1. optimum
    obj = objective_of(inp, r)
    for h in range(H):
        want = oracles[h].objective
        assert abs(obj[h] - want) <= 1e-6 * max(1.0, abs(want)), f"{tag} h={h}: objective {obj[h]} != {want}"

    # 2. feasibility
    assert np.all(g >= -QTOL) and np.all(g <= inp.offer_mw + QTOL), f"{tag}: dispatch out of bounds"
    assert np.all(d >= -QTOL) and np.all(d <= inp.bid_mw + QTOL), f"{tag}: bids out of bounds"
    assert np.all(u >= -QTOL) and np.all(u <= inp.load_mw + QTOL), f"{tag}: unserved out of bounds"
    assert np.all(np.abs(f) <= lim + QTOL), f"{tag}: line limit violated\n{f}\n{lim}"
    spill = spill_of(inp, r)
    assert np.all(spill >= -QTOL), f"{tag}: zone does not balance (deficit)\n{spill}"
    assert np.all(np.abs(lam[spill > QTOL] - floor) <= PTOL), f"{tag}: spill at a price above the floor"
    self_loop = lf == lt
    if dc:
        assert np.all(np.abs(f[:, self_loop]) <= QTOL), tag
        # KVL: f * x must be a potential difference theta_from - theta_to
        x = np.asarray(inp.line_reactance)
        inc = np.zeros((L, Z))
        inc[np.arange(L), lf] += 1.0
        inc[np.arange(L), lt] -= 1.0
        for h in range(H):
            v = f[h] * x
            theta, *_ = np.linalg.lstsq(inc, v, rcond=None)
            assert np.allclose(inc @ theta, v, atol=1e-6), f"{tag} h={h}: Kirchhoff voltage law violated"

    # 3. dual certificate
    assert np.all(lam >= floor - PTOL), f"{tag}: price below the floor\n{lam}"
    if not meshed_dc:
        assert np.all(lam <= cap + PTOL), f"{tag}: price above the cap\n{lam}"
    lo = lam[:, inp.offer_zone]
    assert np.all(lo[g > QTOL] >= op[g > QTOL] - PTOL), f"{tag}: offer dispatched above the price"
    part = g < inp.offer_mw - QTOL
    assert np.all(lo[part] <= op[part] + PTOL), f"{tag}: offer below the price not fully dispatched"
    lb = lam[:, inp.bid_zone]
    assert np.all(lb[d > QTOL] <= bp[d > QTOL] + PTOL), f"{tag}: bid served below the price"
    part = d < inp.bid_mw - QTOL
    assert np.all(lb[part] >= bp[part] - PTOL), f"{tag}: bid above the price not fully served"
    assert np.all(lam[u > QTOL] >= cap - PTOL), f"{tag}: unserved load below the cap price"
    part = u < inp.load_mw - QTOL
    assert np.all(lam[part] <= cap + PTOL), f"{tag}: load shed... price above cap with unused shedding"
    if not meshed_dc:  # transport lines (and DC on a forest, where KVL is vacuous)
        for l in np.flatnonzero(~self_loop):
            a, b = lf[l], lt[l]
            below = f[:, l] < lim[:, l] - QTOL  # could carry more from -> to
            above = f[:, l] > -lim[:, l] + QTOL  # could carry more to -> from
            assert np.all(lam[below, b] <= lam[below, a] + PTOL), f"{tag}: line {l} leaves money on the table"
            assert np.all(lam[above, a] <= lam[above, b] + PTOL), f"{tag}: line {l} flows from dear to cheap"
    else:
        for h in range(H):
            gap, scale = network_subproblem_gap(inp, r, h)
            assert gap <= 1e-7 * scale + 1e-6, f"{tag} h={h}: flows not optimal for the nodal prices ({gap})"

    # 4. unique duals equal the oracle's
    if unique:
        want = np.array([o.price for o in oracles])
        assert np.allclose(lam, want, atol=PTOL, rtol=1e-9), f"{tag}: prices\n{lam}\n!= oracle\n{want}"


# ----------------------------------------------------------------------------------------------
# Random instances
# ----------------------------------------------------------------------------------------------


def _tree(rng: np.random.Generator, Z: int) -> list[tuple[int, int]]:
    edges = []
    for z in range(1, Z):
        p = int(rng.integers(0, z))
        edges.append((p, z) if rng.random() < 0.5 else (z, p))
    return edges


def _mesh(rng: np.random.Generator, Z: int, n_extra: int) -> list[tuple[int, int]]:
    edges = _tree(rng, Z)
    have = {frozenset(e) for e in edges}
    pairs = [(a, b) for a in range(Z) for b in range(a + 1, Z) if frozenset((a, b)) not in have]
    for k in rng.permutation(len(pairs))[:n_extra]:
        a, b = pairs[k]
        edges.append((a, b) if rng.random() < 0.5 else (b, a))
    if len(edges) == Z - 1:  # Z == 2 or no room: duplicate a line -> parallel lines form a cycle
        edges.append(edges[0][::-1])
    return edges


def make(
    rng: np.random.Generator,
    Z: int,
    edges: list[tuple[int, int]],
    *,
    H: int = 4,
    n_off: int = 6,
    n_bid: int = 2,
    cont: bool = True,
    load: str = "pos",
    limits: str = "random",
    dc: bool = False,
    per_hour_limits: bool = False,
    cap: float = 1500.0,
    floor: float = -100.0,
) -> PowerMarketInput:
    L = len(edges)
    oz = rng.integers(0, Z, n_off)
    bz = rng.integers(0, Z, n_bid)
    if cont:
        omw = rng.uniform(1.0, 100.0, (H, n_off))
        op = rng.uniform(1.0, 500.0, (H, n_off))
        bmw = rng.uniform(1.0, 50.0, (H, n_bid))
        bprice = rng.uniform(1.0, 500.0, (H, n_bid))
    else:
        levels = np.array([-300.0, -100.0, 0.0, 20.0, 50.0, 50.0, 100.0, 1500.0, 3000.0])
        omw = rng.integers(0, 5, (H, n_off)) * 20.0
        op = rng.choice(levels, (H, n_off))
        bmw = rng.integers(0, 4, (H, n_bid)) * 10.0
        bprice = rng.choice(levels, (H, n_bid))
    if load == "pos":
        ld = rng.uniform(20.0, 150.0, (H, Z)) if cont else rng.integers(1, 8, (H, Z)) * 20.0
    elif load == "mixed":
        ld = rng.integers(0, 6, (H, Z)) * 20.0 * (rng.random((H, Z)) < 0.6)
    elif load == "zero":
        ld = np.zeros((H, Z))
    elif load == "shortage":
        ld = np.full((H, Z), omw.sum(axis=1, keepdims=True) / Z) * rng.uniform(1.2, 2.0, (H, Z))
    else:
        raise ValueError(load)
    shape = (H, L) if per_hour_limits else (L,)
    lim = {
        "random": lambda: rng.uniform(0.0, 120.0, shape),
        "tight": lambda: rng.uniform(0.0, 15.0, shape),
        "zero": lambda: np.zeros(shape),
        "big": lambda: np.full(shape, 1e5),
        "ties": lambda: rng.integers(0, 4, shape) * 20.0,
    }[limits]()
    lf = np.array([e[0] for e in edges], dtype=int)
    lt = np.array([e[1] for e in edges], dtype=int)
    x = rng.uniform(0.05, 1.0, L) if dc else (np.full(L, np.nan) if rng.random() < 0.3 else None)
    return PowerMarketInput(
        n_zones=Z,
        offer_zone=oz,
        offer_mw=omw,
        offer_price=op,
        bid_zone=bz,
        bid_mw=bmw,
        bid_price=bprice,
        load_mw=ld,
        line_from=lf,
        line_to=lt,
        line_limit_mw=lim,
        line_reactance=x,
        price_cap=cap,
        price_floor=floor,
    )


def _with(inp: PowerMarketInput, **kw) -> PowerMarketInput:
    d = dict(inp.__dict__)
    d.update(kw)
    return PowerMarketInput(**d)


def g_single_nd(rng):
    return make(rng, 1, [], n_off=int(rng.integers(1, 10)), n_bid=int(rng.integers(0, 4))), True


def g_single_ties(rng):
    return make(rng, 1, [], n_off=int(rng.integers(1, 10)), n_bid=int(rng.integers(0, 4)), cont=False), False


def g_no_offers(rng):
    return make(rng, 1 + int(rng.integers(0, 2)), [], n_off=0, n_bid=3, cont=False, load="mixed"), False


def g_no_bids(rng):
    return make(rng, 1, [], n_off=5, n_bid=0), True


def g_zero_load(rng):
    inp = make(rng, 1, [], n_off=5, n_bid=int(rng.integers(0, 3)), cont=bool(rng.random() < 0.5), load="zero")
    return inp, False


def g_zero_caps(rng):
    inp = make(rng, 2, [(0, 1)], n_off=6, n_bid=3, cont=False, load="mixed")
    omw = inp.offer_mw * (rng.random(inp.offer_mw.shape) < 0.5)
    bmw = inp.bid_mw * (rng.random(inp.bid_mw.shape) < 0.5)
    return _with(inp, offer_mw=omw, bid_mw=bmw), False


def g_shortage(rng):
    Z = int(rng.integers(1, 4))
    return make(rng, Z, _tree(rng, Z), n_off=5, n_bid=2, load="shortage"), False


def g_floor_surplus(rng):
    Z = int(rng.integers(1, 4))
    inp = make(rng, Z, _tree(rng, Z), n_off=6, n_bid=2, cont=bool(rng.random() < 0.5))
    op = inp.offer_price.copy()
    op[:, :3] = rng.choice([-100.0, -250.0], (op.shape[0], 3))  # floor-priced (or clipped) renewables
    omw = inp.offer_mw.copy()
    omw[:, :3] = 400.0
    return _with(inp, offer_price=op, offer_mw=omw, offer_zone=np.arange(6) % Z), False


def g_two_zone_nd(rng):
    return make(rng, 2, [(0, 1)], n_off=6, n_bid=2, per_hour_limits=bool(rng.random() < 0.5)), True


def g_two_zone_ties(rng):
    return make(rng, 2, [(1, 0)], n_off=6, n_bid=2, cont=False, load="mixed", limits="ties"), False


def g_tree_nd(rng):
    Z = int(rng.integers(3, 6))
    return make(rng, Z, _tree(rng, Z), n_off=3 * Z, n_bid=Z), True


def g_tree_binding(rng):
    Z = int(rng.integers(3, 6))
    return make(rng, Z, _tree(rng, Z), n_off=3 * Z, n_bid=Z, limits="tight", per_hour_limits=True), True


def g_tree_all_binding(rng):
    Z = int(rng.integers(2, 6))
    return make(rng, Z, _tree(rng, Z), n_off=3 * Z, n_bid=Z, limits="zero", cont=bool(rng.random() < 0.5)), False


def g_tree_dc(rng):
    Z = int(rng.integers(2, 6))
    return make(rng, Z, _tree(rng, Z), n_off=3 * Z, n_bid=Z, dc=True), True


def g_mesh_transport_nd(rng):
    Z = int(rng.integers(3, 5))
    return make(rng, Z, _mesh(rng, Z, int(rng.integers(1, 3))), n_off=3 * Z, n_bid=Z, limits="tight"), True


def g_mesh_transport_ties(rng):
    Z = int(rng.integers(3, 5))
    edges = _mesh(rng, Z, int(rng.integers(1, 3)))
    return make(rng, Z, edges, n_off=3 * Z, n_bid=Z, cont=False, load="mixed", limits="ties"), False


def g_mesh_dc_nd(rng):
    Z = int(rng.integers(3, 5))
    edges = _mesh(rng, Z, int(rng.integers(1, 3)))
    return make(rng, Z, edges, n_off=3 * Z, n_bid=Z, limits="tight", dc=True), True


def g_mesh_dc_degenerate(rng):
    Z = int(rng.integers(3, 5))
    edges = _mesh(rng, Z, int(rng.integers(1, 3)))
    return make(rng, Z, edges, n_off=3 * Z, n_bid=Z, cont=False, load="mixed", limits="ties", dc=True), False


def g_disconnected(rng):
    Z = int(rng.integers(3, 7))
    edges = [e for e in _tree(rng, Z) if rng.random() < 0.5]
    cont = bool(rng.random() < 0.5)
    return make(rng, Z, edges, n_off=2 * Z, n_bid=Z, cont=cont, limits="random" if cont else "ties"), cont


def g_disconnected_mesh_dc(rng):
    # a meshed DC triangle plus a separate 2-zone tree and an isolated zone
    edges = [(0, 1), (1, 2), (2, 0), (3, 4)]
    return make(rng, 6, edges, n_off=12, n_bid=4, limits="tight", dc=True), True


def g_parallel(rng):
    edges = [(0, 1), (1, 0), (1, 2)]
    dc = bool(rng.random() < 0.5)
    return make(rng, 3, edges, n_off=8, n_bid=2, limits="tight", dc=dc), True


def g_self_loop(rng):
    edges = [(0, 1), (1, 1), (1, 2)]
    return make(rng, 3, edges, n_off=8, n_bid=2, dc=bool(rng.random() < 0.5)), True


def g_uncongested_tree(rng):
    Z = int(rng.integers(1, 7))
    return make(rng, Z, _tree(rng, Z), n_off=3 * Z, n_bid=Z, limits="big", cont=bool(rng.random() < 0.5)), False


def g_exact_fill(rng):
    # decimal quantities (not exact in binary) whose partial sums equal the load exactly in decimal:
    # the clearing lands on a step, where rounding decides between two valid prices
    Z = int(rng.integers(1, 4))
    inp = make(rng, Z, _tree(rng, Z), n_off=6, n_bid=2, cont=False, limits="big")
    H = inp.load_mw.shape[0]
    omw = rng.integers(1, 30, (H, 6)) * 0.1
    k = rng.integers(1, 6, H)
    order = np.argsort(np.clip(inp.offer_price, -100.0, 1500.0), axis=1, kind="stable")
    total = np.array([np.sort(omw[h, order[h, : k[h]]])[::-1].sum() for h in range(H)])
    share = rng.dirichlet(np.ones(Z), H)
    bmw = rng.integers(0, 3, (H, 2)) * 0.1
    return _with(inp, offer_mw=omw, load_mw=total[:, None] * share, bid_mw=bmw), False


GENERATORS = {
    "single_nd": (g_single_nd, 15),
    "single_ties": (g_single_ties, 15),
    "no_offers": (g_no_offers, 5),
    "no_bids": (g_no_bids, 5),
    "zero_load": (g_zero_load, 8),
    "zero_caps": (g_zero_caps, 8),
    "shortage": (g_shortage, 8),
    "floor_surplus": (g_floor_surplus, 8),
    "two_zone_nd": (g_two_zone_nd, 12),
    "two_zone_ties": (g_two_zone_ties, 8),
    "tree_nd": (g_tree_nd, 15),
    "tree_binding": (g_tree_binding, 15),
    "tree_all_binding": (g_tree_all_binding, 8),
    "tree_dc": (g_tree_dc, 8),
    "uncongested_tree": (g_uncongested_tree, 8),
    "mesh_transport_nd": (g_mesh_transport_nd, 15),
    "mesh_transport_ties": (g_mesh_transport_ties, 10),
    "mesh_dc_nd": (g_mesh_dc_nd, 15),
    "mesh_dc_degenerate": (g_mesh_dc_degenerate, 10),
    "disconnected": (g_disconnected, 10),
    "disconnected_mesh_dc": (g_disconnected_mesh_dc, 6),
    "parallel": (g_parallel, 6),
    "self_loop": (g_self_loop, 4),
    "exact_fill": (g_exact_fill, 10),
}
CASES = [(kind, i) for kind, (_, n) in GENERATORS.items() for i in range(n)]


@pytest.mark.parametrize(("kind", "seed"), CASES, ids=[f"{k}-{i}" for k, i in CASES])
def test_random_instance_against_oracle(kind: str, seed: int):
    gen, _ = GENERATORS[kind]
    rng = np.random.default_rng([zlib.crc32(kind.encode()), seed])
    inp, unique = gen(rng)
    H = inp.load_mw.shape[0]
    oracles = [oracle_hour(inp, h) for h in range(H)]
    fast = clear_power_market(inp)
    check_result(inp, fast, oracles, unique, f"{kind}-{seed}")
    lp = clear_power_market(inp, force_lp=True)
    assert lp.lp_hours == H
    check_result(inp, lp, oracles, unique, f"{kind}-{seed}[lp]")
    if kind == "uncongested_tree":
        assert fast.lp_hours == 0
    if not _is_forest(inp):
        assert fast.lp_hours == H


def test_instance_count():
    assert len(CASES) >= 200


# ----------------------------------------------------------------------------------------------
# Hand-worked examples
# ----------------------------------------------------------------------------------------------


def market(Z, offers, load, lines=(), bids=(), x=None, cap=1500.0, floor=-100.0) -> PowerMarketInput:
    """offers/bids: [(zone, mw, price)], load: per-zone list (one hour), lines: [(from, to, limit)]."""
    return PowerMarketInput(
        n_zones=Z,
        offer_zone=np.array([o[0] for o in offers], dtype=int),
        offer_mw=np.array([[o[1] for o in offers]], dtype=float).reshape(1, len(offers)),
        offer_price=np.array([[o[2] for o in offers]], dtype=float).reshape(1, len(offers)),
        bid_zone=np.array([b[0] for b in bids], dtype=int),
        bid_mw=np.array([[b[1] for b in bids]], dtype=float).reshape(1, len(bids)),
        bid_price=np.array([[b[2] for b in bids]], dtype=float).reshape(1, len(bids)),
        load_mw=np.array([load], dtype=float),
        line_from=np.array([ln[0] for ln in lines], dtype=int),
        line_to=np.array([ln[1] for ln in lines], dtype=int),
        line_limit_mw=np.array([ln[2] for ln in lines], dtype=float),
        line_reactance=None if x is None else np.array(x, dtype=float),
        price_cap=cap,
        price_floor=floor,
    )


@pytest.mark.parametrize("force_lp", [False, True])
def test_single_zone_marginal_offer_sets_price(force_lp):
    r = clear_power_market(market(1, [(0, 50, 20.0), (0, 50, 10.0), (0, 50, 30.0)], [70]), force_lp=force_lp)
    assert r.price[0, 0] == pytest.approx(20.0)
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [20, 50, 0], atol=1e-9)
    assert r.lp_hours == (1 if force_lp else 0)


@pytest.mark.parametrize("force_lp", [False, True])
def test_two_zones_congested_line_splits_prices(force_lp):
    # cheap gen in A, load in B; line A->B limited to 30 MW -> each zone priced by its own marginal offer
    inp = market(2, [(0, 100, 10.0), (1, 100, 50.0)], [0, 80], lines=[(0, 1, 30)])
    r = clear_power_market(inp, force_lp=force_lp)
    np.testing.assert_allclose(r.price[0], [10.0, 50.0])
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [30.0, 50.0], atol=1e-9)
    np.testing.assert_allclose(r.line_flow_mw[0], [30.0], atol=1e-9)
    assert r.lp_hours == (1 if force_lp else 0)  # a 2-zone congested hour never needs the LP


def test_two_zones_uncongested_single_price_fast_path():
    inp = market(2, [(0, 100, 10.0), (1, 100, 50.0)], [0, 80], lines=[(1, 0, 100)])
    r = clear_power_market(inp)
    np.testing.assert_allclose(r.price[0], [10.0, 10.0])
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [80.0, 0.0])
    np.testing.assert_allclose(r.line_flow_mw[0], [-80.0])  # line is B -> A, power flows A -> B
    assert r.lp_hours == 0


@pytest.mark.parametrize("force_lp", [False, True])
def test_shortage_price_cap_and_unserved(force_lp):
    r = clear_power_market(market(1, [(0, 30, 10.0)], [50]), force_lp=force_lp)
    assert r.price[0, 0] == pytest.approx(1500.0)
    assert r.unserved_mw[0, 0] == pytest.approx(20.0)
    assert r.offer_dispatch_mw[0, 0] == pytest.approx(30.0)


@pytest.mark.parametrize("force_lp", [False, True])
def test_surplus_of_floor_priced_renewables_sets_floor(force_lp):
    r = clear_power_market(market(1, [(0, 100, -500.0), (0, 50, 30.0)], [40]), force_lp=force_lp)
    assert r.price[0, 0] == pytest.approx(-100.0)  # offer price clipped to the floor
    assert r.offer_dispatch_mw[0, 1] == pytest.approx(0.0)
    assert r.offer_dispatch_mw[0, 0] >= 40.0 - 1e-9  # the rest (if any) is spilled


def test_price_convention_in_degenerate_cases():
    # load exactly fills the 10-CNY offer: price = incremental cost = next offer (20)
    r = clear_power_market(market(1, [(0, 50, 10.0), (0, 50, 20.0)], [50]))
    assert r.price[0, 0] == pytest.approx(20.0)
    # zero load, no bids: the cheapest offer with capacity
    r = clear_power_market(market(1, [(0, 0, 5.0), (0, 50, 10.0), (0, 50, 20.0)], [0]))
    assert r.price[0, 0] == pytest.approx(10.0)
    np.testing.assert_allclose(r.offer_dispatch_mw, 0.0)
    # nothing at all in the zone: the next MW would be unserved
    r = clear_power_market(market(1, [], [0]))
    assert r.price[0, 0] == pytest.approx(1500.0)
    # all offers exactly used: next MW is unserved -> cap
    r = clear_power_market(market(1, [(0, 50, 10.0)], [50]))
    assert r.price[0, 0] == pytest.approx(1500.0)


@pytest.mark.parametrize("force_lp", [False, True])
def test_bid_sets_price(force_lp):
    # 100 MW at 10 covers the 70 MW load, the 60-CNY bid gets the remaining 30 MW and sets the price
    inp = market(1, [(0, 100, 10.0), (0, 100, 80.0)], [70], bids=[(0, 50, 60.0)])
    r = clear_power_market(inp, force_lp=force_lp)
    assert r.price[0, 0] == pytest.approx(60.0)
    assert r.bid_served_mw[0, 0] == pytest.approx(30.0)
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [100.0, 0.0], atol=1e-9)


def test_dc_triangle_nodal_price_above_all_offers():
    # Nodes 0,1,2 in a triangle with equal reactances; cheap gen at 0 (10), dear gen at 1 (50),
    # 300 MW load at 2; line 0-2 limited to 150 MW.  flow02 = (2 g0 + g1) / 3 <= 150 with g0 + g1 = 300
    # -> g0 = g1 = 150.  One more MW at node 2 needs dg0 = -1, dg1 = +2: price 2*50 - 10 = 90.
    lines = [(0, 1, 1000), (0, 2, 150), (1, 2, 1000)]
    inp = market(3, [(0, 1000, 10.0), (1, 1000, 50.0)], [0, 0, 300], lines=lines, x=[1.0, 1.0, 1.0])
    r = clear_power_market(inp)
    np.testing.assert_allclose(r.price[0], [10.0, 50.0, 90.0], atol=1e-7)
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [150.0, 150.0], atol=1e-7)
    np.testing.assert_allclose(r.line_flow_mw[0], [0.0, 150.0, 150.0], atol=1e-7)
    # transport model: the cheap generator reaches node 2 via node 1 -> one price
    r = clear_power_market(_with(inp, line_reactance=None))
    np.testing.assert_allclose(r.price[0], [10.0, 10.0, 10.0], atol=1e-7)
    assert r.offer_dispatch_mw[0, 0] == pytest.approx(300.0)


def test_disconnected_zones_are_separate_markets():
    inp = market(3, [(0, 100, 10.0), (1, 100, 20.0), (2, 10, 30.0)], [40, 50, 20], lines=[(0, 1, 100)])
    r = clear_power_market(inp)
    np.testing.assert_allclose(r.price[0], [10.0, 10.0, 1500.0])
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [90.0, 0.0, 10.0])
    np.testing.assert_allclose(r.unserved_mw[0], [0.0, 0.0, 10.0])
    assert r.lp_hours == 0


# ----------------------------------------------------------------------------------------------
# Fast path vs LP path, and misc
# ----------------------------------------------------------------------------------------------


def test_fast_and_lp_path_agree_on_a_day():
    rng = np.random.default_rng(7)
    inp = make(rng, 8, _tree(rng, 8), H=24, n_off=60, n_bid=16, limits="big", per_hour_limits=True)
    lim = inp.line_limit_mw.copy()
    lim[rng.choice(24, 6, replace=False)[:, None], rng.choice(7, 2, replace=False)] = 5.0
    inp = _with(inp, line_limit_mw=lim)
    fast = clear_power_market(inp)
    lp = clear_power_market(inp, force_lp=True)
    assert fast.lp_hours == 0  # congested hours are cleared exactly by splitting the tree
    np.testing.assert_allclose(objective_of(inp, fast), objective_of(inp, lp), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(fast.price, lp.price, atol=1e-6)  # continuous data: unique duals
    np.testing.assert_allclose(fast.offer_dispatch_mw, lp.offer_dispatch_mw, atol=1e-6)
    np.testing.assert_allclose(fast.line_flow_mw, lp.line_flow_mw, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Congested trees: exact fast path (split at binding lines) instead of the LP
# ----------------------------------------------------------------------------------------------


def _binding_hours(inp: PowerMarketInput, r: PowerMarketResult) -> np.ndarray:
    lim = _limits(inp, r.price.shape[0])
    keep = np.asarray(inp.line_from) != np.asarray(inp.line_to)
    at = np.abs(r.line_flow_mw) >= lim - QTOL
    # a line at its limit that separates different prices is binding
    lf, lt = np.asarray(inp.line_from), np.asarray(inp.line_to)
    split = np.abs(r.price[:, lf] - r.price[:, lt]) > PTOL
    return np.flatnonzero((at & split & keep).any(axis=1))


def g_congested_two_zone(rng):
    cont = bool(rng.random() < 0.6)
    edge = [(0, 1)] if rng.random() < 0.5 else [(1, 0)]
    inp = make(
        rng,
        2,
        edge,
        H=8,
        n_off=6,
        n_bid=int(rng.integers(0, 4)),
        cont=cont,
        load="pos" if cont else "mixed",
        limits="tight" if cont else "ties",
        per_hour_limits=bool(rng.random() < 0.5),
    )
    # make zone 0 cheap and zone 1 dear in most hours so that the line binds
    op = inp.offer_price.copy()
    op[:, inp.offer_zone == 0] *= 0.3
    return _with(inp, offer_price=op), cont


def g_congested_tree(rng):
    Z = int(rng.integers(3, 7))
    cont = bool(rng.random() < 0.6)
    inp = make(
        rng,
        Z,
        _tree(rng, Z),
        H=8,
        n_off=3 * Z,
        n_bid=Z,
        cont=cont,
        load="pos" if cont else "mixed",
        limits="tight" if cont else "ties",
        per_hour_limits=bool(rng.random() < 0.5),
    )
    return inp, cont


CONGESTED = [("two_zone", i) for i in range(30)] + [("tree", i) for i in range(30)]


@pytest.mark.parametrize(("kind", "seed"), CONGESTED, ids=[f"{k}-{i}" for k, i in CONGESTED])
def test_congested_tree_fast_path_against_oracle(kind: str, seed: int):
    gen = g_congested_two_zone if kind == "two_zone" else g_congested_tree
    rng = np.random.default_rng([zlib.crc32(b"congested-" + kind.encode()), seed])
    inp, unique = gen(rng)
    H = inp.load_mw.shape[0]
    oracles = [oracle_hour(inp, h) for h in range(H)]
    fast = clear_power_market(inp)
    check_result(inp, fast, oracles, unique, f"congested-{kind}-{seed}")
    if kind == "two_zone":
        assert fast.lp_hours == 0, f"congested-{kind}-{seed}: 2-zone congestion must not need the LP"
    lp = clear_power_market(inp, force_lp=True)
    # (b) fast vs LP path on the same congested day
    np.testing.assert_allclose(objective_of(inp, fast), objective_of(inp, lp), rtol=1e-9, atol=1e-6)
    if unique:
        np.testing.assert_allclose(fast.price, lp.price, atol=1e-6)


def test_congested_instances_bind_and_avoid_the_lp():
    """The congested generators really congest, and the fast path clears (almost) all of those hours."""
    n_binding = {"two_zone": 0, "tree": 0}
    n_lp = {"two_zone": 0, "tree": 0}
    for kind, seed in CONGESTED:
        gen = g_congested_two_zone if kind == "two_zone" else g_congested_tree
        inp, _ = gen(np.random.default_rng([zlib.crc32(b"congested-" + kind.encode()), seed]))
        r = clear_power_market(inp)
        n_binding[kind] += _binding_hours(inp, r).size
        n_lp[kind] += r.lp_hours
    assert n_binding["two_zone"] >= 100 and n_binding["tree"] >= 100, n_binding
    assert n_lp["two_zone"] == 0
    assert n_lp["tree"] <= 0.1 * n_binding["tree"], (n_lp, n_binding)


def test_two_zone_congestion_with_bid_in_the_importing_zone():
    # importing zone has no inelastic load, only a bid: the fixed import is taken by the bid
    inp = market(2, [(0, 100, 10.0), (1, 100, 90.0)], [0, 0], lines=[(1, 0, 30)], bids=[(1, 50, 60.0)])
    for force_lp in (False, True):
        r = clear_power_market(inp, force_lp=force_lp)
        np.testing.assert_allclose(r.price[0], [10.0, 60.0], atol=1e-7)
        np.testing.assert_allclose(r.bid_served_mw[0], [30.0], atol=1e-7)
        np.testing.assert_allclose(r.line_flow_mw[0], [-30.0], atol=1e-7)
        assert r.lp_hours == (1 if force_lp else 0)


def test_chain_with_two_binding_lines_fast_path():
    # 0 -> 1 -> 2: cheap gen at 0, mid at 1, dear at 2, load at 1 and 2; both lines bind
    offers = [(0, 500, 10.0), (1, 500, 30.0), (2, 500, 80.0)]
    inp = market(3, offers, [0, 50, 100], lines=[(0, 1, 40), (1, 2, 20)])
    r = clear_power_market(inp)
    np.testing.assert_allclose(r.price[0], [10.0, 30.0, 80.0], atol=1e-7)
    np.testing.assert_allclose(r.line_flow_mw[0], [40.0, 20.0], atol=1e-7)
    np.testing.assert_allclose(r.offer_dispatch_mw[0], [40.0, 30.0, 80.0], atol=1e-7)
    assert r.lp_hours == 0


def test_network_cache_reused():
    from tokenomy.abm.markets import power

    inp = market(2, [(0, 100, 10.0)], [0, 50], lines=[(0, 1, 100)])
    clear_power_market(inp)
    n = len(power._NETWORK_CACHE)
    clear_power_market(_with(inp, load_mw=np.array([[10.0, 20.0]])))
    assert len(power._NETWORK_CACHE) == n


@pytest.mark.parametrize(
    "bad",
    [
        {"offer_mw": np.ones((2, 1))},
        {"load_mw": np.ones((1, 3))},
        {"offer_zone": np.array([5])},
        {"line_limit_mw": np.ones(3)},
        {"line_reactance": np.array([np.nan, 1.0])},
        {"offer_mw": -np.ones((1, 1))},
        {"price_floor": 2000.0},
    ],
)
def test_validation(bad):
    lines = [(0, 1, 100), (1, 0, 100)]
    inp = market(2, [(0, 100, 10.0)], [0, 50], lines=lines)
    with pytest.raises(ValueError):
        clear_power_market(_with(inp, **bad))
