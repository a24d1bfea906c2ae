"""The debrief and prediction components render from a real game, act through the game with the page's token, and
refuse a student's token where the teacher's is needed (solara's renderer, no browser)."""

from __future__ import annotations

import ipyvuetify as v
import ipywidgets
import pytest
import solara

from tokenomy.abm.classroom.game import Game
from tokenomy.agents import human
from tokenomy.viz.classroom.debrief import (
    DebriefPanel,
    PredictionForm,
    PredictionPanel,
    prediction_option,
    rounds_option,
)


@pytest.fixture
def game(tmp_path):
    game, teacher = Game.create(
        tmp_path / "game.sqlite",
        "classroom",
        seed=4,
        overrides=["classroom.seats=['cloud-a', 'cloud-b']", "classroom.days_per_round=30", "classroom.rounds=3"],
    )
    ann, bo = game.join(game.code, "Ann | <b>x</b>"), game.join(game.code, "Bo")
    yield game, teacher, ann, bo
    game.close()


def _play(game, teacher, ann, bo, rounds):
    game.start(teacher) if game.status == "lobby" else None
    for _ in range(rounds):
        game.submit(ann.token, {human.PRICE: 9.0})
        game.submit(bo.token, {human.PRICE: 5.0})


def _text(widget) -> str:
    """Every text the rendered page shows: HTML (as sent), alerts', labels' and plain texts' children."""
    out = []
    html = getattr(widget, "unsafe_innerHTML", None)
    if isinstance(html, str):
        out.append(html)
    for child in getattr(widget, "children", None) or ():
        out.append(child if isinstance(child, str) else _text(child) if isinstance(child, ipywidgets.Widget) else "")
    return "\n".join(out)


def test_the_debrief_shows_the_class_beside_the_benchmarks_and_replays_round_by_round(game):
    game, teacher, ann, bo = game
    _play(game, teacher, ann, bo, 3)
    assert game.status == "ended"
    box, rc = solara.render(DebriefPanel(game, teacher), handle_error=False)
    html = _text(box)
    for label in ("the class", "the computer alone", "competitive (price = cost)", "joint monopoly"):
        assert label in html
    assert "Collusion index" in html and "Efficiency" in html
    assert "&lt;b&gt;" in html and "<b>x</b>" not in html  # a typed name is text, never markup
    slider = rc.find(v.Slider).widget
    assert (slider.min, slider.max, slider.v_model) == (1, 3, 3)
    assert "After round 3" in _text(box)
    slider.v_model = 1
    assert "After round 1" in _text(box) and "days 1-30" in _text(box)


def test_a_students_token_cannot_open_the_debrief_or_the_teachers_prediction_panel(game):
    game, teacher, ann, bo = game
    _play(game, teacher, ann, bo, 1)
    for component in (DebriefPanel, PredictionPanel):
        box, rc = solara.render(component(game, ann.token), handle_error=False)
        assert "only the teacher can do that" in _text(box)
        assert not rc.find(v.Slider) and not rc.find(v.Btn, children=["Ask the class"])


def test_the_teacher_asks_a_student_answers_once_and_the_answers_meet_the_outcome(game):
    game, teacher, ann, bo = game
    game.start(teacher)
    _, panel = solara.render(PredictionPanel(game, teacher, now=lambda: 1.0), handle_error=False)
    panel.find(v.Btn, children=["Ask the class"]).widget.click()
    assert game.open_question() is not None and game.open_question().question.key == "token-price"
    shown, form = solara.render(PredictionForm(game, ann.token, now=lambda: 2.0), handle_error=False)
    field = form.find(v.TextField).widget
    field.v_model = "-3"
    form.find(v.Btn, children=["Send"]).widget.click()
    assert "between 0 and 1000" in _text(shown) and game.open_question().answers == {}
    field.v_model = "6.5"
    form.find(v.Btn, children=["Send"]).widget.click()
    assert game.open_question().answers == {"Ann | <b>x</b>": 6.5}
    assert not form.find(v.Btn, children=["Send"])  # locked once sent
    assert "It is locked in" in _text(shown)
    _play(game, teacher, ann, bo, 1)
    (p,) = game.predictions_view(teacher)["predictions"]
    option = prediction_option(p)
    assert option["series"][0]["data"] == [[6.5, 1]]
    assert option["series"][1]["markLine"]["data"] == [{"xAxis": p["actual"]}]


def test_the_round_charts_hold_the_debriefs_numbers(game):
    from tokenomy.abm.classroom.debrief import debrief

    game, teacher, ann, bo = game
    _play(game, teacher, ann, bo, 2)
    report = debrief(game)
    option = rounds_option(report, "price", "CNY per M tokens", log=True)
    by_name = {s["name"]: s["data"] for s in option["series"]}
    assert [x for x, _ in by_name["the class"]] == [1, 2]
    assert by_name["the class"][1][1] == pytest.approx(report["class"]["rounds"][1]["price"], rel=1e-6)
    assert by_name["joint monopoly"][0][1] == pytest.approx(report["monopoly"]["rounds"][0]["price"], rel=1e-6)
    assert option["yAxis"]["type"] == "log"
