"""Stage 4: the power market, 24 hourly zonal clearings.

AIDCs' hourly load follows the GPUs actually busy (idle online GPUs draw idle power); background load is
exogenous with a daily shape; utilities offer their units, storage its charge bids and discharge offers,
and the market clears every hour with line limits (transport world, or DC power flow when lines carry
reactances).  If a battery's accepted charges make its planned discharges infeasible, it corrects its
offers and the day clears again.  Green energy is tracked through storage: a battery carries the green
share of what it stored.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.abm.markets.power import PowerGrid, PowerMarketResult
from tokenomy.abm.results import ComputeDay, PowerBook, PowerDay
from tokenomy.abm.state import World
from tokenomy.agents.numeric import nan_max, nan_min, psum
from tokenomy.agents.storage_operator import _settle_day, _violates
from tokenomy.agents.technologies import GREEN, RENEWABLE

# the repairs converge geometrically, each clearing dropping a share of the charge the repaired discharges relied on:
# a classroom day (1414, seed 1) needs ~130; cut off at 24, the last clearing left a battery discharging 0.03 MWh it
# did not hold (a state of charge below zero)
MAX_STORAGE_REPAIRS = 400

# Non-AI load through the day (mean 1): low at night, morning and evening peaks.
_h = np.arange(24)
BACKGROUND_SHAPE = 0.8 + 0.15 * np.exp(-0.5 * ((_h - 10) / 2.5) ** 2) + 0.3 * np.exp(-0.5 * ((_h - 19.5) / 2.0) ** 2)
BACKGROUND_SHAPE = BACKGROUND_SHAPE / BACKGROUND_SHAPE.mean()


def clear_power(world: World, compute: ComputeDay) -> PowerDay:
    aidcs, util, store = world.aidcs, world.utilities, world.storage
    zp, s = world.zone_params, store.params
    m = world.data["markets"]
    nz = len(world.zone_names)
    aidc_load = aidcs.grid_draw(aidcs.set_busy(compute.busy, compute.sold), aidcs.busy_gpus)
    aidcs.load_mw = aidc_load
    _, available_mw, unit_price = util.offers(world.date.timetuple().tm_yday, world.rng)
    c_mw, c_price, d_mw, d_price = store.plan_steps(world.zone_price_forecast[store.zone])
    zone_hour, offers, bids = _market_inputs(
        aidc_load,
        aidcs.zone,
        nz,
        BACKGROUND_SHAPE,
        zp["background_load_mw"],
        zp["flexible_load_share"],
        zp["flexible_load_price_cny_per_mwh"],
        available_mw,
        unit_price,
        c_mw,
        c_price,
        d_mw,
        d_price,
    )
    aidc_zone_load, background, flex, inelastic = zone_hour  # (rows of the kernel's blocks: _market_inputs)
    offer_mw, offer_price = offers
    bid_mw, bid_price = bids
    nu = util.unit_tech.size
    grid, offer_zone, bid_zone = _power_grid(world, nu)
    limit, cap, floor = (
        world.line_params["limit_mw"],
        m["power_price_cap_cny_per_mwh"],
        m["power_price_floor_cny_per_mwh"],
    )
    res = grid.clear(offer_mw, offer_price, bid_mw, bid_price, inelastic, limit, cap, floor)
    for repair in range(MAX_STORAGE_REPAIRS):
        if not store.n or not _limits_broken(
            res.bid_served_mw, res.offer_dispatch_mw, nz, nu, store.soc_mwh, s["energy_mwh"], s["round_trip_efficiency"]
        ):  # StorageGroup.violations
            break
        repaired = store.repair(res.bid_served_mw[:, nz:].T, d_mw)
        changed = np.flatnonzero((repaired != d_mw).any(axis=0))  # the hours whose offers the repair moved
        if not changed.size:  # the same offers clear the same way: clearing them again would change nothing
            break
        d_mw = repaired
        offer_mw[:, nu:] = d_mw.T
        if repair == MAX_STORAGE_REPAIRS - 1:  # the day has cleared MAX_STORAGE_REPAIRS times: the last clearing stands
            break
        res = _clear_again(grid, res, changed, offer_mw, offer_price, bid_mw, bid_price, inelastic, limit, cap, floor)
    world.power_book_before = getattr(world, "power_book", None)
    world.power_book = PowerBook(
        offer_zone,
        offer_mw,
        offer_price,
        bid_zone,
        bid_mw,
        bid_price,
        inelastic,
        res.offer_dispatch_mw,
        res.bid_served_mw,
        res.unserved_mw,
        res.line_flow_mw,
        res.price,
        float(m["power_price_cap_cny_per_mwh"]),
        float(m["power_price_floor_cny_per_mwh"]),
        limit.copy(),  # line upgrades arrive after the clearing and change the array in place
    )
    return _power_day(world, res, background, flex, inelastic, aidc_zone_load, aidc_load, nu)


@njit(cache=True)
def _limits_broken(bid_served, offer_dispatch, n_zones, n_units, soc, energy, rte):
    """:meth:`StorageGroup.violations` of the batteries' cleared charges (bids after the zones' flexible load) and
    discharges (offers after the units)."""
    eta = np.sqrt(rte)
    charge = np.ascontiguousarray(bid_served[:, n_zones:].T)
    discharge = np.ascontiguousarray(offer_dispatch[:, n_units:].T)
    return _violates(charge, discharge, soc, energy, eta, eta)


def _power_grid(world: World, n_units: int) -> tuple[PowerGrid, np.ndarray, np.ndarray]:
    """The market's fixed structure (zones of units, batteries and flexible load; the lines) and the zone of every
    offer and of every bid, rebuilt when units are commissioned or an event changes a line's reactance."""
    reactance = world.line_params["reactance"]
    key = (n_units, reactance.tobytes())
    cached = getattr(world, "_power_grid_cache", None)
    if cached is None or cached[0] != key:
        nz = len(world.zone_names)
        store = world.storage
        line_reactance = np.where(reactance > 0, reactance, np.nan) if (reactance > 0).any() else None
        offer_zone = np.concatenate([world.utilities.unit_zone, store.zone])
        bid_zone = np.concatenate([np.arange(nz), store.zone])
        grid = PowerGrid(nz, offer_zone, bid_zone, world.line_from, world.line_to, line_reactance)
        offer_zone.flags.writeable = bid_zone.flags.writeable = False  # shared by every day's PowerBook
        cached = world._power_grid_cache = (key, (grid, offer_zone, bid_zone))
    return cached[1]


