"""Microbenchmark of the daily compute and token markets (microseconds per call).

Run: .venv/bin/python benchmarks/bench_compute_token_markets.py
Sizes: small (P=5 providers, A=5 AIDCs, B=10 buyers, H=24 hours) and medium (P=10, A=16, B=60, H=24).
Fast path = complete bipartite graphs; LP path = a random sparse graph (the fast path's assumption
fails; worst case), buyers in 4 segments with their own provider sets (identical buyers are merged
in the token LP) and, for comparison, the complete instance with force_lp=True.
Times are per call after a warm-up call (numba compile / cache load is reported separately).
"""

import time
import timeit

import numpy as np

from tokenomy.abm.markets.compute import clear_compute_market
from tokenomy.abm.markets.token import clear_token_market, logit_shares

STEPS = 3  # bid / ask steps per provider / AIDC


def compute_instance(rng, P, A, complete):
    bp, aa = np.repeat(np.arange(P), STEPS), np.repeat(np.arange(A), STEPS)
    edges = np.ones((P, A), bool) if complete else rng.random((P, A)) < 0.5
    return (
        bp,
        rng.uniform(100, 1000, bp.size),
        rng.uniform(5, 15, bp.size),
        aa,
        rng.uniform(100, 1000, aa.size),
        rng.uniform(4, 12, aa.size),
        edges,
    )


def token_instance(rng, B, P, H, complete, segments=0):
    price = np.exp(rng.uniform(0, 4, P))
    if segments:  # buyers fall into a few segments, each with its own set of providers
        seg_edges = rng.random((segments, P)) < 0.6
        seg_edges[:, 0] = True
        edges = seg_edges[rng.integers(0, segments, B)]
    else:
        edges = np.ones((B, P), bool) if complete else rng.random((B, P)) < 0.5
    share = logit_shares(price, edges, rng.random((B, P)), 1.5, 0.5)
    demand = rng.uniform(0, 10, (B, H))
    cap = rng.uniform(0.3, 1.5, (P, H)) * demand.sum(0) / P  # some providers ration in most hours
    return demand, share, cap, price, edges


def per_call_us(fn, min_time=0.3):
    fn()  # warm-up: the first call compiles (or loads from the cache) the numba kernels
    n = 1
    while True:
        t = timeit.timeit(fn, number=n)
        if t >= min_time / 5:
            break
        n *= 4
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def first_calls_ms():
    """Wall time (ms) of the first call of each fast path in this process: numba compile or cache load."""
    rng = np.random.default_rng(1)

    def ms(fn):
        t0 = time.perf_counter()
        fn()
        return f"{(time.perf_counter() - t0) * 1e3:.0f} ms"

    c = compute_instance(rng, 5, 5, True)
    price, edges, prev = np.exp(rng.uniform(0, 4, 5)), np.ones((10, 5), bool), rng.random((10, 5))
    out = [
        f"compute {ms(lambda: clear_compute_market(*c))}",
        f"logit_shares {ms(lambda: logit_shares(price, edges, prev, 1.5, 0.5))}",
    ]
    t = token_instance(rng, 10, 5, 24, True)
    out.append(f"token {ms(lambda: clear_token_market(*t))}")
    return ", ".join(out)


def main():
    rng = np.random.default_rng(0)
    print("first calls (numba compile or cache load):", first_calls_ms())
    rows = []
    for label, (P, A, B, H) in {"small": (5, 5, 10, 24), "medium": (10, 16, 60, 24)}.items():
        c_full = compute_instance(rng, P, A, True)
        c_sparse = compute_instance(rng, P, A, False)
        t_full = token_instance(rng, B, P, H, True)
        t_sparse = token_instance(rng, B, P, H, False)
        t_seg = token_instance(rng, B, P, H, False, segments=4)
        price, edges = t_full[3], t_full[4]
        prev = rng.random((B, P))
        rows += [
            (
                label,
                "compute fast path",
                per_call_us(lambda a=c_full: clear_compute_market(*a)),
                clear_compute_market(*c_full).used_lp,
            ),
            (
                label,
                "compute LP (sparse graph)",
                per_call_us(lambda a=c_sparse: clear_compute_market(*a)),
                clear_compute_market(*c_sparse).used_lp,
            ),
            (label, "compute LP (forced)", per_call_us(lambda a=c_full: clear_compute_market(*a, force_lp=True)), True),
            (label, "logit_shares", per_call_us(lambda a=(price, edges, prev): logit_shares(*a, 1.5, 0.5)), False),
            (
                label,
                "token fast path",
                per_call_us(lambda a=t_full: clear_token_market(*a)),
                clear_token_market(*t_full).used_lp,
            ),
            (
                label,
                "token LP (sparse graph)",
                per_call_us(lambda a=t_sparse: clear_token_market(*a)),
                clear_token_market(*t_sparse).used_lp,
            ),
            (
                label,
                "token LP (4 buyer segments)",
                per_call_us(lambda a=t_seg: clear_token_market(*a)),
                clear_token_market(*t_seg).used_lp,
            ),
            (label, "token LP (forced)", per_call_us(lambda a=t_full: clear_token_market(*a, force_lp=True)), True),
        ]
    print(f"{'size':8s} {'call':28s} {'us/call':>10s}  used_lp")
    for size, name, us, used_lp in rows:
        print(f"{size:8s} {name:28s} {us:10.1f}  {used_lp}")


if __name__ == "__main__":
    main()
