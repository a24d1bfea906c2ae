"""Step plus redraw in the real page, timed in headless Chromium (not a test).

Budget: one step plus redraw within 250 ms at classroom size, within 1 s at china-2024 size.
Timing runs from the click on Step until the date has advanced and the price chart carries the new
day's data.  Then, for information, the time Play takes at the fastest speed to reach day 365 (the
charts redraw once a simulated week).

    .venv/bin/python benchmarks/bench_browser.py [--steps 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viz"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, Session, start_server, stop_server  # noqa: E402

BUDGET_MS = {"classroom": 250, "china-2024": 1000}


def measure(browser, scenario: str, steps: int) -> tuple[list[float], float]:
    """Step-and-redraw times in ms, and the seconds Play takes at the fastest speed to reach day 365."""
    proc, url = start_server(scenario)
    try:
        s = Session(browser, url)
        s.step(2)  # warm up
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            s.step()
            times.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        s.page.get_by_role("button", name="Play").click()
        s.page.wait_for_function(
            "Number(document.querySelector('[data-testid=sim-day]')?.innerText) >= 365", timeout=600_000
        )
        s.page.get_by_role("button", name="Pause").click()
        year_s = time.perf_counter() - t
        s.close()
        return times, year_s
    finally:
        stop_server(proc)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scenario, budget in BUDGET_MS.items():
            times, year_s = measure(browser, scenario, args.steps)
            median, worst = statistics.median(times), max(times)
            verdict = "within" if median <= budget else "OVER"
            p90 = sorted(times)[int(0.9 * len(times))]
            print(
                f"{scenario:12s} step+redraw median {median:6.0f} ms  p90 {p90:6.0f} ms"
                f"  max {worst:6.0f} ms  budget {budget} ms  {verdict};  a year at the fastest speed {year_s:.0f} s"
            )
        browser.close()


if __name__ == "__main__":
    main()
