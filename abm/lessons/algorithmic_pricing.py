"""Algorithmic pricing: do Q-learning algorithms learn to collude?  The baseline experiment of Calvano, Calzolari,
Denicolò and Pastorello (2020), "Artificial Intelligence, Algorithmic Pricing, and Collusion", American Economic
Review 110(10): 3267-3297.

Two symmetric firms sell differentiated goods to logit consumers who may also buy an outside good:

    q_i = exp((a - p_i) / mu) / (sum_j exp((a - p_j) / mu) + exp(a_0 / mu)),     profit_i = (p_i - c) q_i

with a = 2, a_0 = 0, mu = 0.25 and c = 1.  Each period each firm posts a price from a grid of ``points`` (15) prices
from p_N - xi (p_M - p_N) to p_M + xi (p_M - p_N), xi = 0.1, where p_N is the one-shot Bertrand-Nash price and p_M
the price that maximises the firms' joint profit (both solved from their first-order conditions).

Each firm learns by Q-learning.  Its state is last period's prices of both firms (memory of one period: m^2
states), its action this period's price; after the period it updates the value of what it did,

    Q(s, a) <- (1 - alpha) Q(s, a) + alpha (profit + delta max_a' Q(s', a')),

and it explores with probability epsilon_t = exp(-beta t) (a price drawn uniformly from the grid), otherwise it
plays its greedy price, argmax_a Q(s, a).  Q starts at the discounted profit of each price against a rival who
draws its price uniformly, as in the paper.  The firms never see each other's Q, never communicate and are not
told to collude: each only tries to earn the most it can.

A session ends when both firms' greedy strategies (the greedy price in every state) have not changed for
``stable_periods`` (100,000) periods in a row, or at ``max_periods``.  Its outcome is measured on the limit path:
from the last state both firms follow their greedy strategies until a state repeats, and the average profit
over that cycle gives the profit gain

    Delta = (profit - profit_N) / (profit_M - profit_N)        (0: competition, 1: a perfect cartel).

The impulse response forces firm 1 to deviate for one period to its static best response (the grid price that
maximises this period's profit against the rival's price), then lets both firms follow their greedy strategies
again: algorithms that collude punish the deviation with lower prices and then return to the high prices.

Every random draw comes from the ``numpy.random.Generator`` passed in: two uniform numbers per firm and period
(explore or not, and which price), drawn in chunks of :data:`DRAW_CHUNK` periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from tokenomy.abm.lessons.limits import DEFAULT_MAX_PERIODS, MAX_PERIODS, PAPER_ALPHA, PAPER_BETA, PAPER_DELTA

__all__ = [
    "MAX_PERIODS",
    "AlgorithmicPricingResult",
    "LogitBertrand",
    "algorithmic_pricing",
]

CLASSROOM_BETA = 2e-5  # exploration five times shorter: a session converges in a few hundred thousand periods
STABLE_PERIODS = 100_000  # greedy strategies unchanged this long: converged
DRAW_CHUNK = 65_536  # periods whose uniforms are drawn at once
IMPULSE_PERIODS = 15  # periods shown after the deviation
BISECTION_STEPS = 200  # far more than a float's 52 bits need


@dataclass(frozen=True)
class LogitBertrand:
    """The paper's market: ``firms`` symmetric firms, logit demand with an outside good.

    ``quality`` a (the same for every firm), ``outside_quality`` a_0, ``differentiation`` mu (the larger, the less
    substitutable the goods; as mu goes to 0 they become perfect substitutes), ``cost`` c (a unit's marginal cost).
    """

    firms: int = 2
    quality: float = 2.0
    outside_quality: float = 0.0
    differentiation: float = 0.25
    cost: float = 1.0

    def demand(self, prices: np.ndarray) -> np.ndarray:
        """Each firm's demand at ``prices`` (..., firms): the logit share of a unit mass of consumers."""
        p = np.asarray(prices, dtype=float)
        utility = (self.quality - p) / self.differentiation
        outside = np.full(p.shape[:-1] + (1,), self.outside_quality / self.differentiation)
        top = np.maximum(utility.max(axis=-1, keepdims=True), outside)  # shift before exp: no overflow
        weight = np.exp(utility - top)
        return weight / (weight.sum(axis=-1, keepdims=True) + np.exp(outside - top))

    def profit(self, prices: np.ndarray) -> np.ndarray:
        """Each firm's profit (p_i - c) q_i at ``prices`` (..., firms)."""
        p = np.asarray(prices, dtype=float)
        return (p - self.cost) * self.demand(p)

    def _share_at_common_price(self, price: float) -> float:
        """One firm's demand when every firm posts ``price``: 1 / (n + exp((a_0 - a + p) / mu))."""
        exponent = (self.outside_quality - self.quality + price) / self.differentiation
        return 1.0 / (self.firms + math.exp(min(exponent, 700.0)))

    def nash_price(self) -> float:
        """The symmetric one-shot Bertrand-Nash price.  A firm's first-order condition with logit demand is
        1 - (p - c)(1 - q) / mu = 0, so p = c + mu / (1 - q(p)); the gap p - c - mu / (1 - q(p)) rises with p, is
        negative at c + mu and not negative at c + mu n / (n - 1) (a firm's share is below 1 / n): bisection."""
        mu, c, n = self.differentiation, self.cost, self.firms
        return _bisect(lambda p: p - c - mu / (1.0 - self._share_at_common_price(p)), c + mu, c + mu * n / (n - 1))

    def monopoly_price(self) -> float:
        """The common price that maximises the firms' joint profit n (p - c) q(p): its first-order condition is
        p = c + mu / (1 - n q(p)); the gap rises with p and is negative at c + mu: bisection, the upper end doubled
        until the gap turns positive."""
        mu, c, n = self.differentiation, self.cost, self.firms

        def gap(p: float) -> float:
            return p - c - mu / (1.0 - n * self._share_at_common_price(p))

        width = mu
        while gap(c + mu + width) < 0.0:
            width *= 2.0
        return _bisect(gap, c + mu, c + mu + width)

    def price_grid(self, points: int = 15, extension: float = 0.1) -> np.ndarray:
        """``points`` evenly spaced prices from p_N - xi (p_M - p_N) to p_M + xi (p_M - p_N), xi = ``extension``."""
        nash, monopoly = self.nash_price(), self.monopoly_price()
        gap = monopoly - nash
        return np.linspace(nash - extension * gap, monopoly + extension * gap, points)


def _bisect(gap, lo: float, hi: float) -> float:
    """The root of an increasing ``gap`` in [lo, hi] (gap(lo) < 0 <= gap(hi))."""
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if gap(mid) < 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * max(1.0, abs(hi)):
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class AlgorithmicPricingResult:
    """One learning session: the theory's benchmarks beside what the algorithms learned."""

    grid: np.ndarray  # (m,) the prices a firm chooses from
    nash_price: float  # one-shot Bertrand-Nash price p_N
    monopoly_price: float  # joint-profit-maximising price p_M
    nash_profit: float  # each firm's profit at p_N
    monopoly_profit: float  # each firm's profit at p_M
    converged: bool  # greedy strategies unchanged for stable_periods before the cap
    periods: int  # periods played (to convergence, or the cap)
    limit_prices: np.ndarray  # (L, n) prices along the limit cycle of the greedy strategies (L = 1: a fixed point)
    limit_profits: np.ndarray  # (L, n) each firm's profit along it
    profit_gain: np.ndarray  # (n,) Delta of each firm: its mean profit over the cycle against Nash and monopoly
    impulse_prices: np.ndarray  # (impulse periods + 2, n): the period before, the deviation, then the periods after
    undisturbed_prices: np.ndarray  # the same periods had nobody deviated (the limit path)
    alpha: float
    delta: float
    beta: float
    memory: int

    @property
    def mean_profit_gain(self) -> float:
        """Delta averaged over the firms (the paper's measure of a session)."""
        return float(self.profit_gain.mean())

    @property
    def mean_price(self) -> float:
        """The average price on the limit path, over periods and firms."""
        return float(self.limit_prices.mean())

    @property
    def rival_punishes(self) -> bool:
        """Whether firm 2 answers firm 1's deviation with a lower price than it would have posted otherwise, in the
        first period it can react (period 1)."""
        return bool(self.impulse_prices[2, 1] < self.undisturbed_prices[2, 1] - 1e-12)

    @property
    def impulse_periods(self) -> np.ndarray:
        """The period of each row of ``impulse_prices``: -1 before the deviation, 0 the deviation, then 1, 2, ..."""
        return np.arange(-1, self.impulse_prices.shape[0] - 1)


def _check(alpha: float, delta: float, beta: float, max_periods: int, stable_periods: int, memory: int) -> None:
    if not (np.isfinite(alpha) and 0.0 < alpha <= 1.0):
        raise ValueError(f"the learning rate alpha must be in (0, 1], got {alpha:g}")
    if not (np.isfinite(delta) and 0.0 <= delta < 1.0):
        raise ValueError(f"the discount factor delta must be in [0, 1), got {delta:g}")
    if not (np.isfinite(beta) and beta > 0.0):
        raise ValueError(f"the exploration decay beta must be a finite number > 0, got {beta:g}")
    if not 1 <= max_periods <= MAX_PERIODS:
        raise ValueError(f"the cap of periods must be in [1, {MAX_PERIODS:,}], got {max_periods:,}")
    if stable_periods < 1:
        raise ValueError(f"stable_periods must be at least 1, got {stable_periods}")
    if memory not in (0, 1):
        raise ValueError(f"memory is 0 (no state) or 1 (last period's prices), got {memory}")


def algorithmic_pricing(
    *,
    alpha: float = PAPER_ALPHA,
    delta: float = PAPER_DELTA,
    beta: float = PAPER_BETA,
    max_periods: int = DEFAULT_MAX_PERIODS,
    stable_periods: int = STABLE_PERIODS,
    memory: int = 1,
    points: int = 15,
    extension: float = 0.1,
    impulse_periods: int = IMPULSE_PERIODS,
    market: LogitBertrand | None = None,
    rng: np.random.Generator | int | None = 0,
) -> AlgorithmicPricingResult:
    """One session of Q-learning firms in the repeated pricing game (module docstring).

    ``memory`` 1 is the paper's state (last period's prices); 0 gives the firms no state at all (a counterfactual:
    a firm without memory cannot condition on what its rival did, so it cannot punish).  ``rng`` is the seeded
    generator (or a seed) of every draw."""
    _check(alpha, delta, beta, max_periods, stable_periods, memory)
    market = market or LogitBertrand()
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n, m = market.firms, points
    grid = market.price_grid(points, extension)
    profiles = np.indices((m,) * n).reshape(n, -1).T[:, ::-1]  # row k: firm i's action is digit i of k in base m
    profit = np.ascontiguousarray(market.profit(grid[profiles]))  # (m^n, n): profit of every action profile
    powers = m ** np.arange(n, dtype=np.int64)
    states = m**n if memory else 1
    q = np.empty((n, states, m))
    for i in range(n):
        # the discounted profit of each own price against rivals who draw theirs uniformly
        mean_profit = np.array([profit[profiles[:, i] == a, i].mean() for a in range(m)])
        q[i] = mean_profit / (1.0 - delta)
    greedy = np.argmax(q, axis=2).astype(np.int64)
    state, stable, period = 0, 0, 0  # the first period's state is arbitrary: both firms at the lowest price
    while period < max_periods and stable < stable_periods:
        draws = gen.random((min(DRAW_CHUNK, max_periods - period), n, 2))
        played, state, stable = _learn(
            q, greedy, profit, powers, draws, period, state, stable, stable_periods, alpha, delta, beta, memory
        )
        period += played
    cycle = _limit_cycle(greedy, powers, state, memory, m)
    limit_prices, limit_profits = grid[profiles[cycle]], profit[cycle]
    p_nash, p_monopoly = market.nash_price(), market.monopoly_price()
    profit_nash = float(market.profit(np.full(n, p_nash))[0])
    profit_monopoly = float(market.profit(np.full(n, p_monopoly))[0])
    gain = (limit_profits.mean(axis=0) - profit_nash) / (profit_monopoly - profit_nash)
    impulse, undisturbed = _impulse(greedy, profit, powers, cycle, memory, m, impulse_periods)
    return AlgorithmicPricingResult(
        grid=grid,
        nash_price=p_nash,
        monopoly_price=p_monopoly,
        nash_profit=profit_nash,
        monopoly_profit=profit_monopoly,
        converged=stable >= stable_periods,
        periods=period,
        limit_prices=limit_prices,
        limit_profits=limit_profits,
        profit_gain=gain,
        impulse_prices=grid[profiles[impulse]],
        undisturbed_prices=grid[profiles[undisturbed]],
        alpha=float(alpha),
        delta=float(delta),
        beta=float(beta),
        memory=int(memory),
    )


def _limit_cycle(greedy: np.ndarray, powers: np.ndarray, state: int, memory: int, m: int) -> np.ndarray:
    """The action profiles (indices) the greedy strategies play from ``state`` once they repeat: the limit path."""
    seen: dict[int, int] = {}
    played: list[int] = []
    while state not in seen:
        seen[state] = len(played)
        profile = int((greedy[:, state] * powers).sum())
        played.append(profile)
        state = profile if memory else 0
    return np.array(played[seen[state] :], dtype=np.int64)


def _impulse(
    greedy: np.ndarray, profit: np.ndarray, powers: np.ndarray, cycle: np.ndarray, memory: int, m: int, periods: int
) -> tuple[np.ndarray, np.ndarray]:
    """Action profiles around a one-period deviation by firm 0 from the limit cycle: the period before (the cycle's
    last profile), the deviation (firm 0 at its static best response to its rivals' greedy prices, the rivals at
    theirs), then ``periods`` periods in which every firm follows its greedy strategy; and the same periods had
    nobody deviated."""
    before = int(cycle[-1])
    state = before if memory else 0
    rivals = int((greedy[:, state] * powers).sum()) - int(greedy[0, state])  # the rivals' part of the profile
    best = int(np.argmax([profit[rivals + a, 0] for a in range(m)]))  # powers[0] = 1
    return _greedy_path(greedy, powers, [before, rivals + best], memory, periods), _greedy_path(
        greedy, powers, [before], memory, periods + 1
    )


def _greedy_path(greedy: np.ndarray, powers: np.ndarray, start: list[int], memory: int, periods: int) -> np.ndarray:
    """``start`` (action profiles) followed by ``periods`` profiles of greedy play."""
    out = list(start)
    for _ in range(periods):
        state = out[-1] if memory else 0
        out.append(int((greedy[:, state] * powers).sum()))
    return np.array(out, dtype=np.int64)


@njit(cache=True)
def _argmax_row(row):
    """The first index of the largest value of ``row``."""
    best = 0
    for k in range(1, row.size):
        if row[k] > row[best]:
            best = k
    return best


@njit(cache=True)
def _learn(q, greedy, profit, powers, draws, t0, state, stable, stable_needed, alpha, delta, beta, memory):
    """Play and learn ``draws.shape[0]`` periods from period ``t0`` (or until the greedy strategies have been unchanged
    for ``stable_needed`` periods), updating ``q`` (firm, state, action) and ``greedy`` (firm, state) in place.

    Each firm explores with probability exp(-beta t) (``draws[k, i, 0]`` below it), playing the price
    ``draws[k, i, 1]`` picks uniformly, else its greedy price.  Only Q(s, a) of the state played changes in a period,
    so only that state's greedy price can change: the stability count needs one row scan per firm and period.
    Returns (periods played, the state reached, the stability count)."""
    n, _, m = q.shape
    actions = np.empty(n, dtype=np.int64)
    for k in range(draws.shape[0]):
        epsilon = np.exp(-beta * (t0 + k))
        profile = 0
        for i in range(n):
            explore = draws[k, i, 0] < epsilon
            a = min(int(draws[k, i, 1] * m), m - 1) if explore else greedy[i, state]
            actions[i] = a
            profile += a * powers[i]
        after = profile if memory else 0
        changed = False
        for i in range(n):
            a = actions[i]
            target = profit[profile, i] + delta * q[i, after, greedy[i, after]]
            q[i, state, a] += alpha * (target - q[i, state, a])
            best = _argmax_row(q[i, state])
            if best != greedy[i, state]:
                greedy[i, state] = best
                changed = True
        stable = 0 if changed else stable + 1
        state = after
        if stable >= stable_needed:
            return k + 1, state, stable
    return draws.shape[0], state, stable
