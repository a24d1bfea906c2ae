"""Opening a user's file safely: regular files only, with a ceiling on the size; every problem one line.

A FIFO, a device or a socket given where a file is expected would block ``open()`` for ever (a FIFO with no
writer) or never end (``/dev/zero``).  :func:`open_regular` opens without blocking and keeps the descriptor
only when it is a regular file; every reader of a user's file (scenario, base, graph, sweep file, a sweep's
``sweep.json``, journal and run files, a run's ``run.json`` and tables) goes through it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a plain file")


def open_regular(path: str | Path, what: str, error: type[Exception]) -> BinaryIO:
    """``path`` opened for reading in binary, refusing at once anything but a regular file (a folder, a FIFO, a
    device, a socket): ``error`` with one line naming ``path`` and calling it a ``what``.

    The file's type is looked up before opening (so that opening cannot block) and checked again on the opened
    descriptor (so that a file swapped in between is caught); the open itself does not wait for a writer."""
    try:
        mode = os.stat(path).st_mode
        regular = stat.S_ISREG(mode)
        fd = os.open(path, _READ_FLAGS) if regular else -1
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        why = getattr(exc, "strerror", None) or exc
        raise error(f"{path}: cannot read ({exc.__class__.__name__}: {why})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder, not a {what}")
    if not regular:
        raise error(f"{path}: not a regular file ({_kind(mode)}); give a {what}")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"{path}: not a regular file ({_kind(mode)}); give a {what}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bounded(path: Path, max_bytes: int, what: str, error: type[Exception]) -> bytes:
    """The bytes of ``path``, refusing (without reading further) anything longer than ``max_bytes``; a missing,
    unreadable, oversized or not regular file raises ``error`` with one line naming ``path`` and calling it a
    ``what``."""
    with open_regular(path, what, error) as fh:
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"{path}: cannot read ({exc.__class__.__name__}: {exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise error(f"{path}: larger than {max_bytes // 1_000_000} MB; a {what} is at most that")
    return data
