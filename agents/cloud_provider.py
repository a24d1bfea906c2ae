"""CloudProvider: sells tokens at a posted price and buys the GPU-hours it needs, hour by hour.

Each day a provider

* forecasts its requests for every hour (Holt's linear smoothing of the daily total, an exponentially
  smoothed 24-hour profile) and bids in the hourly compute market for the GPU-hours that forecast needs,
  valued at what the tokens sell for (price x Mtok per GPU-hour), plus a reserve it chooses, valued lower;
* serves tokens with what it bought; when it runs short in an hour it buys idle GPU-hours on the spot
  (the top-up in :mod:`abm.markets.top_up`);
* learns its marginal compute cost per token: the hourly compute prices weighted by its own hourly requests
  (peak hours cost more: peak-load pricing reaches the token).  In an hour where compute ran out and its
  own bid was the marginal one, the clearing price is its shadow price of compute (what it would have had
  to pay for one more GPU-hour is at least what its tokens are worth), so scarcity in the compute market
  raises its cost.  Its term contracts are hedges and do not enter;
* posts tomorrow's price, by its pricing rule (``strategy``):

  ``switching-cost`` (Klemperer 1987, 1995; Farrell and Klemperer 2007): buyers who chose a provider stay
  with it (``markets.token_inertia`` of them a day, less for a growing buyer whose new demand chooses
  afresh), so a price today buys future demand.  The provider maximises today's margin on the demand it
  will get plus the value of the share it wins: each unit of share of buyer b is worth the margin it
  expects once the market matures (its static Lerner margin) on b's retained demand over its horizon,
  ``m x D_b x sum_k (lambda g_b delta)^k``.  Where customers' use grows fast and they stay, that value
  beats today's margin and the provider prices low, below cost if need be (bargains); where the market
  is mature it harvests its locked-in base (rip-offs).  A rival's cheaper model makes it fight back: its
  switchers leave, and the share it would lose is worth defending.
  ``best-response``: the static Lerner price against logit demand, p* = c eta / (eta - 1), with eta the
  demand elasticity sum_b w_b (sigma (1 - s_b) + e_b s_b) at today's prices (no value of share).
  ``roth-erev``: Roth-Erev reinforcement over markups; ``fixed``: a price set from outside.

  Under every rule scarcity reaches the price only through the market: the shadow price of compute in
  its cost, and demand still unserved after the spot top-up.  A provider whose buyers were left unserved
  (after every GPU-hour the AIDCs would sell below what tokens earn was bought) aims at least at the price
  that would cut its demand to what the market could serve, p x (1 + unserved / served)^(1 / eta).  The
  posted price moves part of the way to its target each day.

Model launches (seeded, Poisson) raise a provider's efficiency and, for a while, its appeal to buyers;
rivals imitate: on any day a provider may (with a seeded hazard) close part of the gap between its
efficiency and the best in the market.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.base import DAYS_PER_YEAR, Group, GroupAgent
from tokenomy.agents.choice import appeal_factor, choice_probability, effective_prices, log_weights, switching_bond
from tokenomy.agents.finance import DISCOUNT_RATE
from tokenomy.agents.numeric import bipartite_lists, nan_max, nan_min
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
DISCOUNT_PER_DAY = (1.0 + DISCOUNT_RATE) ** (-1.0 / DAYS_PER_YEAR)  # the value of a yuan tomorrow, today
MARGIN_MEMORY_DAYS = 90.0  # switching-cost pricing: how long the margin it expects on kept customers remembers


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
    """The static Lerner price against logit demand (module docstring), at least the market-clearing price where
    demand went unserved."""

    def prices(self, group: CloudProviderGroup, view: PricingView) -> np.ndarray:
        p = group.params
        target, ratio = _price_targets(
            group.price,
            group.appeal_factor(view.sensitivity),
            group.appeal,
            group.unit_cost,
            view.edges,
            view.demand_mtok,
            view.elasticity,
            view.sensitivity,
            p["min_margin"],
            p["max_markup"],
            group.served_mtok,
            group.unserved_mtok,
            group.floor_bound,
        )
        return _toward_targets(group, self.members, target, ratio)


def _toward_targets(
    group: CloudProviderGroup, members: np.ndarray, target: np.ndarray, ratio: np.ndarray
) -> np.ndarray:
    """Note the members' targets; tomorrow's prices moved toward them (``price_adjustment``, ``price_step``)."""
    group.target_price[members] = target[members]
    p = group.params
    return _stepped_prices(group.price, ratio ** p["price_adjustment"], p["price_step"])


@register(TOKEN_PRICING, "switching-cost")
class SwitchingCostPricing(TokenPricing):
    """Today's margin plus the value of the share it wins, against buyers who stay (module docstring); at least the
    market-clearing price where demand went unserved."""

    def prices(self, group: CloudProviderGroup, view: PricingView) -> np.ndarray:
        p = group.params
        target, ratio = _share_value_targets(
            group.price,
            group.appeal_factor(view.sensitivity),
            group.appeal,
            group.unit_cost,
            view.edges,
            view.share,
            view.new_share,
            view.demand_mtok,
            view.elasticity,
            view.sensitivity,
            view.retention,
            view.usage_growth_per_day,
            p["share_horizon_days"],
            p["price_hold_days"],
            DISCOUNT_PER_DAY,
            p["min_margin"],
            p["max_markup"],
            group.served_mtok,
            group.unserved_mtok,
            group.harvest_markup,
            group.floor_bound,
        )
        return _toward_targets(group, self.members, target, ratio)


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
    """Per hour, the forecast need at the value of its tokens (price x Mtok per GPU-hour; at least its expected
    compute cost: a provider that prices below cost to win share still buys what its customers need at the going
    price) and a reserve of ``reserve`` x that need valued at ``RESERVE_VALUE`` of it."""

    def bids(self, group: CloudProviderGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        p = group.params
        qty, price = _forecast_bids(
            group.level,
            group.trend,
            group.profile,
            p["mtok_per_gpu_hour"],
            group.price,
            group.unit_cost,
            p["reserve"],
            group.reserved_gpus,
        )
        return group._bid_owner, group._bid_hour, qty, price


class ProviderOutcome:
    """What a provider's pricing rule learns from: the share of its capacity it sold and its profit today."""

    __slots__ = ("sold_share", "profit_cny")

    def __init__(self, sold_share: np.ndarray, profit_cny: np.ndarray):
        self.sold_share = sold_share
        self.profit_cny = profit_cny


