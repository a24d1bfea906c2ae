"""ECharts options built from the model: plain dicts, so they can be tested without a browser.

ECharts ships with solara-assets, so the charts work offline; an option that changes is patched in the
page rather than rebuilt, which keeps a step plus redraw fast.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tokenomy.abm.bands import percentile_band
from tokenomy.abm.metric_words import agent_line, flow_words, fmt_number
from tokenomy.abm.seeds import seeds_text
from tokenomy.abm.shocks import SHOCK_DAYS
from tokenomy.networks.layout import chain_layout
from tokenomy.viz.glossary import node_words

# Okabe & Ito's palette (safe for the common colour-vision deficiencies), one colour per role: the token is
# vermillion, compute blue, power orange, storage purple, green energy bluish green; nothing else uses them.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
KIND_COLOUR = {
    "zone": "#455a64",
    "utility": OKABE_ITO["orange"],
    "storage": OKABE_ITO["purple"],
    "aidc": OKABE_ITO["blue"],
    "provider": OKABE_ITO["sky"],
    "lab": "#6d4c41",
    "app": OKABE_ITO["vermillion"],
    "enterprise": OKABE_ITO["yellow"],
}
KIND_LABEL = {
    "zone": "grid zone",
    "utility": "utility",
    "storage": "storage",
    "aidc": "AI data centre",
    "provider": "cloud provider",
    "lab": "training lab",
    "app": "AI app",
    "enterprise": "firms using AI",
}
EDGE_COLOUR = {"line": "#455a64", "grid": "#9e9e9e", "compute": OKABE_ITO["blue"], "token": OKABE_ITO["vermillion"]}
SERIES_COLOUR = {
    "token": OKABE_ITO["vermillion"],
    "compute": OKABE_ITO["blue"],
    "energy": OKABE_ITO["orange"],
    "storage": OKABE_ITO["purple"],
    "capital": "#332288",  # indigo (Paul Tol): beside compute's blue in the cost stack, not the same
    "margin": OKABE_ITO["sky"],
    "green": OKABE_ITO["green"],
    "operations": "#9e9e9e",
    "rent": "#DDCC77",  # sand (Paul Tol)
    "served": OKABE_ITO["green"],
    "unserved": OKABE_ITO["vermillion"],
    "utilization": "#332288",
    "pipeline": "#88CCEE",
    "online": OKABE_ITO["blue"],
}
# zones: colours none of the roles above use, each with its own dash so equal prices do not hide a line
ZONE_PALETTE = ["#555555", "#E69F00", "#882255", "#117733", "#56B4E9", "#CC79A7", "#999933", "#AA4499"]
ZONE_DASH = ["solid", "dashed", "dotted", [8, 3, 2, 3]]
BASE = {"animation": False, "textStyle": {"fontFamily": "Roboto, Helvetica, Arial, sans-serif"}}


NOT_YET = "No days simulated yet: press Step or Play."


def not_yet(text: str = NOT_YET) -> dict:
    """An empty chart that says why it is empty (drawn before the first day, in the place of the real one)."""
    return {
        **BASE,
        "title": {"text": text, "left": "center", "top": "middle", "textStyle": {"fontSize": 14, "color": "#777"}},
    }


def _dates(daily: pd.DataFrame) -> list[str]:
    return daily.date.dt.strftime("%Y-%m-%d").tolist()


def _r(values, digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]


def _grid_links(g) -> list[tuple[str, str, str, float]]:
    """(one end, other end, kind, today's flow) of the lines and grid edges."""
    return [
        (g.nodes[u]["name"], g.nodes[v]["name"], a["kind"], float(a.get("flow", 0.0)))
        for u, v, a in g.edges(data=True)
        if a["kind"] in ("line", "grid")
    ]


def _trade_links(model) -> list[tuple[str, str, str, float]]:
    """(seller, buyer, kind, today's flow) of every trade relation, from the model's tables of who may trade with
    whom (the graph spells out only restricted ones): compute in GPU-hours, tokens in Mtok."""
    last = model.last
    compute = last.compute.pair_gpu_hours() if last else np.zeros(model.compute_edges.shape)
    tokens = last.tokens.served_pair if last else np.zeros(model.token_edges.shape)
    aidcs, providers = model.aidcs.names, model.providers.names
    buyers = model.apps.names + model.enterprises.names
    out = [
        (aidcs[a], name, "compute", float(compute[row, a]))
        for row, name in enumerate(providers + model.labs.names)
        for a in np.flatnonzero(model.compute_edges[row])
    ]
    out += [
        (providers[p], name, "token", float(tokens[b, p]))
        for b, name in enumerate(buyers)
        for p in np.flatnonzero(model.token_edges[b])
    ]
    return out


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
        spelled = node_words(name)
        lines = [f"<b>{name}</b> ({spelled if spelled != name else KIND_LABEL[kind]})"]
        lines += [agent_line(k, v) for k, v in state.items()]
        lines.append(f"cash: {fmt_number(agent.cash_cny)} CNY")
        tooltip[name] = "<br/>".join(lines)
        capacity = {
            "aidc": state.get("gpus", 0) / 100,
            "utility": state.get("capacity_mw", 0),
            "storage": state.get("energy_mwh", 0),
            "provider": state.get("capacity_mtok", 0) / 1e4,
            "lab": state.get("gpu_hours_bought", 0) / 1e4,
            "app": state.get("tokens_served_mtok", 0) / 1e4,
            "enterprise": state.get("tokens_served_mtok", 0) / 1e4,
        }[kind]
        size[name] = min(10 + 3 * math.log10(1 + max(capacity, 0.0)), 26)
    zone_price = model.last.power.price.mean(axis=0) if model.last else np.zeros(len(model.zone_names))
    crowded = len(model.zone_names) > MANY_ZONES  # then zone labels carry the name only (the price is on hover)
    nodes = []
    for name, node in ids.items():
        kind = g.nodes[node]["kind"]
        x, y = pos[node]
        label = name
        if kind == "zone":
            z = model.zone_names.index(name)
            if model.last and not crowded:
                label = f"{name}: {zone_price[z]:,.0f} CNY/MWh"
            tooltip[name] = f"<b>{name}</b> (grid zone)<br/>price today: {zone_price[z]:,.1f} CNY/MWh"
        zone = kind == "zone"
        nodes.append(
            {
                "name": name,
                "x": round(80 + 840 * x, 1),
                "y": round(30 + 440 * (1 - y), 1),
                "symbolSize": [22, 14] if zone else round(size.get(name, 20), 1),
                "itemStyle": {"color": KIND_COLOUR[kind]},
                "symbol": "roundRect" if zone else "circle",
                "label": {
                    "show": True,
                    "formatter": label,
                    "fontSize": 10 if not crowded else 9,
                    "fontWeight": "bold" if zone else "normal",
                    "position": "top" if zone else "bottom",
                    "distance": 2,
                    "backgroundColor": "rgba(255, 255, 255, 0.75)",
                    "padding": [1, 2],
                },
                "tooltip": {"formatter": tooltip.get(name, name)},
                "category": KIND_LABEL[kind],
            }
        )
    edges = [*_grid_links(g), *_trade_links(model)]
    flows: dict[str, float] = {}
    for _, _, kind, f in edges:
        flows[kind] = max(flows.get(kind, 0.0), abs(f))
    links = []
    for source, target, kind, f in edges:
        f = abs(f)
        width = 1 + 7 * f / flows[kind] if flows.get(kind) else 1
        links.append(
            {
                "source": source,
                "target": target,
                "lineStyle": {"width": round(width, 2), "color": EDGE_COLOUR[kind], "opacity": 0.55},
                "tooltip": {"formatter": flow_words(kind, f)},
            }
        )
    categories = [{"name": KIND_LABEL[k], "itemStyle": {"color": c}} for k, c in KIND_COLOUR.items()]
    legend, top = _legend([c["name"] for c in categories], 560)
    option = {
        **BASE,
        "tooltip": {"trigger": "item", "confine": True},
        "legend": {**{k: v for k, v in legend.items() if k != "top"}, "bottom": 0},
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "data": nodes,
                "links": links,
                "categories": categories,
                "emphasis": {"focus": "adjacency"},
                "labelLayout": {"hideOverlap": True},
                "left": 40,
                "right": 90,
                "top": 36,
                "bottom": top + 14,
                "lineStyle": {"curveness": 0.05},
            }
        ],
    }
    return tools(option, 0, "chain")


