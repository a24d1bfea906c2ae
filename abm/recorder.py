"""Data collection into tidy tables: ``daily`` (model level), ``hourly`` (zone x hour) and ``agents``
(agent x day).  Rows go into preallocated numpy columns (growing by doubling), filled by column name, and
become pandas DataFrames only when asked for, which keeps collection off the hot path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from abm.results import Day
from agents.finance import capital_recovery_factor
from agents.technologies import GREEN_TECHS, TECHS

# Recorded each day as scalars ...
RAW_DAILY_COLUMNS = (
    "token_price_cny_per_mtok", "compute_price_cny_per_gpu_hour", "compute_peak_price_cny_per_gpu_hour",
    "compute_offpeak_price_cny_per_gpu_hour", "compute_contract_price_cny_per_gpu_hour",
    "tokens_demanded_mtok", "tokens_served_mtok", "tokens_unserved_mtok",
    "gpus_online", "gpus_mothballed", "gpus_in_pipeline", "gpus_ordered", "gpus_retired",
    "busy_gpu_hours", "peak_busy_gpus", "compute_sold_gpu_hours", "training_gpu_hours", "compute_topped_up_gpu_hours",
    "storage_energy_mwh", "storage_soc_mwh", "generation_capacity_mw", "congested_line_hours",
    "aidc_green_certified_mwh", "aidc_profit_cny", "provider_profit_cny", "emissions_t",
    "token_compute_cost_cny", "token_energy_cost_cny", "token_storage_cost_cny", "token_green_cost_cny",
    "token_operations_cost_cny", "token_gpu_capital_cny", "token_revenue_cny",
)
# ... and the order of the daily table, whose power columns are derived from the hourly rows in bulk.
DAILY_COLUMNS = (
    "token_price_cny_per_mtok", "compute_price_cny_per_gpu_hour", "compute_peak_price_cny_per_gpu_hour",
    "compute_offpeak_price_cny_per_gpu_hour", "compute_contract_price_cny_per_gpu_hour", "power_price_cny_per_mwh",
    "tokens_demanded_mtok", "tokens_served_mtok", "tokens_unserved_mtok", "unserved_share",
    "gpus_online", "gpus_mothballed", "gpus_in_pipeline", "gpus_ordered", "gpus_retired", "gpu_utilization",
    "peak_gpu_utilization",
    "compute_sold_gpu_hours", "compute_sold_share", "training_gpu_hours", "compute_topped_up_gpu_hours",
    "aidc_energy_mwh", "aidc_green_share", "aidc_green_certified_share", "green_share", "power_spread_cny_per_mwh",
    "storage_energy_mwh", "storage_soc_mwh", "storage_throughput_mwh", "curtailment_mwh",
    "power_unserved_mwh", "emissions_t", "generation_capacity_mw", "congested_line_hours",
    "aidc_profit_cny", "provider_profit_cny",
    "token_unit_cost_cny_per_mtok", "token_cost_energy_cny_per_mtok", "token_cost_storage_cny_per_mtok",
    "token_cost_green_cny_per_mtok", "token_cost_operations_cny_per_mtok", "token_cost_gpu_capital_cny_per_mtok",
    "token_cost_compute_rent_cny_per_mtok", "token_margin_cny_per_mtok",
)
HOURLY_COLUMNS = (
    "price_cny_per_mwh", "load_mw", "aidc_load_mw", "background_load_mw", "flexible_load_served_mw",
    *(f"generation_{t}_mw" for t in TECHS),
    "curtailment_mw", "storage_charge_mw", "storage_discharge_mw", "net_import_mw", "unserved_mw", "spill_mw",
    "green_supply_mw",
)
AGENT_COLUMNS = (
    "cash_cny", "revenue_cny", "cost_cny", "profit_cny", "capex_cny", "noncash_cost_cny", "tokens_mtok",
    "price_cny_per_mtok", "unit_cost_cny_per_mtok", "gpus", "gpu_hours", "ask_cny_per_gpu_hour", "markup",
    "utilization", "capacity_mw", "soc_mwh",
)


class _Columns:
    def __init__(self, names: tuple[str, ...], rows_per_day: int, days: int):
        self.names = names
        self.rows_per_day = rows_per_day
        self.data = np.zeros((len(names), max(days, 1) * rows_per_day))
        self.day = np.zeros(self.data.shape[1], dtype=np.int64)
        self.n = 0
        self.index = {n: i for i, n in enumerate(names)}

    def next_rows(self, day: int) -> np.ndarray:
        """The (n_columns, rows_per_day) block of ``day``, all zeros, to be filled in place."""
        end = self.n + self.rows_per_day
        if end > self.data.shape[1]:
            grow = max(self.data.shape[1], self.rows_per_day)
            self.data = np.concatenate([self.data, np.zeros((len(self.names), grow))], axis=1)
            self.day = np.concatenate([self.day, np.zeros(grow, dtype=np.int64)])
        self.day[self.n:end] = day
        block = self.data[:, self.n:end]
        self.n = end
        return block


class _Row:
    """A day's block of one table, filled by column name (entries left alone stay 0)."""

    __slots__ = ("_block", "_index")

    def __init__(self, block: np.ndarray, index: dict[str, int]):
        self._block = block
        self._index = index

    def __setitem__(self, name: str, value) -> None:
        self._block[self._index[name]] = value

    def __getitem__(self, name: str) -> np.ndarray:
        return self._block[self._index[name]]


