"""The seats of a game on a model: every playable firm's rules get a seat over them (:mod:`agents.human`), and a
round's decisions go into those seats.

A seat with no decision passes its firm's own rules' decisions through untouched, so a game whose seats are all
empty runs exactly as the scenario does.  This module is the game's one hook into the model's day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tokenomy.agents import human
from tokenomy.agents.registry import (
    COMPUTE_ASKING,
    COMPUTE_BIDDING,
    GENERATION_INVESTING,
    GPU_INVESTING,
    POWER_OFFERS,
    STORAGE_DISPATCH,
    STORAGE_INVESTING,
    TOKEN_PRICING,
)
from tokenomy.agents.strategies import strategy_class

# role (the scenario's list, and the model's group) -> (the group's Rules attribute, its kind of decision)
ROLE_RULES = {
    "providers": (("pricing", TOKEN_PRICING), ("bidding", COMPUTE_BIDDING)),
    "aidcs": (("asking", COMPUTE_ASKING), ("investing", GPU_INVESTING)),
    "utilities": (("offering", POWER_OFFERS), ("investing", GENERATION_INVESTING)),
    "storage": (("dispatch", STORAGE_DISPATCH), ("investing", STORAGE_INVESTING)),
}


@dataclass(frozen=True)
class Firm:
    """A firm students may play: its role, its name, and its index in its group."""

    role: str
    name: str
    index: int

    @property
    def key(self) -> str:
        return f"{self.role}/{self.name}"


def playable_firms(data: dict) -> list[Firm]:
    """The firms of the scenario's ``[classroom]`` table, in the scenario's order (roles, then entries)."""
    game = data["classroom"]
    chosen = set(game["seats"])
    return [
        Firm(role, item["name"], i)
        for role in game["roles"]
        for i, item in enumerate(data[role])
        if not chosen or item["name"] in chosen
    ]


class Seats:
    """The seats of every playable firm on ``model``: one seat rule per decision kind of each role, whose members
    are that role's playable firms."""

    def __init__(self, model: Any, firms: list[Firm]):
        self.model = model
        self.firms = firms
        self.rules: dict[str, list[human.SeatRule]] = {}
        for role, pairs in ROLE_RULES.items():
            members = np.array([f.index for f in firms if f.role == role], dtype=np.int64)
            if members.size == 0:
                continue
            group = getattr(model, role)
            self.rules[role] = []
            for attr, kind in pairs:
                seat = strategy_class(kind, "human")(group, members)
                getattr(group, attr).take_seat(seat)
                self.rules[role].append(seat)

    def decide(self, decisions: dict[str, dict[str, Any] | None]) -> None:
        """Put each firm's decision for the round (by :attr:`Firm.key`; absent or None: its own rules decide) into
        its seats."""
        for firm in self.firms:
            decision = decisions.get(firm.key)
            for seat in self.rules[firm.role]:
                seat.decide(firm.index, decision)

    def open_round(self) -> None:
        """The round opens: posted prices go up now, and hold through the round."""
        pricing = self._pricing()
        if pricing is not None:
            pricing.post(self.model.providers)
            pricing.holding = True

    def last_night(self) -> None:
        """Before the round's last day: tonight the firms' own rules post their proposals."""
        pricing = self._pricing()
        if pricing is not None:
            pricing.holding = False

    def _pricing(self) -> human.HumanPricing | None:
        rules = self.rules.get("providers")
        return rules[0] if rules else None

    def proposal(self, firm: Firm) -> dict[str, Any]:
        """What the firm's own rules would decide for the next round, as a decision (the fields they decide now;
        orders and builds are worked out on the month's first day, so they are left to them)."""
        m = self.model
        i = firm.index
        if firm.role == "providers":
            return {
                human.PRICE: float(self._pricing().proposal[i]),
                human.RESERVE: float(m.providers.params["reserve"][i]),
            }
        if firm.role == "aidcs":
            return {human.RENT: float(m.aidcs.markup[i] * m.aidcs.capital_hour[i])}
        if firm.role == "utilities":
            return {human.MARKUP: float(m.utilities.markup[i])}
        return {}
