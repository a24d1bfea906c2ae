"""The Lesson tab: pick a lesson, predict, run it in the app, then see the prediction beside the run.

A lesson's reveal is measured on the student's own run: for a chain lesson one of its scenario's checks
(after the run has reached that check's last day), for a classic-market lesson the market the student ran.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import solara
from mesa.visualization.utils import update_counter

from tokenomy.abm.checks import evaluate, outcome_in_words
from tokenomy.abm.lessons.catalog import DIRECTIONS, Lesson, sections
from tokenomy.abm.levers import LEVERS
from tokenomy.abm.metric_words import fmt_number
from tokenomy.viz import charts
from tokenomy.viz.figure import Figure
from tokenomy.viz.markdown import Markdown
from tokenomy.viz.session import AppSession, lessons_by_name, reveal_check, reveal_day
from tokenomy.viz.teaching import TABLE_CSS, ClassicMarkets, _Tables, baseline_tables

NO_CHANGE_BAND = 0.02  # a relative change within +-2% reads as "no change"
MARKET_WORDS = {
    "call-market": "classic market: call market",
    "double-auction": "classic market: double auction",
    "cobweb": "classic market: cobweb",
    "algorithmic-pricing": "classic market: algorithmic pricing",
}


def direction_of(change: float) -> str:
    """'up', 'down' or 'no change' for a relative change (or a cobweb ratio minus one)."""
    if math.isnan(change):
        return "no change"
    if change > NO_CHANGE_BAND:
        return "up"
    if change < -NO_CHANGE_BAND:
        return "down"
    return "no change"


def chain_outcome(lesson: Lesson, model) -> dict:
    """The reveal of a chain lesson on the model's run: measured figures and the words for them."""
    check = reveal_check(lesson)
    base = None
    if check["compare"] == "baseline":
        base = baseline_tables(model, tuple(check["baseline"]), reveal_day(lesson))
    result = evaluate(check, _Tables(model), model.seed_value, base)
    return {
        "measured": result.compared,
        "direction": direction_of(result.compared),
        "words": outcome_in_words(check, result),
    }


def classic_outcome(lesson: Lesson, figures: dict) -> dict:
    metric = lesson.reveal["metric"]
    value = float(figures[metric])
    if lesson.prediction == "direction":  # the cobweb: swings grow (ratio > 1) or shrink
        return {
            "measured": value,
            "direction": direction_of(value - 1.0),
            "words": f"The measured ratio of one swing to the last is {value:.3g}.",
        }
    unit = lesson.reveal.get("unit", "")
    return {"measured": value, "direction": "", "words": f"Your run: {fmt_number(value)} {unit}.".replace(" .", ".")}


def verdict(lesson: Lesson, predicted, outcome: dict) -> str:
    if lesson.prediction == "direction":
        same = predicted == outcome["direction"]
        return f"You predicted **{predicted}**; your run went **{outcome['direction']}**. " + (
            "Your prediction matches." if same else "Your prediction differs: why?"
        )
    unit = lesson.reveal.get("unit", "")
    gap = outcome["measured"] - float(predicted)
    return (
        f"You predicted **{fmt_number(float(predicted))} {unit}**; your run gave "
        f"**{fmt_number(outcome['measured'])} {unit}** (a difference of {fmt_number(gap)} {unit})."
    )


CARD_CHARS = 170  # about three lines of a lesson card


def card_text(question: str, limit: int = CARD_CHARS) -> str:
    """A lesson's question on its card: the first sentence, cut at a word (never mid-word) if it is long."""
    first = " ".join(question.split()).split(". ")[0].rstrip(".")
    if len(first) <= limit:
        return first + ("." if not first.endswith("?") else "")
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


