"""The teacher's page (a monitor for the projector, as oTree's): the join code, link and QR code, the roster and
who has decided, the controls, the market's prices live, and each firm's state.

The page opens with the teacher's link (``/teacher?game=CODE&key=KEY``); every control is the engine's call with
that key, so a page without the teacher's key sees and does nothing here (the engine refuses it, whatever a
browser sends).  The page has three sections: Monitor (here), Predictions and Debrief, whose bodies are other
modules' components, wired in :data:`SECTIONS` (each takes the hosted game and the teacher's key).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import solara
import solara.lab

from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.environment import PUBLIC_URL_ENV  # the server's address as students reach it (checked at start)
from tokenomy.abm.errors import one_line
from tokenomy.viz import charts
from tokenomy.viz.classroom.debrief import DebriefPanel, PredictionPanel
from tokenomy.viz.classroom.hub import HUB, Hosted
from tokenomy.viz.classroom.parts import BIG, countdown, facts_table, game_line, qr_svg, use_game_version
from tokenomy.viz.figure import Figure

CHART_HEIGHT_PX = 330


def join_link(code: str) -> str:
    base = os.environ.get(PUBLIC_URL_ENV, "").rstrip("/")
    return f"{base}/join?code={code}"


def teacher_query(search: str | None) -> tuple[str, str]:
    """(join code, key) of a teacher's link's query."""
    q = parse_qs(search or "", max_num_fields=5)
    return q.get("game", [""])[0][:20], q.get("key", [""])[0][:200]


@solara.component
def Controls(hosted: Hosted, key: str, state: dict[str, Any], names: list[str]):
    message, set_message = solara.use_state("")
    confirm_end, set_confirm_end = solara.use_state(False)
    kick_name, set_kick_name = solara.use_state(None)
    game = hosted.game
    seconds, set_seconds = solara.use_state(str(int(game.round_seconds)))

    def do(call: Callable[..., Any], *args: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                HUB.act(hosted, call, key, *args)
            except GameError as exc:
                set_message(one_line(str(exc)))
                return
            set_message("")

        return run

    def set_timer(on: bool) -> None:
        try:
            value = float(seconds) if on else 0.0
        except ValueError:
            set_message(f"the round timer takes a number of seconds, not {seconds[:20]!r}")
            return
        do(game.set_timer, value)()

    status = state["status"]
    with solara.Row(style={"gap": "8px", "flex-wrap": "wrap", "align-items": "center"}):
        if status == "lobby":
            solara.Button("Start the game", color="primary", on_click=do(game.start))
        if status == "running":
            solara.Button("Pause", on_click=do(game.pause))
        if status == "paused":
            solara.Button("Resume", color="primary", on_click=do(game.resume))
        if status in ("running", "paused"):
            solara.Button("Advance the round now", on_click=do(game.close_round))
        if status != "ended":
            if not confirm_end:
                solara.Button("End the game", color="error", outlined=True, on_click=lambda: set_confirm_end(True))
            else:
                solara.Button("Yes, end it", color="error", on_click=do(game.end))
                solara.Button("No", text=True, on_click=lambda: set_confirm_end(False))
    if status != "ended":
        with solara.Row(style={"gap": "8px", "flex-wrap": "wrap", "align-items": "center"}):
            timer_on = game.round_seconds > 0
            solara.Switch(label="Round timer", value=timer_on, on_value=set_timer)
            solara.InputText("Seconds a round", value=seconds, on_value=set_seconds, continuous_update=True)
            solara.Button("Set the timer", outlined=True, on_click=lambda: set_timer(True))
            if names:
                solara.Select("Student", values=names, value=kick_name, on_value=set_kick_name)
                solara.Button(
                    "Kick", color="error", outlined=True, on_click=lambda: kick_name and do(game.kick, kick_name)()
                )
    if message:
        with solara.Div(attributes={"data-testid": "teacher-error"}):
            solara.Error(message, dense=True)


def tables_folder(hosted: Hosted) -> Path:
    """Where the teacher's page writes the game's tables: beside the game's file."""
    return hosted.path.with_name(hosted.path.stem + "-tables")


