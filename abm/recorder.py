"""Data collection into tidy tables: ``daily`` (model level), ``hourly`` (zone x hour) and ``agents``
(agent x day).  Rows go into preallocated numpy columns (growing by doubling), filled by column name, and
become pandas DataFrames only when asked for, which keeps collection off the hot path."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from numba import njit

from tokenomy.abm.results import Day, provider_cost
from tokenomy.abm.state import World
from tokenomy.agents.numeric import nan_to_zero, psum, psum_at
from tokenomy.agents.technologies import GREEN_TECHS, TECHS

# Recorded each day as scalars ...
RAW_DAILY_COLUMNS = (
    "token_price_cny_per_mtok",
    "compute_price_cny_per_gpu_hour",
    "compute_peak_price_cny_per_gpu_hour",
    "compute_offpeak_price_cny_per_gpu_hour",
    "compute_contract_price_cny_per_gpu_hour",
    "tokens_demanded_mtok",
    "tokens_served_mtok",
    "tokens_unserved_mtok",
    "gpus_online",
    "gpus_mothballed",
    "gpus_in_pipeline",
    "gpus_ordered",
    "gpus_retired",
    "busy_gpu_hours",
    "peak_busy_gpus",
    "compute_sold_gpu_hours",
    "training_gpu_hours",
    "compute_topped_up_gpu_hours",
    "storage_energy_mwh",
    "storage_soc_mwh",
    "generation_capacity_mw",
    "congested_line_hours",
    "aidc_green_certified_mwh",
    "aidc_profit_cny",
    "provider_profit_cny",
    "emissions_t",
    "token_compute_cost_cny",
    "token_energy_cost_cny",
    "token_storage_cost_cny",
    "token_green_cost_cny",
    "token_operations_cost_cny",
    "token_gpu_capital_cny",
    "token_revenue_cny",
    "gpus_flexible",
    "onsite_storage_mwh",
    "storage_gpu_hours",
    "tight_zone_hours",
    "gpu_order_wait_days",
    "providers_below_cost",
    "provider_markup_median",
)
# ... and the order of the daily table, whose power columns are derived from the hourly rows in bulk.
DAILY_COLUMNS = (
    "token_price_cny_per_mtok",
    "compute_price_cny_per_gpu_hour",
    "compute_peak_price_cny_per_gpu_hour",
    "compute_offpeak_price_cny_per_gpu_hour",
    "compute_contract_price_cny_per_gpu_hour",
    "power_price_cny_per_mwh",
    "tokens_demanded_mtok",
    "tokens_served_mtok",
    "tokens_unserved_mtok",
    "unserved_share",
    "gpus_online",
    "gpus_mothballed",
    "gpus_in_pipeline",
    "gpus_ordered",
    "gpus_retired",
    "gpu_order_wait_days",
    "gpus_flexible",
    "gpu_utilization",
    "peak_gpu_utilization",
    "compute_sold_gpu_hours",
    "compute_sold_share",
    "training_gpu_hours",
    "compute_topped_up_gpu_hours",
    "aidc_energy_mwh",
    "aidc_green_share",
    "aidc_green_certified_share",
    "green_share",
    "power_spread_cny_per_mwh",
    "storage_energy_mwh",
    "storage_soc_mwh",
    "storage_throughput_mwh",
    "onsite_storage_mwh",
    "storage_gpu_hours",
    "tight_zone_hours",
    "curtailment_mwh",
    "power_unserved_mwh",
    "emissions_t",
    "generation_capacity_mw",
    "congested_line_hours",
    "aidc_profit_cny",
    "provider_profit_cny",
    "providers_below_cost",
    "provider_markup_median",
    "token_unit_cost_cny_per_mtok",
    "token_cost_energy_cny_per_mtok",
    "token_cost_storage_cny_per_mtok",
    "token_cost_green_cny_per_mtok",
    "token_cost_operations_cny_per_mtok",
    "token_cost_gpu_capital_cny_per_mtok",
    "token_cost_compute_rent_cny_per_mtok",
    "token_margin_cny_per_mtok",
)
HOURLY_COLUMNS = (
    "price_cny_per_mwh",
    "load_mw",
    "aidc_load_mw",
    "background_load_mw",
    "flexible_load_served_mw",
    *(f"generation_{t}_mw" for t in TECHS),
    "curtailment_mw",
    "storage_charge_mw",
    "storage_discharge_mw",
    "net_import_mw",
    "unserved_mw",
    "spill_mw",
    "green_supply_mw",
)
AGENT_COLUMNS = (
    "cash_cny",
    "revenue_cny",
    "cost_cny",
    "profit_cny",
    "capex_cny",
    "noncash_cost_cny",
    "tokens_mtok",
    "price_cny_per_mtok",
    "unit_cost_cny_per_mtok",
    "gpus",
    "gpu_hours",
    "ask_cny_per_gpu_hour",
    "markup",
    "utilization",
    "capacity_mw",
    "soc_mwh",
)


class _Table:
    """One table's numbers, a (n_columns, rows_per_day) block per day, days one after the other in memory so that
    a day's block is filled in one place; grows by doubling."""

    def __init__(self, names: tuple[str, ...], rows_per_day: int, days: int):
        self.names = names
        self.rows_per_day = rows_per_day
        self.data = np.zeros((max(days, 1), len(names), rows_per_day))
        self.days = 0
        self.day = np.zeros(self.data.shape[0], dtype=np.int64)  # simulated day of each block
        self.index = {n: i for i, n in enumerate(names)}

    def reserve(self, days: int) -> None:
        """Room for ``days`` days in all (so that a long run grows the table at most once, up front)."""
        if days > self.data.shape[0]:
            grow = days - self.data.shape[0]
            self.data = np.concatenate([self.data, np.zeros((grow,) + self.data.shape[1:])])
            self.day = np.concatenate([self.day, np.zeros(grow, dtype=np.int64)])

    def next_block(self, day: int) -> np.ndarray:
        """The (n_columns, rows_per_day) block of ``day``, all zeros, to be filled in place."""
        if self.days == self.data.shape[0]:
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
            self.day = np.concatenate([self.day, np.zeros_like(self.day)])
        self.day[self.days] = day
        block = self.data[self.days]
        self.days += 1
        return block

    def column(self, name: str) -> np.ndarray:
        """(days, rows_per_day) values of one column (a view)."""
        return self.data[: self.days, self.index[name]]

    def row_days(self) -> np.ndarray:
        """The simulated day of every row."""
        return np.repeat(self.day[: self.days], self.rows_per_day)