def _clear_again(
    grid: PowerGrid,
    res: PowerMarketResult,
    hours: np.ndarray,
    offer_mw: np.ndarray,
    offer_price: np.ndarray,
    bid_mw: np.ndarray,
    bid_price: np.ndarray,
    load: np.ndarray,
    limit: np.ndarray,
    cap: float,
    floor: float,
) -> PowerMarketResult:
    """The day cleared again after a battery repaired its offers in ``hours`` only.  Each hour of a grid the compiled
    path clears is a market of its own, so only those hours clear again and the others keep their results; the day
    clears whole when an hour needs the LP (it solves the LP hours together) or when line limits vary by hour."""
    if res.lp_hours == 0 and limit.ndim == 1:
        part = grid.clear(
            offer_mw[hours], offer_price[hours], bid_mw[hours], bid_price[hours], load[hours], limit, cap, floor
        )
        if part.lp_hours == 0:
            n_offers = res.offer_dispatch_mw.shape[1]
            # the offers' dispatch and the bids' service as views of one array, as the market gives them (the
            # kernels that read them are compiled for that layout)
            alloc = np.concatenate([res.offer_dispatch_mw, res.bid_served_mw], axis=1)
            alloc[hours] = np.concatenate([part.offer_dispatch_mw, part.bid_served_mw], axis=1)
            price, unserved, flow = res.price.copy(), res.unserved_mw.copy(), res.line_flow_mw.copy()
            price[hours], unserved[hours], flow[hours] = part.price, part.unserved_mw, part.line_flow_mw
            return PowerMarketResult(price, alloc[:, :n_offers], alloc[:, n_offers:], unserved, flow, lp_hours=0)
    return grid.clear(offer_mw, offer_price, bid_mw, bid_price, load, limit, cap, floor)


