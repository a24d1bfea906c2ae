"""The hub that holds a server's games: found by the join code only, rounds closed by its clock with no page open,
the teacher's key kept beside the game's file for its owner only, and a game resumed after a restart held paused."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.abm.classroom.game import Game
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


def test_a_round_another_worker_played_wakes_the_pages_even_when_a_page_read_it_first(hub, tmp_path):
    """Two workers share a game file.  A page's reading syncs the game from the log (``seat_view`` and the others read
    through it): news it takes in -- here a round the other worker played -- must still wake every page of this
    process at the next tick, or they stay on the old round (seen in CI: one worker's pages never showed round 1)."""
    hub, clock = hub
    hub._ticker = threading.current_thread()  # no clock thread of its own: this test ticks by hand, in order
    hosted, key = hub.create(tmp_path, "classroom", seed=1)
    here = hosted.game
    here.store.share()
    there = Game.open(hosted.path, shared=True)  # the other worker's copy of the game
    try:
        hub.act(hosted, here.join, here.code, "Ann")
        hub.act(hosted, here.start, key)
        hub.tick()
        seen = hosted.version
        there.close_round(key, clock.now)  # the other worker plays round 1
        here.sync()  # a page of this worker reads the game first (as a redraw does), taking the round in
        assert len(here.history) == 1
        hub.tick()
        assert hosted.wait(seen, 0.01) > seen  # the pages are woken all the same
        seen = hosted.version
        hub.tick()
        assert hosted.version == seen  # and once: nothing new, no wake
    finally:
        there.close()


def test_the_clock_ticks_on_after_a_tick_fails(hub, tmp_path, monkeypatch, caplog):
    """A tick that raises (anything, not only a game's error) is logged, and the clock goes on: a clock thread that
    died would leave every game of the process without its timer, and another worker's rounds unseen by its pages."""
    hub, _ = hub
    calls = []

    def tick() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("a tick that fails")

    monkeypatch.setattr(hub, "tick", tick)
    threading.Thread(target=hub._tick_forever, daemon=True).start()
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    monkeypatch.setattr(hub, "tick", lambda: None)  # the thread (a daemon) ticks on, doing nothing
    assert len(calls) >= 3, calls
    assert "a tick failed" in caplog.text and "a tick that fails" in caplog.text


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


def test_a_page_redraws_at_once_for_the_round_and_waits_a_moment_for_who_is_still_deciding(hub, tmp_path):
    """The pages' reading of a game (Glance): a round played, the status, the timer or a question redraws a page at
    once; who is still deciding, a teammate's decision or the roster only once a SOFT_S after its last drawing (the
    changes of that moment drawn together); nothing changed, nothing drawn.  A student's page reads who is still
    deciding only while its wait page shows it."""
    from tokenomy.viz.classroom.parts import SOFT_S, redraw_due

    hub, _ = hub
    hosted, key = hub.create(tmp_path, "classroom", seed=1, overrides=("classroom.round_seconds=0",))
    game = hosted.game
    ann = hub.act(hosted, game.join, game.code, "Ann")
    ben = hub.act(hosted, game.join, game.code, "Ben")
    hub.act(hosted, game.start, key)
    drawn, bens = hosted.glance(ann.firm, ann.name), hosted.glance(ben.firm, ben.name)
    assert redraw_due(hosted.glance(ann.firm, ann.name), drawn, 50.0) is None
    hub.act(hosted, game.submit, ann.token, {})  # Ann's firm decided: her wait page's "still deciding", her decision
    looked = hosted.glance(ann.firm, ann.name)
    assert looked.waiting_for == (ben.firm,) and looked.mine != drawn.mine
    assert looked.urgent() == drawn.urgent()
    assert redraw_due(looked, drawn, 50.0) == 50.0 + SOFT_S
    assert redraw_due(hosted.glance(ben.firm, ben.name), bens, 50.0) is None  # Ben, typing, is not disturbed
    teacher_drawn = hosted.glance()
    hub.act(hosted, game.close_round, key)  # the round played: every page at once
    assert redraw_due(hosted.glance(ann.firm, ann.name), looked, 50.0) == 0.0
    assert redraw_due(hosted.glance(), teacher_drawn, 50.0) == 0.0
    hub.act(hosted, game.join, game.code, "Cleo")  # the teacher's roster: it may wait
    assert redraw_due(hosted.glance(), hosted.glance()._replace(roster=()), 50.0) == 50.0 + SOFT_S
    before = hosted.glance(ann.firm, ann.name)
    hub.act(hosted, game.kick, key, "Ann")  # her page says at once that she is out
    assert redraw_due(hosted.glance(ann.firm, ann.name), before, 50.0) == 0.0
    assert redraw_due((1, 2), (1, 3), 50.0) == 0.0  # a reading that is not a Glance: every change at once
