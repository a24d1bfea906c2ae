"""A person's seat: the rule ``human`` of each decision a classroom game lets a student make.

A seat's rule never decides alone.  It sits over the agents' own rules (:meth:`agents.strategies.Rules.take_seat`):
those rules keep deciding and learning for every agent, seated or not, exactly as they would without the seat, and
the seat replaces its members' part of a decision only where the person has decided (:meth:`SeatRule.decide`).  So
an empty seat, or one whose student has not decided this round, is played by the agent's own (computer) rule, and
that rule has followed the whole game when it takes over.

The decisions, in the model's own units (the game checks every value before it gets here, :mod:`abm.classroom`):

* a cloud provider posts its token price (``price_cny_per_mtok``) and chooses the reserve of GPU-hours it bids for
  beyond its forecast need (``reserve_share``, a share of that need);
* an AIDC chooses the scarcity rent on its last GPUs (``scarcity_rent_cny_per_gpu_hour``: the top tranche asks its
  running cost plus the rent, the tranches below it shares of it) and the GPUs it orders at a month's first day
  (``gpus_to_order``);
* a utility chooses its coal and gas offers' markup over marginal cost (``offer_markup``) and what it builds at a
  month's first day (``build_tech``, ``build_mw``, in the zone of its first unit);
* a storage operator charges at full power in the hours whose expected price is at most ``charge_below_cny_per_mwh``
  and discharges in those at least ``discharge_above_cny_per_mwh`` (both bid at those prices, the plan trimmed so
  the battery stays between empty and full), and orders ``mwh_to_build`` of batteries at a month's first day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tokenomy.agents import storage_operator, utility  # noqa: F401 -- the agents' own rules register first
from tokenomy.agents.aidc import TRANCHE_RENT, TRANCHE_SHARE, _cost_plus_asks
from tokenomy.agents.strategies import (
    COMPUTE_ASKING,
    COMPUTE_BIDDING,
    GENERATION_INVESTING,
    GPU_INVESTING,
    POWER_OFFERS,
    STORAGE_DISPATCH,
    STORAGE_INVESTING,
    TOKEN_PRICING,
    Strategy,
    register,
)
from tokenomy.agents.technologies import DISPATCHABLE, TECHS

PRICE = "price_cny_per_mtok"
RESERVE = "reserve_share"
RENT = "scarcity_rent_cny_per_gpu_hour"
ORDER = "gpus_to_order"
MARKUP = "offer_markup"
BUILD_TECH = "build_tech"
BUILD_MW = "build_mw"
CHARGE_BELOW = "charge_below_cny_per_mwh"
DISCHARGE_ABOVE = "discharge_above_cny_per_mwh"
BUILD_MWH = "mwh_to_build"


class SeatRule(Strategy):
    """What every seat's rule shares: the decisions in force, by agent (an agent absent has none: its own rule
    decides)."""

    seat_only = True

    def __init__(self, group: Any, members: np.ndarray):
        super().__init__(group, members)
        self.decisions: dict[int, dict[str, Any]] = {}

    def decide(self, index: int, decision: dict[str, Any] | None) -> None:
        """The decision in force for agent ``index`` from now on (None: its own rule decides)."""
        if decision is None:
            self.decisions.pop(index, None)
        else:
            self.decisions[index] = dict(decision)

    def values(self, field: str) -> list[tuple[int, Any]]:
        """(agent, value) of every decision in force that sets ``field``."""
        return [(i, d[field]) for i, d in sorted(self.decisions.items()) if field in d]

    def over(self, method: str, decided: Any, *args: Any) -> Any:
        raise NotImplementedError


@register(TOKEN_PRICING, "human")
class HumanPricing(SeatRule):
    """The posted token price.  A price is posted overnight, so the seat's price goes up when its round opens
    (:meth:`post`) and holds through the round; on the round's last night (``holding`` off) the firm's own rule
    posts its proposal (:attr:`proposal`), which the next round's decision replaces or keeps."""

    def __init__(self, group: Any, members: np.ndarray):
        super().__init__(group, members)
        self.holding = True
        self.proposal = np.array(group.price, dtype=float, copy=True)

    def over(self, method: str, prices: np.ndarray, group: Any, view: Any) -> np.ndarray:
        self.proposal = np.array(prices, dtype=float, copy=True)
        chosen = self.values(PRICE)
        if not self.holding or not chosen:
            return prices
        out = np.array(prices, dtype=float, copy=True)
        for i, price in chosen:
            out[i] = price
        return out

    def post(self, group: Any) -> None:
        """Post the decided prices now (the round opens)."""
        for i, price in self.values(PRICE):
            group.params["price_cny_per_mtok"][i] = price


@register(COMPUTE_BIDDING, "human")
class HumanBidding(SeatRule):
    """The reserve: the GPU-hours bid for beyond the forecast need, as a share of it, in each hour (the need's steps
    and their prices stay the firm's own rule's)."""

    def over(self, method: str, steps: tuple, group: Any) -> tuple:
        chosen = self.values(RESERVE)
        owner, hour, qty, price = steps
        per = 48  # the forecast rule's layout: each provider's 24 steps of need, then its 24 of reserve
        if not chosen or np.size(qty) != per * group.n:
            return steps
        qty = np.array(qty, dtype=float, copy=True)
        for i, share in chosen:
            need = qty[i * per : i * per + 24]
            qty[i * per + 24 : (i + 1) * per] = need * share
        return owner, hour, qty, price


