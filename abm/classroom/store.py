"""The game's log in an SQLite database (stdlib ``sqlite3``, write-ahead log): nothing takes effect before it is
committed here.

A game file holds a ``meta`` table (what game this is: its format and version, the scenario's data as it was read,
the seed, the join code, a hash of the teacher's token) and an ``events`` table, one row per join, decision, round,
pause, kick or end, in order.  The game's state is a function of the scenario, the seed and the events, so opening
the file again resumes the game where it stood, and a replay reproduces its tables.  A file that is not a game, is
damaged or was written by another version of the format is refused with one line.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sqlite3
import stat
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenomy.abm.classroom.errors import GameError

FORMAT = "tokenomy-classroom"
VERSION = "1"
MAX_PAYLOAD_CHARS = 20_000  # an event's JSON: decisions are a few fields

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    payload: dict[str, Any]
    at: float


def _encode(value: Any) -> Any:
    """TOML's dates and date-times (a scenario's ``start_date``) as tagged JSON objects."""
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict) -> Any:
    if set(obj) == {"__datetime__"}:
        return dt.datetime.fromisoformat(obj["__datetime__"])
    if set(obj) == {"__date__"}:
        return dt.date.fromisoformat(obj["__date__"])
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, sort_keys=True, allow_nan=False)


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


def _uri(path: Path, mode: str) -> str:
    return f"file:{urllib.parse.quote(str(path.absolute()))}?mode={mode}"


BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write (a round played: well under a second)


class Store:
    """One game file.  Opened exclusively (an exclusive lock on the file: one process holds the game), or shared by
    the worker processes of one server (a shared lock: each applies the others' events from the log, and a write
    takes SQLite's write lock first, so the log stays one sequence; see :mod:`abm.classroom.game`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int):
        self.path = path
        self.conn = conn
        self._lock_fd = lock_fd
        self.closed = False

    # -- opening ----------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, meta: dict[str, Any], shared: bool = False) -> Store:
        """A new game file at ``path`` (refused if anything is there already) holding ``meta``."""
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            raise GameError(f"{path}: already exists; open it to resume that game, or name a new file") from None
        except OSError as exc:
            raise GameError(f"{path}: cannot create the game file ({exc.strerror})") from None
        store = cls._connect(path, fd, "rw", shared)
        try:
            with store.conn:
                store.conn.executescript(SCHEMA)
                rows = [("format", FORMAT), ("version", VERSION)] + [(k, dumps(v)) for k, v in meta.items()]
                store.conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open(cls, path: Path, shared: bool = False) -> Store:
        """An existing game file, checked: a Tokenomy game of this format's version, not damaged."""
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise GameError(f"{path}: no such game file") from None
        except OSError as exc:
            raise GameError(f"{path}: cannot open the game file ({exc.strerror})") from None
        store = cls._connect(path, fd, "rw", shared)
        try:
            store._check()
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def _connect(cls, path: Path, fd: int, mode: str, shared: bool = False) -> Store:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise GameError(f"{path}: the game is open in another process (a game lives in one server)") from None
        try:
            conn = sqlite3.connect(
                _uri(path, mode), uri=True, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a committed event survives a crash of the machine too
        except sqlite3.DatabaseError as exc:
            os.close(fd)
            raise GameError(f"{path}: not a Tokenomy classroom game ({exc})") from None
        conn.isolation_level = "DEFERRED"  # `with conn:` is one transaction, committed at its end
        return cls(path, conn, fd)

    def _check(self) -> None:
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"meta", "events"} <= tables:
                raise GameError(f"{self.path}: not a Tokenomy classroom game (no game tables)")
            meta = dict(self.conn.execute("SELECT key, value FROM meta"))
            if meta.get("format") != FORMAT:
                raise GameError(f"{self.path}: not a Tokenomy classroom game")
            if meta.get("version") != VERSION:
                raise GameError(
                    f"{self.path}: a game of format version {str(meta.get('version'))[:20]!r}; "
                    f"this Tokenomy reads version {VERSION}"
                )
            check = self.conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise GameError(f"{self.path}: the game file is damaged ({str(check and check[0])[:80]})")
        except sqlite3.DatabaseError as exc:
            raise GameError(f"{self.path}: not a Tokenomy classroom game, or damaged ({exc})") from None

    # -- reading and writing -----------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        try:
            rows = dict(self.conn.execute("SELECT key, value FROM meta"))
            return {k: (v if k in ("format", "version") else loads(v)) for k, v in rows.items()}
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise GameError(f"{self.path}: the game's description is damaged ({exc})") from None

    @staticmethod
    def code_of(path: Path) -> str | None:
        """The join code of the game in ``path``, read without opening the game (read-only, no lock): None if it is
        not a game file this process can read."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            conn = sqlite3.connect(_uri(path, "ro"), uri=True, timeout=1.0)
            try:
                meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('format', 'code')"))
            finally:
                conn.close()
            code = loads(meta["code"]) if meta.get("format") == FORMAT and "code" in meta else None
            return code if isinstance(code, str) else None
        except (sqlite3.DatabaseError, ValueError, KeyError, OSError):
            return None
        finally:
            os.close(fd)

    def share(self) -> None:
        """Let the worker processes of this server open the game too (the exclusive lock becomes a shared one: another
        server still cannot take the game)."""
        fcntl.flock(self._lock_fd, fcntl.LOCK_SH)

    def version(self) -> int:
        """A number that changes when another connection (another process) has committed to the file."""
        try:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise GameError(f"{self.path}: cannot read the game's log ({exc})") from None

    def begin_write(self) -> None:
        """Take the file's write lock (SQLite's, across processes) until :meth:`append` commits or :meth:`end_write`
        gives it back: the events read meanwhile are the log's last."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise GameError(f"{self.path}: the game's log is busy or cannot be written ({exc})") from None

    def end_write(self) -> None:
        """Give the write lock back if nothing was appended (nothing is written)."""
        if self.conn.in_transaction:
            self.conn.rollback()

    def events(self, after: int = 0) -> list[Event]:
        """The log's events after sequence number ``after``, in order."""
        try:
            rows = self.conn.execute(
                "SELECT seq, kind, payload, at FROM events WHERE seq > ? ORDER BY seq", (int(after),)
            ).fetchall()
            return [Event(seq, kind, loads(payload), at) for seq, kind, payload, at in rows]
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise GameError(f"{self.path}: the game's log is damaged ({exc})") from None

    def append(self, events: list[tuple[str, dict[str, Any]]], at: float) -> list[Event]:
        """Append ``events`` ((kind, payload) pairs) in one transaction and commit them: all of them are in the log,
        or none (the caller applies them only after this returns)."""
        texts = [(kind, dumps(payload)) for kind, payload in events]
        for kind, text in texts:
            if len(text) > MAX_PAYLOAD_CHARS:
                raise GameError(f"a {kind} of {len(text):,} characters is too long (at most {MAX_PAYLOAD_CHARS:,})")
        out = []
        try:
            with self.conn:
                for kind, text in texts:
                    cur = self.conn.execute(
                        "INSERT INTO events (kind, payload, at) VALUES (?, ?, ?)", (kind, text, float(at))
                    )
                    out.append(Event(int(cur.lastrowid), kind, loads(text), float(at)))
        except sqlite3.DatabaseError as exc:
            raise GameError(f"{self.path}: cannot write the game's log ({exc})") from None
        return out

    def close(self) -> None:
        self.closed = True
        try:
            self.conn.close()
        finally:
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1