LEGEND_ROW_PX = 22
TOOLBOX_ROW_PX = 18  # the toolbox's own row at the top: legends, titles and plots start below it


def tools(option: dict, zoom_axes: int = 0, name: str = "tokenomy-chart") -> dict:
    """``option`` with a toolbox in its top-right corner: save the chart as a PNG (drawn in the browser, nothing sent
    anywhere) and, with ``zoom_axes`` time axes, zoom on them (drag a box, or the mouse wheel) and go back."""
    feature = {"saveAsImage": {"title": "save as PNG", "name": name, "pixelRatio": 2}}
    if zoom_axes:
        feature["dataZoom"] = {"yAxisIndex": "none", "title": {"zoom": "zoom", "back": "undo zoom"}}
        feature["restore"] = {"title": "reset"}
        option["dataZoom"] = [{"type": "inside", "xAxisIndex": list(range(zoom_axes)), "filterMode": "none"}]
    option["toolbox"] = {"right": 6, "top": 0, "itemSize": 13, "itemGap": 6, "feature": feature}
    return option


AXIS_NAME = {"nameLocation": "middle", "nameTextStyle": {"fontSize": 11}}
FEW_DAYS = 20  # up to this many days the time charts mark every day with a dot
MANY_ZONES = 4  # more zones than this are summed up as average, cheapest and dearest
SHOCK_COLOUR = "#333333"  # dark grey: no price line is drawn in it
EVENT_COLOUR = "#777777"  # the scenario's own events, lighter and dotted


