"""Chart options built from a real model: the data in them matches the tables, and a student can read them
(every series named in a legend that does not page, units on every axis, shocks marked)."""

from __future__ import annotations

import datetime as dt
import itertools

import networkx as nx
import numpy as np
import pytest

from tokenomy.abm.shocks import apply_shock
from tokenomy.networks.layout import chain_layout
from tokenomy.viz import charts
from tokenomy.viz.crossing import crossing_option, crossings
from tokenomy.viz.fan import SeedFan, fan_request
from tokenomy.viz.model import ChainModel
from tokenomy.viz.teaching import _change_cell, b_extra, cobweb_view, compare_runs, double_auction_view

SHOCK_DAY = 6


@pytest.fixture(scope="module")
def model():
    m = ChainModel("classroom", seed=2)
    m.run(SHOCK_DAY)
    apply_shock(m, "demand boom")
    m.run(10 - SHOCK_DAY)
    return m


@pytest.fixture(scope="module")
def china():
    m = ChainModel("china-2024", seed=1)
    m.run(3)
    apply_shock(m, "line outage")
    m.run(2)
    return m


def _options(m) -> dict[str, dict]:
    daily = m.daily_table()
    fan = _fan(m)
    return {
        "prices index": charts.price_history(m, daily, True),
        "prices levels": charts.price_history(m, daily, False),
        "prices index, fan": charts.price_history(m, daily, True, fan=fan),
        "prices levels, fan": charts.price_history(m, daily, False, fan=fan),
        "today": charts.today_hours(m),
        "supply": charts.supply_demand(m, daily),
        "cost": charts.token_cost(daily, m),
        "crossing": crossing_option(*crossings(m, 19, 0), *crossings(m, 19, 0, True), 1500.0),
    }


TIME_CHARTS = ("prices index", "prices levels", "prices index, fan", "prices levels, fan", "supply", "cost")
_FANS: dict[int, object] = {}


def _fan(m):
    """A fan of two other seeds behind the model's prices (its shock fired in them too), computed once."""
    if id(m) not in _FANS:
        _FANS[id(m)] = SeedFan().compute(fan_request(m, 2))
    return _FANS[id(m)]


def _axes(option: dict, key: str) -> list[dict]:
    axes = option[key]
    return axes if isinstance(axes, list) else [axes]


def _legends(option: dict) -> list[dict]:
    legend = option["legend"]
    return legend if isinstance(legend, list) else [legend]


@pytest.mark.parametrize("which", ["model", "china"])
def test_every_series_is_named_in_a_legend_that_does_not_page(which, request):
    m = request.getfixturevalue(which)
    for title, option in _options(m).items():
        names = [s.get("name") for s in option["series"]]
        assert all(names), title
        legends = _legends(option)
        assert all(legend.get("type", "plain") == "plain" for legend in legends), title
        shown = {n for legend in legends for n in legend["data"]}
        assert set(names) == shown, (title, set(names) ^ shown)
        assert len(shown) <= 12, (title, len(shown))  # many zones are summed up, not listed one by one
    graph = charts.chain_graph(m)
    assert graph["legend"].get("type", "plain") == "plain"
    assert set(graph["legend"]["data"]) == {c["name"] for c in graph["series"][0]["categories"]}


@pytest.mark.parametrize("which", ["model", "china"])
def test_units_on_every_axis_and_axis_names_beside_their_axis(which, request):
    m = request.getfixturevalue(which)
    for title, option in _options(m).items():
        for key in ("xAxis", "yAxis"):
            for axis in _axes(option, key):
                if axis["type"] == "time" or not axis.get("axisLabel", {}).get("show", True):
                    continue  # dates are their own unit; an unlabelled axis shares the labelled one under it
                assert axis.get("name"), (title, key, axis)
                if key == "yAxis" or axis.get("name"):
                    assert axis.get("nameLocation") == "middle", (title, axis["name"])  # not over the legend


def test_the_levels_view_has_one_unit_per_grid(model):
    option = charts.price_history(model, model.daily_table(), index_view=False)
    assert len(option["grid"]) == 3
    units = [axis["name"] for axis in option["yAxis"]]
    assert units == ["CNY/Mtok", "CNY/GPU-h", "CNY/MWh"]
    assert [axis["gridIndex"] for axis in option["yAxis"]] == [0, 1, 2]
    by_grid = {i: {s["name"] for s in option["series"] if s["yAxisIndex"] == i} for i in range(3)}
    assert by_grid[0] == {"token price"} and by_grid[1] == {"compute price"}
    assert by_grid[2] == {f"power {zone}" for zone in model.zone_names}
    tops = [g["top"] for g in option["grid"]]
    assert all(a + g["height"] <= b for a, b, g in zip(tops, tops[1:], option["grid"], strict=False))  # no overlap


