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
from typing import Any

import numpy as np

from tokenomy.abm.day.learning import recent
from tokenomy.agents.contracts import renew
from tokenomy.agents.technologies import TECHS


def first_of_month(model: Any) -> None:
    aidcs, led, acct, grid = model.aidcs, model.ledger, model.ledger.account, model.grid
    aidcs.observe_month()
    before = aidcs.scrapped_today.copy()
    aidcs.review_fleet()
    grid.reserve(aidcs.zone, -(aidcs.scrapped_today - before) * aidcs.mw_per_busy_gpu())
    write_offs = aidcs.book_write_offs()
    if write_offs.any():  # the book value left in scrapped GPUs is a loss today
        led.expense(model.accounts["aidc"], write_offs, "write-offs")
    sigma = aidcs.params["forecast_noise"]
    noise = np.exp(sigma * model.rng.standard_normal(aidcs.n) - 0.5 * sigma**2)
    wish = aidcs.investment_wish(noise)
    cap = model.data["compute"]["gpu_deliveries_per_month"]
    if wish.sum() > cap:
        wish = wish * cap / wish.sum()
    mw = aidcs.mw_per_busy_gpu()
    wish = np.floor(wish * grid.grant(aidcs.zone, wish * mw))
    grid.reserve(aidcs.zone, wish * mw)
    aidcs.order(model.day, wish)
    model.gpus_ordered_today = float(wish.sum())
    if wish.sum() > 0:
        led.pay(
            model.accounts["aidc"],
            acct["gpu_vendors"],
            wish * aidcs.params["capex_cny_per_gpu"],
            "gpu purchases",
            capital=True,
        )
    grid.build_connections(model.day)
    rent = recent(model, model.recent_line_rent_ring)
    if model.line_names and rent.shape[0]:
        for _, _, cost in grid.plan_lines(model.day, rent.mean(axis=0) * 365.0):
            led.pay(model.accounts["grid"][0], acct["builders"], cost, "line build", capital=True)
    orders = model.utilities.plan_builds(
        model.day, recent(model, model.recent_prices_ring), model.recent_availability()
    )
    for _, owner, _, t, mw_built in orders:
        cost = mw_built * 1000.0 * model.data["technologies"][TECHS[t]]["capex_cny_per_kw"]
        led.pay(model.accounts["utility"][owner], acct["builders"], cost, "generation build", capital=True)
    model.green.renew(model)
    store = model.storage
    mwh = store.investment_wish()
    if mwh.sum() > 0:
        store.order(model.day, mwh)
        led.pay(
            model.accounts["storage"],
            acct["builders"],
            mwh * 1000.0 * store.params["capex_cny_per_kwh"],
            "storage build",
            capital=True,
        )
    _renew_contracts(model)
    led.post()


def _renew_contracts(model: Any) -> None:
    prov, aidcs = model.providers, model.aidcs
    if not (prov.n and aidcs.n):
        return
    date = model.date
    month_days = calendar.monthrange(date.year, date.month)[1]
    need = prov.forecast_hourly_mtok() / prov.params["mtok_per_gpu_hour"][:, None]
    expected = np.where(np.isnan(aidcs.compute_price_seen), aidcs.srmc(), aidcs.compute_price_seen)
    renew(
        model.contracts,
        model.day,
        month_days,
        need,
        prov.params["contract_share"],
        prov.params["contract_months"],
        model.compute_edges[: prov.n],
        aidcs.online,
        expected,
        model.data["compute"]["contract_premium"],
    )


def arrivals_and_retirements(model: Any) -> None:
    aidcs = model.aidcs
    aidcs.arrivals(model.day)
    retired = aidcs.retire(model.day)
    if retired.any():
        model.grid.reserve(aidcs.zone, -retired * aidcs.mw_per_busy_gpu())
    model.contracts.drop_aidcs(aidcs.gpus <= 0)
    model.utilities.arrivals(model.day)
    model.storage.arrivals(model.day)
    model.grid.arrivals(model.day)
