"""A student's page: join a game with its code and a name, then the firm's dashboard, its decision form, and a
wait page until the round closes.

The seat's token lives in this browser session on the server and nowhere else (not in the address, not in the
page): a student whose browser drops or reloads joins again with the code and the same name and gets the same
firm.  Everything the page does is the engine's call with that token, so it can reach only its own firm.
Numbers typed in the form are read here (a clear line for what is not a number) and checked by the engine
against the role's limits (a clear line naming the field and the bound); nothing a browser sends is run.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import solara

from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.errors import one_line
from tokenomy.viz.classroom.debrief import PredictionForm
from tokenomy.viz.classroom.hub import HUB, Hosted
from tokenomy.viz.classroom.parts import BIG, countdown, facts_table, game_line, number, use_game_version, words

log = logging.getLogger("tokenomy.viz.classroom")

ROLE_WORDS = {
    "providers": "a cloud provider: you post a token price and buy the compute you serve it with",
    "aidcs": "an AI data centre: you rent GPU-hours to the providers and order GPUs",
    "utilities": "a power utility: you offer power and build plants",
    "storage": "a storage operator: you charge batteries when power is cheap and discharge them when it is dear",
}


@dataclass(frozen=True)
class Seat:
    hosted: Hosted
    token: str
    name: str
    firm: str


@dataclass(frozen=True)
class Sent:
    """A decision the page sent: the round it went into, and the round the form was drawn for (an earlier one when
    the round closed between the form's last redraw and the press: the decision is the firm's for the next round)."""

    round: int
    shown: int

    @property
    def late(self) -> bool:
        return self.round > self.shown


def submit_to_open_round(game: Any, token: str, decision: dict[str, Any], now: float) -> int:
    """Submit ``decision`` for the seat's firm (:meth:`Game.submit`); the number of the round it went into."""
    with game.lock:
        number = len(game.history) + 1
        game.submit(token, decision, now)
        return number


def late_note(sent: Sent | None, rounds_played: int) -> str | None:
    """What the page says of a decision that arrived after the round it was typed for had closed (until the round
    it went into has been played and the next one is open)."""
    if sent is None or not sent.late or rounds_played > sent.round:
        return None
    return f"Round {sent.shown} closed before your decision arrived: it is your firm's decision for round {sent.round}."


def code_from(search: str | None) -> str:
    """The join code a join link carries (``/join?code=ABC123``), or ""."""
    values = parse_qs(search or "", max_num_fields=5).get("code", [""])
    code = values[0].strip().upper()
    return code if len(code) <= 12 and code.isalnum() else ""


def read_form(fields: list[dict[str, Any]], typed: dict[str, str]) -> dict[str, Any]:
    """The decision as typed: every field with text, read as its kind (a blank field is left to the computer);
    raises GameError naming the field when the text is not a number."""
    decision: dict[str, Any] = {}
    for f in fields:
        text = str(typed.get(f["name"], "")).strip()
        if not text:
            continue
        if f["type"] == "str":
            decision[f["name"]] = text
            continue
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise GameError(f"{words(f['name'])}: {text[:20]!r} is not a number") from None
        if f["type"] == "int":
            if value != int(value):
                raise GameError(f"{words(f['name'])}: a whole number, not {text[:20]!r}")
            value = int(value)
        decision[f["name"]] = value
    return decision


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


@solara.component
def JoinForm(on_seat):
    router = solara.use_router()
    code, set_code = solara.use_state(code_from(router.search))
    name, set_name = solara.use_state("")
    message, set_message = solara.use_state("")

    def join() -> None:
        try:
            hosted = HUB.find(code)
            ticket = HUB.act(hosted, hosted.game.join, code, name)
        except GameError as exc:
            set_message(one_line(str(exc)))
            return
        on_seat(Seat(hosted, ticket.token, ticket.name, ticket.firm))

    with solara.Card("Join the class's game", style={"max-width": "520px"}):
        solara.Text("Type the code on the projector and your name (the same name brings you back to your firm).")
        solara.InputText("Join code", value=code, on_value=set_code, continuous_update=True)
        solara.InputText("Your name", value=name, on_value=set_name, continuous_update=True)
        solara.Button("Join", color="primary", on_click=join)
        if message:
            with solara.Div(attributes={"data-testid": "join-error"}):
                solara.Error(message, dense=True)


