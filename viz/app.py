"""The Tokenomy browser app: Mesa's SolaraViz with panels that show the chain and its prices live.

Run it with ``tokenomy viz [SCENARIO]`` (or ``solara run viz.app``).  Each browser session gets its own
model; settings in the sidebar apply when you press Reset, shock buttons act on the next day.
"""

from __future__ import annotations

import datetime as dt
import os

import mesa.visualization.solara_viz as mesa_viz
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from tokenomy.abm.levers import LEVERS
from tokenomy.abm.scenarios import shipped_scenarios
from tokenomy.abm.shocks import SHOCKS, apply_shock
from tokenomy.viz import charts
from tokenomy.viz.model import ChainModel
from tokenomy.viz.narrative import explain, state_of
from tokenomy.viz.teaching import ChecksPanel, ClassicMarkets, LessonPanel, SideBySide

DEFAULT_SCENARIO = os.environ.get("TOKENOMY_SCENARIO", "classroom")

# Panel placement on Mesa's 12-column draggable grid (rows of 30 px): the header spans the page, the
# chain and the prices share the first row of charts.
PANEL_LAYOUT = [
    {"i": 0, "x": 0, "y": 0, "w": 12, "h": 5},    # date and "what is happening"
    {"i": 1, "x": 0, "y": 5, "w": 7, "h": 14},    # supply graph
    {"i": 2, "x": 7, "y": 5, "w": 5, "h": 14},    # prices over time
    {"i": 3, "x": 0, "y": 19, "w": 6, "h": 13},   # today's 24 hours
    {"i": 4, "x": 6, "y": 19, "w": 6, "h": 13},   # supply against demand
    {"i": 5, "x": 0, "y": 32, "w": 8, "h": 11},   # what a token costs
    {"i": 6, "x": 8, "y": 32, "w": 4, "h": 11},   # shocks and export
]


