"""The classroom game's debrief and prediction components, for the teacher's and the students' pages.

* :func:`DebriefPanel` (the teacher): token prices and quantities by round, the class against the computer's own run,
  the competitive benchmark and the joint monopoly (reference lines); the firms' profits and ranking; efficiency
  and the collusion index with a line on what each means; a round slider that replays the game round by round.
* :func:`PredictionPanel` (the teacher): ask the class a question before a round, close it, and see the answers
  gathered against the value the model measured.
* :func:`PredictionForm` (a student): the open question, one number, locked once sent; the class's answers after.

Every action goes through :class:`abm.classroom.game.Game` with the token the page holds, so a student's page cannot
act as the teacher (the game refuses, and the refusal is shown in one line).  Names students typed are shown as
text (Markdown with raw HTML escaped, table characters escaped).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import solara

from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.classroom.predictions import QUESTIONS
from tokenomy.viz.charts import BASE, OKABE_ITO, tools
from tokenomy.viz.figure import Figure
from tokenomy.viz.markdown import Markdown

# the class, the computer's own run, and the two textbook benchmarks: colour, line, label
SERIES = {
    "class": (OKABE_ITO["vermillion"], "solid", "the class"),
    "computer": (OKABE_ITO["blue"], "solid", "the computer alone"),
    "competitive": (OKABE_ITO["green"], "dashed", "competitive (price = cost)"),
    "monopoly": (OKABE_ITO["purple"], "dotted", "joint monopoly"),
}
MEANINGS = {
    "efficiency": (
        "Efficiency: the buyers' value of the tokens served minus their compute cost, as a share of the most the "
        "token market could make (every buyer served at cost). 100% is the competitive market."
    ),
    "compute_efficiency": (
        "Compute efficiency: the same for the GPU-hour market, the day-ahead auction and the last-minute top-up "
        "(buyers' bids against the data centres' running costs, each buyer only at the data centres it may buy "
        "from). Below 100% when scarcity rents leave GPUs idle that a buyer valued above their cost."
    ),
    "power_efficiency": (
        "Power efficiency: the same for the hourly power market (load worth the price cap, each plant's MWh its "
        "running cost). Below 100% when offers above cost leave cheap plants idle and dearer ones, or load "
        "shedding, take their place; the CNY lost are in brackets."
    ),
    "delta": (
        "Collusion index Δ: the providers' token margin between the competitive one (0) and a joint monopoly's "
        "(1). Near 0: prices near cost; near 1: the firms earn as one monopoly would."
    ),
}
CHART_PX = 300


def _escape(text: Any) -> str:
    """A name typed by a student, as Markdown text (no markup, no table breaks)."""
    out = str(text)
    for ch in "\\`*_[]<>|#!":
        out = out.replace(ch, "\\" + ch)
    return out


def _pct(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def _money(x: float) -> str:
    return f"{x / 1e6:,.1f} M CNY"


# -- chart options (pure: the tests read them) ---------------------------------------------------------------------
def rounds_option(report: dict[str, Any], field: str, axis: str, log: bool = False) -> dict:
    """A line per series of ``report`` (the debrief) over the rounds: ``field`` of each round's block."""
    rounds = [r["round"] for r in report["rounds"]]
    series = []
    for key, (colour, dash, label) in SERIES.items():
        values = [b[field] for b in report[key]["rounds"]]
        series.append(
            {
                "name": label,
                "type": "line",
                "data": [[r, None if v is None else round(float(v), 6)] for r, v in zip(rounds, values, strict=True)],
                "lineStyle": {"color": colour, "type": dash, "width": 2.5 if key == "class" else 1.5},
                "itemStyle": {"color": colour},
                "showSymbol": key == "class",
            }
        )
    option = {
        **BASE,
        "legend": {"top": 18, "left": 10, "textStyle": {"fontSize": 11}},
        "grid": {"top": 70, "left": 70, "right": 20, "bottom": 40},
        "xAxis": {"type": "value", "name": "round", "nameLocation": "middle", "nameGap": 26, "minInterval": 1},
        "yAxis": {"type": "log" if log else "value", "name": axis, "nameLocation": "middle", "nameGap": 55},
        "tooltip": {"trigger": "axis"},
        "series": series,
    }
    return tools(option, 0, f"debrief-{field}")


