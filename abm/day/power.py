"""Stage 4: the power market, 24 hourly zonal clearings.

AIDCs' hourly load follows the GPUs actually busy (idle online GPUs draw idle power); background load is
exogenous with a daily shape; utilities offer their units, storage its charge bids and discharge offers,
and the market clears every hour with line limits (transport model, or DC power flow when lines carry
reactances).  If a battery's accepted charges make its planned discharges infeasible, it corrects its
offers and the day clears again.  Green energy is tracked through storage: a battery carries the green
share of what it stored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from abm.markets.power import PowerMarketInput, clear_power_market
from abm.results import ComputeDay, PowerDay
from agents.technologies import GREEN, RENEWABLE, TECHS

MAX_STORAGE_REPAIRS = 24

# Non-AI load through the day (mean 1): low at night, morning and evening peaks.
_h = np.arange(24)
BACKGROUND_SHAPE = 0.8 + 0.15 * np.exp(-0.5 * ((_h - 10) / 2.5) ** 2) + 0.3 * np.exp(-0.5 * ((_h - 19.5) / 2.0) ** 2)
BACKGROUND_SHAPE = BACKGROUND_SHAPE / BACKGROUND_SHAPE.mean()


def clear_power(model: Any, compute: ComputeDay) -> PowerDay:
    aidcs, util, store = model.aidcs, model.utilities, model.storage
    aidc_load = aidcs.set_busy(compute.busy, compute.sold)                # (A, 24) MW
    aidc_zone_load = aidc_load.T @ model.aidc_zone_inc.T                  # (24, Z)
    zp = model.zone_params
    background = BACKGROUND_SHAPE[:, None] * zp["background_load_mw"]     # (24, Z)
    flex = background * zp["flexible_load_share"]
    inelastic = background - flex + aidc_zone_load
    m = model.data["markets"]
    nz = len(model.zone_names)
    flex_price = np.repeat(zp["flexible_load_price_cny_per_mwh"][None, :], 24, axis=0)
    u_zone, u_mw, u_price = util.offers(model.date.timetuple().tm_yday, model.rng)
    nu = u_mw.shape[1]
    bid_zone = np.concatenate([np.arange(nz), store.zone])
    if store.n:
        c_mw, c_price, d_mw, d_price = store.plan(model.zone_price_forecast[store.zone])
        offer_zone = np.concatenate([u_zone, store.zone])
        bid_mw = np.concatenate([flex, c_mw.T], axis=1)
        bid_price = np.concatenate([flex_price, c_price.T], axis=1)
        offer_price = np.concatenate([u_price, d_price.T], axis=1)
    else:
        offer_zone, bid_mw, bid_price, offer_price = u_zone, flex, flex_price, u_price
    reactance = model.line_params["reactance"]
    line_reactance = np.where(reactance > 0, reactance, np.nan) if (reactance > 0).any() else None
    for _ in range(MAX_STORAGE_REPAIRS):
        inp = PowerMarketInput(
            n_zones=nz, offer_zone=offer_zone, offer_mw=np.concatenate([u_mw, d_mw.T], axis=1) if store.n else u_mw,
            offer_price=offer_price, bid_zone=bid_zone, bid_mw=bid_mw, bid_price=bid_price, load_mw=inelastic,
            line_from=model.line_from, line_to=model.line_to, line_limit_mw=model.line_params["limit_mw"],
            line_reactance=line_reactance, price_cap=m["power_price_cap_cny_per_mwh"],
            price_floor=m["power_price_floor_cny_per_mwh"])
        res = clear_power_market(inp)
        if not store.n:
            break
        charge = res.bid_served_mw[:, nz:].T
        discharge = res.offer_dispatch_mw[:, nu:].T
        if not store.violations(charge, discharge):
            break
        d_mw = store.repair(charge, d_mw)
    return _power_day(model, res, inp, background, aidc_zone_load, aidc_load, nu)


def unit_maps(model: Any) -> np.ndarray:
    """(U, T*Z + 3Z) indicator columns of every generating unit: its (technology, zone), its zone, its zone
    if green, its zone if renewable.  Rebuilt only when units are commissioned."""
    util = model.utilities
    n_units = util.unit_tech.size
    cache = getattr(model, "_unit_maps_cache", None)
    if cache is None or cache.shape[0] != n_units:
        nz = len(model.zone_names)
        rows = np.arange(n_units)
        tech_zone = np.zeros((n_units, len(TECHS) * nz))
        tech_zone[rows, util.unit_tech * nz + util.unit_zone] = 1.0
        zone = np.zeros((n_units, nz))
        zone[rows, util.unit_zone] = 1.0
        cache = np.concatenate([tech_zone, zone, zone * GREEN[util.unit_tech][:, None],
                                zone * RENEWABLE[util.unit_tech][:, None]], axis=1)
        model._unit_maps_cache = cache
    return cache


def _power_day(model: Any, res, inp, background, aidc_zone_load, aidc_load, nu) -> PowerDay:
    """The zone-hour quantities and what each participant pays or earns at the zonal prices."""
    util, store, aidcs = model.utilities, model.storage, model.aidcs
    nz = len(model.zone_names)
    price = res.price                                                     # (24, Z)
    unserved = res.unserved_mw                                           # falls on households first
    flex_served = res.bid_served_mw[:, :nz]
    dispatch = res.offer_dispatch_mw[:, :nu]
    aidc_bill = (aidc_load * price.T[aidcs.zone]).sum(axis=1)
    household_bill = float(((background - inp.bid_mw[:, :nz] - unserved + flex_served) * price).sum())
    unit_rev = (dispatch * price[:, util.unit_zone]).sum(axis=0)
    util_rev = np.bincount(util.unit_owner, unit_rev, minlength=util.n)
    util_cost = np.bincount(util.unit_owner, dispatch.sum(axis=0) * util.unit_mc, minlength=util.n)
    maps = unit_maps(model)
    tz = len(TECHS) * nz
    gen = dispatch @ maps                                                 # (24, T*Z + 3Z)
    avail = util.available_mw @ maps
    gen_tech = gen[:, :tz].reshape(24, len(TECHS), nz).transpose(1, 0, 2)  # (T, 24, Z)
    avail_tech = avail[:, :tz].reshape(24, len(TECHS), nz).transpose(1, 0, 2)
    gen_all, green_gen = gen[:, tz: tz + nz], gen[:, tz + nz: tz + 2 * nz]
    curtail = avail[:, tz + 2 * nz:] - gen[:, tz + 2 * nz:]
    net_import = res.line_flow_mw @ model.line_inc.T if model.line_names else np.zeros((24, nz))
    storage_paid = storage_income = np.zeros(0)
    income = 0.0
    if store.n:
        # charges take their zone's green share of generation in that hour; discharges give back the
        # green part of what the batteries hold
        charge, discharge = res.bid_served_mw[:, nz:].T, res.offer_dispatch_mw[:, nu:].T  # (S, 24)
        st_price = price.T[store.zone]
        storage_income = (discharge * st_price).sum(axis=1)
        income = float(storage_income.sum())
        storage_paid = (charge * st_price).sum(axis=1)
        green_share_gen = np.divide(green_gen, gen_all, out=np.zeros_like(gen_all), where=gen_all > 0)
        green_out = store.track_green(charge, discharge, green_share_gen.T[store.zone])
        store.settle(charge, discharge)
        zone_inc = model.storage_zone_inc.T
        charge_z, discharge_z = charge.T @ zone_inc, discharge.T @ zone_inc
        green_supply = green_gen + green_out.T @ zone_inc
    else:
        charge_z = discharge_z = np.zeros((24, nz))
        green_supply = green_gen
    load = inp.load_mw
    spill = gen_all + discharge_z + net_import + unserved - load - flex_served - charge_z
    local = gen_all + discharge_z
    green_share = np.divide(green_supply, local, out=np.zeros_like(local), where=local > 0)
    aidc_green = (aidc_load * np.minimum(green_share, 1.0).T[aidcs.zone]).sum(axis=1)
    supply_value = float(unit_rev.sum()) + income
    return PowerDay(price=price, gen_tech=gen_tech, avail_tech=avail_tech, curtail=curtail, net_import=net_import,
                    charge_z=charge_z, discharge_z=discharge_z, load=load, aidc_zone_load=aidc_zone_load,
                    background=background, flex_served=flex_served, unserved=unserved, spill=np.maximum(spill, 0.0),
                    line_flow=res.line_flow_mw, green_supply=green_supply, green_share=green_share, dispatch=dispatch,
                    aidc_load=aidc_load, aidc_bill=aidc_bill, aidc_green_mwh=aidc_green,
                    household_bill=household_bill, util_rev=util_rev, util_cost=util_cost,
                    storage_paid=storage_paid, storage_income=storage_income,
                    storage_share=income / supply_value if supply_value > 0 else 0.0)
