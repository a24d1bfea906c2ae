"""The classroom game lessons (docs/lessons/games/): each parses as a lesson, fills 45 minutes, sets up a game its
scenario allows, asks prediction questions the engine can measure, and names decisions the role really has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tokenomy.abm.classroom.decisions import role_fields
from tokenomy.abm.classroom.game import Game
from tokenomy.abm.classroom.predictions import QUESTIONS
from tokenomy.abm.lessons.catalog import lessons_dir, list_lessons, parse_lesson, sections

GAMES = sorted((lessons_dir() / "games").glob("*.md"))


def test_there_are_the_two_game_lessons_and_the_solo_catalogue_does_not_list_them():
    assert [p.stem for p in GAMES] == ["10-price-war", "11-build-or-wait"]
    assert not {p.stem for p in GAMES} & {lesson.name for lesson in list_lessons()}


@pytest.mark.parametrize("path", GAMES, ids=lambda p: p.stem)
def test_a_game_lesson_sets_up_a_game_and_asks_what_the_engine_measures(path: Path, tmp_path):
    lesson = parse_lesson(path)
    assert lesson.minutes == 45 and lesson.prediction == "number"
    parts = sections(lesson)
    for heading in ("The question", "The game", "What students decide", "Prediction questions", "Debrief questions"):
        assert parts.get(heading), heading
    game, _ = Game.create(tmp_path / "g.sqlite", lesson.scenario, overrides=list(lesson.settings))
    roles = {f.role for f in game.firms}
    assert len(roles) == 1 and len(game.firms) == 2  # two teams
    asked = re.findall(r"`([a-z-]+)`", parts["Prediction questions"])
    assert asked and set(asked) <= set(QUESTIONS), asked
    decided = set(re.findall(r"^\| `([a-z_]+)` \|", parts["What students decide"], flags=re.M))
    assert decided == {f.name for f in role_fields(roles.pop(), game.data)}
    assert game.days_per_round * game.rounds >= game.days  # the rounds reach the horizon
    assert str(game.rounds) in " ".join(parts["The game"].split())
    game.close()
