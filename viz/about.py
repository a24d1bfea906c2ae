"""The About tab: what the model is, how it works, things to notice and to try, credits and sources."""

from __future__ import annotations

import solara

from tokenomy.viz.glossary import glossary_markdown
from tokenomy.viz.markdown import Markdown

ABOUT = """
# About Tokenomy

## What it is
Tokenomy is an agent-based market simulator of the AI industry chain:
**tokens → compute (GPU-hours) → AI data centres → power → storage**. It shows how a change at one end of
the chain -- agents multiply the tokens a task needs, serving gets more efficient, GPU deliveries are cut,
the grid connects new load slowly, batteries are built -- travels through prices, shortages, investment
and the power system. It is made for classes and for analysts who want to see the mechanism, not a forecast.

## How it works
Each simulated day:

1. **Buyers** -- AI apps and firms -- decide how many tokens they want at today's token prices, with the
   usual daily pattern over 24 hours.
2. **Model providers** post token prices (a best response to their buyers' demand and what compute costs
   them) and bid for **GPU-hours** hour by hour.
3. **AI data centres** offer their GPUs; the GPU-hours clear in 24 hourly call auctions, so an idle hour
   is cheap and a full one dear. Training labs and term contracts use GPUs too.
4. Busy GPUs draw **power**. Utilities offer coal, gas, nuclear, hydro, wind and solar; batteries charge
   and discharge; power clears in 24 hourly auctions per zone, limited by the lines between zones.
5. Once a month, data centres look at their margins and **order GPUs**, which arrive only after a lead
   time; old GPUs retire and idle ones are mothballed.

No price that matters is set by a rule or a script: each one clears in a market between agents.
The full description -- every agent, rule, equation and parameter -- is `docs/model.md` (ODD protocol).

## Things to notice
- When the GPUs are full in the busiest hours, the compute price jumps while the quiet night hours stay
  cheap: **peak-load pricing** (Market tab, *Prices over time*).
- GPUs ordered in a shortage arrive months later, often into a glut: a **cobweb** cycle (*Supply against
  demand*: GPUs online and on order).
- Batteries buy power when it is cheap and sell into the evening peak, narrowing the daily price gap
  (*Today's 24 hours of power*).
- The token price splits into energy, GPU capital, operations and the data centres' scarcity rent
  (*What a token costs*).

## Things to try
- Fire **demand boom** on a quiet day and watch the compute price, unserved demand and GPU orders.
- Fire **GPU supply cut** and compare the next months with a run without it (Experiments tab, side by side).
- Move **Tokens per request as agents spread** to x3 and press Reset: when does the shortage start?
- Set **Storage capacity** to 0 and then to 3: what happens to the gap between the day's dearest and
  cheapest power?
- Open the **Lesson** tab: each lesson asks for your prediction before you run.

## The controls
- **Reset** starts again from day 0 with the sidebar's settings (a loaded lesson stays loaded);
  **Play** runs day after day at the chosen speed; **Step** runs one day.
- The sliders change the world the next Reset builds; each shows its value and unit.
- The **Checks** tab judges the scenario's stated outcomes on your own run, once it has gone far enough.

## Credits and sources
Built on [Mesa](https://mesa.readthedocs.io) (agent-based modelling in Python), Solara and ECharts.
Classic markets: Gode and Sunder (1993), *Allocative efficiency of markets with zero-intelligence traders*,
Journal of Political Economy 101:119-137; the cobweb of Kaldor (1934) and Ezekiel (1938); Jevons (1865),
*The Coal Question*. Calibration sources for each scenario (token volumes, prices, GPU costs, grid data)
are listed in `docs/model.md`, section 6, and in the scenario files. The model description follows the
ODD protocol (Grimm et al. 2020, JASSS 23(2) 7).
"""


@solara.component
def About():
    with solara.Div(attributes={"data-testid": "about"}):
        Markdown(ABOUT)
    with solara.Div(attributes={"data-testid": "glossary"}):
        Markdown(glossary_markdown())
