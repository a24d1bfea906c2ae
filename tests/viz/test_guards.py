"""What the server takes from a browser, checked without a server: widget values against each control's own
bounds, the per-session budget of simulated days, the rate-limited log, the HTTP header deadline and the
connection cap (a real uvicorn on loopback, in this process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import threading
import time

import ipyvuetify as v
import pytest

from tokenomy.viz import widget_guard
from tokenomy.viz.budget import MAX_RUN_DAYS, BudgetSpent, SessionBudget, charge
from tokenomy.viz.server_log import OncePerPeriod
from tokenomy.viz.widget_guard import MAX_TEXT_CHARS, refusal


@pytest.fixture(scope="module", autouse=True)
def guard_installed():
    widget_guard.install()


# -- widget values ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [400_000, -100, float("nan"), float("inf"), "240", True, None, [240], 730.5, 29])
def test_a_slider_takes_only_a_number_in_its_own_range(bad):
    slider = v.Slider(min=30, max=730, step=30, v_model=240)
    assert refusal(slider, {"v_model": bad}) is not None
    slider.set_state({"v_model": bad})
    assert slider.v_model == 240  # not applied


@pytest.mark.parametrize("good", [30, 730, 360, 0.3e3])
def test_a_slider_takes_a_number_in_range(good):
    slider = v.Slider(min=30, max=730, step=30, v_model=240)
    slider.set_state({"v_model": good})
    assert slider.v_model == good


def test_a_select_takes_only_one_of_its_items():
    select = v.Select(label="Scenario", items=["classroom", "baseline"], v_model="classroom")
    for bad in ("/etc/passwd", "/tmp/fifo", "../classroom", "Classroom", None, 1, ["baseline"], {"value": "baseline"}):
        select.set_state({"v_model": bad})
        assert select.v_model == "classroom", bad
    select.set_state({"v_model": "baseline"})
    assert select.v_model == "baseline"
    numbers = v.Select(items=[4, 8, 12, 16], v_model=8)
    for bad in (1_000_000, 8.5, "8", -4):
        numbers.set_state({"v_model": bad})
        assert numbers.v_model == 8, bad
    numbers.set_state({"v_model": 16})
    assert numbers.v_model == 16


def test_an_index_names_one_of_the_children_and_a_switch_is_true_or_false():
    toggle = v.BtnToggle(children=[v.Btn(), v.Btn(), v.Btn()], mandatory=True, v_model=0)
    for bad in (-1, 3, 10**9, None, "1", 1.0):
        toggle.set_state({"v_model": bad})
        assert toggle.v_model == 0, bad
    toggle.set_state({"v_model": 2})
    assert toggle.v_model == 2
    tabs = v.Tabs(children=[v.Tab(), v.Tab(), v.TabsSlider(), v.TabsItems()], v_model=0)
    for bad in (2, 3, -1):  # a position past the last tab (the slider and the contents are not tabs)
        tabs.set_state({"v_model": bad})
        assert tabs.v_model == 0, bad
    tabs.set_state({"v_model": 1})
    assert tabs.v_model == 1
    switch = v.Switch(v_model=False)
    switch.set_state({"v_model": "yes"})
    assert switch.v_model is False
    switch.set_state({"v_model": True})
    assert switch.v_model is True


def test_text_is_capped_and_nothing_huge_or_deep_is_taken():
    field = v.TextField(v_model="10, 9, 8")
    field.set_state({"v_model": "1, " * MAX_TEXT_CHARS})
    assert field.v_model == "10, 9, 8"
    field.set_state({"v_model": "7, 6"})
    assert field.v_model == "7, 6"
    deep: list = []
    for _ in range(50):
        deep = [deep]
    for state in ({"style_": "x" * 10_000_000}, {"class_": deep}, {"v_model": list(range(100_000))}):
        assert refusal(field, state) is not None


def test_a_page_cannot_move_a_controls_bounds():
    slider = v.Slider(min=30, max=730, v_model=240)
    slider.set_state({"max": 1_000_000, "v_model": 400_000})
    assert (slider.max, slider.v_model) == (730, 240)
    select = v.Select(items=["classroom"], v_model="classroom")
    select.set_state({"items": ["/etc/passwd"], "v_model": "/etc/passwd"})
    assert (select.items, select.v_model) == (["classroom"], "classroom")


def test_a_refusal_is_one_short_line():
    slider = v.Slider(min=30, max=730, v_model=240)
    why = refusal(slider, {"v_model": "x" * 1000})
    assert "\n" not in why and len(why) < 200
    assert refusal(slider, {"v_model": math.nan}) == "a slider takes a number from 30 to 730, not nan"


# -- the session's budget -----------------------------------------------------------------------------------
def test_a_session_budget_refuses_what_passes_it_and_refills_with_time():
    now = [0.0]
    budget = SessionBudget(days=1_000, window_s=60, clock=lambda: now[0])
    budget.spend(600)
    now[0] = 30.0
    budget.spend(400)
    with pytest.raises(BudgetSpent, match="1,000 days"):
        budget.spend(1)
    now[0] = 59.0
    with pytest.raises(BudgetSpent):
        budget.spend(1)
    now[0] = 60.0  # the first 600 days left the window, the 400 of t=30 not yet
    budget.spend(600)
    with pytest.raises(BudgetSpent):
        budget.spend(1)


def test_one_run_is_capped_before_anything_is_simulated():
    charge(0, MAX_RUN_DAYS)  # outside a session only the run's own cap applies
    with pytest.raises(BudgetSpent, match="day"):
        charge(0, MAX_RUN_DAYS + 1)
    with pytest.raises(BudgetSpent):
        charge(MAX_RUN_DAYS, 1)
    with pytest.raises(BudgetSpent):
        charge(0, -5)


def test_a_chain_model_asked_for_400000_days_refuses_at_once():
    from tokenomy.viz.model import ChainModel

    model = ChainModel("classroom")
    t0 = time.perf_counter()
    with pytest.raises(BudgetSpent):
        model.run(400_000)
    assert time.perf_counter() - t0 < 1.0
    assert model.day == 0


# -- the log ------------------------------------------------------------------------------------------------
def test_the_same_error_is_logged_once_a_period_with_a_count_of_the_rest():
    now = [0.0]
    rate = OncePerPeriod(period_s=60, clock=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        try:
            raise OSError("too many open files")
        except OSError:
            import sys

            return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, (), sys.exc_info())

    passed = [rate.filter(record("accept failed")) for _ in range(10_000)]
    assert passed.count(True) == 1
    assert rate.filter(record("another kind"))
    now[0] = 61.0
    later = record("accept failed")
    assert rate.filter(later) and "9,999 more" in later.getMessage()


FLOOD = """
import logging, threading, warnings
import solara.server.app, solara.server.kernel_context
from tokenomy.viz.server_log import configure_logging
configure_logging()
for i in range(5_000):  # messages a client could vary without end, each its own kind
    logging.getLogger("uvicorn.error").error(f"bad request {i} " + "x" * 20_000)
    warnings.warn(f"odd value {i}")
    solara.server.app.print(f"Traceback of render {i}")
    solara.server.kernel_context.print(("display", i))
