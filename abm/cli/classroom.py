"""``tokenomy classroom``: run a class's game in the browser, or a game's file headless.

``classroom SCENARIO [--seed S] [--host H] [--port P] [--game FILE]`` serves a game (a new one in a new file in
``--games-dir``, or the game in ``--game FILE`` resumed where it stood) and prints the teacher's address (with the
teacher's key: only the teacher gets it) and the students' join address.  With ``--workers N`` the server runs N
worker processes, each holding the game shared (its log keeps them one game: :mod:`tokenomy.abm.classroom.game`);
this process makes or resumes the game and keeps it from any other server.  ``replay GAME.sqlite --out DIR`` reruns the
game from its log (scenario, seed, every join, decision and round) and writes its tables, the same files byte for
byte as the live game wrote; ``export GAME.sqlite --out DIR`` writes them in both CSV and Parquet.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

from tokenomy.abm.cli.argtypes import folder, input_file, whole_number
from tokenomy.abm.environment import (
    CHECKS,
    CLASSROOM_ENV,
    CLASSROOM_GAME_ENV,
    DEFAULT_GAMES_DIR,
    GAMES_DIR_ENV,
    PUBLIC_URL_ENV,
    VIZ_WORKERS_ENV,
)
from tokenomy.abm.errors import UsageError, printable

ACTIONS = ("replay", "export", "serve")
MAX_SEED = 2**31 - 1


def register(sub) -> dict:
    p = sub.add_parser(
        "classroom",
        help="run a class's game in the browser (tokenomy classroom SCENARIO), or replay/export a game's file",
    )
    p.__class__ = _classroom_parser(type(p))
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p).__bases__[0])
    serve = actions.add_parser("serve", help="serve a game to a class (the default: tokenomy classroom SCENARIO)")
    serve.add_argument("scenario", nargs="?", default="classroom", help="scenario to play (default classroom)")
    serve.add_argument("--seed", type=whole_number(0, maximum=MAX_SEED), help="random seed (default: the scenario's)")
    serve.add_argument("--game", type=input_file, help="resume the game in this file (after a restart)")
    serve.add_argument("--games-dir", type=folder, default=Path(DEFAULT_GAMES_DIR), help="where a new game's file goes")
    serve.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a scenario value")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface, for a class's network)"
    )
    serve.add_argument("--allow-origin", action="append", default=[], metavar="URL")
    serve.add_argument(
        "--workers", type=int, default=1, help="server worker processes (default 1; each holds the game, shared)"
    )
    replay = actions.add_parser("replay", help="rerun a game from its file and write its tables")
    replay.add_argument("game", type=input_file, help="the game's file (GAME.sqlite)")
    replay.add_argument("--out", type=folder, required=True, help="output folder")
    replay.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    export = actions.add_parser(
        "export", help="write a game's tables (decisions, predictions, rounds, daily, hourly, agents)"
    )
    export.add_argument("game", type=input_file, help="the game's file (GAME.sqlite)")
    export.add_argument("--out", type=folder, required=True, help="output folder")
    return {"classroom": cmd_classroom}


def _classroom_parser(base: type) -> type:
    """The classroom parser: ``tokenomy classroom SCENARIO ...`` (no action named) is ``serve``."""

    class ClassroomParser(base):
        def parse_known_args(self, args=None, namespace=None):
            args = list(args or [])
            if args and args[0] not in ACTIONS and args[0] not in ("-h", "--help"):
                if len(args) > 1 and not args[0].startswith("-") and not args[1].startswith("-"):
                    # two words: a mistyped action (`classroom rewind GAME.sqlite`), not a scenario to serve
                    raise UsageError(
                        f"tokenomy classroom: invalid choice: {args[0][:40]!r} (choose from replay, export; or "
                        "serve a game: tokenomy classroom SCENARIO [--seed S] ...)"
                    )
                args = ["serve", *args]
            elif not args:
                args = ["serve"]
            return super().parse_known_args(args, namespace)

    return ClassroomParser


def cmd_classroom(args: argparse.Namespace) -> int:
    if args.action == "serve":
        return serve_class(args)
    from tokenomy.abm.classroom.game import Game
    from tokenomy.abm.output import check_run_folder
    from tokenomy.abm.warmup import ensure_compiled

    check_run_folder(args.out)  # before the game is rerun
    ensure_compiled(progress=False)
    game = Game.open(args.game)
    try:
        formats = (args.format,) if args.action == "replay" else ("csv", "parquet")
        files = game.write_tables(args.out, formats)
        played = f"{len(game.history)} of {game.rounds} rounds, {game.model.day} days"
        print(printable(f"{game.scenario.name} game {game.code} ({game.status}, {played}): {len(files)} tables"))
        print(printable(f"  in {args.out}/ ({', '.join(formats)})"))
    finally:
        game.close()
    return 0


def lan_address() -> str:
    """This machine's address on its network (what a student's browser reaches), or 127.0.0.1."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))  # nothing is sent: this only picks the interface of the default route
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"