def test_price_history_index_starts_at_100_and_levels_match_the_table(model):
    daily = model.daily_table()
    idx = charts.price_history(model, daily, index_view=True)
    for s in idx["series"]:
        assert s["data"][0][1] == pytest.approx(100.0)
    lv = charts.price_history(model, daily, index_view=False)
    token = lv["series"][0]["data"]
    assert np.allclose([v for _, v in token], daily.token_price_cny_per_mtok, rtol=1e-3)
    assert token[-1][0] == model.date.fromordinal(model.date.toordinal() - 1).isoformat()


def test_many_zones_are_summed_up_as_average_cheapest_and_dearest(china):
    option = charts.price_history(china, china.daily_table(), index_view=False)
    power = {s["name"]: [v for _, v in s["data"]] for s in option["series"] if s["yAxisIndex"] == 2}
    zone_prices = charts.zone_daily_prices(china)
    assert np.allclose(power["power, cheapest zone"], zone_prices.min(axis=1), atol=1e-3)
    assert np.allclose(power["power, dearest zone"], zone_prices.max(axis=1), atol=1e-3)
    assert np.allclose(power["power, average of 8 zones"], zone_prices.mean(axis=1), atol=1e-3)


@pytest.mark.parametrize("which", ["model", "china"])
def test_shocks_are_marked_on_every_time_chart(which, request):
    m = request.getfixturevalue(which)
    ((day, name, _),) = m.shocks_fired
    date = (m.start_date + dt.timedelta(days=day)).isoformat()
    for title in TIME_CHARTS:
        option = _options(m)[title]
        for axis in range(len(_axes(option, "xAxis"))):
            marks = [
                mark
                for s in option["series"]
                if s.get("xAxisIndex", 0) == axis
                for mark in s.get("markLine", {}).get("data", [])
            ]
            assert [(mark["xAxis"], mark["label"]["formatter"]) for mark in marks] == [(date, name)], (title, axis)


def test_a_first_day_is_drawn_as_dots():
    m = ChainModel("classroom", seed=2)
    m.step()
    daily = m.daily_table()
    for option in (charts.price_history(m, daily, True), charts.supply_demand(m, daily), charts.token_cost(daily)):
        lines = [s for s in option["series"] if s["type"] == "line"]
        assert lines and all(s["showSymbol"] and len(s["data"]) == 1 for s in lines)
    m.run(40)
    assert not charts.token_cost(m.daily_table())["series"][0]["showSymbol"]


def test_token_cost_stack_adds_to_the_price(model):
    daily = model.daily_table()
    opt = charts.token_cost(daily)
    stacked = np.sum([[v for _, v in s["data"]] for s in opt["series"][:-1]], axis=0)
    price = [v for _, v in opt["series"][-1]["data"]]
    assert np.allclose(stacked, price, atol=1e-3)


def test_today_has_24_hours_per_series_and_a_zone_says_price_and_load_in_one_colour(model):
    opt = charts.today_hours(model)
    assert all(len(s["data"]) == 24 for s in opt["series"])
    price = next(s for s in opt["series"] if s["name"] == "price east")
    load = next(s for s in opt["series"] if s["name"] == "load east")
    assert (price["yAxisIndex"], load["yAxisIndex"]) == (0, 1)  # its price above, its load below
    assert price["itemStyle"]["color"] == load["itemStyle"]["color"] and load["lineStyle"]["type"] == "dashed"
    z = model.zone_names.index("east")
    assert np.allclose(price["data"], model.last.power.price[:, z], atol=0.05)
    names = {s["name"] for s in opt["series"]}
    assert {"price west", "load west", "storage charge", "storage discharge", "curtailed"} <= names


def _colour_of(option: dict, name: str) -> str:
    return next(s["itemStyle"]["color"] for s in option["series"] if s["name"] == name)


