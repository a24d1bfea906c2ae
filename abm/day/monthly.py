"""Step 7: on the first day of a month, owners review and invest, and contracts renew.

AIDCs mothball idle GPUs (and scrap a pool mothballed too long), forecast their margin and order GPUs
where the NPV is positive -- within vendors' deliveries and the zone's spare grid connection; the grid
operator builds connections where load queues and expands lines whose congestion rent pays; utilities and
storage operators build where the NPV of recent margins is positive; AIDCs renew their green contracts;
providers renew their term contracts for compute.  Daily, capacity whose lead time has passed comes
online and GPUs at the end of their life retire.
"""

from __future__ import annotations

import calendar

import numpy as np

from tokenomy.abm.day.learning import recent
from tokenomy.abm.day.power import BACKGROUND_SHAPE
from tokenomy.abm.state import World
from tokenomy.agents.contracts import renew
from tokenomy.agents.finance import rising_cost_total
from tokenomy.agents.technologies import TECHS


def first_of_month(world: World) -> None:
    aidcs, led, acct, grid = world.aidcs, world.ledger, world.ledger.account, world.grid
    aidcs.observe_month()
    before = aidcs.scrapped_today.copy()
    aidcs.review_fleet()
    grid.reserve(aidcs.zone, -(aidcs.scrapped_today - before) * aidcs.mw_per_busy_gpu())
    write_offs = aidcs.book_write_offs()
    if write_offs.any():  # the book value left in scrapped GPUs is a loss today
        led.expense(world.accounts["aidc"], write_offs, "write-offs")
    sigma = aidcs.params["forecast_noise"]
    noise = np.exp(sigma * world.rng.standard_normal(aidcs.n) - 0.5 * sigma**2)
    wish = aidcs.investment_wish(noise, world.data["compute"]["gpu_deliveries_per_month"])
    mw = aidcs.mw_per_busy_gpu()
    firm = np.floor(wish * grid.grant(aidcs.zone, wish * mw))
    grid.reserve(aidcs.zone, firm * mw)
    flexible = np.floor(grid.grant_flexible(aidcs.zone, (wish - firm) * mw, peak_background_mw(world)) / mw)
    wish = firm + flexible
    aidcs.order(world.day, wish, flexible)
    world.gpus_ordered_today = float(wish.sum())
    if wish.sum() > 0:
        led.pay(
            world.accounts["aidc"],
            acct["gpu_vendors"],
            wish * aidcs.params["capex_cny_per_gpu"],
            "gpu purchases",
            capital=True,
        )
    grid.build_connections(world.day)
    rent = recent(world, world.recent_line_rent_ring)
    if world.line_names and rent.shape[0]:
        for _, _, cost in grid.plan_lines(world.day, rent.mean(axis=0) * 365.0):
            led.pay(world.accounts["grid"][0], acct["builders"], cost, "line build", capital=True)
    orders = world.utilities.plan_builds(
        world.day,
        recent(world, world.recent_prices_ring),
        world.recent_availability(),
        world.data["policy"]["capacity_tariff_cny_per_kw_year"],
    )
    for _, owner, _, t, mw_built in orders:
        tech = world.data["technologies"][TECHS[t]]
        cost = rising_cost_total(mw_built, tech["capex_cny_per_kw"] * 1000.0, tech["build_mw_per_month"])
        led.pay(world.accounts["utility"][owner], acct["builders"], float(cost), "generation build", capital=True)
    world.green.renew(world)
    store = world.storage
    onsite = world.flexible.renew(world, tight_hours_seen(world))
    if onsite.sum() > 0:  # on-site batteries for AIDCs' flexible connections, built at once for the contract
        store.onsite_mwh += onsite
        led.pay(
            world.accounts["storage"],
            acct["builders"],
            onsite * 1000.0 * store.params["capex_cny_per_kwh"],
            "storage build",
            capital=True,
        )
    merchant, firming = store.investment_wish()
    mwh = merchant + firming
    if mwh.sum() > 0:
        store.order(world.day, mwh)
        capex = 1000.0 * store.params["capex_cny_per_kwh"]
        led.pay(
            world.accounts["storage"],
            acct["builders"],
            rising_cost_total(merchant, capex, store.params["build_mwh_per_month"]) + firming * capex,
            "storage build",
            capital=True,
        )
    renew_contracts(world)
    led.post()


def renew_contracts(world: World) -> None:
    """Providers renew their term contracts for compute (:func:`agents.contracts.renew`)."""
    prov, aidcs = world.providers, world.aidcs
    if not (prov.n and aidcs.n):
        return
    date = world.date
    month_days = calendar.monthrange(date.year, date.month)[1]
    need = prov.forecast_hourly_mtok() / prov.params["mtok_per_gpu_hour"][:, None]
    expected = np.where(np.isnan(aidcs.compute_price_seen), aidcs.srmc(), aidcs.compute_price_seen)
    renew(
        world.contracts,
        world.day,
        month_days,
        need,
        prov.params["contract_share"],
        prov.params["contract_months"],
        world.compute_edges[: prov.n],
        aidcs.online,
        expected,
        world.data["compute"]["contract_premium"],
    )


def peak_background_mw(world: World) -> np.ndarray:
    """(Z,) each zone's peak background (non-AI) load today."""
    return BACKGROUND_SHAPE.max() * world.zone_params["background_load_mw"]


def tight_hours_seen(world: World) -> np.ndarray:
    """(D, A) how many tight hours each AIDC's zone had on each of the last days (its price at or above
    ``markets.tight_price_share`` of the cap)."""
    m = world.data["markets"]
    prices = recent(world, world.recent_prices_ring)  # (D, Z, 24)
    tight = (prices >= m["tight_price_share"] * m["power_price_cap_cny_per_mwh"]).sum(axis=2)
    return tight[:, world.aidcs.zone]


def arrivals_and_retirements(world: World) -> None:
    aidcs = world.aidcs
    aidcs.arrivals(world.day, world.data["compute"]["gpu_deliveries_per_month"])
    retired = aidcs.retire(world.day)
    if np.count_nonzero(retired):
        world.grid.reserve(aidcs.zone, -retired * aidcs.mw_per_busy_gpu())
    world.contracts.drop_aidcs(aidcs.gpus <= 0)
    world.utilities.arrivals(world.day)
    world.storage.arrivals(world.day)
    world.grid.arrivals(world.day)
