"""The sidebar: Reset / Step / Play, the speed, the scenario and the sliders, each showing its value and unit."""

from __future__ import annotations

import html
import logging
import time

import solara
import solara.lab
from mesa.visualization.utils import force_update, update_counter

from tokenomy.abm.errors import one_line
from tokenomy.abm.levers import LEVERS
from tokenomy.viz import widget_guard
from tokenomy.viz.markdown import LabelledSlider
from tokenomy.viz.session import SPEEDS, AppSession, allowed_scenarios
from tokenomy.viz.url_state import SEED_RANGE

log = logging.getLogger("tokenomy.viz")

BREATH_S = 0.03  # the least pause between two redraws of the Play loop


def play_days(
    session: AppSession, pause_s: float | None = None, until_day: int | None = None, wait_for_page: bool = False
) -> None:
    """Step the model while ``session.playing`` is on: the Play button's loop.

    At the session's speed it pauses, simulates one day (a week at "fastest") and redraws; it stops by
    itself on the loaded lesson's reveal day (or on ``until_day``), and on an error (shown as one line in
    the sidebar).  With ``wait_for_page`` (the Play button) it waits after each redraw until the page has
    drawn it, as the panels read the model while they draw.
    """
    try:
        while session.playing.value:
            pause, days = SPEEDS[session.speed.value]
            pause = pause if pause_s is None else pause_s
            # never less than a short breath: the loop would otherwise take the page's lock again at once and
            # starve the websocket thread, so a Pause click could wait many redraws to be handled
            time.sleep(max(pause, BREATH_S))
            if not session.playing.value:  # paused during the breath: no further frame
                break
            model = session.model.value
            stop = session.stop_day() if until_day is None else until_day
            for _ in range(days):
                if not session.playing.value:  # paused within a week: draw the days done, then stop
                    break
                model.step()
                if stop is not None and model.day >= stop:
                    session.playing.set(False)
                    break
            redraw = update_counter.value + 1
            force_update()
            if wait_for_page:
                session.wait_drawn(redraw)
    except Exception as exc:  # one line for the student; the traceback goes to the server log (rate-limited)
        stopped(session, exc)
        session.playing.set(False)


def stopped(session: AppSession, exc: Exception) -> None:
    """Say in the sidebar, in one line, that the simulation stopped and why; the log has the traceback."""
    log.warning("a session's simulation stopped", exc_info=exc)
    session.error.set(one_line(f"The simulation stopped on day {session.model.value.day}: {exc}"))


def step_once(session: AppSession) -> None:
    try:
        session.model.value.step()
    except Exception as exc:
        stopped(session, exc)
    force_update()


@solara.component
def RunButtons(session: AppSession):
    update_counter.get()
    playing = session.playing.value
    solara.lab.use_task(lambda: play_days(session, wait_for_page=True), dependencies=[playing], prefer_threaded=True)
    count = update_counter.value
    solara.use_effect(lambda: session.mark_drawn(count), [count])
    with solara.Row(style={"gap": "6px", "flex-wrap": "wrap"}):
        solara.Button(
            "Reset",
            color="primary",
            outlined=True,
            on_click=session.reset,
            attributes={"title": "Start again from day 0 with the settings below"},
        )
        waiting = session.waits_for_prediction()
        solara.Button(
            "Pause" if playing else "Play",
            color="primary",
            icon_name="mdi-pause" if playing else "mdi-play",
            disabled=waiting and not playing,
            on_click=lambda: session.playing.set(not session.playing.value),
        )
        solara.Button(
            "Step",
            color="primary",
            outlined=True,
            disabled=playing or waiting,
            on_click=lambda: step_once(session),
            attributes={"title": "Simulate one more day"},
        )
    if session.waits_for_prediction():
        solara.Text(
            "Save your prediction in the Lesson tab first: the run starts after it.",
            style={"font-size": "12px", "color": "#b26a00"},
        )
    solara.ToggleButtonsSingle(value=session.speed.value, values=list(SPEEDS), on_value=session.speed.set, dense=True)
    if session.speed.value == "fastest":
        solara.Text("Fastest draws the charts once a simulated week.", style={"font-size": "12px"})
    stop = session.stop_day()
    if stop is not None:
        solara.Text(f"Play stops by itself on day {stop} for this lesson.", style={"font-size": "12px"})
    elif session.current_lesson() is not None and session.current_lesson().scenario:
        solara.Text("The lesson's days are done: Play plays on.", style={"font-size": "12px"})
    if session.error.value:
        solara.Error(session.error.value, dense=True)
    if widget_guard.notice.value:
        with solara.Div(attributes={"data-testid": "refused"}):
            solara.Warning(widget_guard.notice.value, dense=True)


