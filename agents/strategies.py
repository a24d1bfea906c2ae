"""Decision rules.

Every decision an agent makes -- a token price, a compute bid or ask, an investment -- goes through a
strategy object with one method, in the manner of ASSUME's ``calculate_bids``, so a learning rule, a
fixed rule or a person playing in the browser can make it.  The base classes below name those methods;
the reference strategies live beside their agent kind.  Strategies work on a whole group at once (numpy
arrays over agents); a group may mix rules per agent (``strategy`` in the scenario).

Markup learners, chosen per agent in the scenario (``strategy = "adaptive" | "roth-erev"``):

``adaptive``: a simple feedback rule -- raise the markup when everything offered sold, lower it when
much went unsold.

``roth-erev``: the modified Roth-Erev reinforcement learning used by AMES (Nicolaisen, Petrov and
Tesfatsion 2001): each agent keeps propensities over a grid of markups, picks one with probability
proportional to its propensity, and reinforces the chosen one by the profit it earned, with recency
(forgetting) ``r`` and experimentation ``e``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


class TokenPricing:
    """Tomorrow's posted token prices of every provider: ``prices(group, view) -> (n,) CNY per Mtok``."""

    def prices(self, group, view) -> np.ndarray:
        raise NotImplementedError


class ComputeAsking:
    """The hourly ask curves of every AIDC: ``asks(group) -> (aidc, hour, GPU-hours, CNY per GPU-hour)``."""

    def asks(self, group) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


class ComputeBidding:
    """The hourly bid curves of a group of compute buyers: ``bids(group) -> (buyer, hour, GPU-hours, CNY)``."""

    def bids(self, group) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError


class Investing:
    """How much capacity each owner orders this month: ``orders(group, view) -> (n,) units``."""

    def orders(self, group, view) -> np.ndarray:
        raise NotImplementedError


ROTH_EREV_MARKUPS = np.array([0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0])


class MarkupLearner:
    """Markups of a group of sellers, each on its own strategy, updated in one compiled call."""

    def __init__(
        self,
        strategies: list[str],
        markups: np.ndarray,
        step: np.ndarray | float,
        recency: float = 0.1,
        experimentation: float = 0.2,
        max_markup: float = 20.0,
    ):
        self.markup = np.asarray(markups, dtype=float).copy()
        self.step = np.broadcast_to(np.asarray(step, dtype=float), self.markup.shape).copy()
        self.roth = np.array([s == "roth-erev" for s in strategies], dtype=bool)
        self.max_markup = max_markup
        self.recency = recency
        self.experimentation = experimentation
        n_actions = ROTH_EREV_MARKUPS.size
        self.propensity = np.ones((self.markup.size, n_actions))
        self.profit_scale = np.ones(self.markup.size)
        self.choice = np.argmin(np.abs(self.markup[:, None] - ROTH_EREV_MARKUPS[None, :]), axis=1)
        if self.roth.any():
            self.markup[self.roth] = ROTH_EREV_MARKUPS[self.choice[self.roth]]
        self._roth_idx = np.flatnonzero(self.roth)

    def draws(self, rng: np.random.Generator) -> np.ndarray:
        """The uniform numbers one update takes from ``rng``: one per Roth-Erev seller (none without)."""
        return rng.random(self._roth_idx.size) if self._roth_idx.size else _NO_DRAWS

    def state(self) -> tuple:
        """The arrays and settings :func:`_update` works on (a compiled caller passes them through)."""
        return (
            self.markup,
            self.step,
            self.roth,
            self.propensity,
            self.profit_scale,
            self.choice,
            ROTH_EREV_MARKUPS,
            self.recency,
            self.experimentation,
            self.max_markup,
        )

    def update(self, sold_share: np.ndarray, profit: np.ndarray, rng: np.random.Generator) -> None:
        """Learn from today: ``sold_share`` of the offered quantity that sold, ``profit`` earned."""
        draws = self.draws(rng)
        _update(
            self.markup,
            self.step,
            self.roth,
            self.propensity,
            self.profit_scale,
            self.choice,
            np.asarray(sold_share, dtype=float),
            np.asarray(profit, dtype=float),
            draws,
            ROTH_EREV_MARKUPS,
            self.recency,
            self.experimentation,
            self.max_markup,
        )


_NO_DRAWS = np.zeros(0)


@njit(cache=True)
def _update(
    markup,
    step,
    roth,
    propensity,
    profit_scale,
    choice,
    sold_share,
    profit,
    draws,
    actions,
    recency,
    experimentation,
    max_markup,
):
    """Both strategies for every seller, in place; ``draws`` are uniform [0, 1) numbers, one per Roth-Erev
    seller in order."""
    n_actions = actions.size
    d = 0
    for i in range(markup.size):
        if not roth[i]:
            share = sold_share[i]
            if share >= 0.98:
                change = step[i]
            elif share < 0.85:
                change = step[i] * (share - 0.85) / 0.85
            else:
                change = 0.0
            markup[i] = min(max(markup[i] + change, 0.0), max_markup)
            continue
        # modified Roth-Erev: reinforce the chosen markup by the profit against the best seen, let the
        # others share the experimentation, forget a little; then draw tomorrow's markup
        scale = max(profit_scale[i], abs(profit[i]))
        profit_scale[i] = scale
        reward = max(profit[i], 0.0) / scale
        total = 0.0
        for k in range(n_actions):
            q = propensity[i, k]
            update = reward * (1.0 - experimentation) if k == choice[i] else q * (experimentation / (n_actions - 1))
            q = max((1.0 - recency) * q + update, 1e-6)
            propensity[i, k] = q
            total += q
        target = draws[d] * total
        d += 1
        cum = 0.0
        pick = n_actions - 1
        for k in range(n_actions):
            cum += propensity[i, k]
            if cum >= target:
                pick = k
                break
        choice[i] = pick
        markup[i] = actions[pick]


@njit(cache=True)
def update_markups(state, sold_share, profit, draws):
    """:meth:`MarkupLearner.update` from a compiled caller: ``state`` is :meth:`MarkupLearner.state`, ``draws`` its
    :meth:`MarkupLearner.draws`."""
    markup, step, roth, propensity, profit_scale, choice, actions, recency, experimentation, max_markup = state
    _update(
        markup,
        step,
        roth,
        propensity,
        profit_scale,
        choice,
        sold_share,
        profit,
        draws,
        actions,
        recency,
        experimentation,
        max_markup,
    )