@register(COMPUTE_ASKING, "human")
class HumanAsks(SeatRule):
    """The scarcity rent on the last tranches, in CNY per GPU-hour (the firm's own rule learns a markup in capital
    costs of a GPU-hour; the seat names the rent itself).  The asks are the cost-plus asks of the AIDC rules with
    that rent: most of the fleet at running cost, the top tranches adding shares of the rent."""

    def over(self, method: str, steps: tuple, group: Any) -> tuple:
        chosen = self.values(RENT)
        owner, hour, qty, price = steps
        block = 24 * TRANCHE_SHARE.size
        if not chosen or np.size(price) != block * group.n:
            return steps
        markup = np.array(group.markup, dtype=float, copy=True)
        capital = np.array(group.capital_hour, dtype=float, copy=True)
        for i, rent in chosen:  # rent = 1 x rent: the same arithmetic as markup x capital cost
            markup[i], capital[i] = 1.0, rent
        p = group.params
        _, mine, _ = _cost_plus_asks(
            p["busy_kw_per_gpu"],
            p["idle_kw_per_gpu"],
            p["pue"],
            group.power_price_expected,
            p["om_cny_per_gpu_hour"],
            group.green_cost_per_busy_gpu_hour,
            markup,
            capital,
            group.gpus,
            group.mothballed,
            group.down,
            group.withheld_gpus,
            TRANCHE_SHARE,
            TRANCHE_RENT,
        )
        price = np.array(price, dtype=float, copy=True)
        for i, _ in chosen:
            price[i * block : (i + 1) * block] = mine[i * block : (i + 1) * block]
        return owner, hour, qty, price


@register(GPU_INVESTING, "human")
class HumanGpuOrders(SeatRule):
    """GPUs ordered at a month's first day (the grid's spare connection may grant fewer, as for any order)."""

    def over(self, method: str, orders: np.ndarray, group: Any, view: Any) -> np.ndarray:
        chosen = self.values(ORDER)
        if not chosen:
            return orders
        out = np.array(orders, dtype=float, copy=True)
        for i, gpus in chosen:
            out[i] = float(gpus)
        return out


@register(POWER_OFFERS, "human")
class HumanOffers(SeatRule):
    """Coal and gas units offer at marginal cost x (1 + the seat's markup); the others at marginal cost, as always."""

    def over(self, method: str, offers: tuple, group: Any, inputs: tuple) -> tuple:
        chosen = self.values(MARKUP)
        if not chosen:
            return offers
        available, price = offers
        price = np.array(price, dtype=float, copy=True)
        for i, markup in chosen:
            units = (group.unit_owner == i) & DISPATCHABLE[group.unit_tech]
            price[:, units] = group.unit_mc[units] * (1.0 + markup)
        return available, price


@register(GENERATION_INVESTING, "human")
class HumanBuilds(SeatRule):
    """What it builds at a month's first day, in the zone of its first unit (its own rule's orders for it are
    dropped; nothing is built when it chose 0 MW)."""

    def over(self, method: str, orders: list, group: Any, view: Any) -> list:
        chosen = {i: d for i, d in self.decisions.items() if BUILD_MW in d}
        if not chosen:
            return orders
        kept = [o for o in orders if o[1] not in chosen]
        for i, d in sorted(chosen.items()):
            mine = np.flatnonzero(group.unit_owner == i)
            if d[BUILD_MW] <= 0 or mine.size == 0:
                continue
            t = TECHS.index(d[BUILD_TECH])
            lead = int(group.tech_params[TECHS[t]]["lead_days"])
            kept.append((view.day + lead, i, int(group.unit_zone[mine[0]]), t, float(d[BUILD_MW])))
        return kept


@register(STORAGE_DISPATCH, "human")
class HumanDispatch(SeatRule):
    """Charge at full power in the hours the expected price is at most the seat's charge price, discharge in those
    at least its discharge price; bid and offer at those prices; trimmed to stay between empty and full."""

    def over(self, method: str, plan: tuple, group: Any, forecast: np.ndarray) -> tuple:
        chosen = [(i, d) for i, d in sorted(self.decisions.items()) if CHARGE_BELOW in d]
        if not chosen:
            return plan
        charge, c_price, discharge, d_price = (np.array(x, dtype=float, copy=True) for x in plan)
        power = group.params["power_mw"]
        for i, d in chosen:
            charge[i] = np.where(forecast[i] <= d[CHARGE_BELOW], power[i], 0.0)
            discharge[i] = np.where(forecast[i] >= d[DISCHARGE_ABOVE], power[i], 0.0)
            c_price[i], d_price[i] = d[CHARGE_BELOW], d[DISCHARGE_ABOVE]
        trimmed_charge, trimmed_discharge = group.feasible(charge, discharge)
        for i, _ in chosen:
            charge[i], discharge[i] = trimmed_charge[i], trimmed_discharge[i]
        return charge, c_price, discharge, d_price


@register(STORAGE_INVESTING, "human")
class HumanStorageBuilds(SeatRule):
    """MWh of merchant batteries ordered at a month's first day (those its firming contracts need are built as
    always)."""

    def over(self, method: str, orders: tuple, group: Any, view: Any) -> tuple:
        chosen = self.values(BUILD_MWH)
        if not chosen:
            return orders
        merchant, firming = orders
        merchant = np.array(merchant, dtype=float, copy=True)
        for i, mwh in chosen:
            merchant[i] = float(mwh)
        return merchant, firming
