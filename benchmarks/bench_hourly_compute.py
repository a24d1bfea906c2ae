"""Microbenchmark of the hourly compute market (microseconds per call).

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_hourly_compute.py
Sizes (H = 24 hourly products, everyone may trade with everyone, so the fast path applies):

* classroom: B = 3 buyers (2 cloud providers with 2 bid steps per hour, 1 training lab with 10 bid
  steps per hour), A = 2 AIDCs with 4 ask steps per hour: K = 336 bids, J = 192 asks;
* china: B = 6 buyers (5 providers, 1 lab, same steps), A = 8 AIDCs: K = 480 bids, J = 768 asks.

For comparison: the same market as 24 calls of the daily ``clear_compute_market`` (one per hour),
a two-block graph (two complete components: the fast path after the numpy component search), and
the LP path (``force_lp=True``). Times are per call after a warm-up call.
"""

import time

import numpy as np
from bench_compute_token_markets import per_call_us  # this folder is on sys.path when run as a script

from tokenomy.abm.markets.compute import clear_compute_market, clear_hourly_compute_market

H = 24
PROVIDER_STEPS, LAB_STEPS, ASK_STEPS = 2, 10, 4


def hourly_instance(rng, n_providers, A, edges=None):
    """(bid_buyer, bid_hour, bid_gpu_hours, bid_price, ask_aidc, ask_hour, ask_gpu_hours, ask_price, edges)."""
    B = n_providers + 1  # the last buyer is the training lab
    steps = np.concatenate([np.repeat(np.arange(n_providers), PROVIDER_STEPS), np.full(LAB_STEPS, n_providers)])
    bb, bh = np.tile(steps, H), np.repeat(np.arange(H), steps.size)
    load = 0.6 + 0.4 * np.sin(np.pi * (bh - 6) / 12)  # a daily load shape: tight hours and idle hours
    qb = rng.uniform(50, 150, bb.size) * load
    pb = rng.uniform(4, 14, bb.size)
    aa, ah = np.tile(np.repeat(np.arange(A), ASK_STEPS), H), np.repeat(np.arange(H), A * ASK_STEPS)
    qa = rng.uniform(30, 120, aa.size)
    pa = rng.uniform(2, 10, aa.size)
    edges = np.ones((B, A), bool) if edges is None else edges
    return bb, bh, qb, pb, aa, ah, qa, pa, edges


def per_hour_daily(bb, bh, qb, pb, aa, ah, qa, pa, edges):
    """The same market cleared hour by hour with the daily function (for comparison)."""
    for h in range(H):
        mb, ma = bh == h, ah == h
        clear_compute_market(bb[mb], qb[mb], pb[mb], aa[ma], qa[ma], pa[ma], edges)


def main():
    rng = np.random.default_rng(0)
    inst = hourly_instance(rng, 2, 2)
    t0 = time.perf_counter()
    clear_hourly_compute_market(*inst)
    print(f"first call (numba compile or cache load): {(time.perf_counter() - t0) * 1e3:.0f} ms")
    rows = []
    for label, (n_providers, A) in {"classroom": (2, 2), "china": (5, 8)}.items():
        full = hourly_instance(rng, n_providers, A)
        B = n_providers + 1
        blocks = np.arange(B)[:, None] % 2 == np.arange(A)[None, :] % 2  # two complete components
        two = hourly_instance(rng, n_providers, A, blocks)
        sparse = hourly_instance(rng, n_providers, A, rng.random((B, A)) < 0.5)
        size = f"{label} B={B} A={A} K={full[0].size} J={full[4].size}"
        rows += [
            (
                size,
                "hourly fast path",
                per_call_us(lambda a=full: clear_hourly_compute_market(*a)),
                clear_hourly_compute_market(*full).used_lp,
            ),
            (
                size,
                "hourly fast path (2 blocks)",
                per_call_us(lambda a=two: clear_hourly_compute_market(*a)),
                clear_hourly_compute_market(*two).used_lp,
            ),
            (size, "24 x daily clear_compute_market", per_call_us(lambda a=full: per_hour_daily(*a)), False),
            (
                size,
                "hourly LP (sparse graph)",
                per_call_us(lambda a=sparse: clear_hourly_compute_market(*a)),
                clear_hourly_compute_market(*sparse).used_lp,
            ),
            (
                size,
                "hourly LP (forced)",
                per_call_us(lambda a=full: clear_hourly_compute_market(*a, force_lp=True)),
                True,
            ),
        ]
    print(f"{'size':34s} {'call':32s} {'us/call':>10s}  used_lp")
    for size, name, us, used_lp in rows:
        print(f"{size:34s} {name:32s} {us:10.1f}  {used_lp}")


if __name__ == "__main__":
    main()
