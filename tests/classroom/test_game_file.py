"""Nothing lost: the game's SQLite log resumes a game where it stood (after a kill too), a replay writes the live
game's tables byte for byte, and a file that is not a game of this version is refused in one line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from game_support import assert_same_tables, new_game, same_files

from tokenomy.abm.classroom.bots import STYLES, Bot, play_to_the_end
from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.classroom.game import Game
from tokenomy.abm.cli import main

SIX = [("Ann", "varied"), ("Bo", "keep"), ("Cy", "varied"), ("Di", "computer"), ("Ed", "varied"), ("Fay", "varied")]
OVERRIDES = ["classroom.days_per_round=30"]


def six_bots() -> list[Bot]:
    return [Bot(name, STYLES[style], seed=7) for name, style in SIX]


def _one_line(capsys, argv, *fragments) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_six_students_play_the_whole_horizon_and_the_replay_writes_the_same_files(tmp_path, capsys):
    game, teacher = new_game(tmp_path, *OVERRIDES)
    bots = six_bots()
    play_to_the_end(game, bots, teacher)
    assert game.status == "ended" and len(game.history) == game.rounds == 13 and game.model.day == 365
    assert [b.firm for b in bots] == ["cloud-a", "cloud-b", "west-aidc", "east-aidc", "east-battery", "west-power"]
    assert all(b.submitted == list(range(1, 14)) for b in bots)
    decisions = game.write_tables(tmp_path / "live", ("parquet", "csv"))
    game.close()
    assert main(["classroom", "replay", str(tmp_path / "game.sqlite"), "--out", str(tmp_path / "replay")]) == 0
    assert main(["classroom", "export", str(tmp_path / "game.sqlite"), "--out", str(tmp_path / "export")]) == 0
    capsys.readouterr()
    names = same_files(tmp_path / "live", tmp_path / "export")
    assert set(names) == {
        f"{t}.{x}"
        for t in ("decisions", "predictions", "rounds", "daily", "hourly", "agents")
        for x in ("csv", "parquet")
    } | {"run.json"}
    for name in decisions:
        if name.endswith(".parquet"):
            assert (tmp_path / "replay" / name).read_bytes() == (tmp_path / "live" / name).read_bytes(), name
    table = pd.read_csv(tmp_path / "export" / "decisions.csv")
    assert len(table) == 6 * 13  # every bot's firm, every round
    assert table.groupby("firm").size().to_dict() == {b.firm: 13 for b in bots}
    rounds = pd.read_parquet(tmp_path / "export" / "rounds.parquet")
    assert rounds["round"].tolist() == list(range(1, 14)) and (rounds.reason == "all decided").all()
    assert rounds.end_day.iloc[-1] == 365 and (rounds.firms_decided == 6).all()
    daily = pd.read_parquet(tmp_path / "export" / "daily.parquet")
    for r in rounds.itertuples():  # each round's market means, against the daily table's own rows
        days = daily.iloc[r.first_day : r.end_day]
        assert r.mean_token_price_cny_per_mtok == pytest.approx(days.token_price_cny_per_mtok.mean(), rel=1e-12)
        assert r.mean_tokens_unserved_mtok == pytest.approx(days.tokens_unserved_mtok.mean(), rel=1e-12, abs=1e-9)
    # what the log says each firm decided is what the decisions table holds
    with sqlite3.connect(tmp_path / "game.sqlite") as conn:
        submits = conn.execute("SELECT COUNT(*) FROM events WHERE kind = 'submit'").fetchone()[0]
    assert submits == 6 * 13


CHILD = textwrap.dedent(
    """
    import sys
    from tokenomy.abm.classroom.game import Game
    from tokenomy.abm.classroom import bots as b
    sys.path.insert(0, sys.argv[2])
    from test_game_file import OVERRIDES, six_bots

    game, teacher = Game.create(sys.argv[1], "classroom", seed=5, overrides=OVERRIDES)
    print(teacher, flush=True)
    play = six_bots()
    for bot in play:
        bot.join(game)
    game.start(teacher)
    while game.status != "ended":
        before = len(game.history)
        for bot in play:
            if len(game.history) != before:
                break
            bot.play(game)
        print("round", len(game.history), flush=True)
    """
)


def test_a_game_killed_mid_round_resumes_and_ends_with_the_uninterrupted_games_tables(tmp_path):
    path = tmp_path / "killed.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), os.path.dirname(__file__)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        teacher = child.stdout.readline().strip()
        assert teacher, child.stderr.read()
        while child.stdout.readline().strip() != "round 4":
            assert child.poll() is None, child.stderr.read()
        child.send_signal(signal.SIGKILL)  # somewhere in round 5's decisions or days
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    resumed = Game.open(path)
    assert 4 <= len(resumed.history) < 13 and resumed.status == "running"
    assert resumed.model.day == 30 * len(resumed.history)
    play_to_the_end(resumed, six_bots(), teacher)
    whole, whole_teacher = new_game(tmp_path, *OVERRIDES, name="whole.sqlite")
    play_to_the_end(whole, six_bots(), whole_teacher)
    assert_same_tables(resumed.model, whole.model)
    resumed.write_tables(tmp_path / "resumed", "csv")
    whole.write_tables(tmp_path / "whole", "csv")
    for name in ("decisions.csv", "daily.csv", "hourly.csv", "agents.csv"):
        assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    resumed.close()
    whole.close()


def test_a_game_reopened_stands_where_it_stood(tmp_path):
    game, teacher = new_game(tmp_path, *OVERRIDES)
    ann = game.join(game.code, "Ann", now=5.0)
    game.start(teacher, now=10.0)
    game.submit(ann.token, {"price_cny_per_mtok": 4.5}, now=12.0)  # closes round 1
    game.submit(ann.token, {"price_cny_per_mtok": 4.25}, now=13.0)  # closes round 2
    game.pause(teacher, now=20.0)
    bo = game.join(game.code, "Bo", now=21.0)
    game.submit(bo.token, {"price_cny_per_mtok": 6.0}, now=22.0)  # paused: kept, the round waits
    view = game.seat_view(ann.token, now=30.0)
    game.close()
    again = Game.open(tmp_path / "game.sqlite")
    assert again.seat_view(ann.token, now=30.0) == view
    assert again.status == "paused" and again.seconds_left(30.0) == game.seconds_left(30.0)
    assert_same_tables(again.model, game.model)
    with pytest.raises(GameError, match="open in another process"):
        Game.open(tmp_path / "game.sqlite")  # a game lives in one place
    again.resume(teacher, now=40.0)  # Ann has not decided round 3: it stays open
    assert len(again.history) == 2
    again.submit(ann.token, {"price_cny_per_mtok": 4.0}, now=41.0)  # Bo decided before the restart: this closes
    assert len(again.history) == 3
    assert [(d["firm"], d["price_cny_per_mtok"], d["at"]) for d in again.decision_log[-2:]] == [
        ("cloud-a", 4.0, 41.0),
        ("cloud-b", 6.0, 22.0),
    ]
    again.close()


def _game_file(tmp_path):
    game, _ = new_game(tmp_path)
    game.close()
    return tmp_path / "game.sqlite"


def test_files_that_are_not_a_game_of_this_version_are_refused_in_one_line(tmp_path, capsys):
    out = str(tmp_path / "out")
    _one_line(capsys, ["classroom", "replay", str(tmp_path / "none.sqlite"), "--out", out], "no such game file")
    text = tmp_path / "text.sqlite"
    text.write_text("hello\n" * 100)
    _one_line(capsys, ["classroom", "export", str(text), "--out", out], "not a Tokenomy classroom game")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    _one_line(
        capsys, ["classroom", "replay", str(other), "--out", out], "not a Tokenomy classroom game (no game tables)"
    )
    newer = _game_file(tmp_path)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'version'")
    _one_line(capsys, ["classroom", "replay", str(newer), "--out", out], "format version '99'", "reads version 1")
    (tmp_path / "b").mkdir()
    damaged = _game_file(tmp_path / "b")
    raw = bytearray(damaged.read_bytes())
    raw[4096 : 3 * 4096] = b"\xff" * (2 * 4096)  # the second and third pages: tables and their contents
    damaged.write_bytes(bytes(raw))
    _one_line(capsys, ["classroom", "replay", str(damaged), "--out", out], str(damaged))
    (tmp_path / "c").mkdir()
    bad_log = _game_file(tmp_path / "c")
    with sqlite3.connect(bad_log) as conn:
        conn.execute("INSERT INTO events (kind, payload, at) VALUES ('launch', '{}', 0)")
    _one_line(capsys, ["classroom", "replay", str(bad_log), "--out", out], "an event this version does not know")
    _one_line(capsys, ["classroom", "replay", str(bad_log)], "the following arguments are required: --out")
    _one_line(capsys, ["classroom", "rewind", str(bad_log)], "invalid choice")
    assert not (tmp_path / "out").exists()


def test_a_new_game_never_overwrites_a_file(tmp_path):
    keep = tmp_path / "game.sqlite"
    keep.write_text("a student's notes")
    with pytest.raises(GameError, match="already exists"):
        Game.create(keep)
    assert keep.read_text() == "a student's notes"
    os.symlink(tmp_path / "elsewhere", tmp_path / "link.sqlite")
    with pytest.raises(GameError):
        Game.create(tmp_path / "link.sqlite")
    assert not (tmp_path / "elsewhere").exists()


def test_a_game_of_a_users_scenario_file_keeps_that_scenario_as_it_was_read(tmp_path):
    """The file holds the scenario's data (its base merged), so the game reopens the same when the scenario file
    has changed or is gone; a start given as a date-time stays one."""
    scenario = tmp_path / "mine.toml"
    scenario.write_text('[scenario]\nname = "mine"\nbase = "classroom"\nstart_date = 2025-03-01T08:00:00\n')
    game, teacher = Game.create(tmp_path / "g.sqlite", scenario, seed=2, overrides=["classroom.days_per_round=60"])
    game.start(teacher)
    game.close_round(teacher)
    assert str(game.model.start_date).startswith("2025-03-01")
    daily = game.model.daily_table()
    game.close()
    scenario.write_text("this is no longer a scenario")
    again = Game.open(tmp_path / "g.sqlite")
    assert again.model.day == 60 and again.scenario.name == "mine"
    pd.testing.assert_frame_equal(again.model.daily_table(), daily, check_exact=True)
    again.close()
