"""AIApp: an AI application company (chat, coding agent, search...).

Users grow by Bass diffusion.  Daily token need = users x requests per user x tokens per request x
(1 - agentic share + agentic share x agent multiplier).  When the cost of serving a request rises
above what a request earns, the app throttles use (free tiers, limits) with elasticity ``elasticity``.
"""

from __future__ import annotations

import numpy as np

from agents.base import Group, GroupAgent, bass_step, daily_rate, hourly_profile


class AIApp(GroupAgent):
    """One AI application company."""


class AIAppGroup(Group):
    kind = "app"

    def __init__(self, items: list[dict]):
        super().__init__(items)
        self.profile = np.array([hourly_profile(it["profile"]) for it in items]).reshape(self.n, 24)
        self.cash = np.array([it["cash_cny"] for it in items], dtype=float)
        self.demand_mtok = np.zeros(self.n)
        self.served_mtok = np.zeros(self.n)

    def advance_day(self) -> None:
        """Users diffuse; tokens per request drift (longer contexts, reasoning)."""
        p = self.params
        p["users"][:] = bass_step(p["users"], p["market_size_users"], p["bass_p_per_year"], p["bass_q_per_year"])
        p["mtok_per_request"] *= 1.0 + daily_rate(p["tokens_per_request_growth_per_year"])

    def tokens_per_request_mtok(self) -> np.ndarray:
        p = self.params
        return p["mtok_per_request"] * (1.0 - p["agentic_share"] + p["agentic_share"] * p["agent_multiplier"])

    def requests_wanted(self) -> np.ndarray:
        return self.params["users"] * self.params["requests_per_user_per_day"]

    def token_demand_mtok(self, price_cny_per_mtok: np.ndarray) -> np.ndarray:
        """Daily tokens wanted at the price each app expects to pay."""
        per_request = self.tokens_per_request_mtok()
        cost_per_request = price_cny_per_mtok * per_request
        ratio = np.divide(self.params["revenue_cny_per_request"], cost_per_request,
                          out=np.ones(self.n), where=cost_per_request > 0)
        served_share = np.minimum(1.0, ratio ** self.params["elasticity"])
        self.demand_mtok = self.requests_wanted() * per_request * served_share
        return self.demand_mtok

    def revenue_cny(self, served_mtok: np.ndarray) -> np.ndarray:
        per_request = self.tokens_per_request_mtok()
        requests = np.divide(served_mtok, per_request, out=np.zeros(self.n), where=per_request > 0)
        return requests * self.params["revenue_cny_per_request"]

    def describe(self, i: int) -> dict[str, float]:
        return {"users": float(self.params["users"][i]), "tokens_wanted_mtok": float(self.demand_mtok[i]),
                "tokens_served_mtok": float(self.served_mtok[i]),
                "agent_multiplier": float(self.params["agent_multiplier"][i])}
