"""Heterogeneous expectations: how investors forecast the margin a unit of capacity will earn.

Two predictors, as in Brock and Hommes (1997, Econometrica; 1998, JEDC) and the hog-cycle literature:

* adaptive:  f(t+1) = f(t) + lambda * (x(t) - f(t))     (lambda = ``ADAPTIVE_WEIGHT``)
* trend:     f(t+1) = x(t) + g * (x(t) - x(t-1))         (g = ``TREND_WEIGHT``)

An investor of kind ``adaptive`` or ``trend`` uses one predictor; a ``switching`` investor weighs both by
their past accuracy, n_k = exp(beta * U_k) / sum_j exp(beta * U_j), with fitness
U_k(t) = -(relative error of k)^2 + memory * U_k(t-1).  Because orders take a lead time to arrive and
trend-followers extrapolate a boom, capacity overshoots into a glut without any scripted shock.
"""

from __future__ import annotations

import numpy as np

FORECASTERS = ("adaptive", "trend", "switching")
ADAPTIVE_WEIGHT = 0.35
TREND_WEIGHT = 0.8
INTENSITY_OF_CHOICE = 200.0  # on squared relative errors: a predictor 10% better for a few months takes over
MEMORY = 0.7


class Forecasters:
    """One forecast per investor of one monthly series; all investors updated at once."""

    def __init__(self, kinds: list[str]):
        self.kind = np.array([FORECASTERS.index(k) for k in kinds], dtype=int)
        n = self.kind.size
        self.last = np.full(n, np.nan)
        self.adaptive = np.full(n, np.nan)
        self.trend = np.full(n, np.nan)
        self.fitness = np.zeros((n, 2))
        self.trend_weight = np.where(self.kind == 1, 1.0, np.where(self.kind == 2, 0.5, 0.0))

    def observe(self, x: np.ndarray) -> None:
        """Take this period's observation; update fitness (from the forecasts made for it) and forecasts."""
        x = np.asarray(x, dtype=float)
        seen = ~np.isnan(self.last)
        scale = np.maximum(np.abs(np.where(seen, self.last, x)), np.abs(x)) + 1e-9
        for k, f in enumerate((self.adaptive, self.trend)):
            err = np.where(np.isnan(f), 0.0, (x - f) / scale)
            self.fitness[:, k] = -(err**2) + MEMORY * self.fitness[:, k]
        switching = self.kind == 2
        if switching.any():
            u = INTENSITY_OF_CHOICE * self.fitness[switching]
            u -= u.max(axis=1, keepdims=True)
            w = np.exp(u)
            self.trend_weight[switching] = w[:, 1] / w.sum(axis=1)
        self.adaptive = np.where(np.isnan(self.adaptive), x, self.adaptive + ADAPTIVE_WEIGHT * (x - self.adaptive))
        self.trend = np.where(seen, x + TREND_WEIGHT * (x - self.last), x)
        self.last = x.copy()

    def forecast(self) -> np.ndarray:
        """Each investor's forecast of the next observation (NaN before the first one)."""
        return (1.0 - self.trend_weight) * self.adaptive + self.trend_weight * self.trend