# card titles wrap between words, never inside one ("provider / s")
PAGE_CSS = ".v-card__title { word-break: normal !important; }"
UNIT_WORDS = {"mwh": "MWh", "mw": "MW", "days": "days", "cny": "CNY"}
SECTION_WORDS = {
    "apps": "app",
    "aidcs": "AI data centre",
    "providers": "provider",
    "enterprises": "firm segment",
    "storage": "battery",
    "lines": "line",
    "zones": "zone",
    "utilities": "utility",
}


def override_in_words(override: str) -> str:
    """``storage.west-battery.energy_mwh=800`` as ``west-battery: energy 800 MWh``; ``*`` reads as "every"."""
    path, _, value = override.partition("=")
    parts = path.split(".")
    if len(parts) != 3:
        return override
    section, name, key = parts
    words = key.split("_")
    unit = UNIT_WORDS.get(words[-1], "") if len(words) > 1 else ""
    if unit:
        words = words[:-1]
    who = f"every {SECTION_WORDS.get(section, section)}" if name == "*" else name
    return f"{who}: {' '.join(words)} {value} {unit}".rstrip()


@solara.component
def Settings(session: AppSession):
    """The world the next Reset builds: scenario, seed and the levers."""
    lesson = session.current_lesson()
    model = session.model.value
    solara.HTML(
        tag="div",
        unsafe_innerHTML="<b>Settings</b> (apply when you press Reset)",
        style={"font-size": "14px", "margin-top": "10px"},
    )
    solara.Select(
        "Scenario",
        value=session.scenario.value,
        values=allowed_scenarios(session.started),
        on_value=session.scenario.set,
    )
    LabelledSlider(
        f"Seed (which random draws): {session.seed.value}",
        value=session.seed.value,
        min=SEED_RANGE[0],
        max=SEED_RANGE[1],
        step=1,
        integer=True,
        on_value=session.seed.set,
        testid="slider-seed",
    )
    levers = session.levers.value
    for lever in LEVERS:
        LabelledSlider(
            lever.show(levers[lever.name]),
            value=levers[lever.name],
            min=lever.min,
            max=lever.max,
            step=lever.step,
            integer=lever.integer,
            testid=f"slider-{lever.name}",
            on_value=lambda v, name=lever.name: session.levers.set({**session.levers.value, name: v}),
        )
    if lesson is not None and lesson.scenario and lesson.scenario == session.scenario.value and lesson.settings:
        solara.Text(
            "The lesson also sets: " + "; ".join(override_in_words(x) for x in lesson.settings),
            style={"font-size": "12px"},
        )
    changed = (
        session.scenario.value != model.scenario_name
        or int(session.seed.value) != model.seed_value
        or any(levers[k] != v for k, v in model.levers.items())
    )
    if changed:
        solara.Text("Press Reset to apply these settings.", style={"font-size": "12px", "color": "#b26a00"})


@solara.component
def Sidebar(session: AppSession):
    lesson = session.current_lesson()
    solara.Style(PAGE_CSS)
    classic = lesson is not None and not lesson.scenario
    with solara.Div(attributes={"data-testid": "sidebar"}):
        if not classic:  # a classic-market lesson runs its own market: the chain's controls would do nothing
            RunButtons(session)
        if lesson is not None:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"Lesson: <b>{html.escape(lesson.title)}</b>",
                attributes={"data-testid": "sidebar-lesson"},
                style={"font-size": "13px", "margin": "6px 0"},
            )
        if classic:
            solara.Text(
                "This lesson's market has its own controls, in the Lesson tab. The chain's Play and settings come "
                "back when you leave the lesson.",
                style={"font-size": "12px"},
            )
            solara.Button("Leave the lesson", small=True, outlined=True, on_click=session.leave_lesson)
        else:
            Settings(session)