def fail(i):
    raise RuntimeError(f"thread {i}")
for i in range(200):
    t = threading.Thread(target=fail, args=(i,))
    t.start()
    t.join()
print("done", flush=True)
"""


def test_no_client_can_make_the_log_grow_without_bound():
    """Messages that differ each time (so each is a kind of its own), 20 kB long, warnings, Solara's prints of a
    failed render and exceptions that end threads: at most MAX_RECORDS records a period, each cut to
    MAX_RECORD_CHARS, all on stderr; nothing of it on standard output; the first of each way is written."""
    import subprocess
    import sys

    from tokenomy.viz.server_log import MAX_RECORD_CHARS, MAX_RECORDS

    proc = subprocess.run([sys.executable, "-c", FLOOD], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "done\n"  # Solara's prints went to the log
    records = [line for line in proc.stderr.splitlines() if line.startswith("tokenomy viz: ")]
    assert len(records) == MAX_RECORDS
    assert len(proc.stderr) < MAX_RECORDS * (MAX_RECORD_CHARS + 200)
    first = "\n".join(records[:3])
    assert "bad request 0 " in first and "odd value 0" in first and "Traceback of render 0" in first
    solara_prints = [r for r in records if "solara.print" in r]  # one kind, whatever it prints: once a period
    assert len(solara_prints) == 1 and "('display', 0)" not in proc.stderr
    assert "characters not shown" in proc.stderr  # the 20 kB message was cut


# -- HTTP: header deadline and connection cap ---------------------------------------------------------------
async def _hello(scope, receive, send):
    """``ok`` to any request, once its whole body is read; a websocket to ``/ws`` is accepted, to anywhere else
    never answered (as an app stuck before its handshake)."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if scope["path"] == "/ws":
            await send({"type": "websocket.accept"})
            while (await receive())["type"] != "websocket.disconnect":
                pass
        else:
            await asyncio.Event().wait()  # never accepts nor refuses
        return
    assert scope["type"] == "http"
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def tiny_server():
    """uvicorn with the guarded protocol (a 0.5 s header deadline, 20 connections) on a free loopback port."""
    import uvicorn

    from tokenomy.viz.http_guard import GuardedH11Protocol, GuardedWebSocketProtocol

    class Quick(GuardedH11Protocol):
        header_timeout_s = 0.5
        body_timeout_s = 0.5
        max_connections = 20
        max_per_client = 20

    class QuickWebSocket(GuardedWebSocketProtocol):
        handshake_timeout_s = 0.5

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        _hello, host="127.0.0.1", port=port, http=Quick, ws=QuickWebSocket, log_level="critical", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(5)


