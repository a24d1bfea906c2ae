"""Fixtures for the browser tests (see browser_support)."""

from __future__ import annotations

import os
import shutil

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, STARTED, Session, start_server, stop_server


@pytest.fixture(scope="session")
def chromium_path():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing under CI=true: apt-get install chromium")
        pytest.skip("browser tests need Debian's chromium: apt-get install chromium")
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


_SERVERS = []  # the servers started for this run, whose output a failing test's report shows


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    item.servers_before = len(STARTED)  # the servers the test starts itself are listed after these
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test's report ends with the last lines of the session's server and of those the test started,
    and the page's console errors."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    own = STARTED[getattr(item, "servers_before", len(STARTED)) :]
    for proc in [*_SERVERS, *(p for p in own if p not in _SERVERS)]:
        if lines := getattr(proc, "output_lines", [])[-40:]:
            report.sections.append(("server output (last 40 lines)", "\n".join(lines)))
    session = item.funcargs.get("session")
    if isinstance(session, Session) and session.console_errors:
        report.sections.append(("page console errors", "\n".join(session.console_errors[-20:])))


@pytest.fixture(scope="session")
def server(chromium_path):
    proc, url = start_server("classroom")
    _SERVERS.append(proc)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def session(browser, server):
    s = Session(browser, server)
    yield s
    s.close()