@solara.component
def LessonPicker(session: AppSession):
    lessons = list(lessons_by_name().values())
    Markdown(
        "## Lessons\nEach lesson asks a question, takes your prediction, runs in this app and then "
        "puts your prediction beside what your own run shows."
    )
    with solara.Div(
        style={"display": "grid", "grid-template-columns": "repeat(auto-fill, minmax(320px, 1fr))", "gap": "12px"}
    ):
        for lesson in lessons:
            where = f"scenario {lesson.scenario}" if lesson.scenario else MARKET_WORDS.get(lesson.market, "")
            with solara.Card(
                lesson.title,
                subtitle=f"Lesson {lesson.order} · {where} · {lesson.minutes} min",
                style={"height": "100%"},
            ):
                question = sections(lesson).get("The question", "")
                # the same height for every card's text, so the buttons line up
                solara.Text(card_text(question), style={"font-size": "13px", "display": "block", "min-height": "5.2em"})
                with solara.Div(attributes={"data-testid": f"load-{lesson.name}"}):
                    solara.Button(
                        "Load this lesson",
                        color="primary",
                        small=True,
                        on_click=lambda lesson=lesson: session.load_lesson(lesson),
                    )


@solara.component
def TeacherView(lesson: Lesson):
    solara.Style(TABLE_CSS)
    rows = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in lesson.timing)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>For the teacher: a {lesson.minutes}-minute class</b>"
            f"<table class='tk-table tk-left'><tr><th>time</th><th>what happens</th></tr>{rows}</table>"
        ),
        attributes={"data-testid": "teacher-timing"},
        style={"font-size": "14px"},
    )
    parts = sections(lesson)
    Markdown(
        "### Expected outcome\n"
        + parts.get("Expected outcome", "")
        + "\n\n### On the command line\n`"
        + lesson.command
        + "`\n\n"
        + parts.get("On the command line", "")
    )


