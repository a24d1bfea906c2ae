"""``tokenomy viz`` as a server: it stops cleanly, it serves its own page only, and it stays offline.

One server for the module (a short kernel cull timeout, the session count on stderr); the signal tests
start their own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from browser_support import start_server, stop_server
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from widget_client import WidgetClient

from tokenomy.viz.url_state import SEED_RANGE

CULL_TIMEOUT_S = 3
LAN_ORIGIN = "http://classroom.example:8765"
SESSIONS_LINE = re.compile(r"tokenomy viz \[pid \d+\]: (\d+) sessions open")


class ServerLog:
    """The server's merged stdout/stderr, as ``start_server`` keeps reading it."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = proc.output_lines
        self.pid = proc.pid  # one worker: the server is this process

    def sessions_open(self) -> int | None:
        counts = [int(m.group(1)) for line in list(self.lines) if (m := SESSIONS_LINE.search(line))]
        return counts[-1] if counts else None

    def wait_sessions(self, predicate, timeout_s: float) -> int | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            count = self.sessions_open()
            if count is not None and predicate(count):
                return count
            time.sleep(0.1)
        return self.sessions_open()


@pytest.fixture(scope="module")
def guarded():
    proc, url = start_server(
        "classroom",
        extra_args=("--allow-origin", LAN_ORIGIN),
        extra_env={"TOKENOMY_VIZ_CULL_TIMEOUT": f"{CULL_TIMEOUT_S}s", "TOKENOMY_VIZ_SESSION_LOG": "1"},
    )
    log = ServerLog(proc)
    yield url, log
    stop_server(proc)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _ws_url(url: str, kernel_id: str) -> str:
    netloc = urlsplit(url).netloc
    return f"ws://{netloc}/jupyter/api/kernels/{kernel_id}/channels?session_id=page-{kernel_id}"


