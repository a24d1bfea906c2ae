"""The address carries the set-up: written from it and read back, every value checked like a control's."""

from __future__ import annotations

from tokenomy.viz.session import AppSession, allowed_scenarios, lessons_by_name
from tokenomy.viz.url_state import MAX_QUERY_CHARS, parse_query, to_query

SCENARIOS = allowed_scenarios("classroom")
LESSONS = lessons_by_name()


def test_a_set_up_survives_the_round_trip_through_the_address():
    query = to_query("agent-boom", 3, {"storage_scale": 2.5, "line_scale": 1.0}, "04-agent-boom", "up", 120)
    assert "line_scale" not in query  # a lever at its default is left out
    state = parse_query(query, SCENARIOS, LESSONS)
    assert (state.scenario, state.seed, state.levers, state.lesson, state.prediction, state.day) == (
        "agent-boom",
        3,
        {"storage_scale": 2.5},
        "04-agent-boom",
        "up",
        120,
    )
    assert state.dropped == []


def test_hostile_addresses_are_dropped_in_words_never_used():
    cases = {
        "scenario=/etc/passwd": "scenario: not one this server offers",
        "seed=-5": "seed: a whole number from 0 to 99",
        "seed=1e400": "seed: a whole number",
        "storage_scale=nan": "Storage capacity: a number from 0 to 5",
        "day=400000": "day: a whole number from 0 to 3,660",
        "lesson=../../x": "lesson: no such lesson",
        "predict=up": "predict: no lesson to predict for",
        "lesson=01-call-market&predict=inf": "predict: a finite number",
        "lesson=04-agent-boom&predict=sideways": "predict: one of up, down, no change",
        "evil=1": "'evil': not a setting",
        "x=" + "a" * MAX_QUERY_CHARS: "longer than",
    }
    for query, said in cases.items():
        state = parse_query(query, SCENARIOS, LESSONS)
        assert any(said in d for d in state.dropped), (query, state.dropped)
        assert state.scenario in (None, *SCENARIOS) and state.day <= 3660


def test_a_session_restores_the_lesson_its_prediction_and_the_run():
    session = AppSession.new("classroom")
    query = to_query("agent-boom", 1, {}, "04-agent-boom", "down", 40)
    dropped = session.restore(parse_query(query, SCENARIOS, LESSONS))
    assert dropped == [] and session.lesson.value == "04-agent-boom"
    assert session.predictions.value == {"04-agent-boom": "down"} and session.model.value.day == 40
    assert session.model.value.scenario_name == "agent-boom" and not session.welcome.value
    assert session.query() == query  # and it writes back the same address
    # a lesson's run cannot be restored past day 0 without its prediction (the lock holds on a reload too)
    other = AppSession.new("classroom")
    dropped = other.restore(parse_query(to_query("agent-boom", 1, {}, "04-agent-boom", None, 40), SCENARIOS, LESSONS))
    assert other.model.value.day == 0 and any("after a prediction" in d for d in dropped)
