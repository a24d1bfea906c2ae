"""Step 6: agents learn from the day.  Providers update forecasts and unit costs and post tomorrow's
prices; AIDCs and utilities learn their markups; expectations of power prices move; the month's record
for investment and green contracting grows."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from tokenomy.abm.results import Day
from tokenomy.agents.aidc import PEAK_MEMORY_DAYS, _srmc
from tokenomy.agents.aidc import _learn as _learn_aidcs
from tokenomy.agents.cloud_provider import PricingView
from tokenomy.agents.numeric import psum
from tokenomy.agents.strategies import update_markups
from tokenomy.agents.technologies import DISPATCHABLE, RENEWABLE
from tokenomy.agents.utility import _sold_share

RECENT_DAYS = 30  # memory of prices and availability for generation and line investment


def learn(model: Any, day: Day) -> None:
    compute, tokens, power = day.compute, day.tokens, day.power
    prov, aidcs = model.providers, model.aidcs
    led, sl = model.ledger, model.kind_slice
    profit = led.revenue_today - led.cost_today
    n = prov.n
    prov.learn(
        tokens.requested,
        tokens.served_by_provider,
        compute.buyer_price[:n],
        compute.provider_cost,
        profit[sl["provider"]],
        model.rng,
    )
    prov.set_prices(
        PricingView(
            model.token_edges, tokens.demand, tokens.elasticity, model.data["markets"]["token_price_sensitivity"]
        )
    )
    # AIDCs (AIDCGroup.learn), utilities (UtilityGroup.learn) and the market's memories in one kernel; the learners'
    # random numbers drawn first, in the order the groups would draw them
    util, green, a = model.utilities, model.green, aidcs.params
    aidc_draws = aidcs.learner.draws(model.rng)
    util_draws = util.learner.draws(model.rng)
    slot = model.day % RECENT_DAYS
    expected, seen, mothballed, model.zone_price_forecast = _learn_supply(
        power.price,
        compute.aidc_price,
        compute.top_tranche_fill,
        aidcs.zone,
        profit[sl["aidc"]],
        aidcs.learner.state(),
        aidc_draws,
        a["busy_kw_per_gpu"],
        a["idle_kw_per_gpu"],
        a["pue"],
        a["om_cny_per_gpu_hour"],
        aidcs.green_cost_per_busy_gpu_hour,
        aidcs.power_price_expected,
        aidcs.compute_price_seen,
        aidcs.busy_gpus,
        aidcs.sold_gpus,
        aidcs.gpus,
        aidcs.mothballed,
        aidcs.down,
        aidcs._margin_sum,
        aidcs._peak_busy[model.day % PEAK_MEMORY_DAYS],
        util.available_mw,
        power.dispatch,
        DISPATCHABLE,
        util.unit_tech,
        util.unit_owner,
        power.util_rev - power.util_cost,
        util.learner.state(),
        util_draws,
        (
            power.avail_tech,
            power.line_flow,
            model.line_from,
            model.line_to,
            model.zone_price_forecast,
            model.recent_prices_ring[slot],
            model.recent_avail_ring[slot],
            model.recent_line_rent_ring[slot],
            RENEWABLE,
            power.aidc_load,
            power.aidc_green_mwh,
            green._energy,
            green._green,
            green._load_shape,
            green._renewable,
        ),
    )
    aidcs.power_price_expected, aidcs.compute_price_seen, aidcs.mothballed = expected, seen, mothballed
    aidcs._margin_days += 1
    util.dispatch_mw = power.dispatch
    green._days += 1


@njit(cache=True)
def _learn_supply(
    price,
    aidc_price,
    top_tranche_fill,
    aidc_zone,
    aidc_profit,
    aidc_learner,
    aidc_draws,
    busy_kw,
    idle_kw,
    pue,
    om,
    green_cost,
    power_price_expected,
    compute_price_seen,
    busy_gpus,
    sold_gpus,
    gpus,
    mothballed,
    down,
    margin_sum,
    peak_busy,
    available,
    dispatch,
    dispatchable,
    unit_tech,
    unit_owner,
    util_profit,
    util_learner,
    util_draws,
    memories,
):
    """:meth:`AIDCGroup.learn`, :meth:`UtilityGroup.learn` and :func:`_remember` (``memories``: its arguments after
    the price), in that order.  Returns (AIDCs' expected power price, compute price seen, mothballed GPUs; the new
    power price forecast)."""
    srmc = _srmc(busy_kw, idle_kw, pue, power_price_expected, om, green_cost)
    update_markups(aidc_learner, top_tranche_fill, aidc_profit, aidc_draws)
    zone_price = np.empty(srmc.shape)
    for a in range(aidc_zone.size):
        zone_price[a] = price[:, aidc_zone[a]]
    expected, seen, still = _learn_aidcs(
        aidc_price,
        zone_price,
        srmc,
        power_price_expected,
        compute_price_seen,
        busy_gpus,
        sold_gpus,
        gpus,
        mothballed,
        down,
        margin_sum,
        peak_busy,
    )
    share = _sold_share(available, dispatch, dispatchable, unit_tech, unit_owner, util_profit.size)
    update_markups(util_learner, share, util_profit, util_draws)
    return expected, seen, still, _remember(price, *memories)


def recent(model: Any, ring: np.ndarray) -> np.ndarray:
    """The filled part of a ring buffer of the last RECENT_DAYS days (order does not matter)."""
    return ring[: min(model.day + 1, RECENT_DAYS)]


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
