"""The "why" of a firm's last round: a sentence or two in plain words for its seat.

Computed only from what the seat may see: the firm's own numbers of the agents table (what it sold, earned, asked)
and what is public (every provider's posted token price, the markets' daily prices); never another firm's private
state.  The sentences compare the last round with the one before it, and name the public price that explains it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tokenomy.agents import human

if TYPE_CHECKING:
    from tokenomy.abm.classroom.game import Game
    from tokenomy.abm.classroom.seats import Firm

SAME = 0.05  # changes and gaps within 5% are "about the same"


def _change(now: float, before: float, more: str, fewer: str, what: str) -> str:
    """ "You sold 12% fewer tokens than the round before" (``now`` and ``before``: a day's mean over each round)."""
    if before <= 0:
        return f"You {more.split()[0]} {now:,.0f} {what} a day"
    rel = now / before - 1.0
    if abs(rel) < SAME:
        return f"You {more.split()[0]} about the same {what} as the round before"
    word = more if rel > 0 else fewer
    return f"You {word.split()[0]} {abs(rel):.0%} {word.split()[1]} {what} than the round before"


def _gap(mine: float, other: float) -> str:
    rel = mine / other - 1.0
    if abs(rel) < SAME:
        return "level with"
    return f"{abs(rel):.0%} {'above' if rel > 0 else 'below'}"


def why_last_round(game: Game, firm: Firm) -> str | None:
    """A short explanation of the firm's last round (None before the first round)."""
    if not game.history:
        return None
    from tokenomy.abm.classroom.views import _row

    last = game.history[-1]
    before = game.history[-2] if len(game.history) > 1 else None
    agents = game.model.recorder.agents
    row = _row(game, firm)

    def mine(column: str, record) -> float:
        return float(agents.column(column)[record.first_day : record.end_day, row].mean())

    def daily(column: str, record) -> float:
        return float(game.model.recorder.daily.column(column)[record.first_day : record.end_day, 0].mean())

    profit = float(agents.column("profit_cny")[last.first_day : last.end_day, row].sum())
    earned = f"Your profit this round: {profit:,.0f} CNY."
    if firm.role == "providers":
        first = game.model.kind_slice["provider"].start
        prices = agents.column("price_cny_per_mtok")[
            last.first_day : last.end_day, first : first + game.model.providers.n
        ]
        posted = np.median(prices, axis=0)  # the prices that held through the round (public)
        rivals = np.delete(posted, firm.index)
        sold = _change(mine("tokens_mtok", last), mine("tokens_mtok", before) if before else 0.0, "sold more",
                       "sold fewer", "M tokens")  # fmt: skip
        if rivals.size == 0:
            return f"{sold}. {earned}"
        cheapest = float(rivals.min())
        own = float(posted[firm.index])
        return (
            f"{sold}: your price ({own:.2f} CNY per M tokens) was {_gap(own, cheapest)} the cheapest rival's "
            f"({cheapest:.2f}). {earned}"
        )
    if firm.role == "aidcs":
        sold = _change(mine("gpu_hours", last), mine("gpu_hours", before) if before else 0.0, "sold more",
                       "sold fewer", "GPU-hours")  # fmt: skip
        a, i = game.model.aidcs, firm.index
        rent = game.in_force.get(firm.key, {}).get(human.RENT, float(a.markup[i] * a.capital_hour[i]))
        top = float(a.ask_mid[i]) + float(rent)
        market = daily("compute_price_cny_per_gpu_hour", last)
        return (
            f"{sold}: your dearest GPUs asked {top:.2f} CNY per GPU-hour (running cost {float(a.ask_mid[i]):.2f} "
            f"+ scarcity rent {float(rent):.2f}), {_gap(top, market)} the market price ({market:.2f}). {earned}"
        )
    revenue = mine("revenue_cny", last)
    earned_more = _change(
        revenue, mine("revenue_cny", before) if before else 0.0, "earned more", "earned less", "revenue"
    )
    if before is None:
        return earned
    power_now, power_before = _power_price(game, last), _power_price(game, before)
    return f"{earned_more}; the power price averaged {power_now:,.0f} CNY per MWh ({_gap(power_now, power_before)} the round before). {earned}"  # noqa: E501


def _power_price(game: Game, record) -> float:
    """The power price over the round's days and hours, averaged over the zones (public)."""
    hourly = game.model.recorder.hourly.column("price_cny_per_mwh")  # (days, hours x zones)
    return float(hourly[record.first_day : record.end_day].mean())
