"""AIApp: an AI application company (chat, coding agent, search...).

Users grow by Bass diffusion.  Daily token need = users x requests per user x tokens per request x
(1 - agentic share + agentic share x agent multiplier).  Requests differ in what they are worth: their
values follow a log-logistic distribution with median ``revenue_cny_per_request`` and shape
``elasticity``, so at a token cost of c per request the app serves the share 1 / (1 + (c / median)^e) of
them (throttling the rest with free-tier limits and rate caps).  Its price elasticity is e (1 - share):
small while tokens are cheap against what requests earn, approaching e when they are dear.
Day-to-day use carries persistent noise (seeded), so every day's demand is a little off its trend.
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
from tokenomy.agents.numeric import nan_max


class AIApp(TokenBuyer):
    """One AI application company."""

    @property
    def users(self) -> float:
        return float(self.group.params["users"][self.index])


class AIAppGroup(TokenBuyerGroup):
    kind = "app"

    def __init__(self, items: list[dict]):
        super().__init__(items)
        self._request_growth = DailyGrowth()

    def advance_day(self, draws: np.ndarray, sigma: float, persistence: float) -> None:
        """Users diffuse; tokens per request drift (longer contexts, reasoning); today's noise is drawn."""
        p = self.params
        self.draw_noise(draws, sigma, persistence)
        bass_step_in_place(p["users"], p["market_size_users"], p["bass_p_per_year"], p["bass_q_per_year"])
        p["mtok_per_request"] *= self._request_growth(p["tokens_per_request_growth_per_year"])

    def usage_growth_per_day(self) -> np.ndarray:
        """The factor by which a user's tokens grow each day (tokens per request drift)."""
        return self._request_growth(self.params["tokens_per_request_growth_per_year"])

    def tokens_per_request_mtok(self) -> np.ndarray:
        p = self.params
        return p["mtok_per_request"] * (1.0 - p["agentic_share"] + p["agentic_share"] * p["agent_multiplier"])

    def requests_wanted(self) -> np.ndarray:
        return self.params["users"] * self.params["requests_per_user_per_day"] * self.noise

    def token_demand_mtok(self, price_cny_per_mtok: np.ndarray) -> np.ndarray:
        """Daily tokens wanted at the price each app expects to pay."""
        per_request = self.tokens_per_request_mtok()
        self.demand_mtok = self.requests_wanted() * per_request * self._worth_making(price_cny_per_mtok)
        return self.demand_mtok

    def demand_and_elasticity(self, price_cny_per_mtok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`token_demand_mtok` and :meth:`price_elasticity` at one price, in one pass."""
        p = self.params
        ratio = _cost_ratio(
            price_cny_per_mtok,
            p["mtok_per_request"],
            p["agentic_share"],
            p["agent_multiplier"],
            p["revenue_cny_per_request"],
        )
        self.demand_mtok, elasticity = _demand(
            ratio ** p["elasticity"],
            p["users"],
            p["requests_per_user_per_day"],
            self.noise,
            p["mtok_per_request"],
            p["agentic_share"],
            p["agent_multiplier"],
            p["elasticity"],
        )
        return self.demand_mtok, elasticity

    def _worth_making(self, price_cny_per_mtok: np.ndarray) -> np.ndarray:
        """Share of requests whose value exceeds their token cost."""
        cost = np.maximum(price_cny_per_mtok * self.tokens_per_request_mtok(), 0.0)
        ratio = np.divide(
            cost,
            self.params["revenue_cny_per_request"],
            out=np.full(self.n, np.inf),
            where=self.params["revenue_cny_per_request"] > 0,
        )
        return 1.0 / (1.0 + ratio ** self.params["elasticity"])

    def price_elasticity(self, price_cny_per_mtok: np.ndarray) -> np.ndarray:
        """-d ln(tokens) / d ln(price) at ``price``: e (1 - share of requests worth making)."""
        return self.params["elasticity"] * (1.0 - self._worth_making(price_cny_per_mtok))

    def revenue_cny(self, served_mtok: np.ndarray) -> np.ndarray:
        """What the app's users pay for the requests served (``revenue_cny_per_request`` each)."""
        per_request = self.tokens_per_request_mtok()
        requests = np.divide(served_mtok, per_request, out=np.zeros(self.n), where=per_request > 0)
        return requests * self.params["revenue_cny_per_request"]

    def describe(self, i: int) -> dict[str, float]:
        return {
            "users": float(self.params["users"][i]),
            "tokens_wanted_mtok": float(self.demand_mtok[i]),
            "tokens_served_mtok": float(self.served_mtok[i]),
            "agent_multiplier": float(self.params["agent_multiplier"][i]),
        }


@njit(cache=True)
def _cost_ratio(price, mtok_per_request, agentic_share, agent_multiplier, revenue_per_request):
    """Token cost of a request over its median value (``inf`` where requests earn nothing); see ``_worth_making``."""
    ratio = np.empty(price.size)
    for i in range(price.size):
        per_request = mtok_per_request[i] * (1.0 - agentic_share[i] + agentic_share[i] * agent_multiplier[i])
        cost = nan_max(price[i] * per_request, 0.0)
        ratio[i] = cost / revenue_per_request[i] if revenue_per_request[i] > 0.0 else np.inf
    return ratio


@njit(cache=True)
def _demand(
    ratio_to_the_elasticity,
    users,
    requests_per_user,
    noise,
    mtok_per_request,
    agentic_share,
    agent_multiplier,
    elasticity,
):
    """(tokens wanted, price elasticity) from ``ratio ** elasticity`` (computed by numpy, as before)."""
    n = users.size
    demand = np.empty(n)
    own = np.empty(n)
    for i in range(n):
        worth = 1.0 / (1.0 + ratio_to_the_elasticity[i])
        per_request = mtok_per_request[i] * (1.0 - agentic_share[i] + agentic_share[i] * agent_multiplier[i])
        demand[i] = users[i] * requests_per_user[i] * noise[i] * per_request * worth
        own[i] = elasticity[i] * (1.0 - worth)
    return demand, own
