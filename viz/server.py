"""Serve the browser app in this process: Solara's starlette app under uvicorn, behind a guard.

Serving in-process means there is no child server to orphan: SIGINT and SIGTERM stop uvicorn (and, with
several workers, uvicorn's supervisor stops its workers).  The guard (an ASGI middleware) keeps the app
local and offline:

* a request or websocket whose ``Origin`` is not the served page itself (or an origin the teacher allowed
  with ``--allow-origin``) is refused with 403, so a page on another site cannot drive a session;
* a ``Host`` that is a name other than ``localhost`` or an allowed origin's is refused (DNS rebinding);
* ``/resourcez`` (host CPU and memory) answers 404;
* ``/_solara/cdn/...`` answers only from the assets installed with solara-assets: an unknown path is a
  404 at once, nothing is ever fetched from the internet.

Nothing a browser sends is trusted: every widget value is checked against the control's own bounds before
it is applied (:mod:`tokenomy.viz.widget_guard`), a websocket message is at most :data:`WS_MAX_BYTES`,
request headers have a deadline and connections a cap (:mod:`tokenomy.viz.http_guard`), and the log says
each kind of error at most once a minute (:mod:`tokenomy.viz.server_log`).  SIGTERM or Ctrl-C stops the
process within :data:`STOP_DEADLINE_S` seconds whatever a session is computing.

Settings reach the app (and every worker process) through environment variables, which Solara reads when
it is first imported: :func:`configure_environment` must run before anything imports ``solara``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from tokenomy.abm.environment import CULL_TIMEOUT_ENV, REACTON_FAST_ENV, SESSION_LOG_ENV
from tokenomy.abm.warmup import warm_up

APP_MODULE = "tokenomy.viz.app"
ALLOW_ORIGINS_ENV = "TOKENOMY_VIZ_ALLOW_ORIGINS"
# (checked before any command runs, with every other variable: abm/environment.py) SESSION_LOG_ENV "1": each worker
# says on stderr when its count of sessions changes
DEFAULT_CULL_TIMEOUT = "2m"  # a closed tab's kernel is freed this long after its websocket went away
CDN_PREFIX = "/_solara/cdn/"
HIDDEN_PATHS = ("/resourcez",)
# solara.Markdown asks for KaTeX (math) on every mount, and solara-assets does not ship it.  The app's texts
# have no math, so these stand-ins answer instead: the page is complete with nothing fetched from outside.
KATEX_STUBS: dict[str, tuple[bytes, bytes]] = {
    "dist/katex.min.css": (b"text/css", b"/* KaTeX is not served: the app shows no math */\n"),
    "dist/katex.min.js": (
        b"application/javascript",
        b"define([], function () { return {render: function () {}}; });\n",
    ),
    "dist/contrib/auto-render.min.js": (
        b"application/javascript",
        b"define([], function () { return function renderMathInElement() {}; });\n",
    ),
}
KATEX_PREFIX = re.compile(r"katex@[0-9.]+/")
READY_TIMEOUT_S = 120.0
WS_MAX_BYTES = 256 * 1024  # a page sends clicks and short values; uvicorn's default was 16 MB
KEEP_ALIVE_S = 5  # an idle kept-alive HTTP connection is closed after this long
STOP_DEADLINE_S = 4.0  # after SIGTERM/SIGINT the process exits by then, even with a session still computing


class OriginError(ValueError):
    """An ``--allow-origin`` value that is not ``http(s)://host[:port]``."""


def normalise_origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case, the form browsers send in ``Origin``; raises OriginError."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OriginError(f"--allow-origin {url!r}: expected http://host[:port] or https://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise OriginError(f"--allow-origin {url!r}: an origin has no path, query or user (http://host[:port])")
    try:
        port = parts.port
    except ValueError as exc:
        raise OriginError(f"--allow-origin {url!r}: {exc}") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def configure_environment(scenario: str, allow_origins: Iterable[str] = ()) -> None:
    """Settings for Solara and the app, as environment variables (inherited by worker processes)."""
    os.environ.update(
        {
            "SOLARA_APP": APP_MODULE,
            "SOLARA_MODE": "production",
            "TOKENOMY_SCENARIO": scenario,
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            "SOLARA_THEME_TITLE": "Tokenomy",
            "SOLARA_THEME_SHOW_BANNER": "False",  # it sat over the charts; the About tab credits Solara
            "SOLARA_KERNEL_CULL_TIMEOUT": os.environ.get(CULL_TIMEOUT_ENV, DEFAULT_CULL_TIMEOUT),
            ALLOW_ORIGINS_ENV: json.dumps(sorted({normalise_origin(o) for o in allow_origins})),
        }
    )
    # reacton's renderer that skips the parts of the page whose state and arguments did not change: a Step
    # re-renders the Market tab's panels, not the sidebar's and tabs' 130 other widgets (REACTON_FAST=0 turns it off)
    os.environ.setdefault(REACTON_FAST_ENV, "1")


