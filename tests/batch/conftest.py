"""Small sweeps shared by the batch tests: classroom, tens of days, a handful of runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

GRID = """
[sweep]
name = "grid"
scenario = "classroom"
days = 25
seeds = 2
first_seed = 3
[[parameters]]
key = "apps.chatbot.agent_multiplier"
values = [2.0, 8.0]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="session")
def grid_file(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("sweepfile") / "grid.toml", GRID)


@pytest.fixture(scope="session")
def grid_pool(grid_file, tmp_path_factory):
    """The grid sweep (2 values x 2 seeds) through the local process pool."""
    from tokenomy.abm.batch import run_sweep

    return run_sweep(grid_file, tmp_path_factory.mktemp("pool"), workers=2)
