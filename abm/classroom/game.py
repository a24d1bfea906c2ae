"""A classroom game: a scenario played in rounds by students who run some of its firms, and a teacher.

:class:`Game` is the one object the pages (and the command line, and the bots of the tests) talk to.  Every
request names a token: the teacher's (given when the game is created) or a seat's (given when a student joins);
a token only opens what it is for.  Every join, decision, round, pause, kick and end is committed to the game's
SQLite file (:mod:`abm.classroom.store`) before it takes effect, and the game's state is a function of the
scenario, the seed and that log: :meth:`Game.open` rebuilds it by applying the log again, which is also how a
restarted server resumes and how ``tokenomy classroom replay`` reruns a game.

Time never enters the state except through the log: every method that may close a round takes ``now`` (seconds,
any clock the caller keeps), and a round closed by its timer is a logged event like any other.

Thread safety: every public method holds the game's lock, so the sessions of one server (threads) may call it at
once.

Processes: a game lives in one place, its file.  Opened exclusively (the default), one process holds it and a
second cannot open it.  A server with several worker processes (``--workers N``: a student's page lands in any of
them) opens it *shared* in each worker: every worker holds the whole game, and the log keeps them one game.  Before
any call a worker applies the events the others have logged since it last looked (:meth:`Game.sync`: SQLite's count
of other connections' commits says whether there are any, so a look costs a few microseconds), and a call that logs
takes the file's write lock (SQLite's ``BEGIN IMMEDIATE``, across processes) and catches up *before* it checks what
it is about to log, so every decision is checked against the state every worker will have applied before it (a
round closed by one worker's timer is not closed again by another's).  A round's days are played by every worker
that applies its close: the state is a function of the log, so they play the same days, bit for bit.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenomy.abm.classroom.decisions import check_decision
from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.abm.classroom.predictions import QUESTIONS, Prediction, check_answer, check_question, measure
from tokenomy.abm.classroom.seats import Firm, Seats, playable_firms
from tokenomy.abm.classroom.store import Store

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector
CODE_LENGTH = 6
MAX_NAME_CHARS = 40
TOKEN_BYTES = 24
MAX_TOKEN_CHARS = 200
MIN_ROUND_S, MAX_ROUND_S = 5, 3600  # a round timer's bounds (0: no timer)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _token_like(token: Any) -> bool:
    """Text no longer than a token could be (a client's megabyte of text is not hashed)."""
    return isinstance(token, str) and len(token) <= MAX_TOKEN_CHARS


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def check_name(name: Any) -> str:
    """A student's name as typed: 1 to 40 printable characters (spaces inside collapse)."""
    if not isinstance(name, str):
        raise GameError("a name must be text")
    clean = " ".join(name.split())
    if not clean:
        raise GameError("type your name to join")
    if len(clean) > MAX_NAME_CHARS:
        raise GameError(f"a name has at most {MAX_NAME_CHARS} characters")
    if not clean.isprintable():
        raise GameError("a name can hold only printable characters")
    return clean


@dataclass
class Student:
    name: str
    firm: Firm
    tokens: set[str] = field(default_factory=set)  # hashes of the tokens issued to it (one per join)
    kicked: bool = False


@dataclass(frozen=True)
class RoundRecord:
    """A round played: its number (from 1), its days [first, end), why it closed, who had decided, when."""

    number: int
    first_day: int
    end_day: int
    reason: str
    decided: tuple[str, ...]
    closed_at: float


@dataclass(frozen=True)
class Ticket:
    """What a student gets on joining: the token that is its seat, and the firm it plays."""

    token: str
    name: str
    firm: str
    role: str


class Game:
    """One game (module docstring).  Create with :meth:`create`, resume with :meth:`open`."""

    def __init__(self, store: Store):
        from tokenomy.abm.model import TokenEconomy
        from tokenomy.abm.scenarios import load_scenario

        self._lock = threading.RLock()
        self.store = store
        meta = store.meta()
        self.code: str = meta["code"]
        self._teacher: str = meta["teacher"]
        self.seed: int = int(meta["seed"])
        self.scenario = load_scenario(meta["scenario_name"], meta["overrides"], resolved=meta["scenario"])
        self.data = self.scenario.data
        game = self.data["classroom"]
        self.days: int = int(self.data["scenario"]["days"])
        self.days_per_round: int = int(game["days_per_round"])
        self.rounds: int = int(game["rounds"]) or -(-self.days // self.days_per_round)
        self.round_seconds: float = float(game["round_seconds"])
        self.team_size: int = int(game["team_size"])
        self.firms = playable_firms(self.data)
        self.firm_by_key = {f.key: f for f in self.firms}
        self.model = TokenEconomy(self.scenario, seed=self.seed)
        self.model.recorder.reserve(self.days)
        self.seats = Seats(self.model, self.firms)
        self.students: dict[str, Student] = {}  # by name key
        self.by_token: dict[str, Student] = {}  # by token hash
        self.pending: dict[str, tuple[dict[str, Any], str, float]] = {}  # firm key -> (decision, by whom, when)
        self.in_force: dict[str, dict[str, Any]] = {}  # firm key -> the decision of the last round it decided
        self.history: list[RoundRecord] = []
        self.decision_log: list[dict[str, Any]] = []  # every decision that went into a round
        self.status = "lobby"  # lobby, running, paused, ended
        self.opened_at: float | None = None  # when the open round's clock started
        self.paused_at: float | None = None
        self.paused_s = 0.0  # time the open round has been paused
        self.created_at = float(meta.get("created_at", 0.0))
        self.predictions: list[Prediction] = []  # the questions put to the class, in order
        self.market_days: list = []  # what the debrief measures of each day played (abm.classroom.debrief)
        self._seq = 0  # the last event of the log applied
        self._seen_version = store.version()
        for event in store.events():
            self._apply(event.kind, event.payload, event.at)
            self._seq = event.seq

    # -- creating and opening ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        scenario: str | Path = "classroom",
        seed: int | None = None,
        overrides: list[str] | tuple[str, ...] = (),
        now: float = 0.0,
        shared: bool = False,
    ) -> tuple[Game, str]:
        """A new game in a new file at ``path``: (the game, the teacher's token).  ``shared``: other processes of this
        server may open it too (module docstring)."""
        from tokenomy.abm.scenarios import load_scenario, read_resolved

        source, raw = read_resolved(scenario)
        checked = load_scenario(source, list(overrides), resolved=raw)  # every check, before the file exists
        seed = int(checked.data["scenario"]["seed"] if seed is None else seed)
        if not playable_firms(checked.data):
            roles = ", ".join(checked.data["classroom"]["roles"])
            raise GameError(f"{checked.name}: no firm to play: the scenario has no {roles} ('classroom.roles')")
        teacher = secrets.token_urlsafe(TOKEN_BYTES)
        meta = {
            "scenario_name": str(source),
            "scenario": raw,
            "overrides": list(overrides),
            "seed": seed,
            "code": "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
            "teacher": _hash(teacher),
            "created_at": float(now),
        }
        store = Store.create(Path(path), meta, shared)
        try:
            return cls(store), teacher
        except BaseException:
            store.close()
            raise

    @classmethod
    def open(cls, path: str | Path, shared: bool = False) -> Game:
        """The game in ``path``, where it stood (its log applied again).  ``shared``: as for :meth:`create`."""
        store = Store.open(Path(path), shared)
        try:
            return cls(store)
        except GameError:
            store.close()
            raise
        except Exception as exc:  # a log this version cannot apply: refused in one line
            store.close()
            raise GameError(f"{path}: the game's log cannot be applied ({type(exc).__name__}: {exc})") from None

    def close(self) -> None:
        with self._lock:
            self.store.close()

    # -- authorisation ----------------------------------------------------------------------------------
    def _student(self, token: Any) -> Student:
        student = self.by_token.get(_hash(token)) if _token_like(token) else None
        if student is None:
            raise AuthError("this seat token is not valid for this game")
        if student.kicked:
            raise AuthError(f"{student.name} was removed from the game by the teacher")
        return student

    def _check_teacher(self, token: Any) -> None:
        if not (_token_like(token) and secrets.compare_digest(_hash(token), self._teacher)):
            raise AuthError("only the teacher can do that")

    def _check_firm(self, student: Student, firm: str | None) -> None:
        if firm is not None and firm not in (student.firm.key, student.firm.name):
            raise AuthError(f"{student.name} plays {student.firm.name}, not {str(firm)[:40]}")

    # -- students -----------------------------------------------------------------------------------------
    def join(self, code: Any, name: Any, now: float = 0.0) -> Ticket:
        """A seat in a firm for ``name`` (the same name rejoins its firm), if ``code`` is this game's."""
        with self._writing():
            if not (_token_like(code) and secrets.compare_digest(code.strip().upper().encode(), self.code.encode())):
                raise AuthError("no game has that join code")
            if self.status == "ended":
                raise GameError("the game has ended")
            clean = check_name(name)
            known = self.students.get(_name_key(clean))
            if known is not None and known.kicked:
                raise AuthError(f"{known.name} was removed from the game by the teacher")
            firm = known.firm if known is not None else self._free_firm()
            token = secrets.token_urlsafe(TOKEN_BYTES)
            self._log("join", {"name": clean, "firm": firm.key, "token": _hash(token)}, now)
            student = self.students[_name_key(clean)]
            return Ticket(token, student.name, firm.name, firm.role)

    def _free_firm(self) -> Firm:
        counts = {f.key: 0 for f in self.firms}
        for s in self.students.values():
            if not s.kicked:
                counts[s.firm.key] += 1
        firm = min(self.firms, key=lambda f: counts[f.key])
        if counts[firm.key] >= self.team_size:
            raise GameError("the game is full: every firm has its team")
        return firm

    def submit(self, token: Any, decision: Any, now: float = 0.0, firm: str | None = None) -> dict[str, Any]:
        """The seat's firm's decision for the open round (the last one before the round closes counts); returns it
        checked.  Closes the round when every firm with a student has decided."""
        with self._writing():
            student = self._student(token)
            self._check_firm(student, firm)
            if self.status == "ended":
                raise GameError("the game has ended")
            checked = check_decision(student.firm.role, student.firm.name, decision, self.data)
            events = [("submit", {"firm": student.firm.key, "name": student.name, "decision": checked})]
            if self.status == "running" and self._all_decided(also=student.firm.key):  # the last decision closes
                events.append(("close", {"round": len(self.history) + 1, "reason": "all decided"}))
            self._log_all(events, now)
            return checked

    # -- the teacher ------------------------------------------------------------------------------------
    def start(self, teacher: Any, now: float = 0.0) -> None:
        with self._writing():
            self._check_teacher(teacher)
            if self.status != "lobby":
                raise GameError("the game has started already")
            events = [("start", {})]
            if self._all_decided():
                events.append(("close", {"round": 1, "reason": "all decided"}))
            self._log_all(events, now)

    def close_round(self, teacher: Any, now: float = 0.0) -> None:
        """Advance now: the round closes with the decisions it has (the computer plays the others)."""
        with self._writing():
            self._check_teacher(teacher)
            if self.status not in ("running", "paused"):
                raise GameError("start the game first" if self.status == "lobby" else "the game has ended")
            self._log("close", {"round": len(self.history) + 1, "reason": "teacher"}, now)

    def tick(self, now: float) -> bool:
        """Close the round if its timer has run out (no token: the clock is the server's); whether it closed."""
        with self._reading():
            if not self._timer_out(now):
                return False
            with self._writing():  # another process may have closed it meanwhile: looked at again, at the log's end
                if not self._timer_out(now):
                    return False
                self._log("close", {"round": len(self.history) + 1, "reason": "timer"}, now)
                return True

    def _timer_out(self, now: float) -> bool:
        left = self.seconds_left(now)
        return self.status == "running" and left is not None and left <= 0

    def pause(self, teacher: Any, now: float = 0.0) -> None:
        with self._writing():
            self._check_teacher(teacher)
            if self.status != "running":
                raise GameError("only a running game can be paused")
            self._log("pause", {}, now)

    def hold(self, now: float) -> None:
        """Pause a running game with no token: the server's own act when it resumes a game after a restart, so the
        open round's timer does not run out while nobody could play.  The round's clock starts again: when the
        teacher resumes, the round has its whole time (the time the server was down is not known, and not the
        students')."""
        with self._writing():
            if self.status == "running":
                self._log_all([("pause", {"by": "server"}), ("timer", {"seconds": self.round_seconds})], now)

    def set_timer(self, teacher: Any, seconds: Any, now: float = 0.0) -> None:
        """The round timer from now on: ``seconds`` a round (0: no timer, rounds close when every firm has decided or
        the teacher advances them).  Logged, so a resumed game keeps it."""
        with self._writing():
            self._check_teacher(teacher)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
                raise GameError("the round timer takes a number of seconds")
            if not (seconds == 0 or MIN_ROUND_S <= seconds <= MAX_ROUND_S):
                raise GameError(f"the round timer takes 0 (off) or {MIN_ROUND_S} to {MAX_ROUND_S} seconds")
            self._log("timer", {"seconds": float(seconds)}, now)

    @property
    def lock(self) -> threading.RLock:
        """The game's lock: hold it to read :attr:`model` while other threads may play a round."""
        return self._lock

    def resume(self, teacher: Any, now: float = 0.0) -> None:
        with self._writing():
            self._check_teacher(teacher)
            if self.status != "paused":
                raise GameError("the game is not paused")
            events = [("resume", {})]
            if self._all_decided():  # every firm decided while the game stood: the round closes now
                events.append(("close", {"round": len(self.history) + 1, "reason": "all decided"}))
            self._log_all(events, now)

    def kick(self, teacher: Any, name: Any, now: float = 0.0) -> None:
        """Take a student out of the game (its tokens stop working; its firm plays on)."""
        with self._writing():
            self._check_teacher(teacher)
            student = self.students.get(_name_key(check_name(name)))
            if student is None or student.kicked:
                raise GameError(f"no student named {str(name)[:40]!r} in the game")
            self._log("kick", {"name": student.name}, now)

    def end(self, teacher: Any, now: float = 0.0) -> None:
        with self._writing():
            self._check_teacher(teacher)
            if self.status == "ended":
                raise GameError("the game has ended already")
            self._log("end", {"reason": "teacher"}, now)

    # -- the clock --------------------------------------------------------------------------------------
    def seconds_left(self, now: float) -> float | None:
        """Seconds before the open round's timer closes it (None: no timer, or no round open)."""
        with self._reading():
            if self.round_seconds <= 0 or self.opened_at is None or self.status not in ("running", "paused"):
                return None
            paused = self.paused_s + (now - self.paused_at if self.paused_at is not None else 0.0)
            return self.opened_at + self.round_seconds + paused - now

    def _all_decided(self, also: str | None = None) -> bool:
        """Whether every firm with a student has decided the open round (counting ``also`` as decided)."""
        occupied = {s.firm.key for s in self.students.values() if not s.kicked}
        return bool(occupied) and occupied <= set(self.pending) | {also}

    # -- the log --------------------------------------------------------------------------------------------
    def _log(self, kind: str, payload: dict[str, Any], now: float) -> None:
        self._log_all([(kind, payload)], now)

    def _log_all(self, events: list[tuple[str, dict[str, Any]]], now: float) -> None:
        """Commit the events (all or none), then apply them (called inside :meth:`_writing`: the log's last events
        are applied already)."""
        if isinstance(now, bool) or not (isinstance(now, int | float) and math.isfinite(now)):
            raise GameError("the time must be a finite number of seconds")
        for event in self.store.append(events, now):
            self._apply(event.kind, event.payload, event.at)
            self._seq = event.seq

    # -- several processes, one log ---------------------------------------------------------------------------
    @property
    def applied(self) -> int:
        """The sequence number of the log's last event applied to this state (by any call: a reading syncs too)."""
        return self._seq

    def sync(self) -> bool:
        """Apply the events other processes have logged since this one last looked; whether there were any.  Cheap
        when there were none (SQLite's count of other connections' commits is read)."""
        with self._lock:
            if self.store.closed:  # a closed game reads as it stood
                return False
            version = self.store.version()
            if version == self._seen_version:
                return False
            self._seen_version = version
            return self._apply_new()

    def _apply_new(self) -> bool:
        news = self.store.events(after=self._seq)
        for event in news:
            self._apply(event.kind, event.payload, event.at)
            self._seq = event.seq
        return bool(news)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """The game's lock, the state brought up to the log's end first."""
        with self._lock:
            self.sync()
            yield

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The game's lock and the file's write lock, the state brought up to the log's end first: a call checks what
        it is about to log against the state every process will have applied before it, and no other process can log
        in between.  Nothing logged (a refusal): the write lock is given back."""
        with self._lock:
            if self.store.conn.in_transaction:  # a write inside a write (tick -> close): the outer one holds it
                yield
                return
            self.store.begin_write()
            try:
                self._seen_version = self.store.version()
                self._apply_new()
                yield
            finally:
                self.store.end_write()

    def _apply(self, kind: str, p: dict[str, Any], at: float) -> None:
        """Apply one logged event to the state (live, or reading the log again)."""
        if kind.startswith("prediction"):
            self._apply_prediction(kind, p)
        elif kind == "join":
            firm = self.firm_by_key[p["firm"]]
            key = _name_key(p["name"])
            student = self.students.setdefault(key, Student(p["name"], firm))
            student.tokens.add(p["token"])
            self.by_token[p["token"]] = student
        elif kind == "submit":
            self.pending[p["firm"]] = (p["decision"], p["name"], at)
        elif kind == "start":
            self.status, self.opened_at, self.paused_s = "running", at, 0.0
        elif kind == "close":
            self._play_round(p["reason"], at)
        elif kind == "pause":
            self.status, self.paused_at = "paused", at
        elif kind == "resume":
            self.paused_s += at - (self.paused_at if self.paused_at is not None else at)
            self.status, self.paused_at = "running", None
        elif kind == "kick":
            self.students[_name_key(p["name"])].kicked = True
        elif kind == "timer":  # the open round's clock starts again with the new timer
            self.round_seconds = float(p["seconds"])
            if self.opened_at is not None:
                self.opened_at, self.paused_s = at, 0.0
                self.paused_at = at if self.paused_at is not None else None
        elif kind == "end":
            self.status, self.opened_at = "ended", None
        else:
            raise GameError(f"the game's log holds an event this version does not know: {kind[:20]!r}")

    def _play_round(self, reason: str, at: float) -> None:
        """The open round's days, with the decisions it has; then the next round opens (or the game ends)."""
        number = len(self.history) + 1
        first = (number - 1) * self.days_per_round
        end = min(first + self.days_per_round, self.days)
        decisions = {key: d for key, (d, _, _) in self.pending.items()}
        for firm in (f for f in self.firms if f.key in self.pending):
            d, who, when = self.pending[firm.key]
            self.decision_log.append(
                {"round": number, "firm": firm.name, "role": firm.role, "by": who, "at": when, **d}
            )
        self.seats.decide(decisions)
        self.seats.open_round()
        for day in range(first, end):
            if day == end - 1:
                self.seats.last_night()
            self.model.step()
            self._observe_day()
        self.in_force.update(decisions)
        self.history.append(RoundRecord(number, first, end, reason, tuple(sorted(decisions)), at))
        self._settle_predictions(self.history[-1])
        self.pending = {}
        self.opened_at, self.paused_at, self.paused_s = at, None, 0.0
        if self.status == "paused":
            self.status = "running"
        if number >= self.rounds or end >= self.days:
            self.status, self.opened_at = "ended", None

    # -- prediction rounds (abm/classroom/predictions.py) ---------------------------------------------------
    def open_prediction(self, teacher: Any, question: Any, now: float = 0.0) -> dict[str, Any]:
        """Put ``question`` (a key of :data:`QUESTIONS`) to the class about the round now open; returns it."""
        with self._writing():
            self._check_teacher(teacher)
            if self.status == "ended":
                raise GameError("the game has ended")
            q = check_question(question)
            if self.open_question() is not None:
                raise GameError("a prediction is open already: close it first")
            payload = {"prediction": len(self.predictions) + 1, "question": q.key, "round": len(self.history) + 1}
            self._log("prediction-open", payload, now)
            return self.predictions[-1].describe()

    def predict(self, token: Any, value: Any, now: float = 0.0) -> float:
        """The seat's student's answer to the open question (one each, locked once sent); returns it checked."""
        with self._writing():
            student = self._student(token)
            question = self.open_question()
            if question is None:
                raise GameError("no prediction is open: the teacher has not asked one, or has closed it")
            if student.name in question.answers:
                sent = question.answers[student.name]
                raise GameError(f"{student.name} has sent a prediction already ({sent:g} {question.question.unit})")
            number = check_answer(question.question, value)
            self._log("prediction", {"prediction": question.number, "name": student.name, "value": number}, now)
            return number

    def close_prediction(self, teacher: Any, now: float = 0.0) -> dict[str, Any]:
        """Stop taking answers to the open question (its round closing does it too); returns it."""
        with self._writing():
            self._check_teacher(teacher)
            question = self.open_question()
            if question is None:
                raise GameError("no prediction is open")
            self._log("prediction-close", {"prediction": question.number}, now)
            return question.describe()

    def open_question(self) -> Prediction | None:
        """The question taking answers now, if any."""
        with self._reading():
            last = self.predictions[-1] if self.predictions else None
            return last if last is not None and last.open and self.status != "ended" else None

    def predictions_view(self, teacher: Any) -> dict[str, Any]:
        """Every question put to the class, with its answers and (once its round was played) the actual value;
        and the questions the teacher may ask."""
        with self._reading():
            self._check_teacher(teacher)
            return {
                "questions": [q.describe() for q in QUESTIONS.values()],
                "open": self.open_question() is not None,
                "predictions": [p.describe() for p in self.predictions],
            }

    def seat_prediction(self, token: Any) -> dict[str, Any]:
        """What a student sees of the predictions: the open question and its own answer, and the questions of the
        rounds played with the class's answers and the actual value (the class's answers are public, names not)."""
        with self._reading():
            student = self._student(token)
            question = self.open_question()
            return {
                "open": None
                if question is None
                else {**question.question.describe(), "prediction": question.number, "round": question.round},
                "sent": None if question is None else question.answers.get(student.name),
                "results": [p.describe() for p in self.predictions if p.actual is not None],
            }

    def _apply_prediction(self, kind: str, p: dict[str, Any]) -> None:
        if kind == "prediction-open":
            self.predictions.append(Prediction(int(p["prediction"]), QUESTIONS[p["question"]], int(p["round"])))
        elif kind == "prediction":
            self.predictions[int(p["prediction"]) - 1].answers[p["name"]] = float(p["value"])
        elif kind == "prediction-close":
            self.predictions[int(p["prediction"]) - 1].open = False
        else:
            raise GameError(f"the game's log holds an event this version does not know: {kind[:20]!r}")

    def _settle_predictions(self, record: RoundRecord) -> None:
        """The round was played: its questions stop taking answers and get their actual values."""
        for p in self.predictions:
            if p.round == record.number:
                p.open = False
                p.actual = measure(self, p.question, record)

    def _observe_day(self) -> None:
        from tokenomy.abm.classroom.debrief import market_day

        self.market_days.append(market_day(self.model))

    # -- views ------------------------------------------------------------------------------------------
    def seat_view(self, token: Any, now: float = 0.0, firm: str | None = None) -> dict[str, Any]:
        """What the seat sees: the game's state, its firm (its own costs, cash, profit, last round), the market (its
        rivals' posted prices, public prices), and its form (fields, limits, defaults, the computer's proposal)."""
        from tokenomy.abm.classroom.views import seat_view

        with self._reading():
            student = self._student(token)
            self._check_firm(student, firm)
            return seat_view(self, student, now)

    def teacher_view(self, teacher: Any, now: float = 0.0) -> dict[str, Any]:
        """What the teacher sees: the code, the roster, who has decided, every firm's state, the market."""
        from tokenomy.abm.classroom.views import teacher_view

        with self._reading():
            self._check_teacher(teacher)
            return teacher_view(self, now)

    # -- tables ---------------------------------------------------------------------------------------
    def write_tables(self, out: str | Path, fmt: str = "parquet") -> list[str]:
        """The game's tables into the folder ``out`` (made anew: an earlier game's tables there are replaced)."""
        from tokenomy.abm.classroom.tables import write_game_tables

        with self._reading():
            return write_game_tables(self, Path(out), fmt)
