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

    def update(self, sold_share: np.ndarray, profit: np.ndarray, rng: np.random.Generator) -> None:
        """Learn from today: ``sold_share`` of the offered quantity that sold, ``profit`` earned."""
        adaptive = ~self.roth
        if adaptive.any():
            up = sold_share >= 0.98
            down = sold_share < 0.85
            change = np.where(up, self.step, np.where(down, -self.step * (0.85 - sold_share) / 0.85, 0.0))
            self.markup[adaptive] = np.clip(self.markup[adaptive] + change[adaptive], 0.0, self.max_markup)
        if self.roth.any():
            idx = np.flatnonzero(self.roth)
            n_actions = ROTH_EREV_MARKUPS.size
            q = self.propensity[idx]
            self.profit_scale[idx] = np.maximum(self.profit_scale[idx], np.abs(profit[idx]))
            reward = np.maximum(profit[idx], 0.0) / self.profit_scale[idx]  # in [0, 1]: profit vs best seen
            e = self.experimentation
            spill = q * e / (n_actions - 1)
            chosen = self.choice[idx]
            rows = np.arange(idx.size)
            spill[rows, chosen] = reward * (1.0 - e)
            q = (1.0 - self.recency) * q + spill
            q = np.maximum(q, 1e-6)
            self.propensity[idx] = q
            prob = q / q.sum(axis=1, keepdims=True)
            draws = rng.random(idx.size)
            new_choice = (prob.cumsum(axis=1) < draws[:, None]).sum(axis=1)
            new_choice = np.minimum(new_choice, n_actions - 1)
            self.choice[idx] = new_choice
            self.markup[idx] = ROTH_EREV_MARKUPS[new_choice]
