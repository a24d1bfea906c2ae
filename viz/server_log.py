"""The server's log: warnings and errors on stderr, each kind at most once a minute, and a bounded amount in all.

A hostile or broken client can make the same error happen thousands of times a second (a flood of bad
connections once wrote 868 MB of tracebacks a minute).  :class:`OncePerPeriod` lets the first record of a
kind through, with its traceback, and drops the repeats for ``period_s``; the next one of that kind says
how many were dropped.  A kind is the logger, the message template and the exception's type.  Kinds a client
could vary without end (a message that holds what it sent) are held by a cap on all records: at most
:data:`MAX_RECORDS` a period, and each record at most :data:`MAX_RECORD_CHARS` long.

Every other way the server's libraries write goes the same road (:func:`configure_logging`): Python warnings,
an exception that ends a thread, and Solara's own ``print`` calls (it prints a page's traceback on standard
output each time the page fails to render).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

PERIOD_S = 60.0
MAX_KINDS = 1_000  # kinds remembered; beyond that the oldest are forgotten
MAX_RECORDS = 100  # records of all kinds a period
MAX_RECORD_CHARS = 8_000  # a record's message and traceback together, as written
# Solara's modules that print to standard output while serving (a failed render's traceback, display())
SOLARA_PRINTING = ("solara.server.app", "solara.server.kernel_context", "solara.server.patch")
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
        self._window_start = -float("inf")  # the period the cap on all records counts in
        self._in_window = 0
        self._over_cap = 0  # records dropped by the cap since one was last let through

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, str(record.msg), exc_type)
        now = self.clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.period_s:
                self._dropped[kind] = self._dropped.get(kind, 0) + 1
                return False
            if now - self._window_start >= self.period_s:
                self._window_start, self._in_window = now, 0
            if self._in_window >= MAX_RECORDS:
                self._over_cap += 1
                return False
            self._in_window += 1
            over_cap, self._over_cap = self._over_cap, 0
            if len(self._last) >= MAX_KINDS:
                oldest = min(self._last, key=self._last.__getitem__)
                self._last.pop(oldest)
                self._dropped.pop(oldest, None)
            self._last[kind] = now
            dropped = self._dropped.pop(kind, 0)
        if dropped:
            record.msg = f"{record.msg} ({dropped:,} more like this in the last {self.period_s:g} s not shown)"
        if over_cap:
            record.msg = f"{record.msg} (and {over_cap:,} other records not shown: at most {MAX_RECORDS} a period)"
        return True


class CappedFormatter(logging.Formatter):
    """:data:`FORMAT`, each record cut to :data:`MAX_RECORD_CHARS` (a message may hold what a client sent)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if len(text) <= MAX_RECORD_CHARS:
            return text
        return (
            f"{text[: MAX_RECORD_CHARS // 2]}\n[... {len(text) - MAX_RECORD_CHARS:,} characters not shown ...]\n"
            + (text[-MAX_RECORD_CHARS // 2 :])
        )


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """An exception that ends a thread goes to the log (rate-limited), not straight to stderr."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("tokenomy.viz.thread").error("exception in thread %s", name, exc_info=exc_info)


def _solara_print(*objs, sep: str = " ", end: str = "\n", file=None, flush: bool = False) -> None:
    """Solara's ``print``, to the log: its text is what it would have printed."""
    logging.getLogger("solara.print").warning("%s", sep.join(str(o) for o in objs))


def quiet_solara_prints() -> None:
    """Solara's modules that print while serving print to the log instead (a module's own name ``print`` is
    looked up before the built-in one)."""
    import importlib

    for name in SOLARA_PRINTING:
        importlib.import_module(name).print = _solara_print  # type: ignore[attr-defined]


def configure_logging(level: int = logging.WARNING) -> None:
    """One stderr handler on the root logger, rate-limited; uvicorn's and Solara's loggers reach it (idempotent)."""
    root = logging.getLogger()
    if any(getattr(h, "tokenomy_viz", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.tokenomy_viz = True  # type: ignore[attr-defined]
    handler.setFormatter(CappedFormatter(FORMAT))
    handler.addFilter(OncePerPeriod())
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    logging.captureWarnings(True)  # a warning whose text varies would otherwise print each time
    threading.excepthook = _log_thread_exception
    quiet_solara_prints()