def legend_rows(names: list[str], width_px: float) -> int:
    """Rows a plain legend of these names takes in ``width_px`` (it wraps, never pages)."""
    rows, used = 1, 0.0
    for name in names:
        item = 34 + 6.4 * len(name)
        if used and used + item > width_px - 20:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _legend(names: list[str], width_px: float, top: int = 0) -> tuple[dict, int]:
    """A plain legend (it wraps, never pages) below the toolbox's row, and the height the two take, for a chart
    ``width_px`` wide."""
    rows = legend_rows(names, width_px)
    legend = {
        "type": "plain",
        "data": names,
        "top": top + TOOLBOX_ROW_PX,
        "left": 10,
        "right": 10,
        "itemWidth": 16,
        "itemHeight": 9,
        "itemGap": 12,
        "textStyle": {"fontSize": 11},
    }
    return legend, TOOLBOX_ROW_PX + rows * LEGEND_ROW_PX + 6


def _value_axis(name: str, grid: int = 0, gap: int = 46, **extra) -> dict:
    return {
        "type": "value",
        "name": name,
        "gridIndex": grid,
        "nameGap": gap,
        "scale": True,
        **AXIS_NAME,
        "axisLabel": {"fontSize": 10, "hideOverlap": True},
        **extra,
    }


def _time_axis(grid: int = 0, labels: bool = True) -> dict:
    return {
        "type": "time",
        "gridIndex": grid,
        "axisLabel": {"show": labels, "fontSize": 10, "hideOverlap": True},
        "axisTick": {"show": labels},
    }


def _dots(n_days: int) -> dict:
    """Line-series settings: a dot on every day while there are few (a first day is a dot, not nothing)."""
    return {"showSymbol": n_days <= FEW_DAYS, "symbolSize": 5}


@dataclass(frozen=True)
class ChartEvent:
    """A scenario event or a shock as the time charts mark it: a line on its first day and, while it acts (a ramp,
    an outage), a shaded span."""

    start_day: int
    end_day: int | None  # the last day it acts on, None if it acts on one day (or is permanent)
    label: str  # short, on the chart
    kind: str  # "event" (the scenario's own) or "shock" (fired by hand)


EVENT_LABEL_CHARS = 32


def short_label(note: str) -> str:
    """An event's note cut to its first clause, at most EVENT_LABEL_CHARS characters, on a word boundary."""
    text = note.strip()
    for stop in (":", " (", ";", ",", " - ", " \u2014 "):
        head = text.split(stop, 1)[0].strip()
        if head:
            text = head
    if len(text) <= EVENT_LABEL_CHARS:
        return text
    cut = text[:EVENT_LABEL_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",.;") + "\u2026"


