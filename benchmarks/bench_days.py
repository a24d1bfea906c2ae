"""Milliseconds per simulated day for the shipped scenarios, against a yardstick for this machine.

The yardstick is Mesa's bundled Boltzmann wealth model (n=1000 on a 70x70 grid, 200 steps), timed
in the same process.  Budgets: one simulated year of ``classroom`` within 0.25 x the
yardstick, one of ``china-2024`` within 0.5 x (kernels loaded, recorder included).

    .venv/bin/python benchmarks/bench_days.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

BUDGETS = {"classroom": 0.25, "china-2024": 0.5}


def yardstick() -> float:
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

    t = time.perf_counter()
    model = BoltzmannWealth(BoltzmannScenario(n=1000, width=70, height=70, rng=42))
    for _ in range(200):
        model.step()
    return time.perf_counter() - t


def year(name: str) -> float:
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(name)
    t = time.perf_counter()
    model.run(365)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="best of N")
    args = parser.parse_args()
    stick = min(yardstick() for _ in range(args.repeat))
    print(f"yardstick (Mesa Boltzmann wealth, n=1000, 70x70, 200 steps): {stick:.3f} s")
    for name, factor in BUDGETS.items():
        best = min(year(name) for _ in range(args.repeat))
        budget = factor * stick
        verdict = "within" if best <= budget else "OVER"
        print(
            f"{name:12s} {1000 * best / 365:7.3f} ms/day   one year {best:6.3f} s   "
            f"budget {factor} x yardstick = {budget:.3f} s   {verdict} ({best / stick:.2f} x yardstick)"
        )


if __name__ == "__main__":
    main()
