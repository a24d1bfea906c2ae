"""Server memory as sessions come and go (not a test): 30 tabs opened, stepped and closed in turn.

Each session opens the app in a fresh browser context, steps a few days and closes.  Once the server says
it has no session open (a closed tab is freed at once by the page's close beacon, else by the kernel cull
timeout, here a few seconds) and the server has handed the freed memory back, its resident memory is read
from /proc.  Target: after 30 sessions
within 5% of after the first.

    .venv/bin/python benchmarks/bench_session_memory.py [--sessions 30] [--steps 3]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viz"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, Session, start_server, stop_server  # noqa: E402

TARGET_GROWTH = 0.05
TRIM_WAIT_S = 2.5  # the server hands freed memory back 2 s after sessions close
SESSIONS_LINE = re.compile(r"tokenomy viz \[pid \d+\]: (\d+) sessions open")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def wait_no_sessions(lines: list[str], timeout_s: float = 30.0) -> None:
    time.sleep(0.6)  # the server says its count every 0.25 s
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts = [int(m.group(1)) for line in list(lines) if (m := SESSIONS_LINE.search(line))]
        if counts and counts[-1] == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("sessions still open after their tabs closed")


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    proc, url = start_server(
        "classroom", extra_env={"TOKENOMY_VIZ_CULL_TIMEOUT": "3s", "TOKENOMY_VIZ_SESSION_LOG": "1"}
    )
    readings: list[float] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.sessions):
                session = Session(browser, url)
                session.step(args.steps)
                session.close()
                wait_no_sessions(proc.output_lines)
                time.sleep(TRIM_WAIT_S)
                readings.append(rss_mb(proc.pid))
            browser.close()
    finally:
        stop_server(proc)
    first, last = readings[0], readings[-1]
    growth = last / first - 1
    verdict = "within" if growth <= TARGET_GROWTH else "OVER"
    print("server RSS after each closed session, MB: " + " ".join(f"{r:.0f}" for r in readings))
    print(
        f"after the first: {first:.1f} MB, after {len(readings)}: {last:.1f} MB, growth {100 * growth:+.1f}%"
        f"  ({1024 * (last - first) / max(1, len(readings) - 1):.0f} kB per session)"
        f"  target <= {100 * TARGET_GROWTH:.0f}%  {verdict}"
    )
    return 0 if growth <= TARGET_GROWTH else 1


if __name__ == "__main__":
    sys.exit(main())
