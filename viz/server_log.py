"""The server's log: warnings and errors on stderr, each kind at most once a minute.

A hostile or broken client can make the same error happen thousands of times a second (a flood of bad
connections once wrote 868 MB of tracebacks a minute).  :class:`OncePerPeriod` lets the first record of a
kind through, with its traceback, and drops the repeats for ``period_s``; the next one of that kind says
how many were dropped.  A kind is the logger, the message template and the exception's type.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

PERIOD_S = 60.0
MAX_KINDS = 1_000  # kinds remembered; beyond that the oldest are forgotten
FORMAT = "tokenomy viz: %(levelname)s %(name)s: %(message)s"


class OncePerPeriod(logging.Filter):
    """Pass a record unless one of the same kind passed less than ``period_s`` ago."""

    def __init__(self, period_s: float = PERIOD_S, clock=time.monotonic):
        super().__init__()
        self.period_s = period_s
        self.clock = clock
        self._last: dict[tuple, float] = {}
        self._dropped: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, str(record.msg), exc_type)
        now = self.clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.period_s:
                self._dropped[kind] = self._dropped.get(kind, 0) + 1
                return False
            if len(self._last) >= MAX_KINDS:
                oldest = min(self._last, key=self._last.__getitem__)
                self._last.pop(oldest)
                self._dropped.pop(oldest, None)
            self._last[kind] = now
            dropped = self._dropped.pop(kind, 0)
        if dropped:
            record.msg = f"{record.msg} ({dropped:,} more like this in the last {self.period_s:g} s not shown)"
        return True


def configure_logging(level: int = logging.WARNING) -> None:
    """One stderr handler on the root logger, rate-limited; uvicorn's and Solara's loggers reach it (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, "tokenomy_viz", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.tokenomy_viz = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(OncePerPeriod())
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