class Recorder:
    def __init__(
        self,
        start_date: dt.date,
        zone_names: list[str],
        agent_ids: np.ndarray,
        agent_names: list[str],
        agent_kinds: list[str],
        days: int,
    ):
        self.start_date = start_date
        self.zone_names = zone_names
        self.agent_ids = agent_ids
        self.agent_names = agent_names
        self.agent_kinds = agent_kinds
        nz = len(zone_names)
        self.daily = _Table(RAW_DAILY_COLUMNS, 1, days)
        self.hourly = _Table(HOURLY_COLUMNS, 24 * nz, days)
        self.agents = _Table(AGENT_COLUMNS, len(agent_ids), days)

    def reserve(self, days: int) -> None:
        """Room for ``days`` recorded days in all."""
        for table in (self.daily, self.hourly, self.agents):
            table.reserve(days)

    # -- collection -----------------------------------------------------------------------------------
    def collect(self, world: World, day: Day) -> None:
        """Record one simulated day of ``model``."""
        _record(
            world,
            day,
            self.daily.next_block(day.day)[:, 0],
            self.hourly.next_block(day.day).reshape(len(HOURLY_COLUMNS), 24, len(self.zone_names)),
            self.agents.next_block(day.day),
        )

    # -- tables ---------------------------------------------------------------------------------------
    def hourly_column(self, name: str) -> np.ndarray:
        """(days, Z, 24) values of one hourly column."""
        return self.hourly.column(name).reshape(-1, 24, len(self.zone_names)).transpose(0, 2, 1)

    def _dates(self, days: np.ndarray) -> pd.Series:
        base = np.datetime64(self.start_date, "D")
        return pd.Series(base + days.astype("timedelta64[D]"), name="date")

    def daily_frame(self) -> pd.DataFrame:
        c = self.daily
        n = c.days
        days = c.day[:n]
        raw = {name: c.data[:n, i, 0] for i, name in enumerate(c.names)}
        per_day = {name: self.hourly_column(name) for name in HOURLY_COLUMNS}  # each (days, Z, 24)
        price = per_day["price_cny_per_mwh"]
        demand = per_day["load_mw"] + per_day["flexible_load_served_mw"] + per_day["storage_charge_mw"]
        total = demand.sum(axis=(1, 2))
        gen = np.stack([per_day[f"generation_{t}_mw"] for t in TECHS])  # (T, days, Z, 24)
        gen_all = gen.sum(axis=0)
        green = gen[[TECHS.index(t) for t in GREEN_TECHS]].sum(axis=0)
        local = gen_all + per_day["storage_discharge_mw"]
        green_z = np.divide(per_day["green_supply_mw"], local, out=np.zeros_like(local), where=local > 0)
        aidc = per_day["aidc_load_mw"]
        aidc_energy = aidc.sum(axis=(1, 2))
        aidc_green = (aidc * np.minimum(green_z, 1.0)).sum(axis=(1, 2))
        gen_total = gen_all.sum(axis=(1, 2))
        installed = (raw["gpus_online"] + raw["gpus_mothballed"]) * 24.0

        def share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.divide(a, b, out=np.zeros(n), where=b > 0)

        served = raw["tokens_served_mtok"]
        chain = sum(
            raw[k]
            for k in (
                "token_energy_cost_cny",
                "token_storage_cost_cny",
                "token_green_cost_cny",
                "token_operations_cost_cny",
                "token_gpu_capital_cny",
            )
        )
        derived = {
            "power_price_cny_per_mwh": np.divide(
                (price * demand).sum(axis=(1, 2)), total, out=price.mean(axis=(1, 2)), where=total > 0
            ),
            "unserved_share": share(raw["tokens_unserved_mtok"], raw["tokens_demanded_mtok"]),
            "gpu_utilization": share(raw["busy_gpu_hours"], installed),
            "peak_gpu_utilization": share(raw["peak_busy_gpus"] * 24.0, installed),
            "compute_sold_share": share(raw["compute_sold_gpu_hours"], installed),
            "aidc_energy_mwh": aidc_energy,
            "aidc_green_share": share(aidc_green, aidc_energy),
            "aidc_green_certified_share": np.minimum(
                share(aidc_green + raw["aidc_green_certified_mwh"], aidc_energy), 1.0
            ),
            "green_share": share(green.sum(axis=(1, 2)), gen_total),
            # peak-valley spread: the 4 dearest hours less the 4 cheapest, what a 4-hour battery can arbitrage
            "power_spread_cny_per_mwh": _peak_valley(price, 4).mean(axis=1),
            "storage_throughput_mwh": per_day["storage_discharge_mw"].sum(axis=(1, 2)),
            "curtailment_mwh": per_day["curtailment_mw"].sum(axis=(1, 2)),
            "power_unserved_mwh": per_day["unserved_mw"].sum(axis=(1, 2)),
            "token_unit_cost_cny_per_mtok": share(raw["token_compute_cost_cny"], served),
            "token_cost_energy_cny_per_mtok": share(raw["token_energy_cost_cny"], served),
            "token_cost_storage_cny_per_mtok": share(raw["token_storage_cost_cny"], served),
            "token_cost_green_cny_per_mtok": share(raw["token_green_cost_cny"], served),
            "token_cost_operations_cny_per_mtok": share(raw["token_operations_cost_cny"], served),
            "token_cost_gpu_capital_cny_per_mtok": share(raw["token_gpu_capital_cny"], served),
            "token_cost_compute_rent_cny_per_mtok": share(raw["token_compute_cost_cny"] - chain, served),
            "token_margin_cny_per_mtok": share(raw["token_revenue_cny"] - raw["token_compute_cost_cny"], served),
        }
        columns = {"date": self._dates(days), "day": days}
        for name in DAILY_COLUMNS:
            columns[name] = derived[name] if name in derived else raw[name]
        return pd.DataFrame(columns)

    def hourly_frame(self) -> pd.DataFrame:
        c = self.hourly
        days = c.row_days()
        nz = len(self.zone_names)
        reps = c.days if nz else 0
        # stored hour by hour within a day; the table lists each zone's 24 hours in turn
        zone = np.tile(np.repeat(np.arange(nz), 24), reps)
        hour = np.tile(np.arange(24), nz * reps)
        columns = {
            "date": self._dates(days),
            "day": days,
            "hour": hour,
            "zone": pd.Categorical.from_codes(zone, categories=self.zone_names),
        }
        for name in c.names:
            columns[name] = self.hourly_column(name).ravel()
        return pd.DataFrame(columns)

    def agents_frame(self) -> pd.DataFrame:
        c = self.agents
        days = c.row_days()
        n = len(self.agent_ids)
        reps = c.days if n else 0
        kinds = sorted(set(self.agent_kinds))
        names = list(dict.fromkeys(self.agent_names))
        name_code = {n: i for i, n in enumerate(names)}  # (a dict: a list's index() would make this N^2)
        kind_code = {k: i for i, k in enumerate(kinds)}
        columns = {
            "date": self._dates(days),
            "day": days,
            "agent_id": np.tile(self.agent_ids, reps),
            "name": pd.Categorical.from_codes(np.tile([name_code[n] for n in self.agent_names], reps), names),
            "kind": pd.Categorical.from_codes(np.tile([kind_code[k] for k in self.agent_kinds], reps), kinds),
        }
        for name in c.names:
            columns[name] = c.column(name).ravel()
        return pd.DataFrame(columns)


