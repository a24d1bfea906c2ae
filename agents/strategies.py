"""Decision rules and their registry.

Every decision an agent makes -- a token price, a compute bid or ask, a power offer, a battery's plan, an
investment -- goes through a strategy object, in the manner of ASSUME's ``calculate_bids``, so a learning
rule, a fixed rule or a person playing in the browser can make it.  The registry maps a decision kind to
its rules by name, ``{kind: {name: class}}``; a scenario picks one rule per agent by name (``strategy``,
``bidding``, ``investing``), so a new rule is one class in one file, registered with :func:`register`.

A strategy works on a whole group at once (numpy arrays over agents) and is told which agents follow it
(``members``): a group may mix rules, and :class:`Rules` asks each rule for the decisions of its own
members.  A strategy that learns does so in ``learn``, called once a day with what the day brought.

Markup learners, used by the ask and offer rules ``adaptive`` and ``roth-erev``:

``adaptive``: a simple feedback rule -- raise the markup when everything offered sold, lower it when
much went unsold.

``roth-erev``: the modified Roth-Erev reinforcement learning used by AMES (Nicolaisen, Petrov and
Tesfatsion 2001): each agent keeps propensities over a grid of markups, picks one with probability
proportional to its propensity, and reinforces the chosen one by the profit it earned, with recency
(forgetting) ``r`` and experimentation ``e``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from numba import njit

# decision kinds, and the scenario field of each agent kind that names its rule
TOKEN_PRICING = "token-pricing"  # providers.*.strategy
COMPUTE_BIDDING = "compute-bidding"  # providers.*.bidding
LAB_BIDDING = "lab-bidding"  # labs.*.strategy
COMPUTE_ASKING = "compute-asking"  # aidcs.*.strategy
GPU_INVESTING = "gpu-investing"  # aidcs.*.investing
POWER_OFFERS = "power-offers"  # utilities.*.strategy
GENERATION_INVESTING = "generation-investing"  # utilities.*.investing
STORAGE_DISPATCH = "storage-dispatch"  # storage.*.strategy
STORAGE_INVESTING = "storage-investing"  # storage.*.investing

REGISTRY: dict[str, dict[str, type[Strategy]]] = {}


def register(kind: str, name: str) -> Callable[[type], type]:
    """Class decorator: make ``cls`` the rule ``name`` of decision ``kind``."""

    def add(cls: type) -> type:
        rules = REGISTRY.setdefault(kind, {})
        if name in rules and rules[name] is not cls:
            raise ValueError(f"two {kind} rules are named {name!r}: {rules[name].__name__} and {cls.__name__}")
        cls.kind, cls.name = kind, name
        rules[name] = cls
        return cls

    return add


def strategy_names(kind: str) -> tuple[str, ...]:
    """The names a scenario may give for decision ``kind``, in registration order (a seat's rule, which sits over
    an agent's own rule in a classroom game, is not one: :meth:`Rules.take_seat`)."""
    return tuple(name for name, cls in REGISTRY.get(kind, {}).items() if not cls.seat_only)


def strategy_class(kind: str, name: str) -> type[Strategy]:
    try:
        return REGISTRY[kind][name]
    except KeyError:
        raise ValueError(f"no {kind} rule named {name!r} (known: {', '.join(strategy_names(kind))})") from None


class Strategy:
    """A decision rule followed by the agents ``members`` of a group."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    seat_only: ClassVar[bool] = False  # a rule that only sits over an agent's own (a person's seat), never alone

    def __init__(self, group: Any, members: np.ndarray):
        self.members = members

    def learn(self, group: Any, outcome: Any, rng: np.random.Generator) -> None:
        """Learn from the day (``outcome`` is what the decision kind reports); most rules do not."""


class TokenPricing(Strategy):
    """Tomorrow's posted token prices: ``prices(group, view) -> (n,) CNY per Mtok`` (its members' rows count)."""

    def prices(self, group: Any, view: Any) -> np.ndarray:
        raise NotImplementedError


class ComputeAsking(Strategy):
    """The hourly ask curves of AIDCs: ``asks(group) -> (aidc, hour, GPU-hours, CNY per GPU-hour)``."""

    def asks(self, group: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


class ComputeBidding(Strategy):
    """The hourly bid curves of a group of compute buyers: ``bids(group) -> (buyer, hour, GPU-hours, CNY)``."""

    def bids(self, group: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


class PowerOffers(Strategy):
    """Utilities' hourly offers: ``offers(group, availability_inputs) -> (available MW (24, U), CNY/MWh (24, U))``
    for every unit (the units of its members count)."""

    def offers(self, group: Any, availability_inputs: tuple) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class StorageDispatch(Strategy):
    """Batteries' plan for tomorrow from a price forecast (n, 24): ``plan(group, forecast) -> (charge MW (n, 24),
    charge limit price (n,), discharge MW (n, 24), discharge floor price (n,))``."""

    def plan(self, group: Any, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


class Investing(Strategy):
    """How much capacity each owner orders this month: ``orders(group, view)`` (the form depends on the kind)."""

    def orders(self, group: Any, view: Any) -> Any:
        raise NotImplementedError


class Rules:
    """The rules of one decision kind in one group: one strategy object per distinct name, each with its members.

    With one rule (the usual case) a decision is that rule's; with several, each agent's row (or bid steps) comes
    from its own rule -- and rules that decide alike (they differ only in how they learn) decide once.  A group
    without agents still holds the kind's first rule, with no members.
    """

    def __init__(self, kind: str, names: Sequence[str], group: Any):
        self.kind = kind
        self.names = list(names)
        distinct = list(dict.fromkeys(self.names)) or [strategy_names(kind)[0]]
        self.rule_of = np.array([distinct.index(name) for name in self.names], dtype=np.int64)  # per agent
        self.strategies = [
            strategy_class(kind, name)(group, np.flatnonzero(self.rule_of == k)) for k, name in enumerate(distinct)
        ]
        self.only = self.strategies[0] if len(self.strategies) == 1 else None
        self.learns = any(type(s).learn is not Strategy.learn for s in self.strategies)  # any rule that learns
        self._shared: dict[str, bool] = {}
        self.seat: Strategy | None = None

    def take_seat(self, seat: Strategy) -> None:
        """Put a seat's rule (a person playing the agents ``seat.members`` in a classroom game, :mod:`agents.human`)
        over those agents' own rules.  Their own rules keep deciding and learning for them underneath, exactly as
        without the seat; the seat's ``over(method, decided, *args)`` then replaces its members' part of a decision
        where the person has decided, and passes the rest through untouched."""
        self.seat = seat

    def over(self, method: str, decided: Any, *args: Any) -> Any:
        """``decided`` (the agents' own rules' decision ``method(*args)``) as the seat, if any, changes it."""
        return decided if self.seat is None else self.seat.over(method, decided, *args)

    def __iter__(self):
        return iter(self.strategies)

    def of(self, name: str) -> Strategy | None:
        """The strategy object of rule ``name`` in this group (None if no agent follows it)."""
        return next((s for s in self.strategies if s.name == name), None)

    def deciders(self, method: str) -> list[Strategy]:
        """The strategies whose ``method`` must be called: one when every rule decides alike, else each."""
        if method not in self._shared:
            self._shared[method] = len({getattr(type(s), method) for s in self.strategies}) == 1
        return self.strategies[:1] if self._shared[method] else self.strategies

    def rows(self, method: str, *args: Any) -> Any:
        """A per-agent decision, ``rule.method(*args) -> (n, ...)`` or a tuple of such arrays: each agent's rows
        from its own rule."""
        if self.only is not None:  # one rule (the usual case): its decision, as the seat (if any) changes it
            decided = getattr(self.only, method)(*args)
            return decided if self.seat is None else self.seat.over(method, decided, *args)
        deciders = self.deciders(method)
        if len(deciders) == 1:
            return self.over(method, getattr(deciders[0], method)(*args), *args)
        first = getattr(deciders[0], method)(*args)
        parts = first if isinstance(first, tuple) else (first,)
        out = [np.array(x, copy=True) for x in parts]
        for s in deciders[1:]:
            mine = getattr(s, method)(*args)
            for column, x in zip(out, mine if isinstance(mine, tuple) else (mine,), strict=True):
                column[s.members] = np.asarray(x)[s.members]
        return self.over(method, tuple(out) if isinstance(first, tuple) else out[0], *args)

    def steps(self, method: str, *args: Any) -> tuple[np.ndarray, ...]:
        """Steps of a curve, ``rule.method(*args) -> (owner, hour, quantity, price)``: each agent's steps from its
        own rule.  Rules that lay their steps out alike (the same owner of every step) are merged step by step,
        keeping that layout; otherwise each rule's steps for its own members follow one another."""
        if self.only is not None:  # one rule (the usual case): its steps, as the seat (if any) changes them
            decided = getattr(self.only, method)(*args)
            return decided if self.seat is None else self.seat.over(method, decided, *args)
        deciders = self.deciders(method)
        if len(deciders) == 1:
            return self.over(method, getattr(deciders[0], method)(*args), *args)
        results = [tuple(getattr(s, method)(*args)) for s in deciders]
        owner = results[0][0]
        if all(r[0] is owner or np.array_equal(r[0], owner) for r in results):
            pick = self.rule_of[np.asarray(owner)]
            columns = [np.choose(pick, [np.asarray(r[k], dtype=float) for r in results]) for k in range(2, 4)]
            return self.over(method, (owner, results[0][1], *columns), *args)
        parts = []
        for s, (own, *rest) in zip(deciders, results, strict=True):
            keep = np.isin(own, s.members)
            parts.append([np.asarray(own)[keep], *(np.asarray(x)[keep] for x in rest)])
        return self.over(method, tuple(np.concatenate(column) for column in zip(*parts, strict=True)), *args)

    def learn(self, group: Any, outcome: Any, rng: np.random.Generator) -> None:
        """Each rule learns from the day, in the order the rules were first named."""
        for s in self.strategies:
            s.learn(group, outcome, rng)


