"""Microseconds per 24-hour clearing of the day-ahead power market (abm.markets.power).

Run: .venv/bin/python benchmarks/bench_power_market.py
"""

from __future__ import annotations

import time

import numpy as np

from tokenomy.abm.markets.power import PowerMarketInput, clear_power_market

H = 24


def _case(rng, Z, edges, n_off, n_bid, limits) -> PowerMarketInput:
    oz = np.arange(n_off) % Z
    bz = np.arange(n_bid) % Z
    load = rng.uniform(50.0, 150.0, (H, Z))
    omw = rng.uniform(20.0, 80.0, (H, n_off)) * (1.6 * load.sum() / H / (50.0 * n_off))
    return PowerMarketInput(
        n_zones=Z,
        offer_zone=oz,
        offer_mw=omw,
        offer_price=rng.uniform(0.0, 600.0, (H, n_off)),
        bid_zone=bz,
        bid_mw=rng.uniform(5.0, 30.0, (H, n_bid)),
        bid_price=rng.uniform(0.0, 600.0, (H, n_bid)),
        load_mw=load,
        line_from=np.array([e[0] for e in edges], dtype=int),
        line_to=np.array([e[1] for e in edges], dtype=int),
        line_limit_mw=limits,
    )


def _two_zone_congested(rng, limits) -> PowerMarketInput:
    # cheap offers in zone 0, dear ones in zone 1: the line 0 -> 1 binds wherever its limit is small
    inp = _case(rng, 2, [(0, 1)], 8, 2, limits)
    op = inp.offer_price.copy()
    op[:, inp.offer_zone == 1] += 600.0
    return PowerMarketInput(**{**inp.__dict__, "offer_price": op})


def cases() -> dict[str, PowerMarketInput]:
    rng = np.random.default_rng(1)
    tree = [(z, (z - 1) // 2) for z in range(1, 8)]  # binary tree on 8 zones, 7 lines
    congested = np.full((H, 7), 1e5)
    hours = rng.choice(H, 6, replace=False)
    congested[hours[:, None], [0, 3]] = 2.0
    two_cong = np.full((H, 1), 1e5)
    two_cong[rng.choice(H, 12, replace=False), 0] = 5.0
    mesh = [(z, (z + 1) % 8) for z in range(8)] + [(0, 4), (2, 6)]  # ring + 2 chords, 10 lines
    dc_mesh = _case(rng, 8, mesh, 60, 16, np.full(10, 60.0))
    dc_mesh = PowerMarketInput(**{**dc_mesh.__dict__, "line_reactance": rng.uniform(0.05, 0.5, 10)})
    return {
        "(a) 2 zones, 8 offers, 2 bids, 1 line, uncongested": _case(rng, 2, [(0, 1)], 8, 2, np.array([1e5])),
        "(b) 8-zone tree, 60 offers, 16 bids, 7 lines, uncongested": _case(rng, 8, tree, 60, 16, np.full(7, 1e5)),
        "(c) as (b), 2 lines binding in 6 hours": _case(rng, 8, tree, 60, 16, congested),
        "(d) 8 zones meshed (10 lines, transport), 60 offers, 16 bids": _case(rng, 8, mesh, 60, 16, np.full(10, 60.0)),
        "(e) as (d) with DC power flow (reactances)": dc_mesh,
        "(f) as (a), the line binding in 12 hours": _two_zone_congested(rng, two_cong),
    }


def bench(inp: PowerMarketInput, min_time: float = 0.5) -> tuple[float, int]:
    res = clear_power_market(inp)  # warm the network cache
    n = 0
    t0 = time.perf_counter()
    while True:
        clear_power_market(inp)
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time and n >= 5:
            return elapsed / n * 1e6, res.lp_hours


def main() -> None:
    for name, inp in cases().items():
        us, lp_hours = bench(inp)
        print(f"{name:64s} {us:10.1f} us/day   (LP hours: {lp_hours})")


if __name__ == "__main__":
    main()
