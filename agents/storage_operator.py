"""StorageOperator: batteries in one zone that arbitrage from a price forecast.

From tomorrow's forecast prices (a smoothed hourly profile of recent days) it plans to charge in the
cheapest hours and discharge in the dearest, when the spread after losses beats its degradation
cost.  Charge bids carry the most it will pay, discharge offers the least it will take.  Quantities
keep the state of charge feasible if every planned charge clears; when one does not, the model asks
for corrected bids (:meth:`StorageGroup.repair`) and clears again.  It invests when the spread it
sees pays for new capacity at the system price per kWh.
"""

from __future__ import annotations

import numpy as np

from agents.base import Group, GroupAgent
from agents.utility import DISCOUNT_RATE, capital_recovery_factor

_HOUR = np.arange(24)


class StorageOperator(GroupAgent):
    """One battery fleet."""


class StorageGroup(Group):
    kind = "storage"

    def __init__(self, items: list[dict], zone_index: np.ndarray):
        super().__init__(items)
        self.zone = np.asarray(zone_index, dtype=int)
        self.invest = np.array([it["invest"] for it in items], dtype=bool)
        p = self.params
        self.soc_mwh = p["initial_soc"] * p["energy_mwh"] if self.n else np.zeros(0)
        self._rows = np.arange(self.n)[:, None]
        self.green_mwh = np.zeros(self.n)  # how much of the stored energy came from green generation
        self.charge_mw = np.zeros((self.n, 24))
        self.discharge_mw = np.zeros((self.n, 24))
        self.pipeline: list[tuple[int, int, float]] = []
        self.spread_seen = np.zeros(self.n)

    def efficiencies(self) -> tuple[np.ndarray, np.ndarray]:
        one_way = np.sqrt(self.params["round_trip_efficiency"])
        return one_way, one_way

    def plan(self, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bids from a (n, 24) price forecast: (charge MW, charge limit price, discharge MW, offer price)."""
        p = self.params
        n = self.n
        if n == 0:
            empty = np.zeros((0, 24))
            return empty, empty, empty, empty
        rows = self._rows
        eta_c, _ = self.efficiencies()
        energy, power, rte = p["energy_mwh"], p["power_mw"], p["round_trip_efficiency"]
        wear = p["degradation_cost_cny_per_mwh"]
        np.minimum(np.maximum(self.soc_mwh, 0.0), energy, out=self.soc_mwh)
        max_hours = np.minimum(np.ceil(energy / np.maximum(power * eta_c, 1e-12)), 12.0)
        order = forecast.argsort(axis=1, kind="stable")
        sorted_f = forecast[rows, order]
        rank = np.empty_like(order)
        rank[rows, order] = _HOUR
        # pair the i-th cheapest hour with the i-th dearest; keep the pairs whose spread pays for losses and wear
        pays = sorted_f[:, :11:-1] * rte[:, None] - sorted_f[:, :12] > wear[:, None]
        profitable = np.where(pays.all(axis=1), 12, pays.argmin(axis=1))
        hours = np.minimum(profitable, max_hours).astype(int)
        k = np.maximum(hours, 1)
        cheap_max = sorted_f[rows[:, 0], k - 1]
        dear_min = sorted_f[rows[:, 0], 24 - k]
        self.spread_seen = 0.9 * self.spread_seen + 0.1 * (sorted_f[:, -1] - sorted_f[:, 0])
        hours_col = hours[:, None]
        charge_plan = np.where(rank < hours_col, power[:, None], 0.0)
        discharge_plan = np.where(rank >= 24 - hours_col, power[:, None], 0.0)
        charge_mw, discharge_mw = self.feasible(charge_plan, discharge_plan)
        charge_price = dear_min * rte - wear
        discharge_price = cheap_max / rte + wear
        return (charge_mw, np.broadcast_to(charge_price[:, None], (n, 24)),
                discharge_mw, np.broadcast_to(discharge_price[:, None], (n, 24)))

    def feasible(self, charge: np.ndarray, discharge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Trim a schedule so the state of charge stays in [0, energy] however much of it clears.

        Charges are capped as if no discharge cleared (room only from the starting state of charge);
        discharges as if every remaining charge cleared before them.  Both caps are cumulative and
        non-decreasing, so the trimmed hourly quantities stay non-negative.
        """
        eta_c, eta_d = self.efficiencies()
        energy = self.params["energy_mwh"]
        room = np.maximum(energy - self.soc_mwh, 0.0) / np.maximum(eta_c, 1e-12)
        cum_c = np.minimum(np.cumsum(charge, axis=1), room[:, None])
        cap_d = eta_d[:, None] * (self.soc_mwh[:, None] + eta_c[:, None] * cum_c)
        cum_d = np.minimum(np.cumsum(discharge, axis=1), cap_d)
        return np.diff(cum_c, axis=1, prepend=0.0), np.diff(cum_d, axis=1, prepend=0.0)

    def soc_path(self, charge: np.ndarray, discharge: np.ndarray) -> np.ndarray:
        """(n, 24) state of charge at the end of each hour for accepted quantities."""
        eta_c, eta_d = self.efficiencies()
        delta = charge * eta_c[:, None] - discharge / np.maximum(eta_d, 1e-12)[:, None]
        return self.soc_mwh[:, None] + np.cumsum(delta, axis=1)

    def violations(self, charge: np.ndarray, discharge: np.ndarray) -> bool:
        path = self.soc_path(charge, discharge)
        return bool((path < -1e-9).any() or (path > self.params["energy_mwh"][:, None] + 1e-9).any())

    def repair(self, accepted_charge: np.ndarray, offered_discharge: np.ndarray) -> np.ndarray:
        """New discharge offers consistent with the charges that actually cleared."""
        _, discharge = self.feasible(accepted_charge, offered_discharge)
        return discharge

    def green_fraction(self) -> np.ndarray:
        """Share of the stored energy that is green (what a discharge carries)."""
        return np.divide(self.green_mwh, self.soc_mwh, out=np.zeros(self.n), where=self.soc_mwh > 1e-9)

    def track_green(self, charge: np.ndarray, discharge: np.ndarray, green_share_in: np.ndarray) -> np.ndarray:
        """Update the green content for a settled day and return the green part of each discharge (n, 24).

        Discharges carry the start-of-day green fraction; charges add energy with the green share of
        their zone's generation in that hour.  Call before :meth:`settle` moves the state of charge.
        """
        eta_c, eta_d = self.efficiencies()
        fraction = self.green_fraction()
        green_out = discharge * fraction[:, None]
        stored_in = (charge * green_share_in).sum(axis=1) * eta_c
        removed = (green_out.sum(axis=1)) / np.maximum(eta_d, 1e-12)
        self.green_mwh = self.green_mwh + stored_in - removed
        return green_out

    def settle(self, charge: np.ndarray, discharge: np.ndarray) -> None:
        self.charge_mw = charge
        self.discharge_mw = discharge
        if self.n:
            self.soc_mwh = self.soc_path(charge, discharge)[:, -1]
            self.green_mwh = np.minimum(np.maximum(self.green_mwh, 0.0), self.soc_mwh)

    def investment_wish(self) -> np.ndarray:
        """MWh each operator orders this month: when a daily cycle at the spread it has seen pays the
        annualised capital cost per MWh."""
        p = self.params
        annual = self.spread_seen * p["round_trip_efficiency"] * 330.0
        cost = p["capex_cny_per_kwh"] * 1000.0 * capital_recovery_factor(DISCOUNT_RATE, p["life_years"])
        ok = self.invest & (annual > cost) & (p["max_build_mwh_per_month"] > 0)
        scale = np.clip(np.divide(annual, cost, out=np.zeros(self.n), where=cost > 0) - 1.0, 0.0, 1.0)
        return np.where(ok, p["max_build_mwh_per_month"] * scale, 0.0)

    def order(self, day: int, mwh: np.ndarray) -> None:
        for i in np.flatnonzero(mwh > 0):
            self.pipeline.append((day + int(self.params["lead_days"][i]), int(i), float(mwh[i])))

    def arrivals(self, day: int) -> np.ndarray:
        added = np.zeros(self.n)
        keep = []
        for when, i, mwh in self.pipeline:
            if when <= day:
                added[i] += mwh
            else:
                keep.append((when, i, mwh))
        self.pipeline = keep
        p = self.params
        ratio = np.divide(p["power_mw"], p["energy_mwh"], out=np.full(self.n, 0.25), where=p["energy_mwh"] > 0)
        p["energy_mwh"] += added
        p["power_mw"] += added * ratio
        return added

    def set_param(self, key: str, index: int, value: float) -> None:
        super().set_param(key, index, value)
        self.soc_mwh = np.clip(self.soc_mwh, 0.0, self.params["energy_mwh"])
        self.green_mwh = np.minimum(self.green_mwh, self.soc_mwh)

    def describe(self, i: int) -> dict[str, float]:
        return {"energy_mwh": float(self.params["energy_mwh"][i]), "power_mw": float(self.params["power_mw"][i]),
                "soc_mwh": float(self.soc_mwh[i]), "spread_seen_cny_per_mwh": float(self.spread_seen[i])}