def public_base(host: str, port: int) -> str:
    """The server's address as a browser writes it: the network's address when it listens on every interface."""
    if host in ("0.0.0.0", "::"):
        host = lan_address()
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def worker_settings(base: str, workers: int, games_dir: Path, game_path: Path) -> dict[str, str]:
    """The environment the server's workers get: a class (``/`` is the join page), the address students reach, the
    number of workers, the games folder and the game served (each within the bounds its check allows)."""
    return {
        CLASSROOM_ENV: "1",
        PUBLIC_URL_ENV: base,
        VIZ_WORKERS_ENV: str(workers),
        GAMES_DIR_ENV: str(games_dir),
        CLASSROOM_GAME_ENV: str(Path(game_path).absolute()),
    }


def serve_class(args: argparse.Namespace) -> int:
    from tokenomy.abm.cli.viz import MAX_WORKERS, check_host, check_port_free
    from tokenomy.abm.scenarios import load_scenario
    from tokenomy.abm.warmup import ensure_compiled
    from tokenomy.viz.server import OriginError, normalise_origin

    held = []  # the game this process keeps from other servers while its workers serve it
    check_host(args.host)
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: must be between 1 and 65535")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers {args.workers}: must be between 1 and {MAX_WORKERS}")
    if args.game is not None and (args.seed is not None or args.set):
        raise UsageError("--game resumes a game as it was made: --seed and --set do not apply to it")
    problem = CHECKS[GAMES_DIR_ENV](str(args.games_dir))  # the workers get it as TOKENOMY_GAMES_DIR: the same bounds
    if problem is not None:
        raise UsageError(f"--games-dir {str(args.games_dir)[:200]!r}: {problem}")
    try:
        origins = [normalise_origin(o) for o in args.allow_origin]
    except OriginError as exc:
        raise UsageError(str(exc)) from None
    if args.game is None:
        load_scenario(args.scenario, list(args.set))  # a wrong name or value: one line, before anything is made
    check_port_free(args.host, args.port)
    ensure_compiled(args.scenario if args.game is None else "classroom")

    base = public_base(args.host, args.port)
    # no Solara before the server sets it up
    from tokenomy.viz.classroom.hub import HUB, clock, make_game, read_key, resume_game, teacher_address

    if args.workers == 1:  # this process serves: the game is held here, exclusively
        if args.game is None:
            hosted, key = HUB.create(args.games_dir, args.scenario, seed=args.seed, overrides=tuple(args.set))
        else:
            hosted = HUB.open(args.game)
            key = read_key(hosted.game, hosted.path)
        game, path = hosted.game, hosted.path
    else:  # the workers serve: this process makes or resumes the game, then shares it with them (and no other server)
        if args.game is None:
            game, path, key = make_game(args.games_dir, args.scenario, args.seed, tuple(args.set), clock(), False)
        else:
            game, path = resume_game(args.game, clock()), Path(args.game)
            key = read_key(game, path)
        game.store.share()
        held.append(game)
    # the server's settings, once the game is open (a refused game leaves this process as it was)
    os.environ.update(worker_settings(base, args.workers, args.games_dir, path))

    def announce() -> None:
        state = "resumed (paused: press Resume)" if game.status == "paused" and args.game else game.status
        print(printable(f"Tokenomy classroom: {game.scenario.name} game {game.code} ({state})"), flush=True)
        print(printable(f"  game file:  {path}"), flush=True)
        if key is not None:
            print(printable(f"  teacher:    {base}{teacher_address(game.code, key)}  (yours alone)"), flush=True)
        else:
            print("  teacher:    open the teacher's link you were given when the game was made", flush=True)
        print(printable(f"  students:   {base}/join?code={game.code}  (or {base}/ and the code)"), flush=True)
        print("  (Ctrl-C to stop; `tokenomy classroom --game FILE` resumes the game)", flush=True)

    from tokenomy.viz.server import serve

    try:
        return serve(args.scenario, args.host, args.port, origins, workers=args.workers, on_ready=announce)
    except KeyboardInterrupt:
        return 0
    finally:
        HUB.close_all()
        for game in held:
            game.close()
