"""The chart widget's option as the page gets it: JSON that parses back to the option, gaps for NaN, one widget."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import solara

from tokenomy.viz import charts
from tokenomy.viz.figure import ChartWidget, Figure, option_json
from tokenomy.viz.model import ChainModel


def test_a_real_chart_option_parses_back_to_itself():
    model = ChainModel("classroom")
    for _ in range(3):
        model.step()
    daily = model.daily_table()
    for option in (charts.chain_graph(model), charts.price_history(model, daily, True), charts.token_cost(daily)):
        text = option_json(option)
        assert json.loads(text) == json.loads(json.dumps(option))  # the same values
        assert len(text) < len(json.dumps(option))  # without the default separators' spaces


def test_nan_and_infinity_become_gaps_not_an_invalid_message():
    option = {"series": [{"data": [["2025-01-01", 1.5], ["2025-01-02", float("nan")], ["2025-01-03", math.inf]]}]}
    text = option_json(option)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["series"][0]["data"] == [["2025-01-01", 1.5], ["2025-01-02", None], ["2025-01-03", None]]
    assert option["series"][0]["data"][1][1] != option["series"][0]["data"][1][1]  # the caller's option is untouched


def test_numpy_numbers_are_written_as_numbers_and_other_objects_refused():
    assert json.loads(option_json({"x": np.float64(2.5), "n": np.int64(3), "b": [np.float32(0.5)]})) == {
        "x": 2.5,
        "n": 3,
        "b": [0.5],
    }
    with pytest.raises(TypeError, match="cannot hold object"):
        option_json({"x": object()})


def test_the_figure_is_one_widget_carrying_its_option_and_figures():
    @solara.component
    def Page():
        with solara.Div():
            Figure({"series": [{"type": "line", "data": [1, 2]}]}, 280, testid="cost-chart", days=2, fan_days=0)

    box, rc = solara.render(Page(), handle_error=False)
    try:
        widgets = rc.find(ChartWidget).widgets
        assert len(widgets) == 1
        chart = widgets[0]
        assert json.loads(chart.option_json) == {"series": [{"type": "line", "data": [1, 2]}]}
        assert chart.attributes == {
            "style": "height: 280px; width: 100%;",
            "data-testid": "cost-chart",
            "data-days": "2",
            "data-fan-days": "0",
        }
    finally:
        rc.close()


def test_the_server_turns_on_reactons_fast_renderer_unless_told_otherwise(monkeypatch):
    from tokenomy.viz import server

    # configure_environment writes the process's environment: here a copy of it, dropped after the test
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k != "REACTON_FAST"})
    server.configure_environment("classroom")
    assert os.environ["REACTON_FAST"] == "1"
    os.environ["REACTON_FAST"] = "0"
    server.configure_environment("classroom")
    assert os.environ["REACTON_FAST"] == "0"
