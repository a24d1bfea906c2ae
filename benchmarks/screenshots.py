"""Screenshots of the Market tab to look at (not a test): each scenario at day 0, 30 and 365, at 1440x900 (a
laptop) and 1024x768 (a projector), with a demand boom fired on day 20 so the shock marks show.

    .venv/bin/python benchmarks/screenshots.py [--out tests/artifacts] [--scenarios classroom china-2024]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viz"))

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

SIZES = ((1440, 900), (1024, 768))  # a laptop and a projector
DAYS = (0, 30, 365)
SHOCK_DAY, SHOCK = 20, "demand boom"


DAY_JS = "(document.querySelector('[data-testid=sim-day]') || {}).innerText"


def _day(page) -> int:
    page.wait_for_selector("[data-testid=sim-day]", timeout=60_000)
    return int(page.get_by_test_id("sim-day").inner_text())


def _step(page) -> None:
    before = _day(page)
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(f"{DAY_JS} && {DAY_JS} != '{before}'", timeout=60_000)


def _advance(page, to_day: int) -> None:
    """Play to some days short of ``to_day`` (pressing Play again if the run stops), then step."""
    if to_day - _day(page) > 60:
        page.get_by_role("button", name="fast", exact=True).click()
        deadline = time.time() + 1200
        while _day(page) < to_day - 50 and time.time() < deadline:
            play = page.get_by_role("button", name="Play")
            if play.count() and play.is_enabled():
                play.click()
            time.sleep(2.0)
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=120_000)  # a pause lands a few days late
    while _day(page) < to_day:
        _step(page)


SCROLLER = """() => { const e = [...document.querySelectorAll('div')].find(d => d.scrollHeight > d.clientHeight + 20
    && ['auto', 'scroll'].includes(getComputedStyle(d).overflowY)); return e ? e.scrollHeight - e.clientHeight : 0; }"""


SCROLL_TOP = "() => document.querySelectorAll('div').forEach(d => { d.scrollTop = 0; })"


def _shoot(page, out: Path, scenario: str, day: int | str) -> list[Path]:
    """The first screen as a student sees it, and the whole tab (the window made as tall as the page)."""
    files = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate(SCROLL_TOP)
        time.sleep(1.5)  # charts resize with the page
        path = out / f"app-{scenario}-day{day}-{width}x{height}.png"
        page.screenshot(path=str(path))
        hidden = page.evaluate(SCROLLER)
        page.set_viewport_size({"width": width, "height": height + hidden})
        time.sleep(1.5)
        full = out / f"app-{scenario}-day{day}-{width}x{height}-full.png"
        page.screenshot(path=str(full))
        page.set_viewport_size({"width": width, "height": height})
        files += [path, full]
    return files


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ARTIFACTS)
    parser.add_argument("--scenarios", nargs="+", default=["classroom", "china-2024"])
    parser.add_argument("--days", nargs="+", type=int, default=list(DAYS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scenario in args.scenarios:
            proc, url = start_server(scenario)
            try:
                context = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("[data-testid=sim-date]", timeout=90_000)
                for day in sorted(args.days):
                    if day > SHOCK_DAY >= _day(page):
                        _advance(page, SHOCK_DAY)
                        page.get_by_role("button", name=SHOCK).click()
                    _advance(page, day)
                    time.sleep(1.0)
                    for path in _shoot(page, args.out, scenario, day):
                        print(path)
                    if day == max(args.days):  # the prices in their units too
                        page.get_by_role("button", name="levels").click()
                        time.sleep(1.5)
                        for path in _shoot(page, args.out, scenario, f"{day}-levels"):
                            print(path)
                context.close()
            finally:
                stop_server(proc)
        browser.close()


if __name__ == "__main__":
    main()
