"""ECharts options built from the model: plain dicts, so they can be tested without a browser.

ECharts ships with solara-assets, so the charts work offline; an option that changes is patched in the
page rather than rebuilt, which keeps a step plus redraw fast.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tokenomy.networks.layout import chain_layout

KIND_COLOUR = {"zone": "#455a64", "utility": "#f9a825", "storage": "#8e24aa", "aidc": "#1e88e5",
               "provider": "#00897b", "lab": "#6d4c41", "app": "#e53935", "enterprise": "#fb8c00"}
KIND_LABEL = {"zone": "grid zone", "utility": "utility", "storage": "storage", "aidc": "AI data centre",
              "provider": "cloud provider", "lab": "training lab", "app": "AI app", "enterprise": "enterprises"}
EDGE_COLOUR = {"line": "#455a64", "grid": "#9e9e9e", "compute": "#1e88e5", "token": "#e53935"}
SERIES_COLOUR = {"token": "#e53935", "compute": "#1e88e5", "energy": "#f9a825", "storage": "#8e24aa",
                 "capital": "#1e88e5", "margin": "#43a047", "green": "#7cb342", "operations": "#90a4ae",
                 "rent": "#3949ab", "served": "#00897b", "unserved": "#e53935",
                 "utilization": "#5e35b1", "pipeline": "#90caf9", "online": "#1e88e5"}
ZONE_PALETTE = ["#455a64", "#f4511e", "#3949ab", "#7cb342", "#00acc1", "#8d6e63", "#d81b60", "#fdd835"]
BASE = {"animation": False, "textStyle": {"fontFamily": "Roboto, Helvetica, Arial, sans-serif"}}


def _dates(daily: pd.DataFrame) -> list[str]:
    return daily.date.dt.strftime("%Y-%m-%d").tolist()


def _r(values, digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def chain_graph(model) -> dict:
    """The supply graph laid out as the chain, sized by capacity, edges as wide as today's flow."""
    g = model.graph_with_flows()
    pos = chain_layout(g)
    ids = {a["name"]: n for n, a in g.nodes(data=True)}
    size, tooltip = {}, {}
    for agent in model.agents:  # every Mesa agent on the map: its state, read through the agent
        if agent.node_id is None:
            continue
        name, kind, state = agent.name, agent.kind, agent.state()
        lines = [f"<b>{name}</b> ({KIND_LABEL[kind]})"]
        lines += [f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in state.items()]
        lines.append(f"cash: {agent.cash_cny:,.0f} CNY")
        tooltip[name] = "<br/>".join(lines)
        capacity = {"aidc": state.get("gpus", 0) / 100, "utility": state.get("capacity_mw", 0),
                    "storage": state.get("energy_mwh", 0), "provider": state.get("capacity_mtok", 0) / 1e4,
                    "lab": state.get("gpu_hours_bought", 0) / 1e4, "app": state.get("tokens_served_mtok", 0) / 1e4,
                    "enterprise": state.get("tokens_served_mtok", 0) / 1e4}[kind]
        size[name] = 12 + 5 * math.log10(1 + max(capacity, 0.0))
    zone_price = model.last.power.price.mean(axis=0) if model.last else np.zeros(len(model.zone_names))
    nodes = []
    for name, node in ids.items():
        kind = g.nodes[node]["kind"]
        x, y = pos[node]
        label = name
        if kind == "zone":
            z = model.zone_names.index(name)
            label = f"{name}\n{zone_price[z]:,.0f} CNY/MWh"
            tooltip[name] = f"<b>{name}</b> (grid zone)<br/>price today: {zone_price[z]:,.1f} CNY/MWh"
        nodes.append({"name": name, "x": round(80 + 840 * x, 1), "y": round(30 + 440 * (1 - y), 1),
                      "symbolSize": round(size.get(name, 26), 1), "itemStyle": {"color": KIND_COLOUR[kind]},
                      "symbol": "roundRect" if kind == "zone" else "circle",
                      "label": {"show": True, "formatter": label, "fontSize": 10,
                                "position": "top" if kind == "zone" else "bottom"},
                      "tooltip": {"formatter": tooltip.get(name, name)}, "category": kind})
    flows: dict[str, float] = {}
    for _, _, a in g.edges(data=True):
        flows[a["kind"]] = max(flows.get(a["kind"], 0.0), abs(float(a.get("flow", 0.0))))
    links = []
    for u, v, a in g.edges(data=True):
        kind = a["kind"]
        f = abs(float(a.get("flow", 0.0)))
        width = 1 + 7 * f / flows[kind] if flows.get(kind) else 1
        links.append({"source": g.nodes[u]["name"], "target": g.nodes[v]["name"],
                      "lineStyle": {"width": round(width, 2), "color": EDGE_COLOUR[kind], "opacity": 0.55},
                      "tooltip": {"formatter": f"{kind} flow today: {f:,.1f}"}})
    categories = [{"name": k, "itemStyle": {"color": c}} for k, c in KIND_COLOUR.items()]
    return {**BASE, "tooltip": {"trigger": "item", "confine": True},
            "legend": {"data": list(KIND_COLOUR), "bottom": 0, "textStyle": {"fontSize": 11},
                       "formatter": "{name}"},
            "series": [{"type": "graph", "layout": "none", "roam": True, "data": nodes, "links": links,
                        "categories": categories, "emphasis": {"focus": "adjacency"},
                        "lineStyle": {"curveness": 0.05}}]}


