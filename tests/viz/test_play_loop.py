"""The Play button's loop (viz.controls.play_days) runs a full year in every shipped scenario without an error."""

from __future__ import annotations

import pytest

from tokenomy.abm.scenarios import shipped_scenarios
from tokenomy.viz.controls import play_days
from tokenomy.viz.lessons_view import attempts_option, parse_prediction
from tokenomy.viz.session import AppSession, judged_day, lessons_by_name


def _session(scenario: str, lesson: str = "") -> AppSession:
    session = AppSession.new(scenario)
    session.lesson.set(lesson)
    session.playing.set(True)
    return session


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_a_full_year_plays_through_the_play_loop(name):
    session = _session(name)
    play_days(session, pause_s=0.0, until_day=366)
    assert session.error.value == ""
    assert session.model.value.day == 366 and not session.playing.value
    daily = session.model.value.daily_table()
    assert len(daily) == 366 and daily.token_price_cny_per_mtok.notna().all()


def test_play_stops_on_the_lessons_reveal_day_and_reset_keeps_the_lesson():
    session = _session("classroom", lesson="05-storage-power-bank")
    lesson = session.current_lesson()
    session.load_lesson(lesson)
    assert session.scenario.value == "storage-buildout" and session.model.value.scenario_name == "storage-buildout"
    assert session.model.value.extra_overrides == lesson.settings
    session.playing.set(True)
    play_days(session, pause_s=0.0)
    assert session.model.value.day == 240 and not session.playing.value  # smaller-spread's last window ends at 240
    session.reset()
    assert session.lesson.value == "05-storage-power-bank" and session.model.value.day == 0
    assert session.model.value.extra_overrides == lesson.settings


def test_play_after_the_reveal_plays_on_to_the_judged_day_not_a_day_a_press():
    session = _session("classroom", lesson="04-agent-boom")
    session.load_lesson(session.current_lesson())
    session.playing.set(True)
    play_days(session, pause_s=0.0)
    reveal = session.model.value.day
    assert reveal == 270 and session.stop_day() == judged_day(session.current_lesson()) > reveal
    session.playing.set(True)  # Play again after the stop day
    play_days(session, pause_s=0.0)
    assert session.model.value.day == judged_day(session.current_lesson())  # the checks' day, in one press
    assert session.stop_day() is None  # then it plays on
    session.playing.set(True)
    play_days(session, pause_s=0.0, until_day=session.model.value.day + 10)
    assert session.model.value.day == judged_day(session.current_lesson()) + 10


def test_a_failing_day_is_one_line_and_stops_play(monkeypatch):
    session = _session("classroom")

    def boom():
        raise RuntimeError("no power")

    monkeypatch.setattr(session.model.value, "step", boom)
    play_days(session, pause_s=0.0, until_day=5)
    assert session.error.value == "The simulation stopped on day 0: no power" and not session.playing.value


def test_a_lessons_overrides_read_in_words():
    from tokenomy.viz.controls import override_in_words

    assert override_in_words("storage.west-battery.energy_mwh=800") == "west-battery: energy 800 MWh"
    assert override_in_words("aidcs.*.lead_days=180") == "every AI data centre: lead 180 days"
    assert override_in_words("apps.*.agent_multiplier=4") == "every app: agent multiplier 4"


def test_a_prediction_is_saved_before_the_run_and_every_revealed_attempt_is_kept():
    session = _session("classroom")
    session.playing.set(False)
    lesson = lessons_by_name()["04-agent-boom"]
    session.load_lesson(lesson)
    assert session.waits_for_prediction() and not session.run_started(lesson)  # Play and Step wait for it
    session.predictions.set({lesson.name: "up"})
    assert not session.waits_for_prediction()
    session.model.value.step()
    assert session.run_started(lesson)  # from now on no prediction can be typed for this run
    session.keep_attempt(lesson, {"predicted": "up", "measured": 0.4, "direction": "up", "setup": "seed 1"})
    session.revealed.set(session.revealed.value | {lesson.name})
    session.load_lesson(lesson)  # another attempt: a fresh run, a fresh prediction, the first attempt kept
    assert lesson.name not in session.predictions.value and lesson.name not in session.revealed.value
    assert session.model.value.day == 0 and len(session.attempts.value[lesson.name]) == 1
    option = attempts_option(lesson, session.attempts.value[lesson.name] * 2)
    assert option["xAxis"]["data"] == ["#1: you said up", "#2: you said up"]


def test_a_typed_prediction_is_a_finite_number_and_an_empty_box_is_no_error():
    assert parse_prediction("") is None and parse_prediction("  ") is None
    assert parse_prediction("1,200") == 1200.0
    for bad in ("abc", "nan", "inf"):
        with pytest.raises(ValueError):
            parse_prediction(bad)
