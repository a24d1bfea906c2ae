"""``tokenomy classroom replay`` and ``tokenomy classroom export``: a classroom game's file, headless.

``replay GAME.sqlite --out DIR`` reruns the game from its log (scenario, seed, every join, decision and round) and
writes its tables, the same files byte for byte as the live game wrote; ``export GAME.sqlite --out DIR`` writes
them in both CSV and Parquet.  The server that runs a class (``tokenomy classroom SCENARIO``) comes with the pages.
"""

from __future__ import annotations

import argparse

from tokenomy.abm.cli.argtypes import folder, input_file
from tokenomy.abm.errors import printable


def register(sub) -> dict:
    p = sub.add_parser("classroom", help="a classroom game's file: replay it headless, or export its tables")
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
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


def cmd_classroom(args: argparse.Namespace) -> int:
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
