"""Step 6: agents learn from the day.  Providers update forecasts and unit costs and post tomorrow's
prices; AIDCs and utilities learn their markups; expectations of power prices move; the month's record
for investment and green contracting grows."""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.abm.results import Day
from tokenomy.abm.state import World
from tokenomy.agents.cloud_provider import PricingView
from tokenomy.agents.numeric import psum
from tokenomy.agents.technologies import RENEWABLE

RECENT_DAYS = 30  # memory of prices and availability for generation and line investment


def learn(world: World, day: Day) -> None:
    compute, tokens, power = day.compute, day.tokens, day.power
    prov, aidcs = world.providers, world.aidcs
    led, sl = world.ledger, world.kind_slice
    profit = led.revenue_today - led.cost_today
    n = prov.n
    markets = world.data["markets"]
    prov.learn(
        tokens.requested,
        tokens.served_by_provider,
        compute.buyer_price[:n],
        compute.provider_cost,
        profit[sl["provider"]],
        world.rng,
        world.share.T @ tokens.unserved.sum(axis=1),
    )
    prov.set_prices(
        PricingView(
            world.token_edges,
            tokens.demand,
            tokens.elasticity,
            markets["token_price_sensitivity"],
            world.share,
            world.new_share,
            markets["token_inertia"],
            np.concatenate([world.apps.usage_growth_per_day(), world.enterprises.usage_growth_per_day()]),
        )
    )
    aidcs.learn(
        world.day,
        compute.aidc_price,
        compute.top_tranche_fill,
        np.ascontiguousarray(power.price[:, aidcs.zone].T),
        profit[sl["aidc"]],
        world.rng,
    )
    util = world.utilities
    util.learn(power.dispatch, power.util_rev, power.util_cost, world.rng)
    green = world.green
    slot = world.day % RECENT_DAYS
    world.zone_price_forecast = _remember(
        power.price,
        power.avail_tech,
        power.line_flow,
        world.line_from,
        world.line_to,
        world.zone_price_forecast,
        world.recent_prices_ring[slot],
        world.recent_avail_ring[slot],
        world.recent_line_rent_ring[slot],
        RENEWABLE,
        power.aidc_load,
        power.aidc_green_mwh,
        green._energy,
        green._green,
        green._load_shape,
        green._renewable,
    )
    green._days += 1


def recent(world: World, ring: np.ndarray) -> np.ndarray:
    """The filled part of a ring buffer of the last RECENT_DAYS days (order does not matter)."""
    return ring[: min(world.day + 1, RECENT_DAYS)]


@njit(cache=True)
def _remember(
    price,
    avail_tech,
    line_flow,
    line_from,
    line_to,
    forecast,
    prices_slot,
    avail_slot,
    rent_slot,
    renewable,
    aidc_load,
    aidc_green,
    green_energy,
    green_green,
    green_load_shape,
    green_renewable,
):
    """The market's memories of today, in place: the recent-days rings (prices (Z, 24), availability (Z, 24, T), each
    line's congestion rent) and the month's record for green contracting (:meth:`GreenContracts.record`).  Returns the
    new power price forecast (half today's prices)."""
    hours, n_zones = price.shape
    n_tech = avail_tech.shape[0]
    new_forecast = np.empty((n_zones, hours))
    for z in range(n_zones):
        for h in range(hours):
            new_forecast[z, h] = 0.5 * forecast[z, h] + 0.5 * price[h, z]
            prices_slot[z, h] = price[h, z]
            for t in range(n_tech):
                avail_slot[z, h, t] = avail_tech[t, h, z]
    if line_from.size:
        for li in range(line_from.size):
            rent = 0.0
            for h in range(hours):
                rent += abs(price[h, line_to[li]] - price[h, line_from[li]]) * abs(line_flow[h, li])
            rent_slot[li] = rent
    for a in range(aidc_load.shape[0]):
        green_energy[a] += psum(aidc_load[a])
        green_green[a] += aidc_green[a]
        for h in range(hours):
            green_load_shape[a, h] += aidc_load[a, h]
    renewable_mw = np.zeros((hours, n_zones))
    for t in range(n_tech):
        if renewable[t]:
            for h in range(hours):
                for z in range(n_zones):
                    renewable_mw[h, z] += avail_tech[t, h, z]
    for h in range(hours):
        for z in range(n_zones):
            green_renewable[h, z] += renewable_mw[h, z]
    return new_forecast