class PricingView:
    """What a provider knows when it sets tomorrow's price: the buyers it faces, how they respond and how they stay.

    ``edges`` (B, P) who buys from whom; ``demand_mtok`` (B,) each buyer's demand today and ``elasticity`` (B,) its
    own price elasticity; ``sensitivity`` the logit weight on log price; ``share`` (B, P) today's split;
    ``new_share`` (B,) the share of each buyer's demand that is new (growth: it chooses with no bond);
    ``retention`` the probability a customer stays with its provider from one day to the next when prices are
    equal (``markets.token_inertia``); ``usage_growth_per_day`` (B,) how fast each buyer's use per customer grows
    (a factor a day).
    """

    __slots__ = (
        "edges",
        "demand_mtok",
        "elasticity",
        "sensitivity",
        "share",
        "new_share",
        "retention",
        "usage_growth_per_day",
    )

    def __init__(
        self,
        edges: np.ndarray,
        demand_mtok: np.ndarray,
        elasticity: np.ndarray,
        sensitivity: float,
        share: np.ndarray | None = None,
        new_share: np.ndarray | None = None,
        retention: float = 0.0,
        usage_growth_per_day: np.ndarray | None = None,
    ):
        n_buyers = edges.shape[0]
        self.edges = edges
        self.demand_mtok = demand_mtok
        self.elasticity = elasticity
        self.sensitivity = float(sensitivity)
        self.share = (
            np.where(edges, 1.0 / np.maximum(edges.sum(axis=1, keepdims=True), 1), 0.0) if share is None else share
        )
        self.new_share = np.zeros(n_buyers) if new_share is None else new_share
        self.retention = float(retention)
        self.usage_growth_per_day = np.ones(n_buyers) if usage_growth_per_day is None else usage_growth_per_day


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
        self.bought_gpu_hours = np.zeros((self.n, 24))  # day-ahead purchases and reserved GPU-hours, by hour
        self.reserved_gpus = np.zeros((self.n, 24))  # GPUs its term contracts hold in each hour today
        self.topped_up_gpu_hours = np.zeros((self.n, 24))
        self.compute_cost_cny = np.zeros(self.n)  # paid today, contracts settled included
        self.requested_mtok = np.zeros(self.n)
        self.served_mtok = np.zeros(self.n)
        self.unit_cost = np.full(self.n, np.nan)  # expected CNY per Mtok of compute
        self.unit_cost_today = np.full(self.n, np.nan)
        self.target_price = np.full(self.n, np.nan)
        self.share_seen = np.full(self.n, 1.0 / max(self.n, 1))
        self.unserved_mtok = np.zeros(self.n)  # its share of its buyers' demand left unserved today
        self.harvest_markup = np.full(self.n, np.nan)  # switching-cost pricing: the markup it expects to harvest
        self.floor_bound = np.zeros(self.n, dtype=bool)  # today the market-clearing floor decided its target
        self.launches = np.zeros(self.n, dtype=int)
        self.imitations = np.zeros(self.n, dtype=int)
        self._growth_key = b""
        self._growth = np.ones(self.n)
        self._appeal_key: tuple[bytes, float] | None = None
        self._appeal_factor = np.ones(self.n)
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

    def token_value(self) -> np.ndarray:
        """(n,) what a Mtok is worth to each provider when it buys compute to serve it: its price -- or, if it prices
        below its expected cost (to win share), that cost: it still serves the customers it has won."""
        return np.fmax(self.price, self.unit_cost)

    def appeal_factor(self, sensitivity: float) -> np.ndarray:
        """How many times cheaper its appeal (a fresh model launch) makes each provider look to buyers whose logit
        weight on log price is ``sensitivity`` (:func:`agents.choice.appeal_factor`: infinite where the appeal has
        no price equivalent).  Recomputed only when the appeal or the sensitivity changes (it is asked for twice a
        day: by the token market and by the pricing rule)."""
        key = (self.appeal.tobytes(), float(sensitivity))
        if key != self._appeal_key:
            self._appeal_key = key
            self._appeal_factor = appeal_factor(self.appeal, sensitivity)
        return self._appeal_factor

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
        self.topped_up_gpu_hours = np.zeros(day_ahead_gpu_hours.shape)

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
        unserved_mtok: np.ndarray | None = None,
    ) -> None:
        """Update forecasts and the expected marginal cost from today; draw model launches and imitation.

        ``hourly_compute_price`` (n, 24): the compute price each provider faced in each hour;
        ``compute_cost_cny`` (n,): what it paid for compute in all, contracts settled included;
        ``unserved_mtok`` (n,): its buyers' demand still unserved after the top-up, as its share of them.
        """
        p = self.params
        self.compute_cost_cny = compute_cost_cny
        self.unserved_mtok = np.zeros(self.n) if unserved_mtok is None else unserved_mtok
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
        # efficiency improves with the yearly rate; model launches jump it and lift appeal for a while; rivals
        # imitate the best
        draws = rng.random((3, self.n))
        log_draw = np.log(np.maximum(draws[1], 1e-12))  # its negative is exponential, mean 1
        self.appeal = _launches(
            draws[0],
            log_draw,
            draws[2],
            p["launch_rate_per_year"],
            self._daily_efficiency_growth(),
            p["launch_efficiency_gain"],
            p["launch_appeal_gain"],
            APPEAL_DECAY,
            p["imitation_rate_per_year"],
            p["imitation_share"],
            self.appeal,
            p["mtok_per_gpu_hour"],
            self.launches,
            self.imitations,
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
def _logit_elasticity(price, factor, appeal, edges, demand, elasticity, sigma):
    """(volume, eta) of every provider at today's prices and appeals: pure logit shares (no inertia) of each buyer's
    demand, and the demand elasticity eta = sum_b w_b (sigma (1 - s_b) + e_b s_b) (NaN where it has no buyer)."""
    n_buyers, n = edges.shape
    effective, stands = effective_prices(price, factor)
    if stands:
        weight = np.empty(n)
        for p in range(n):
            weight[p] = effective[p] ** (-sigma)
    else:
        weight = np.exp(log_weights(price, appeal, sigma))
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
    eta = np.full(n, np.nan)
    for p in range(n):
        if volume[p] > 0.0:
            eta[p] = eta_sum[p] / volume[p]
    return volume, eta


@njit(cache=True)
def _lerner_markup(eta, min_margin, max_markup):
    """The Lerner markup 1 / (eta - 1) its demand elasticity allows, within [min_margin, max_markup]."""
    markup = 1.0 / (eta - 1.0) if eta > 1.0 + 1.0 / max_markup else max_markup
    return max(markup, min_margin)


@njit(cache=True)
def _clearing_floor(price, served, unserved, eta):
    """The price that would cut a provider's demand to what the market could serve, where its buyers were left
    unserved after the top-up: p (1 + unserved / served)^(1 / eta); 0 where nothing went unserved."""
    if not (unserved > 0.0 and served > 0.0):
        return 0.0
    return price * (1.0 + unserved / served) ** (1.0 / max(eta, 0.1))


@njit(cache=True)
def _price_targets(
    price,
    appeal_factor,
    appeal,
    unit_cost,
    edges,
    demand,
    elasticity,
    sigma,
    min_margin,
    max_markup,
    served,
    unserved,
    bound,
):
    """:class:`BestResponsePricing`: every provider's target (the static Lerner price, at least the market-clearing
    floor; NaN without buyers or a cost yet) and its ratio to today's price (1 where there is no target); ``bound``
    (in place) says where the market-clearing floor decided the target."""
    n = price.size
    _, eta = _logit_elasticity(price, appeal_factor, appeal, edges, demand, elasticity, sigma)
    target = np.full(n, np.nan)
    ratio = np.ones(n)
    for p in range(n):
        c = unit_cost[p]
        if np.isnan(eta[p]) or np.isnan(c) or c <= 0.0:
            continue
        lerner = c * (1.0 + _lerner_markup(eta[p], min_margin[p], max_markup[p]))
        floor = _clearing_floor(price[p], served[p], unserved[p], eta[p])
        bound[p] = floor > lerner
        target[p] = max(lerner, floor)
        ratio[p] = target[p] / price[p]
    return target, ratio


GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
SEARCH_STEPS = 100  # at most, in Brent's search for the best price (it converges in 10-20)
PRICE_TOLERANCE = 1e-6  # of log price: the best price to a millionth


@njit(cache=True)
def _share_path(x, p, b, weight, price, edges, share, new, bond, sigma, days):
    """Provider p's share of buyer b if it posts x for ``days`` days while its rivals keep today's prices, under the
    switching-cost logit the token market uses (:func:`agents.choice.choice_probability`: its customers stay with
    P(p | p), each rival's leave to it with P(p | q), new demand ``new`` picks it with its plain logit share).  With
    the rivals' customers taken together (share-weighted), the share follows s' = alpha s + gamma, so
    s_t = s_inf + (s_0 - s_inf) alpha^t.  Returns (sum of s_t over the days, s at the end, the buyer's expected price
    over them)."""
    sellers = np.flatnonzero(edges[b])
    shares = np.empty(sellers.size)
    for i in range(sellers.size):
        shares[i] = share[b, sellers[i]]
    return _share_path_among(x, p, b, weight, price, sellers, shares, new, bond, sigma, days)


@njit(cache=True)
def _share_path_among(x, p, b, weight, price, sellers, shares, new, bond, sigma, days):
    """:func:`_share_path` with buyer b's providers listed (``sellers``, in increasing order; p among them) and its
    shares of them (``shares``, in the same order): the work is in proportion to its consideration set, not to all
    providers, and reads one short run of numbers (at 1,000 providers the buyers' rows of a (B, P) table of shares
    are spread over memory, and reading them cost more than the arithmetic)."""
    own = weight[p] * (price[p] / x) ** sigma
    total = own
    n_rivals = 0
    for q in sellers:
        if q != p:
            total += weight[q]
            n_rivals += 1
    theta = bond
    stay = 1.0 if theta == np.inf else choice_probability(own, own, True, total, theta)
    rivals = come = rival_price = s0 = 0.0
    for i in range(sellers.size):
        if sellers[i] != p:
            rivals += shares[i]
        else:
            s0 = shares[i]
    for i in range(sellers.size):
        q = sellers[i]
        if q != p:
            weight_q = shares[i] / rivals if rivals > 0.0 else 1.0 / n_rivals
            come += weight_q * (0.0 if theta == np.inf else choice_probability(own, weight[q], False, total, theta))
            rival_price += weight_q * price[q]
    fresh = new[b]
    alpha = (1.0 - fresh) * (stay - come)
    gamma = (1.0 - fresh) * come + fresh * own / total
    s_inf = gamma / (1.0 - alpha) if alpha < 1.0 else s0
    decay = alpha**days
    summed = days * s_inf + (s0 - s_inf) * (alpha * (1.0 - decay) / (1.0 - alpha) if alpha < 1.0 else days)
    mean = summed / days
    return summed, s_inf + (s0 - s_inf) * decay, mean * x + (1.0 - mean) * rival_price


@njit(cache=True)
def _share_value(x, p, cost, harvest, weight, price, edges, share, new, bond, demand, elasticity, sigma, value, days):
    """Provider p's value of posting x: its margin over the ``days`` it holds x on the demand it then serves, plus
    the value of the share it holds at the end, sum_b [(x - c) D_b(x) sum_t s_bt(x) + harvest value_b D_b s_bL(x)]
    (:func:`_share_path`; D_b(x) the buyer's demand at the price it then expects, constant elasticity e_b; its
    demand after the days does not depend on x, only its split does)."""
    links = bipartite_lists(edges)
    today = (
        p,
        cost,
        harvest,
        weight,
        price,
        links,
        _gathered(share, links[0], links[1]),
        new,
        bond,
        demand,
        elasticity,
        sigma,
        value,
    )
    return _share_value_from(x, _expected_today(today, days), today, days)


@njit(cache=True)
def _expected_today(args, days):
    """(B,) the price each buyer of provider p expects over the ``days`` if p keeps today's price (0 for the others:
    only p's buyers, listed in ``links``, are worked out)."""
    p, _, _, weight, price, links, shares, new, bond, _, _, sigma, _ = args
    row_ptr, row_idx, col_ptr, col_idx = links
    out = np.zeros(row_ptr.size - 1)
    for k in range(col_ptr[p], col_ptr[p + 1]):
        b = col_idx[k]
        lo, hi = row_ptr[b], row_ptr[b + 1]
        out[b] = _share_path_among(
            price[p], p, b, weight, price, row_idx[lo:hi], shares[lo:hi], new, bond[b], sigma, days
        )[2]
    return out


@njit(cache=True)
def _share_value_from(x, expected_now, args, days):
    """:func:`_share_value` with the buyers' expected prices at today's price already worked out."""
    p, cost, harvest, weight, price, links, shares, new, bond, demand, elasticity, sigma, value = args
    row_ptr, row_idx, col_ptr, col_idx = links
    total = 0.0
    for k in range(col_ptr[p], col_ptr[p + 1]):
        b = col_idx[k]
        if demand[b] <= 0.0:
            continue
        lo, hi = row_ptr[b], row_ptr[b + 1]
        summed, end, expected = _share_path_among(
            x, p, b, weight, price, row_idx[lo:hi], shares[lo:hi], new, bond[b], sigma, days
        )
        now = expected_now[b]
        volume = demand[b] * (expected / now) ** (-elasticity[b]) if now > 0.0 else demand[b]
        total += (x - cost) * volume * summed + harvest * value[b] * demand[b] * end
    return total


@njit(cache=True)
def _gathered(share, row_ptr, row_idx):
    """(E,) ``share`` (B, P) at each buyer's providers (compressed sparse rows ``row_ptr``, ``row_idx``), a buyer's
    after the one before's."""
    out = np.empty(row_idx.size)
    for b in range(row_ptr.size - 1):
        for k in range(row_ptr[b], row_ptr[b + 1]):
            out[k] = share[b, row_idx[k]]
    return out


@njit(cache=True)
def _share_values(out, retention, usage_growth, discount, horizon_days):
    """Into ``out`` (B,): what a unit of each buyer's share is worth, in days of its demand: sum_{k=1..H} r^k with
    r = retention x usage growth x discount."""
    horizon = max(horizon_days, 0.0)
    for b in range(out.size):
        r = retention * usage_growth[b] * discount
        out[b] = horizon if abs(r - 1.0) < 1e-12 else r * (1.0 - r**horizon) / (1.0 - r)


@njit(cache=True)
def _best_price(lo, hi, args, hold):
    """The price in [exp(lo), exp(hi)] that maximises :func:`_share_value` with ``args``: Brent's method over log
    price (golden-section steps, parabolic steps where the objective allows), to ``PRICE_TOLERANCE``."""
    now = _expected_today(args, hold)
    a, b = lo, hi
    x = w = v = a + (1.0 - GOLDEN) * (b - a)
    fx = fw = fv = -_share_value_from(np.exp(x), now, args, hold)
    d = e = 0.0
    for _ in range(SEARCH_STEPS):
        middle = 0.5 * (a + b)
        tol = PRICE_TOLERANCE
        if abs(x - middle) <= 2.0 * tol - 0.5 * (b - a):
            break
        golden = True
        if abs(e) > tol:  # try a parabola through x, w and v
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            last = e
            e = d
            if abs(p) < abs(0.5 * q * last) and q * (a - x) < p < q * (b - x):
                d = p / q
                golden = False
                if (x + d) - a < 2.0 * tol or b - (x + d) < 2.0 * tol:
                    d = tol if middle >= x else -tol
        if golden:
            e = a - x if x >= middle else b - x
            d = (1.0 - GOLDEN) * e
        u = x + d if abs(d) >= tol else x + (tol if d >= 0.0 else -tol)
        fu = -_share_value_from(np.exp(u), now, args, hold)
        if fu <= fx:
            if u >= x:
                a = x
            else:
                b = x
            v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv, w, fw = w, fw, u, fu
            elif fu <= fv or v in (x, w):
                v, fv = u, fu
    return np.exp(x)


@njit(cache=True)
def _share_value_targets(
    price,
    appeal_factor,
    appeal,
    unit_cost,
    edges,
    share,
    new,
    demand,
    elasticity,
    sigma,
    retention,
    usage_growth,
    horizon_days,
    hold,
    discount,
    min_margin,
    max_markup,
    served,
    unserved,
    harvest_markup,
    bound,
):
    """:class:`SwitchingCostPricing`: every provider's target and its ratio to today's price (as
    :func:`_price_targets`).  The target maximises :func:`_share_value` (the price held ``hold`` days, then the
    share it leaves) by Brent's method over log price (:func:`_best_price`).  A unit of buyer b's share is worth the
    margin the provider expects to harvest on b's demand over ``horizon_days``, customers staying with probability
    ``retention`` a day and using ``usage_growth_b`` times more each day: value_b = sum_{k=1..H} (retention x
    growth_b x discount)^k.  The margin it expects to harvest is the markup over cost it has been earning,
    remembered over ``MARGIN_MEMORY_DAYS`` (``harvest_markup``, in place; it starts at its static Lerner
    markup)."""
    n_buyers, n = edges.shape
    _, eta = _logit_elasticity(price, appeal_factor, appeal, edges, demand, elasticity, sigma)
    target = np.full(n, np.nan)
    ratio = np.ones(n)
    effective, stands = effective_prices(price, appeal_factor)
    if not n:
        weight = effective
    elif stands:
        weight = (effective / effective.min()) ** (-sigma)
    else:  # the weights from their logs, relative to the largest (as the effective prices' are)
        weight = np.exp(log_weights(price, appeal, sigma))
    links = bipartite_lists(edges)  # each buyer's providers and each provider's buyers: work in proportion to the links
    row_ptr = links[0]
    shares = _gathered(share, row_ptr, links[1])
    bond = np.empty(n_buyers)
    for b in range(n_buyers):
        bond[b] = switching_bond(retention, row_ptr[b + 1] - row_ptr[b])
    value = np.empty(n_buyers)
    for p in range(n):
        c = unit_cost[p]
        if np.isnan(eta[p]) or np.isnan(c) or c <= 0.0:
            continue
        _share_values(value, retention, usage_growth, discount, horizon_days[p])
        lo = np.log(c) + np.log(0.05)
        hi = max(np.log(c) + np.log(1.0 + max_markup[p]), np.log(price[p]))
        # the margin it expects on the customers it keeps: what it has been earning (its markup over cost, remembered
        # over MARGIN_MEMORY_DAYS; at first its static Lerner markup)
        now = price[p] / c - 1.0
        if np.isnan(harvest_markup[p]):
            harvest_markup[p] = _lerner_markup(eta[p], min_margin[p], max_markup[p])
        else:
            harvest_markup[p] += (now - harvest_markup[p]) / MARGIN_MEMORY_DAYS
        today = (p, c, c * harvest_markup[p], weight, price, links, shares, new, bond, demand, elasticity, sigma, value)
        best = _best_price(lo, hi, today, hold[p])
        floor = _clearing_floor(price[p], served[p], unserved[p], eta[p])
        bound[p] = floor > best
        target[p] = max(best, floor)
        ratio[p] = target[p] / price[p]
    return target, ratio


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
        # spot cost of the provider's own demand profile, CNY per GPU-hour (its shadow price where its own bid
        # was the marginal one)
        spot = weighted = 0.0
        for h in range(hours):
            price_h = compute_price_h[i, h]
            if not np.isnan(price_h):
                spot += requested_h[i, h] * price_h
                weighted += requested_h[i, h]
        if weighted <= 0.0:
            continue
        spot /= weighted
        today = spot / eff[i]
        unit_cost_today[i] = today
        unit_cost[i] = today if np.isnan(unit_cost[i]) else (1.0 - cost_weight) * unit_cost[i] + cost_weight * today


@njit(cache=True)
def _forecast_bids(level, trend, profile, eff, price, unit_cost, reserve, reserved):
    """:class:`ForecastBidding` for every provider: (GPU-hours, CNY per GPU-hour) of its 48 steps, the 24 hours of
    need then the 24 of reserve (need: the forecast, :meth:`CloudProviderGroup.forecast_hourly_mtok`, over its
    efficiency, less what its term contracts reserved in that hour)."""
    n, hours = profile.shape
    qty = np.empty(n * 2 * hours)
    bid = np.empty(n * 2 * hours)
    for i in range(n):
        per_hour = nan_max(level[i] + trend[i], 0.0) / 24.0
        c = unit_cost[i]
        value = (price[i] if np.isnan(c) else max(price[i], c)) * eff[i]  # CloudProviderGroup.token_value
        for h in range(hours):
            need = nan_max(per_hour * profile[i, h] / eff[i] - reserved[i, h], 0.0)
            k = i * 2 * hours + h
            qty[k] = need
            qty[k + hours] = need * reserve[i]
            bid[k] = value
            bid[k + hours] = value * RESERVE_VALUE
    return qty, bid


@njit(cache=True)
def _launches(
    draw,
    log_draw,
    imitation_draw,
    rate_per_year,
    daily_growth,
    efficiency_gain,
    appeal_gain,
    appeal_decay,
    imitation_rate_per_year,
    imitation_share,
    appeal,
    eff,
    launches,
    imitations,
):
    """Efficiency grows (in place, in ``eff``); a model launches with probability rate / 365, lifting efficiency by
    ``efficiency_gain`` x an exponential draw (``-log_draw``) and appeal by ``appeal_gain``; appeal above 1 decays.
    Rivals imitate: with probability imitation rate / 365 a provider closes ``imitation_share`` of the gap between
    its efficiency and the best of yesterday's.  Returns the new appeal; counts launches and imitations in place."""
    out = np.empty(appeal.size)
    frontier = 0.0
    for i in range(appeal.size):
        frontier = max(frontier, eff[i])
    for i in range(appeal.size):
        launch = draw[i] < rate_per_year[i] / DAYS_PER_YEAR
        imitate = imitation_draw[i] < imitation_rate_per_year[i] / DAYS_PER_YEAR and frontier > eff[i]
        if imitate:
            eff[i] = eff[i] + imitation_share[i] * (frontier - eff[i])
            imitations[i] += 1
        eff[i] = eff[i] * daily_growth[i]
        eff[i] = eff[i] * (1.0 + efficiency_gain[i] * -log_draw[i] if launch else 1.0)
        a = 1.0 + (appeal[i] - 1.0) * appeal_decay
        out[i] = a * (1.0 + appeal_gain[i]) if launch else a
        launches[i] += launch
    return out


@njit(cache=True)
def _stepped_prices(price, ratio, step):
    """Tomorrow's prices: part of the way to the target (``ratio`` = (target / price) ** adjustment), at most
    ``step`` of today's price."""
    out = np.empty(price.size)
    for i in range(price.size):
        move = nan_min(nan_max(ratio[i], 1.0 - step[i]), 1.0 + step[i])
        out[i] = nan_max(price[i] * move, 1e-6)
    return out