ROTH_EREV_MARKUPS = np.array([0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0])


class AdaptiveMarkup:
    """The ``adaptive`` learner of its members' markups: up by ``step`` when the offer sold out, down in proportion
    to how much went unsold below 85%, within [0, ``max_markup``]."""

    def __init__(self, members: np.ndarray, step: np.ndarray | float, max_markup: float):
        self.members = members
        self.step = step  # a number, or each seller's step (the group's live array)
        self.max_markup = max_markup
        self._steps_key: tuple | None = None  # a number's step for every seller, made once
        self._steps = np.zeros(0)

    def update(self, markup: np.ndarray, sold_share: np.ndarray) -> None:
        """Move ``markup`` (the group's array, in place) for today's ``sold_share`` of what each member offered."""
        step = self.step
        if not isinstance(step, np.ndarray):
            key = (markup.shape, float(step))
            if key != self._steps_key:
                self._steps_key, self._steps = key, np.full(markup.shape, float(step))
            step = self._steps
        _adaptive(markup, self.members, step, np.asarray(sold_share, dtype=float), self.max_markup)


class RothErevMarkup:
    """The ``roth-erev`` learner of its members' markups (module docstring): propensities over
    ``ROTH_EREV_MARKUPS``, tomorrow's markup drawn from them."""

    def __init__(self, members: np.ndarray, markup: np.ndarray, recency: float = 0.1, experimentation: float = 0.2):
        self.members = members
        self.recency = recency
        self.experimentation = experimentation
        self.propensity = np.ones((members.size, ROTH_EREV_MARKUPS.size))
        self.profit_scale = np.ones(members.size)
        self.choice = np.argmin(np.abs(markup[members, None] - ROTH_EREV_MARKUPS[None, :]), axis=1)
        markup[members] = ROTH_EREV_MARKUPS[self.choice]  # it starts at the nearest markup of its grid

    def update(self, markup: np.ndarray, profit: np.ndarray, rng: np.random.Generator) -> None:
        """Reinforce today's choice by ``profit`` (per agent of the group) and draw tomorrow's markups (one uniform
        number per member from ``rng``) into ``markup`` (the group's array, in place)."""
        draws = rng.random(self.members.size) if self.members.size else _NO_DRAWS
        _roth_erev(
            markup,
            self.members,
            self.propensity,
            self.profit_scale,
            self.choice,
            np.asarray(profit, dtype=float),
            draws,
            ROTH_EREV_MARKUPS,
            self.recency,
            self.experimentation,
        )