def prediction_option(prediction: dict[str, Any]) -> dict:
    """The class's answers to one question as dots (one per answer, stacked where equal) and the value the model
    measured as a vertical line."""
    values = prediction["values"]
    counts: dict[float, int] = {}
    dots = []
    for v in values:
        counts[v] = counts.get(v, 0) + 1
        dots.append([v, counts[v]])
    series: list[dict] = [
        {
            "name": "a student's prediction",
            "type": "scatter",
            "data": dots,
            "symbolSize": 11,
            "itemStyle": {"color": OKABE_ITO["sky"], "borderColor": OKABE_ITO["blue"]},
        }
    ]
    if prediction.get("actual") is not None:
        series.append(
            {
                "name": "what happened",
                "type": "line",
                "data": [],
                "itemStyle": {"color": OKABE_ITO["vermillion"]},
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"color": OKABE_ITO["vermillion"], "width": 2.5},
                    "label": {"formatter": f"what happened: {prediction['actual']:.4g}"},
                    "data": [{"xAxis": prediction["actual"]}],
                },
            }
        )
    option = {
        **BASE,
        "title": {"text": f"{prediction['text']} ({prediction['unit']})", "textStyle": {"fontSize": 13}, "top": 0},
        "legend": {"top": 24, "left": 10, "textStyle": {"fontSize": 11}},
        "grid": {"top": 70, "left": 50, "right": 30, "bottom": 45},
        "xAxis": {"type": "value", "name": prediction["unit"], "nameLocation": "middle", "nameGap": 28, "scale": True},
        "yAxis": {"type": "value", "name": "students", "minInterval": 1, "nameLocation": "middle", "nameGap": 30},
        "series": series,
    }
    return tools(option, 0, f"prediction-{prediction['prediction']}")


# -- the debrief -----------------------------------------------------------------------------------------------------
def _report(game: Any, teacher_token: str) -> dict[str, Any]:
    from tokenomy.abm.classroom.debrief import debrief

    game.teacher_view(teacher_token)  # the teacher's token, or AuthError
    return debrief(game)


@solara.component
def DebriefPanel(game: Any, teacher_token: str, version: int = 0):
    """The game's debrief for the teacher (module docstring).  ``version``: the game's change count as the page
    follows it (a new one draws the panel again, with the rounds played since)."""
    played = len(game.history)
    report, error = solara.use_memo(lambda: _safe(lambda: _report(game, teacher_token)), [game, teacher_token, played])
    with solara.Card("Debrief", style={"width": "100%"}):
        if error:
            solara.Error(error)
            return
        if not report["rounds"]:
            solara.Info("No round played yet: the debrief fills in as the rounds are played.")
            return
        with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
            with solara.Div(style={"flex": "1", "min-width": "360px"}):
                Figure(rounds_option(report, "price", "CNY per M tokens (log scale)", log=True), CHART_PX)
            with solara.Div(style={"flex": "1", "min-width": "360px"}):
                Figure(rounds_option(report, "served_mtok", "M tokens served a day"), CHART_PX)
        Markdown(_scores_markdown(report))
        Markdown(_ranking_markdown(report))
        Replay(report)


def _scores_markdown(report: dict[str, Any]) -> str:
    rows = ["| | efficiency | compute efficiency | power efficiency | collusion index Δ |", "|---|---|---|---|---|"]
    for key, (_, _, label) in SERIES.items():
        block = report[key]["all"]
        delta = _pct(block["delta"]) if report["collusion_index_applies"] else "does not apply"
        power = _pct(block["power_efficiency"])
        if block["power_efficiency"] is not None:
            power += f" ({_money(block['power_lost_cny'])} lost)"
        token, compute = _pct(block["efficiency"]), _pct(block["compute_efficiency"])
        rows.append(f"| {label} | {token} | {compute} | {power} | {delta} |")
    return "\n".join(rows) + "\n\n" + "\n\n".join(f"*{line}*" for line in MEANINGS.values())


def _ranking_markdown(report: dict[str, Any]) -> str:
    rows = ["| rank | firm | role | team | profit | rank in role |", "|---|---|---|---|---|---|"]
    for f in report["firms"]:
        team = ", ".join(_escape(n) for n in f["team"]) or "the computer"
        rows.append(
            f"| {f['rank']} | {_escape(f['firm'])} | {f['role']} | {team} | {_money(f['profit_cny'])} "
            f"| {f['rank_in_role']} |"
        )
    return "**Profits over the game**\n\n" + "\n".join(rows)


@solara.component
def Replay(report: dict[str, Any]):
    """The game round by round: a slider over the rounds played and the state after the chosen one."""
    replay = report["replay"]
    chosen, set_chosen = solara.use_state(len(replay))
    chosen = min(max(chosen, 1), len(replay))
    solara.SliderInt("replay: after round", value=chosen, min=1, max=len(replay), on_value=set_chosen)
    r = replay[chosen - 1]
    m = r["market"]
    lines = [
        f"**After round {r['round']}** (days {r['first_day'] + 1}-{r['end_day']}, closed by {r['reason']}): "
        f"token price {m['token_price_cny_per_mtok']:.2f} CNY per M tokens, compute "
        f"{m['compute_price_cny_per_gpu_hour']:.2f} CNY per GPU-hour, {m['tokens_served_mtok']:,.0f} M tokens "
        f"served a day, {m['tokens_unserved_mtok']:,.0f} unserved.",
        "",
        "| firm | cash | profit this round | profit so far | decision |",
        "|---|---|---|---|---|",
    ]
    decided = {d["firm"]: d for d in r["decisions"]}
    for firm, state in r["firms"].items():
        d = decided.get(firm)
        said = "the computer's" if d is None else ", ".join(
            f"{k} {v:g}" if isinstance(v, float) else f"{k} {_escape(v)}"
            for k, v in d.items()
            if k not in ("firm", "role", "by") and v is not None
        )  # fmt: skip
        rows = f"| {_escape(firm)} | {_money(state['cash_cny'])} | {_money(state['round_profit_cny'])} "
        lines.append(rows + f"| {_money(state['profit_to_date_cny'])} | {said} |")
    Markdown("\n".join(lines))


