"""``tokenomy viz``: serve the browser app.

The server runs in this process (see ``tokenomy.viz.server``): Ctrl-C or SIGTERM stops everything it
started.  Only the served page itself (and origins given with ``--allow-origin``) may use it.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import socket

from tokenomy.abm.environment import MAX_VIZ_WORKERS, PUBLIC_URL_ENV, VIZ_WORKERS_ENV
from tokenomy.abm.errors import UsageError, printable

MAX_WORKERS = MAX_VIZ_WORKERS  # also the bound of TOKENOMY_VIZ_WORKERS, which this sets for the server
EVERY_INTERFACE = ("0.0.0.0", "::")


def register(sub) -> dict:
    p = sub.add_parser("viz", help="serve the browser app (Solara) on 127.0.0.1")
    p.add_argument("scenario", nargs="?", default="classroom", help="scenario to open (default classroom)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 or :: serves every network "
        "interface, so anyone who can reach this machine)",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another origin whose pages may use the app, e.g. http://classroom.local:8765 "
        "(repeatable; the served address itself is always allowed)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help=f"server processes (1..{MAX_WORKERS}); a session stays in the process it connected to",
    )
    return {"viz": run_viz}


def check_port_free(host: str, port: int) -> None:
    """A one-line UsageError when ``host:port`` cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        reason = "already in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise UsageError(f"--host {host} --port {port}: cannot listen there ({reason})") from None


def check_host(host: str) -> None:
    """An empty or blank ``--host`` would listen on every interface without saying so: refused."""
    if not host.strip():
        raise UsageError(
            f"--host {host!r}: give an address: 127.0.0.1 (this machine only), or 0.0.0.0 or :: to serve "
            "every network interface"
        )
    if host != host.strip():
        raise UsageError(f"--host {host!r}: an address has no spaces")


def run_viz(args: argparse.Namespace) -> int:
    from tokenomy.abm.scenarios import load_scenario
    from tokenomy.abm.warmup import ensure_compiled
    from tokenomy.viz.server import OriginError, normalise_origin, serve

    check_host(args.host)
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: must be between 1 and 65535")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers {args.workers}: must be between 1 and {MAX_WORKERS}")
    try:
        origins = [normalise_origin(o) for o in args.allow_origin]
    except OriginError as exc:
        raise UsageError(str(exc)) from None
    load_scenario(args.scenario)  # a wrong name or a bad value fails here, with one line, not in the server
    check_port_free(args.host, args.port)
    if importlib.util.find_spec("solara") is None:
        raise UsageError("tokenomy viz needs Solara: pip install tokenomy (it is a dependency)")
    ensure_compiled(args.scenario)  # compiled kernels on disk before the first click (slow only once)

    from tokenomy.abm.cli.classroom import public_base

    # "Run a class" on the start screen: a game needs the one process that holds it, and its join link the
    # address students reach (see tokenomy.viz.classroom.hub)
    os.environ[VIZ_WORKERS_ENV] = str(args.workers)
    os.environ.setdefault(PUBLIC_URL_ENV, public_base(args.host, args.port))  # a user's own, checked at start, stays
    if args.host in EVERY_INTERFACE:
        print(
            f"Listening on every network interface ({args.host}): anyone who can reach this machine on port "
            f"{args.port} can use the app.",
            flush=True,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host

    def announce() -> None:
        where = printable(f"{args.scenario} at http://{shown}:{args.port}/")
        print(f"Tokenomy is serving {where}  (Ctrl-C to stop)", flush=True)

    try:
        return serve(args.scenario, args.host, args.port, origins, workers=args.workers, on_ready=announce)
    except KeyboardInterrupt:
        return 0