class Recorder:
    def __init__(self, start_date: dt.date, zone_names: list[str], agent_ids: np.ndarray,
                 agent_names: list[str], agent_kinds: list[str], days: int):
        self.start_date = start_date
        self.zone_names = zone_names
        self.agent_ids = agent_ids
        self.agent_names = agent_names
        self.agent_kinds = agent_kinds
        nz = len(zone_names)
        self.daily = _Columns(RAW_DAILY_COLUMNS, 1, days)
        self.hourly = _Columns(HOURLY_COLUMNS, nz * 24, days)
        self.agents = _Columns(AGENT_COLUMNS, len(agent_ids), days)

    def next_day(self, day: int) -> tuple[_Row, _Row, _Row]:
        """Rows to fill with one day's data, by column name, in place: daily (scalars), hourly ((24, Z) per
        column) and agents ((n_agents,) per column)."""
        hourly = self.hourly.next_rows(day).reshape(len(HOURLY_COLUMNS), 24, len(self.zone_names))
        return (_Row(self.daily.next_rows(day)[:, 0], self.daily.index), _Row(hourly, self.hourly.index),
                _Row(self.agents.next_rows(day), self.agents.index))

    # -- collection -----------------------------------------------------------------------------------
    def collect(self, model: Any, day: Day) -> None:
        """Record one simulated day of ``model``."""
        daily, hourly, agents = self.next_day(day.day)
        _daily_row(model, day, daily)
        _hourly_row(day, hourly)
        _agent_rows(model, day, agents)

    # -- tables ---------------------------------------------------------------------------------------
    def hourly_column(self, name: str) -> np.ndarray:
        """(days, Z, 24) values of one hourly column."""
        h = self.hourly
        values = h.data[h.index[name], : h.n]
        return values.reshape(-1, 24, len(self.zone_names)).transpose(0, 2, 1)

    def _dates(self, days: np.ndarray) -> pd.Series:
        base = np.datetime64(self.start_date, "D")
        return pd.Series(base + days.astype("timedelta64[D]"), name="date")

    def daily_frame(self) -> pd.DataFrame:
        c = self.daily
        n = c.n
        days = c.day[:n]
        raw = {name: c.data[i, :n] for i, name in enumerate(c.names)}
        per_day = {name: self.hourly_column(name) for name in HOURLY_COLUMNS}  # each (days, Z, 24)
        price = per_day["price_cny_per_mwh"]
        demand = per_day["load_mw"] + per_day["flexible_load_served_mw"] + per_day["storage_charge_mw"]
        total = demand.sum(axis=(1, 2))
        gen = np.stack([per_day[f"generation_{t}_mw"] for t in TECHS])          # (T, days, Z, 24)
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
        chain = sum(raw[k] for k in ("token_energy_cost_cny", "token_storage_cost_cny", "token_green_cost_cny",
                                     "token_operations_cost_cny", "token_gpu_capital_cny"))
        derived = {
            "power_price_cny_per_mwh": np.divide((price * demand).sum(axis=(1, 2)), total,
                                                 out=price.mean(axis=(1, 2)), where=total > 0),
            "unserved_share": share(raw["tokens_unserved_mtok"], raw["tokens_demanded_mtok"]),
            "gpu_utilization": share(raw["busy_gpu_hours"], installed),
            "peak_gpu_utilization": share(raw["peak_busy_gpus"] * 24.0, installed),
            "compute_sold_share": share(raw["compute_sold_gpu_hours"], installed),
            "aidc_energy_mwh": aidc_energy,
            "aidc_green_share": share(aidc_green, aidc_energy),
            "aidc_green_certified_share": np.minimum(share(aidc_green + raw["aidc_green_certified_mwh"], aidc_energy),
                                                     1.0),
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
        frame = pd.DataFrame({"date": self._dates(days), "day": days})
        for name in DAILY_COLUMNS:
            frame[name] = derived[name] if name in derived else raw[name]
        return frame

    def hourly_frame(self) -> pd.DataFrame:
        c = self.hourly
        days = c.day[: c.n]
        nz = len(self.zone_names)
        reps = c.n // (nz * 24) if nz else 0
        # stored hour by hour within a day; the table lists each zone's 24 hours in turn
        zone = np.tile(np.repeat(np.arange(nz), 24), reps)
        hour = np.tile(np.arange(24), nz * reps)
        frame = pd.DataFrame({"date": self._dates(days), "day": days, "hour": hour,
                              "zone": pd.Categorical.from_codes(zone, categories=self.zone_names)})
        for name in c.names:
            frame[name] = self.hourly_column(name).ravel()
        return frame

    def agents_frame(self) -> pd.DataFrame:
        c = self.agents
        days = c.day[: c.n]
        n = len(self.agent_ids)
        reps = c.n // n if n else 0
        kinds = sorted(set(self.agent_kinds))
        frame = pd.DataFrame({
            "date": self._dates(days), "day": days,
            "agent_id": np.tile(self.agent_ids, reps),
            "name": pd.Categorical(np.tile(np.array(self.agent_names, dtype=object), reps),
                                   categories=list(dict.fromkeys(self.agent_names))),
            "kind": pd.Categorical(np.tile(np.array(self.agent_kinds, dtype=object), reps), categories=kinds),
        })
        for i, name in enumerate(c.names):
            frame[name] = c.data[i, : c.n]
        return frame


def _peak_valley(price: np.ndarray, hours: int) -> np.ndarray:
    """(days, Z) mean of each zone-day's ``hours`` dearest hourly prices less the mean of its cheapest."""
    ordered = np.sort(price, axis=2)
    return ordered[:, :, -hours:].mean(axis=2) - ordered[:, :, :hours].mean(axis=2)


def _daily_row(model: Any, day: Day, row: _Row) -> None:
    compute, tokens, power = day.compute, day.tokens, day.power
    prov, aidcs, store, util, labs = model.providers, model.aidcs, model.storage, model.utilities, model.labs
    served_p = tokens.served_by_provider.sum(axis=1)
    served = float(served_p.sum())
    revenue = float(served_p @ tokens.price)
    row["token_price_cny_per_mtok"] = revenue / served if served > 0 else (float(tokens.price.mean()) if prov.n
                                                                             else 0.0)
    row["compute_price_cny_per_gpu_hour"] = compute.price_cny_per_gpu_hour
    volume_h = compute.flow.sum(axis=(0, 1))
    paid_h = np.einsum("bah,ah->h", compute.flow, np.nan_to_num(compute.aidc_price, nan=0.0))
    hourly_price = np.divide(paid_h, volume_h, out=np.full(24, np.nan), where=volume_h > 0)
    if np.isfinite(hourly_price).any():
        row["compute_peak_price_cny_per_gpu_hour"] = float(np.nanmax(hourly_price))
        row["compute_offpeak_price_cny_per_gpu_hour"] = float(np.nanmin(hourly_price))
    contract = model.contracts.mean_price()
    row["compute_contract_price_cny_per_gpu_hour"] = contract if np.isfinite(contract) else 0.0
    row["tokens_demanded_mtok"] = float(tokens.demand.sum())
    row["tokens_served_mtok"] = served
    row["tokens_unserved_mtok"] = float(tokens.unserved.sum())
    row["gpus_online"] = float(aidcs.online.sum())
    row["gpus_mothballed"] = float(aidcs.mothballed.sum())
    row["gpus_in_pipeline"] = float(aidcs.pipeline_gpus().sum())
    row["gpus_ordered"] = model.gpus_ordered_today
    row["gpus_retired"] = float(aidcs.retired_today.sum() + aidcs.scrapped_today.sum())
    row["busy_gpu_hours"] = float(compute.busy.sum())
    row["peak_busy_gpus"] = float(compute.busy.sum(axis=0).max()) if aidcs.n else 0.0
    row["compute_sold_gpu_hours"] = float(compute.sold.sum())
    row["training_gpu_hours"] = float(compute.flow[prov.n:].sum())
    row["compute_topped_up_gpu_hours"] = float(compute.top_up_flow.sum())
    if store.n:
        row["storage_energy_mwh"] = float(store.params["energy_mwh"].sum())
        row["storage_soc_mwh"] = float(store.soc_mwh.sum())
    row["generation_capacity_mw"] = float(util.unit_capacity_mw.sum())
    row["emissions_t"] = float(util.emissions @ power.gen_tech.sum(axis=(1, 2)))
    if model.line_names:
        row["congested_line_hours"] = float(np.count_nonzero(
            np.abs(power.line_flow) >= model.line_params["limit_mw"] - 1e-6))
    row["aidc_green_certified_mwh"] = float(model.green.certified_mwh.sum())
    led, sl = model.ledger, model.kind_slice
    profit = led.revenue_today - led.cost_today
    row["aidc_profit_cny"] = float(profit[sl["aidc"]].sum())
    row["provider_profit_cny"] = float(profit[sl["provider"]].sum())
    # what the served tokens cost along the chain (CNY): each AIDC's costs in the share of the GPU-hours it
    # sold to providers; the rest of what providers paid is the AIDCs' rent (scarcity, or a loss in a glut)
    sold = compute.sold.sum(axis=1)
    to_providers = compute.flow[: prov.n].sum(axis=(0, 2))
    psi = np.divide(to_providers, sold, out=np.zeros(aidcs.n), where=sold > 0)
    certificates, firming = model.green.payments(model.data["policy"]["green_certificate_cny_per_mwh"])
    energy = power.aidc_bill
    operations = aidcs.busy_gpus.sum(axis=1) * aidcs.params["om_cny_per_gpu_hour"] + aidcs.fixed_costs()
    life = aidcs.params["life_years"][aidcs.cohort_owner]
    crf = capital_recovery_factor(aidcs.params["hurdle"][aidcs.cohort_owner], life)
    capital = np.bincount(aidcs.cohort_owner, aidcs.cohort_gpus * aidcs.cohort_capex * crf / 365.0,
                          minlength=aidcs.n)
    row["token_energy_cost_cny"] = float(psi @ energy) * (1.0 - power.storage_share)
    row["token_storage_cost_cny"] = float(psi @ energy) * power.storage_share + float(psi @ firming.sum(axis=1))
    row["token_green_cost_cny"] = float(psi @ certificates)
    row["token_operations_cost_cny"] = float(psi @ operations)
    row["token_gpu_capital_cny"] = float(psi @ capital)
    row["token_compute_cost_cny"] = float(compute.provider_cost.sum())
    row["token_revenue_cny"] = revenue
    del labs


def _hourly_row(day: Day, row: _Row) -> None:
    power = day.power
    for name, value in (("price_cny_per_mwh", power.price), ("load_mw", power.load),
                        ("aidc_load_mw", power.aidc_zone_load), ("background_load_mw", power.background),
                        ("flexible_load_served_mw", power.flex_served), ("curtailment_mw", power.curtail),
                        ("storage_charge_mw", power.charge_z), ("storage_discharge_mw", power.discharge_z),
                        ("net_import_mw", power.net_import), ("unserved_mw", power.unserved),
                        ("spill_mw", power.spill), ("green_supply_mw", power.green_supply)):
        row[name] = value
    for t, tech in enumerate(TECHS):
        row[f"generation_{tech}_mw"] = power.gen_tech[t]


def _agent_rows(model: Any, day: Day, row: _Row) -> None:
    compute, tokens = day.compute, day.tokens
    led, sl = model.ledger, model.kind_slice
    prov, aidcs, util, store, labs = model.providers, model.aidcs, model.utilities, model.storage, model.labs
    n = led.n_agents
    row["cash_cny"] = led.balance[:n]
    row["revenue_cny"] = led.revenue_today[:n]
    row["cost_cny"] = led.cost_today[:n]
    row["profit_cny"] = led.revenue_today[:n] - led.cost_today[:n]
    row["capex_cny"] = led.capital_today[:n]
    row["noncash_cost_cny"] = led.noncash_today[:n]
    served_p = tokens.served_by_provider.sum(axis=1)
    tokens_col = row["tokens_mtok"]
    tokens_col[sl["app"]] = model.apps.served_mtok
    tokens_col[sl["enterprise"]] = model.enterprises.served_mtok
    tokens_col[sl["provider"]] = served_p
    row["price_cny_per_mtok"][sl["provider"]] = prov.price
    row["unit_cost_cny_per_mtok"][sl["provider"]] = np.nan_to_num(prov.unit_cost, nan=0.0)
    row["gpus"][sl["aidc"]] = aidcs.gpus
    bought = compute.flow.sum(axis=(1, 2))
    row["gpu_hours"][sl["provider"]] = bought[: prov.n]
    row["gpu_hours"][sl["lab"]] = bought[prov.n:]
    row["gpu_hours"][sl["aidc"]] = compute.sold.sum(axis=1)
    row["ask_cny_per_gpu_hour"][sl["aidc"]] = aidcs.ask_mid
    row["markup"][sl["aidc"]] = aidcs.learner.markup
    row["markup"][sl["utility"]] = util.learner.markup
    row["markup"][sl["provider"]] = np.divide(prov.price, prov.unit_cost, out=np.zeros(prov.n),
                                              where=prov.unit_cost > 0) - np.where(prov.unit_cost > 0, 1.0, 0.0)
    cap = prov.capacity_mtok
    row["utilization"][sl["provider"]] = np.divide(served_p, cap, out=np.zeros(prov.n), where=cap > 0)
    row["utilization"][sl["aidc"]] = aidcs.utilization()
    row["capacity_mw"][sl["utility"]] = util.capacity_by_owner()
    if store.n:
        row["capacity_mw"][sl["storage"]] = store.params["power_mw"]
        row["soc_mwh"][sl["storage"]] = store.soc_mwh
    del labs