# -- predictions -----------------------------------------------------------------------------------------------------
def _safe(call):
    """(the call's result, None), or (None, the game's one-line refusal)."""
    try:
        return call(), None
    except GameError as exc:
        return None, str(exc)


@solara.component
def PredictionPanel(game: Any, teacher_token: str, now=None, on_change=None, version: int = 0):
    """The teacher asks the class a question before a round, closes it, and sees the answers against the outcome.
    ``now``: the server's clock (seconds), as the game's other calls take it; ``on_change``: called after an action
    (the server wakes the students' pages with it); ``version``: the game's change count as the page follows it (a new
    one draws the panel again: a component whose arguments are unchanged is not)."""
    clock = now or _clock
    question, set_question = solara.use_state(next(iter(QUESTIONS)))
    message, act = _use_action(on_change)
    view, error = _safe(lambda: game.predictions_view(teacher_token))
    with solara.Card("Predictions", style={"width": "100%"}):
        if error:
            solara.Error(error)
            return
        labels = {q.key: f"{q.text} ({q.unit})" for q in QUESTIONS.values()}
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(
                "question",
                value=labels[question],
                values=list(labels.values()),
                on_value=lambda label: set_question(next(k for k, v in labels.items() if v == label)),
            )
            solara.Button(
                "Ask the class",
                on_click=lambda: act(lambda: game.open_prediction(teacher_token, question, clock())),
                disabled=view["open"],
            )
            solara.Button(
                "Close the question",
                on_click=lambda: act(lambda: game.close_prediction(teacher_token, clock())),
                disabled=not view["open"],
            )
        if message:
            solara.Error(message)
        for p in reversed(view["predictions"]):
            state = "open" if p["open"] else ("measured" if p["actual"] is not None else "closed")
            solara.Text(f"Question {p['prediction']}, before round {p['round']}: {p['answers']} answers ({state})")
            Figure(prediction_option(p), 240)


def _use_action(on_change) -> tuple[str, Any]:
    """(message, act) for a panel's buttons: ``act(call)`` makes a game call, keeps its refusal (or nothing) as the
    message, draws the panel again (the game changed under it) and tells the server (``on_change``: the other pages
    are woken)."""
    message, set_message = solara.use_state("")
    _, set_drawn = solara.use_state(0)

    def act(call) -> None:
        _, refused = _safe(call)
        set_message(refused or "")
        set_drawn(lambda v: v + 1)
        if on_change is not None:
            on_change()

    return message, act


def _clock() -> float:
    import time

    return time.time()


@solara.component
def PredictionForm(game: Any, seat_token: str, now=None, on_change=None, version: int = 0):
    """A student's answer to the open question: one number, locked once sent; and the class's answers after the
    round, against what happened.  ``on_change``: called after an answer is sent (the teacher's page redraws);
    ``version``: as for :func:`PredictionPanel`."""
    clock = now or _clock
    typed, set_typed = solara.use_state("")
    latest = solara.use_ref("")  # the same, as each keystroke arrives: Send may come before the page's redraw
    message, act = _use_action(on_change)

    def type_in(text: str) -> None:
        latest.current = text
        set_typed(text)

    view, error = _safe(lambda: game.seat_prediction(seat_token))
    with solara.Card("Your prediction", style={"width": "100%"}):
        if error:
            solara.Error(error)
            return
        asked = view["open"]
        if asked is None:
            solara.Text("No question is open.")
        elif view["sent"] is not None:
            solara.Success(f"You predicted {view['sent']:g} {asked['unit']} for {asked['text']}. It is locked in.")
        else:
            solara.Text(f"Predict {asked['text']}, in {asked['unit']} (between {asked['min']:g} and {asked['max']:g}).")
            with solara.Row(style={"align-items": "center"}):
                solara.InputText("your number", value=typed, on_value=type_in, continuous_update=True)
                send = lambda: act(lambda: game.predict(seat_token, latest.current, clock()))  # noqa: E731
                solara.Button("Send", on_click=send, disabled=not typed.strip())
            if message:
                solara.Error(message)
        if view["results"]:
            last = view["results"][-1]
            spread = np.array(last["values"], dtype=float)
            if spread.size:
                solara.Text(
                    f"Round {last['round']}: the class's median was {last['median']:.4g}; it came out at "
                    f"{last['actual']:.4g} {last['unit']}."
                )
            Figure(prediction_option(last), 240)
