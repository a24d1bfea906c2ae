"""TrainingLab: an AI lab (or a segment of labs) that buys GPU-hours to train models.

A lab plans its compute from the models it means to train -- ``gpu_hours_per_day``, the GPU-hours its next
generations need (compute per generation grows: Epoch AI) -- and funds it from a budget, ``budget_cny_per_day``.
Neither is a price: the price at which the budget buys exactly the plan, p_plan = budget / plan, follows from
them.  Dearer than that, the budget binds and it buys budget / p (it trains later or smaller); cheaper, it trains
more than planned, q = plan (p_plan / p)^elasticity (more experiments, longer runs), never more than
``max_multiple`` x the plan.  So q(p) = min(plan (p / p_plan)^(-elasticity), budget / p, max_multiple x plan).
Training jobs can run at any hour, so it bids the same curve in every hour, in steps: in idle hours it buys cheap
capacity (valley filling), in tight hours it gives way to buyers who value compute more.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.base import DailyGrowth, Group, GroupAgent, ar1_log_step
from tokenomy.agents.numeric import nan_max, nan_min
from tokenomy.agents.strategies import LAB_BIDDING, ComputeBidding, Rules, register

# bid steps, as multiples of the plan price, dearest first (geometric, ~13% apart)
PRICE_STEPS = np.geomspace(4.0, 0.15, 28)


class TrainingLab(GroupAgent):
    """One lab (or a segment of labs)."""

    @property
    def gpu_hours_bought(self) -> float:
        return float(self.group.bought_gpu_hours[self.index].sum())

    @property
    def budget_cny_per_day(self) -> float:
        return float(self.group.params["budget_cny_per_day"][self.index])


@register(LAB_BIDDING, "demand-curve")
class DemandCurveBidding(ComputeBidding):
    """The lab's demand curve, cut into ``PRICE_STEPS`` steps around its plan price (budget / plan), in every hour.
    Today's noise shifts the whole curve: the same quantities at prices noise^(1/e) higher."""

    def bids(self, group: TrainingLabGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        p = group.params
        shift = group.noise ** (1.0 / p["elasticity"])
        qty, prices = _demand_curve_bids(
            shift,
            PRICE_STEPS,
            group.steps_to_the_elasticity(),
            p["gpu_hours_per_day"],
            p["budget_cny_per_day"],
            p["max_multiple"],
        )
        return group._bid_owner, group._bid_hour, qty, prices


class TrainingLabGroup(Group):
    kind = "lab"

    def __init__(self, items: list[dict]):
        super().__init__(items)
        self.strategy = [it["strategy"] for it in items]
        self.bidding = Rules(LAB_BIDDING, self.strategy, self)
        self.bought_gpu_hours = np.zeros((self.n, 24))
        self.spent_cny = np.zeros(self.n)
        self.noise = np.ones(self.n)
        self._noise_state = np.zeros(self.n)
        self._demand_growth = DailyGrowth()
        self._budget_growth = DailyGrowth()
        k = PRICE_STEPS.size
        self._bid_owner = np.repeat(np.arange(self.n), 24 * k)
        self._bid_hour = np.tile(np.repeat(np.arange(24), k), self.n)
        self._steps_key = b""
        self._steps_pow = np.zeros((self.n, k))

    def plan_price(self) -> np.ndarray:
        """The price at which each lab's budget buys exactly its plan, CNY per GPU-hour."""
        p = self.params
        return _plan_price(p["budget_cny_per_day"], p["gpu_hours_per_day"])

    def steps_to_the_elasticity(self) -> np.ndarray:
        """(n, K) ``PRICE_STEPS ** -elasticity``: the demand curve's shape, recomputed only when an elasticity
        changes."""
        e = self.params["elasticity"]
        if self._steps_key != e.tobytes():
            self._steps_key = e.tobytes()
            self._steps_pow = PRICE_STEPS[None, :] ** (-e[:, None])
        return self._steps_pow

    def advance_day(self, draws: np.ndarray, persistence: float) -> None:
        """Demand and budget grow at their yearly rates; today's demand carries persistent noise."""
        p = self.params
        p["gpu_hours_per_day"] *= self._demand_growth(p["growth_per_year"])
        p["budget_cny_per_day"] *= self._budget_growth(p["budget_growth_per_year"])
        self.noise = np.exp(ar1_log_step(self._noise_state, draws, p["demand_noise"], float(persistence)))

    def compute_bids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.bidding.steps("bids", self)

    def receive_compute(self, gpu_hours: np.ndarray, cost_cny: np.ndarray) -> None:
        self.bought_gpu_hours = gpu_hours
        self.spent_cny = cost_cny

    def describe(self, i: int) -> dict[str, float]:
        bought = self.bought_gpu_hours[i].sum()
        return {
            "gpu_hours_bought": float(bought),
            "spent_cny": float(self.spent_cny[i]),
            "price_paid_cny_per_gpu_hour": float(self.spent_cny[i] / bought) if bought > 0 else 0.0,
            "gpu_hours_planned": float(self.params["gpu_hours_per_day"][i]),
            "plan_price_cny_per_gpu_hour": float(self.plan_price()[i]),
        }


@njit(cache=True)
def _plan_price(budget, gpu_hours):
    """:meth:`TrainingLabGroup.plan_price`: budget / plan, 1 where a lab plans no GPU-hours."""
    out = np.empty(budget.size)
    for i in range(budget.size):
        out[i] = budget[i] / gpu_hours[i] if gpu_hours[i] > 0.0 else 1.0
    return out


@njit(cache=True)
def _demand_curve_bids(shift, steps, steps_pow, gpu_hours, budget, max_multiple):
    """:class:`DemandCurveBidding` for every lab: (GPU-hours, CNY per GPU-hour) of its K steps in each of 24 hours,
    (n * 24 * K,) each, in the order (lab, hour, step), around its plan price (:func:`_plan_price`)."""
    n, k = steps_pow.shape
    plan_price = _plan_price(budget, gpu_hours)
    qty = np.empty(n * 24 * k)
    bid = np.empty(n * 24 * k)
    step_qty = np.empty(k)
    step_price = np.empty(k)
    for i in range(n):
        base = plan_price[i] * shift[i]
        most = gpu_hours[i] * max_multiple[i] / 24.0
        previous = 0.0
        for j in range(k):
            price = base * steps[j]
            wanted = gpu_hours[i] / 24.0 * steps_pow[i, j]
            affordable = budget[i] / 24.0 / price if price > 0.0 else 0.0  # (no budget: it buys nothing)
            cumulative = nan_min(nan_min(wanted, affordable), most)  # non-decreasing
            step_qty[j] = nan_max(cumulative - previous, 0.0)
            step_price[j] = price
            previous = cumulative
        for h in range(24):
            for j in range(k):
                qty[(i * 24 + h) * k + j] = step_qty[j]
                bid[(i * 24 + h) * k + j] = step_price[j]
    return qty, bid