def _response(conn: socket.socket) -> bytes:
    """One whole response of the tiny app (its body is ``ok``)."""
    got = b""
    while not got.endswith(b"\r\n\r\nok"):
        chunk = conn.recv(1000)
        if not chunk:
            break
        got += chunk
    return got


def _get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return _response(c)


def _closed_by_server(conn: socket.socket, within_s: float) -> bool:
    conn.settimeout(within_s)
    try:
        return conn.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_client_that_never_finishes_its_headers_is_cut_off(tiny_server):
    port = tiny_server
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
    t0 = time.monotonic()
    for _ in range(5):  # dribbling a header now and then does not keep it open
        time.sleep(0.05)
        slow.sendall(b"X-Slow: 1\r\n")
    assert _closed_by_server(slow, within_s=3)
    assert time.monotonic() - t0 < 2.5
    slow.close()
    assert _get(port).startswith(b"HTTP/1.1 200")


def test_connections_beyond_the_cap_are_closed_at_once_and_the_server_still_answers(tiny_server):
    port = tiny_server
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
    try:
        time.sleep(0.2)
        refused = [c for c in held if _closed_by_server(c, within_s=0.05)]
        assert len(refused) >= 60 - 20
    finally:
        for c in held:
            c.close()
    time.sleep(0.1)
    assert _get(port).startswith(b"HTTP/1.1 200")


def test_a_kept_alive_connection_waiting_for_its_next_request_has_the_same_deadline(tiny_server):
    port = tiny_server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _response(c).startswith(b"HTTP/1.1 200")
        c.sendall(b"GET / HTTP/1.1\r\n")  # the next request's headers never end
        assert _closed_by_server(c, within_s=3)


def test_a_body_trickled_a_byte_at_a_time_is_cut_off_and_a_prompt_one_is_served(tiny_server):
    """The body deadline runs from the end of the headers and is not renewed by each byte (0.5 s here)."""
    port = tiny_server
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(head)
    t0, cut = time.monotonic(), False
    while time.monotonic() - t0 < 3 and not cut:
        try:
            slow.sendall(b"x")  # a byte every 20 ms: 50 bytes a second, never the 1,000
        except OSError:
            cut = True
        cut = cut or _closed_by_server(slow, within_s=0.02)
    assert cut and time.monotonic() - t0 < 1.5
    slow.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as prompt:
        prompt.sendall(head + b"x" * 400)
        time.sleep(0.2)  # in two pieces, within the deadline
        prompt.sendall(b"x" * 600)
        assert _response(prompt).startswith(b"HTTP/1.1 200")


def _upgrade(port: int, path: str) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    return conn


def test_a_websocket_whose_handshake_never_completes_is_closed(tiny_server):
    """An app that neither accepts nor refuses a websocket: the connection is closed by the handshake deadline
    (0.5 s here), with no 101; an accepted websocket stays open past it."""
    port = tiny_server
    stuck = _upgrade(port, "/stuck")
    t0 = time.monotonic()
    stuck.settimeout(3)
    got = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := stuck.recv(1000):
            got += chunk
    assert b"101" not in got and time.monotonic() - t0 < 2.0
    stuck.close()
    with _upgrade(port, "/ws") as accepted:
        accepted.settimeout(3)
        assert accepted.recv(1000).startswith(b"HTTP/1.1 101")
        assert not _closed_by_server(accepted, within_s=1.0)


