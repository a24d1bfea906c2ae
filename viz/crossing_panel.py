"""The market-crossing card of the Market tab: one hour of today's compute auction and of a zone's power
market, with selectors for the hour and the zone (the curves come from :mod:`tokenomy.viz.crossing`)."""

from __future__ import annotations

import solara
from mesa.visualization.utils import update_counter

from tokenomy.viz.charts import not_yet
from tokenomy.viz.crossing import crossing_option, crossings
from tokenomy.viz.figure import Figure
from tokenomy.viz.markdown import Markdown

DEFAULT_HOUR = 19  # the evening peak, when markets are tightest

CAPTION = (
    "**Left, compute:** every bid for GPU-hours in this hour (cloud providers and training labs, highest price "
    "first) against every AI data centre's ask (cheapest first). The dot is where the day-ahead auction cleared: "
    "its price (the middle of the prices that clear it) and the GPU-hours sold. "
    "**Right, power:** the zone's supply stack (imports over the lines first, then its own power plants and "
    "batteries, cheapest first) against its demand (load that must be served and exports, drawn at the price "
    "cap, then flexible load and batteries charging). The line flows are taken as the market set them; where "
    "the stack is vertical at the crossing, the price is set in a neighbouring zone through a line that is not "
    "full. The dot is the zone's price and the MW supplied. **Dashed:** the day before, to see what moved the "
    "curves (a shock, growth, the weather)."
)


@solara.component
def MarketCrossing(model):
    update_counter.get()
    hour, set_hour = solara.use_state(DEFAULT_HOUR)
    zone_name, set_zone_name = solara.use_state("")
    zones = list(model.zone_names)
    zone = zones.index(zone_name) if zone_name in zones else 0
    with solara.Card("The market crossing: bids against offers, one hour of today", style={"height": "100%"}):
        with solara.Row(style={"align-items": "center", "gap": "24px", "flex-wrap": "wrap"}):
            with solara.Div(style={"min-width": "260px", "flex": "1"}):
                solara.SliderInt(
                    f"hour of the day: {hour}:00-{hour + 1}:00", value=hour, min=0, max=23, on_value=set_hour
                )
            if len(zones) > 1:
                with solara.Div(style={"min-width": "240px"}):
                    solara.Select("power zone", value=zones[zone], values=zones, on_value=set_zone_name)
        figures = {"hour": hour, "zone": zones[zone]}
        if model.last is None or getattr(model, "compute_book", None) is None:
            # the same figure as on later days, so the first Step only sends it a new option
            option = not_yet("No days simulated yet: step once to see today's markets.")
        else:
            compute, power = crossings(model, hour, zone)
            compute_before, power_before = crossings(model, hour, zone, before=True)
            option = crossing_option(
                compute,
                power,
                compute_before,
                power_before,
                float(model.data["markets"]["power_price_cap_cny_per_mwh"]),
            )
            figures |= {
                "compute_price": f"{compute.price:.6f}",
                "compute_quantity": f"{compute.quantity:.3f}",
                "power_price": f"{power.price:.6f}",
                "power_quantity": f"{power.quantity:.3f}",
            }
        Figure(option, 380, testid="crossing-chart", **figures)
        Markdown(CAPTION, style="font-size: 13px;")
