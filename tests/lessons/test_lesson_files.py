"""Every lesson in docs/lessons/ names a scenario that exists, settings that validate and checks that exist."""

from __future__ import annotations

import pytest

from tokenomy.abm.lessons.catalog import list_lessons, load_lesson
from tokenomy.abm.scenarios import load_scenario, shipped_scenarios

LESSONS = list_lessons()
SECTIONS = ("## The question", "## Settings", "## Step by step", "## What to watch", "## Discussion",
            "## Theory", "## Expected outcome")


def test_six_to_eight_lessons():
    assert 6 <= len(LESSONS) <= 8
    assert len({lesson.order for lesson in LESSONS}) == len(LESSONS)


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.name for x in LESSONS])
def test_lesson_is_complete_and_valid(lesson):
    for section in SECTIONS:
        assert section in lesson.body, f"{lesson.name}: missing '{section}'"
    assert lesson.command.startswith("tokenomy ")
    if lesson.market:
        assert lesson.market in ("call-market", "double-auction", "cobweb")
    if not lesson.scenario:
        assert lesson.market and not lesson.settings
        return
    assert lesson.scenario in shipped_scenarios()
    sc = load_scenario(lesson.scenario, list(lesson.settings))
    names = {c["name"] for c in sc.data["expected"]["checks"]}
    assert lesson.checks and set(lesson.checks) <= names, f"{lesson.name}: unknown checks"
    for check in lesson.checks:
        assert f"`{check}`" in lesson.body, f"{lesson.name}: expected outcome does not link check {check}"


def test_load_by_short_name():
    first = LESSONS[0]
    assert load_lesson(first.name) == first
    assert load_lesson(first.name.split("-", 1)[1]) == first
