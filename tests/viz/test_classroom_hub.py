"""The hub that holds a server's games: found by the join code only, rounds closed by its clock with no page open,
the teacher's key kept beside the game's file for its owner only, and a game resumed after a restart held paused."""

from __future__ import annotations

import os
import stat

import pytest

from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.viz.classroom.hub import Hub, key_path, read_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hub():
    clock = Clock()
    hub = Hub(clock)
    yield hub, clock
    hub.close_all()


def test_a_game_is_found_by_its_code_only(hub, tmp_path):
    hub, _ = hub
    a, _ = hub.create(tmp_path, "classroom", seed=1, overrides=("classroom.round_seconds=30",))
    b, _ = hub.create(tmp_path, "classroom", seed=2)
    assert a.game.code != b.game.code
    assert hub.find(a.game.code) is a and hub.find(f" {b.game.code.lower()} ") is b
    for bad in ("", "ZZZZZZ", a.game.code + "X", None, 12, "A" * 10_000, a.game.code[:-1]):
        with pytest.raises(AuthError, match="no game has that join code"):
            hub.find(bad)


def test_the_clock_closes_a_round_on_its_timer_and_wakes_the_pages(hub, tmp_path):
    hub, clock = hub
    hosted, key = hub.create(tmp_path, "classroom", seed=1, overrides=("classroom.round_seconds=30",))
    game = hosted.game
    hub.act(hosted, game.join, game.code, "Ann")
    hub.act(hosted, game.start, key)
    seen = hosted.version
    clock.now += 29.0
    hub.tick()
    assert len(game.history) == 0 and hosted.version == seen
    clock.now += 1.5
    hub.tick()
    assert len(game.history) == 1 and game.history[0].reason == "timer"
    assert hosted.wait(seen, 0.01) > seen  # a page waiting on the game is woken


def test_the_teachers_key_is_kept_for_its_owner_and_a_resumed_game_is_held(hub, tmp_path):
    hub, clock = hub
    hosted, key = hub.create(tmp_path, "classroom", seed=1)
    path = hosted.path
    kept = key_path(path)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert read_key(hosted.game, path) == key
    assert key.encode() not in path.read_bytes()  # the game's file keeps a hash only: it can be shared
    hub.act(hosted, hosted.game.join, hosted.game.code, "Ann")
    hub.act(hosted, hosted.game.start, key)
    hub.close_all()
    clock.now += 3_600.0  # the server was down an hour
    again = hub.open(path)
    assert again.game.status == "paused" and len(again.game.history) == 0
    hub.act(again, again.game.resume, key)
    assert again.game.seconds_left(clock.now) == pytest.approx(again.game.round_seconds)
    kept.write_text("someone else's key\n")
    assert read_key(again.game, path) is None  # a key that does not open this game is not said
    with pytest.raises(GameError, match="open in another process"):
        hub.open(path)  # a game lives in one place
