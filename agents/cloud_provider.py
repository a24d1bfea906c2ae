"""CloudProvider: sells tokens at a posted price and rents GPU-hours in the compute market.

It forecasts its demand (Holt's linear smoothing), bids for the GPU-hours that forecast needs plus
headroom for the daily peak, turns GPU-hours into tokens at an efficiency that improves over time,
and moves its price up when utilisation runs above target or demand goes unserved, down when idle or
losing share to rivals, and back toward unit cost when it is below it.
"""

from __future__ import annotations

import numpy as np

from agents.base import Group, GroupAgent, daily_rate


class CloudProvider(GroupAgent):
    """One cloud/model provider."""


class CloudProviderGroup(Group):
    kind = "provider"
    ALPHA = 0.3  # level smoothing
    BETA = 0.1   # trend smoothing

    def __init__(self, items: list[dict], initial_demand_mtok: np.ndarray):
        super().__init__(items)
        self.cash = np.array([it["cash_cny"] for it in items], dtype=float)
        self.level = np.asarray(initial_demand_mtok, dtype=float).copy()
        self.trend = np.zeros(self.n)
        self.gpu_hours = np.zeros(self.n)           # bought today
        self.compute_cost_cny = np.zeros(self.n)    # paid today
        self.served_mtok = np.zeros(self.n)
        self.requested_mtok = np.zeros(self.n)
        self.capacity_mtok = np.zeros(self.n)
        self.unit_cost = np.full(self.n, np.nan)    # CNY per Mtok: compute cost / tokens it can make
        self.peak_ratio = np.full(self.n, 1.5)      # peak-hour over mean-hour requests, smoothed
        self.compute_price_seen = np.zeros(self.n)  # CNY per GPU-hour paid lately
        self.peak_utilization = np.zeros(self.n)
        self.share_seen = np.full(self.n, 1.0 / max(self.n, 1))  # share of tokens served, smoothed

    @property
    def price(self) -> np.ndarray:
        return self.params["price_cny_per_mtok"]

    def forecast_mtok(self) -> np.ndarray:
        return np.maximum(self.level + self.trend, 0.0)

    def compute_bids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Two bid steps per provider: the GPU-hours its forecast needs, valued at what the tokens
        sell for, and peak headroom valued lower.  Returns (provider index, GPU-hours, CNY/GPU-hour)."""
        p = self.params
        eff = p["mtok_per_gpu_hour"]
        need = self.forecast_mtok() / eff
        peak_need = need * self.peak_ratio * p["headroom"]
        value = self.price * eff
        idx = np.arange(self.n)
        return (np.concatenate([idx, idx]),
                np.concatenate([need, np.maximum(peak_need - need, 0.0)]),
                np.concatenate([value, self.price * eff * 0.6]))

    def receive_compute(self, gpu_hours: np.ndarray, cost_cny: np.ndarray) -> None:
        self.gpu_hours = gpu_hours
        self.compute_cost_cny = cost_cny
        self.capacity_mtok = gpu_hours * self.params["mtok_per_gpu_hour"]
        paid = np.divide(cost_cny, gpu_hours, out=np.zeros(self.n), where=gpu_hours > 0)
        self.compute_price_seen = np.where(gpu_hours > 0, 0.8 * self.compute_price_seen + 0.2 * paid,
                                           self.compute_price_seen)
        with np.errstate(invalid="ignore", divide="ignore"):
            today_cost = np.where(self.capacity_mtok > 0, cost_cny / self.capacity_mtok, np.nan)
        self.unit_cost = np.where(np.isnan(today_cost), self.unit_cost, today_cost)

    def hourly_capacity_mtok(self) -> np.ndarray:
        """Tokens each provider can serve per hour: GPU-hours spread evenly over the day."""
        return np.repeat((self.capacity_mtok / 24.0)[:, None], 24, axis=1)

    def learn(self, requested_hourly_mtok: np.ndarray, served_hourly_mtok: np.ndarray) -> None:
        """Update forecast and posted price from today's requests and sales, both (n, 24)."""
        p = self.params
        requested = requested_hourly_mtok.sum(axis=1)
        served = served_hourly_mtok.sum(axis=1)
        self.requested_mtok = requested
        self.served_mtok = served
        prev = self.level
        self.level = self.ALPHA * requested + (1 - self.ALPHA) * (self.level + self.trend)
        self.trend = self.BETA * (self.level - prev) + (1 - self.BETA) * self.trend
        asked = requested > 0
        safe_requested = np.where(asked, requested, 1.0)
        ratio = np.where(asked, 24.0 * requested_hourly_mtok.max(axis=1) / safe_requested, 1.0)
        self.peak_ratio = 0.8 * self.peak_ratio + 0.2 * ratio
        has_cap = self.capacity_mtok > 0
        self.peak_utilization = np.where(
            has_cap, 24.0 * served_hourly_mtok.max(axis=1) / np.where(has_cap, self.capacity_mtok, 1.0), 1.0)
        unserved_share = (requested - served) / safe_requested
        # losing share to rivals counts against the price, as idle capacity does
        total = served.sum()
        share = served / total if total > 0 else self.share_seen
        lost = np.maximum(self.share_seen - share, 0.0) / np.maximum(self.share_seen, 1e-9)
        self.share_seen = 0.9 * self.share_seen + 0.1 * share
        signal = (self.peak_utilization - p["target_utilization"]) + 2.0 * unserved_share - lost
        price_now = self.price
        price = price_now * (1.0 + np.minimum(np.maximum(signal, -1.0), 1.0) * p["price_step"])
        # never long below unit cost: a price under the floor climbs a tenth of the gap a day and the
        # market signal cannot push it further down; a price above the floor may not cross it
        floor = self.unit_cost * (1.0 + p["min_margin"])
        if not np.isnan(floor).any():
            price = np.where(price_now < floor, price_now + 0.1 * (floor - price_now), np.maximum(price, floor))
        else:
            has_floor = ~np.isnan(floor)
            below = has_floor & (price_now < floor)
            price = np.where(below, price_now + 0.1 * (floor - price_now),
                             np.where(has_floor, np.maximum(price, np.where(has_floor, floor, 0.0)), price))
        p["price_cny_per_mtok"][:] = np.maximum(price, 1e-6)
        p["mtok_per_gpu_hour"] *= self._efficiency_factor()

    def _efficiency_factor(self) -> np.ndarray:
        """Daily efficiency gain, recomputed only when the yearly rate changes (an event can change it)."""
        rate = self.params["efficiency_growth_per_year"]
        cached = getattr(self, "_eff_cache", None)
        if cached is None or not np.array_equal(cached[0], rate):
            self._eff_cache = (rate.copy(), 1.0 + daily_rate(rate))
        return self._eff_cache[1]

    def describe(self, i: int) -> dict[str, float]:
        cap = self.capacity_mtok[i]
        return {"price_cny_per_mtok": float(self.price[i]), "capacity_mtok": float(cap),
                "utilization": float(self.served_mtok[i] / cap) if cap > 0 else 0.0,
                "peak_utilization": float(self.peak_utilization[i]),
                "gpu_hours": float(self.gpu_hours[i]), "cash_cny": float(self.cash[i])}