def chart_events(model) -> list[ChartEvent]:
    """The scenario's events (those on one day joined, labelled by the first) and the shocks fired, that have
    begun by the model's day."""
    out: dict[int, ChartEvent] = {}
    for event in model.data.get("events", []) if model is not None else []:
        day = int(event["day"])
        if day >= model.day:
            continue
        ramp = int(event.get("ramp_days", 0) or 0)
        end = day + ramp if ramp > 0 else None
        label = short_label(str(event.get("note") or event.get("path", "event")))
        known = out.get(day)
        if known is not None:
            ends = [e for e in (known.end_day, end) if e is not None]
            out[day] = ChartEvent(day, max(ends) if ends else None, known.label, "event")
        else:
            out[day] = ChartEvent(day, end, label, "event")
    events = sorted(out.values(), key=lambda e: e.start_day)
    for day, name, _ in getattr(model, "shocks_fired", None) or []:
        span = SHOCK_DAYS.get(name)
        events.append(ChartEvent(int(day), int(day) + span if span else None, name, "shock"))
    return events


def shock_lines(model) -> dict | None:
    """A markLine per scenario event and shock (a labelled vertical line on its first day), for a time series."""
    events = chart_events(model)
    if not events:
        return None
    start = model.start_date
    data = [
        {
            "xAxis": (start + dt.timedelta(days=e.start_day)).isoformat(),
            "name": e.label,
            "label": {
                "formatter": e.label,
                "position": "insideEndTop",
                "fontSize": 10,
                "color": SHOCK_COLOUR if e.kind == "shock" else EVENT_COLOUR,
            },
            "lineStyle": {
                "color": SHOCK_COLOUR if e.kind == "shock" else EVENT_COLOUR,
                "type": "dashed" if e.kind == "shock" else "dotted",
                "width": 1.2,
            },
        }
        for e in events
    ]
    return {"silent": True, "symbol": "none", "animation": False, "data": data}


def event_spans(model) -> dict | None:
    """A markArea per event or shock that acts over several days (shaded up to the model's last day)."""
    spans = [e for e in chart_events(model) if e.end_day is not None]
    if not spans:
        return None
    start, last = model.start_date, model.day - 1
    data = [
        [
            {"xAxis": (start + dt.timedelta(days=e.start_day)).isoformat(), "name": ""},
            {"xAxis": (start + dt.timedelta(days=min(e.end_day, last))).isoformat()},
        ]
        for e in spans
    ]
    return {"silent": True, "animation": False, "itemStyle": {"color": "rgba(0, 0, 0, 0.06)"}, "data": data}


def _mark_shocks(model, series: list[dict], plot_heights_px: list[float] | None = None) -> None:
    """Put the event and shock lines, and the spans they act over, on the first series of every x axis.

    ``plot_heights_px[i]``, the height of x axis i's grid: a label runs along its line from the top, and is cut
    short (with an ellipsis) to stay inside its grid, not run across the axis below or another grid's labels."""
    lines = shock_lines(model)
    if lines is None:
        return
    spans = event_spans(model)
    seen = set()
    for s in series:
        axis = s.get("xAxisIndex", 0)
        if axis not in seen:
            seen.add(axis)
            fits = plot_heights_px is not None and axis < len(plot_heights_px)
            s["markLine"] = _labels_within(lines, plot_heights_px[axis]) if fits else lines
            if spans is not None:
                s["markArea"] = spans


def _labels_within(lines: dict, height_px: float) -> dict:
    """The event lines with their labels cut to ``height_px`` less a margin."""
    width = max(round(height_px) - 8, 20)
    data = [{**d, "label": {**d["label"], "width": width, "overflow": "truncate"}} for d in lines["data"]]
    return {**lines, "data": data}


def _stacked_grids(
    n: int, top: int, height_px: int, bottom: int = 28, gap: int = 16, left: int = 66, right: int = 20
) -> list[dict]:
    """``n`` grids one under the other between ``top`` and ``bottom`` pixels."""
    each = max((height_px - top - bottom - gap * (n - 1)) / n, 30)
    return [
        {"left": left, "right": right, "top": round(top + i * (each + gap)), "height": round(each)} for i in range(n)
    ]


