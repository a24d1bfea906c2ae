"""Step plus redraw in the real page, timed in headless Chromium (not a test).

Budget: one step plus redraw within 250 ms at classroom size, within 1 s at china-2024 size.
Timed in the page itself (the clock of ``bench_classroom_load.py``): from the click's event on Step until
the frame painted after the day and the price chart show the new day; the page clicks on a beat, so the
driver (Playwright) takes no part.  For comparison, the same Steps timed through the driver (its click and
polling add their own round trips, more so on a loaded machine).  Then, for information, the time Play
takes at the fastest speed to reach day 365 (the charts redraw once a simulated week).

    .venv/bin/python benchmarks/bench_browser.py [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viz"))

from bench_classroom_load import PAGE_STUDENT  # noqa: E402
from browser_support import CHROMIUM, CHROMIUM_ARGS, Session, start_server, stop_server  # noqa: E402

BUDGET_MS = {"classroom": 250, "china-2024": 1000}


BEAT_MS = 600  # the page's clicks: one this long after the last redraw's beat (a redraw waits for the last)


def measure(browser, scenario: str, steps: int) -> tuple[list[float], list[float], float]:
    """Step-and-redraw times in ms timed in the page and through the driver, and the seconds Play takes at the
    fastest speed to reach day 365."""
    proc, url = start_server(scenario)
    try:
        s = Session(browser, url, init_script=PAGE_STUDENT)
        s.step(2)  # warm up
        in_page = s.page.evaluate(
            "([period, clicks]) => window.__clickOnBeat(0, period, clicks)", [BEAT_MS, steps + 2]
        )[2:]
        driven = []
        for _ in range(steps):
            t = time.perf_counter()
            s.step()
            driven.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        s.page.get_by_role("button", name="Play").click()
        s.page.wait_for_function(
            "Number(document.querySelector('[data-testid=sim-day]')?.innerText) >= 365", timeout=600_000
        )
        s.page.get_by_role("button", name="Pause").click()
        year_s = time.perf_counter() - t
        s.close()
        return in_page, driven, year_s
    finally:
        stop_server(proc)


def _p90(times: list[float]) -> float:
    return sorted(times)[int(0.9 * len(times))]


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scenario, budget in BUDGET_MS.items():
            in_page, driven, year_s = measure(browser, scenario, args.steps)
            median = statistics.median(in_page)
            verdict = "within" if median <= budget else "OVER"
            print(
                f"{scenario:12s} step+redraw in the page: median {median:4.0f} ms  p90 {_p90(in_page):4.0f} ms"
                f"  max {max(in_page):4.0f} ms  budget {budget} ms  {verdict};  through the driver: median"
                f" {statistics.median(driven):4.0f} ms  p90 {_p90(driven):4.0f} ms;  a year at the fastest speed"
                f" {year_s:.0f} s"
            )
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        browser.close()


if __name__ == "__main__":
    main()
