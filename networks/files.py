"""Reading a user's file with a ceiling on its size, every problem one line (for graphs and scenario files)."""

from __future__ import annotations

from pathlib import Path


def read_bounded(path: Path, max_bytes: int, what: str, error: type[Exception]) -> bytes:
    """The bytes of ``path``, refusing (without reading further) anything longer than ``max_bytes``; a missing,
    unreadable or oversized file raises ``error`` with one line naming ``path`` and calling it a ``what``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.__class__.__name__}: {exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise error(f"{path}: larger than {max_bytes // 1_000_000} MB; a {what} is at most that")
    return data