def zone_daily_prices(model) -> np.ndarray:
    """(days, Z) mean power price per zone and day, read straight from the recorder's hourly columns."""
    return model.recorder.hourly_column("price_cny_per_mwh").mean(axis=2)


def _zone_lines(model, values: np.ndarray) -> list[tuple[str, np.ndarray, str, float, object]]:
    """(name, values, colour, width, dash) per zone, or, for many zones, their average, cheapest and dearest."""
    if values.shape[1] <= MANY_ZONES:
        return [
            (zone, values[:, z], ZONE_PALETTE[(z + 1) % len(ZONE_PALETTE)], 1.6, ZONE_DASH[z % len(ZONE_DASH)])
            for z, zone in enumerate(model.zone_names)
        ]
    n = values.shape[1]
    return [
        (f"average of {n} zones", values.mean(axis=1), SERIES_COLOUR["energy"], 2.2, "solid"),
        ("cheapest zone", values.min(axis=1), ZONE_PALETTE[3], 1.0, "dashed"),
        ("dearest zone", values.max(axis=1), ZONE_PALETTE[2], 1.0, "dotted"),
    ]


def _line(
    name: str,
    dates: list[str],
    values,
    colour: str,
    n_days: int,
    digits: int = 3,
    axis: int = 0,
    width: float = 2.0,
    **extra,
) -> dict:
    return {
        "name": name,
        "type": "line",
        **_dots(n_days),
        "xAxisIndex": axis,
        "yAxisIndex": extra.pop("y", axis),
        "data": [[d, v] for d, v in zip(dates, _r(values, digits), strict=True)],
        "itemStyle": {"color": colour},
        "lineStyle": extra.pop("lineStyle", {"width": width}),
        **extra,
    }


def price_index(values) -> np.ndarray:
    """``values`` as an index of their first (non-zero) value = 100."""
    first = next((v for v in values if abs(v) > 1e-12), 1.0)
    return 100.0 * np.asarray(values, dtype=float) / first


FAN_PERCENTILES = (10, 50, 90)
FAN_OPACITY = 0.18


def fan_band(values: np.ndarray, index_view: bool) -> np.ndarray:
    """(3, days): the 10th, 50th and 90th percentiles across seeds (rows of ``values``) of each day; in the index
    view each seed's prices are first made an index of its own first day, as the line on screen is."""
    if index_view:
        values = np.vstack([price_index(row) for row in values])
    return percentile_band(values, FAN_PERCENTILES)


def fan_name(price: str, seeds: list[int]) -> str:
    """A fan's legend entry, short, as the legend shares the chart's height: ``token, seeds 2-9``."""
    return f"{price}, seeds {seeds_text(seeds)}"


def fan_series(name: str, dates: list[str], band: np.ndarray, colour: str, axis: int = 0) -> list[dict]:
    """The fan of seeds drawn behind a price line: the p10 to p90 band (a transparent p10 line with the band's width
    stacked on it and shaded) and the median, dashed.  All three share ``name`` (one legend entry shows or hides
    the fan); only the median shows in the tooltip, with the p10 and p90 beside it."""
    low, mid, high = (_r(row, 4) for row in band)
    dates = dates[: len(low)]
    common = {
        "name": name,
        "type": "line",
        "xAxisIndex": axis,
        "yAxisIndex": axis,
        "showSymbol": False,
        "symbol": "none",
        "silent": True,
        "itemStyle": {"color": colour, "opacity": 0.45},
        "emphasis": {"disabled": True},
        "z": 1,
    }
    hidden = {"tooltip": {"show": False}, "lineStyle": {"width": 0, "opacity": 0}, "stack": f"fan of {name}"}
    return [
        {**common, **hidden, "legendIcon": "roundRect", "data": [[d, lo] for d, lo in zip(dates, low, strict=True)]},
        {
            **common,
            **hidden,
            "data": [[d, round(hi - lo, 4)] for d, lo, hi in zip(dates, low, high, strict=True)],
            "areaStyle": {"color": colour, "opacity": FAN_OPACITY},
        },
        {
            **common,
            "data": [[d, m, lo, hi] for d, m, lo, hi in zip(dates, mid, low, high, strict=True)],
            "dimensions": ["date", "median", "p10", "p90"],
            "encode": {"x": 0, "y": 1, "tooltip": [2, 1, 3]},
            "lineStyle": {"width": 1, "type": "dashed", "color": colour, "opacity": 0.8},
        },
    ]