@njit(cache=True)
def _market_inputs(
    aidc_load,
    aidc_zone,
    n_zones,
    shape,
    background_load,
    flexible_share,
    flexible_price,
    u_mw,
    u_price,
    c_mw,
    c_price,
    d_mw,
    d_price,
):
    """The day's market arrays: AIDC load by zone, background load, its flexible part (bid at the zone's price for
    it), the inelastic rest; offers are the units then the batteries' discharges, bids the flexible load of every
    zone then the batteries' charges.  (Sums as numpy's matrix product with the zone incidence adds them.)  They come
    back as the rows of three blocks (each array handed back to Python costs a conversion): (4, 24, Z) AIDC load,
    background, flexible and inelastic load; (2, 24, N) offers' MW and prices; (2, 24, M) bids' MW and prices."""
    hours = shape.size
    n_aidcs, n_units, n_store = aidc_zone.size, u_mw.shape[1], c_mw.shape[0]
    zone_hour = np.empty((4, hours, n_zones))
    offers = np.empty((2, hours, n_units + n_store))
    bids = np.empty((2, hours, n_zones + n_store))
    aidc_zone_load, background, flex, inelastic = zone_hour[0], zone_hour[1], zone_hour[2], zone_hour[3]
    offer_mw, offer_price, bid_mw, bid_price = offers[0], offers[1], bids[0], bids[1]
    for h in range(hours):
        for z in range(n_zones):
            s = 0.0
            for a in range(n_aidcs):
                if aidc_zone[a] == z:
                    s += aidc_load[a, h]
            aidc_zone_load[h, z] = s
            b = shape[h] * background_load[z]
            f = b * flexible_share[z]
            background[h, z] = b
            flex[h, z] = f
            inelastic[h, z] = b - f + s
            bid_mw[h, z] = f
            bid_price[h, z] = flexible_price[z]
        for u in range(n_units):
            offer_mw[h, u] = u_mw[h, u]
            offer_price[h, u] = u_price[h, u]
        for j in range(n_store):
            offer_mw[h, n_units + j] = d_mw[j, h]
            offer_price[h, n_units + j] = d_price[j]
            bid_mw[h, n_zones + j] = c_mw[j, h]
            bid_price[h, n_zones + j] = c_price[j]
    return zone_hour, offers, bids