def _hostname(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def cdn_asset_path(cdn_dir: Path, path: str) -> Path | None:
    """The installed file behind ``/_solara/cdn/<path>`` (Solara's own layout), or None."""
    parts = path.split("/")
    store = Path(path) / "__main.js" if len(parts) == 1 else Path(path)
    candidate = (cdn_dir / store).resolve()
    root = cdn_dir.resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None
    return candidate


class Guard:
    """ASGI middleware: same-origin only, no host metrics, no fetching from the internet."""

    def __init__(self, app, allowed_origins: Iterable[str], cdn_dir: Path):
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)
        self.allowed_names = frozenset({"localhost"} | {urlsplit(o).hostname for o in self.allowed_origins})
        self.cdn_dir = cdn_dir

    def refusal(self, scope) -> tuple[int, str] | None:
        """(status, reason) when this request must not reach the app."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        name = _hostname(host).lower()
        if not (_is_ip_literal(name) or name in self.allowed_names):
            return 403, f"host {host!r} is not served here"
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.allowed_origins | {f"http://{host.lower()}"}:
            return 403, f"origin {origin!r} may not use this server"
        path = scope.get("path", "")
        if path in HIDDEN_PATHS or path.startswith(tuple(p + "/" for p in HIDDEN_PATHS)):
            return 404, "not found"
        if path.startswith(CDN_PREFIX) and cdn_asset_path(self.cdn_dir, path[len(CDN_PREFIX) :]) is None:
            return 404, "not an installed asset"
        return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            refused = self.refusal(scope)
            if refused is not None:
                status, reason = refused
                if status == 404 and (stub := katex_stub(scope.get("path", ""))) is not None:
                    await _respond(send, 200, *stub)
                    return
                if scope["type"] == "websocket":  # closing before accepting makes uvicorn answer 403
                    await send({"type": "websocket.close", "code": 1008, "reason": reason})
                    return
                await _respond(send, status, b"text/plain; charset=utf-8", (reason + "\n").encode())
                return
        await self.app(scope, receive, send)


def katex_stub(path: str) -> tuple[bytes, bytes] | None:
    """(content type, body) of the stand-in for a KaTeX file under the CDN path, or None."""
    if not path.startswith(CDN_PREFIX):
        return None
    rest = path[len(CDN_PREFIX) :]
    match = KATEX_PREFIX.match(rest)
    return KATEX_STUBS.get(rest[match.end() :]) if match else None


async def _respond(send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _never_fetch(url):
    raise RuntimeError(f"offline: not fetching {url}")


def _release_freed_memory() -> None:
    """Hand the heap's free pages back to the system (glibc); elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def watch_sessions(log: bool, period_s: float = 0.25, trim_delay_s: float = 2.0) -> None:
    """Forever: after sessions close (and Solara's collection that follows), return their memory to the
    system, else the server's resident size creeps up by about 0.6 MB per closed tab; with ``log``, say on
    stderr whenever this worker's count of open sessions changes."""
    from solara.server import kernel_context

    last, trim_at = None, None
    while True:
        count = len(kernel_context.contexts)
        if count != last:
            if log:
                print(f"tokenomy viz [pid {os.getpid()}]: {count} sessions open", file=sys.stderr, flush=True)
            if last is not None and count < last:
                trim_at = time.monotonic() + trim_delay_s
            last = count
        if trim_at is not None and time.monotonic() >= trim_at:
            _release_freed_memory()
            trim_at = None
        time.sleep(period_s)


def _exit_by_deadline(deadline_s: float) -> None:
    time.sleep(deadline_s)
    print(
        f"tokenomy viz [pid {os.getpid()}]: a session was still computing {deadline_s:g} s after the signal; "
        "stopping now",
        file=sys.stderr,
        flush=True,
    )
    sys.stdout.flush()
    os._exit(0)


