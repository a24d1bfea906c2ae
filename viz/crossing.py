"""The market crossing every economics class draws, for one hour of the day just simulated: the compute
auction's bids against its asks, and a zone's power supply stack against its demand, with the clearing
price and quantity the markets recorded.

Pure functions of the books the day's stages keep on the model (``model.compute_book``,
``model.power_book``, and the day before's as ``*_before``); :func:`crossing_option` turns them into an
ECharts option.

Power, one zone of a grid with lines: the lines' flows are taken as the market cleared them.  Imports are
supply offered at any price (drawn first in the stack, at the price floor) and exports are demand at any
price (with the zone's inelastic load, at the price cap: drawn at the top of the axis when the cap is above
it); the zone's own offers (units, batteries discharging) and bids (flexible load, batteries charging) are the
steps, and the stack ends in a vertical line (no more supply at any price).  The zone's price then lies where
these curves cross; on a vertical stretch of the stack the price is set in a neighbouring zone through a
line that is not full, and the panel says so.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from tokenomy.viz.charts import TOOLBOX_ROW_PX, legend_rows, tools

DEMAND_COLOUR, SUPPLY_COLOUR, CLEAR_COLOUR = "#1e88e5", "#e53935", "#212121"


@dataclass(frozen=True)
class Curves:
    """A demand and a supply step curve as points (quantity, price), left to right, and the market's clearing."""

    demand: np.ndarray  # (n, 2)
    supply: np.ndarray  # (m, 2)
    price: float  # as the market recorded it
    quantity: float
    label: str  # what is traded, for titles
    set_by: str = ""  # what set the price, in words


def step_points(qty: np.ndarray, price: np.ndarray, descending: bool) -> np.ndarray:
    """Steps of positive quantity, in merit order (bids by falling price, offers by rising price), as the corners
    of a step curve: (0, p1), (q1, p1), (q1, p2), (q1 + q2, p2), ..."""
    qty, price = np.asarray(qty, dtype=float), np.asarray(price, dtype=float)
    keep = (qty > 1e-9) & np.isfinite(price)
    qty, price = qty[keep], price[keep]
    order = np.argsort(-price if descending else price, kind="stable")
    qty, price = qty[order], price[order]
    right = np.cumsum(qty)
    left = right - qty
    out = np.empty((2 * qty.size, 2))
    out[0::2, 0], out[1::2, 0] = left, right
    out[0::2, 1] = out[1::2, 1] = price
    return out


def compute_crossing(book, hour: int) -> Curves:
    """The compute auction of ``hour``: buyers' bids (providers and labs) and the AIDCs' asks, in GPU-hours."""
    bids = book.bid_hour == hour
    asks = book.ask_hour == hour
    prices = book.aidc_price[:, hour]
    price = float(np.nanmean(prices)) if np.isfinite(prices).any() else float("nan")
    return Curves(
        step_points(book.bid_qty[bids], book.bid_price[bids], True),
        step_points(book.ask_qty[asks], book.ask_price[asks], False),
        price,
        float(book.ask_filled[asks].sum()),
        f"GPU-hours, hour {hour}",
        _compute_set_by(price, book.bid_price[bids], book.ask_price[asks]),
    )


def _compute_set_by(price: float, bid_price: np.ndarray, ask_price: np.ndarray) -> str:
    """The auction prices at the middle of its clearing interval: a bid or an ask when the interval is one price."""
    if not np.isfinite(price):
        return ""
    if np.any(np.isclose(ask_price, price, rtol=1e-9, atol=1e-9)):
        return "an AI data centre's ask"
    if np.any(np.isclose(bid_price, price, rtol=1e-9, atol=1e-9)):
        return "a buyer's bid"
    return "halfway between the last bid and ask that trade"


def _power_set_by(price: float, cap: float, floor: float, offers: np.ndarray, bids: np.ndarray) -> str:
    """Where a zone's price came from: its own supply stack, its own flexible demand, the cap, the floor, or (none of
    those: the zone's curves cross on a vertical stretch) a neighbouring zone through a line with room."""
    close = {"rtol": 1e-6, "atol": 1e-6}
    if np.isclose(price, cap, **close):
        return "the price cap: demand outran supply"
    if np.any(np.isclose(offers, price, **close)):
        return "a supply offer in this zone"
    if np.any(np.isclose(bids, price, **close)):
        return "a bid of flexible demand or a charging battery in this zone"
    if np.isclose(price, floor, **close):
        return "the price floor: supply to spare"
    return "a neighbouring zone, through a line with room"