def _fan_of_prices(fan, dates: list[str], index_view: bool) -> list[dict]:
    """The token and the compute fan (on the compute chart's axis in the levels view)."""
    seeds = fan.request.settings.seeds
    parts = [
        ("token", fan.token_cny_per_mtok, SERIES_COLOUR["token"], 0),
        ("compute", fan.compute_cny_per_gpu_hour, SERIES_COLOUR["compute"], 0 if index_view else 1),
    ]
    return [
        s
        for price, values, colour, axis in parts
        for s in fan_series(fan_name(price, seeds), dates, fan_band(values, index_view), colour, axis)
    ]


def price_history(
    model,
    daily: pd.DataFrame,
    index_view: bool,
    height_px: int = 330,
    width_px: int = 320,
    fan=None,
    zone_prices: np.ndarray | None = None,
) -> dict:
    """Token, compute and power prices over time: as an index (first day = 100) in one chart, or in their units
    as three small charts one under the other (token CNY/Mtok, compute CNY/GPU-hour, power CNY/MWh by zone).
    With a ``fan`` (:class:`viz.fan.Fan`, other seeds' prices over its first days) the token and compute lines
    stand in front of their fans of seeds.  ``zone_prices`` are :func:`zone_daily_prices` read with ``daily``
    (by default read now)."""
    dates, n = _dates(daily), len(daily)
    token = daily.token_price_cny_per_mtok.to_numpy()
    compute = daily.compute_price_cny_per_gpu_hour.to_numpy()
    zones = _zone_lines(model, zone_daily_prices(model) if zone_prices is None else zone_prices)
    few = len(model.zone_names) <= MANY_ZONES
    fans = _fan_of_prices(fan, dates, index_view) if fan is not None and 0 < fan.days <= n else []
    fan_names = list(dict.fromkeys(s["name"] for s in fans))
    if index_view:
        series = [
            _line("token price", dates, price_index(token), SERIES_COLOUR["token"], n),
            _line("compute price", dates, price_index(compute), SERIES_COLOUR["compute"], n),
        ]
        series += [
            _line(
                f"power {name}" if few else f"power, {name}",
                dates,
                price_index(values),
                colour,
                n,
                width=width,
                lineStyle={"width": width, "type": dash},
            )
            for name, values, colour, width, dash in zones
        ]
        legend, top = _legend(_with_fans([s["name"] for s in series], fan_names), width_px)
        grids = [{"left": 58, "right": 20, "top": top + 8, "bottom": 28}]
        x_axes = [_time_axis()]
        y_axes = [_value_axis("index, first day = 100", gap=40)]
    else:
        series = [
            _line("token price", dates, token, SERIES_COLOUR["token"], n, axis=0),
            _line("compute price", dates, compute, SERIES_COLOUR["compute"], n, axis=1),
        ]
        series += [
            _line(
                f"power {name}" if few else f"power, {name}",
                dates,
                values,
                colour,
                n,
                axis=2,
                lineStyle={"width": width, "type": dash},
            )
            for name, values, colour, width, dash in zones
        ]
        legend, top = _legend(_with_fans([s["name"] for s in series], fan_names), width_px)
        grids = _stacked_grids(3, top + 6, height_px, left=66)
        x_axes = [_time_axis(0, labels=False), _time_axis(1, labels=False), _time_axis(2)]
        y_axes = [
            _value_axis("CNY/Mtok", 0, gap=44, splitNumber=2),
            _value_axis("CNY/GPU-h", 1, gap=44, splitNumber=2),
            _value_axis("CNY/MWh", 2, gap=44, splitNumber=2),
        ]
    plot_heights = [g["height"] if "height" in g else height_px - g["top"] - g["bottom"] for g in grids]
    _mark_shocks(model, series, plot_heights)  # on the lines on screen, not on a fan (which the legend can hide)
    option = {
        **BASE,
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": legend,
        "grid": grids,
        "xAxis": x_axes,
        "yAxis": y_axes,
        "series": fans + series,  # the fans first: drawn behind the lines
    }
    return tools(option, len(x_axes), "prices")