def _peak_valley(price: np.ndarray, hours: int) -> np.ndarray:
    """(days, Z) mean of each zone-day's ``hours`` dearest hourly prices less the mean of its cheapest."""
    ordered = np.sort(price, axis=2)
    return ordered[:, :, -hours:].mean(axis=2) - ordered[:, :, :hours].mean(axis=2)


def _record(world: World, day: Day, row: np.ndarray, hourly: np.ndarray, agents: np.ndarray) -> None:
    """The day's daily ``row``, its (n_columns, 24, Z) ``hourly`` block and its (n_columns, n_agents) ``agents``
    block, filled in one kernel call (one call, and one kernel to load, instead of three)."""
    compute, tokens, power, costs = day.compute, day.tokens, day.power, day.aidc_costs
    aidcs, store, util, prov = world.aidcs, world.storage, world.utilities, world.providers
    led, sl, green, contracts = world.ledger, world.kind_slice, world.green, world.contracts
    row[_COMPUTE_PRICE] = compute.price_cny_per_gpu_hour
    row[_IN_PIPELINE] = aidcs.pipeline.total() + aidcs.vendors.backlog()  # GPUs ordered, not yet in service
    row[_ORDERED] = world.gpus_ordered_today
    per_month = world.data["compute"]["gpu_deliveries_per_month"]
    wait = aidcs.vendors.quoted_wait_days(0.0, per_month)
    row[_WAIT] = wait if math.isfinite(wait) else 0.0  # vendors who make nothing a day quote no wait (documented)
    _record_kernel(
        row,
        hourly,
        agents,
        # the daily row
        tokens.served_by_provider,
        tokens.price,
        (compute.flow, compute.links.ptr, compute.links.seller, compute.links.cell),  # GPU-hours per buyer-AIDC pair
        compute.aidc_price,
        tokens.demand,
        tokens.unserved,
        aidcs.gpus,
        aidcs.mothballed,
        aidcs.retired_today,
        aidcs.scrapped_today,
        compute.busy,
        compute.sold,
        compute.top_up_gpu_hours,
        store.params["energy_mwh"],
        store.soc_mwh,
        util.unit_capacity_mw,
        util.emissions,
        power.gen_tech,
        power.line_flow,
        world.line_params["limit_mw"],
        green.certified_mwh,
        led.revenue_today,
        led.cost_today,
        sl["aidc"].start,
        sl["provider"].start,
        compute.payment,
        compute.contract_provider,
        compute.contract_payment,
        contracts.qty,
        contracts.price,
        costs.operations,
        costs.fixed,
        aidcs.cohort_owner,
        aidcs.cohort_gpus,
        aidcs.cohort_capex,
        aidcs.capital_recovery_factor(),
        costs.certificates,
        costs.firming,
        costs.batteries,
        power.aidc_bill,
        power.storage_share,
        aidcs.flexible_gpus,
        aidcs.backing_mwh,
        aidcs.battery_gpu_hours,
        aidcs.tight,
        prov.unit_cost,
        # the hourly block
        power.price,
        power.load,
        power.aidc_zone_load,
        power.background,
        power.flex_served,
        power.curtail,
        power.charge_z,
        power.discharge_z,
        power.net_import,
        power.unserved,
        power.spill,
        power.green_supply,
        # the agents' block
        led.balance,
        led.capital_today,
        led.noncash_today,
        sl["app"].start,
        world.apps.served_mtok,
        sl["enterprise"].start,
        world.enterprises.served_mtok,
        prov.price,
        prov.bought_gpu_hours,
        prov.topped_up_gpu_hours,
        prov.params["mtok_per_gpu_hour"],
        sl["lab"].start,
        aidcs.ask_mid,
        aidcs.markup,
        aidcs.busy_gpus,
        sl["utility"].start,
        util.markup,
        util.unit_owner,
        sl["storage"].start,
        store.params["power_mw"],
    )