def zone_daily_prices(model) -> np.ndarray:
    """(days, Z) mean power price per zone and day, read straight from the recorder's hourly columns."""
    return model.recorder.hourly_column("price_cny_per_mwh").mean(axis=2)


def price_history(model, daily: pd.DataFrame, index_view: bool) -> dict:
    """Token, compute and zonal power prices over time; as an index (start = 100) or in their units."""
    dates = _dates(daily)
    zone_daily = zone_daily_prices(model)
    series_values = [("token CNY/Mtok", daily.token_price_cny_per_mtok.to_numpy(), SERIES_COLOUR["token"], 0),
                     ("compute CNY/GPU-h", daily.compute_price_cny_per_gpu_hour.to_numpy(), SERIES_COLOUR["compute"],
                      1)]
    for i, zone in enumerate(model.zone_names):
        series_values.append((f"power {zone} CNY/MWh", zone_daily[:, i],
                              ZONE_PALETTE[(i + 1) % len(ZONE_PALETTE)], 2))
    series = []
    for name, values, colour, axis in series_values:
        if index_view:
            first = next((v for v in values if abs(v) > 1e-12), 1.0)
            values = 100.0 * np.asarray(values) / first
        series.append({"name": name, "type": "line", "showSymbol": False, "yAxisIndex": 0 if index_view else axis,
                       "data": [[d, v] for d, v in zip(dates, _r(values), strict=True)],
                       "lineStyle": {"width": 2 if axis < 2 else 1.2}, "itemStyle": {"color": colour}})
    if index_view:
        y_axes = [{"type": "value", "name": "index, start = 100", "scale": True}]
    else:
        y_axes = [{"type": "value", "name": "CNY/Mtok", "scale": True, "position": "left"},
                  {"type": "value", "name": "CNY/GPU-h", "scale": True, "position": "right"},
                  {"type": "value", "name": "CNY/MWh", "scale": True, "position": "right", "offset": 60}]
    return {**BASE, "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "type": "scroll"},
            "grid": {"left": 60, "right": 130 if not index_view else 30, "top": 40, "bottom": 40},
            "xAxis": {"type": "time"}, "yAxis": y_axes, "series": series}


def today_hours(model) -> dict:
    """Today's 24 hours: price and load per zone; storage, renewable output and curtailment."""
    nz = len(model.zone_names)
    hours = list(range(24))
    series = []
    if model.last:
        p = model.last.power
        gen = p.gen_tech
        renewable = gen[3] + gen[4] + gen[5]  # hydro, wind, solar (24, Z)
        for z, zone in enumerate(model.zone_names):
            colour = ZONE_PALETTE[(z + 1) % len(ZONE_PALETTE)]
            series.append({"name": f"price {zone}", "type": "line", "xAxisIndex": 0, "yAxisIndex": 0,
                           "data": _r(p.price[:, z], 1), "itemStyle": {"color": colour}, "showSymbol": False})
            series.append({"name": f"load {zone}", "type": "line", "xAxisIndex": 1, "yAxisIndex": 1,
                           "data": _r(p.load[:, z] + p.flex_served[:, z], 1), "showSymbol": False,
                           "lineStyle": {"type": "dashed"}, "itemStyle": {"color": colour}})
        series += [
            {"name": "renewable output", "type": "bar", "stack": "supply", "xAxisIndex": 1, "yAxisIndex": 1,
             "data": _r(renewable.sum(axis=1), 1), "itemStyle": {"color": "#7cb342"}},
            {"name": "curtailed", "type": "bar", "stack": "supply", "xAxisIndex": 1, "yAxisIndex": 1,
             "data": _r(p.curtail.sum(axis=1), 1), "itemStyle": {"color": "#c5e1a5"}},
            {"name": "storage discharge", "type": "bar", "stack": "storage", "xAxisIndex": 1, "yAxisIndex": 1,
             "data": _r(p.discharge_z.sum(axis=1), 1), "itemStyle": {"color": "#8e24aa"}},
            {"name": "storage charge", "type": "bar", "stack": "storage", "xAxisIndex": 1, "yAxisIndex": 1,
             "data": _r(-p.charge_z.sum(axis=1), 1), "itemStyle": {"color": "#ce93d8"}},
        ]
    del nz
    return {**BASE, "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "type": "scroll"},
            "grid": [{"left": 60, "right": 20, "top": 40, "height": "30%"},
                     {"left": 60, "right": 20, "top": "55%", "bottom": 30}],
            "xAxis": [{"type": "category", "data": hours, "gridIndex": 0},
                      {"type": "category", "data": hours, "gridIndex": 1, "name": "hour"}],
            "yAxis": [{"type": "value", "name": "CNY/MWh", "gridIndex": 0, "scale": True},
                      {"type": "value", "name": "MW", "gridIndex": 1}],
            "series": series}


