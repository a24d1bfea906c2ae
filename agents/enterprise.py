"""Enterprise: one agent is a segment of firms (sector x region).

Adoption follows Bass diffusion toward a ceiling (above 60% of firms); tokens per adopted firm grow
as firms put agents to work.  Token spending is a fixed cost of doing business, so demand is
inelastic (elasticity ~0.2-0.4) around a reference price, and capped by a daily budget.  Day-to-day use
carries persistent noise (seeded).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.base import (
    DailyGrowth,
    TokenBuyer,
    TokenBuyerGroup,
    bass_step_in_place,
)
from tokenomy.agents.numeric import nan_max, nan_min


class Enterprise(TokenBuyer):
    """One segment of firms."""

    @property
    def adoption(self) -> float:
        return float(self.group.params["adoption"][self.index])


class EnterpriseGroup(TokenBuyerGroup):
    kind = "enterprise"

    def __init__(self, items: list[dict]):
        super().__init__(items)
        self._usage_growth = DailyGrowth()

    def advance_day(self, draws: np.ndarray, sigma: float, persistence: float) -> None:
        p = self.params
        self.draw_noise(draws, sigma, persistence)
        _adopt(p["adoption"], p["firms"], p["ceiling"], p["bass_p_per_year"], p["bass_q_per_year"])
        p["mtok_per_firm_per_day"] *= self._usage_growth(p["usage_growth_per_year"])

    def usage_growth_per_day(self) -> np.ndarray:
        """The factor by which an adopting firm's tokens grow each day."""
        return self._usage_growth(self.params["usage_growth_per_year"])

    def token_demand_mtok(self, price_cny_per_mtok: np.ndarray) -> np.ndarray:
        p = self.params
        adopted = p["adoption"] * p["firms"]
        base = (
            adopted
            * p["mtok_per_firm_per_day"]
            * (1.0 - p["agentic_share"] + p["agentic_share"] * p["agent_multiplier"])
            * self.noise
        )
        relative = np.maximum(price_cny_per_mtok, 1e-12) / p["reference_price_cny_per_mtok"]
        wanted = base * relative ** (-p["elasticity"])
        budget_mtok = adopted * p["budget_cny_per_firm_per_day"] / np.maximum(price_cny_per_mtok, 1e-12)
        self.demand_mtok = np.minimum(wanted, budget_mtok)
        return self.demand_mtok

    def demand_and_elasticity(self, price_cny_per_mtok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`token_demand_mtok` and :meth:`price_elasticity` at one price, in one pass."""
        p = self.params
        relative = _relative_price(price_cny_per_mtok, p["reference_price_cny_per_mtok"])
        self.demand_mtok, elasticity = _demand(
            relative ** (-p["elasticity"]),
            price_cny_per_mtok,
            p["adoption"],
            p["firms"],
            p["mtok_per_firm_per_day"],
            p["agentic_share"],
            p["agent_multiplier"],
            self.noise,
            p["budget_cny_per_firm_per_day"],
            p["elasticity"],
        )
        return self.demand_mtok, elasticity

    def price_elasticity(self, price_cny_per_mtok: np.ndarray) -> np.ndarray:
        """-d ln(tokens) / d ln(price): ``elasticity`` while the budget does not bind, 1 where it does."""
        p = self.params
        adopted = p["adoption"] * p["firms"]
        price = np.maximum(price_cny_per_mtok, 1e-12)
        base = (
            adopted
            * p["mtok_per_firm_per_day"]
            * (1.0 - p["agentic_share"] + p["agentic_share"] * p["agent_multiplier"])
            * self.noise
        )
        wanted = base * (price / p["reference_price_cny_per_mtok"]) ** (-p["elasticity"])
        budget_bound = adopted * p["budget_cny_per_firm_per_day"] / price < wanted
        return np.where(budget_bound, 1.0, p["elasticity"])

    def revenue_cny(self, served_mtok: np.ndarray) -> np.ndarray:
        """Value the segment's customers pay for AI-assisted work: tokens at the reference price."""
        return served_mtok * self.params["reference_price_cny_per_mtok"]

    def describe(self, i: int) -> dict[str, float]:
        return {
            "adoption": float(self.params["adoption"][i]),
            "tokens_wanted_mtok": float(self.demand_mtok[i]),
            "tokens_served_mtok": float(self.served_mtok[i]),
        }


@njit(cache=True)
def _relative_price(price, reference_price):
    out = np.empty(price.size)
    for i in range(price.size):
        out[i] = nan_max(price[i], 1e-12) / reference_price[i]
    return out


@njit(cache=True)
def _demand(
    relative_to_the_elasticity,
    price,
    adoption,
    firms,
    mtok_per_firm,
    agentic_share,
    agent_multiplier,
    noise,
    budget_per_firm,
    elasticity,
):
    """(tokens wanted, price elasticity), as :meth:`EnterpriseGroup.token_demand_mtok` and
    :meth:`EnterpriseGroup.price_elasticity`, from ``relative price ** -elasticity`` (computed by numpy, as before)."""
    n = price.size
    demand = np.empty(n)
    own = np.empty(n)
    for i in range(n):
        adopted = adoption[i] * firms[i]
        base = adopted * mtok_per_firm[i] * (1.0 - agentic_share[i] + agentic_share[i] * agent_multiplier[i]) * noise[i]
        wanted = base * relative_to_the_elasticity[i]
        budget = adopted * budget_per_firm[i] / nan_max(price[i], 1e-12)
        demand[i] = nan_min(wanted, budget)
        own[i] = 1.0 if budget < wanted else elasticity[i]
    return demand, own


@njit(cache=True)
def _adopt(adoption, firms, ceiling, p_per_year, q_per_year):
    """One day of Bass diffusion of the adopting firms towards the ceiling, as a share of firms (in place)."""
    adopters = adoption * firms
    bass_step_in_place(adopters, ceiling * firms, p_per_year, q_per_year)
    for i in range(adoption.size):
        adoption[i] = adopters[i] / firms[i] if firms[i] > 0.0 else 0.0