def _with_fans(names: list[str], fan_names: list[str]) -> list[str]:
    """The legend's names: each fan right after the two price lines, before the power lines."""
    return names[:2] + fan_names + names[2:]


def _hourly_bars(name: str, stack: str, mw: np.ndarray, colour: str) -> dict:
    """A stacked bar series of MW per hour on the 24-hour chart's lower grid."""
    return {
        "name": name,
        "type": "bar",
        "stack": stack,
        "xAxisIndex": 1,
        "yAxisIndex": 1,
        "data": _r(mw, 1),
        "itemStyle": {"color": colour},
    }


def today_hours(model, height_px: int = 340, width_px: int = 380) -> dict:
    """Today's 24 hours: price per zone (top); load per zone, renewable output, curtailment and storage (bottom).
    A zone's price ("price west") and load ("load west", dashed) share its colour; many zones are shown as average,
    cheapest and dearest."""
    hours = list(range(24))
    series = []
    if model.last:
        p = model.last.power
        renewable = p.gen_tech[3] + p.gen_tech[4] + p.gen_tech[5]  # hydro, wind, solar (24, Z)
        load = p.load + p.flex_served
        many = len(model.zone_names) > MANY_ZONES
        for name, values, colour, width, dash in _zone_lines(model, p.price):
            series.append(
                {
                    "name": f"price {name}" if not many else f"price, {name}",
                    "type": "line",
                    "xAxisIndex": 0,
                    "yAxisIndex": 0,
                    "data": _r(values, 1),
                    "itemStyle": {"color": colour},
                    "showSymbol": False,
                    "lineStyle": {"width": width, "type": dash},
                }
            )
        if many:
            series.append(
                {
                    "name": "load, all zones",
                    "type": "line",
                    "xAxisIndex": 1,
                    "yAxisIndex": 1,
                    "data": _r(load.sum(axis=1), 1),
                    "showSymbol": False,
                    "itemStyle": {"color": "#455a64"},
                    "lineStyle": {"type": "dashed"},
                }
            )
        else:
            for z, zone in enumerate(model.zone_names):
                series.append(
                    {
                        "name": f"load {zone}",
                        "type": "line",
                        "xAxisIndex": 1,
                        "yAxisIndex": 1,
                        "data": _r(load[:, z], 1),
                        "showSymbol": False,
                        "lineStyle": {"type": "dashed"},
                        "itemStyle": {"color": ZONE_PALETTE[(z + 1) % len(ZONE_PALETTE)]},
                    }
                )
        series += [
            _hourly_bars("renewable output", "supply", renewable.sum(axis=1), SERIES_COLOUR["green"]),
            _hourly_bars("curtailed", "supply", p.curtail.sum(axis=1), "#a8ddb5"),
            _hourly_bars("storage discharge", "storage", p.discharge_z.sum(axis=1), SERIES_COLOUR["storage"]),
            _hourly_bars("storage charge", "storage", -p.charge_z.sum(axis=1), "#e8bfd9"),
        ]
    names = list(dict.fromkeys(s["name"] for s in series))
    legend, top = _legend(names, width_px)
    grids = _stacked_grids(2, top + 6, height_px, bottom=34, gap=24, left=70)
    grids[0]["height"] = round(grids[0]["height"] * 0.8)
    grids[1]["top"] = grids[0]["top"] + grids[0]["height"] + 24
    grids[1]["height"] = height_px - 34 - grids[1]["top"]
    option = {
        **BASE,
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": legend,
        "grid": grids,
        "xAxis": [
            {"type": "category", "data": hours, "gridIndex": 0, "axisLabel": {"show": False}},
            {
                "type": "category",
                "data": hours,
                "gridIndex": 1,
                "name": "hour of the day",
                "nameGap": 22,
                **AXIS_NAME,
                "axisLabel": {"fontSize": 10},
            },
        ],
        "yAxis": [_value_axis("CNY/MWh", 0, gap=48, splitNumber=2), _value_axis("MW", 1, gap=48, scale=False)],
        "series": series,
    }
    return tools(option, 0, "today-24-hours")


