"""``q-learning``: a provider prices its tokens by Q-learning (Watkins and Dayan 1992), in the manner of Calvano,
Calzolari, Denicolò and Pastorello (2020), whose two-firm experiment is the lesson
:mod:`tokenomy.abm.lessons.algorithmic_pricing`.

Each provider that follows the rule keeps a table Q(s, a) over

* actions: a markup over its expected unit compute cost, one of :data:`Q_MARKUPS` (15 points from 0 to 2: a price
  from its cost to three times it); its target price is cost x (1 + markup), approached as the other rules approach
  theirs (:func:`agents.cloud_provider._stepped_prices`);
* states: its own posted price and its rivals' mean posted price, each as a markup over *its own* expected cost,
  rounded to the nearest point of the same grid (15 x 15 states).  Markups, not prices: compute costs fall year
  after year, and a table of markups stays meaningful while a table of prices would not.

Once a day, after its cost is learned (the model's step 6), it

1. rewards yesterday's choice: today's profit in days of the market's revenue (all providers' posted price x
   tokens served, smoothed over :data:`REVENUE_MEMORY_DAYS`), less its usual value (that profit share smoothed
   over the same memory), and updates Q(s, a) <- (1 - alpha) Q(s, a) + alpha (reward + delta max_a' Q(s', a'));
2. chooses tomorrow's markup epsilon-greedily: with probability epsilon_t = exp(-beta t) (t: the days it has
   decided so far) a markup drawn uniformly from the grid, otherwise its greedy markup argmax_a Q(s', a), ties
   going to the markup nearest its current one (so a provider that knows nothing yet keeps its price).

Why these scales: a reward in days of the market's revenue stays comparable while the market grows tenfold;
the market's revenue, not its own, because one provider's price moves its own revenue a lot (its buyers leave
for rivals) and the market's little, and a scale that followed its own choices would bend what it maximises.
Rewards are measured against its usual reward so that Q = 0, where every entry starts, means "an ordinary
markup": an untried markup is neither presumed better nor worse than what it has been earning, whatever the
level of its profits (the paper starts each price at its value against a rival who randomises, likewise an
average).  Before its cost is known it keeps its price.

Randomness: ``rng.random((2, members))`` every day, whatever happens (explore or not, which markup), from the
model's seeded generator passed to ``learn``: a run is the same for the same seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from tokenomy.agents.cloud_provider import _stepped_prices
from tokenomy.agents.strategies import TOKEN_PRICING, TokenPricing, register

if TYPE_CHECKING:
    from tokenomy.agents.cloud_provider import CloudProviderGroup, PricingView, ProviderOutcome

Q_MARKUPS = np.linspace(0.0, 2.0, 15)  # actions and state bins: markup over the provider's expected unit cost
Q_ALPHA = 0.15  # learning rate (the paper's)
Q_DELTA_PER_DAY = 0.95  # discount factor per day (the paper's per period)
Q_EXPLORATION_DECAY_PER_DAY = 0.008  # epsilon = exp(-0.008 t): 0.45 after 100 days, 0.05 after a year
REVENUE_MEMORY_DAYS = 30.0  # the market's revenue, smoothed over about a month: the unit of rewards


@register(TOKEN_PRICING, "q-learning")
class QLearningPricing(TokenPricing):
    """Expected unit cost x (1 + a markup chosen by Q-learning on the day's profit), approached as the best response
    is (module docstring)."""

    def __init__(self, group: CloudProviderGroup, members: np.ndarray):
        super().__init__(group, members)
        size = Q_MARKUPS.size
        self.alpha = Q_ALPHA
        self.delta = Q_DELTA_PER_DAY
        self.decay_per_day = Q_EXPLORATION_DECAY_PER_DAY
        self.q = np.zeros((members.size, size * size, size))  # (member, state, action)
        self.state = np.full(members.size, -1, dtype=np.int64)  # -1: no choice made yet
        self.action = np.full(members.size, -1, dtype=np.int64)
        self.days = np.zeros(members.size, dtype=np.int64)  # days it has chosen a markup
        self.market_revenue_cny_per_day = np.full(members.size, np.nan)  # the unit of its rewards
        self.usual_reward = np.full(members.size, np.nan)  # its smoothed profit share: the baseline of rewards
        self.explored = np.zeros(members.size, dtype=np.bool_)  # whether its last choice was an exploration
        self.markup = np.full(group.n, np.nan)  # the markup each member chose (NaN: none yet)

    def prices(self, group: CloudProviderGroup, view: PricingView) -> np.ndarray:
        p = group.params
        target = group.unit_cost * (1.0 + self.markup)  # NaN where its cost or its choice is not known yet
        group.target_price[self.members] = target[self.members]
        ratio = np.where(np.isnan(target), 1.0, target / group.price)  # without a target it keeps its price
        return _stepped_prices(group.price, ratio ** p["price_adjustment"], p["price_step"])

    def learn(self, group: CloudProviderGroup, outcome: ProviderOutcome, rng: np.random.Generator) -> None:
        draws = rng.random((2, self.members.size))
        _q_learn(
            self.q,
            self.state,
            self.action,
            self.days,
            self.market_revenue_cny_per_day,
            self.usual_reward,
            self.explored,
            self.markup,
            self.members,
            group.price,
            group.unit_cost,
            group.served_mtok,
            np.asarray(outcome.profit_cny, dtype=float),
            draws,
            Q_MARKUPS,
            self.alpha,
            self.delta,
            self.decay_per_day,
            REVENUE_MEMORY_DAYS,
        )


@njit(cache=True)
def _bin(markup, grid):
    """The index of the grid point nearest ``markup`` (the ends for markups beyond them)."""
    best = 0
    for k in range(1, grid.size):
        if abs(grid[k] - markup) < abs(grid[best] - markup):
            best = k
    return best


@njit(cache=True)
def _greedy(row, near):
    """argmax of ``row``, ties going to the index nearest ``near``."""
    best = near
    for k in range(row.size):
        if row[k] > row[best] or (row[k] == row[best] and abs(k - near) < abs(best - near)):
            best = k
    return best


@njit(cache=True)
def _q_learn(
    q,
    state,
    action,
    days,
    market_revenue,
    usual,
    explored,
    markup,
    members,
    price,
    unit_cost,
    served,
    profit,
    draws,
    grid,
    alpha,
    delta,
    decay,
    memory_days,
):
    """:meth:`QLearningPricing.learn` for every member, in place: observe the state, reward yesterday's choice,
    choose tomorrow's markup (``draws[0, m]`` below epsilon: explore, with ``draws[1, m]`` picking the markup)."""
    n_actions = grid.size
    n = price.size
    for m in range(members.size):
        i = members[m]
        cost = unit_cost[i]
        if not (cost > 0.0):  # NaN (not known yet) or none: no state; it keeps its price
            continue
        rivals = 0.0
        market = 0.0
        for j in range(n):
            market += price[j] * served[j]
            if j != i:
                rivals += price[j]
        own_bin = _bin(price[i] / cost - 1.0, grid)
        rival_bin = _bin(rivals / (n - 1) / cost - 1.0, grid) if n > 1 else 0
        now = own_bin * n_actions + rival_bin
        size = max(market, abs(profit[i]))
        if np.isnan(market_revenue[m]):
            market_revenue[m] = size
        else:
            market_revenue[m] += (size - market_revenue[m]) / memory_days
        scaled = profit[i] / market_revenue[m] if market_revenue[m] > 0.0 else 0.0
        if np.isnan(usual[m]):
            usual[m] = scaled
        reward = scaled - usual[m]  # against what it usually earns: an untried price (Q = 0) is an ordinary one
        usual[m] += (scaled - usual[m]) / memory_days
        if action[m] >= 0:
            s, a = state[m], action[m]
            best_next = q[m, now, _greedy(q[m, now], own_bin)]
            q[m, s, a] += alpha * (reward + delta * best_next - q[m, s, a])
        explored[m] = draws[0, m] < np.exp(-decay * days[m])
        choice = min(int(draws[1, m] * n_actions), n_actions - 1) if explored[m] else _greedy(q[m, now], own_bin)
        state[m] = now
        action[m] = choice
        days[m] += 1
        markup[i] = grid[choice]
