"""Chart options built from a real model: the data in them matches the tables."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.viz import charts
from tokenomy.viz.model import ChainModel


@pytest.fixture(scope="module")
def model():
    m = ChainModel("classroom", seed=2)
    m.run(10)
    return m


def test_chain_graph_has_every_node_in_its_layer_and_zone_prices(model):
    opt = charts.chain_graph(model)
    nodes = opt["series"][0]["data"]
    assert len(nodes) == model.graph.number_of_nodes()
    xs = {n["category"]: n["x"] for n in nodes}
    assert xs["utility"] < xs["zone"] < xs["aidc"] < xs["provider"] < xs["app"]
    east = next(n for n in nodes if n["name"] == "east")
    price = model.last.power.price[:, model.zone_names.index("east")].mean()
    assert f"{price:,.0f} CNY/MWh" in east["label"]["formatter"]
    assert len(opt["series"][0]["links"]) == model.graph.number_of_edges()


def test_price_history_index_starts_at_100_and_levels_match_the_table(model):
    daily = model.daily_table()
    idx = charts.price_history(model, daily, index_view=True)
    for s in idx["series"]:
        assert s["data"][0][1] == pytest.approx(100.0)
    lv = charts.price_history(model, daily, index_view=False)
    token = lv["series"][0]["data"]
    assert np.allclose([v for _, v in token], daily.token_price_cny_per_mtok, rtol=1e-3)
    assert token[-1][0] == model.date.fromordinal(model.date.toordinal() - 1).isoformat()


def test_token_cost_stack_adds_to_the_price(model):
    daily = model.daily_table()
    opt = charts.token_cost(daily)
    stacked = np.sum([[v for _, v in s["data"]] for s in opt["series"][:-1]], axis=0)
    price = [v for _, v in opt["series"][-1]["data"]]
    assert np.allclose(stacked, price, atol=1e-3)


def test_today_has_24_hours_per_series(model):
    opt = charts.today_hours(model)
    assert all(len(s["data"]) == 24 for s in opt["series"])
    names = {s["name"] for s in opt["series"]}
    assert {"price west", "price east", "storage charge", "storage discharge", "curtailed"} <= names


def test_levers_change_the_world():
    base = ChainModel("classroom", seed=1)
    more = ChainModel("classroom", seed=1, storage_scale=2.0, line_scale=0.5, price_cap=3000)
    assert np.allclose(more.storage.params["energy_mwh"], 2 * base.storage.params["energy_mwh"])
    assert np.allclose(more.line_params["limit_mw"], 0.5 * base.line_params["limit_mw"])
    assert more.data["markets"]["power_price_cap_cny_per_mwh"] == 3000
    boom = ChainModel("classroom", seed=1, agentic_growth=3.0)
    boom.run(365)
    base.run(1)
    assert boom.apps.params["agent_multiplier"][0] == pytest.approx(3 * base.apps.params["agent_multiplier"][0])