@njit(cache=True)
def _record_kernel(
    row,
    hourly,
    agents,
    served_by_provider,
    token_price,
    pairs,
    aidc_price,
    demand,
    unserved,
    gpus,
    mothballed,
    retired,
    scrapped,
    busy,
    sold,
    top_up_gpu_hours,
    storage_energy,
    soc,
    unit_capacity,
    emissions,
    gen_tech,
    line_flow,
    line_limit,
    certified,
    revenue_today,
    cost_today,
    aidc0,
    prov0,
    payment,
    contract_provider,
    contract_payment,
    contract_qty,
    contract_price,
    variable_operations,
    fixed_operations,
    cohort_owner,
    cohort_gpus,
    cohort_capex,
    crf,
    certificates,
    firming_by_supplier,
    batteries_by_supplier,
    aidc_bill,
    storage_share,
    flexible_gpus,
    backing_mwh,
    battery_gpu_hours,
    tight,
    unit_cost,
    price,
    load,
    aidc_zone_load,
    background,
    flex_served,
    curtail,
    charge,
    discharge,
    net_import,
    power_unserved,
    spill,
    green_supply,
    balance,
    capital_today,
    noncash_today,
    app0,
    app_served,
    ent0,
    ent_served,
    provider_price,
    bought,
    topped,
    eff,
    lab0,
    ask_mid,
    aidc_markup,
    busy_gpus,
    util0,
    util_markup,
    unit_owner,
    store0,
    power_mw,
):
    """:func:`_daily_kernel`, :func:`_hourly_kernel` and :func:`_agent_kernel`, and the daily row's sums of the
    AIDCs' flexible connections and the providers' markups over cost, in one call."""
    _daily_kernel(
        row,
        served_by_provider,
        token_price,
        pairs,
        aidc_price,
        demand,
        unserved,
        gpus,
        mothballed,
        retired,
        scrapped,
        busy,
        sold,
        top_up_gpu_hours,
        storage_energy,
        soc,
        unit_capacity,
        emissions,
        gen_tech,
        line_flow,
        line_limit,
        certified,
        revenue_today,
        cost_today,
        aidc0,
        prov0,
        payment,
        contract_provider,
        contract_payment,
        contract_qty,
        contract_price,
        variable_operations,
        fixed_operations,
        cohort_owner,
        cohort_gpus,
        cohort_capex,
        crf,
        certificates,
        firming_by_supplier,
        batteries_by_supplier,
        aidc_bill,
        storage_share,
    )
    row[_FLEXIBLE] = psum(flexible_gpus)
    row[_ONSITE] = psum(backing_mwh)
    row[_BATTERY_GPU_HOURS] = psum(battery_gpu_hours)
    tight_hours = 0  # hours tight somewhere an AIDC is
    for h in range(tight.shape[1]):
        for a in range(tight.shape[0]):
            if tight[a, h]:
                tight_hours += 1
                break
    row[_TIGHT] = tight_hours
    below, middle = _markup_median(provider_price, unit_cost)
    row[_BELOW_COST] = below
    row[_MARKUP_MEDIAN] = middle - 1.0
    _hourly_kernel(
        hourly,
        price,
        load,
        aidc_zone_load,
        background,
        flex_served,
        gen_tech,
        curtail,
        charge,
        discharge,
        net_import,
        power_unserved,
        spill,
        green_supply,
    )
    _agent_kernel(
        agents,
        balance,
        revenue_today,
        cost_today,
        capital_today,
        noncash_today,
        app0,
        app_served,
        ent0,
        ent_served,
        prov0,
        served_by_provider,
        provider_price,
        unit_cost,
        bought,
        topped,
        eff,
        lab0,
        pairs,
        aidc0,
        gpus,
        sold,
        ask_mid,
        aidc_markup,
        busy_gpus,
        util0,
        util_markup,
        unit_owner,
        unit_capacity,
        store0,
        power_mw,
        soc,
    )