def net_imports(line_flow_mw: np.ndarray, line_from: np.ndarray, line_to: np.ndarray, n_zones: int) -> np.ndarray:
    """(24, Z) MW flowing into each zone over the lines, less what flows out."""
    net = np.zeros((line_flow_mw.shape[0], n_zones))
    for line, (a, b) in enumerate(zip(line_from, line_to, strict=True)):
        net[:, b] += line_flow_mw[:, line]
        net[:, a] -= line_flow_mw[:, line]
    return net


def power_crossing(
    book, line_from: np.ndarray, line_to: np.ndarray, zone: int, hour: int, zone_name: str = ""
) -> Curves:
    """Zone ``zone``'s market in ``hour`` with the lines' flows fixed (see the module's note), in MW."""
    cap, floor = book.price_cap, book.price_floor
    net = net_imports(book.line_flow_mw[hour : hour + 1], line_from, line_to, book.load_mw.shape[1])[0, zone]
    imports, exports = max(float(net), 0.0), max(-float(net), 0.0)
    offers = book.offer_zone == zone
    bids = book.bid_zone == zone
    dispatched = float(book.offer_dispatch_mw[hour, offers].sum())
    served_demand = (
        book.load_mw[hour, zone] - book.unserved_mw[hour, zone] + exports + float(book.bid_served_mw[hour, bids].sum())
    )
    spill = max(imports + dispatched - served_demand, 0.0)  # dumped at the floor price (the LP may spill)
    supply_qty = np.concatenate([[imports], book.offer_mw[hour, offers]])
    supply_price = np.concatenate([[floor], np.clip(book.offer_price[hour, offers], floor, cap)])
    demand_qty = np.concatenate([[book.load_mw[hour, zone] + exports], book.bid_mw[hour, bids], [spill]])
    demand_price = np.concatenate([[cap], np.clip(book.bid_price[hour, bids], floor, cap), [floor]])
    return Curves(
        step_points(demand_qty, demand_price, True),
        step_points(supply_qty, supply_price, False),
        float(book.price[hour, zone]),
        imports + dispatched,
        f"MW in {zone_name or zone}, hour {hour}",
        _power_set_by(
            float(book.price[hour, zone]), cap, floor, book.offer_price[hour, offers], book.bid_price[hour, bids]
        ),
    )


def crossings(model, hour: int, zone: int, before: bool = False) -> tuple[Curves | None, Curves | None]:
    """(compute, power) curves of the day just simulated (or of the day before it), None where there is none."""
    suffix = "_before" if before else ""
    cbook = getattr(model, "compute_book" + suffix, None)
    pbook = getattr(model, "power_book" + suffix, None)
    compute = compute_crossing(cbook, hour) if cbook is not None else None
    power = (
        power_crossing(pbook, model.line_from, model.line_to, zone, hour, model.zone_names[zone])
        if pbook is not None
        else None
    )
    return compute, power


def _line(points: np.ndarray, digits: int = 2, per: float = 1.0) -> list[list[float]]:
    return [[round(float(q) / per, 1), round(float(p), digits)] for q, p in points]


def drawn_points(points: np.ndarray, top: float, supply: bool) -> np.ndarray:
    """A curve as drawn on an axis ending at ``top``: steps above it (the inelastic load at the price cap) are drawn
    at the top, and a supply curve ends in a vertical line up to it (beyond its last step there is no more supply at
    any price, so a price set above the stack lies on that line)."""
    out = points.copy()
    if out.size:
        out[:, 1] = np.minimum(out[:, 1], top)
        if supply:
            out = np.vstack([out, [[out[-1, 0], top]]])
    return out


def _per(curves: Curves | None) -> float:
    """Quantities in thousands when they run into the tens of thousands: six labels such as "20,000" do not fit
    the compute panel on a projector beside the sidebar (about 190 px), "20" does."""
    if curves is None:
        return 1.0
    top = max(
        [
            curves.demand[:, 0].max() if curves.demand.size else 0.0,
            curves.supply[:, 0].max() if curves.supply.size else 0.0,
            curves.quantity,
        ]
    )
    return 1000.0 if top >= 1e4 else 1.0