def _power_day(world: World, res, background, flex, load, aidc_zone_load, aidc_load, nu) -> PowerDay:
    """The zone-hour quantities and what each participant pays or earns at the zonal prices."""
    util, store, aidcs = world.utilities, world.storage, world.aidcs
    dispatch, zone_hour, by_tech, storage_hour, storage, utility, aidc, household_bill, supply_value, income = (
        _power_results(
            res.price,
            res.unserved_mw,
            res.bid_served_mw,
            res.offer_dispatch_mw,
            res.line_flow_mw,
            background,
            flex,
            aidc_load,
            aidcs.zone,
            nu,
            util.unit_zone,
            util.unit_owner,
            util.unit_tech,
            util.unit_mc,
            util.available_mw,
            util.n,
            GREEN,
            RENEWABLE,
            world.line_from,
            world.line_to,
            store.zone,
            load,
            store.soc_mwh,
            store.green_mwh,
            store.params["round_trip_efficiency"],
        )
    )
    # the kernel hands its arrays back in a few blocks of equal shapes (each array it returns costs a conversion):
    # each array is a row of its block
    flex_served, curtail, net_import, charge_z, discharge_z, green_supply, spill, green_share = zone_hour
    gen_tech, avail_tech = by_tech
    charge, discharge = storage_hour
    storage_paid, storage_income, soc, green_mwh = storage
    util_rev, util_cost = utility
    aidc_bill, aidc_green = aidc
    if store.n:  # StorageGroup.track_green and settle
        store.soc_mwh, store.green_mwh, store.charge_mw, store.discharge_mw = soc, green_mwh, charge, discharge
    return PowerDay(
        price=res.price,
        gen_tech=gen_tech,
        avail_tech=avail_tech,
        curtail=curtail,
        net_import=net_import,
        charge_z=charge_z,
        discharge_z=discharge_z,
        load=load,
        aidc_zone_load=aidc_zone_load,
        background=background,
        flex_served=flex_served,
        unserved=res.unserved_mw,
        spill=spill,
        line_flow=res.line_flow_mw,
        green_supply=green_supply,
        green_share=green_share,
        dispatch=dispatch,
        aidc_load=aidc_load,
        aidc_bill=aidc_bill,
        aidc_green_mwh=aidc_green,
        household_bill=household_bill,
        util_rev=util_rev,
        util_cost=util_cost,
        storage_paid=storage_paid,
        storage_income=storage_income,
        storage_share=income / supply_value if supply_value > 0 else 0.0,
    )


@njit(cache=True)
def _power_results(
    price,
    unserved,
    bid_served,
    offer_dispatch,
    line_flow,
    background,
    flex,
    aidc_load,
    aidc_zone,
    n_units,
    unit_zone,
    unit_owner,
    unit_tech,
    unit_mc,
    available,
    n_util,
    green,
    renewable,
    line_from,
    line_to,
    storage_zone,
    load,
    soc,
    green_mwh,
    rte,
):
    """:func:`_dispatch_results`, the batteries' settlement (``StorageGroup.track_green`` and ``settle``: charges take
    their zone's green share of generation in that hour, discharges give back the green part of what the batteries
    hold) and :func:`_zone_balances`, in one call.  Also returns the value of all power sold and storage's part of it,
    and the batteries' new state of charge and green content.  Arrays of one shape come back as the rows of one block
    (handing an array back to Python costs about as much as a short kernel's work): dispatch (24, U); the zone-hour
    block (8, 24, Z) of flexible load served, curtailment, net imports, storage charge and discharge, green supply,
    spill and green share; (2, T, 24, Z) generation and availability by technology; (2, S, 24) the batteries' charge
    and discharge; (4, S) what they paid, earned, their state of charge and green content; (2, utilities) revenue
    and cost; (2, A) the AIDCs' bills and green energy; then the household bill, the value of power sold and
    storage's income."""
    (
        flex_served,
        dispatch,
        aidc_bill,
        household_bill,
        util_rev,
        util_cost,
        supply_value,
        gen_tech,
        avail_tech,
        gen_all,
        green_gen,
        curtail,
        net_import,
        charge,
        discharge,
        storage_paid,
        storage_income,
        green_share_in,
    ) = _dispatch_results(
        price,
        unserved,
        bid_served,
        offer_dispatch,
        line_flow,
        background,
        flex,
        aidc_load,
        aidc_zone,
        n_units,
        unit_zone,
        unit_owner,
        unit_tech,
        unit_mc,
        available,
        n_util,
        green,
        renewable,
        line_from,
        line_to,
        storage_zone,
    )
    income = 0.0
    if storage_zone.size:
        green_out, soc, green_mwh = _settle_day(charge, discharge, green_share_in, soc, green_mwh, rte)
        income = psum(storage_income)
    else:
        green_out = np.zeros((0, price.shape[0]))
    charge_z, discharge_z, green_supply, spill, green_share, aidc_green = _zone_balances(
        charge,
        discharge,
        green_out,
        storage_zone,
        gen_all,
        green_gen,
        net_import,
        unserved,
        load,
        flex_served,
        aidc_load,
        aidc_zone,
    )
    zone_hour = np.empty((8, price.shape[0], price.shape[1]))
    zone_hour[0], zone_hour[1], zone_hour[2], zone_hour[3] = flex_served, curtail, net_import, charge_z
    zone_hour[4], zone_hour[5], zone_hour[6], zone_hour[7] = discharge_z, green_supply, spill, green_share
    by_tech = np.empty((2,) + gen_tech.shape)
    by_tech[0], by_tech[1] = gen_tech, avail_tech
    storage_hour = np.empty((2,) + charge.shape)
    storage_hour[0], storage_hour[1] = charge, discharge
    storage = np.empty((4, storage_zone.size))
    storage[0], storage[1], storage[2], storage[3] = storage_paid, storage_income, soc, green_mwh
    utility = np.empty((2, util_rev.size))
    utility[0], utility[1] = util_rev, util_cost
    aidc = np.empty((2, aidc_bill.size))
    aidc[0], aidc[1] = aidc_bill, aidc_green
    value = supply_value + income
    return dispatch, zone_hour, by_tech, storage_hour, storage, utility, aidc, household_bill, value, income


