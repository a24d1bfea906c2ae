"""CloudProvider: sells tokens at a posted price and rents GPU-hours in the compute market.

It forecasts its demand (Holt's linear smoothing), bids for the GPU-hours that forecast needs plus
headroom for the daily peak, turns GPU-hours into tokens at an efficiency that improves over time,
and moves its price up when utilisation runs above target or demand goes unserved, down when idle or
losing share to rivals, and back toward unit cost when it is below it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agents.base import Group, GroupAgent


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
        self._bid_owner = np.tile(np.arange(self.n), 2)

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
        return (self._bid_owner, np.concatenate([need, np.maximum(peak_need - need, 0.0)]),
                np.concatenate([value, value * 0.6]))

    def receive_compute(self, gpu_hours: np.ndarray, cost_cny: np.ndarray) -> None:
        self.gpu_hours = gpu_hours
        self.compute_cost_cny = cost_cny
        self.capacity_mtok = gpu_hours * self.params["mtok_per_gpu_hour"]
        bought = gpu_hours > 0
        paid = np.divide(cost_cny, gpu_hours, out=np.zeros(self.n), where=bought)
        self.compute_price_seen = np.where(bought, 0.8 * self.compute_price_seen + 0.2 * paid, self.compute_price_seen)
        # CNY per Mtok of what it could serve today; kept from before on a day it could serve nothing
        cap = self.capacity_mtok
        self.unit_cost = np.divide(cost_cny, cap, out=self.unit_cost.copy(), where=cap > 0)

    def hourly_capacity_mtok(self) -> np.ndarray:
        """Tokens each provider can serve per hour: GPU-hours spread evenly over the day."""
        return np.repeat((self.capacity_mtok / 24.0)[:, None], 24, axis=1)

    def learn(self, requested_hourly_mtok: np.ndarray, served_hourly_mtok: np.ndarray) -> None:
        """Update forecast and posted price from today's requests and sales, both (n, 24).

        Holt's smoothing of requests; the price moves by ``price_step`` times a signal in [-1, 1]: peak
        utilisation above target and unserved requests push it up, losing share to rivals pushes it
        down.  It is never long below unit cost: a price under the floor climbs a tenth of the gap a day
        and the market signal cannot push it further down; a price above the floor may not cross it.
        Tokens per GPU-hour improve at the yearly efficiency rate.
        """
        p = self.params
        _learn(np.ascontiguousarray(requested_hourly_mtok, dtype=float),
               np.ascontiguousarray(served_hourly_mtok, dtype=float), self.capacity_mtok, self.unit_cost,
               p["target_utilization"], p["price_step"], p["min_margin"], p["efficiency_growth_per_year"],
               self.ALPHA, self.BETA, self.level, self.trend, self.peak_ratio, self.peak_utilization,
               self.share_seen, self.requested_mtok, self.served_mtok, p["price_cny_per_mtok"],
               p["mtok_per_gpu_hour"])

    def describe(self, i: int) -> dict[str, float]:
        cap = self.capacity_mtok[i]
        return {"price_cny_per_mtok": float(self.price[i]), "capacity_mtok": float(cap),
                "utilization": float(self.served_mtok[i] / cap) if cap > 0 else 0.0,
                "peak_utilization": float(self.peak_utilization[i]),
                "gpu_hours": float(self.gpu_hours[i]), "cash_cny": float(self.cash[i])}


@njit(cache=True)
def _learn(requested_h, served_h, capacity, unit_cost, target_utilization, price_step, min_margin,
           efficiency_growth, alpha, beta, level, trend, peak_ratio, peak_utilization, share_seen,
           requested, served, price, mtok_per_gpu_hour):
    """:meth:`CloudProviderGroup.learn` for every provider, updating the state arrays in place."""
    n, hours = requested_h.shape
    total = 0.0
    for i in range(n):
        r = s = 0.0
        for h in range(hours):
            r += requested_h[i, h]
            s += served_h[i, h]
        requested[i] = r
        served[i] = s
        total += s
    for i in range(n):
        r, s = requested[i], served[i]
        prev = level[i]
        level[i] = alpha * r + (1.0 - alpha) * (prev + trend[i])
        trend[i] = beta * (level[i] - prev) + (1.0 - beta) * trend[i]
        safe_r = r if r > 0.0 else 1.0
        ratio = 24.0 * requested_h[i].max() / safe_r if r > 0.0 else 1.0
        peak_ratio[i] = 0.8 * peak_ratio[i] + 0.2 * ratio
        cap = capacity[i]
        peak_utilization[i] = 24.0 * served_h[i].max() / cap if cap > 0.0 else 1.0
        unserved_share = (r - s) / safe_r
        # losing share to rivals counts against the price, as idle capacity does
        share = s / total if total > 0.0 else share_seen[i]
        lost = max(share_seen[i] - share, 0.0) / max(share_seen[i], 1e-9)
        share_seen[i] = 0.9 * share_seen[i] + 0.1 * share
        signal = (peak_utilization[i] - target_utilization[i]) + 2.0 * unserved_share - lost
        now = price[i]
        new = now * (1.0 + min(max(signal, -1.0), 1.0) * price_step[i])
        floor = unit_cost[i] * (1.0 + min_margin[i])
        if not np.isnan(floor):
            new = now + 0.1 * (floor - now) if now < floor else max(new, floor)
        price[i] = max(new, 1e-6)
        mtok_per_gpu_hour[i] *= (1.0 + efficiency_growth[i]) ** (1.0 / 365.0)
