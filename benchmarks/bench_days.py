"""Milliseconds per simulated day for the shipped scenarios, against a yardstick for this machine.

The yardstick is Mesa's bundled Boltzmann wealth model (n=1000 on a 70x70 grid, 200 steps), timed
in the same process.  Budgets: one simulated year of ``classroom`` within 0.25 x the
yardstick, one of ``china-2024`` within 0.5 x (kernels loaded, recorder included).

    .venv/bin/python benchmarks/bench_days.py [--repeat 3] [--clock cpu]

``--clock cpu`` times both with the process's processor time instead of the wall clock: on a machine shared with
other work the wall clock moves with the load (the yardstick by 2x and more), processor time much less.
"""

from __future__ import annotations

import argparse
import time

BUDGETS = {"classroom": 0.25, "china-2024": 0.5}
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def yardstick() -> float:
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

    t = clock()
    model = BoltzmannWealth(BoltzmannScenario(n=1000, width=70, height=70, rng=42))
    for _ in range(200):
        model.step()
    return clock() - t


def year(name: str) -> float:
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(name)
    t = clock()
    model.run(365)
    return clock() - t


def repeats(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 100, got {text[:20]!r}")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=repeats, default=3, metavar="N", help="best of N (1 to 100)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall (default) or processor time")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    stick = min(yardstick() for _ in range(args.repeat))
    print(f"yardstick (Mesa Boltzmann wealth, n=1000, 70x70, 200 steps): {stick:.3f} s ({args.clock} clock)")
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