@solara.component
def DecisionForm(seat: Seat, view: dict[str, Any], on_sent=None, hidden: bool = False):
    """The decision form.  It stays on the page from the first round to the last (``hidden`` while the wait page
    shows): the same fields and button all game, so a press always reaches the form the student sees, and what the
    student typed stays in it from round to round.

    What is typed is read from :data:`latest` as each keystroke arrives, not from the state of the page's last
    redraw: a press may come before that redraw (another thread may be redrawing the page, e.g. because another firm
    decided), and a decision must be the one typed, not the one before it."""
    form = view["form"]
    fields = form["fields"]
    defaults = {f["name"]: as_text(form["default"].get(f["name"])) for f in fields}
    typed, set_typed = solara.use_state(defaults)  # what the student typed, kept from round to round (shown)
    latest = solara.use_ref(typed)  # the same, updated by each keystroke as it arrives (read by Submit)
    message, set_message = solara.use_state("")

    shown = view["game"]["rounds_played"] + 1  # the round this form was drawn for

    def type_in(name: str, value: str) -> None:
        latest.current = {**latest.current, name: value}
        set_typed(latest.current)

    def submit() -> None:
        try:
            decision = read_form(fields, latest.current)
            went_to = HUB.act(seat.hosted, submit_to_open_round, seat.hosted.game, seat.token, decision)
        except GameError as exc:
            set_message(one_line(str(exc)))
            return
        set_message("")
        if on_sent is not None:
            on_sent(Sent(went_to, shown))

    attributes = {} if hidden else {"data-testid": "decision-form", "data-round": str(shown)}
    with (
        solara.Card("Your decision for this round", style={"height": "100%"}),
        solara.Div(attributes=attributes),
    ):
        solara.Text(
            "Each field starts at what you typed last (at first, your firm's decision in force or the computer's "
            "proposal); leave one blank and the computer decides it this round.",
            style={"font-size": "13px"},
        )
        for f in fields:
            name = f["name"]
            hint = f"{f['doc']}" + (
                f"; one of {', '.join(f['choices'])}"
                if "choices" in f
                else f"; {number(f['min'])} to {number(f['max'])} {f['unit']}"
            )
            computer = form["computer"].get(name)
            if computer is not None:
                hint += f"; the computer would choose {number(computer)}"
            if "choices" in f:
                solara.Select(
                    name,
                    values=["", *f["choices"]],
                    value=typed.get(name, ""),
                    on_value=lambda v, name=name: type_in(name, v or ""),
                )
                solara.Text(hint, style={"font-size": "12px", "color": "#555"})
            else:
                solara.InputText(
                    name,
                    value=typed.get(name, ""),
                    on_value=lambda v, name=name: type_in(name, v),
                    continuous_update=True,
                    message=hint,
                )
        solara.Button("Submit decision", color="primary", on_click=submit)
        if message:
            with solara.Div(attributes={"data-testid": "form-error"}):
                solara.Error(message, dense=True)


@solara.component
def WaitPanel(view: dict[str, Any], on_change):
    state = view["game"]
    sent = view["form"]["submitted"]
    waiting = state["waiting_for"]
    with solara.Card("Decision sent", style={"height": "100%"}), solara.Div(attributes={"data-testid": "wait"}):
        chosen = ", ".join(f"{words(k)} {number(v)}" for k, v in sent["decision"].items())
        solara.Text(
            f"{sent['by']} submitted your firm's decision for round {state['round']}: {chosen}"
            if chosen
            else f"{sent['by']} left every field to the computer in round {state['round']}.",
            style=BIG,
        )
        if state["status"] == "lobby":
            solara.Text("The round starts when the teacher starts the game.", style=BIG)
        else:
            solara.Text("Still deciding: " + (", ".join(waiting) if waiting else "nobody"), style=BIG)
        countdown(state["seconds_left"], state["status"] == "running")
        solara.Button("Change my decision", text=True, on_click=on_change)