def markup_learner(name: str, members: np.ndarray, markup: np.ndarray, step, max_markup: float):
    """The learner behind the markup rules ``adaptive`` and ``roth-erev``."""
    if name == "roth-erev":
        return RothErevMarkup(members, markup)
    return AdaptiveMarkup(members, step, max_markup)


_NO_DRAWS = np.zeros(0)


@njit(cache=True)
def _adaptive(markup, members, step, sold_share, max_markup):
    """:meth:`AdaptiveMarkup.update`, in place."""
    for i in members:
        share = sold_share[i]
        if share >= 0.98:
            change = step[i]
        elif share < 0.85:
            change = step[i] * (share - 0.85) / 0.85
        else:
            change = 0.0
        markup[i] = min(max(markup[i] + change, 0.0), max_markup)


@njit(cache=True)
def _roth_erev(markup, members, propensity, profit_scale, choice, profit, draws, actions, recency, experimentation):
    """:meth:`RothErevMarkup.update`, in place: reinforce the chosen markup by the profit against the best seen, let
    the others share the experimentation, forget a little; then draw tomorrow's markup."""
    n_actions = actions.size
    for m in range(members.size):
        i = members[m]
        scale = max(profit_scale[m], abs(profit[i]))
        profit_scale[m] = scale
        reward = max(profit[i], 0.0) / scale
        total = 0.0
        for k in range(n_actions):
            q = propensity[m, k]
            update = reward * (1.0 - experimentation) if k == choice[m] else q * (experimentation / (n_actions - 1))
            q = max((1.0 - recency) * q + update, 1e-6)
            propensity[m, k] = q
            total += q
        target = draws[m] * total
        cum = 0.0
        pick = n_actions - 1
        for k in range(n_actions):
            cum += propensity[m, k]
            if cum >= target:
                pick = k
                break
        choice[m] = pick
        markup[i] = actions[pick]