def _panel(
    curves: Curves | None,
    earlier: Curves | None,
    names: tuple[str, str],
    unit: str,
    grid: int,
    digits: int,
    y_max: float | None,
    per: float = 1.0,
) -> list[dict]:
    if curves is None:
        return []
    demand, supply = names
    top = y_max if y_max is not None else _top_of(curves, earlier)
    series = []
    # the day before's curves faint and dashed beneath today's
    drawn = [] if earlier is None else [(earlier, ", day before", {"width": 1, "type": "dashed", "opacity": 0.45}, 1)]
    drawn.append((curves, "", {"width": 2.5}, 3))
    for book, suffix, line_style, z in drawn:
        for name, pts, colour in ((demand, book.demand, DEMAND_COLOUR), (supply, book.supply, SUPPLY_COLOUR)):
            series.append(
                {
                    "name": name + suffix,
                    "type": "line",
                    "data": _line(drawn_points(pts, top, colour == SUPPLY_COLOUR), digits, per),
                    "showSymbol": False,
                    "xAxisIndex": grid,
                    "yAxisIndex": grid,
                    "itemStyle": {"color": colour},
                    "lineStyle": line_style,
                    "z": z,
                }
            )
    q, p = curves.quantity, curves.price
    what = curves.label.split(",")[0].split(" in ")[0]
    if np.isfinite(p):
        shown = round(min(p, y_max) if y_max else p, digits)
        series.append(
            {
                "name": f"clearing ({unit})",
                "type": "scatter",
                "xAxisIndex": grid,
                "yAxisIndex": grid,
                "data": [[round(q / per, 1), shown]],
                "symbolSize": 11,
                "z": 5,
                "itemStyle": {"color": CLEAR_COLOUR},
                "tooltip": {"formatter": f"cleared: {p:,.{digits}f} {unit}, {q:,.0f} {what}"},
                "markLine": {
                    "silent": True,
                    "symbol": "none",
                    "lineStyle": {"type": "dotted", "color": CLEAR_COLOUR},
                    "data": [
                        [{"coord": [0, shown]}, {"coord": [round(q / per, 1), shown]}],
                        [{"coord": [round(q / per, 1), 0]}, {"coord": [round(q / per, 1), shown]}],
                    ],
                },
            }
        )
    return series


def _top_of(*curves: Curves | None) -> float:
    """The top of a price axis with no cap: the dearest step or clearing price drawn, and a little room."""
    prices = [0.0]
    for c in curves:
        if c is not None:
            prices += [float(c.demand[:, 1].max()) if c.demand.size else 0.0]
            prices += [float(c.supply[:, 1].max()) if c.supply.size else 0.0]
            prices += [c.price] if np.isfinite(c.price) else []
    return 1.1 * max(prices)


def nice_axis(low: float, high: float) -> tuple[float, float, float]:
    """(min, max, interval) of a value axis covering ``low`` to ``high`` whose ends fall on ticks of a round interval
    (1, 2, 2.5 or 5 x 10^k), 4 to 10 ticks, wasting the least room: no end label crowds the tick beside it."""
    span = max(high - low, 1e-9)
    best = None
    base = 10.0 ** np.floor(np.log10(span))
    for power in (base / 100.0, base / 10.0, base):
        for m in (1.0, 2.0, 2.5, 5.0):
            step = m * power
            lo, hi = float(np.floor(low / step) * step), float(np.ceil(high / step) * step)
            ticks = round((hi - lo) / step)
            if 4 <= ticks <= 10 and (best is None or hi - lo < best[1] - best[0]):
                best = (lo, hi, float(step))
    return best if best is not None else (float(low), float(high), span / 5.0)


def _y_max(curves: Curves | None, cap: float | None) -> float | None:
    """A price axis that shows the crossing and the steps near it (the inelastic load at the cap is drawn at its
    top)."""
    if curves is None or cap is None:
        return None
    prices = np.concatenate([curves.supply[:, 1], curves.demand[:, 1]])
    below = prices[prices < cap * 0.999]
    top = max(float(below.max()) if below.size else 0.0, curves.price if np.isfinite(curves.price) else 0.0)
    return float(min(cap, np.ceil(max(top * 1.15, 1.0) / 50.0) * 50.0))


TITLE = {"textStyle": {"fontSize": 12, "fontWeight": "normal"}, "subtextStyle": {"fontSize": 11, "lineHeight": 14}}
# characters in a line of a panel's title or subtitle: half the chart at 1024 px beside the sidebar is about 250 px,
# some 40 characters of 11-12 px text; 36 leaves room
PANEL_LINE_CHARS = 36


def _subtitle(curves: Curves | None) -> str:
    """The quantity cleared (and the zone), then what set the price, under the title: lines of at most
    :data:`PANEL_LINE_CHARS` characters, so that they fit half the chart on a projector beside the sidebar."""
    if curves is None or not np.isfinite(curves.price):
        return ""
    what, _, zone = curves.label.split(", ")[0].partition(" in ")
    lines = [f"{curves.quantity:,.0f} {what}" + (f" in {zone}" if zone else "")]
    if curves.set_by:
        lines.append(f"set by {curves.set_by}")
    return "\n".join(part for line in lines for part in textwrap.wrap(line, PANEL_LINE_CHARS))


