"""Shared machinery for agent kinds.

Every agent is a ``mesa.Agent``.  For speed, the state of all agents of one kind lives in numpy
arrays held by a *group* (one per kind), and each agent object is a thin view onto its row: the
group's methods make the decisions of all its agents at once (bids, prices, investments), vectorised
over agents and hours.  Where a rule is a short loop run every day (storage planning, availability,
markup learning, provider pricing) it is a numba kernel over the group's arrays instead: at these
sizes a numpy formulation spends its time in per-call overhead.  Nothing here clears a market.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
from numba import njit

from tokenomy.agents.numeric import item, nan_max, nan_min

HOURS = 24
DAYS_PER_YEAR = 365.0


def daily_rate(per_year: np.ndarray | float) -> np.ndarray | float:
    """Convert a yearly growth rate into the equivalent compound daily rate."""
    return np.power(1.0 + np.asarray(per_year, dtype=float), 1.0 / DAYS_PER_YEAR) - 1.0


class _EmptyParams(dict):
    """Parameters of a kind with no agents: every setting is an empty array."""

    def __missing__(self, key: str) -> np.ndarray:
        return np.zeros(0)


NO_ORDER = 2**62  # the arrival day of an empty pipeline's first order: later than any day


class Pipeline:
    """Orders that arrive after a lead time: (arrival day, what, amount).

    ``what`` is whatever identifies the order for its owner (an agent index, or a tuple such as
    (owner, zone, technology)); every kind of capacity (GPUs, generation, storage, grid connections,
    lines) keeps its orders in one of these.  Orders for the same thing on the same day are one entry (GPUs
    shipped day by day for one data centre, say), kept where the first was placed.
    """

    def __init__(self) -> None:
        self._orders: dict[tuple[int, object], float] = {}
        self._total = 0.0
        self._first = NO_ORDER  # the earliest arrival day on order: most days nothing is due, and that is one check

    @property
    def orders(self) -> list[tuple[int, object, float]]:
        return [(when, what, amount) for (when, what), amount in self._orders.items()]

    def add(self, arrival_day: int, what: object, amount: float) -> None:
        key = (int(arrival_day), what)
        self._orders[key] = self._orders.get(key, 0.0) + float(amount)
        self._total += float(amount)
        self._first = min(self._first, key[0])

    def any_due(self, day: int) -> bool:
        """Whether an order arrives on or before ``day``."""
        return self._first <= day

    def due(self, day: int) -> list[tuple[object, float]]:
        """Remove and return the orders whose arrival day has come, in the order they were placed."""
        if self._first > day:
            return []
        arrived = [(what, amount) for (when, what), amount in self._orders.items() if when <= day]
        self._orders = {key: amount for key, amount in self._orders.items() if key[0] > day}
        self._total = float(sum(self._orders.values()))
        self._first = min((key[0] for key in self._orders), default=NO_ORDER)
        return arrived

    def pending(self, n: int, index=None) -> np.ndarray:
        """Amounts on order summed per integer key (``index(what)`` picks the key; default ``what``)."""
        out = np.zeros(n)
        for (_, what), amount in self._orders.items():
            out[what if index is None else index(what)] += amount
        return out

    def total(self) -> float:
        """All amounts on order."""
        return self._total

    def __len__(self) -> int:
        return len(self._orders)

    def __iter__(self):
        return iter(self.orders)


class Filled:
    """``np.full(n, value)`` for a number that is handed over every day and rarely changes: made again only when the
    number does (the array is shared from call to call; its users only read it)."""

    def __init__(self, n: int) -> None:
        self._value: float | None = None
        self._array = np.empty(n)

    def __call__(self, value: float) -> np.ndarray:
        if value != self._value:  # (a NaN is never equal: made each time, as before)
            self._value = value
            self._array = np.full(self._array.size, value)
        return self._array


class DailyGrowth:
    """``1 + daily_rate(per_year)`` of a yearly rate array, recomputed only when the rates change (an event may
    change them): the factor a quantity growing at that yearly rate is multiplied by each day."""

    def __init__(self) -> None:
        self._key: bytes | None = None
        self._factor = np.ones(0)

    def __call__(self, per_year: np.ndarray) -> np.ndarray:
        key = per_year.tobytes()
        if key != self._key:
            self._key = key
            self._factor = 1.0 + daily_rate(per_year)
        return self._factor


@njit(cache=True)
def ar1_log_step(state, draws, sigma, persistence):
    """:func:`ar1_lognormal` up to the exponential: moves ``state`` on (in place) and returns state - sigma^2 / 2,
    whose exponential (taken by numpy, as before) is the day's multiplier.  ``sigma`` is an array or a number."""
    out = np.empty(state.size)
    rho = persistence
    for i in range(state.size):
        s = item(sigma, i)
        state[i] = rho * state[i] + s * np.sqrt(max(1.0 - rho**2, 0.0)) * draws[i]
        out[i] = state[i] - 0.5 * s**2
    return out


