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

HOURS = 24
DAYS_PER_YEAR = 365.0


def daily_rate(per_year: np.ndarray | float) -> np.ndarray | float:
    """Convert a yearly growth rate into the equivalent compound daily rate."""
    return np.power(1.0 + np.asarray(per_year, dtype=float), 1.0 / DAYS_PER_YEAR) - 1.0


class _EmptyParams(dict):
    """Parameters of a kind with no agents: every setting is an empty array."""

    def __missing__(self, key: str) -> np.ndarray:
        return np.zeros(0)


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
                        [np.nan if it[key] is None else float(it[key]) for it in items], dtype=float)
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

    def describe(self, i: int) -> dict[str, float]:
        """The state a viewer shows on hover; kinds extend it."""
        return {}


class GroupAgent(mesa.Agent):
    """A Mesa agent whose state is row ``index`` of its kind's :class:`Group`."""

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

    def state(self) -> dict[str, float]:
        return self.group.describe(self.index)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


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


def bass_step(adopters: np.ndarray, potential: np.ndarray, p_per_year: np.ndarray,
              q_per_year: np.ndarray) -> np.ndarray:
    """One day of Bass diffusion: new adopters = (p + q * share adopted) * remaining potential."""
    p = p_per_year / DAYS_PER_YEAR
    q = q_per_year / DAYS_PER_YEAR
    share = np.divide(adopters, potential, out=np.ones_like(adopters), where=potential > 0)
    new = (p + q * share) * np.maximum(potential - adopters, 0.0)
    return np.minimum(adopters + new, np.maximum(potential, adopters))