def supply_demand(model, daily: pd.DataFrame) -> dict:
    """Tokens demanded against served (unserved shaded), GPU utilisation, GPUs online and on order."""
    dates = _dates(daily)
    served = daily.tokens_served_mtok.to_numpy() * 1e6 / 1e12
    unserved = daily.tokens_unserved_mtok.to_numpy() * 1e6 / 1e12
    series = [
        {"name": "tokens served (T/day)", "type": "line", "stack": "tokens", "areaStyle": {"opacity": 0.5},
         "showSymbol": False, "data": [[d, v] for d, v in zip(dates, _r(served, 4), strict=True)],
         "itemStyle": {"color": SERIES_COLOUR["served"]}, "xAxisIndex": 0, "yAxisIndex": 0},
        {"name": "unserved (T/day)", "type": "line", "stack": "tokens", "areaStyle": {"opacity": 0.7},
         "showSymbol": False, "data": [[d, v] for d, v in zip(dates, _r(unserved, 4), strict=True)],
         "itemStyle": {"color": SERIES_COLOUR["unserved"]}, "xAxisIndex": 0, "yAxisIndex": 0},
        {"name": "GPU utilisation", "type": "line", "showSymbol": False, "xAxisIndex": 0, "yAxisIndex": 1,
         "data": [[d, v] for d, v in zip(dates, _r(daily.gpu_utilization * 100, 1), strict=True)],
         "itemStyle": {"color": SERIES_COLOUR["utilization"]}, "lineStyle": {"type": "dotted"}},
        {"name": "GPUs online", "type": "line", "showSymbol": False, "xAxisIndex": 1, "yAxisIndex": 2,
         "step": "end", "data": [[d, v] for d, v in zip(dates, _r(daily.gpus_online, 0), strict=True)],
         "itemStyle": {"color": SERIES_COLOUR["online"]}},
        {"name": "GPUs on order", "type": "line", "showSymbol": False, "xAxisIndex": 1, "yAxisIndex": 2,
         "step": "end", "areaStyle": {"opacity": 0.3},
         "data": [[d, v] for d, v in zip(dates, _r(daily.gpus_in_pipeline, 0), strict=True)],
         "itemStyle": {"color": SERIES_COLOUR["pipeline"]}},
    ]
    return {**BASE, "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "type": "scroll"},
            "grid": [{"left": 60, "right": 50, "top": 40, "height": "36%"},
                     {"left": 60, "right": 50, "top": "62%", "bottom": 30}],
            "xAxis": [{"type": "time", "gridIndex": 0}, {"type": "time", "gridIndex": 1}],
            "yAxis": [{"type": "value", "name": "T tokens/day", "gridIndex": 0},
                      {"type": "value", "name": "% busy", "gridIndex": 0, "max": 100, "position": "right"},
                      {"type": "value", "name": "GPUs", "gridIndex": 1}],
            "series": series}


def token_cost(daily: pd.DataFrame) -> dict:
    """The token price split over time, stacked: energy, storage, green certificates, operations and GPU capital
    along the chain, the data centres' rent (scarcity above those costs, negative in a glut) and the
    provider's margin."""
    dates = _dates(daily)
    parts = [("energy", "token_cost_energy_cny_per_mtok"), ("storage", "token_cost_storage_cny_per_mtok"),
             ("green", "token_cost_green_cny_per_mtok"), ("operations", "token_cost_operations_cny_per_mtok"),
             ("GPU capital", "token_cost_gpu_capital_cny_per_mtok"),
             ("data-centre rent", "token_cost_compute_rent_cny_per_mtok"),
             ("provider margin", "token_margin_cny_per_mtok")]
    colours = [SERIES_COLOUR[k] for k in ("energy", "storage", "green", "operations", "capital", "rent", "margin")]
    series = [{"name": name, "type": "line", "stack": "cost", "areaStyle": {"opacity": 0.75}, "showSymbol": False,
               "data": [[d, v] for d, v in zip(dates, _r(daily[col], 4), strict=True)],
               "itemStyle": {"color": colour}, "lineStyle": {"width": 0.5}}
              for (name, col), colour in zip(parts, colours, strict=True)]
    series.append({"name": "token price", "type": "line", "showSymbol": False,
                   "data": [[d, v] for d, v in zip(dates, _r(daily.token_price_cny_per_mtok, 4), strict=True)],
                   "itemStyle": {"color": "#212121"}, "lineStyle": {"width": 2, "type": "dashed"}})
    return {**BASE, "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "grid": {"left": 60, "right": 20, "top": 40, "bottom": 30},
            "xAxis": {"type": "time"}, "yAxis": {"type": "value", "name": "CNY per Mtok"}, "series": series}
