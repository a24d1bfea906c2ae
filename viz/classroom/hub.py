"""The games this server process holds, their timers, and the news that a game changed.

A game lives in one place, its file (:mod:`tokenomy.abm.classroom.store`).  A server of one process holds it
exclusively.  A server of several worker processes (``--workers N``: a page's requests land in any of them) opens it
shared in every worker that a page of the game reaches: a worker that does not hold a game yet finds it by its join
code among the server's game files (the file ``tokenomy classroom`` was started with, and the games folder's), and
every worker applies the others' events from the log (:class:`tokenomy.abm.classroom.game.Game`, "Processes").
The clock thread also looks at the log of every game it holds, so a change made in another worker wakes this
worker's pages within :data:`TICK_S`.

The hub is the only place the pages find a game: by its join code, which opens only that game.  Every action is
the engine's own call with the caller's token (a seat's, or the teacher's): the hub adds no authority of its own,
except the clock.  One thread ticks every game (:meth:`Game.tick` with the wall clock), so a round closes on its
timer with no page open; after every change a game's ``version`` goes up and the pages waiting for it are woken.

Times are the wall clock (seconds since the epoch): a game's log keeps them, and a game resumed after a restart
reads its round's timer from them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.abm.classroom.game import CODE_LENGTH, Game
from tokenomy.abm.classroom.store import Store
from tokenomy.abm.environment import (
    CLASSROOM_GAME_ENV,
    CLASSROOM_TIMING_ENV,
    DEFAULT_GAMES_DIR,
    GAMES_DIR_ENV,
    VIZ_WORKERS_ENV,
)
from tokenomy.viz.classroom.quiet_gc import QUIET_GC, watch_full_passes

log = logging.getLogger("tokenomy.viz.classroom")

TICK_S = 0.25  # how often the timer thread looks at every game's clock
# the games folder, the server's worker processes ("Run a class" needs one) and the game `tokenomy classroom` serves
# (its workers find it there) are set by the command line, and checked with every other variable before a command
# runs (abm/environment.py)
MAX_SCAN = 64  # game files a worker looks through for a join code it does not hold (the newest)
KEY_SUFFIX = ".teacher-key"  # beside a game's file: the teacher's key, readable by its owner only
TIMING_ENV = CLASSROOM_TIMING_ENV  # "1" or "0", checked with every other variable before a command runs
MAX_GAMES = 20  # games one server holds at once (a school's classes, not a public service)


def clock() -> float:
    return time.time()


class Glance(NamedTuple):
    """What a page of a game shows that may change (:meth:`Hosted.glance`)."""

    status: str
    rounds_played: int
    waiting_for: tuple[str, ...] | None  # None: not shown on the page
    round_seconds: float
    roster: tuple | None  # the teacher's page: who joined, who was removed
    mine: str  # a student's page: its firm's decision for the open round (by whom), as text
    asked: tuple | None  # the last question put to the class
    removed: bool | None = None  # a student's page: whether the teacher removed the student

    def urgent(self) -> tuple:
        """What a page shows at once when it changes: the status, the round, the timer, a question, the student's
        removal.  The rest (who is still deciding, a teammate's decision, the roster) may wait a moment
        (:func:`viz.classroom.parts.use_game_version`): in a class of forty each decision changes it on many pages."""
        return (self.status, self.rounds_played, self.round_seconds, self.asked, self.removed)


@dataclass
class Hosted:
    """A game held by this process, and the count of its changes (pages redraw when it moves)."""

    game: Game
    path: Path
    version: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    applied: int = -1  # the game's last event applied when its pages were last woken (:meth:`Hub.tick`)

    def bump(self) -> None:
        QUIET_GC.changed()
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def glance(self, firm: str | None = None, name: str | None = None) -> Glance:
        """What a page shows that may change (cheap: no view is built): the status, the rounds played, the firms still
        deciding, the timer, who joined, ``firm``'s decision submitted for the open round, and the last question put to
        the class (asked, answered, closed, measured).  A student's page (``firm``, and the student's ``name``) shows
        who is still deciding only on its wait page, when the firm's decision is the student's own: otherwise that is
        left out (a student typing a decision is not disturbed by each firm that decides)."""
        from tokenomy.abm.classroom.views import game_state

        game = self.game
        with game.lock:
            state = game_state(game, 0.0)
            mine = next((d for key, d in game.pending.items() if key.split("/", 1)[1] == firm), None)
            waiting = tuple(state["waiting_for"]) if firm is None or (mine is not None and mine[1] == name) else None
            roster = tuple((s.name, s.kicked) for s in game.students.values())
            last = game.predictions[-1] if game.predictions else None  # a question asked, answered, closed, measured
            answers = len(last.answers) if last is not None and firm is None else None  # a student's page: not each
            asked = None if last is None else (last.number, last.open, answers, last.actual)
            return Glance(
                state["status"],
                state["rounds_played"],
                waiting,
                game.round_seconds,
                roster if firm is None else None,
                repr(mine),
                asked,
                None if firm is None else any(s.kicked for s in game.students.values() if s.name == name),
            )

    def wait(self, seen: int, timeout_s: float) -> int:
        """The version once it is past ``seen`` (or after ``timeout_s``, whatever it is)."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout=timeout_s)
            return self.version


