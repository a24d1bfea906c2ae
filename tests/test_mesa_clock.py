"""``TokenEconomy.run`` keeps Mesa's clock as Mesa's own steps do.

With nothing else on Mesa's event list, ``run`` steps the days without scheduling an event for each (it pauses
Mesa's generator of daily steps and resumes it at the end); Mesa's time, its count of steps, the next scheduled
step and the tables must be what ``step()`` day after day gives.  With another event on the list, every day goes
through Mesa, and the event fires at its time.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tokenomy.abm.model import TokenEconomy

DAYS = 4


def _pending(model: TokenEconomy) -> list[float]:
    """Times of the events still to come on Mesa's list."""
    return sorted(event.time for event in model._event_list._events if not event.CANCELED)


def test_run_keeps_mesas_clock_and_tables_as_steps_do():
    stepped = TokenEconomy("classroom", seed=1)
    for _ in range(DAYS):
        stepped.step()
    ran = TokenEconomy("classroom", seed=1)
    ran.run(DAYS - 1)
    ran.run(1)  # twice: the clock resumes where it was paused
    for model in (stepped, ran):
        assert (model.day, model.steps, model.time) == (DAYS, DAYS, float(DAYS))
        assert _pending(model) == [DAYS + 1.0]  # the next day's step, and only it
    pd.testing.assert_frame_equal(ran.daily_table(), stepped.daily_table(), check_exact=True)
    pd.testing.assert_frame_equal(ran.agents_table(), stepped.agents_table(), check_exact=True)
    ran.step()  # Mesa's own step after a run: one day, not a backlog
    assert (ran.day, ran.steps, ran.time) == (DAYS + 1, DAYS + 1, DAYS + 1.0)


def test_another_event_on_mesas_list_fires_at_its_time():
    model = TokenEconomy("classroom", seed=1)
    seen: list[int] = []

    def note() -> None:
        seen.append(model.day)

    model.schedule_event(note, at=2.5)  # between the second day's step and the third's
    model.run(DAYS)
    assert seen == [2]
    assert (model.day, model.steps, model.time) == (DAYS, DAYS, float(DAYS))
    assert _pending(model) == [DAYS + 1.0]


def test_a_run_stopped_by_its_progress_leaves_the_clock_on_the_last_day():
    model = TokenEconomy("classroom", seed=1)

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.run(DAYS, progress=stop_after_two)
    assert (model.day, model.steps, model.time) == (2, 2, 2.0)
    assert _pending(model) == [3.0]
    model.run(1)
    assert (model.day, model.steps, model.time) == (3, 3, 3.0)
