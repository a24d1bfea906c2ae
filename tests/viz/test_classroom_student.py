"""The student's decision form, rendered in this process: a press on a form drawn before its round closed goes into
the next round (the rules) and the page says so; a press in time says nothing more."""

from __future__ import annotations

import ipyvuetify as v
import pytest
import solara

from tokenomy.viz.classroom.hub import Hub
from tokenomy.viz.classroom.student import DecisionForm, Seat, Sent, late_note


@pytest.fixture
def game(tmp_path):
    hub = Hub(lambda: 1_000.0)
    hosted, key = hub.create(tmp_path, "classroom", seed=1, overrides=("classroom.round_seconds=0",))
    game = hosted.game
    ann = hub.act(hosted, game.join, game.code, "Ann")
    hub.act(hosted, game.join, game.code, "Ben")
    hub.act(hosted, game.start, key)
    yield hub, hosted, key, Seat(hosted, ann.token, ann.name, ann.firm)
    hub.close_all()


def _press(seat: Seat, view: dict, price: str) -> list[Sent]:
    sent: list[Sent] = []
    _, rc = solara.render(DecisionForm(seat, view, on_sent=sent.append), handle_error=False)
    rc.find(v.TextField, label="price_cny_per_mtok").widget.v_model = price
    rc.find(v.Btn, children=["Submit decision"]).widget.click()
    return sent


def test_a_press_on_a_form_drawn_before_the_close_is_the_next_rounds_decision_and_is_said(game):
    hub, hosted, key, seat = game
    drawn = hosted.game.seat_view(seat.token, 1_000.0)  # round 1's form, as the page last drew it
    hub.act(hosted, hosted.game.close_round, key)  # the round closes before the press arrives
    sent = _press(seat, drawn, "4.25")
    assert sent == [Sent(round=2, shown=1)] and sent[0].late
    decision, by, _ = hosted.game.pending[next(iter(hosted.game.pending))]
    assert (by, decision["price_cny_per_mtok"]) == ("Ann", 4.25)
    assert hosted.game.decision_log == []  # round 1 was played without it
    note = late_note(sent[0], rounds_played=1)
    assert note is not None and "Round 1 closed before your decision arrived" in note and "round 2" in note
    hub.act(hosted, hosted.game.close_round, key)
    assert [(d["round"], d["by"], d["price_cny_per_mtok"]) for d in hosted.game.decision_log] == [(2, "Ann", 4.25)]
    assert late_note(sent[0], rounds_played=2) is not None  # the round it went into was just played
    assert late_note(sent[0], rounds_played=3) is None  # a round later the note has said its part


def test_a_press_in_time_is_that_rounds_decision_with_no_note(game):
    hub, hosted, key, seat = game
    sent = _press(seat, hosted.game.seat_view(seat.token, 1_000.0), "3.5")
    assert sent == [Sent(round=1, shown=1)] and not sent[0].late
    assert late_note(sent[0], rounds_played=0) is None and late_note(None, rounds_played=0) is None


def test_a_press_that_comes_before_the_pages_redraw_sends_what_was_typed(game):
    """Another thread is redrawing the page (another firm decided, a round closed) when the keystrokes and the press
    arrive: the redraw that would carry the typed text into the form's state comes after the press, and the press
    still sends what was typed, not what was there before."""
    hub, hosted, key, seat = game
    sent: list[Sent] = []
    _, rc = solara.render(
        DecisionForm(seat, hosted.game.seat_view(seat.token, 1_000.0), on_sent=sent.append), handle_error=False
    )
    field = rc.find(v.TextField, label="price_cny_per_mtok").widget
    button = rc.find(v.Btn, children=["Submit decision"]).widget
    field.v_model = "3.0"  # typed and drawn
    assert rc.thread_lock.acquire(blocking=False)  # a redraw in progress elsewhere: this page's redraws wait for it
    try:
        field.v_model = "4.75"
        button.click()
    finally:
        rc.thread_lock.release()
    assert sent == [Sent(round=1, shown=1)]
    decision, by, _ = hosted.game.pending[next(iter(hosted.game.pending))]
    assert (by, decision["price_cny_per_mtok"]) == ("Ann", 4.75)


def test_a_prediction_sent_before_the_pages_redraw_is_the_number_typed(game):
    """The same for the prediction form: a number changed and sent while another thread redraws the page is locked
    in as typed, not as it was a keystroke before."""
    from tokenomy.viz.classroom.debrief import PredictionForm

    hub, hosted, key, seat = game
    hub.act(hosted, hosted.game.open_prediction, key, "token-price")
    _, rc = solara.render(PredictionForm(hosted.game, seat.token, now=lambda: 1_000.0), handle_error=False)
    field = rc.find(v.TextField, label="your number").widget
    field.v_model = "3"  # typed and drawn: Send is enabled
    send = rc.find(v.Btn, children=["Send"]).widget
    assert rc.thread_lock.acquire(blocking=False)  # a redraw in progress elsewhere
    try:
        field.v_model = "3.5"
        send.click()
    finally:
        rc.thread_lock.release()
    assert hosted.game.open_question().answers == {"Ann": 3.5}
