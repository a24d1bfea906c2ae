"""Step 6: agents learn from the day.  Providers update forecasts and unit costs and post tomorrow's
prices; AIDCs and utilities learn their markups; expectations of power prices move; the month's record
for investment and green contracting grows."""

from __future__ import annotations

from typing import Any

import numpy as np

from abm.results import Day
from agents.cloud_provider import PricingView
from agents.technologies import RENEWABLE

RECENT_DAYS = 30  # memory of prices and availability for generation and line investment


def learn(model: Any, day: Day) -> None:
    compute, tokens, power = day.compute, day.tokens, day.power
    prov, aidcs = model.providers, model.aidcs
    led, sl = model.ledger, model.kind_slice
    profit = led.revenue_today - led.cost_today
    n = prov.n
    prov.learn(tokens.requested, tokens.served_by_provider, compute.buyer_price[:n], compute.provider_cost,
               profit[sl["provider"]], model.rng)
    prov.set_prices(PricingView(model.token_edges, tokens.demand, tokens.elasticity,
                                model.data["markets"]["token_price_sensitivity"]))
    price = power.price
    aidcs.learn(model.day, compute.aidc_price, compute.top_tranche_fill, price.T[aidcs.zone], profit[sl["aidc"]],
                model.rng)
    model.utilities.learn(power.dispatch, power.util_rev, power.util_cost, model.rng)
    model.zone_price_forecast = 0.5 * model.zone_price_forecast + 0.5 * price.T
    slot = model.day % RECENT_DAYS
    model.recent_prices_ring[slot] = price.T
    model.recent_avail_ring[slot] = power.avail_tech.transpose(2, 1, 0)  # (Z, 24, T)
    if model.line_names:
        diff = np.abs(price[:, model.line_to] - price[:, model.line_from])
        model.recent_line_rent_ring[slot] = (diff * np.abs(power.line_flow)).sum(axis=0)
    model.green.record(power.aidc_load, power.aidc_green_mwh, power.avail_tech[RENEWABLE].sum(axis=0))


def recent(model: Any, ring: np.ndarray) -> np.ndarray:
    """The filled part of a ring buffer of the last RECENT_DAYS days (order does not matter)."""
    return ring[: min(model.day + 1, RECENT_DAYS)]