def key_path(game_path: Path) -> Path:
    return game_path.with_name(game_path.name + KEY_SUFFIX)


def write_key(game_path: Path, teacher: str) -> Path:
    """The teacher's key beside the game's file (a new file, owner-only): a restarted server can say the teacher's
    address again.  The game's file itself keeps only a hash of the key, so it can be shared for a debrief."""
    path = key_path(game_path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(teacher + "\n")
    return path


def read_key(game: Game, game_path: Path) -> str | None:
    """The teacher's key kept beside ``game_path``, if it is there and is this game's key."""
    path = key_path(game_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, encoding="ascii") as f:
            key = f.read(300).strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        game.teacher_view(key, clock())
    except GameError:
        return None
    return key


def teacher_address(code: str, key: str) -> str:
    """The teacher's page of a game, after the server's address: it holds the key, so it is the teacher's alone."""
    return f"/teacher?game={quote(code)}&key={quote(key)}"


def make_game(folder: Path, scenario: str, seed: int | None, overrides: tuple[str, ...], now: float, shared: bool):
    """A new game in a new file in ``folder``, its teacher's key kept beside it: (game, path, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = new_game_path(folder, scenario)
    game, teacher = Game.create(path, scenario, seed=seed, overrides=list(overrides), now=now, shared=shared)
    try:
        write_key(path, teacher)
    except OSError as exc:
        game.close()
        raise GameError(f"{key_path(path)}: cannot keep the teacher's key ({exc.strerror})") from None
    return game, path, teacher


def resume_game(path: Path, now: float, shared: bool = False) -> Game:
    """The game in ``path``, resumed where it stood.  A game that was running is paused by the server (its round's
    timer would otherwise have run on while the server was down): the teacher resumes it."""
    game = Game.open(path, shared=shared)
    if game.status == "running":
        game.hold(now)
    return game


def new_game_path(folder: Path, scenario: str) -> Path:
    """A new file name in ``folder`` for a game of ``scenario`` (the date, the time and a few random letters)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(scenario).stem)[:40] or "game"
    when = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"{stem}-{when}-{secrets.token_hex(3)}.sqlite"