# -- Vue templates and widgets made by a page ---------------------------------------------------------------
def test_a_template_message_may_not_import_call_or_set_what_it_did_not_create():
    import ipyvue

    template = ipyvue.VueTemplate(template="<template><div/></template>")
    slider = v.Slider(min=0, max=99, v_model=1)
    for content in (
        {"create_widget": ["subprocess", "Popen"], "props": {"args": "true"}, "id": "x"},
        {"create_widget": ["ipyvuetify", "Slider"], "props": {}, "id": "x"},  # not declared by this template
        {"update_ref": -100, "id": slider.model_id, "prop": "v_model"},  # not a widget it created
        {"event": "x", "data": {"functionRef": "close"}},
        {"event": "x", "data": {"objectRef": "__class__"}},
        "not a dict",
    ):
        assert widget_guard.template_refusal(template, content) is not None, content
        template._handle_event(None, content, [])
    assert slider.v_model == 1 and template.comm is not None
    assert widget_guard.template_refusal(template, {"event": "click", "data": {"x": 1}}) is None


def test_a_page_may_not_create_widgets_on_the_server():
    import ipywidgets
    from ipywidgets.widgets.widget import _instances

    closed = []

    class FakeComm:
        def close(self):
            closed.append(True)

    before = len(_instances)
    ipywidgets.Widget.handle_comm_opened(FakeComm(), {"content": {"data": {"state": {"_model_name": "HTMLModel"}}}})
    assert closed == [True] and len(_instances) == before


# -- a session's limits, as the sidebar meets them ----------------------------------------------------------
def test_reset_refuses_a_scenario_the_server_does_not_offer_in_one_line(tmp_path):
    from tokenomy.viz.session import AppSession

    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    session = AppSession.new("classroom")
    model = session.model.value
    for path in (str(fifo), "/etc/passwd", "", None):
        session.scenario.set(path)
        session.reset()  # a FIFO would block here if it were opened
        assert session.model.value is model
        assert session.error.value.startswith("That scenario is not one this server offers") and "\n" not in (
            session.error.value
        )
    session.scenario.set("jevons")
    session.reset()
    assert session.model.value.scenario_name == "jevons" and session.error.value == ""


def test_play_stops_with_one_line_at_the_runs_cap_and_at_the_sessions_budget(monkeypatch):
    from tokenomy.viz import budget
    from tokenomy.viz.controls import play_days
    from tokenomy.viz.session import AppSession

    session = AppSession.new("classroom")
    monkeypatch.setattr(budget, "MAX_RUN_DAYS", 3)
    session.playing.set(True)
    play_days(session, pause_s=0.0)
    assert session.model.value.day == 3 and not session.playing.value
    assert "may reach day 3" in session.error.value and "\n" not in session.error.value

    monkeypatch.setattr(budget, "MAX_RUN_DAYS", 3_660)
    small = SessionBudget(days=5, window_s=600)
    monkeypatch.setattr(budget, "session_budget", lambda: small)
    session.reset()
    session.playing.set(True)
    play_days(session, pause_s=0.0)
    assert session.model.value.day == 5 and not session.playing.value
    assert "may simulate 5" in session.error.value


def test_a_stop_signal_ends_the_process_even_with_a_thread_blocked_for_ever(tmp_path):
    """A thread blocked in open() on a FIFO (no writer will come) would keep the interpreter from exiting."""
    import subprocess
    import sys

    fifo = tmp_path / "never"
    os.mkfifo(fifo)
    code = (
        "import signal, threading, time\n"
        "from tokenomy.viz.server import arm_stop_deadline_on_signals\n"
        f"threading.Thread(target=lambda: open({str(fifo)!r}).read()).start()\n"  # not a daemon: blocks exit
        "stop = threading.Event()\n"
        "signal.signal(signal.SIGTERM, lambda s, f: stop.set())\n"  # a graceful stop, as uvicorn's
        "arm_stop_deadline_on_signals()\n"
        "print('ready', flush=True)\n"
        "stop.wait(60)\n"  # then the interpreter waits for the blocked thread
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - t0 < 8
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
