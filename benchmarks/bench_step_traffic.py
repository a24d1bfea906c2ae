"""What one Step costs (not a test): websocket messages and bytes each way, the CPU of the browser's processes and
of the server, and the page's main-thread time, per Step, in one headless-Chromium session.

A classroom's browsers share the server's machine (``bench_classroom_load.py``), so what a Step costs the
browser slows every session as much as what it costs the server; this says where a Step's weight goes.  The page
clicks Step itself, as a student of the classroom benchmark does (the same script), every ``--period-s``, so
the driver takes no CPU meanwhile; the first steps (the first screen leaving, the charts' first drawing) are
left out.  CPU is counted in the kernel's ticks (10 ms): take the figures over 20 steps or more.

    .venv/bin/python benchmarks/bench_step_traffic.py [--steps 20] [--period-s 1.5] [--scenario classroom]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viz"))

from bench_classroom_load import PAGE_STUDENT  # noqa: E402
from browser_support import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

WARM_UP_STEPS = 3
# Chromium's own counters of the page's main thread, in seconds since the page opened
MAIN_THREAD = ("TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")


class Traffic:
    """Counts the frames and bytes of the page's websockets, each way."""

    def __init__(self, page):
        self.sent = [0, 0]
        self.received = [0, 0]
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        ws.on("framesent", lambda payload: self._count(self.sent, payload))
        ws.on("framereceived", lambda payload: self._count(self.received, payload))

    @staticmethod
    def _count(tally: list[int], payload) -> None:
        tally[0] += 1
        tally[1] += len(payload.encode() if isinstance(payload, str) else payload)

    def snapshot(self) -> list[int]:
        return [*self.sent, *self.received]


def _stat(pid: int) -> tuple[str, list[str]] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()


def _cpu_s(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser_cpu_s() -> float:
    """CPU seconds of Chromium's processes under this one (the page's renderer, the GPU and network processes, the
    browser); Playwright's driver and the server are left out."""
    stats = {int(e): s for e in os.listdir("/proc") if e.isdigit() and (s := _stat(int(e))) is not None}
    mine, total = os.getpid(), 0.0
    for name, fields in stats.values():
        if not name.startswith("chrom"):
            continue
        up = int(fields[1])
        while up in stats and up != mine:
            up = int(stats[up][1][1])
        total += _cpu_s(fields) if up == mine else 0.0
    return total


def server_cpu_s(pid: int) -> float:
    stat = _stat(pid)
    return _cpu_s(stat[1]) if stat is not None else 0.0


def measure(url: str, server_pid: int, steps: int, period_s: float) -> dict[str, float]:
    """Per Step: messages and bytes each way, CPU ms of the browser and the server, main-thread ms."""
    from playwright.sync_api import sync_playwright

    click = "([period, clicks]) => window.__clickOnBeat(0, period, clicks)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        traffic = Traffic(page)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.add_init_script(PAGE_STUDENT)
        page.goto(url)
        page.wait_for_selector("[data-testid=sim-day]", timeout=60_000)
        page.evaluate(click, [1000 * period_s, WARM_UP_STEPS])
        page.wait_for_timeout(1000 * period_s)

        def snapshot() -> list[float]:
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            main = [1000 * metrics[k] for k in MAIN_THREAD]
            return [*traffic.snapshot(), 1000 * browser_cpu_s(), 1000 * server_cpu_s(server_pid), *main]

        before = snapshot()
        page.evaluate(click, [1000 * period_s, WARM_UP_STEPS + steps])
        page.wait_for_timeout(1000 * period_s)  # what the last step left to draw
        after = snapshot()
        browser.close()
    names = ["sent", "sent_bytes", "received", "received_bytes", "browser_ms", "server_ms", *MAIN_THREAD]
    return {name: (b - a) / steps for name, a, b in zip(names, before, after, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--period-s", type=float, default=1.5)
    parser.add_argument("--scenario", default="classroom")
    args = parser.parse_args()
    if not 1 <= args.steps <= 1000 or not 0.2 <= args.period_s <= 60:
        print("bench_step_traffic: --steps must be from 1 to 1000, --period-s from 0.2 to 60", file=sys.stderr)
        return 2
    proc, url = start_server(args.scenario)
    try:
        per_step = measure(url, proc.pid, args.steps, args.period_s)
    finally:
        stop_server(proc)
    load = os.getloadavg()[0]
    print(f"{args.scenario}: per Step, mean of {args.steps} ({WARM_UP_STEPS} left out); load average {load:.2f}")
    print(
        f"  websocket: sent {per_step['sent']:.1f} messages / {per_step['sent_bytes']:,.0f} B,"
        f" received {per_step['received']:.1f} / {per_step['received_bytes']:,.0f} B"
    )
    print(f"  CPU: the browser's processes {per_step['browser_ms']:.0f} ms, the server {per_step['server_ms']:.0f} ms")
    print("  the page's main thread: " + ", ".join(f"{k[:-8]} {per_step[k]:.0f} ms" for k in MAIN_THREAD))
    return 0


if __name__ == "__main__":
    sys.exit(main())
