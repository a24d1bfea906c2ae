"""Data collection into tidy tables: ``daily`` (model level), ``hourly`` (zone x hour) and ``agents``
(agent x day).  Rows go into preallocated numpy columns (growing by doubling) and become pandas
DataFrames only when asked for, which keeps collection off the hot path."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TECHS = ("coal", "gas", "nuclear", "hydro", "wind", "solar")

# Recorded each day as scalars ...
RAW_DAILY_COLUMNS = (
    "token_price_cny_per_mtok", "compute_price_cny_per_gpu_hour",
    "tokens_demanded_mtok", "tokens_served_mtok", "tokens_unserved_mtok",
    "gpus_online", "gpus_in_pipeline", "busy_gpu_hours", "compute_sold_gpu_hours",
    "storage_energy_mwh", "storage_soc_mwh", "generation_capacity_mw", "congested_line_hours",
    "token_unit_cost_cny_per_mtok", "token_energy_cost_cny", "token_storage_cost_cny", "token_gpu_capital_cny",
    "token_revenue_cny",
)
# ... and the order of the daily table, whose power columns are derived from the hourly rows in bulk.
DAILY_COLUMNS = (
    "token_price_cny_per_mtok", "compute_price_cny_per_gpu_hour", "power_price_cny_per_mwh",
    "tokens_demanded_mtok", "tokens_served_mtok", "tokens_unserved_mtok", "unserved_share",
    "gpus_online", "gpus_in_pipeline", "gpu_utilization", "compute_sold_gpu_hours",
    "aidc_energy_mwh", "aidc_green_share", "green_share", "power_spread_cny_per_mwh",
    "storage_energy_mwh", "storage_soc_mwh", "storage_throughput_mwh", "curtailment_mwh",
    "power_unserved_mwh", "emissions_t", "generation_capacity_mw", "congested_line_hours",
    "token_unit_cost_cny_per_mtok", "token_cost_energy_cny_per_mtok", "token_cost_storage_cny_per_mtok",
    "token_cost_gpu_capital_cny_per_mtok", "token_margin_cny_per_mtok",
)
GREEN_TECHS = ("nuclear", "hydro", "wind", "solar")
HOURLY_COLUMNS = (
    "price_cny_per_mwh", "load_mw", "aidc_load_mw", "background_load_mw", "flexible_load_served_mw",
    *(f"generation_{t}_mw" for t in TECHS),
    "curtailment_mw", "storage_charge_mw", "storage_discharge_mw", "net_import_mw", "unserved_mw", "spill_mw",
    "green_supply_mw",
)
AGENT_COLUMNS = (
    "cash_cny", "revenue_cny", "cost_cny", "profit_cny", "tokens_mtok", "price_cny_per_mtok",
    "gpus", "ask_cny_per_gpu_hour", "markup", "utilization", "capacity_mw", "soc_mwh",
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


class Recorder:
    def __init__(self, start_date: dt.date, zone_names: list[str], agent_ids: np.ndarray,
                 agent_names: list[str], agent_kinds: list[str], days: int, emissions_t_per_mwh: np.ndarray):
        self.start_date = start_date
        self.zone_names = zone_names
        self.agent_ids = agent_ids
        self.agent_names = agent_names
        self.agent_kinds = agent_kinds
        nz = len(zone_names)
        self.emissions_t_per_mwh = np.asarray(emissions_t_per_mwh, dtype=float)
        self.daily = _Columns(RAW_DAILY_COLUMNS, 1, days)
        self.hourly = _Columns(HOURLY_COLUMNS, nz * 24, days)
        self.agents = _Columns(AGENT_COLUMNS, len(agent_ids), days)

    def next_day(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views to fill with one day's data, in place (no intermediate copies on the hot path):
        daily ``(len(RAW_DAILY_COLUMNS),)``, hourly ``(len(HOURLY_COLUMNS), 24, Z)`` and agents
        ``(len(AGENT_COLUMNS), n_agents)``.  Entries left alone stay 0."""
        hourly = self.hourly.next_rows(day).reshape(len(HOURLY_COLUMNS), 24, len(self.zone_names))
        return self.daily.next_rows(day)[:, 0], hourly, self.agents.next_rows(day)

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
        gen_total = gen_all.sum(axis=(1, 2))
        gpus = raw["gpus_online"]
        derived = {
            "power_price_cny_per_mwh": np.divide((price * demand).sum(axis=(1, 2)), total,
                                                 out=price.mean(axis=(1, 2)), where=total > 0),
            "unserved_share": np.divide(raw["tokens_unserved_mtok"], raw["tokens_demanded_mtok"],
                                        out=np.zeros(n), where=raw["tokens_demanded_mtok"] > 0),
            "gpu_utilization": np.divide(raw["busy_gpu_hours"], gpus * 24.0, out=np.zeros(n), where=gpus > 0),
            "aidc_energy_mwh": aidc_energy,
            "aidc_green_share": np.divide((aidc * green_z).sum(axis=(1, 2)), aidc_energy, out=np.zeros(n),
                                          where=aidc_energy > 0),
            "green_share": np.divide(green.sum(axis=(1, 2)), gen_total, out=np.zeros(n), where=gen_total > 0),
            "power_spread_cny_per_mwh": (price.max(axis=2) - price.min(axis=2)).mean(axis=1),
            "storage_throughput_mwh": per_day["storage_discharge_mw"].sum(axis=(1, 2)),
            "curtailment_mwh": per_day["curtailment_mw"].sum(axis=(1, 2)),
            "power_unserved_mwh": per_day["unserved_mw"].sum(axis=(1, 2)),
            "emissions_t": np.tensordot(self.emissions_t_per_mwh, gen.sum(axis=(2, 3)), axes=1),
        }
        served = raw["tokens_served_mtok"]

        def per_mtok(cny: np.ndarray) -> np.ndarray:
            return np.divide(cny, served, out=np.zeros(n), where=served > 0)

        derived["token_cost_energy_cny_per_mtok"] = per_mtok(raw["token_energy_cost_cny"])
        derived["token_cost_storage_cny_per_mtok"] = per_mtok(raw["token_storage_cost_cny"])
        derived["token_cost_gpu_capital_cny_per_mtok"] = per_mtok(raw["token_gpu_capital_cny"])
        derived["token_margin_cny_per_mtok"] = per_mtok(raw["token_revenue_cny"] - raw["token_energy_cost_cny"]
                                                        - raw["token_storage_cost_cny"] - raw["token_gpu_capital_cny"])
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