def _title(market: str, curves: Curves | None, unit: str, digits: int) -> str:
    """'power: 666 CNY/MWh' -- the clearing price in words above its panel (the hour is on the slider; the zone,
    the quantity and what set the price are the subtitle)."""
    if curves is None:
        return market
    if not np.isfinite(curves.price):
        return f"{market}: no trade"
    return f"{market}: {curves.price:,.{digits}f} {unit}"


def crossing_option(
    compute: Curves | None,
    power: Curves | None,
    compute_before: Curves | None = None,
    power_before: Curves | None = None,
    power_cap: float | None = None,
    half_width_px: float = 380,
) -> dict:
    """Two panels side by side: the compute auction (left) and the zone's power market (right)."""
    y_power = _y_max(power, power_cap)
    low = min(0.0, float(power.supply[:, 1].min())) if power and power.supply.size else 0.0
    y_min, y_power, y_step = nice_axis(low, y_power) if y_power is not None else (low, None, None)
    if power is not None and np.isfinite(power.price) and y_power is not None and power.price > y_power:
        y_power = power.price  # the clearing point stays on the axis
    compute_names = ("GPU bids (demand)", "GPU asks (supply)")
    power_names = ("power demand", "power supply stack")
    per = _per(compute)
    series = _panel(compute, compute_before, compute_names, "CNY/GPU-h", 0, 2, None, per) + _panel(
        power, power_before, power_names, "CNY/MWh", 1, 0, y_power
    )
    left = [s["name"] for s in series if s["xAxisIndex"] == 0]
    right = [s["name"] for s in series if s["xAxisIndex"] == 1]
    legend_px = TOOLBOX_ROW_PX + 8 + 22 * max(legend_rows(left, half_width_px), legend_rows(right, half_width_px))
    axis_name = {"nameLocation": "middle", "nameTextStyle": {"fontSize": 12}}
    compute_sub, power_sub = _subtitle(compute), _subtitle(power)
    sub_lines = max(text.count("\n") + 1 if text else 0 for text in (compute_sub, power_sub))
    plot_top = legend_px + 30 + 14 * sub_lines  # the title (16 px and a gap of 8), the subtitle's lines, a margin
    option = {
        "animation": False,
        "textStyle": {"fontFamily": "Roboto, Helvetica, Arial, sans-serif"},
        "tooltip": {"trigger": "item", "confine": True},
        "legend": [
            {
                "type": "plain",
                "data": left,
                "left": "1%",
                "top": TOOLBOX_ROW_PX,
                "width": "47%",
                "itemWidth": 18,
                "textStyle": {"fontSize": 11},
            },
            {
                "type": "plain",
                "data": right,
                "left": "52%",
                "top": TOOLBOX_ROW_PX,
                "width": "47%",
                "itemWidth": 18,
                "textStyle": {"fontSize": 11},
            },
        ],
        "title": [
            {
                "text": _title("compute", compute, "CNY/GPU-h", 2),
                "subtext": compute_sub,
                "left": 70,
                "top": legend_px,
                "itemGap": 8,  # the subtitle clear of the title (at 2 they overlapped in Chromium)
                **TITLE,
            },
            {
                "text": _title("power", power, "CNY/MWh", 0),
                "subtext": power_sub,
                "left": "56%",
                "top": legend_px,
                "itemGap": 8,  # the subtitle clear of the title (at 2 they overlapped in Chromium)
                **TITLE,
            },
        ],
        "grid": [
            {"left": 70, "right": "53%", "top": plot_top, "bottom": 50},
            {"left": "56%", "right": 20, "top": plot_top, "bottom": 50},
        ],
        "xAxis": [
            {
                "type": "value",
                "gridIndex": 0,
                "name": "thousand GPU-hours" if per > 1 else "GPU-hours",
                "nameGap": 26,
                "axisLabel": {"hideOverlap": True},
                **axis_name,
            },
            {
                "type": "value",
                "gridIndex": 1,
                "name": "MW",
                "nameGap": 26,
                "axisLabel": {"hideOverlap": True},
                **axis_name,
            },
        ],
        "yAxis": [
            {
                "type": "value",
                "gridIndex": 0,
                "name": "CNY per GPU-hour",
                "nameGap": 48,
                "min": 0,
                "axisLabel": {"hideOverlap": True},
                **axis_name,
            },
            {
                "type": "value",
                "gridIndex": 1,
                "name": "CNY per MWh",
                "nameGap": 48,
                "max": y_power,
                "min": y_min,
                **({"interval": y_step} if y_step else {}),
                "axisLabel": {"hideOverlap": True},
                **axis_name,
            },
        ],
        "series": series,
    }
    return tools(option, 0, "market-crossing")
