"""AIDC: an AI data centre in one grid zone.

It offers its GPU-hours at marginal cost (energy at the expected zone price, plus operations) times
one plus an adaptive markup.  Its hourly power load follows the GPUs actually busy, scaled by PUE.
Each month it invests when the compute price it earns has stayed above its long-run cost, limited by
GPU deliveries and by its zone's spare grid-connection capacity; GPUs arrive after a lead time.
"""

from __future__ import annotations

import numpy as np

from agents.base import Group, GroupAgent
from agents.strategies import MarkupLearner

HOURS_PER_YEAR = 8760.0
PLANNING_UTILIZATION = 0.7  # utilisation assumed when pricing capital
TRANCHE_SHARE = np.array([0.25, 0.25, 0.25, 0.25])
TRANCHE_MARKUP = np.array([0.6, 0.9, 1.1, 1.4])  # multiples of the learned markup


class AIDC(GroupAgent):
    """One AI data centre."""


class AIDCGroup(Group):
    kind = "aidc"

    def __init__(self, items: list[dict], zone_index: np.ndarray):
        super().__init__(items)
        self.zone = np.asarray(zone_index, dtype=int)
        self.strategy = [it["strategy"] for it in items]
        self.invest = np.array([it["invest"] for it in items], dtype=bool)
        self.learner = MarkupLearner(self.strategy, self.params.get("markup", np.zeros(self.n)),
                                     self.params.get("markup_step", np.zeros(self.n)))
        self.power_price_expected = np.full(self.n, 400.0)   # CNY/MWh, smoothed zone average
        self.compute_price_seen = np.full(self.n, np.nan)     # CNY/GPU-hour, smoothed
        self.utilization_seen = np.zeros(self.n)
        self.sold_gpu_hours = np.zeros(self.n)
        self.busy_gpus = np.zeros((self.n, 24))
        self.load_mw = np.zeros((self.n, 24))
        self.pipeline: list[tuple[int, int, float]] = []     # (arrival day, aidc index, GPUs)
        self.revenue_today = np.zeros(self.n)
        self._ask_owner = np.repeat(np.arange(self.n), TRANCHE_SHARE.size)
        self.cost_today = np.zeros(self.n)
        self._ask_mid = self.marginal_cost() * (1.0 + self.learner.markup)  # set again by every asks()

    @property
    def gpus(self) -> np.ndarray:
        return self.params["gpus"]

    def mw_per_busy_gpu(self) -> np.ndarray:
        return self.params["busy_kw_per_gpu"] * self.params["pue"] / 1000.0

    def marginal_cost(self) -> np.ndarray:
        """CNY per GPU-hour of running one more GPU: its extra energy plus operations."""
        p = self.params
        extra_mwh = (p["busy_kw_per_gpu"] - p["idle_kw_per_gpu"]) * p["pue"] / 1000.0
        return extra_mwh * np.maximum(self.power_price_expected, 0.0) + p["om_cny_per_gpu_hour"]

    def long_run_cost(self) -> np.ndarray:
        """CNY per GPU-hour including capital, at planning utilisation."""
        p = self.params
        capital = p["capex_cny_per_gpu"] / (p["life_years"] * HOURS_PER_YEAR * PLANNING_UTILIZATION)
        return capital + self.marginal_cost()

    def asks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(AIDC index, GPU-hours, CNY/GPU-hour): all installed GPUs for the day, offered in tranches
        whose markups straddle the learned one -- a supply curve, not one all-or-nothing step, so a
        data centre facing one large bid sells part of its fleet instead of flipping between all and
        nothing from day to day."""
        cost = self.marginal_cost()
        markup = self.learner.markup
        self._ask_mid = cost * (1.0 + markup)
        price = cost[:, None] * (1.0 + markup[:, None] * TRANCHE_MARKUP[None, :])
        qty = (self.gpus * 24.0)[:, None] * TRANCHE_SHARE[None, :]
        return self._ask_owner, qty.ravel(), price.ravel()

    def ask_price(self) -> np.ndarray:
        """The middle of each AIDC's ask curve (CNY/GPU-hour) as last offered, for display."""
        return self._ask_mid

    def set_busy(self, busy_gpus: np.ndarray) -> np.ndarray:
        """Hourly power load (MW) from the GPUs busy each hour (n, 24)."""
        p = self.params
        busy = np.minimum(busy_gpus, self.gpus[:, None])
        self.busy_gpus = busy
        idle = self.gpus[:, None] - busy
        self.load_mw = p["pue"][:, None] * (busy * p["busy_kw_per_gpu"][:, None]
                                           + idle * p["idle_kw_per_gpu"][:, None]) / 1000.0
        return self.load_mw

    def learn(self, sold_gpu_hours: np.ndarray, price_received: np.ndarray, zone_price_mean: np.ndarray,
              profit: np.ndarray, rng: np.random.Generator) -> None:
        offered = self.gpus * 24.0
        sold_share = np.where(offered > 0, sold_gpu_hours / np.where(offered > 0, offered, 1.0), 0.0)
        self.sold_gpu_hours = sold_gpu_hours
        self.learner.update(sold_share, profit, rng)
        self.power_price_expected = 0.8 * self.power_price_expected + 0.2 * zone_price_mean
        seen = self.compute_price_seen
        traded = ~np.isnan(price_received)
        self.compute_price_seen = np.where(traded, np.where(np.isnan(seen), price_received,
                                                            0.9 * seen + 0.1 * price_received), seen)
        self.utilization_seen = 0.9 * self.utilization_seen + 0.1 * sold_share

    def investment_wish(self) -> np.ndarray:
        """GPUs each AIDC would order this month, before delivery and grid limits."""
        p = self.params
        lrc = self.long_run_cost()
        excess = np.divide(self.compute_price_seen, lrc, out=np.zeros(self.n), where=lrc > 0) - 1.0 - p["hurdle"]
        excess = np.nan_to_num(excess, nan=0.0)
        busy_enough = self.utilization_seen > 0.8
        wish = p["max_growth_per_month"] * self.gpus * np.clip(excess / 0.5, 0.0, 1.0)
        wish = np.where(busy_enough & self.invest & (wish >= p["min_order_gpus"]), wish, 0.0)
        return wish

    def order(self, day: int, gpus: np.ndarray) -> None:
        for i in np.flatnonzero(gpus > 0):
            self.pipeline.append((day + int(self.params["lead_days"][i]), int(i), float(gpus[i])))

    def arrivals(self, day: int) -> np.ndarray:
        """Bring online the GPUs whose lead time has passed; return how many arrived per AIDC."""
        arrived = np.zeros(self.n)
        keep = []
        for when, i, n in self.pipeline:
            if when <= day:
                arrived[i] += n
            else:
                keep.append((when, i, n))
        self.pipeline = keep
        self.params["gpus"] += arrived
        return arrived

    def pipeline_gpus(self) -> np.ndarray:
        out = np.zeros(self.n)
        for _, i, n in self.pipeline:
            out[i] += n
        return out

    def describe(self, i: int) -> dict[str, float]:
        offered = self.gpus[i] * 24.0
        return {"gpus": float(self.gpus[i]), "gpus_in_pipeline": float(self.pipeline_gpus()[i]),
                "markup": float(self.learner.markup[i]),
                "utilization": float(self.sold_gpu_hours[i] / offered) if offered > 0 else 0.0,
                "load_mw": float(self.load_mw[i].mean())}