@njit(cache=True)
def bass_step_in_place(adopters, potential, p_per_year, q_per_year):
    """:func:`bass_step`, writing the new adopters into ``adopters``."""
    for i in range(adopters.size):
        a, m = adopters[i], potential[i]
        room = nan_max(m - a, 0.0)
        if room > 0.0:  # (a >= m: nobody is left to adopt, and a / m may not be a number: m can be tiny)
            share = a / m
            new = (p_per_year[i] / DAYS_PER_YEAR + q_per_year[i] / DAYS_PER_YEAR * share) * room
            adopters[i] = nan_min(a + new, m)


def ar1_lognormal(
    state: np.ndarray, draws: np.ndarray, sigma: np.ndarray | float, persistence: np.ndarray | float
) -> np.ndarray:
    """Move a persistent log-noise state one day on (in place) and return the multiplier exp(state - s^2/2),
    whose mean is 1: the day-to-day noise of demand, weather and the like."""
    rho = np.asarray(persistence, dtype=float)
    s = np.asarray(sigma, dtype=float)
    state[:] = rho * state + s * np.sqrt(np.maximum(1.0 - rho**2, 0.0)) * draws
    return np.exp(state - 0.5 * s**2)


class Group:
    """Vectorised parameters and state of all agents of one kind.

    Numeric scenario settings become float arrays named as in the scenario file, so timeline events
    (``apps.chat.agent_multiplier``) can set them by name and index.
    """

    kind: str = "agent"

    def __init__(self, items: list[dict[str, Any]]):
        self.items = items
        self.names: list[str] = [it["name"] for it in items]
        self.n = len(items)
        self.params: dict[str, np.ndarray] = {} if items else _EmptyParams()
        if items:
            for key, value in items[0].items():
                if isinstance(value, bool):
                    continue
                if isinstance(value, int | float) or value is None:
                    self.params[key] = np.array(
                        [np.nan if it[key] is None else float(it[key]) for it in items], dtype=float
                    )
        self.agents: list[GroupAgent] = []

    def __getattr__(self, name: str) -> np.ndarray:
        params = self.__dict__.get("params")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def index(self, name: str) -> int:
        return self.names.index(name)

    def set_param(self, key: str, index: int, value: float) -> None:
        """Apply a timeline event or a live slider to one agent's setting."""
        self.params[key][index] = value

    def strategy_name(self, i: int) -> str:
        strategies = getattr(self, "strategy", None)
        return strategies[i] if isinstance(strategies, list) else "rule"

    def describe(self, i: int) -> dict[str, float]:
        """The state a viewer shows on hover; kinds extend it."""
        return {}


