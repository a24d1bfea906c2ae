"""Every lesson in docs/lessons/ has what the app needs: a question, a prediction, steps as clicks, a reveal
measured on the student's run, discussion and a 45-minute timing; chain lessons name a scenario, settings
and checks that exist."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tokenomy.abm.checks import checks_of
from tokenomy.abm.lessons.catalog import CLASSIC_METRICS, SECTIONS, list_lessons, load_lesson, parse_lesson, sections
from tokenomy.abm.levers import DEFAULTS, LEVER_BY_NAME
from tokenomy.abm.scenarios import ScenarioError, load_scenario, shipped_scenarios
from tokenomy.viz.session import SPEEDS, reveal_day

LESSONS = list_lessons()


def test_nine_lessons_four_classic_five_chain():
    assert len(LESSONS) == 9
    assert len({lesson.order for lesson in LESSONS}) == len(LESSONS)
    assert sum(1 for x in LESSONS if not x.scenario) == 4


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.name for x in LESSONS])
def test_lesson_has_every_part_the_app_shows(lesson):
    parts = sections(lesson)
    for section in SECTIONS:
        assert parts.get(section), f"{lesson.name}: missing or empty '## {section}'"
    steps = parts["Steps in the app"]
    assert "Save my prediction" in steps and "Show what happened" in steps, f"{lesson.name}: steps are not clicks"
    assert "tokenomy " not in steps and "--set" not in steps, f"{lesson.name}: a command line in the app's steps"
    assert parts["Discussion"].count("\n- ") >= 2 or parts["Discussion"].count("- ") >= 3
    assert lesson.prediction in ("direction", "number")
    assert lesson.reveal.get("label"), f"{lesson.name}: the reveal needs a label in words"
    assert lesson.minutes == 45, f"{lesson.name}: timing adds up to {lesson.minutes} min, not a 45-minute class"
    assert lesson.command.startswith("tokenomy ")


@pytest.mark.parametrize("lesson", [x for x in LESSONS if not x.scenario], ids=lambda x: x.name)
def test_classic_lesson_reveals_a_figure_of_its_market(lesson):
    assert lesson.market in CLASSIC_METRICS and not lesson.settings and not lesson.levers
    assert lesson.reveal["metric"] in CLASSIC_METRICS[lesson.market]
    if lesson.prediction == "number":
        assert "unit" in lesson.reveal


@pytest.mark.parametrize("lesson", [x for x in LESSONS if x.scenario], ids=lambda x: x.name)
def test_chain_lesson_names_a_scenario_levers_and_checks_that_exist(lesson):
    assert lesson.scenario in shipped_scenarios()
    sc = load_scenario(lesson.scenario, list(lesson.settings))
    names = {c["name"] for c in checks_of(sc)}
    assert lesson.checks and set(lesson.checks) <= names, f"{lesson.name}: unknown checks"
    assert lesson.reveal["check"] in lesson.checks
    for check in lesson.checks:
        assert f"`{check}`" in lesson.body, f"{lesson.name}: expected outcome does not link check {check}"
    for name, value in lesson.levers.items():
        lever = LEVER_BY_NAME[name]
        assert lever.min <= value <= lever.max, f"{lesson.name}: {name} = {value} outside the slider"
    assert lesson.prediction == "direction"
    assert f"`{lesson.scenario}`" in sections(lesson)["Steps in the app"]


def test_default_levers_are_on_their_sliders():
    assert all(LEVER_BY_NAME[k].min <= v <= LEVER_BY_NAME[k].max for k, v in DEFAULTS.items())


def test_load_by_short_name():
    first = LESSONS[0]
    assert load_lesson(first.name) == first
    assert load_lesson(first.name.split("-", 1)[1]) == first


@pytest.mark.parametrize(
    "front, match",
    [
        ('prediction = "guess"', "prediction = 'guess'"),
        ('timing = [["five", "x"]]', "timing entries"),
        ('colour = "red"', "unknown front matter"),
    ],
)
def test_bad_front_matter_is_one_line_error(tmp_path, front, match):
    path = tmp_path / "x.md"
    path.write_text(f'+++\ntitle = "t"\n{front}\n+++\n\n## The question\nq\n')
    with pytest.raises(ScenarioError, match=match) as err:
        parse_lesson(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("lesson", [x for x in LESSONS if x.scenario], ids=lambda x: x.name)
def test_chain_lesson_reveal_shows_a_clear_direction_on_a_run(lesson):
    from tokenomy.viz.lessons_view import chain_outcome
    from tokenomy.viz.model import ChainModel
    from tokenomy.viz.session import reveal_check, reveal_day

    check = reveal_check(lesson)
    expected = "up" if check["op"] == ">=" and check["value"] >= 0 else "down"
    measured = []
    for seed in (1, 2, 3):  # one run can go the other way (seeds differ: launches, noise); the mean may not
        model = ChainModel(
            lesson.scenario, seed=seed, overrides=tuple(lesson.settings), **{**DEFAULTS, **lesson.levers}
        )
        model.run(reveal_day(lesson))
        outcome = chain_outcome(lesson, model)
        assert outcome["direction"] in ("up", "down", "no change"), outcome
        assert "%" in outcome["words"] and "_" not in outcome["words"]
        measured.append(outcome["measured"])
    assert ("up" if np.mean(measured) > 0 else "down") == expected, (lesson.name, measured)


@pytest.mark.parametrize("lesson", [x for x in LESSONS if x.scenario], ids=lambda x: x.name)
def test_the_plans_play_time_is_what_playing_takes(lesson):
    """The minutes the plan gives to pressing Play match a speed of the app (not seconds at the fastest one, as a
    10-minute slot once did) and leave time for the pauses it asks for."""
    (minutes, what) = next((int(d.split()[0]), w) for d, w in lesson.timing if w.startswith("press Play"))
    speed = next(name for name in SPEEDS if f"the {name} speed" in what)
    pause_s, days_per_redraw = SPEEDS[speed]
    play_minutes = reveal_day(lesson) * pause_s / days_per_redraw / 60
    assert 1.0 <= play_minutes <= minutes / 2, (speed, play_minutes, minutes)  # half the slot or more is for talk
    assert "pause" in what
    stated = int(re.search(r"about (\d+) minutes of play", what).group(1))
    assert abs(stated - play_minutes) <= 1.0, (stated, play_minutes)