def _ws_status(url: str, origin: str | None, kernel_id: str) -> int:
    """101 when the websocket is accepted, else the HTTP status of the refusal."""
    try:
        with connect(_ws_url(url, kernel_id), origin=origin, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_other_origins_are_refused_and_the_page_itself_is_served(guarded):
    url, _ = guarded
    own = url.rstrip("/")
    assert _get(url)[0] == 200
    assert _get(url, {"Origin": own})[0] == 200
    assert _get(url, {"Origin": "http://evil.example"})[0] == 403
    assert _get(url, {"Origin": own.replace("127.0.0.1", "localhost")})[0] == 403  # another origin, same machine
    assert _get(url, {"Origin": LAN_ORIGIN})[0] == 200  # --allow-origin
    assert _ws_status(url, "http://evil.example", "k-evil") == 403
    assert _ws_status(url, "http://127.0.0.1.evil.example", "k-evil2") == 403
    assert _ws_status(url, own, "k-own") == 101
    assert _ws_status(url, LAN_ORIGIN, "k-lan") == 101


def test_a_hostname_that_is_not_ours_is_refused(guarded):
    url, _ = guarded
    port = urlsplit(url).port
    assert _get(url, {"Host": f"evil.example:{port}"})[0] == 403  # DNS rebinding: evil.example -> 127.0.0.1
    assert _get(url, {"Host": f"localhost:{port}"})[0] == 200
    assert _get(url, {"Host": f"classroom.example:{port}"})[0] == 200  # the --allow-origin host


def test_host_metrics_are_not_exposed(guarded):
    url, _ = guarded
    for path in ("resourcez", "resourcez?verbose", "resourcez/"):
        status, body = _get(url + path)
        assert status == 404, path
        assert b"cpu" not in body.lower() and b"memory" not in body.lower()


def test_unknown_cdn_asset_is_404_at_once_and_installed_ones_are_served(guarded):
    url, _ = guarded
    for path in (
        "x/y.css",
        "katex@0.16.9/dist/fonts/KaTeX_Main-Regular.woff2",
        "left-pad",
        "requirejs@2.3.6/../../../etc/passwd",
    ):
        t0 = time.perf_counter()
        status, _ = _get(url + "_solara/cdn/" + path)
        elapsed_s = time.perf_counter() - t0
        assert status == 404, path
        assert elapsed_s < 1.0, (path, elapsed_s)
    status, body = _get(url + "_solara/cdn/requirejs@2.3.6/require.js")
    assert status == 200 and b"requirejs" in body
    status, body = _get(url + "_solara/cdn/katex@0.16.9/dist/contrib/auto-render.min.js")  # the local stand-in
    assert status == 200 and b"renderMathInElement" in body


def test_a_disconnected_session_is_freed_after_the_cull_timeout(guarded):
    url, log = guarded
    time.sleep(1.0)  # the server says its count every 0.25 s: let it catch up with earlier tests' sessions
    assert log.wait_sessions(lambda n: n == 0, timeout_s=CULL_TIMEOUT_S + 10) == 0
    with connect(_ws_url(url, "k-cull"), origin=url.rstrip("/"), open_timeout=10):
        assert log.wait_sessions(lambda n: n >= 1, timeout_s=10) == 1
    closed_at = time.monotonic()
    assert log.wait_sessions(lambda n: n == 0, timeout_s=CULL_TIMEOUT_S + 10) == 0
    assert time.monotonic() - closed_at >= CULL_TIMEOUT_S * 0.5  # freed by the cull, not before


@pytest.mark.browser
def test_the_page_loads_nothing_from_outside_loopback(guarded, browser):
    url, _ = guarded
    context = browser.new_context(viewport={"width": 1500, "height": 1400})
    requested: list[str] = []
    failed: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    context.on("requestfailed", lambda r: failed.append(r.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requested.append(ws.url))
    try:
        page.goto(url)
        page.wait_for_selector("[data-testid=sim-date]", timeout=60_000)
        page.wait_for_load_state("networkidle")
        for _ in range(3):
            before = page.get_by_test_id("sim-day").inner_text()
            page.get_by_role("button", name="Step").click()
            page.wait_for_function(
                f"document.querySelector('[data-testid=sim-day]').innerText != '{before}'", timeout=30_000
            )
        page.wait_for_load_state("networkidle")
        stylesheets = page.evaluate("[...document.styleSheets].map(s => s.href).filter(Boolean)")
    finally:
        context.close()
    assert any("/_solara/cdn/" in u for u in requested)  # the recorder saw the app's own assets
    outside = [
        u
        for u in requested + stylesheets
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == [], f"the page reached beyond 127.0.0.1: {outside[:5]}"
    assert failed == [], f"requests that failed: {failed[:5]}"


def _descendants_and_group(pid: int) -> list[int]:
    """Live processes in ``pid``'s process group (the server was started in a session of its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgid = fields[0], int(fields[2])
        if pgid == pid and state != "Z":
            found.append(int(entry))
    return found


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGTERM, 1), (signal.SIGINT, 1), (signal.SIGTERM, 2)],
    ids=["SIGTERM", "SIGINT", "SIGTERM-2-workers"],
)
def test_a_signal_stops_every_process_the_server_started(sig, workers):
    proc, url = start_server("classroom", extra_args=("--workers", str(workers)))
    log = ServerLog(proc)
    try:
        with connect(_ws_url(url, "k-signal"), origin=url.rstrip("/"), open_timeout=10):
            started = _descendants_and_group(proc.pid)
            assert len(started) >= (1 if workers == 1 else 1 + workers), started  # + multiprocessing's helper
            proc.send_signal(sig)  # to the server alone, as `kill` would
            proc.wait(timeout=15)
        deadline = time.monotonic() + 5
        while _descendants_and_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _descendants_and_group(proc.pid) == [], "\n".join(log.lines[-20:])
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
    finally:
        if proc.poll() is None or _descendants_and_group(proc.pid):
            stop_server(proc)


@pytest.mark.parametrize(
    "argv",
    [
        ["--allow-origin", "ftp://classroom.example"],
        ["--allow-origin", "http://classroom.example/lesson"],
        ["--allow-origin", "classroom.example"],
        ["--workers", "0"],
        ["--port", "0"],
        ["--host", ""],  # would listen on every interface without saying so
        ["--host", "  "],
        ["--host", " 127.0.0.1"],
    ],
)
def test_bad_viz_options_give_one_line_and_exit_2(argv, capsys):
    from tokenomy.abm.cli import main

    assert main(["viz", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err


def test_a_port_in_use_gives_one_line_and_exit_2(capsys):
    from tokenomy.abm.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["viz", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and str(port) in err and "in use" in err and "\n" not in err, err


def test_origins_are_compared_in_the_form_browsers_send():
    from tokenomy.viz.server import normalise_origin

    assert normalise_origin("HTTP://Classroom.Example:8765/") == "http://classroom.example:8765"
    assert normalise_origin("https://[::1]:9000") == "https://[::1]:9000"
    assert normalise_origin("http://192.168.1.5") == "http://192.168.1.5"


# -- what a browser sends is not trusted (issue 17) ---------------------------------------------------------
def _vm_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def _attributes_with(client: WidgetClient, testid: str) -> dict | None:
    found = [
        s.get("attributes") for s in client.widgets.values() if (s.get("attributes") or {}).get("data-testid") == testid
    ]
    return found[0] if found else None


def _button(client: WidgetClient, label: str, timeout_s: float = 30.0) -> str:
    """The button labelled ``label``, waiting for the page to draw it (a tab's body arrives after the tab)."""
    return client.wait_for(
        lambda: next(
            (
                cid
                for cid in client.find(_model_name="BtnModel")
                if label in (client.widgets[cid].get("children") or [])
            ),
            None,
        ),
        timeout_s,
        f"the {label!r} button",
    )


def _refusals(client: WidgetClient) -> list[str]:
    alerts = [s.get("children") or [] for s in client.widgets.values() if s.get("_model_name") == "AlertModel"]
    return [text for children in alerts for text in children if isinstance(text, str) and text.startswith("Refused")]


def _header_text(client: WidgetClient) -> str:
    """The header's "scenario: ... · seed ..." words (a span of the header's HTML)."""
    return next(m.group(1) for m in re.finditer(r"<span>(scenario: [^<]*)</span>", client.texts()))


@pytest.fixture
def page(guarded):
    url, _ = guarded
    client = WidgetClient(url)
    client.start()
    yield client
    client.close()


def test_days_to_run_takes_only_its_own_range_and_the_server_stays_small(guarded, page):
    """400,000 days sent for the Experiments slider (730 at most) once took the server from 0.5 to 4 GB."""
    _, log = guarded
    before = _vm_rss_kb(log.pid)
    page.update(page.find(_model_name="TabsModel")[0], v_model=3)  # the Experiments tab, as a click would
    days = page.wait_for(lambda: page.find(_model_name="SliderModel", min=30, max=730), 30, "the Days slider")[0]
    for bad in (400_000, -100, float("nan"), "730; rm -rf /", None):
        page.update(days, v_model=bad)
        page.wait_for(lambda: len(_refusals(page)) == 1, 10, f"a refusal of {bad!r}")
        assert page.widgets[days]["v_model"] == 240  # the slider shows the server's value again
        assert "\n" not in _refusals(page)[0] and "30 to 730" in _refusals(page)[0]
    t0 = time.monotonic()
    page.click(_button(page, "Run both"))
    result = page.wait_for(lambda: _attributes_with(page, "side-by-side"), 120, "the side-by-side result")
    assert result["data-days"] == "240"  # the refused values never reached the run
    assert time.monotonic() - t0 < 60
    assert _vm_rss_kb(log.pid) - before < 100_000  # kB: two runs of 240 days, not of 400,000


def test_levers_and_the_seed_refuse_nan_and_out_of_range_values(page):
    sliders = {cid: (s["min"], s["max"]) for cid, s in page.widgets.items() if s.get("_model_name") == "SliderModel"}
    seed = next(cid for cid, bounds in sliders.items() if bounds == SEED_RANGE)  # the range an address can carry
    growth = next(cid for cid, bounds in sliders.items() if bounds == (0.5, 5.0))
    for cid, bad in ((seed, -100), (seed, 10**30), (growth, float("nan")), (growth, -100), (growth, 1e308 * 10)):
        page.update(cid, v_model=bad)
        page.wait_for(lambda: _refusals(page), 10, f"a refusal of {bad!r}")
    page.update(growth, v_model=2.0)  # a value in range is taken
    page.click(_button(page, "Reset"))
    page.wait_for(lambda: not _refusals(page), 10, "the refusal to clear on Reset")
    assert page.widgets[growth]["v_model"] == 2.0 and page.widgets[seed]["v_model"] == 1


def test_the_scenario_select_takes_no_path_and_opens_no_file(page, tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    select = next(cid for cid in page.find(_model_name="SelectModel") if page.widgets[cid].get("label") == "Scenario")
    for path in (str(fifo), "/etc/passwd", "../../../etc/passwd", "/dev/zero"):
        page.update(select, v_model=path)
        page.wait_for(lambda: _refusals(page), 10, f"a refusal of {path}")
        assert page.widgets[select]["v_model"] == "classroom"
        page.click(_button(page, "Reset"))
        page.pump(0.5)
    assert _header_text(page).startswith("scenario: classroom")
    shown = page.texts()
    assert "root:" not in shown and "Traceback" not in shown and "no such" not in shown.lower()
    with pytest.raises(OSError) as exc:  # a writer finds no reader: the server never opened the FIFO
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert exc.value.errno == errno.ENXIO
    page.update(select, v_model="jevons")  # a shipped scenario is still taken
    page.click(_button(page, "Reset"))
    page.wait_for(lambda: _header_text(page).startswith("scenario: jevons"), 60, "the jevons scenario")


def test_a_10_mb_message_is_refused_and_adds_nothing_to_the_server(guarded, page):
    url, log = guarded
    before = _vm_rss_kb(log.pid)
    select = page.find(_model_name="SelectModel")[0]
    page.update(select, style_="x" * 10_000_000)
    page.pump(10)
    assert page.closed  # the server closed the websocket: the message was too big
    assert _vm_rss_kb(log.pid) - before < 12_000  # kB; it was +58 MB per 10 MB message
    other = WidgetClient(url)  # the server serves the next page as before
    try:
        other.start()
        assert other.find(_model_name="SliderModel")
    finally:
        other.close()


def _sim_day(client: WidgetClient) -> int:
    found = [t for t in client.texts().splitlines() if "data-testid='sim-day'" in t]
    return int(found[0].split("'sim-day'>")[1].split("<")[0]) if found else -1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_within_seconds_while_sessions_compute(sig):
    """Playing, and a side-by-side run in the websocket's own thread: SIGTERM or Ctrl-C still ends the process
    within seconds (it once ran on for ever after a long request)."""
    from tokenomy.viz.server import STOP_DEADLINE_S

    proc, url = start_server("classroom")
    player = runner = None
    try:
        player, runner = WidgetClient(url), WidgetClient(url)
        player.start()
        runner.start()
        player.click(_button(player, "Play"))
        player.wait_for(lambda: _sim_day(player) > 3, 60, "Play to simulate a few days")
        runner.update(runner.find(_model_name="TabsModel")[0], v_model=3)
        days = runner.wait_for(lambda: runner.find(_model_name="SliderModel", min=30, max=730), 30, "the Days slider")
        runner.update(days[0], v_model=730)
        runner.click(_button(runner, "Run both"))
        time.sleep(0.5)  # both sessions busy now
        t0 = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=STOP_DEADLINE_S + 4)
        assert time.monotonic() - t0 < STOP_DEADLINE_S + 3
    finally:
        for client in (player, runner):
            if client is not None:
                client.close()
        if proc.poll() is None:
            stop_server(proc)


def _bad_requests(port: int, i: int) -> list[bytes]:
    """A few malformed or hostile requests, each different (numbered ``i``)."""
    host = f"127.0.0.1:{port}".encode()
    ws = b"GET /jupyter/api/kernels/k%d/channels?session_id=s%d HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n" % (
        i,
        i,
        host,
    )
    return [
        b"\x16\x03\x01\x02\x00garbage %d\r\n\r\n" % i,  # TLS on the plain port, or noise
        b"GET /nope-%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (i, host),  # a path of its own each time
        ws + b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",  # no key
        ws
        + b"Origin: http://evil-%d.example\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" % i
        + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",  # another origin
        b"GET / HTTP/1.1\r\nHost: evil-%d.example\r\n\r\n" % i,  # a host we do not serve
        b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: -%d\r\n\r\n" % (host, i),  # a bad length
    ]


@pytest.mark.slow
def test_a_trickled_body_is_cut_off_and_a_flood_of_bad_requests_writes_a_few_lines():
    """A client that trickles a request body a byte at a time is closed by the body deadline; 1,800 malformed
    or hostile requests, each different, plus websockets that send broken frames, leave a few lines in the
    server's output (the flood once wrote 868 MB of tracebacks a minute), and the page still loads."""
    from tokenomy.viz.http_guard import BODY_TIMEOUT_S

    proc, url = start_server("classroom")
    port = urlsplit(url).port
    try:
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100000\r\n\r\n" % port)
        t0 = time.monotonic()
        for i in range(300):
            for request in _bad_requests(port, i):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                    c.sendall(request)
                    with contextlib.suppress(OSError):
                        c.recv(1000)
            with contextlib.suppress(OSError), connect(_ws_url(url, f"k{i}"), origin=url.rstrip("/")) as ws:
                ws.socket.sendall(b"\x81\x7f" + b"\xff" * 8 + os.urandom(20))  # an impossible length, unmasked
            with contextlib.suppress(OSError):
                slow.sendall(b"x")
        cut = False
        while not cut and time.monotonic() - t0 < BODY_TIMEOUT_S + 5:
            try:
                slow.sendall(b"x")
            except OSError:
                cut = True
            time.sleep(0.2)
        assert cut and BODY_TIMEOUT_S - 1 < time.monotonic() - t0 < BODY_TIMEOUT_S + 5
        assert _get(url)[0] == 200
        text = "\n".join(proc.output_lines)
        assert len(text) < 20_000 and text.count("Traceback") <= 3, text[-3000:]
    finally:
        stop_server(proc)


@pytest.mark.slow
def test_slow_header_clients_are_cut_off_and_others_are_served():
    """2,000 connections from one address that never finish their headers: the page still loads for another
    address, the server holds no more than its cap of them, and it closes them all by the header deadline."""
    from tokenomy.viz.http_guard import HEADER_TIMEOUT_S, MAX_CONNECTIONS_PER_CLIENT

    proc, url = start_server("classroom")
    port = urlsplit(url).port
    held = []
    try:
        for _ in range(2_000):
            c = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
            c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(c)
        time.sleep(0.5)
        assert _get(url)[0] == 200  # from 127.0.0.1: served
        assert len(os.listdir(f"/proc/{proc.pid}/fd")) < MAX_CONNECTIONS_PER_CLIENT + 100
        time.sleep(HEADER_TIMEOUT_S + 2)
        assert len(os.listdir(f"/proc/{proc.pid}/fd")) < 100
        text = "\n".join(proc.output_lines)
        assert len(text) < 5_000 and "Traceback" not in text  # refusals are logged once, not 2,000 times
    finally:
        for c in held:
            c.close()
        stop_server(proc)


def test_a_template_message_cannot_set_a_control_or_create_a_widget(page, tmp_path):
    """ipyvue's template messages (``update_ref``, ``create_widget``) were a way around the checks above."""
    template = page.find(_model_name="VuetifyTemplateModel")[0]
    seed = next(cid for cid, s in page.widgets.items() if s.get("_model_name") == "SliderModel" and s["max"] == 99.0)
    marker = tmp_path / "created"
    messages = [
        {"update_ref": -100, "id": seed, "prop": "v_model"},
        {"update_ref": {"functionRef": "close"}, "id": seed, "prop": "v_model"},
        {"create_widget": ["pathlib", "Path"], "props": {}, "id": "x1"},
        {"create_widget": ["subprocess", "Popen"], "props": {"args": f"touch {marker}", "shell": True}, "id": "x2"},
    ]
    for content in messages:
        page._send("comm_msg", {"comm_id": template, "data": {"method": "custom", "content": content}})
        page.wait_for(lambda: _refusals(page), 10, f"a refusal of {content}")
        page.click(_button(page, "Reset"))  # clears the refusal line
        page.wait_for(lambda: not _refusals(page), 10, "the refusal line to clear")
    assert page.widgets[seed]["v_model"] == 1
    assert _header_text(page).startswith("scenario: classroom · seed 1")
    assert not marker.exists()


def test_every_interface_is_said_plainly_on_start(monkeypatch, capsys):
    import tokenomy.viz.server as server
    from tokenomy.abm.cli import main

    served = {}
    monkeypatch.setattr(server, "serve", lambda scenario, host, port, *a, **k: served.update(host=host) or 0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["viz", "--host", "0.0.0.0", "--port", str(port)]) == 0
    assert served == {"host": "0.0.0.0"}
    out = capsys.readouterr().out
    assert "every network interface" in out and "anyone who can reach this machine" in out
    assert main(["viz", "--port", str(port)]) == 0  # the default, this machine only: nothing to warn of
    assert "every network interface" not in capsys.readouterr().out
