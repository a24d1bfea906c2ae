"""Helpers of the classroom game's tests: a game in a temporary folder, and the model's tables compared exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tokenomy.abm.classroom.game import Game
from tokenomy.abm.model import TokenEconomy

MODEL_TABLES = ("daily_table", "hourly_table", "agents_table")


def new_game(tmp_path: Path, *overrides: str, scenario: str = "classroom", seed: int = 5, name: str = "game.sqlite"):
    """(game, teacher token) of a new game in ``tmp_path``."""
    return Game.create(tmp_path / name, scenario, seed=seed, overrides=list(overrides))


def plain_run(scenario: str = "classroom", seed: int = 5, days: int | None = None) -> TokenEconomy:
    """The scenario run as it is, without a game, to ``days`` (its horizon by default)."""
    model = TokenEconomy(scenario, seed=seed)
    model.run(days or model.config.data["scenario"]["days"])
    return model


def assert_same_tables(a: TokenEconomy, b: TokenEconomy) -> None:
    for name in MODEL_TABLES:
        pd.testing.assert_frame_equal(getattr(a, name)(), getattr(b, name)(), check_exact=True, obj=name)


def same_files(a: Path, b: Path) -> list[str]:
    """The names of the files in folder ``a``, after checking folder ``b`` holds the same files, byte for byte."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    return names
