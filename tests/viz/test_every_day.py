"""The app's panels can be drawn after every day of every shipped scenario, to its horizon and beyond.

A panel that breaks on the day something changes shape (a utility commissions a unit, an AIDC scraps its
fleet, a contract ends) breaks the page, so every panel and the narrative are built after every step --
not only after a few days -- and must give well-formed, finite numbers.
"""

from __future__ import annotations

import json
import math

import pytest

from tokenomy.abm.scenarios import load_scenario, shipped_scenarios
from tokenomy.viz import charts
from tokenomy.viz.model import ChainModel
from tokenomy.viz.narrative import explain, state_of

EXTRA_DAYS = 60
SCENARIOS = sorted(shipped_scenarios())


def _finite(option: dict) -> bool:
    """Every number in a chart option is finite (ECharts draws nothing, or garbage, for NaN and inf)."""

    def walk(x) -> bool:
        if isinstance(x, float):
            return math.isfinite(x)
        if isinstance(x, dict):
            return all(walk(v) for v in x.values())
        if isinstance(x, list | tuple):
            return all(walk(v) for v in x)
        return True

    return walk(option)


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_panel_builds_after_every_day(name):
    days = load_scenario(name).data["scenario"]["days"] + EXTRA_DAYS
    model = ChainModel(name, seed=2)
    daily = None
    for day in range(days):
        model.step()
        graph = charts.chain_graph(model)
        hours = charts.today_hours(model)
        assert _finite(graph) and _finite(hours), (name, day)
        if day % 7 == 0 or day == days - 1:  # the time charts read the whole table: once a week is enough
            daily = model.daily_table()
            for option in (
                charts.price_history(model, daily, index_view=True),
                charts.price_history(model, daily, index_view=False),
                charts.supply_demand(model, daily),
                charts.token_cost(daily),
            ):
                assert _finite(option), (name, day)
                json.dumps(option)
        sentences = explain(state_of(model, daily))
        assert all(isinstance(s, str) and s for s in sentences), (name, day)
    assert model.day == days
