"""How much simulating one browser session may ask of the server.

Every model the app builds (the run on screen, side-by-side runs, fan seeds, check baselines) is a
``ChainModel``, whose ``step`` and ``run`` ask this module first:

* one run reaches at most :data:`MAX_RUN_DAYS` days (its recorded tables grow with every day);
* one session simulates at most :data:`SESSION_DAYS` days in any :data:`WINDOW_S` seconds, whatever it
  clicks (a class of students stepping, playing, comparing and fanning stays far below it).

Beyond either, :class:`BudgetSpent` is raised before anything is simulated or allocated; the panels show
its message in one line.  Outside a browser session (the command line, tests) nothing is counted.
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_RUN_DAYS = 3_660  # ten years: the longest scenario is two
SESSION_DAYS = 30_000  # simulated days per window and session: about a minute and a half of one busy core
WINDOW_S = 600.0


class BudgetSpent(RuntimeError):
    """A request for more simulating than one run or one session may have."""


class SessionBudget:
    """Simulated days spent by one session within a sliding window of ``window_s`` seconds."""

    def __init__(self, days: int = SESSION_DAYS, window_s: float = WINDOW_S, clock=time.monotonic):
        self.days, self.window_s, self.clock = days, window_s, clock
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0
        self._lock = threading.Lock()

    def spend(self, days: int) -> None:
        """Count ``days`` simulated days, or raise :class:`BudgetSpent` (counting nothing) if over budget."""
        with self._lock:
            now = self.clock()
            while self._spent and now - self._spent[0][0] >= self.window_s:
                self._total -= self._spent.popleft()[1]
            if self._total + days > self.days:
                raise BudgetSpent(
                    f"this session has simulated {self._total:,} days in the last {self.window_s / 60:g} minutes "
                    f"and may simulate {self.days:,}: wait a few minutes"
                )
            self._spent.append((now, days))
            self._total += days


_BUDGETS: dict[str, SessionBudget] = {}
_LOCK = threading.Lock()


def session_budget() -> SessionBudget | None:
    """The budget of the browser session this thread works for, or None outside one."""
    try:
        from solara.server import kernel_context

        context = kernel_context.get_current_context()
    except Exception:  # no Solara server here, or a thread of no session
        return None
    with _LOCK:
        budget = _BUDGETS.get(context.id)
        if budget is None:
            budget = _BUDGETS[context.id] = SessionBudget()
            context.on_close(lambda key=context.id: _BUDGETS.pop(key, None))
    return budget


def charge(run_day: int, days: int) -> None:
    """Before simulating ``days`` more days of a run now on day ``run_day``: raise :class:`BudgetSpent` if the
    run would pass :data:`MAX_RUN_DAYS` or the session its budget."""
    if days < 0 or run_day + days > MAX_RUN_DAYS:
        raise BudgetSpent(
            f"one run here may reach day {MAX_RUN_DAYS:,}, and this one would reach day {run_day + days:,}"
        )
    budget = session_budget()
    if budget is not None:
        budget.spend(days)
