"""What a seat and the teacher see of a game: plain dictionaries of numbers and names (JSON as they are).

A seat sees its own firm's private state (cash, costs, what it sold and earned) and only what is public of the
others: the providers' posted token prices and the markets' prices.  The teacher sees every firm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tokenomy.abm.classroom.decisions import role_fields
from tokenomy.abm.classroom.seats import Firm

if TYPE_CHECKING:
    from tokenomy.abm.classroom.game import Game, Student

KIND = {"providers": "provider", "aidcs": "aidc", "utilities": "utility", "storage": "storage"}


def _num(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _row(game: Game, firm: Firm) -> int:
    return game.model.kind_slice[KIND[firm.role]].start + firm.index


def _round_sum(game: Game, firm: Firm, column: str) -> float | None:
    """The firm's ``column`` of the agents table summed over the last round played (None before the first)."""
    if not game.history:
        return None
    last = game.history[-1]
    values = game.model.recorder.agents.column(column)[last.first_day : last.end_day, _row(game, firm)]
    return _num(values.sum())


def _round_mean(game: Game, column: str) -> float | None:
    """The daily table's ``column`` averaged over the last round played."""
    if not game.history:
        return None
    last = game.history[-1]
    return _num(game.model.recorder.daily.column(column)[last.first_day : last.end_day, 0].mean())


def firm_state(game: Game, firm: Firm) -> dict[str, Any]:
    """The firm's own state now and its last round: private to its seat (and the teacher)."""
    m = game.model
    i = firm.index
    state: dict[str, Any] = {
        "firm": firm.name,
        "role": firm.role,
        "cash_cny": _num(m.ledger.balance[_row(game, firm)]),
        "last_round": None
        if not game.history
        else {
            "round": game.history[-1].number,
            "revenue_cny": _round_sum(game, firm, "revenue_cny"),
            "cost_cny": _round_sum(game, firm, "cost_cny"),
            "profit_cny": _round_sum(game, firm, "profit_cny"),
        },
    }
    if firm.role == "providers":
        p = m.providers
        state.update(
            price_cny_per_mtok=_num(p.price[i]),
            unit_cost_cny_per_mtok=_num(p.unit_cost[i]),
            demand_mtok_per_day=_num(p.requested_mtok[i]),
            served_mtok_per_day=_num(p.served_mtok[i]),
            unserved_mtok_per_day=_num(p.unserved_mtok[i]),
            mtok_per_gpu_hour=_num(p.params["mtok_per_gpu_hour"][i]),
            reserve_share=_num(p.params["reserve"][i]),
        )
        if state["last_round"] is not None:
            state["last_round"]["tokens_served_mtok"] = _round_sum(game, firm, "tokens_mtok")
            state["last_round"]["gpu_hours_bought"] = _round_sum(game, firm, "gpu_hours")
    elif firm.role == "aidcs":
        a = m.aidcs
        state.update(
            gpus=_num(a.gpus[i]),
            gpus_online=_num(a.online[i]),
            gpus_on_order=_num(a.pipeline_gpus()[i]),
            utilization=_num(a.utilization()[i]),
            running_cost_cny_per_gpu_hour=_num(a.ask_mid[i]),
            capital_cost_cny_per_gpu_hour=_num(a.capital_hour[i]),
        )
        if state["last_round"] is not None:
            state["last_round"]["gpu_hours_sold"] = _round_sum(game, firm, "gpu_hours")
    elif firm.role == "utilities":
        state.update(m.utilities.describe(i))
    else:
        s = m.storage
        state.update(
            energy_mwh=_num(s.params["energy_mwh"][i]),
            power_mw=_num(s.params["power_mw"][i]),
            soc_mwh=_num(s.soc_mwh[i]),
        )
    return state


def market(game: Game) -> dict[str, Any]:
    """What everyone sees: the providers' posted prices, and the markets' prices in the last round."""
    m = game.model
    zone_price = m.last.power.price.mean(axis=0) if m.last is not None else None
    return {
        "posted_token_prices_cny_per_mtok": {
            n: _num(p) for n, p in zip(m.providers.names, m.providers.price, strict=True)
        },
        "power_price_cny_per_mwh_by_zone": None
        if zone_price is None
        else {z: _num(p) for z, p in zip(m.zone_names, zone_price, strict=True)},
        "last_round": None
        if not game.history
        else {
            "token_price_cny_per_mtok": _round_mean(game, "token_price_cny_per_mtok"),
            "compute_price_cny_per_gpu_hour": _round_mean(game, "compute_price_cny_per_gpu_hour"),
            "tokens_served_mtok_per_day": _round_mean(game, "tokens_served_mtok"),
            "tokens_unserved_mtok_per_day": _round_mean(game, "tokens_unserved_mtok"),
            "gpus_online": _round_mean(game, "gpus_online"),
        },
    }


def game_state(game: Game, now: float) -> dict[str, Any]:
    occupied = {s.firm.key for s in game.students.values() if not s.kicked}
    return {
        "status": game.status,
        "round": min(len(game.history) + 1, game.rounds),
        "rounds": game.rounds,
        "rounds_played": len(game.history),
        "day": game.model.day,
        "date": str(game.model.date),
        "days_per_round": game.days_per_round,
        "seconds_left": game.seconds_left(now),
        "waiting_for": [f.name for f in game.firms if f.key in occupied and f.key not in game.pending],
    }


def form(game: Game, firm: Firm) -> dict[str, Any]:
    """The decision form: its fields and limits, the default (the firm's decision in force, else the computer's
    proposal), the computer's proposal, and the decision submitted this round, if any."""
    computer = game.seats.proposal(firm)
    pending = game.pending.get(firm.key)
    return {
        "fields": [f.describe() for f in role_fields(firm.role, game.data)],
        "default": dict(game.in_force.get(firm.key, computer)),
        "computer": computer,
        "submitted": None if pending is None else {"decision": pending[0], "by": pending[1]},
    }


def seat_view(game: Game, student: Student, now: float) -> dict[str, Any]:
    from tokenomy.abm.classroom.why import why_last_round

    team = sorted(s.name for s in game.students.values() if s.firm == student.firm and not s.kicked)
    return {
        "game": game_state(game, now),
        "seat": {"name": student.name, "firm": student.firm.name, "role": student.firm.role, "team": team},
        "firm": firm_state(game, student.firm),
        "why": why_last_round(game, student.firm),
        "market": market(game),
        "form": form(game, student.firm),
    }


def teacher_view(game: Game, now: float) -> dict[str, Any]:
    firms = []
    for firm in game.firms:
        students = sorted(s.name for s in game.students.values() if s.firm == firm and not s.kicked)
        firms.append(
            {
                "firm": firm.name,
                "role": firm.role,
                "students": students,
                "decided": firm.key in game.pending,
                "state": firm_state(game, firm),
                "form": form(game, firm),
            }
        )
    return {
        "code": game.code,
        "game": game_state(game, now),
        "roster": [
            {"name": s.name, "firm": s.firm.name, "role": s.firm.role, "kicked": s.kicked}
            for s in sorted(game.students.values(), key=lambda s: s.name.casefold())
        ],
        "firms": firms,
        "market": market(game),
        "rounds": [
            {"round": r.number, "first_day": r.first_day, "end_day": r.end_day, "reason": r.reason}
            for r in game.history
        ],
    }
