"""A game's tables: the model's (daily, hourly, agents), the decisions that went into each round, the class's
predictions, and the rounds.

The live game and its replay write them through this one function, so the same log gives the same files, byte for
byte.  The folder is written as a run's is (:func:`abm.output.staged_run_folder`): whole or not at all, never over
files a game or run did not write.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tokenomy.abm.classroom.decisions import role_fields
from tokenomy.abm.output import staged_run_folder, write_json, write_table

if TYPE_CHECKING:
    from tokenomy.abm.classroom.game import Game

FORMATS = ("parquet", "csv")


def decision_columns(game: Game) -> list[str]:
    """Every decision field of the game's roles, in the order of the roles."""
    return [f.name for f in role_fields_of(game)]


def decisions_frame(game: Game) -> pd.DataFrame:
    """One row per firm and round it decided: who submitted the decision that counted, when, and its fields (empty
    where that field was left to the computer)."""
    fields = decision_columns(game)
    rows = [{k: row.get(k) for k in ("round", "firm", "role", "by", "at", *fields)} for row in game.decision_log]
    frame = pd.DataFrame(rows, columns=["round", "firm", "role", "by", "at", *fields])
    for f in role_fields_of(game):
        if f.kind != "str":
            frame[f.name] = pd.to_numeric(frame[f.name], errors="raise").astype("float64")
    return frame.astype({"round": "int64", "firm": "object", "role": "object", "by": "object", "at": "float64"})


def role_fields_of(game: Game) -> list:
    """The decision fields of the game's roles (each name once), in the order of the roles."""
    roles = list(dict.fromkeys(f.role for f in game.firms))
    seen: dict[str, object] = {}
    for role in roles:
        for f in role_fields(role, game.data):
            seen.setdefault(f.name, f)
    return list(seen.values())


ROUND_MEANS = (
    "token_price_cny_per_mtok",
    "compute_price_cny_per_gpu_hour",
    "tokens_served_mtok",
    "tokens_unserved_mtok",
)


def rounds_frame(game: Game) -> pd.DataFrame:
    """One row per round played: its days, how it closed, how many firms had decided, when it closed, and the
    markets' daily means over its days (the debrief's prices and quantities round by round)."""
    start = pd.Timestamp(game.model.start_date)
    daily = game.model.recorder.daily
    means = {
        f"mean_{name}": pd.Series(
            [float(daily.column(name)[r.first_day : r.end_day, 0].mean()) for r in game.history], dtype="float64"
        )
        for name in ROUND_MEANS
    }
    return pd.DataFrame(
        {
            "round": pd.Series([r.number for r in game.history], dtype="int64"),
            "first_day": pd.Series([r.first_day for r in game.history], dtype="int64"),
            "end_day": pd.Series([r.end_day for r in game.history], dtype="int64"),
            "first_date": pd.Series(
                [start + pd.Timedelta(days=r.first_day) for r in game.history], dtype="datetime64[ns]"
            ),
            "reason": pd.Series([r.reason for r in game.history], dtype="object"),
            "firms_decided": pd.Series([len(r.decided) for r in game.history], dtype="int64"),
            "decided": pd.Series(
                [" ".join(k.split("/", 1)[1] for k in r.decided) for r in game.history], dtype="object"
            ),
            "closed_at": pd.Series([r.closed_at for r in game.history], dtype="float64"),
            **means,
        }
    )


def predictions_frame(game: Game) -> pd.DataFrame:
    """One row per student's answer to each question put to the class (a question nobody answered: one row with
    no name), with the value measured once its round was played (empty before)."""
    from tokenomy.abm.classroom.predictions import predictions_frame_rows

    columns = ["prediction", "round", "question", "unit", "name", "value", "actual"]
    frame = pd.DataFrame(predictions_frame_rows(game), columns=columns)
    return frame.astype(
        {"prediction": "int64", "round": "int64", "question": "object", "unit": "object", "name": "object"}
    ).astype({"value": "float64", "actual": "float64"})


def game_tables(game: Game) -> dict[str, pd.DataFrame]:
    m = game.model
    return {
        "decisions": decisions_frame(game),
        "predictions": predictions_frame(game),
        "rounds": rounds_frame(game),
        "daily": m.daily_table(),
        "hourly": m.hourly_table(),
        "agents": m.agents_table(),
    }


def write_game_tables(game: Game, out: Path, formats: str | tuple[str, ...] = "parquet") -> list[str]:
    """The game's tables in ``formats`` (one of :data:`FORMATS`, or several) into the folder ``out``; the names of
    the files written."""
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    tables = game_tables(game)
    with staged_run_folder(out) as staged:
        files = [write_table(frame, staged, name, fmt).name for fmt in formats for name, frame in tables.items()]
        record = {
            "game": "tokenomy classroom",
            "scenario": game.scenario.name,
            "seed": game.seed,
            "rounds_played": len(game.history),
            "days": int(game.model.day),
            "files": sorted(files),
        }
        write_json(record, staged / "run.json")
    return files