def supply_demand(model, daily: pd.DataFrame, height_px: int = 280, width_px: int = 380) -> dict:
    """Tokens wanted against served (unserved shaded) with GPU utilisation; GPUs online and on order."""
    dates, n = _dates(daily), len(daily)
    served = daily.tokens_served_mtok.to_numpy() * 1e6 / 1e12
    unserved = daily.tokens_unserved_mtok.to_numpy() * 1e6 / 1e12
    series = [
        _line(
            "tokens served",
            dates,
            served,
            SERIES_COLOUR["served"],
            n,
            digits=4,
            stack="tokens",
            areaStyle={"opacity": 0.5},
        ),
        _line(
            "tokens unserved",
            dates,
            unserved,
            SERIES_COLOUR["unserved"],
            n,
            digits=4,
            stack="tokens",
            areaStyle={"opacity": 0.7},
        ),
        _line(
            "GPU utilisation",
            dates,
            daily.gpu_utilization * 100,
            SERIES_COLOUR["utilization"],
            n,
            digits=1,
            y=1,
            lineStyle={"type": "dotted", "width": 2},
        ),
        _line("GPUs online", dates, daily.gpus_online, SERIES_COLOUR["online"], n, digits=0, axis=1, y=2, step="end"),
        _line(
            "GPUs on order",
            dates,
            daily.gpus_in_pipeline,
            SERIES_COLOUR["pipeline"],
            n,
            digits=0,
            axis=1,
            y=2,
            step="end",
            areaStyle={"opacity": 0.3},
        ),
    ]
    legend, top = _legend([s["name"] for s in series], width_px)
    grids = _stacked_grids(2, top + 6, height_px, gap=14, left=70, right=52)
    _mark_shocks(model, series, [g["height"] for g in grids])
    return tools(
        {
            **BASE,
            "tooltip": {"trigger": "axis", "confine": True},
            "legend": legend,
            "grid": grids,
            "xAxis": [_time_axis(0, labels=False), _time_axis(1)],
            "yAxis": [
                _value_axis("T tokens/day", 0, gap=46, scale=False, splitNumber=2),
                _value_axis("% GPUs busy", 0, gap=34, min=0, max=100, position="right", splitNumber=2),
                _value_axis("GPUs", 1, gap=52, splitNumber=2),
            ],
            "series": series,
        },
        2,
        "supply-and-demand",
    )


def token_cost(daily: pd.DataFrame, model=None, height_px: int = 280, width_px: int = 380) -> dict:
    """The token price split over time, stacked: energy, storage, green certificates, operations and GPU capital
    along the chain, the data centres' rent (scarcity above those costs, negative in a glut) and the
    provider's margin."""
    dates, n = _dates(daily), len(daily)
    parts = [
        ("energy", "token_cost_energy_cny_per_mtok"),
        ("storage (grid and on-site)", "token_cost_storage_cny_per_mtok"),
        ("green certificates", "token_cost_green_cny_per_mtok"),
        ("operations", "token_cost_operations_cny_per_mtok"),
        ("GPU capital", "token_cost_gpu_capital_cny_per_mtok"),
        ("data-centre rent", "token_cost_compute_rent_cny_per_mtok"),
        ("provider margin", "token_margin_cny_per_mtok"),
    ]
    colours = [SERIES_COLOUR[k] for k in ("energy", "storage", "green", "operations", "capital", "rent", "margin")]
    series = [
        _line(name, dates, daily[col], colour, n, digits=4, width=0.5, stack="cost", areaStyle={"opacity": 0.75})
        for (name, col), colour in zip(parts, colours, strict=True)
    ]
    series.append(
        _line(
            "token price",
            dates,
            daily.token_price_cny_per_mtok,
            "#212121",
            n,
            digits=4,
            lineStyle={"width": 2, "type": "dashed"},
        )
    )
    legend, top = _legend([s["name"] for s in series], width_px)
    _mark_shocks(model, series, [height_px - (top + 8) - 28])
    return tools(
        {
            **BASE,
            "tooltip": {"trigger": "axis", "confine": True},
            "legend": legend,
            "grid": {"left": 66, "right": 20, "top": top + 8, "bottom": 28},
            "xAxis": _time_axis(),
            "yAxis": _value_axis("CNY per Mtok", gap=46, scale=False),
            "series": series,
        },
        1,
        "token-cost",
    )