def parse_prediction(text: str) -> float | None:
    """A typed number prediction, or None when the box is empty; ValueError (said in the page) when it is not a
    finite number."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"'{text[:20]}' is not a number") from None
    if not math.isfinite(value):
        raise ValueError("type a finite number")
    return value


@solara.component
def Prediction(session: AppSession, lesson: Lesson):
    """The prediction, saved before the run starts and locked with it: it cannot be typed after the run has begun
    (a new attempt starts with "Load this lesson again")."""
    saved = session.predictions.value.get(lesson.name)
    draft, set_draft = solara.use_state(DIRECTIONS[0] if lesson.prediction == "direction" else "")
    what = lesson.reveal.get("label", "the outcome")
    unit = lesson.reveal.get("unit", "")
    started = session.run_started(lesson)
    with (
        solara.Card("Your prediction", style={"background": "#f6f9ff"}),
        solara.Div(attributes={"data-testid": "prediction", "data-locked": str(saved is not None).lower()}),
    ):
        ask = "Will it go up, down or not change?" if lesson.prediction == "direction" else "Type your number."
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"Before you run: {html.escape(what)}. {ask}",
            style={"font-size": "15px", "margin-bottom": "8px"},
        )
        if saved is None and started:
            solara.Text(
                "This run has started without a prediction: press Load this lesson again to start over, and predict "
                "first.",
                style={"color": "#b26a00"},
            )
        elif saved is None:
            problem, value = "", None
            if lesson.prediction == "direction":
                solara.ToggleButtonsSingle(value=draft, values=list(DIRECTIONS), on_value=set_draft)
                value = draft
            else:
                solara.InputText(
                    f"your prediction{', ' + unit if unit else ''}",
                    value=draft,
                    on_value=set_draft,
                    continuous_update=True,
                )
                try:
                    value = parse_prediction(draft)
                except ValueError as exc:  # said only once something is typed: an empty box is not an error
                    problem = str(exc)
                if problem:
                    solara.Text(problem, style={"color": "#c62828", "font-size": "13px"})
            solara.Button(
                "Save my prediction",
                color="primary",
                small=True,
                disabled=value is None,
                on_click=lambda: session.predictions.set({**session.predictions.value, lesson.name: value}),
            )
        else:
            shown = saved if lesson.prediction == "direction" else f"{fmt_number(float(saved))} {unit}"
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"Saved and locked for this run: <b>{html.escape(str(shown))}</b>",
                attributes={"data-testid": "saved-prediction", "data-value": str(saved)},
            )


def attempt_of(session: AppSession, lesson: Lesson, predicted, outcome: dict) -> dict:
    """What the reveal keeps of an attempt: the prediction, the outcome and the set-up it ran with."""
    if lesson.scenario:
        model = session.model.value
        moved = [lever.show(model.levers[lever.name]) for lever in LEVERS if model.levers[lever.name] != lever.default]
        setup = ", ".join([f"seed {model.seed_value}", *moved])
    else:
        setup = f"run {len(session.attempts.value.get(lesson.name, [])) + 1}"
    return {"predicted": predicted, "measured": outcome["measured"], "direction": outcome["direction"], "setup": setup}


def attempts_option(lesson: Lesson, attempts: list[dict]) -> dict:
    """Prediction against outcome for every attempt of the session, side by side: bars of the number predicted and
    measured, or (a direction lesson) the measured change with the predicted direction under each bar."""
    names = [f"#{i + 1}" for i in range(len(attempts))]
    unit = lesson.reveal.get("unit", "")
    if lesson.prediction == "direction":
        series = [
            {
                "name": "the outcome (change)",
                "type": "bar",
                "data": [round(100 * a["measured"], 2) for a in attempts],
                "label": {"show": True, "position": "top", "formatter": "{c}%"},
            }
        ]
        names = [f"#{i + 1}: you said {a['predicted']}" for i, a in enumerate(attempts)]
        axis = "change, %"
    else:
        series = [
            {"name": "your prediction", "type": "bar", "data": [float(a["predicted"]) for a in attempts]},
            {"name": "the outcome", "type": "bar", "data": [round(float(a["measured"]), 4) for a in attempts]},
        ]
        axis = unit or "value"
    return {
        **charts.BASE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "top": 30, "bottom": 40},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"fontSize": 11, "interval": 0}},
        "yAxis": {"type": "value", "name": axis, "nameLocation": "middle", "nameGap": 44},
        "series": series,
    }


@solara.component
def Attempts(session: AppSession, lesson: Lesson):
    """Every revealed attempt of this session, prediction beside outcome, in a table and a small chart."""
    attempts = session.attempts.value.get(lesson.name, [])
    if not attempts:
        return
    unit = lesson.reveal.get("unit", "")

    def shown(value) -> str:
        return str(value) if isinstance(value, str) else f"{fmt_number(float(value))} {unit}".strip()

    rows = "".join(
        f"<tr><td>#{i + 1}</td><td>{html.escape(a['setup'])}</td><td>{html.escape(shown(a['predicted']))}</td>"
        f"<td>{html.escape(a['direction'] if lesson.prediction == 'direction' else shown(a['measured']))}</td></tr>"
        for i, a in enumerate(attempts)
    )
    with solara.Div(attributes={"data-testid": "attempts", "data-count": str(len(attempts))}):
        solara.HTML(
            tag="table",
            unsafe_innerHTML=(
                f"<tr><th>attempt</th><th>set-up</th><th>you predicted</th><th>the outcome</th></tr>{rows}"
            ),
            classes=["tk-table", "tk-left"],
        )
        Figure(attempts_option(lesson, attempts), 220)


@solara.component
def Reveal(session: AppSession, lesson: Lesson):
    update_counter.get()
    model = session.model.value
    predicted = session.predictions.value.get(lesson.name)
    revealed = lesson.name in session.revealed.value and predicted is not None
    figures = session.classic.value.get(lesson.market) if not lesson.scenario else None
    if lesson.scenario:
        day = reveal_day(lesson)
        right_world = model.scenario_name == lesson.scenario and tuple(model.extra_overrides) == lesson.settings
        ready = right_world and model.day >= day
        date = (model.start_date + dt.timedelta(days=day)).isoformat()
        if not right_world:
            status = "The sidebar's world is not this lesson's: press Load this lesson again."
        elif ready:
            status = f"Your run has reached day {day} ({date})."
        else:
            status = f"Your run is on day {model.day}; the outcome opens on day {day} ({date}). Press Play."
    else:
        ready = figures is not None
        status = "Your market has run." if ready else "Run the market above first."
    can_open = ready and predicted is not None

    def open_outcome() -> None:
        outcome = chain_outcome(lesson, model) if lesson.scenario else classic_outcome(lesson, figures)
        session.keep_attempt(lesson, attempt_of(session, lesson, predicted, outcome))
        session.revealed.set(session.revealed.value | {lesson.name})

    with solara.Card("What happened", style={"background": "#fbfaf4"}):
        with solara.Div(attributes={"data-testid": "reveal-status", "data-ready": str(ready).lower()}):
            solara.Text(status + ("" if predicted is not None else " Save a prediction first."))
        if not revealed:
            solara.Button("Show what happened", color="primary", disabled=not can_open, on_click=open_outcome)
            Attempts(session, lesson)
            return
        if not ready:
            solara.Text("The run was reset: play it to the lesson's day again to see the outcome.")
            Attempts(session, lesson)
            return
        outcome = chain_outcome(lesson, model) if lesson.scenario else classic_outcome(lesson, figures)
        with solara.Div(
            attributes={
                "data-testid": "reveal",
                "data-predicted": str(predicted),
                "data-measured": f"{outcome['measured']:.6g}",
                "data-direction": outcome["direction"],
            }
        ):
            Markdown(verdict(lesson, predicted, outcome) + "\n\n" + outcome["words"])
        solara.Text("Every attempt of this session (Load this lesson again for another):", style={"font-size": "13px"})
        Attempts(session, lesson)


@solara.component
def LessonView(session: AppSession, lesson: Lesson):
    teacher, set_teacher = solara.use_state(False)
    parts = sections(lesson)
    revealed = lesson.name in session.revealed.value
    with solara.Div(
        attributes={"data-testid": "lesson-view", "data-lesson": lesson.name}, style={"max-width": "980px"}
    ):
        with solara.Row(style={"align-items": "center", "gap": "12px"}):
            solara.Button("All lessons", text=True, icon_name="mdi-arrow-left", on_click=session.leave_lesson)
            solara.Button(  # a new attempt: a fresh run and a fresh prediction; the revealed ones are kept
                "Load this lesson again", small=True, outlined=True, on_click=lambda: session.load_lesson(lesson)
            )
            solara.Switch(label="Teacher's view", value=teacher, on_value=set_teacher)
        Markdown(f"# {lesson.title}")
        if teacher:
            TeacherView(lesson)
        Markdown("## The question\n" + parts.get("The question", ""), testid="lesson-question")
        Prediction(session, lesson)
        Markdown("## Steps in the app\n" + parts.get("Steps in the app", ""), testid="lesson-steps")
        if lesson.market and not lesson.scenario:
            saved = lesson.name in session.predictions.value
            ClassicMarkets(
                market=lesson.market,
                gated=True,
                locked=not saved,
                on_result=lambda key, figures: session.classic.set({**session.classic.value, key: figures}),
            ).key(f"{lesson.name}-{saved}")  # a new attempt (a new prediction) starts with the market not yet run
        Reveal(session, lesson)
        if revealed:
            Markdown(
                "\n\n".join(f"## {k}\n{parts[k]}" for k in ("What to watch", "Discussion", "Theory") if k in parts),
                testid="lesson-after",
            )


@solara.component
def LessonPage(session: AppSession):
    lesson = session.current_lesson()
    if lesson is None:
        LessonPicker(session)
    else:
        LessonView(session, lesson)