@njit(cache=True)
def _dispatch_results(  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    price,
    unserved,
    bid_served,
    offer_dispatch,
    line_flow,
    background,
    flex,
    aidc_load,
    aidc_zone,
    n_units,
    unit_zone,
    unit_owner,
    unit_tech,
    unit_mc,
    available,
    n_util,
    green,
    renewable,
    line_from,
    line_to,
    storage_zone,
):
    """What the market's dispatch means, before the batteries settle: bills and revenues at the zonal prices;
    generation and availability by technology and zone (summed unit after unit, as numpy's product with the units'
    indicator columns adds them); curtailed renewables; net imports; the batteries' charges and discharges, what they
    paid and earned, and the green share of generation each charge takes."""
    hours, n_zones = price.shape
    n_aidcs, n_store, n_tech, n_lines = aidc_zone.size, storage_zone.size, green.size, line_from.size
    flex_served = np.ascontiguousarray(bid_served[:, :n_zones])
    dispatch = np.ascontiguousarray(offer_dispatch[:, :n_units])
    tmp = np.empty(hours)
    aidc_bill = np.empty(n_aidcs)
    for a in range(n_aidcs):
        for h in range(hours):
            tmp[h] = aidc_load[a, h] * price[h, aidc_zone[a]]
        aidc_bill[a] = psum(tmp)
    household = np.empty(hours * n_zones)
    for h in range(hours):
        for z in range(n_zones):
            household[h * n_zones + z] = (background[h, z] - flex[h, z] - unserved[h, z] + flex_served[h, z]) * price[
                h, z
            ]
    household_bill = psum(household)
    unit_rev = np.zeros(dispatch.shape[1])
    unit_out = np.zeros(dispatch.shape[1])
    for h in range(hours):
        for u in range(dispatch.shape[1]):
            unit_rev[u] += dispatch[h, u] * price[h, unit_zone[u]]
            unit_out[u] += dispatch[h, u]
    util_rev = np.zeros(n_util)
    util_cost = np.zeros(n_util)
    for u in range(dispatch.shape[1]):
        util_rev[unit_owner[u]] += unit_rev[u]
    for u in range(dispatch.shape[1]):
        util_cost[unit_owner[u]] += unit_out[u] * unit_mc[u]
    gen_tech = np.zeros((n_tech, hours, n_zones))
    avail_tech = np.zeros((n_tech, hours, n_zones))
    gen_all = np.zeros((hours, n_zones))
    green_gen = np.zeros((hours, n_zones))
    renewable_gen = np.zeros((hours, n_zones))
    renewable_avail = np.zeros((hours, n_zones))
    for h in range(hours):
        for u in range(dispatch.shape[1]):
            t, z = unit_tech[u], unit_zone[u]
            d, av = dispatch[h, u], available[h, u]
            gen_tech[t, h, z] += d
            avail_tech[t, h, z] += av
            gen_all[h, z] += d
            if green[t]:
                green_gen[h, z] += d
            if renewable[t]:
                renewable_gen[h, z] += d
                renewable_avail[h, z] += av
    curtail = renewable_avail - renewable_gen
    net_import = np.zeros((hours, n_zones))
    for h in range(hours):
        for li in range(n_lines):
            if line_from[li] != line_to[li]:
                net_import[h, line_to[li]] += line_flow[h, li]
                net_import[h, line_from[li]] += -line_flow[h, li]
    charge = np.empty((n_store, hours))
    discharge = np.empty((n_store, hours))
    storage_paid = np.empty(n_store)
    storage_income = np.empty(n_store)
    green_share_in = np.empty((n_store, hours))
    for s in range(n_store):
        z = storage_zone[s]
        for h in range(hours):
            charge[s, h] = bid_served[h, n_zones + s]
            discharge[s, h] = offer_dispatch[h, n_units + s]
            green_share_in[s, h] = green_gen[h, z] / gen_all[h, z] if gen_all[h, z] > 0.0 else 0.0
        for h in range(hours):
            tmp[h] = discharge[s, h] * price[h, z]
        storage_income[s] = psum(tmp)
        for h in range(hours):
            tmp[h] = charge[s, h] * price[h, z]
        storage_paid[s] = psum(tmp)
    return (
        flex_served,
        dispatch,
        aidc_bill,
        household_bill,
        util_rev,
        util_cost,
        psum(unit_rev),
        gen_tech,
        avail_tech,
        gen_all,
        green_gen,
        curtail,
        net_import,
        charge,
        discharge,
        storage_paid,
        storage_income,
        green_share_in,
    )


