"""The two acts the classroom's pages added to the game: the teacher's round timer (logged, so a resumed game keeps
it) and the server's pause of a running game it resumes after a restart (no token: the teacher resumes it)."""

from __future__ import annotations

import pytest
from game_support import new_game

from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.abm.classroom.game import Game


@pytest.fixture
def game(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.days_per_round=10", "classroom.round_seconds=60")
    yield game, teacher, tmp_path / "game.sqlite"
    game.close()


def test_the_timer_is_the_teachers_its_bounds_are_said_and_a_resumed_game_keeps_it(game):
    game, teacher, path = game
    student = game.join(game.code, "Ann", now=0.0)
    with pytest.raises(AuthError):
        game.set_timer(student.token, 30, now=1.0)
    for bad in (3, 4000, -1, float("nan"), True, "30"):
        with pytest.raises(GameError) as info:
            game.set_timer(teacher, bad, now=1.0)
        assert "round timer" in str(info.value)
    game.start(teacher, now=10.0)
    assert game.seconds_left(40.0) == pytest.approx(30.0)  # 60 s from the start
    game.set_timer(teacher, 20, now=40.0)  # the open round's clock starts again, with 20 s
    assert game.seconds_left(45.0) == pytest.approx(15.0)
    assert not game.tick(59.0) and game.tick(60.5)  # closed by the new timer
    assert game.history[-1].reason == "timer"
    game.set_timer(teacher, 0, now=61.0)  # off: only decisions and the teacher close rounds
    assert game.seconds_left(10_000.0) is None and not game.tick(10_000.0)
    game.close()
    again = Game.open(path)
    try:
        assert again.round_seconds == 0.0 and len(again.history) == 1
    finally:
        again.close()


def test_a_running_game_held_by_the_server_waits_for_the_teacher_and_its_timer_stands_still(game):
    game, teacher, path = game
    game.join(game.code, "Ann", now=0.0)
    game.hold(now=1.0)  # in the lobby: nothing to hold
    assert game.status == "lobby"
    game.start(teacher, now=10.0)
    game.close()
    resumed = Game.open(path)  # as a restarted server does, long after: the round had 60 s
    try:
        resumed.hold(now=500.0)
        assert resumed.status == "paused"
        assert not resumed.tick(5_000.0)  # the clock stands still while paused
        resumed.resume(teacher, now=5_000.0)
        assert resumed.seconds_left(5_000.0) == pytest.approx(60.0)  # the round has its whole time again
        assert not resumed.tick(5_059.0) and resumed.tick(5_060.5)
    finally:
        resumed.close()
