"""Prediction rounds: the teacher asks, each student answers once with a checked number, a late answer is refused,
the round's actual value is measured from the model, and all of it is in the log (reopen, replay, export)."""

from __future__ import annotations

import pandas as pd
import pytest
from game_support import new_game

from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.abm.classroom.game import Game
from tokenomy.abm.classroom.predictions import QUESTIONS
from tokenomy.agents import human


@pytest.fixture
def game(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.days_per_round=10", "classroom.seats=['cloud-a', 'cloud-b']")
    yield game, teacher
    game.close()


def _refused(call, fragment, error=GameError):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_a_question_is_answered_once_each_and_measured_when_its_round_is_played(game):
    game, teacher = game
    ann, bo, cy = (game.join(game.code, n) for n in ("Ann", "Bo", "Cy"))
    game.start(teacher)
    asked = game.open_prediction(teacher, "token-price")
    assert (asked["round"], asked["unit"], asked["open"]) == (1, "CNY per M tokens", True)
    assert game.predict(ann.token, "4.5") == 4.5  # typed in a browser's text box
    assert game.predict(bo.token, 6) == 6.0
    for bad, fragment in (("4,5", "decimals with a point"), ("1" * 41, "at most 40 characters"), ("1e400", "finite")):
        _refused(lambda v=bad: game.predict(cy.token, v), fragment)
    _refused(lambda: game.predict(ann.token, 9.0), "Ann has sent a prediction already (4.5 CNY per M tokens)")
    for bad, fragment in ((float("nan"), "finite"), (float("inf"), "finite"), (-1.0, "between 0 and 1000"),
                          (1e6, "between 0 and 1000"), ("lots", "a prediction is a number"), (True, "a number"),
                          ([1], "a number"), (None, "a number")):  # fmt: skip
        _refused(lambda v=bad: game.predict(cy.token, v), fragment)
    _refused(lambda: game.predict(cy.token, "1,000.5"), "between 0 and 1000")  # read as 1000.5: just too much
    _refused(lambda: game.predict("not a token", 5.0), "not valid", error=AuthError)
    _refused(lambda: game.open_prediction(teacher, "gpus-online"), "a prediction is open already")
    _refused(lambda: game.open_prediction(teacher, "__import__('os')"), "unknown question")
    for student in (ann, bo):
        _refused(lambda s=student: game.open_prediction(s.token, "token-price"), "only the teacher", error=AuthError)
        _refused(lambda s=student: game.close_prediction(s.token), "only the teacher", error=AuthError)
        _refused(lambda s=student: game.predictions_view(s.token), "only the teacher", error=AuthError)
    game.close_prediction(teacher)
    _refused(lambda: game.predict(cy.token, 5.0), "no prediction is open")  # late
    assert game.seat_prediction(cy.token) == {"open": None, "sent": None, "results": []}
    game.close_round(teacher)
    (result,) = game.predictions_view(teacher)["predictions"]
    daily = game.model.daily_table()
    actual = daily["token_price_cny_per_mtok"].iloc[0:10].mean()  # the round's days, from the exported table
    assert result["actual"] == pytest.approx(actual, rel=1e-12)
    assert result["values"] == [4.5, 6.0] and result["median"] == 5.25
    assert result["share_below_actual"] == pytest.approx(sum(v < actual for v in (4.5, 6.0)) / 2)
    assert game.seat_prediction(cy.token)["results"] == [result]  # the class's answers, without names


def test_an_open_question_closes_with_its_round_and_a_late_answer_is_refused(game):
    game, teacher = game
    ann = game.join(game.code, "Ann")
    game.start(teacher)
    game.open_prediction(teacher, "gpus-online")
    seen = game.seat_prediction(ann.token)
    assert seen["open"]["key"] == "gpus-online" and seen["sent"] is None
    game.submit(ann.token, {human.PRICE: 5.0})  # the only student decided: the round closes
    assert len(game.history) == 1
    _refused(lambda: game.predict(ann.token, 30000), "no prediction is open")
    (p,) = game.predictions_view(teacher)["predictions"]
    gpus = game.model.daily_table()["gpus_online"].iloc[9]  # the round's last day
    assert p["actual"] == gpus and p["answers"] == 0 and p["median"] is None


def test_every_question_measures_its_own_column_of_the_round(game):
    game, teacher = game
    game.start(teacher)
    for key in QUESTIONS:
        game.open_prediction(teacher, key)
        game.close_round(teacher)
    daily = game.model.daily_table()
    for p, (key, q) in zip(game.predictions, QUESTIONS.items(), strict=True):
        days = daily[q.column].iloc[(p.round - 1) * 10 : p.round * 10]
        assert p.actual == pytest.approx(days.mean() if q.how == "mean" else days.iloc[-1], rel=1e-12), key


def test_predictions_survive_a_restart_and_are_exported_and_replayed(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.days_per_round=10", "classroom.rounds=3")
    ann, bo = game.join(game.code, "Ann"), game.join(game.code, "Bo")
    game.open_prediction(teacher, "compute-price", now=1.0)  # in the lobby: about round 1
    game.predict(ann.token, 12.5, now=2.0)
    game.start(teacher, now=3.0)
    game.close_round(teacher, now=4.0)
    game.open_prediction(teacher, "tokens-served", now=5.0)
    game.predict(bo.token, 2e6, now=6.0)
    before = game.predictions_view(teacher)
    game.close()
    again = Game.open(tmp_path / "game.sqlite")
    assert again.predictions_view(teacher) == before
    _refused(lambda: again.predict(bo.token, 1.0), "Bo has sent a prediction already")
    again.predict(ann.token, 1e6, now=7.0)
    while again.status != "ended":
        again.close_round(teacher, now=8.0)
    again.write_tables(tmp_path / "out", ("csv",))
    frame = pd.read_csv(tmp_path / "out" / "predictions.csv")
    assert list(frame["name"]) == ["Ann", "Bo", "Ann"] and list(frame["value"]) == [12.5, 2e6, 1e6]
    assert list(frame["round"]) == [1, 2, 2] and frame["actual"].notna().all()
    again.close()
    replayed = Game.open(tmp_path / "game.sqlite")
    replayed.write_tables(tmp_path / "replay", ("csv",))
    assert (tmp_path / "out" / "predictions.csv").read_bytes() == (tmp_path / "replay" / "predictions.csv").read_bytes()
    replayed.close()
