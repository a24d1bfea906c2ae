"""One game, several processes (a server's worker processes): each opens the game's file shared and holds the whole
game; the log keeps them one game.  A student's calls may land in any of them, a round closes once, a call is
checked against what the others logged, and every copy plays the same days, bit for bit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from game_support import assert_same_tables, new_game

from tokenomy.abm.classroom.bots import Bot, varied
from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.classroom.game import Game
from tokenomy.agents import human


def _pair(tmp_path, *overrides):
    """(worker A's game, worker B's game, the teacher's token): one file opened shared twice."""
    a, teacher = Game.create(tmp_path / "game.sqlite", "classroom", seed=5, overrides=list(overrides), shared=True)
    b = Game.open(tmp_path / "game.sqlite", shared=True)
    return a, b, teacher


def _log(game: Game) -> list[tuple[str, dict]]:
    return [(e.kind, e.payload) for e in game.store.events()]


def test_students_whose_calls_land_in_either_worker_play_one_game_to_its_end(tmp_path):
    """Four students, each call to worker A or B in turn (as a page's requests land), the teacher on both: both
    copies end the game with the same tables, decisions and log, and a replay of the file gives the same tables."""
    a, b, teacher = _pair(tmp_path, "classroom.days_per_round=60")
    bots = [Bot(f"student {i}", varied, seed=i) for i in range(4)]
    for i, bot in enumerate(bots):
        bot.join((a, b)[i % 2])
    b.start(teacher)
    turn = 0
    while a.status != "ended" or b.status != "ended":
        played = len(a.history)
        for bot in bots:
            turn += 1
            bot.play((a, b)[turn % 2])  # the worker this request landed in
            b.sync()
            if len(a.history) != played or a.status == "ended":
                break
        if len(a.history) == played and a.status != "ended":
            (a, b)[turn % 2].close_round(teacher)
        b.sync()
        a.sync()
    assert a.model.day == b.model.day == a.days
    assert_same_tables(a.model, b.model)
    assert a.decision_log == b.decision_log and len(a.decision_log) > 0
    assert [(r.number, r.reason) for r in a.history] == [(r.number, r.reason) for r in b.history]
    assert all(set(bot.submitted) for bot in bots)  # every student decided rounds
    assert _log(a) == _log(b)
    a.close()
    b.close()
    again = Game.open(tmp_path / "game.sqlite")
    assert_same_tables(again.model, a.model)
    assert again.decision_log == a.decision_log
    again.close()


def test_a_round_closes_once_when_every_worker_sees_its_timer_run_out(tmp_path):
    a, b, teacher = _pair(tmp_path, "classroom.days_per_round=5", "classroom.round_seconds=10")
    a.start(teacher, now=0.0)
    assert b.seconds_left(0.0) == pytest.approx(10.0)  # B applied A's start before answering
    closed = [a.tick(11.0), b.tick(11.0), a.tick(11.5), b.tick(12.0)]
    assert closed == [True, False, False, False]
    closes = [p for kind, p in _log(a) if kind == "close"]
    assert closes == [{"round": 1, "reason": "timer"}]
    assert len(a.history) == len(b.history) == 1 and b.seconds_left(12.0) == pytest.approx(9.0)
    a.close()
    b.close()


def test_a_call_is_checked_against_what_the_other_worker_logged(tmp_path):
    """B has not looked at the log since A's events: its calls still see them first."""
    a, b, teacher = _pair(tmp_path, "classroom.seats=['cloud-a', 'cloud-b']")
    ann = a.join(a.code, "Ann")
    assert b.join(b.code, "Ann").firm == ann.firm  # the same name rejoins its firm, in either worker
    a.start(teacher)
    a.open_prediction(teacher, "token-price")
    a.predict(ann.token, 5.0)
    with pytest.raises(GameError, match="has sent a prediction already"):
        b.predict(ann.token, 6.0)  # one answer each, whichever worker took the first
    bo = b.join(b.code, "Bo")
    a.kick(teacher, "Bo")
    with pytest.raises(GameError, match="removed from the game"):
        b.submit(bo.token, {human.PRICE: 3.0})
    b.end(teacher)
    with pytest.raises(GameError, match="has ended"):
        a.submit(ann.token, {human.PRICE: 3.0})
    assert [kind for kind, _ in _log(a)].count("end") == 1
    a.close()
    b.close()


def test_a_game_held_by_one_server_cannot_be_shared_by_another_nor_the_other_way(tmp_path):
    game, _ = new_game(tmp_path)
    with pytest.raises(GameError, match="open in another process"):
        Game.open(tmp_path / "game.sqlite", shared=True)
    game.close()
    (tmp_path / "shared").mkdir()
    a, b, _ = _pair(tmp_path / "shared")
    with pytest.raises(GameError, match="open in another process"):
        Game.open(a.store.path)  # exclusively: its workers hold it
    a.close()
    b.close()


def test_a_decision_logged_by_another_process_reaches_this_one(tmp_path):
    """A real second process opens the game shared, seats a student and logs her decision, which closes the round
    (she is the only student); this process sees it all at its next look and has played the round with it."""
    a, teacher = Game.create(tmp_path / "game.sqlite", "classroom", seed=5, shared=True)
    a.start(teacher)
    script = textwrap.dedent(
        f"""
        from tokenomy.abm.classroom.game import Game
        g = Game.open({str(tmp_path / "game.sqlite")!r}, shared=True)
        t = g.join(g.code, "Cy")
        g.submit(t.token, {{"{human.PRICE}": 7.5}})
        print(t.firm)
        g.close()
        """
    )
    firm = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert len(a.history) == 0 and a.sync()
    assert "Cy" in {s.name for s in a.students.values()}
    assert [(r.number, r.reason) for r in a.history] == [(1, "all decided")]
    row = a.model.agents_table()
    mine = row[(row["name"] == firm) & (row["day"] == 0)]
    assert mine["price_cny_per_mtok"].iloc[0] == pytest.approx(7.5)
    assert not a.sync()  # nothing new since
    a.close()