def test_every_line_on_the_price_charts_has_its_own_colour_and_equal_zones_stay_visible(model):
    daily = model.daily_table()
    for index_view in (True, False):
        opt = charts.price_history(model, daily, index_view)
        lines = [s for s in opt["series"] if s["type"] == "line"]
        colours = [s["itemStyle"]["color"].lower() for s in lines]
        assert len(set(colours)) == len(colours), colours  # token, compute and each zone: no two alike
        zones = [s for s in lines if s["name"].startswith("power")]
        assert len({str(s["lineStyle"]["type"]) for s in zones}) == len(zones)  # a line on top cannot hide another
    cost = charts.token_cost(daily)
    stack = [s["itemStyle"]["color"].lower() for s in cost["series"] if s.get("stack")]
    assert len(set(stack)) == len(stack)  # green certificates and the margin are not both green


def test_chain_graph_has_every_node_in_its_layer_and_zone_prices(model):
    opt = charts.chain_graph(model)
    nodes = opt["series"][0]["data"]
    assert len(nodes) == model.graph.number_of_nodes()
    xs = {n["category"]: n["x"] for n in nodes}
    label = charts.KIND_LABEL
    assert xs[label["utility"]] < xs[label["zone"]] < xs[label["aidc"]] < xs[label["provider"]] < xs[label["app"]]
    east = next(n for n in nodes if n["name"] == "east")
    price = model.last.power.price[:, model.zone_names.index("east")].mean()
    assert f"{price:,.0f} CNY/MWh" in east["label"]["formatter"]
    links = opt["series"][0]["links"]
    # the graph's lines and grid edges, and every trade relation (the classroom's buyers trade with every seller,
    # which the graph does not spell out): 3 buyers x 2 providers, 3 compute buyers x 2 AIDCs
    assert model.graph.number_of_edges() == 2 + 1 + 2 + 1  # utilities, storage and AIDCs to zones; one line
    assert len(links) == model.graph.number_of_edges() + 3 * 2 + 3 * 2
    pairs = {(link["source"], link["target"]) for link in links}
    assert {("cloud-a", "chatbot"), ("cloud-b", "firms"), ("west-aidc", "ai-lab")} <= pairs


def _min_label_gap_px(g: nx.Graph, width: float = 560.0, height: float = 330.0) -> float:
    """Smallest distance between two nodes (each with its label under it) on a chart of the given size."""
    pos = chain_layout(g)
    xy = np.array([(x * width, y * height) for x, y in pos.values()])
    return min(float(np.hypot(*(a - b))) for a, b in itertools.combinations(xy, 2))


def _zones_graph(n_zones: int) -> nx.Graph:
    """A chain with ``n_zones`` zones, a utility, a battery and an AIDC in each, and a few providers and buyers."""
    g = nx.Graph()
    node = itertools.count()
    zones = [next(node) for _ in range(n_zones)]
    for i, z in enumerate(zones):
        g.add_node(z, kind="zone", name=f"zone-{i}")
        for kind in ("utility", "storage", "aidc"):
            n = next(node)
            g.add_node(n, kind=kind, name=f"{kind}-{i}")
            g.add_edge(n, z)
    for kind, count in (("provider", 6), ("lab", 2), ("app", 5), ("enterprise", 3)):
        for i in range(count):
            g.add_node(next(node), kind=kind, name=f"{kind}-{i}")
    return g


def test_chain_layout_keeps_labels_apart(china):
    # a label is about 14 px tall and, under its node, needs the node's height again: 26 px apart at least
    assert _min_label_gap_px(china.graph) >= 26
    assert _min_label_gap_px(_zones_graph(12)) >= 26


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


def test_side_by_side_shows_a_share_moving_in_points_and_a_price_in_percent():
    assert _change_cell(0.038, 0.045, "unserved_share") == "+0.7 points"
    assert _change_cell(4.0, 5.0, "token_price_cny_per_mtok") == "+25%"


def _marks(option: dict, axis: int, key: str) -> list:
    return [mark for s in option["series"] if s.get("xAxisIndex", 0) == axis for mark in s.get(key, {}).get("data", [])]