@njit(cache=True)
def _markup_median(price, unit_cost):
    """How many providers price below their unit cost, and the median of price / unit cost over the providers with
    a cost (1 if none has one yet: a NaN cost is no cost), as ``np.sort`` and the middle of the sorted ratios."""
    ratio = np.empty(price.size)
    n = 0
    for p in range(price.size):
        if unit_cost[p] > 0.0:
            ratio[n] = price[p] / unit_cost[p]
            n += 1
    below = 0
    for i in range(n):  # insertion sort, NaN last (as numpy sorts)
        x = ratio[i]
        if x < 1.0:
            below += 1
        j = i
        while j > 0 and (ratio[j - 1] > x or (ratio[j - 1] != ratio[j - 1] and x == x)):
            ratio[j] = ratio[j - 1]
            j -= 1
        ratio[j] = x
    middle = 0.5 * (ratio[(n - 1) // 2] + ratio[n // 2]) if n else 1.0
    return float(below), middle


(
    _TOKEN_PRICE,
    _COMPUTE_PRICE,
    _PEAK_PRICE,
    _OFFPEAK_PRICE,
    _CONTRACT_PRICE,
    _DEMANDED,
    _SERVED,
    _UNSERVED,
    _ONLINE,
    _MOTHBALLED,
    _IN_PIPELINE,
    _ORDERED,
    _RETIRED,
    _BUSY,
    _PEAK_BUSY,
    _SOLD,
    _TRAINING,
    _TOPPED_UP,
    _STORAGE_ENERGY,
    _STORAGE_SOC,
    _GENERATION_CAPACITY,
    _CONGESTED,
    _CERTIFIED,
    _AIDC_PROFIT,
    _PROVIDER_PROFIT,
    _EMISSIONS,
    _COMPUTE_COST,
    _ENERGY_COST,
    _STORAGE_COST,
    _GREEN_COST,
    _OPERATIONS_COST,
    _CAPITAL_COST,
    _REVENUE,
    _FLEXIBLE,
    _ONSITE,
    _BATTERY_GPU_HOURS,
    _TIGHT,
    _WAIT,
    _BELOW_COST,
    _MARKUP_MEDIAN,
) = range(len(RAW_DAILY_COLUMNS))


@njit(cache=True)
def _daily_kernel(  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    row,
    served_by_provider,
    token_price,
    pairs,
    aidc_price,
    demand,
    unserved,
    gpus,
    mothballed,
    retired,
    scrapped,
    busy,
    sold,
    top_up_gpu_hours,
    storage_energy,
    soc,
    unit_capacity,
    emissions,
    gen_tech,
    line_flow,
    line_limit,
    certified,
    revenue_today,
    cost_today,
    aidc0,
    prov0,
    payment,
    contract_provider,
    contract_payment,
    contract_qty,
    contract_price,
    variable_operations,
    fixed_operations,
    cohort_owner,
    cohort_gpus,
    cohort_capex,
    crf,
    certificates,
    firming_by_supplier,
    batteries_by_supplier,
    aidc_bill,
    storage_share,
):
    """The day's row, summed in numpy's order (dot products by BLAS, as numpy's).  ``pairs`` holds the GPU-hours of
    the buyer-AIDC pairs that can trade (E, 24), and the pairs (:class:`abm.links.TradeLinks`' ``ptr``, ``seller``,
    ``cell``): every sum over them runs in numpy's order over the (B, A, 24) table, whose zeros add nothing."""
    flow, pair_ptr, pair_aidc, pair_cell = pairs
    n_buyers, n_aidcs, hours = pair_ptr.size - 1, aidc_price.shape[0], flow.shape[1]
    n_prov = token_price.size
    served_p = np.empty(n_prov)
    for p in range(n_prov):
        served_p[p] = psum(served_by_provider[p])
    served = psum(served_p)
    row[_SERVED] = served
    revenue = np.dot(served_p, token_price)
    row[_REVENUE] = revenue
    row[_TOKEN_PRICE] = revenue / served if served > 0.0 else (psum(token_price) / n_prov if n_prov else 0.0)
    # hourly compute price paid: its dearest and cheapest hour
    peak, offpeak, priced = -np.inf, np.inf, False
    vols, paids = np.zeros(hours), np.zeros(hours)
    for b in range(n_buyers):  # (each hour's sums in buyer-AIDC order; the table walked in its own order)
        for e in range(pair_ptr[b], pair_ptr[b + 1]):
            a = pair_aidc[e]
            for h in range(hours):
                f = flow[e, h]
                vols[h] += f
                paids[h] += f * nan_to_zero(aidc_price[a, h])
    for h in range(hours):
        vol, paid = vols[h], paids[h]
        if vol > 0.0:
            priced = True
            peak = max(peak, paid / vol)
            offpeak = min(offpeak, paid / vol)
    if priced:
        row[_PEAK_PRICE] = peak
        row[_OFFPEAK_PRICE] = offpeak
    volume = np.empty(contract_qty.shape[0])
    for c in range(volume.size):
        volume[c] = psum(contract_qty[c])
    if volume.size and psum(volume) > 0.0:  # ContractBook.mean_price
        contract = np.dot(volume, contract_price) / psum(volume)
        row[_CONTRACT_PRICE] = contract if np.isfinite(contract) else 0.0
    row[_DEMANDED] = psum(demand)
    row[_UNSERVED] = psum(unserved.ravel())
    online = gpus - mothballed
    row[_ONLINE] = psum(online)
    row[_MOTHBALLED] = psum(mothballed)
    row[_RETIRED] = psum(retired) + psum(scrapped)
    row[_BUSY] = psum(busy.ravel())
    if n_aidcs:
        top = -np.inf
        for h in range(hours):
            s = 0.0
            for a in range(n_aidcs):
                s += busy[a, h]
            top = max(top, s)
        row[_PEAK_BUSY] = top
    row[_SOLD] = psum(sold.ravel())
    labs, cells = pair_ptr[n_prov] * hours, n_aidcs * hours  # the labs' pair-hours from ``labs`` on; a buyer's row
    row[_TRAINING] = psum_at(pair_cell[labs:], flow.ravel()[labs:], n_prov * cells, (n_buyers - n_prov) * cells)
    row[_TOPPED_UP] = top_up_gpu_hours
    if storage_energy.size:
        row[_STORAGE_ENERGY] = psum(storage_energy)
        row[_STORAGE_SOC] = psum(soc)
    row[_GENERATION_CAPACITY] = psum(unit_capacity)
    n_tech, _, n_zones = gen_tech.shape
    gen_by_tech = np.empty(n_tech)
    for t in range(n_tech):
        s = 0.0
        for h in range(hours):
            s += psum(gen_tech[t, h])
        gen_by_tech[t] = s
    row[_EMISSIONS] = np.dot(emissions, gen_by_tech)
    congested = 0
    for h in range(line_flow.shape[0]):
        for li in range(line_flow.shape[1]):
            if abs(line_flow[h, li]) >= line_limit[li] - 1e-6:
                congested += 1
    row[_CONGESTED] = congested
    row[_CERTIFIED] = psum(certified)
    profit = revenue_today - cost_today
    row[_AIDC_PROFIT] = psum(profit[aidc0 : aidc0 + n_aidcs])
    row[_PROVIDER_PROFIT] = psum(profit[prov0 : prov0 + n_prov])
    # what the served tokens cost along the chain: each AIDC's costs in the share of the GPU-hours it sold to
    # providers (psi); the rest of what providers paid is the AIDCs' rent (scarcity, or a loss in a glut)
    psi, operations, capital, firming = np.empty(n_aidcs), np.empty(n_aidcs), np.empty(n_aidcs), np.empty(n_aidcs)
    to_providers = np.zeros(n_aidcs)  # provider after provider
    for p in range(n_prov):
        for e in range(pair_ptr[p], pair_ptr[p + 1]):
            to_providers[pair_aidc[e]] += psum(flow[e])
    for a in range(n_aidcs):
        sold_a = psum(sold[a])
        psi[a] = to_providers[a] / sold_a if sold_a > 0.0 else 0.0
        operations[a] = variable_operations[a] + fixed_operations[a]
        capital[a] = 0.0
        s = 0.0
        for j in range(firming_by_supplier.shape[1]):
            s += firming_by_supplier[a, j] + batteries_by_supplier[a, j]
        firming[a] = s
    for c in range(cohort_owner.size):
        a = cohort_owner[c]
        capital[a] += cohort_gpus[c] * cohort_capex[c] * crf[a] / 365.0
    row[_COMPUTE_COST] = psum(provider_cost(payment, contract_provider, contract_payment, n_prov))
    energy = np.dot(psi, aidc_bill)
    row[_ENERGY_COST] = energy * (1.0 - storage_share)
    row[_STORAGE_COST] = energy * storage_share + np.dot(psi, firming)
    row[_GREEN_COST] = np.dot(psi, certificates)
    row[_OPERATIONS_COST] = np.dot(psi, operations)
    row[_CAPITAL_COST] = np.dot(psi, capital)


@njit(cache=True)
def _hourly_kernel(
    block,
    price,
    load,
    aidc_load,
    background,
    flex_served,
    gen_tech,
    curtail,
    charge,
    discharge,
    net_import,
    unserved,
    spill,
    green_supply,
):
    """Copy the day's (24, Z) arrays into its (n_columns, 24, Z) block, in the order of ``HOURLY_COLUMNS`` (element
    by element: numba's whole-array assignment is slower to call and much slower to load from the disk cache)."""
    n_tech = gen_tech.shape[0]
    for k, x in enumerate((price, load, aidc_load, background, flex_served)):
        _copy_2d(block, k, x)
    for t in range(n_tech):
        _copy_2d(block, 5 + t, gen_tech[t])
    for k, x in enumerate((curtail, charge, discharge, net_import, unserved, spill, green_supply)):
        _copy_2d(block, 5 + n_tech + k, x)


@njit(cache=True)
def _copy_2d(block, k, x):
    """``block[k] = x``, for (24, Z) arrays."""
    for h in range(x.shape[0]):
        for z in range(x.shape[1]):
            block[k, h, z] = x[h, z]


(
    _CASH,
    _AGENT_REVENUE,
    _AGENT_COST,
    _AGENT_PROFIT,
    _CAPEX,
    _NONCASH,
    _TOKENS,
    _PRICE,
    _UNIT_COST,
    _GPUS,
    _GPU_HOURS,
    _ASK,
    _MARKUP,
    _UTILIZATION,
    _CAPACITY,
    _SOC,
) = range(len(AGENT_COLUMNS))


@njit(cache=True)
def _agent_kernel(
    block,
    balance,
    revenue,
    cost,
    capital,
    noncash,
    app0,
    app_served,
    ent0,
    ent_served,
    prov0,
    served_by_provider,
    price,
    unit_cost,
    bought,
    topped,
    eff,
    lab0,
    pairs,
    aidc0,
    gpus,
    sold,
    ask_mid,
    aidc_markup,
    busy_gpus,
    util0,
    util_markup,
    unit_owner,
    unit_capacity,
    store0,
    power_mw,
    soc,
):
    n = block.shape[1]
    for i in range(n):
        block[_CASH, i] = balance[i]
        block[_AGENT_REVENUE, i] = revenue[i]
        block[_AGENT_COST, i] = cost[i]
        block[_AGENT_PROFIT, i] = revenue[i] - cost[i]
        block[_CAPEX, i] = capital[i]
        block[_NONCASH, i] = noncash[i]
    for i in range(app_served.size):
        block[_TOKENS, app0 + i] = app_served[i]
    for i in range(ent_served.size):
        block[_TOKENS, ent0 + i] = ent_served[i]
    n_prov = price.size
    both = np.empty(bought.shape[1])
    for p in range(n_prov):
        i = prov0 + p
        served = psum(served_by_provider[p])
        block[_TOKENS, i] = served
        block[_PRICE, i] = price[p]
        c = unit_cost[p]
        block[_UNIT_COST, i] = nan_to_zero(c)
        block[_MARKUP, i] = price[p] / c - 1.0 if c > 0.0 else 0.0
        for h in range(both.size):  # (a loop, not an array expression: the kernel loads faster from the disk cache)
            both[h] = bought[p, h] + topped[p, h]
        capacity = psum(both) * eff[p]
        block[_UTILIZATION, i] = served / capacity if capacity > 0.0 else 0.0
    flow, pair_ptr, _, pair_cell = pairs  # GPU-hours per buyer-AIDC pair (as in _daily_kernel)
    hours, row_cells = flow.shape[1], gpus.size * flow.shape[1]
    values = flow.ravel()
    for b in range(pair_ptr.size - 1):
        lo, hi = pair_ptr[b] * hours, pair_ptr[b + 1] * hours
        gpu_hours = psum_at(pair_cell[lo:hi], values[lo:hi], b * row_cells, row_cells)  # its row of the table
        block[_GPU_HOURS, (prov0 + b) if b < n_prov else (lab0 + b - n_prov)] = gpu_hours
    for a in range(gpus.size):
        i = aidc0 + a
        block[_GPUS, i] = gpus[a]
        block[_GPU_HOURS, i] = psum(sold[a])
        block[_ASK, i] = ask_mid[a]
        block[_MARKUP, i] = aidc_markup[a]
        block[_UTILIZATION, i] = psum(busy_gpus[a]) / (gpus[a] * 24.0) if gpus[a] > 0.0 else 0.0
    for u in range(util_markup.size):
        block[_MARKUP, util0 + u] = util_markup[u]
    for k in range(unit_owner.size):
        block[_CAPACITY, util0 + unit_owner[k]] += unit_capacity[k]
    for s in range(soc.size):
        block[_CAPACITY, store0 + s] = power_mw[s]
        block[_SOC, store0 + s] = soc[s]
