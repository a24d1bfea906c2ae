"""The collector's full passes are the clock thread's, at quiet moments, not a student's press's: planned when no game
has changed for a while (at the latest after the longest gap), what survives them is frozen so the collector's own
passes skip it, and garbage that was frozen is freed by the next planned pass."""

from __future__ import annotations

import gc
import weakref

import pytest

from tokenomy.viz.classroom import quiet_gc
from tokenomy.viz.classroom.hub import Hub
from tokenomy.viz.classroom.quiet_gc import MAX_GAP_S, MIN_GAP_S, QUIET_S, QuietCollector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Stands in for the ``gc`` module: records the calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append(name)


def test_a_full_pass_waits_for_a_quiet_moment_and_never_longer_than_the_longest_gap():
    clock, fake = Clock(), Recorder()
    pacer = QuietCollector(fake, clock)
    assert pacer.tick() and fake.calls == ["unfreeze", "collect", "freeze"]  # the first: the server's heap frozen
    start = clock.now
    while clock.now < start + MAX_GAP_S - 1:  # a class busy all the time: a change every second
        clock.now += 1.0
        pacer.changed()
        assert not pacer.tick()
    clock.now = start + MAX_GAP_S
    assert pacer.tick() and pacer.passes == 2  # too long without: planned anyway
    clock.now += QUIET_S + 1  # quiet, but the last pass was a moment ago
    assert not pacer.tick()
    clock.now += MIN_GAP_S
    pacer.changed()  # a press: not now
    clock.now += QUIET_S / 2
    assert not pacer.tick()
    clock.now += QUIET_S / 2
    assert pacer.tick() and pacer.passes == 3
    assert fake.calls == ["unfreeze", "collect", "freeze"] * 3


@pytest.fixture
def alone(monkeypatch):
    """This test's passes are the only real ones: the clock threads of the hubs earlier tests made (they run on) get a
    stand-in collector meanwhile; whatever is frozen is unfrozen after."""
    monkeypatch.setattr("tokenomy.viz.classroom.hub.QUIET_GC", QuietCollector(Recorder(), Clock()))
    yield
    gc.unfreeze()


def test_what_survives_a_planned_pass_is_skipped_by_the_collector_until_the_next_one_frees_it(alone):
    clock = Clock()
    pacer = QuietCollector(gc, clock)

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    assert pacer.tick()
    assert gc.get_freeze_count() > 0 and not gc.get_objects(generation=2)  # a full pass by the collector walks nothing
    del a, b
    gc.collect()  # the collector's own full pass: the cycle was frozen, so it stays for now
    assert gone() is not None
    clock.now += MIN_GAP_S + QUIET_S
    assert pacer.tick()  # the next planned pass unfreezes first: freed
    assert gone() is None


def test_every_change_of_a_game_tells_the_collector_the_class_is_busy(tmp_path, monkeypatch):
    clock = Clock()
    pacer = QuietCollector(Recorder(), clock)
    monkeypatch.setattr("tokenomy.viz.classroom.hub.QUIET_GC", pacer)
    hub = Hub()
    try:
        hosted, teacher = hub.create(tmp_path, "classroom", seed=1)
        clock.now += 50.0
        hub.act(hosted, hosted.game.start, teacher)  # a teacher's act
        assert pacer.last_change_s == clock.now
        clock.now += 7.0
        hosted.bump()  # any change a page is woken for
        assert pacer.last_change_s == clock.now
    finally:
        hub.close_all()
    assert quiet_gc.QUIET_GC is not pacer  # (the process's own is another)
