"""CloudProvider: sells tokens at a posted price and buys the GPU-hours it needs, hour by hour.

Each day a provider

* forecasts its requests for every hour (Holt's linear smoothing of the daily total, an exponentially
  smoothed 24-hour profile) and bids in the hourly compute market for the GPU-hours that forecast needs,
  valued at what the tokens sell for (price x Mtok per GPU-hour), plus a reserve it chooses, valued lower;
* serves tokens with what it bought; when it runs short in an hour it buys idle GPU-hours on the spot
  (the top-up in :mod:`abm.markets.top_up`);
* learns its marginal compute cost per token: the hourly compute prices weighted by its own hourly requests
  (peak hours cost more: peak-load pricing reaches the token).  Its term contracts are hedges (contracts
  for differences): they fix what it pays on average, not what one more GPU-hour costs, so they do not
  enter.  Hours whose price its own bid set (it was the marginal buyer, so it paid what the tokens are
  worth) are left out: there its margin is zero whatever it charges, and the shortage shows as rationed
  demand instead;
* posts tomorrow's price.  The default rule is a best response to logit demand: with share s_b of buyer b
  (logit on log price with sensitivity sigma) and buyer b's own price elasticity e_b, its demand
  elasticity is eta = sum_b w_b (sigma (1 - s_b) + e_b s_b) and the profit-maximising price is the
  Lerner price p* = c eta / (eta - 1).  A provider that could not serve all it was asked is capacity
  constrained: it aims at least at the price that would cut its demand to what it served,
  p (requested / served)^(1 / eta).  The posted price moves part of the way to its target each day.
  Alternatives: Roth-Erev reinforcement over markups (``strategy = "roth-erev"``) or a price set from
  outside (``"fixed"``: a person in the browser, a test).

Model launches (seeded, Poisson) raise a provider's efficiency and, for a while, its appeal to buyers.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.base import DAYS_PER_YEAR, Group, GroupAgent
from tokenomy.agents.numeric import nan_max, nan_min
from tokenomy.agents.strategies import (
    COMPUTE_BIDDING,
    TOKEN_PRICING,
    ComputeBidding,
    RothErevMarkup,
    Rules,
    TokenPricing,
    register,
)

RESERVE_VALUE = 0.5  # a reserve GPU-hour is worth about half a used one to its buyer
COST_SMOOTHING = 0.25  # weight of today's unit cost in the expected one
PROFILE_SMOOTHING = 0.1  # weight of today's hourly shape in the forecast profile
APPEAL_HALF_LIFE_DAYS = 60.0
APPEAL_DECAY = 0.5 ** (1.0 / APPEAL_HALF_LIFE_DAYS)  # of the appeal above 1, per day


class CloudProvider(GroupAgent):
    """One cloud/model provider."""

    @property
    def price_cny_per_mtok(self) -> float:
        return float(self.group.price[self.index])

    @property
    def mtok_per_gpu_hour(self) -> float:
        return float(self.group.params["mtok_per_gpu_hour"][self.index])

    @property
    def unit_cost_cny_per_mtok(self) -> float:
        return float(self.group.unit_cost[self.index])

    @property
    def markup(self) -> float:
        """Price over expected unit compute cost, minus one."""
        c = self.group.unit_cost[self.index]
        return float(self.group.price[self.index] / c - 1.0) if c > 0 else float("nan")


@register(TOKEN_PRICING, "best-response")
class BestResponsePricing(TokenPricing):
    """Lerner price against logit demand (module docstring)."""

    def prices(self, group: CloudProviderGroup, view: PricingView) -> np.ndarray:
        p = group.params
        target, ratio = _price_targets(
            group.price,
            group.appeal ** (1.0 / max(view.sensitivity, 1e-9)),
            group.unit_cost,
            view.edges,
            view.demand_mtok,
            view.elasticity,
            view.sensitivity,
            p["min_margin"],
            p["max_markup"],
            group.requested_mtok,
            group.served_mtok,
        )
        group.target_price[self.members] = target[self.members]
        return _stepped_prices(group.price, ratio ** p["price_adjustment"], p["price_step"])


@register(TOKEN_PRICING, "roth-erev")
class RothErevPricing(TokenPricing):
    """Expected unit cost x (1 + a markup chosen by Roth-Erev reinforcement on the day's profit), approached as the
    best response is."""

    def __init__(self, group: CloudProviderGroup, members: np.ndarray):
        super().__init__(group, members)
        self.markup = np.full(group.n, 0.5)
        self.learner = RothErevMarkup(members, self.markup)

    def prices(self, group: CloudProviderGroup, view: PricingView) -> np.ndarray:
        p = group.params
        cost = np.where(np.isnan(group.unit_cost), group.price, group.unit_cost)
        target = cost * (1.0 + self.markup)
        group.target_price[self.members] = target[self.members]
        return _stepped_prices(group.price, (target / group.price) ** p["price_adjustment"], p["price_step"])

    def learn(self, group: CloudProviderGroup, outcome: ProviderOutcome, rng: np.random.Generator) -> None:
        self.learner.update(self.markup, outcome.profit_cny, rng)


@register(TOKEN_PRICING, "fixed")
class FixedPricing(TokenPricing):
    """A price set from outside (the browser, a test): it never moves by itself."""

    def prices(self, group: CloudProviderGroup, view: PricingView) -> np.ndarray:
        return group.price.copy()


@register(COMPUTE_BIDDING, "forecast")
class ForecastBidding(ComputeBidding):
    """Per hour, the forecast need at the value of its tokens (price x Mtok per GPU-hour) and a reserve of
    ``reserve`` x that need valued at ``RESERVE_VALUE`` of it."""

    def bids(self, group: CloudProviderGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        p = group.params
        qty, price = _forecast_bids(
            group.level, group.trend, group.profile, p["mtok_per_gpu_hour"], group.price, p["reserve"]
        )
        return group._bid_owner, group._bid_hour, qty, price


class ProviderOutcome:
    """What a provider's pricing rule learns from: the share of its capacity it sold and its profit today."""

    __slots__ = ("sold_share", "profit_cny")

    def __init__(self, sold_share: np.ndarray, profit_cny: np.ndarray):
        self.sold_share = sold_share
        self.profit_cny = profit_cny


class PricingView:
    """What a provider knows when it sets tomorrow's price: the buyers it faces and how they respond."""

    __slots__ = ("edges", "demand_mtok", "elasticity", "sensitivity")

    def __init__(self, edges: np.ndarray, demand_mtok: np.ndarray, elasticity: np.ndarray, sensitivity: float):
        self.edges = edges
        self.demand_mtok = demand_mtok
        self.elasticity = elasticity
        self.sensitivity = float(sensitivity)


class CloudProviderGroup(Group):
    kind = "provider"
    ALPHA = 0.3  # level smoothing
    BETA = 0.1  # trend smoothing

    def __init__(self, items: list[dict], initial_demand_mtok: np.ndarray, initial_profile: np.ndarray):
        super().__init__(items)
        self.strategy = [it["strategy"] for it in items]
        self.level = np.asarray(initial_demand_mtok, dtype=float).copy()
        self.trend = np.zeros(self.n)
        self.profile = np.asarray(initial_profile, dtype=float).reshape(self.n, 24).copy()
        self.appeal = np.ones(self.n)
        self.bought_gpu_hours = np.zeros((self.n, 24))  # day-ahead purchases, by hour
        self.topped_up_gpu_hours = np.zeros((self.n, 24))
        self.compute_cost_cny = np.zeros(self.n)  # paid today, contracts settled included
        self.requested_mtok = np.zeros(self.n)
        self.served_mtok = np.zeros(self.n)
        self.unit_cost = np.full(self.n, np.nan)  # expected CNY per Mtok of compute
        self.unit_cost_today = np.full(self.n, np.nan)
        self.target_price = np.full(self.n, np.nan)
        self.share_seen = np.full(self.n, 1.0 / max(self.n, 1))
        self.launches = np.zeros(self.n, dtype=int)
        self._growth_key = b""
        self._growth = np.ones(self.n)
        self._bid_owner = np.repeat(np.arange(self.n), 48)
        self._bid_hour = np.tile(np.concatenate([np.arange(24), np.arange(24)]), self.n)
        self.pricing = Rules(TOKEN_PRICING, self.strategy, self)
        self.bidding = Rules(COMPUTE_BIDDING, [it["bidding"] for it in items], self)

    @property
    def price(self) -> np.ndarray:
        return self.params["price_cny_per_mtok"]

    @property
    def capacity_mtok(self) -> np.ndarray:
        """Tokens each provider could serve today with what it bought (day-ahead and top-up)."""
        return (self.bought_gpu_hours + self.topped_up_gpu_hours).sum(axis=1) * self.params["mtok_per_gpu_hour"]

    def effective_price(self, sensitivity: float) -> np.ndarray:
        """Price as buyers weigh it in the logit: a provider with a fresh model launch looks cheaper."""
        return self.price / self.appeal ** (1.0 / max(sensitivity, 1e-9))

    def forecast_hourly_mtok(self) -> np.ndarray:
        """(n, 24) requests expected for each hour tomorrow (the profile has mean 1)."""
        return (np.maximum(self.level + self.trend, 0.0) / 24.0)[:, None] * self.profile

    # -- decisions -------------------------------------------------------------------------------
    def compute_bids(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(provider, hour, GPU-hours, CNY/GPU-hour) bid steps, from the bidding strategy."""
        return self.bidding.steps("bids", self)

    def receive_compute(self, day_ahead_gpu_hours: np.ndarray) -> None:
        """(n, 24) GPU-hours bought day-ahead; top-ups come later in the day."""
        self.bought_gpu_hours = day_ahead_gpu_hours
        self.topped_up_gpu_hours = np.zeros_like(day_ahead_gpu_hours)

    def hourly_capacity_mtok(self) -> np.ndarray:
        """(n, 24) tokens each provider can serve per hour with its day-ahead GPU-hours."""
        return self.bought_gpu_hours * self.params["mtok_per_gpu_hour"][:, None]

    def set_prices(self, view: PricingView) -> None:
        self.params["price_cny_per_mtok"][:] = self.pricing.rows("prices", self, view)

    # -- learning --------------------------------------------------------------------------------
    def learn(
        self,
        requested_hourly_mtok: np.ndarray,
        served_hourly_mtok: np.ndarray,
        hourly_compute_price: np.ndarray,
        compute_cost_cny: np.ndarray,
        profit_cny: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Update forecasts and the expected marginal cost from today; draw model launches.

        ``hourly_compute_price`` (n, 24): the compute price each provider faced in each hour;
        ``compute_cost_cny`` (n,): what it paid for compute in all, contracts settled included.
        """
        p = self.params
        self.compute_cost_cny = compute_cost_cny
        _learn(
            np.ascontiguousarray(requested_hourly_mtok, dtype=float),
            np.ascontiguousarray(served_hourly_mtok, dtype=float),
            np.ascontiguousarray(hourly_compute_price, dtype=float),
            self.price,
            self.ALPHA,
            self.BETA,
            PROFILE_SMOOTHING,
            COST_SMOOTHING,
            self.level,
            self.trend,
            self.profile,
            self.share_seen,
            self.requested_mtok,
            self.served_mtok,
            self.unit_cost,
            self.unit_cost_today,
            p["mtok_per_gpu_hour"],
        )
        if self.pricing.learns:
            cap = np.maximum(self.capacity_mtok, 1e-9)
            self.pricing.learn(self, ProviderOutcome(np.minimum(self.served_mtok / cap, 1.0), profit_cny), rng)
        # efficiency improves with the yearly rate; model launches jump it and lift appeal for a while
        draws = rng.random((2, self.n))
        log_draw = np.log(np.maximum(draws[1], 1e-12))  # its negative is exponential, mean 1
        self.appeal = _launches(
            draws[0],
            log_draw,
            p["launch_rate_per_year"],
            self._daily_efficiency_growth(),
            p["launch_efficiency_gain"],
            p["launch_appeal_gain"],
            APPEAL_DECAY,
            self.appeal,
            p["mtok_per_gpu_hour"],
            self.launches,
        )

    def _daily_efficiency_growth(self) -> np.ndarray:
        """(1 + yearly efficiency growth) ** (1 / 365), recomputed only when the yearly rate changes."""
        growth = self.params["efficiency_growth_per_year"]
        if self._growth_key != growth.tobytes():
            self._growth_key = growth.tobytes()
            self._growth = (1.0 + growth) ** (1.0 / DAYS_PER_YEAR)
        return self._growth

    def describe(self, i: int) -> dict[str, float]:
        cap = self.capacity_mtok[i]
        return {
            "price_cny_per_mtok": float(self.price[i]),
            "unit_cost_cny_per_mtok": float(self.unit_cost[i]),
            "capacity_mtok": float(cap),
            "tokens_served_mtok": float(self.served_mtok[i]),
            "utilization": float(self.served_mtok[i] / cap) if cap > 0 else 0.0,
            "gpu_hours": float(self.bought_gpu_hours[i].sum() + self.topped_up_gpu_hours[i].sum()),
            "mtok_per_gpu_hour": float(self.params["mtok_per_gpu_hour"][i]),
        }


@njit(cache=True)
def _best_response(
    price, effective_price, cost, edges, demand, elasticity, sigma, min_margin, max_markup, excess, target
):
    """Target price of every provider (see the module docstring): the Lerner price against logit demand at
    today's prices, and, when ``excess`` = requested / served > 1, at least the price that cuts its demand to
    what it served.  NaN where the provider has no buyers or no cost yet."""
    n_buyers, n = edges.shape
    weight = np.empty(n)
    for p in range(n):
        weight[p] = effective_price[p] ** (-sigma)
    volume = np.zeros(n)
    eta_sum = np.zeros(n)
    for b in range(n_buyers):
        total = 0.0
        for p in range(n):
            if edges[b, p]:
                total += weight[p]
        if total <= 0.0 or demand[b] <= 0.0:
            continue
        for p in range(n):
            if edges[b, p]:
                s = weight[p] / total
                q = s * demand[b]
                volume[p] += q
                eta_sum[p] += q * (sigma * (1.0 - s) + elasticity[b] * s)
    for p in range(n):
        if volume[p] <= 0.0 or np.isnan(cost[p]) or cost[p] <= 0.0:
            target[p] = np.nan
            continue
        eta = eta_sum[p] / volume[p]
        markup = 1.0 / (eta - 1.0) if eta > 1.0 + 1.0 / max_markup[p] else max_markup[p]
        target[p] = cost[p] * (1.0 + max(markup, min_margin[p]))
        if excess[p] > 1.0:
            target[p] = max(target[p], price[p] * excess[p] ** (1.0 / max(eta, 0.1)))
    return target


@njit(cache=True)
def _learn(
    requested_h,
    served_h,
    compute_price_h,
    price,
    alpha,
    beta,
    profile_weight,
    cost_weight,
    level,
    trend,
    profile,
    share_seen,
    requested,
    served,
    unit_cost,
    unit_cost_today,
    eff,
):
    """:meth:`CloudProviderGroup.learn` for every provider, updating the state arrays in place."""
    n, hours = requested_h.shape
    own_value = price * eff  # what a GPU-hour of its tokens is worth to it
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
        r = requested[i]
        prev = level[i]
        level[i] = alpha * r + (1.0 - alpha) * (prev + trend[i])
        trend[i] = beta * (level[i] - prev) + (1.0 - beta) * trend[i]
        share = served[i] / total if total > 0.0 else share_seen[i]
        share_seen[i] = 0.9 * share_seen[i] + 0.1 * share
        if r <= 0.0:
            continue
        shape_sum = 0.0
        for h in range(hours):
            profile[i, h] = (1.0 - profile_weight) * profile[i, h] + profile_weight * 24.0 * requested_h[i, h] / r
            shape_sum += profile[i, h]
        for h in range(hours):
            profile[i, h] *= 24.0 / shape_sum
        # spot cost of the provider's own demand profile, CNY per GPU-hour
        spot = weighted = 0.0
        for h in range(hours):
            price_h = compute_price_h[i, h]
            if not np.isnan(price_h) and abs(price_h - own_value[i]) > 1e-3 * own_value[i]:
                spot += requested_h[i, h] * price_h
                weighted += requested_h[i, h]
        if weighted <= 0.0:
            continue
        spot /= weighted
        today = spot / eff[i]
        unit_cost_today[i] = today
        unit_cost[i] = today if np.isnan(unit_cost[i]) else (1.0 - cost_weight) * unit_cost[i] + cost_weight * today


@njit(cache=True)
def _forecast_bids(level, trend, profile, eff, price, reserve):
    """:class:`ForecastBidding` for every provider: (GPU-hours, CNY per GPU-hour) of its 48 steps, the 24 hours of
    need then the 24 of reserve (need: the forecast, :meth:`CloudProviderGroup.forecast_hourly_mtok`, over its
    efficiency)."""
    n, hours = profile.shape
    qty = np.empty(n * 2 * hours)
    bid = np.empty(n * 2 * hours)
    for i in range(n):
        per_hour = nan_max(level[i] + trend[i], 0.0) / 24.0
        value = price[i] * eff[i]
        for h in range(hours):
            need = per_hour * profile[i, h] / eff[i]
            k = i * 2 * hours + h
            qty[k] = need
            qty[k + hours] = need * reserve[i]
            bid[k] = value
            bid[k + hours] = value * RESERVE_VALUE
    return qty, bid


@njit(cache=True)
def _launches(
    draw, log_draw, rate_per_year, daily_growth, efficiency_gain, appeal_gain, appeal_decay, appeal, eff, launches
):
    """Efficiency grows (in place, in ``eff``); a model launches with probability rate / 365, lifting efficiency by
    ``efficiency_gain`` x an exponential draw (``-log_draw``) and appeal by ``appeal_gain``; appeal above 1 decays.
    Returns the new appeal; counts launches in place."""
    out = np.empty(appeal.size)
    for i in range(appeal.size):
        launch = draw[i] < rate_per_year[i] / DAYS_PER_YEAR
        eff[i] = eff[i] * daily_growth[i]
        eff[i] = eff[i] * (1.0 + efficiency_gain[i] * -log_draw[i] if launch else 1.0)
        a = 1.0 + (appeal[i] - 1.0) * appeal_decay
        out[i] = a * (1.0 + appeal_gain[i]) if launch else a
        launches[i] += launch
    return out


@njit(cache=True)
def _price_targets(
    price,
    appeal_factor,
    unit_cost,
    edges,
    demand,
    elasticity,
    sigma,
    min_margin,
    max_markup,
    requested,
    served,
):
    """Every provider's target price (:func:`_best_response`) and its ratio to today's price (1 where there is no
    target)."""
    n = price.size
    excess = np.empty(n)
    for i in range(n):
        excess[i] = nan_max(requested[i] / served[i] if served[i] > 0.0 else 1.0, 1.0)
    target = np.empty(n)
    _best_response(
        price,
        price / appeal_factor,
        unit_cost,
        edges,
        demand,
        elasticity,
        sigma,
        min_margin,
        max_markup,
        excess,
        target,
    )
    ratio = np.empty(n)
    for i in range(n):
        ratio[i] = 1.0 if np.isnan(target[i]) else target[i] / price[i]
    return target, ratio


@njit(cache=True)
def _stepped_prices(price, ratio, step):
    """Tomorrow's prices: part of the way to the target (``ratio`` = (target / price) ** adjustment), at most
    ``step`` of today's price."""
    out = np.empty(price.size)
    for i in range(price.size):
        move = nan_min(nan_max(ratio[i], 1.0 - step[i]), 1.0 + step[i])
        out[i] = nan_max(price[i] * move, 1e-6)
    return out