def test_the_scenarios_own_events_are_marked_and_shaded_for_as_long_as_they_act():
    m = ChainModel("classroom", seed=1)
    m.run(119)
    assert not charts.chart_events(m)  # not before it happens
    m.run(81)  # day 200: "agentic coding takes off" on day 120, ramping over 60 days
    apply_shock(m, "line outage")  # acts for 30 days from day 200
    m.run(10)
    start = m.start_date
    event_day = (start + dt.timedelta(days=120)).isoformat()
    shock_day = (start + dt.timedelta(days=200)).isoformat()
    daily = m.daily_table()
    charts_px = [(charts.price_history(m, daily, index, 330), 330) for index in (True, False)]
    charts_px += [(charts.supply_demand(m, daily, 280), 280), (charts.token_cost(daily, m, 300), 300)]
    for option, chart_px in charts_px:
        for axis in range(len(_axes(option, "xAxis"))):
            lines = [(mark["xAxis"], mark["label"]["formatter"]) for mark in _marks(option, axis, "markLine")]
            assert lines == [(event_day, "agentic coding tools take off"), (shock_day, "line outage")]
            spans = [(a["xAxis"], b["xAxis"]) for a, b in _marks(option, axis, "markArea")]
            last = (start + dt.timedelta(days=m.day - 1)).isoformat()  # the outage is shaded up to today
            assert spans == [(event_day, (start + dt.timedelta(days=180)).isoformat()), (shock_day, last)]
            # a label runs down its line from the top of its grid and stops inside it (not across the axis below)
            grid = _axes(option, "grid")[_axes(option, "xAxis")[axis].get("gridIndex", 0)]
            plot_px = grid.get("height", chart_px - grid["top"] - grid.get("bottom", 0))
            for mark in _marks(option, axis, "markLine"):
                assert mark["label"]["overflow"] == "truncate" and 20 <= mark["label"]["width"] <= plot_px - 8


def test_event_labels_are_short_first_clauses():
    assert charts.short_label("DeepSeek-V2 (6 May 2024): multi-head latent attention") == "DeepSeek-V2"
    assert charts.short_label("agentic coding tools take off: nine in ten coding") == "agentic coding tools take off"
    long = charts.short_label("platforms put agents into their products through 2025 and beyond")
    assert long.endswith("\u2026") and len(long) <= charts.EVENT_LABEL_CHARS + 1 and " " in long


def test_cobweb_words_say_what_the_chart_shows_when_the_price_hits_zero():
    rows, _, figures = cobweb_view(1.2)
    assert figures["regime"] == "exploding"
    words = figures["words"]
    assert words.startswith("Theory says: the swings grow (exploding).")
    assert "stops at 0" in words and "cannot grow" in words  # the chart's bounded swings, explained
    last = dict((name, (theory, sim)) for name, theory, sim in rows)["price in the last period (period 30)"]
    assert last[0].startswith("no limit")  # the theory column says what theory says, not P*
    _, _, damped = cobweb_view(0.8)
    assert damped["words"] == "Theory says: the swings shrink (damped)."


def test_the_double_auctions_traders_and_values_can_be_changed():
    rows, _, base = double_auction_view(1)
    _, _, thin = double_auction_view(1, traders=2, units=1, high=120.0, low=80.0)
    assert thin["price"] != base["price"] and 80.0 <= thin["price"] <= 120.0  # trades between the values given
    with pytest.raises(ValueError, match="must be below"):
        double_auction_view(1, high=50.0, low=60.0)


def test_every_chart_saves_as_png_and_time_charts_zoom_on_every_time_axis(model):
    for title, option in _options(model).items():
        assert "saveAsImage" in option["toolbox"]["feature"], title
        if title in TIME_CHARTS:
            (zoom,) = option["dataZoom"]
            assert zoom["xAxisIndex"] == list(range(len(_axes(option, "xAxis")))), title
            assert "dataZoom" in option["toolbox"]["feature"], title


def test_side_by_side_compares_a_shock_and_the_scenarios_own_events():
    m = ChainModel("classroom", seed=1)
    a, b = compare_runs(m, "agentic_growth", 1.0, 1.0, 150, shock_b="demand boom", shock_day=40)
    assert np.allclose(a.tokens_demanded_mtok[:40], b.tokens_demanded_mtok[:40])  # the same world until the shock
    assert b.tokens_demanded_mtok.iloc[-1] > 1.3 * a.tokens_demanded_mtok.iloc[-1]
    a, b = compare_runs(m, "agentic_growth", 1.0, 1.0, 180, events_b=False)  # classroom's agents take off on day 120
    assert np.allclose(a.tokens_demanded_mtok[:120], b.tokens_demanded_mtok[:120])
    assert b.tokens_demanded_mtok.iloc[-1] < 0.9 * a.tokens_demanded_mtok.iloc[-1]
    assert b_extra("demand boom", 40, False) == " + demand boom on day 40, no events"