class TokenBuyerGroup(Group):
    """A kind of token buyer (apps, enterprise segments): each with an hourly profile of use and cash, what it
    wanted and was served today, and persistent day-to-day noise on its use (seeded)."""

    def __init__(self, items: list[dict[str, Any]]):
        super().__init__(items)
        self.profile = np.array([hourly_profile(it["profile"]) for it in items]).reshape(self.n, 24)
        self.cash = np.array([it["cash_cny"] for it in items], dtype=float)
        self.demand_mtok = np.zeros(self.n)
        self.served_mtok = np.zeros(self.n)
        self.noise = np.ones(self.n)
        self._noise_state = np.zeros(self.n)
        self._sigma = Filled(self.n)

    def draw_noise(self, draws: np.ndarray, sigma: float, persistence: float) -> None:
        """Today's noise on use: a log-normal AR(1) factor (mean 1) moved on by the standard normal ``draws``."""
        # (sigma for every agent, as the labs give theirs: one compiled version of the kernel, not two, to load)
        self.noise = np.exp(ar1_log_step(self._noise_state, draws, self._sigma(float(sigma)), float(persistence)))


class GroupAgent(mesa.Agent):
    """A Mesa agent: the per-entity face of row ``index`` of its kind's :class:`Group`.

    Its state, its strategy and its cash are read through it (``model.agents_by_type[AIDC]`` lists every
    data centre); the group's arrays stay the fast path underneath, so reading an agent never copies
    or recomputes a market.
    """

    def __init__(self, model: mesa.Model, group: Group, index: int):
        super().__init__(model)
        self.group = group
        self.index = index
        self.node_id: int | None = None

    @property
    def name(self) -> str:
        return self.group.names[self.index]

    @property
    def kind(self) -> str:
        return self.group.kind

    @property
    def cash_cny(self) -> float:
        """Cash in the ledger (a view kept by the group)."""
        cash = getattr(self.group, "cash", None)
        return float(cash[self.index]) if cash is not None and len(cash) > self.index else 0.0

    @property
    def strategy(self) -> str:
        """Name of the rule that makes this agent's decisions."""
        return self.group.strategy_name(self.index)

    def state(self) -> dict[str, float]:
        return self.group.describe(self.index)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class TokenBuyer(GroupAgent):
    """A buyer of tokens (an app or an enterprise segment): what it wanted today and what it was served."""

    @property
    def tokens_wanted_mtok(self) -> float:
        return float(self.group.demand_mtok[self.index])

    @property
    def tokens_served_mtok(self) -> float:
        return float(self.group.served_mtok[self.index])


def hourly_profile(name: str) -> np.ndarray:
    """Normalised 24-hour demand profiles (mean 1).  Evening-peaked consumer use, business hours
    for firms."""
    h = np.arange(HOURS, dtype=float)
    if name == "evening":
        shape = 0.45 + 0.35 * np.exp(-0.5 * ((h - 14.0) / 4.0) ** 2) + 0.9 * np.exp(-0.5 * ((h - 21.0) / 2.2) ** 2)
    elif name == "business":
        shape = 0.25 + 1.6 * np.exp(-0.5 * ((h - 10.5) / 2.2) ** 2) + 1.4 * np.exp(-0.5 * ((h - 15.5) / 2.0) ** 2)
    else:
        shape = np.ones(HOURS)
    return shape / shape.mean()


def bass_step(
    adopters: np.ndarray, potential: np.ndarray, p_per_year: np.ndarray, q_per_year: np.ndarray
) -> np.ndarray:
    """One day of Bass diffusion: new adopters = (p + q * share adopted) * remaining potential; where the adopters
    already fill the potential (it may have been lowered below them), nobody is added and nobody leaves."""
    p = p_per_year / DAYS_PER_YEAR
    q = q_per_year / DAYS_PER_YEAR
    room = np.maximum(potential - adopters, 0.0)
    # the share adopted only where there is room (then 0 <= adopters < potential): a / m of a tiny m overflows
    share = np.divide(adopters, potential, out=np.ones_like(adopters), where=room > 0)
    new = np.where(room > 0, (p + q * share) * room, 0.0)
    return np.minimum(adopters + new, np.maximum(potential, adopters))
