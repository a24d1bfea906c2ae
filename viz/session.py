"""One browser session's state: the model, the sidebar's settings, the loaded lesson and the predictions.

Every value is a Solara reactive made when the page first renders for a session, so sessions never share
state.  ``reset()`` builds a fresh model from the settings (and the loaded lesson's overrides);
``load_lesson()`` sets the scenario and sliders the lesson asks for, then resets.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import solara

from tokenomy.abm.checks import checks_of, horizon_of
from tokenomy.abm.errors import one_line
from tokenomy.abm.lessons.catalog import Lesson, list_lessons
from tokenomy.abm.levers import DEFAULTS
from tokenomy.abm.scenarios import load_scenario, shipped_scenarios
from tokenomy.viz import widget_guard
from tokenomy.viz.model import ChainModel

log = logging.getLogger("tokenomy.viz")

TABS = ("Market", "Lesson", "Checks", "Experiments", "About")
# Play speeds: (pause before each redraw in seconds, days simulated per redraw)
SPEEDS = {"fastest": (0.0, 7), "fast": (0.0, 1), "steady": (0.4, 1), "slow": (1.0, 1)}


def allowed_scenarios(started: str) -> list[str]:
    """The Scenario select's choices: the shipped scenarios and the one the server was started with (a name
    or a file given to ``tokenomy viz``), never a path from the page."""
    shipped = sorted(shipped_scenarios())
    return shipped if started in shipped else [*shipped, started]


@dataclass
class AppSession:
    model: solara.Reactive  # the ChainModel on screen
    scenario: solara.Reactive  # sidebar: scenario name
    seed: solara.Reactive  # sidebar: seed
    levers: solara.Reactive  # sidebar: lever name -> value
    lesson: solara.Reactive  # the loaded lesson's name, "" for none
    predictions: solara.Reactive  # lesson name -> the student's prediction (str or float)
    revealed: solara.Reactive  # lesson names whose outcome the student has opened
    playing: solara.Reactive  # the Play loop runs
    speed: solara.Reactive  # a key of SPEEDS_S
    tab: solara.Reactive  # index into TABS
    classic: solara.Reactive  # market -> figures of the student's last classic-market run
    error: solara.Reactive  # a one-line message when a step fails
    welcome: solara.Reactive  # the first screen's three ways in are shown
    projector: solara.Reactive  # projector view: no sidebar, large type, the run's buttons at the top
    attempts: solara.Reactive  # lesson name -> the session's revealed attempts, oldest first (lessons_view.attempt_of)
    started: str = "classroom"  # the scenario the server was started with
    drawn: int = 0  # the last redraw count the page has finished drawing
    _drawn_changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def mark_drawn(self, count: int) -> None:
        """Called once a redraw has reached the page (from an effect after the render pass)."""
        with self._drawn_changed:
            self.drawn = max(self.drawn, count)
            self._drawn_changed.notify_all()

    def wait_drawn(self, count: int, timeout_s: float = 10.0) -> bool:
        """Wait until redraw ``count`` has been drawn: the Play loop steps the model only between redraws."""
        with self._drawn_changed:
            return self._drawn_changed.wait_for(lambda: self.drawn >= count, timeout=timeout_s)

    @staticmethod
    def new(scenario: str) -> AppSession:
        """A fresh state on ``scenario`` at day 0."""
        r = solara.reactive
        return AppSession(
            model=r(ChainModel(scenario_name=scenario)),
            scenario=r(scenario),
            seed=r(1),
            levers=r(dict(DEFAULTS)),
            lesson=r(""),
            predictions=r({}),
            revealed=r(frozenset()),
            playing=r(False),
            speed=r("fastest"),
            tab=r(0),
            classic=r({}),
            error=r(""),
            welcome=r(True),
            projector=r(False),
            attempts=r({}),
            started=scenario,
        )

    @staticmethod
    def use(scenario: str) -> AppSession:
        """The session's state; call once, from the page component (one state per browser session)."""
        return solara.use_memo(lambda: AppSession.new(scenario), [])

    # ------------------------------------------------------------------------------------------------
    def current_lesson(self) -> Lesson | None:
        return lessons_by_name().get(self.lesson.value)

    def lesson_overrides(self) -> tuple[str, ...]:
        """The loaded lesson's overrides, when the sidebar still shows the lesson's scenario."""
        lesson = self.current_lesson()
        if lesson is None or lesson.scenario != self.scenario.value:
            return ()
        return tuple(lesson.settings)

    def reset(self) -> None:
        """A fresh model from the sidebar's settings; a loaded lesson stays loaded.  A scenario that is not one
        of :func:`allowed_scenarios` is refused (nothing is opened); a model that cannot be built leaves the
        run on screen as it was, with one line saying why."""
        self.playing.set(False)
        widget_guard.notice.set("")
        scenario = self.scenario.value
        if not isinstance(scenario, str) or scenario not in allowed_scenarios(self.started):
            self.error.set("That scenario is not one this server offers: choose one from the list.")
            return
        try:
            model = ChainModel(
                scenario, seed=int(self.seed.value), overrides=self.lesson_overrides(), **self.levers.value
            )
        except Exception as exc:
            log.warning("a session's Reset failed", exc_info=exc)
            self.error.set(one_line(f"Reset failed: {exc}"))
            return
        self.error.set("")
        self.model.set(model)

    def load_lesson(self, lesson: Lesson) -> None:
        """Show the lesson; for a chain lesson set its scenario and sliders and start from day 0.  A new attempt:
        the prediction and the reveal of the last one are cleared (the attempts already revealed are kept)."""
        self.revealed.set(self.revealed.value - {lesson.name})  # first: a reveal never shows without its prediction
        self.predictions.set({k: v for k, v in self.predictions.value.items() if k != lesson.name})
        if lesson.market:
            self.classic.set({k: v for k, v in self.classic.value.items() if k != lesson.market})
        if lesson.scenario:
            levers = {**DEFAULTS, **lesson.levers}
            model = ChainModel(lesson.scenario, seed=1, overrides=tuple(lesson.settings), **levers)
            self.playing.set(False)
            self.error.set("")
            self.model.set(model)  # the world first, so the sidebar never shows the lesson beside the old run
            self.scenario.set(lesson.scenario)
            self.seed.set(1)
            self.levers.set(levers)
        self.lesson.set(lesson.name)

    def leave_lesson(self) -> None:
        self.lesson.set("")

    def restore(self, state: Any) -> list[str]:
        """Rebuild the set-up an address carried (a checked :class:`viz.url_state.UrlState`): the lesson, the
        scenario, seed and levers, the prediction, and the run up to its day.  Returns what was dropped, in words."""
        dropped = list(state.dropped)
        lesson = lessons_by_name().get(state.lesson) if state.lesson else None
        if lesson is not None:
            self.load_lesson(lesson)
        if state.scenario is not None and (lesson is None or not lesson.scenario):
            self.scenario.set(state.scenario)
        if state.seed is not None:
            self.seed.set(state.seed)
        if state.levers:
            self.levers.set({**self.levers.value, **state.levers})
        if state.scenario is not None or state.seed is not None or state.levers:
            self.reset()
        if lesson is not None and state.prediction is not None:
            self.predictions.set({**self.predictions.value, lesson.name: state.prediction})
        if state.day:
            if self.waits_for_prediction():
                dropped.append("day: the lesson's run starts after a prediction")
            else:
                self.model.value.run(state.day)
        if lesson is not None or state.scenario is not None or state.day:
            self.welcome.set(False)
        return dropped

    def query(self) -> str:
        """The address query of the set-up on screen (:func:`viz.url_state.to_query`); the day only while paused."""
        from tokenomy.viz.url_state import to_query

        lesson = self.lesson.value
        day = 0 if self.playing.value else self.model.value.day
        return to_query(
            self.model.value.scenario_name,
            self.model.value.seed_value,
            self.model.value.levers,
            lesson,
            self.predictions.value.get(lesson),
            day,
        )

    def run_started(self, lesson: Lesson) -> bool:
        """Whether this attempt's run has begun: the chain lesson's world has left day 0, or the classic lesson's
        market has been run.  A prediction can be saved only before."""
        if lesson.scenario:
            model = self.model.value
            return model.scenario_name != lesson.scenario or model.day > 0
        return lesson.market in self.classic.value

    def waits_for_prediction(self) -> bool:
        """Play and Step wait: a chain lesson is loaded, the world on screen is its, and no prediction is saved."""
        lesson = self.current_lesson()
        return (
            lesson is not None
            and bool(lesson.scenario)
            and self.model.value.scenario_name == lesson.scenario
            and lesson.name not in self.predictions.value
        )

    def keep_attempt(self, lesson: Lesson, attempt: dict) -> None:
        """Add a revealed attempt to the lesson's list (the reveal shows them all, side by side)."""
        kept = self.attempts.value.get(lesson.name, [])
        self.attempts.set({**self.attempts.value, lesson.name: [*kept, attempt]})

    def stop_day(self) -> int | None:
        """The next day Play stops at by itself, after today: the loaded chain lesson's reveal day, then the day its
        scenario's last check is judged (so Play after the reveal plays on to that day, as it did to the reveal,
        not one day a press); None once both are behind (Play plays on)."""
        lesson = self.current_lesson()
        model = self.model.value
        if lesson is None or lesson.scenario != model.scenario_name:
            return None
        stops = [d for d in (reveal_day(lesson), judged_day(lesson)) if d is not None and d > model.day]
        return min(stops) if stops else None


def lessons_by_name() -> dict[str, Lesson]:
    return {lesson.name: lesson for lesson in _lessons()}


_CACHE: dict[str, Any] = {}


def _lessons() -> list[Lesson]:
    if "lessons" not in _CACHE:
        _CACHE["lessons"] = list_lessons()
    return _CACHE["lessons"]


def reveal_check(lesson: Lesson) -> dict | None:
    """The scenario check a chain lesson's reveal measures (validated), or None for a classic lesson."""
    name = lesson.reveal.get("check")
    if not lesson.scenario or not name:
        return None
    checks = checks_of(load_scenario(lesson.scenario, list(lesson.settings)))
    return next(c for c in checks if c["name"] == name)


def judged_day(lesson: Lesson) -> int | None:
    """The day a chain lesson's scenario has judged all its checks (their last window's end)."""
    if not lesson.scenario:
        return None
    checks = checks_of(load_scenario(lesson.scenario, list(lesson.settings)))
    return max((horizon_of(c) for c in checks), default=None)


def reveal_day(lesson: Lesson) -> int | None:
    """The day a chain lesson's run must reach before its outcome can be shown."""
    check = reveal_check(lesson)
    return None if check is None else horizon_of(check)
