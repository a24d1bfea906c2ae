"""``tokenomy viz``: serve the browser app.

The app lives in the ``viz`` package, which imports ``abm`` (never the other way round), so the server
is started as ``solara run viz.app`` in a child process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from tokenomy.abm.errors import UsageError
from tokenomy.abm.scenarios import scenario_path
from tokenomy.abm.warmup import ensure_compiled


def register(sub) -> dict:
    p = sub.add_parser("viz", help="serve the browser app (Solara) on 127.0.0.1")
    p.add_argument("scenario", nargs="?", default="classroom", help="scenario to open (default classroom)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--host", default="127.0.0.1")
    return {"viz": run_viz}


def server_command(args: argparse.Namespace) -> list[str]:
    solara_exe = shutil.which("solara", path=os.path.dirname(sys.executable)) or shutil.which("solara")
    if solara_exe is None:
        raise UsageError("tokenomy viz needs Solara: pip install 'tokenomy[viz]'")
    return [solara_exe, "run", "tokenomy.viz.app", "--host", args.host, "--port", str(args.port), "--production",
            "--no-open"]


def server_env(scenario: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TOKENOMY_SCENARIO": scenario, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
                "SOLARA_THEME_TITLE": "Tokenomy"})
    return env


def run_viz(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: must be between 1 and 65535")
    scenario_path(args.scenario)  # a wrong name fails here, with one line
    cmd = server_command(args)
    ensure_compiled(args.scenario)  # compiled kernels on disk before the first click (slow only once)
    print(f"Tokenomy is serving {args.scenario} at http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, env=server_env(args.scenario))
    except KeyboardInterrupt:
        return 0
