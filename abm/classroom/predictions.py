"""Prediction rounds: before a round the teacher asks the class for a number the model will measure afterwards.

A question is chosen from :data:`QUESTIONS`, a small fixed list of quantities of the model's daily table over the
round's days (never code a client sends): the key, the question as students read it, its unit, the bounds of an
answer and how it is measured.  Students answer with one number each (finite, within the question's bounds); a
student's answer is locked once sent; an answer after the teacher closed the question or after its round was played
is refused.  When the round is played the actual value is measured and the class's answers are gathered beside it.

Every step is an event of the game's log (``prediction-open``, ``prediction``, ``prediction-close``); an open
question closes by itself when its round is played (part of that round's ``close`` event), so the predictions, like
the rest of the game, are a function of the scenario, the seed and the log.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenomy.abm.classroom.errors import GameError

if TYPE_CHECKING:
    from tokenomy.abm.classroom.game import Game, RoundRecord


MAX_ANSWER_CHARS = 40
THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")


@dataclass(frozen=True)
class Question:
    """A quantity the class may predict: the daily table's ``column`` over the round's days (``how``: their mean,
    or the value on the round's last day)."""

    key: str
    text: str
    unit: str
    column: str
    how: str  # "mean" or "last"
    min: float
    max: float

    def describe(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text, "unit": self.unit, "min": self.min, "max": self.max}


QUESTIONS: dict[str, Question] = {
    q.key: q
    for q in (
        Question(
            "token-price",
            "the average token price in the coming round",
            "CNY per M tokens",
            "token_price_cny_per_mtok",
            "mean",
            0.0,
            1000.0,
        ),
        Question(
            "compute-price",
            "the average price of a GPU-hour in the coming round",
            "CNY per GPU-hour",
            "compute_price_cny_per_gpu_hour",
            "mean",
            0.0,
            1000.0,
        ),
        Question(
            "tokens-served",
            "the tokens served a day, on average, in the coming round",
            "M tokens per day",
            "tokens_served_mtok",
            "mean",
            0.0,
            1e12,
        ),
        Question(
            "tokens-unserved",
            "the tokens wanted but not served a day, on average, in the coming round",
            "M tokens per day",
            "tokens_unserved_mtok",
            "mean",
            0.0,
            1e12,
        ),
        Question(
            "gpus-online",
            "the GPUs online at the end of the coming round",
            "GPUs",
            "gpus_online",
            "last",
            0.0,
            1e9,
        ),
    )
}


@dataclass
class Prediction:
    """One question put to the class: its number (from 1), the question, the round it is about, the answers by
    student name (in the order they came), whether it still takes answers, and the value measured once its round
    was played."""

    number: int
    question: Question
    round: int
    answers: dict[str, float] = field(default_factory=dict)
    open: bool = True
    actual: float | None = None

    def describe(self) -> dict[str, Any]:
        values = np.array(list(self.answers.values()), dtype=float)
        out: dict[str, Any] = {
            "prediction": self.number,
            "round": self.round,
            **{k: v for k, v in self.question.describe().items() if k != "key"},
            "question": self.question.key,
            "open": self.open,
            "answers": len(values),
            "values": sorted(values.tolist()),
            "actual": self.actual,
            "median": float(np.median(values)) if values.size else None,
            "mean": float(values.mean()) if values.size else None,
        }
        if self.actual is not None and values.size:
            out["share_below_actual"] = float((values < self.actual).mean())
            out["median_error"] = float(np.median(values) - self.actual)
        return out


def check_question(key: Any) -> Question:
    if not isinstance(key, str) or key not in QUESTIONS:
        choices = ", ".join(QUESTIONS)
        raise GameError(f"unknown question {str(key)[:40]!r}: ask one of {choices}")
    return QUESTIONS[key]


def check_answer(question: Question, value: Any) -> float:
    """A student's answer as a float within the question's bounds, or a one-line refusal."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GameError(f"a prediction is a number ({question.unit})")
    if isinstance(value, str):
        value = value.strip()
        if len(value) > MAX_ANSWER_CHARS:
            raise GameError(f"a prediction is a number ({question.unit}), at most {MAX_ANSWER_CHARS} characters")
        if "," in value:  # 12,000 is twelve thousand; 4,5 is ambiguous (a decimal comma?): refused
            if not THOUSANDS.fullmatch(value):
                raise GameError(f"write decimals with a point (4.5), not a comma: got {value[:20]!r}")
            value = value.replace(",", "")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise GameError(f"a prediction is a number ({question.unit}), got {str(value)[:20]!r}") from None
    if not math.isfinite(number):
        raise GameError("a prediction must be a finite number")
    if not question.min <= number <= question.max:
        bounds = f"{question.min:g} and {question.max:g} {question.unit}"
        raise GameError(f"a prediction of {question.text} is between {bounds}")
    return number


def measure(game: Game, question: Question, record: RoundRecord) -> float:
    """The question's quantity over the round ``record`` played (from the model's daily table)."""
    values = game.model.recorder.daily.column(question.column)[record.first_day : record.end_day, 0]
    return float(values.mean() if question.how == "mean" else values[-1])


def predictions_frame_rows(game: Game) -> list[dict[str, Any]]:
    """One row per answer (and one with no answer for a question nobody answered): the export's ``predictions``."""
    rows = []
    for p in game.predictions:
        base = {"prediction": p.number, "round": p.round, "question": p.question.key, "unit": p.question.unit}
        answers = list(p.answers.items()) or [(None, math.nan)]
        for name, value in answers:
            rows.append({**base, "name": name, "value": value, "actual": math.nan if p.actual is None else p.actual})
    return rows