class Hub:
    """The games of this process, by join code."""

    def __init__(self, clock: Callable[[], float] = clock):
        self.clock = clock
        self._games: dict[str, Hosted] = {}
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._finding = threading.Lock()  # one search of the game files at a time
        self._codes: dict[Path, tuple[int, str | None]] = {}  # a game file's (mtime, join code), read once

    # -- holding games ----------------------------------------------------------------------------------
    def create(self, folder: Path, scenario: str, seed: int | None = None, overrides: tuple[str, ...] = ()):
        """A new game in a new file in ``folder``: (its hosted game, the teacher's key)."""
        with self._lock:
            if len(self._games) >= MAX_GAMES:
                raise GameError(f"this server holds {MAX_GAMES} games already: end one, or start another server")
        game, path, teacher = make_game(folder, scenario, seed, overrides, self.clock(), shared=not one_process())
        return self._hold(game, path), teacher

    def open(self, path: Path) -> Hosted:
        """The game in ``path``, resumed where it stood (:func:`resume_game`)."""
        return self._hold(resume_game(path, self.clock()), Path(path))

    def _hold(self, game: Game, path: Path) -> Hosted:
        hosted = Hosted(game, Path(path))
        with self._lock:
            if game.code in self._games:
                game.close()
                raise GameError(f"a game with the code {game.code} is open here already")
            self._games[game.code] = hosted
            if self._ticker is None:
                if os.environ.get(TIMING_ENV) == "1":  # the load benchmark: every full pass, and whose way it was in
                    watch_full_passes(lambda line: print(f"tokenomy classroom: {line}", file=sys.stderr, flush=True))
                self._ticker = threading.Thread(target=self._tick_forever, name="tokenomy-game-clock", daemon=True)
                self._ticker.start()
        return hosted

    def find(self, code: Any) -> Hosted:
        """The game whose join code is ``code`` (spaces and case aside); one line if there is none."""
        if not isinstance(code, str) or len(code) > 4 * CODE_LENGTH:
            raise AuthError("no game has that join code")
        key = "".join(code.split()).upper()
        with self._lock:
            hosted = self._games.get(key)
        if hosted is None and not one_process():
            hosted = self._find_file(key)
        if hosted is None:
            raise AuthError("no game has that join code")
        return hosted

    def _find_file(self, code: str) -> Hosted | None:
        """A game another worker of this server made or holds, by its join code: opened shared here.  Each file's code
        is read once (again only when the file is replaced), so a wrong code costs a listing and a few stats."""
        with self._finding:
            with self._lock:
                if code in self._games:  # found by another thread meanwhile
                    return self._games[code]
            for path in _game_files():
                try:
                    stamp = path.stat().st_mtime_ns if path.is_file() else -1
                except OSError:
                    continue
                known = self._codes.get(path)
                if known is None or known[0] != stamp:
                    self._codes[path] = known = (stamp, Store.code_of(path))
                if known[1] is not None and secrets.compare_digest(known[1].encode(), code.encode()):
                    try:
                        hosted = self._hold(Game.open(path, shared=True), path)
                    except GameError as exc:
                        log.warning("game %s: %s", code, exc)
                        return None
                    if os.environ.get(TIMING_ENV) == "1":
                        line = f"tokenomy classroom: game {code} held by process {os.getpid()}"
                        print(line, file=sys.stderr, flush=True)
                    return hosted
        return None

    def games(self) -> list[Hosted]:
        with self._lock:
            return list(self._games.values())

    def close_all(self) -> None:
        with self._lock:
            games, self._games = list(self._games.values()), {}
        for hosted in games:
            hosted.game.close()

    # -- acting ---------------------------------------------------------------------------------------
    def act(self, hosted: Hosted, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args, now)`` on the game (one of its methods, with the caller's token among ``args``); the pages
        waiting for the game are woken when it has changed."""
        try:
            with hosted.game.lock:  # the game's calls hold it anyway: the round's time is its own, not the wait
                played, t0 = len(hosted.game.history), time.perf_counter()
                try:
                    return call(*args, self.clock())
                finally:
                    self._say_round(hosted, played, t0)
                    hosted.applied = hosted.game.applied
        finally:
            hosted.bump()

    @staticmethod
    def _say_round(hosted: Hosted, played: int, t0: float) -> None:
        """With ``TOKENOMY_CLASSROOM_TIMING=1`` (the load benchmark), a line on stderr for each round played: how long
        the call that played it took (the decision's check and commit, the round's days, the next round opened)."""
        if os.environ.get(TIMING_ENV) == "1" and len(hosted.game.history) > played:
            ms = (time.perf_counter() - t0) * 1000
            print(
                f"tokenomy classroom: game {hosted.game.code} round {played + 1} played in {ms:.1f} ms"
                f" (process {os.getpid()})",
                file=sys.stderr,
                flush=True,
            )

    # -- the clock ------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Close every round whose timer has run out; wake the pages of a game another worker has changed."""
        for hosted in self.games():
            try:
                with hosted.game.lock:
                    hosted.game.sync()  # another worker's events (none in a server of one process)
                    played, t0 = len(hosted.game.history), time.perf_counter()
                    if hosted.game.tick(self.clock()):
                        self._say_round(hosted, played, t0)
                    applied = hosted.game.applied
                # the pages are woken for every event applied since they last were, whoever applied it: a page's reading
                # syncs the game too, and news it took in (a round another worker played) woke nobody before
                if applied != hosted.applied:
                    hosted.applied = applied
                    hosted.bump()
            except GameError:  # the log could not be written: the round stays open, the next tick tries again
                log.warning("game %s: its round could not close on the timer", hosted.game.code, exc_info=True)

    def _tick_forever(self) -> None:
        while True:
            time.sleep(TICK_S)
            try:
                self.tick()
                QUIET_GC.tick()  # the collector's full pass, if one is due (viz/classroom/quiet_gc.py)
            except Exception:  # a clock that stopped would freeze every game of this process without a word
                log.exception("the games' clock: a tick failed (the clock ticks on)")


HUB = Hub()  # this process's games


def games_dir() -> Path:
    return Path(os.environ.get(GAMES_DIR_ENV) or DEFAULT_GAMES_DIR)


def one_process() -> bool:
    """Whether this server runs in one process (else its games are opened shared, and found by their files)."""
    return os.environ.get(VIZ_WORKERS_ENV, "1") == "1"


def _game_files() -> list[Path]:
    """The game files a worker may look through for a join code: the one the server was started with, then the
    games folder's newest :data:`MAX_SCAN` (regular files only; a link is not followed)."""
    out = []
    started = os.environ.get(CLASSROOM_GAME_ENV)
    if started:
        out.append(Path(started))
    try:
        files = [p for p in games_dir().glob("*.sqlite") if not p.is_symlink() and p.is_file()]
        files.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        files = []
    return out + files[:MAX_SCAN]
