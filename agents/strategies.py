"""Markup strategies, chosen per agent in the scenario (``strategy = "adaptive" | "roth-erev"``).

``adaptive``: a simple feedback rule -- raise the markup when everything offered sold, lower it when
much went unsold.

``roth-erev``: the modified Roth-Erev reinforcement learning used by AMES (Nicolaisen, Petrov and
Tesfatsion 2001): each agent keeps propensities over a grid of markups, picks one with probability
proportional to its propensity, and reinforces the chosen one by the profit it earned, with recency
(forgetting) ``r`` and experimentation ``e``.
"""

from __future__ import annotations

import numpy as np

ROTH_EREV_MARKUPS = np.array([0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0])


class MarkupLearner:
    """Markups of a group of sellers, each on its own strategy, updated in one vectorised call."""

    def __init__(self, strategies: list[str], markups: np.ndarray, step: np.ndarray | float,
                 recency: float = 0.1, experimentation: float = 0.2, max_markup: float = 20.0):
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
        self._adaptive_idx = np.flatnonzero(~self.roth)
        self._roth_idx = np.flatnonzero(self.roth)

    def update(self, sold_share: np.ndarray, profit: np.ndarray, rng: np.random.Generator) -> None:
        """Learn from today: ``sold_share`` of the offered quantity that sold, ``profit`` earned."""
        a = self._adaptive_idx
        if a.size:
            share = sold_share[a]
            step = self.step[a]
            change = np.where(share >= 0.98, step, np.where(share < 0.85, step * (share - 0.85) / 0.85, 0.0))
            self.markup[a] = np.minimum(np.maximum(self.markup[a] + change, 0.0), self.max_markup)
        idx = self._roth_idx
        if idx.size:
            n_actions = ROTH_EREV_MARKUPS.size
            q = self.propensity[idx]
            scale = np.maximum(self.profit_scale[idx], np.abs(profit[idx]))
            self.profit_scale[idx] = scale
            reward = np.maximum(profit[idx], 0.0) / scale  # in [0, 1]: profit against the best seen
            e = self.experimentation
            update = q * (e / (n_actions - 1))
            update[np.arange(idx.size), self.choice[idx]] = reward * (1.0 - e)
            q = np.maximum((1.0 - self.recency) * q + update, 1e-6)
            self.propensity[idx] = q
            cum = q.cumsum(axis=1)
            draws = rng.random(idx.size) * cum[:, -1]
            new_choice = np.minimum((cum < draws[:, None]).sum(axis=1), n_actions - 1)
            self.choice[idx] = new_choice
            self.markup[idx] = ROTH_EREV_MARKUPS[new_choice]
