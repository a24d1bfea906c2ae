"""What each economic mechanism costs per simulated day: a year of a scenario with the mechanism as shipped, against
the same year with it switched off (or swapped for the simpler rule), best of N, in one process.

    .venv/bin/python benchmarks/bench_mechanisms.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from tokenomy.abm.model import TokenEconomy

# (scenario, mechanism, overrides that switch it off or swap in the simpler rule)
MECHANISMS = [
    ("classroom", "switching-cost token pricing (vs static best response)", ["providers.*.strategy=best-response"]),
    ("classroom", "physical term contracts (vs none)", ["providers.*.contract_share=0"]),
    ("classroom", "revenue-learning AIDC asks (vs a fixed markup)", ["aidcs.*.strategy=adaptive"]),
    ("china-2024", "switching-cost token pricing (vs static best response)", ["providers.*.strategy=best-response"]),
    ("china-2024", "launches and imitation (vs none)", ["providers.*.imitation_rate_per_year=0"]),
    ("china-2024", "physical term contracts (vs none)", ["providers.*.contract_share=0"]),
    ("grid-bottleneck", "flexible connections with on-site batteries (vs none)", ["zones.*.flexible_headroom_share=0"]),
]


def ms_per_day(name: str, overrides: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        model = TokenEconomy(name, overrides=overrides)
        t = time.perf_counter()
        model.run(365)
        best = min(best, time.perf_counter() - t)
    return 1000.0 * best / 365.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N")
    args = parser.parse_args()
    for name in dict.fromkeys(n for n, _, _ in MECHANISMS):
        TokenEconomy(name).run(30)  # load the kernels
    shipped: dict[str, float] = {}
    for name, mechanism, overrides in MECHANISMS:
        if name not in shipped:
            shipped[name] = ms_per_day(name, [], args.repeat)
            print(f"{name}: {shipped[name]:.3f} ms per simulated day as shipped")
        without = ms_per_day(name, overrides, args.repeat)
        print(f"  {mechanism:58s} {shipped[name] - without:+.3f} ms/day  ({without:.3f} without)")


if __name__ == "__main__":
    main()
