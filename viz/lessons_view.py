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
from tokenomy.abm.metric_words import fmt_number
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


@solara.component
def Prediction(session: AppSession, lesson: Lesson):
    saved = session.predictions.value.get(lesson.name)
    draft, set_draft = solara.use_state(DIRECTIONS[0] if lesson.prediction == "direction" else None)
    what = lesson.reveal.get("label", "the outcome")
    unit = lesson.reveal.get("unit", "")
    revealed = lesson.name in session.revealed.value
    with (
        solara.Card("Your prediction", style={"background": "#f6f9ff"}),
        solara.Div(attributes={"data-testid": "prediction"}),
    ):
        ask = "Will it go up, down or not change?" if lesson.prediction == "direction" else "Type your number."
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"Before you run: {html.escape(what)}. {ask}",
            style={"font-size": "15px", "margin-bottom": "8px"},
        )
        if not revealed:
            if lesson.prediction == "direction":
                solara.ToggleButtonsSingle(value=draft, values=list(DIRECTIONS), on_value=set_draft)
            else:
                solara.InputFloat(
                    f"your prediction{', ' + unit if unit else ''}",
                    value=draft,
                    on_value=set_draft,
                    continuous_update=True,
                )
            solara.Button(
                "Save my prediction",
                color="primary",
                small=True,
                disabled=draft is None,
                on_click=lambda: session.predictions.set({**session.predictions.value, lesson.name: draft}),
            )
        if saved is not None:
            shown = saved if lesson.prediction == "direction" else f"{fmt_number(float(saved))} {unit}"
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"Saved: <b>{html.escape(str(shown))}</b>",
                attributes={"data-testid": "saved-prediction", "data-value": str(saved)},
            )


@solara.component
def Reveal(session: AppSession, lesson: Lesson):
    update_counter.get()
    model = session.model.value
    predicted = session.predictions.value.get(lesson.name)
    revealed = lesson.name in session.revealed.value
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
    with solara.Card("What happened", style={"background": "#fbfaf4"}):
        with solara.Div(attributes={"data-testid": "reveal-status", "data-ready": str(ready).lower()}):
            solara.Text(status + ("" if predicted is not None else " Save a prediction first."))
        if not revealed:
            solara.Button(
                "Show what happened",
                color="primary",
                disabled=not can_open,
                on_click=lambda: session.revealed.set(session.revealed.value | {lesson.name}),
            )
            return
        if not ready:
            solara.Text("The run was reset: play it to the lesson's day again to see the outcome.")
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
            if lesson.scenario:
                solara.Button(
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
            ClassicMarkets(
                market=lesson.market,
                gated=True,
                on_result=lambda key, figures: session.classic.set({**session.classic.value, key: figures}),
            )
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