@solara.component
def Dashboard(seat: Seat, on_leave):
    version = use_game_version(seat.hosted, lambda: seat.hosted.glance(seat.firm, seat.name))
    editing, set_editing = solara.use_state(False)
    last_sent, set_last_sent = solara.use_state(None)  # the last decision this page sent (a Sent)

    def on_sent(sent: Sent) -> None:
        set_last_sent(sent)
        set_editing(False)

    try:
        view = seat.hosted.game.seat_view(seat.token, HUB.clock())
    except GameError as exc:
        view, problem = None, one_line(str(exc))
    played = view["game"]["rounds_played"] if view is not None else -1
    solara.use_effect(lambda: set_editing(False), [played])  # a new round shows the form again
    if view is None:
        solara.Error(problem)
        solara.Button("Back", on_click=on_leave)
        return
    state, firm, market = view["game"], view["firm"], view["market"]
    with solara.Div(
        attributes={
            "data-testid": "seat",
            "data-rounds-played": str(state["rounds_played"]),
            "data-status": state["status"],
            "data-version": str(version),
            "data-firm": view["seat"]["firm"],
            "data-role": view["seat"]["role"],
        }
    ):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"<b>{_esc(view['seat']['firm'])}</b> · {_esc(view['seat']['name'])} · "
            f"team: {_esc(', '.join(view['seat']['team']))}",
            style={"font-size": "22px"},
        )
        solara.Text(f"You run {ROLE_WORDS.get(view['seat']['role'], view['seat']['role'])}.", style=BIG)
        solara.Text(game_line(state), style=BIG)
    with solara.Columns([1, 1]):
        with solara.Card("Your firm", style={"height": "100%"}):
            facts_table({k: v for k, v in firm.items() if k not in ("firm", "role")}, "firm-state")
            if firm.get("last_round"):
                solara.Text(f"Last round (round {firm['last_round']['round']}):", style={"font-weight": "600"})
                facts_table({k: v for k, v in firm["last_round"].items() if k != "round"}, "firm-last-round")
        with solara.Card("The market", style={"height": "100%"}):
            solara.Text("Posted token prices (CNY per Mtok):", style={"font-weight": "600"})
            facts_table(market["posted_token_prices_cny_per_mtok"], "posted-prices")
            if market["last_round"]:
                solara.Text("Last round's averages:", style={"font-weight": "600"})
                facts_table(market["last_round"], "market-last-round")
    # every element below a conditional one has a key of its own: one appearing above (the round's "why" after the
    # first round, a notice) must not shift the form to a new place in the page, which would make a new form: a
    # press on the form the student sees would then reach a button that is gone, and be dropped without a word
    if view.get("why"):
        with solara.Div(attributes={"data-testid": "why"}).key("why"):
            solara.Info(view["why"], dense=True)
    PredictionForm(seat.hosted.game, seat.token, now=HUB.clock, on_change=seat.hosted.bump, version=version).key(
        "prediction"
    )
    if state["status"] == "ended":
        with solara.Div(attributes={"data-testid": "ended"}).key("ended"):
            solara.Success("The game has ended: thank you for playing. Your teacher will show the debrief.")
        return
    if state["status"] == "paused":
        solara.Warning("The teacher has paused the game: you can still decide.", dense=True).key("paused")
    if state["status"] == "lobby":
        solara.Info("The game has not started yet: you can decide your first round now.", dense=True).key("lobby")
    note = late_note(last_sent, state["rounds_played"])
    if note:
        with solara.Div(attributes={"data-testid": "late"}).key("late"):
            solara.Warning(note, dense=True)
    sent = view["form"]["submitted"]
    waiting = sent is not None and sent["by"] == view["seat"]["name"] and not editing
    if waiting:
        WaitPanel(view, lambda: set_editing(True)).key("wait")
    # the form stays while the wait page shows (hidden): a new form for each round would be new widgets, and a
    # press on the old one, or on the new one before its button is wired, would be dropped without a word
    with solara.Div(style={"display": "none"} if waiting else {}).key("form"):
        # a teammate's decision does not take the form away from one who is typing: the last one sent counts
        with solara.Div(attributes={"data-testid": "team-sent"} if sent is not None and not waiting else {}):
            if sent is not None and not waiting:
                solara.Info(
                    f"{sent['by']} sent your firm's decision for this round; yours, if you send one, replaces it.",
                    dense=True,
                )
        # a Submit that reaches the server just after a round closed is the firm's decision for the next round, as
        # the rules say (and the page says so)
        DecisionForm(seat, view, on_sent, hidden=waiting)
        if editing:
            solara.Button("Keep the decision sent", text=True, on_click=lambda: set_editing(False))


def _esc(text: str) -> str:
    return html.escape(text)


@solara.component
def StudentPage():
    seat, set_seat = solara.use_state(None)
    solara.Title("Tokenomy · class game")
    with solara.Column(style={"max-width": "1100px", "margin": "0 auto", "padding": "12px"}):
        if seat is None:
            JoinForm(set_seat)
        else:
            Dashboard(seat, lambda: set_seat(None))