@solara.component
def Export(hosted: Hosted, key: str):
    """The game's tables (decisions, rounds, daily, hourly, agents; CSV and Parquet) beside its file: the same files
    ``tokenomy classroom export`` writes."""
    message, set_message = solara.use_state("")

    def write() -> None:
        try:
            hosted.game.teacher_view(key, HUB.clock())  # the teacher's alone
            files = hosted.game.write_tables(tables_folder(hosted), ("csv", "parquet"))
        except (GameError, OSError) as exc:
            set_message(one_line(f"The tables were not written: {exc}"))
            return
        set_message(f"{len(files)} files written in {tables_folder(hosted)}")

    with solara.Row(style={"gap": "8px", "align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Write the game's tables", outlined=True, on_click=write)
        if message:
            solara.HTML(tag="span", unsafe_innerHTML=html.escape(message), attributes={"data-testid": "export-note"})


def _roster_html(view: dict[str, Any]) -> str:
    decided = {f["firm"]: f["decided"] for f in view["firms"]}
    rows = "".join(
        f"<tr><td>{html.escape(s['name'])}</td><td>{html.escape(s['firm'])}</td>"
        f"<td>{'removed' if s['kicked'] else ('decided' if decided.get(s['firm']) else 'deciding')}</td></tr>"
        for s in view["roster"]
    )
    head = "<tr><th align=left>student</th><th align=left>firm</th><th align=left>this round</th></tr>"
    return head + rows if rows else "<tr><td>Nobody has joined yet.</td></tr>"


@solara.component
def PriceChart(hosted: Hosted, day: int):
    def read():
        with hosted.game.lock:
            model = hosted.game.model
            daily = model.daily_table()
            return daily, charts.zone_daily_prices(model)[: len(daily)], model

    daily, zones, model = solara.use_memo(read, [hosted, day])
    with (
        solara.Card("Prices, day by day", style={"height": "100%"}),
        solara.Div(attributes={"data-testid": "game-prices", "data-days": str(len(daily))}),
    ):
        if daily.empty:
            Figure(charts.not_yet(), CHART_HEIGHT_PX)
        else:
            Figure(charts.price_history(model, daily, False, CHART_HEIGHT_PX, zone_prices=zones), CHART_HEIGHT_PX)


@solara.component
def Monitor(hosted: Hosted, key: str):
    use_game_version(hosted, hosted.glance)
    try:
        view = hosted.game.teacher_view(key, HUB.clock())
    except GameError as exc:
        solara.Error(one_line(str(exc)))
        return
    state = view["game"]
    link = join_link(view["code"])
    with solara.Row(style={"gap": "24px", "align-items": "center", "flex-wrap": "wrap"}):
        solara.HTML(tag="div", unsafe_innerHTML=qr_svg(link), attributes={"data-testid": "join-qr"})
        with solara.Column(gap="4px"):
            solara.Text("Join code", style=BIG)
            solara.HTML(
                tag="div",
                unsafe_innerHTML=html.escape(view["code"]),
                attributes={"data-testid": "join-code", "data-code": view["code"]},
                style={"font-size": "64px", "font-weight": "700", "letter-spacing": "6px"},
            )
            solara.HTML(
                tag="div",
                unsafe_innerHTML=html.escape(link),
                attributes={"data-testid": "join-link"},
                style={"font-size": "20px"},
            )
    with solara.Div(
        attributes={
            "data-testid": "teacher-state",
            "data-status": state["status"],
            "data-rounds-played": str(state["rounds_played"]),
            "data-joined": str(len(view["roster"])),
        }
    ):
        solara.Text(game_line(state), style={"font-size": "20px"})
        waiting = state["waiting_for"]
        solara.Text("Still deciding: " + (", ".join(waiting) if waiting else "nobody"), style=BIG)
        countdown(state["seconds_left"], state["status"] == "running")
    names = [s["name"] for s in view["roster"] if not s["kicked"]]
    Controls(hosted, key, state, names)
    Export(hosted, key)
    with solara.Columns([5, 7]):
        with solara.Card("Who has joined", style={"height": "100%"}):
            solara.HTML(tag="table", unsafe_innerHTML=_roster_html(view), attributes={"data-testid": "roster"})
        PriceChart(hosted, state["day"])
    with solara.Div(style={"display": "flex", "flex-wrap": "wrap", "gap": "12px"}):
        for firm in view["firms"]:
            title = f"{firm['firm']} ({firm['role']})" + (" · decided" if firm["decided"] else "")
            with solara.Card(title, style={"min-width": "260px", "flex": "1"}):
                solara.Text("team: " + (", ".join(firm["students"]) or "the computer"))
                facts_table({k: v for k, v in firm["state"].items() if k not in ("firm", "role")}, "firm-card")


@solara.component
def Predictions(hosted: Hosted, key: str):
    version = use_game_version(hosted, lambda: hosted.glance().urgent())  # a question asked, answered, measured
    with solara.Div(attributes={"data-version": str(version)}):
        PredictionPanel(hosted.game, key, now=HUB.clock, on_change=hosted.bump, version=version)


@solara.component
def Debrief(hosted: Hosted, key: str):
    version = use_game_version(hosted, lambda: hosted.glance()[:2])  # redrawn as rounds are played
    with solara.Div(attributes={"data-version": str(version)}):
        DebriefPanel(hosted.game, key, version=version)


# section -> its component (hosted game, teacher's key)
SECTIONS: dict[str, Callable] = {"Monitor": Monitor, "Predictions": Predictions, "Debrief": Debrief}


@solara.component
def TeacherPage():
    router = solara.use_router()
    code, key = teacher_query(router.search)
    tab, set_tab = solara.use_state(0)
    solara.Title("Tokenomy · teacher")
    try:
        hosted = HUB.find(code)
        hosted.game.teacher_view(key, HUB.clock())
    except GameError:
        with solara.Div(attributes={"data-testid": "teacher-refused"}):
            solara.Error("This teacher link does not open a game here: use the link you were given when you made it.")
        return
    with solara.Div(style={"padding": "12px"}), solara.lab.Tabs(value=tab, on_value=set_tab, lazy=True):
        for name, section in SECTIONS.items():
            with solara.lab.Tab(name):
                section(hosted, key)