@njit(cache=True)
def _zone_balances(
    charge,
    discharge,
    green_out,
    storage_zone,
    gen_all,
    green_gen,
    net_import,
    unserved,
    load,
    flex_served,
    aidc_load,
    aidc_zone,
):
    """Storage by zone, green supply (generation plus the green part of discharges), spill, the green share of local
    supply and the green energy that reached each AIDC."""
    hours, n_zones = gen_all.shape
    charge_z = np.zeros((hours, n_zones))
    discharge_z = np.zeros((hours, n_zones))
    green_storage = np.zeros((hours, n_zones))
    for h in range(hours):
        for s in range(storage_zone.size):
            z = storage_zone[s]
            charge_z[h, z] += charge[s, h]
            discharge_z[h, z] += discharge[s, h]
            green_storage[h, z] += green_out[s, h]
    green_supply = green_gen + green_storage if storage_zone.size else green_gen.copy()
    spill = np.empty((hours, n_zones))
    green_share = np.empty((hours, n_zones))
    for h in range(hours):
        for z in range(n_zones):
            x = (
                gen_all[h, z]
                + discharge_z[h, z]
                + net_import[h, z]
                + unserved[h, z]
                - load[h, z]
                - flex_served[h, z]
                - charge_z[h, z]
            )
            spill[h, z] = nan_max(x, 0.0)
            local = gen_all[h, z] + discharge_z[h, z]
            green_share[h, z] = green_supply[h, z] / local if local > 0.0 else 0.0
    aidc_green = np.empty(aidc_zone.size)
    tmp = np.empty(hours)
    for a in range(aidc_zone.size):
        for h in range(hours):
            tmp[h] = aidc_load[a, h] * nan_min(green_share[h, aidc_zone[a]], 1.0)
        aidc_green[a] = psum(tmp)
    return charge_z, discharge_z, green_supply, spill, green_share, aidc_green