_STOPPING = threading.Event()


def stop_by_deadline(deadline_s: float = STOP_DEADLINE_S) -> None:
    """From the first stop signal on, the process ends within ``deadline_s`` seconds.

    uvicorn stops gracefully, but it waits for every websocket's thread, and a thread blocked in a long
    computation (or in ``open()`` on a FIFO) would keep the process alive for ever; this ends it then."""
    if not _STOPPING.is_set():
        _STOPPING.set()
        threading.Thread(target=_exit_by_deadline, args=(deadline_s,), name="tokenomy-stop", daemon=True).start()


def arm_stop_deadline_on_signals() -> None:
    """Chain :func:`stop_by_deadline` before the current SIGTERM and SIGINT handlers (uvicorn's)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def handler(signum, frame, previous=previous) -> None:
            stop_by_deadline()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                raise SystemExit(128 + signum)

        with contextlib.suppress(ValueError):  # only the main thread may set handlers
            signal.signal(sig, handler)


def create_app():
    """The guarded Solara app (uvicorn's factory: every worker process builds its own)."""
    import solara.server.cdn_helper as cdn_helper
    import solara.server.settings as solara_settings
    from solara.server.starlette import app

    from tokenomy.viz import widget_guard
    from tokenomy.viz.server_log import configure_logging

    configure_logging()
    widget_guard.install()  # before the first session makes a widget
    arm_stop_deadline_on_signals()  # uvicorn has set its handlers by now (the factory runs inside serve())
    cdn_helper.fetch_from_cdn = _never_fetch  # a second lock behind the guard's 404
    # Solara warns on every page served over plain http from 127.0.0.1 that its cookie falls back to samesite=lax
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    threading.Thread(
        target=watch_sessions, args=(os.environ.get(SESSION_LOG_ENV) == "1",), name="tokenomy-sessions", daemon=True
    ).start()
    allowed = json.loads(os.environ.get(ALLOW_ORIGINS_ENV, "[]"))
    guarded = Guard(app, allowed, Path(solara_settings.assets.proxy_cache_dir))
    # Every worker loads the compiled kernels from disk now (about half a second), not on the first Step of a
    # session, which would hold the interpreter that all of this worker's sessions share while a class clicks.
    warm_up(os.environ.get("TOKENOMY_SCENARIO", "classroom"))
    return guarded


def probe_host(host: str) -> str:
    """Where this machine reaches a server bound to ``host``."""
    if host == "0.0.0.0":
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def wait_until_answering(url: str, timeout_s: float = READY_TIMEOUT_S, stop: threading.Event | None = None) -> bool:
    """Poll ``url`` until it answers 200; False on timeout or when ``stop`` is set."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    return False


def serve(
    scenario: str,
    host: str,
    port: int,
    allow_origins: Iterable[str] = (),
    workers: int = 1,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM; ``on_ready`` runs once the page answers.  Returns an exit code."""
    configure_environment(scenario, allow_origins)
    import uvicorn

    from tokenomy.viz.http_guard import GuardedH11Protocol, GuardedWebSocketProtocol
    from tokenomy.viz.server_log import configure_logging

    configure_logging()
    config = uvicorn.Config(
        "tokenomy.viz.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # uvicorn's records reach the rate-limited handler of server_log
        log_level="warning",
        access_log=False,
        loop="asyncio",
        http=GuardedH11Protocol,
        ws=GuardedWebSocketProtocol,
        ws_max_size=WS_MAX_BYTES,
        limit_concurrency=2 * GuardedH11Protocol.max_connections,  # tasks; connections are capped by the protocol
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=2,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    stop = threading.Event()

    def announce() -> None:
        if wait_until_answering(f"http://{probe_host(host)}:{port}/", stop=stop) and on_ready is not None:
            on_ready()

    threading.Thread(target=announce, name="tokenomy-ready", daemon=True).start()
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            sock = config.bind_socket()
            try:
                supervisor = Multiprocess(config, sockets=[sock])
            except TypeError:  # uvicorn before the health-checked workers took the target too
                supervisor = Multiprocess(config, target=server.run, sockets=[sock])
            supervisor.run()
        else:
            server.run()
    finally:
        stop.set()
        sys.stdout.flush()
    return 0 if server.started or workers > 1 else 1