def _layout(num_components: int) -> list[dict]:
    if num_components == 1:  # the teaching page: one panel across the page
        return [{"i": 0, "x": 0, "y": 0, "w": 12, "h": 48, "moved": False}]
    if num_components == len(PANEL_LAYOUT):
        return [dict(item, moved=False) for item in PANEL_LAYOUT]
    return [{"i": i, "w": 6, "h": 12, "moved": False, "x": 6 * (i % 2), "y": 12 * (i // 2)}
            for i in range(num_components)]


mesa_viz.make_initial_grid_layout = _layout  # Mesa looks this up when it first lays out a page


def _daily(model):
    """The daily table, built once per simulated day and shared by every panel."""
    cache = getattr(model, "_viz_cache", None)
    if cache is None or cache[0] != model.day:
        model._viz_cache = (model.day, model.daily_table())
    return model._viz_cache[1]


def _chart(option: dict, height: int, testid: str, **data: object):
    """An ECharts figure in a div that names it (and carries a few figures) for tests and scripts."""
    attributes = {"data-testid": testid, **{f"data-{k.replace('_', '-')}": str(v) for k, v in data.items()}}
    with solara.Div(attributes=attributes):
        solara.FigureEcharts(option=option, attributes={"style": f"height: {height}px; width: 100%;"},
                             responsive=True)


def _once_simulated(ready: bool, draw) -> None:
    """``draw()`` once there is a simulated day to show; before that, a line saying so."""
    if ready:
        draw()
    else:
        solara.Text("No days simulated yet.")


@solara.component
def Header(model):
    update_counter.get()
    date = model.date.isoformat()
    with solara.Card(style={"height": "100%", "overflow": "auto"}):
        with solara.Row(style={"align-items": "baseline", "gap": "18px"}):
            solara.HTML(tag="div", unsafe_innerHTML=f"<span data-testid='sim-date'>{date}</span>",
                        style={"font-size": "26px", "font-weight": "600"})
            solara.HTML(tag="span", unsafe_innerHTML=f"day <span data-testid='sim-day'>{model.day}</span>")
            solara.Text(f"scenario: {model.scenario_name} · seed {model.seed_value}")
        if model.day == 0:
            lines = ["Press Step or Play to start trading. Settings apply on Reset; shocks act on the next day."]
        else:
            lines = explain(state_of(model, _daily(model)))
        with solara.Div(attributes={"data-testid": "narrative"}):
            for text in lines:
                solara.Markdown(f"- {text}")


@solara.component
def ChainGraph(model):
    update_counter.get()
    with solara.Card("The chain: power → zones → AIDCs → providers → buyers",
                     style={"height": "100%"}):
        _chart(charts.chain_graph(model), 390, "chain-graph", nodes=model.graph.number_of_nodes())


@solara.component
def Prices(model):
    update_counter.get()
    index_view, set_index_view = solara.use_state(True)
    daily = _daily(model)
    with solara.Card("Prices over time", style={"height": "100%"}):
        solara.ToggleButtonsSingle(value="index (start = 100)" if index_view else "levels",
                                   values=["index (start = 100)", "levels"],
                                   on_value=lambda v: set_index_view(v.startswith("index")))
        _once_simulated(not daily.empty, lambda: _chart(
            charts.price_history(model, daily, index_view), 330, "price-chart", days=len(daily),
            last_token_price=round(float(daily.token_price_cny_per_mtok.iloc[-1]), 6)))


@solara.component
def Today(model):
    update_counter.get()
    with solara.Card("Today's 24 hours of power",
                     style={"height": "100%"}):
        _once_simulated(model.last is not None, lambda: _chart(charts.today_hours(model), 340, "today-chart",
                                                         day=model.day))


def _supply_demand_figures(model, daily) -> None:
    last = daily.iloc[-1]
    wanted, served = last.tokens_demanded_mtok, last.tokens_served_mtok
    solara.HTML(tag="div", unsafe_innerHTML=(
        f"Today: <b>{wanted / 1e6:,.3f}T</b> tokens wanted, <b>{served / 1e6:,.3f}T</b> served "
        f"({last.unserved_share:.1%} unserved); GPU utilisation {last.gpu_utilization:.0%}"),
        attributes={"data-testid": "today-figures", "data-tokens-wanted": f"{wanted:.6f}",
                    "data-tokens-served": f"{served:.6f}"}, style={"font-size": "13px"})
    _chart(charts.supply_demand(model, daily), 280, "supply-chart", days=len(daily))


@solara.component
def SupplyDemand(model):
    update_counter.get()
    daily = _daily(model)
    with solara.Card("Supply against demand", style={"height": "100%"}):
        _once_simulated(not daily.empty, lambda: _supply_demand_figures(model, daily))
        arrivals = model.aidcs.pipeline.soonest(3)
        text = ", ".join(f"{n:,.0f} GPUs on {(model.start_date + dt.timedelta(days=d)).isoformat()}"
                         for d, _, n in arrivals)
        solara.Text(f"Next arrivals: {text}" if text else "No GPUs on order.",
                    style={"font-size": "13px"})


@solara.component
def TokenCost(model):
    update_counter.get()
    daily = _daily(model)
    with solara.Card("What a token costs (CNY per Mtok)", style={"height": "100%"}):
        _once_simulated(not daily.empty, lambda: _chart(charts.token_cost(daily), 280, "cost-chart",
                                                        days=len(daily)))


@solara.component
def Actions(model):
    update_counter.get()
    message, set_message = solara.use_state("")
    with solara.Card("Shocks and export", style={"height": "100%"}):
        solara.Text("Fire a shock: it takes effect on the next day.", style={"font-size": "13px"})
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
            for name in SHOCKS:
                solara.Button(name, color="warning", outlined=True, small=True,
                              on_click=lambda name=name: set_message(apply_shock(model, name)))
        if message:
            solara.Success(message, dense=True)
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px", "margin-top": "10px"}):
            solara.FileDownload(lambda: model.daily_table().to_csv(index=False), filename="daily.csv",
                                label="daily table (CSV)")
            solara.FileDownload(lambda: model.hourly_table().to_csv(index=False), filename="hourly.csv",
                                label="hourly table (CSV)")


def model_params() -> dict:
    params = {
        "scenario_name": {"type": "Select", "value": DEFAULT_SCENARIO, "values": list(shipped_scenarios()),
                          "label": "Scenario"},
        "seed": {"type": "SliderInt", "value": 1, "min": 0, "max": 99, "step": 1, "label": "Seed"},
    }
    for lever in LEVERS:
        params[lever.name] = {"type": "SliderInt" if lever.integer else "SliderFloat", "value": lever.default,
                              "min": lever.min, "max": lever.max, "step": lever.step, "label": lever.label}
    return params


COMPONENTS = [(Header, 0), (ChainGraph, 0), (Prices, 0), (Today, 0), (SupplyDemand, 0), (TokenCost, 0),
              (Actions, 0)]


@solara.component
def Teaching(model):
    update_counter.get()
    with solara.Column():
        ChecksPanel(model)
        SideBySide(model)
        ClassicMarkets()


@solara.component
def Page():
    # one model per browser session: Page renders once per session
    model = solara.use_reactive(solara.use_memo(lambda: ChainModel(scenario_name=DEFAULT_SCENARIO), []))
    SolaraViz(model, components=[*COMPONENTS, (Teaching, 1)], model_params=model_params(), name="Tokenomy",
              play_interval=150)
    with solara.Sidebar():
        LessonPanel(model)
