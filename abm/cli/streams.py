"""Standard output whose write errors say that they are standard output's.

A full disk under a redirected ``>``, ``/dev/full`` or a file size limit make ``print`` fail with an ``OSError``
that names no file; wrapped in :class:`GuardedOutput`, such an error becomes a :class:`StdoutError`, which the
command line reports as one line ("standard output: cannot write") instead of a traceback or, when the failure
comes in the interpreter's last flush, a message about an exception ignored.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO


class StdoutError(OSError):
    """Writing to standard output failed (not a closed pipe: that is the reader going away)."""


class GuardedOutput:
    """``stream`` (``sys.stdout``), raising :class:`StdoutError` where a write or flush fails."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._failed: StdoutError | None = None  # kept: argparse's --help swallows the error of its write

    def _guarded(self, call, *args: Any) -> Any:
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._failed = StdoutError(exc.errno, exc.strerror or str(exc))
            raise self._failed from None

    def write(self, text: str) -> int:
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)
        if self._failed is not None:
            raise self._failed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """``sys.stdout`` guarded for the block, and flushed at its end inside the guard (``--help`` too, which ends
    in ``SystemExit``)."""
    stream = sys.stdout
    sys.stdout = GuardedOutput(stream)
    try:
        try:
            yield
        except SystemExit:
            sys.stdout.flush()
            raise
        sys.stdout.flush()
    finally:
        sys.stdout = stream


def detach_stdout() -> None:
    """Point file descriptor 1 at ``/dev/null``, so that the interpreter's final flush of what could not be written
    does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no real descriptor: a test's captured stream
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
