"""Helpers for the browser tests: a Tokenomy server on loopback and a session in headless Chromium.

Debian's chromium is driven by Playwright's Python package (``playwright install`` cannot download
browsers here).  Without chromium the browser tests skip with a message saying how to install it,
except under CI=true, where they must run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("TOKENOMY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTED: list[subprocess.Popen] = []  # every server this process started: a failing test's report shows its own


def start_server(
    scenario: str = "classroom",
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    command: str = "viz",
    cwd: str | Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """``tokenomy COMMAND SCENARIO --port P ...`` (``viz``, or ``classroom``) on a free port, once it answers."""
    port = _free_port()
    exe = Path(sys.executable).with_name("tokenomy")
    proc = subprocess.Popen(
        [str(exe), command, scenario, "--port", str(port), *extra_args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(extra_env or {})},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    _keep_reading(proc)
                    STARTED.append(proc)
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not start within 90 s")


def _keep_reading(proc: subprocess.Popen) -> None:
    """Drain the server's output into ``proc.output_lines`` so that a full pipe never blocks it."""
    proc.output_lines = []

    def read() -> None:
        for raw in proc.stdout:
            proc.output_lines.append(raw.decode(errors="replace").rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()


def stop_server(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


class Session:
    """One browser session on the app with the network cut off except for localhost."""

    def __init__(self, browser, url: str, init_script: str | None = None):
        self.context = browser.new_context(viewport={"width": 1500, "height": 1400}, accept_downloads=True)
        self.blocked: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        if init_script is not None:  # a script run in the page before its own (a benchmark's clock)
            self.page.add_init_script(init_script)
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.goto(url)
        self.page.wait_for_selector("[data-testid=sim-date]", timeout=60_000)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "data:", "blob:")):
            return route.continue_()
        self.blocked.append(url)
        return route.abort()

    def date(self) -> str:
        return self.page.get_by_test_id("sim-date").inner_text()

    def day(self) -> int:
        return int(self.page.get_by_test_id("sim-day").inner_text())

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            before = self.day()
            self.page.get_by_role("button", name="Step").click()
            self.page.wait_for_function(
                f"document.querySelector('[data-testid=sim-day]').innerText != '{before}'", timeout=30_000
            )
            # the Market tab's first and last time charts: the panels between them carry the new day too (a panel's
            # figures reach the page a moment after the one above it, later on a busy machine)
            for chart in ("price-chart", "cost-chart"):
                self.page.wait_for_function(
                    f"document.querySelector('[data-testid={chart}]')?.dataset.days == '{before + 1}'", timeout=30_000
                )

    def close(self) -> None:
        self.context.close()
