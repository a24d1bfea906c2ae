"""The page's address carries the set-up, so a reload keeps it and a teacher can share a link to it.

The query holds the scenario, the seed, the levers that differ from their defaults, the loaded lesson, the saved
prediction and the day the run had reached: ``?scenario=agent-boom&seed=1&lesson=04-agent-boom&predict=up&day=120``.
A run is rebuilt from them (the model is deterministic: the same set-up and seed give the same days).

An address is outside input like any other: every value is checked against the control it stands for (a
scenario the server offers, a seed in the slider's range, a lever in its own, a lesson that exists, a
prediction of the lesson's kind, a day within a run's limit); what does not pass is dropped and said in one
line, never used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from tokenomy.abm.lessons.catalog import DIRECTIONS
from tokenomy.abm.levers import DEFAULTS, LEVER_BY_NAME
from tokenomy.viz.budget import MAX_RUN_DAYS

MAX_QUERY_CHARS = 2_000
SEED_RANGE = (0, 99)  # the sidebar's seed slider (viz/controls.py) and an address's seed
MAX_PREDICTION = 1e9


@dataclass
class UrlState:
    """A checked set-up read from an address (only what passed), and what was dropped, in words."""

    scenario: str | None = None
    seed: int | None = None
    levers: dict[str, float] = field(default_factory=dict)
    lesson: str | None = None
    prediction: str | float | None = None
    day: int = 0
    dropped: list[str] = field(default_factory=list)


def to_query(scenario: str, seed: int, levers: dict[str, float], lesson: str, prediction, day: int) -> str:
    """The address query of a set-up (levers at their defaults are left out)."""
    items: dict[str, object] = {"scenario": scenario, "seed": int(seed)}
    items.update({k: f"{float(v):g}" for k, v in levers.items() if k in DEFAULTS and float(v) != DEFAULTS[k]})
    if lesson:
        items["lesson"] = lesson
        if prediction is not None:
            items["predict"] = prediction if isinstance(prediction, str) else f"{float(prediction):g}"
    if day:
        items["day"] = int(day)
    return urlencode(items)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole(text: str, low: int, high: int) -> int | None:
    value = _number(text)
    return int(value) if value is not None and value.is_integer() and low <= value <= high else None


def _take(state: UrlState, key: str, text: str, scenarios: list[str], lessons: dict) -> None:
    """Check one setting of the address and keep it in ``state``, or say why it was dropped."""
    if key == "scenario":
        if text in scenarios:
            state.scenario = text
        else:
            state.dropped.append("scenario: not one this server offers")
    elif key == "seed":
        state.seed = _whole(text, *SEED_RANGE)
        if state.seed is None:
            state.dropped.append(f"seed: a whole number from {SEED_RANGE[0]} to {SEED_RANGE[1]}")
    elif key in LEVER_BY_NAME:
        lever, value = LEVER_BY_NAME[key], _number(text)
        if value is not None and lever.min <= value <= lever.max:
            state.levers[key] = value
        else:
            state.dropped.append(f"{lever.label}: a number from {lever.min:g} to {lever.max:g}")
    elif key == "lesson":
        if text in lessons:
            state.lesson = text
        else:
            state.dropped.append("lesson: no such lesson")
    elif key == "day":
        day = _whole(text, 0, MAX_RUN_DAYS)
        state.day = day or 0
        if day is None:
            state.dropped.append(f"day: a whole number from 0 to {MAX_RUN_DAYS:,}")
    elif key != "predict":
        state.dropped.append(f"{key[:30]!r}: not a setting")


def parse_query(search: str | None, scenarios: list[str], lessons: dict) -> UrlState:
    """The set-up in ``search`` (the part after ``?``), each value checked; ``scenarios``: the ones the server
    offers; ``lessons``: name -> lesson."""
    state = UrlState()
    if not search:
        return state
    if len(search) > MAX_QUERY_CHARS:
        state.dropped.append(f"the address is longer than {MAX_QUERY_CHARS:,} characters")
        return state
    try:
        fields = parse_qs(search, keep_blank_values=True, max_num_fields=32)
    except ValueError:
        state.dropped.append("the address has more than 32 settings")
        return state
    query = {k: v[-1] for k, v in fields.items()}
    for key, text in query.items():
        _take(state, key, text, scenarios, lessons)
    if "predict" in query:
        state.prediction = _prediction(query["predict"], lessons.get(state.lesson), state)
    return state


def _prediction(text: str, lesson, state: UrlState):
    if lesson is None:
        state.dropped.append("predict: no lesson to predict for")
        return None
    if lesson.prediction == "direction":
        if text in DIRECTIONS:
            return text
        state.dropped.append(f"predict: one of {', '.join(DIRECTIONS)}")
        return None
    value = _number(text)
    if value is None or abs(value) > MAX_PREDICTION:
        state.dropped.append("predict: a finite number")
        return None
    return value
