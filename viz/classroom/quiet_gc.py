"""The cyclic garbage collector's full passes, run when the class is quiet instead of in a student's press.

A class's pages hold a large heap (the server's modules and model, and each page's widgets: hundreds of thousands of
objects), and every redraw leaves the old widgets behind in reference cycles, so CPython's collector runs a full pass
(its oldest generation) every so often, started by whichever thread happens to allocate.  A full pass walks the whole
heap with every thread of the server stopped: in the load benchmark (40 students) it took 0.5-1 s on a busy machine,
and the one that landed on a press made that submission the run's slowest (its redraw waited for it).

So here the clock thread runs the full passes itself: when no game of the server has changed for :data:`QUIET_S`
(nobody pressed anything; the pages have redrawn), at most every :data:`MIN_GAP_S`, and at the latest every
:data:`MAX_GAP_S` whatever the class does.  Each planned pass ends by freezing what survived (``gc.freeze``): the
collector's own passes then walk only the objects made since, which keeps them short, and garbage that was frozen is
freed by the next planned pass (it unfreezes first), so nothing is kept for longer than :data:`MAX_GAP_S`.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

QUIET_S = 3.0  # no game changed for this long: the class is between decisions
MIN_GAP_S = 60.0  # planned full passes at most this often (each costs a fraction of a second of one core)
MAX_GAP_S = 300.0  # and at least this often, however busy the class


class QuietCollector:
    """Plans the full collections of this process (module docstring).  ``collector`` is the ``gc`` module (a test
    passes a stand-in); ``clock`` is monotonic seconds."""

    def __init__(self, collector: Any = gc, clock: Callable[[], float] = time.monotonic):
        self._gc = collector
        self._clock = clock
        self._lock = threading.Lock()
        self.last_change_s = clock()
        self.last_pass_s: float | None = None  # None: no planned pass yet (nothing frozen)
        self.passes = 0

    def changed(self) -> None:
        """A game changed (a join, a decision, a round played...): the class is busy now."""
        self.last_change_s = self._clock()

    def due(self, now_s: float) -> bool:
        """Whether a planned full pass should run at ``now_s``."""
        if self.last_pass_s is None:
            return True
        since = now_s - self.last_pass_s
        return since >= MAX_GAP_S or (since >= MIN_GAP_S and now_s - self.last_change_s >= QUIET_S)

    def tick(self) -> bool:
        """Run a planned full pass if one is due (the clock thread calls this); whether it ran."""
        with self._lock:
            now = self._clock()
            if not self.due(now):
                return False
            self._gc.unfreeze()  # what was frozen at the last pass may be garbage now
            self._gc.collect()
            self._gc.freeze()  # the survivors: the collector's own passes skip them until the next planned pass
            self.last_pass_s = self._clock()
            self.passes += 1
            return True


QUIET_GC = QuietCollector()  # this process's


def watch_full_passes(say: Callable[[str], None]) -> None:
    """From now on, tell ``say`` of every full pass of this process's collector (its oldest generation): the thread
    it ran in (the clock thread's are the planned ones), how long it took, and the objects it freed."""
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            ms = (time.perf_counter() - started.pop()) * 1000
            say(f"full collection in {ms:.0f} ms by {threading.current_thread().name}, {info['collected']} freed")

    gc.callbacks.append(callback)
