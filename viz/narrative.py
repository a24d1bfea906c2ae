"""Plain words on why prices move: a few sentences generated from the model's recent history.

Each rule looks at one measurable change (a price move over the last 30 days, unserved demand, a
congested line, GPUs on order) and, when it is large enough to matter, states it together with the
state that explains it.  Rules never guess: every number in a sentence comes from the tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

WINDOW_DAYS = 30
MOVE = 0.10  # a 10% move over the window is worth a sentence
UNSERVED = 0.01  # so is more than 1% of token demand going unserved


@dataclass
class ChainState:
    """What the narrative reads: the daily table, today's hourly rows and the GPU pipeline."""

    daily: pd.DataFrame
    hourly_today: pd.DataFrame | None = None
    arrivals: list[tuple[dt.date, float]] = field(default_factory=list)  # (date, GPUs) on order
    congested_hours: dict[str, int] = field(default_factory=dict)  # line name -> hours at limit today
    shocks: list[tuple[int, str]] = field(default_factory=list)  # (first day it acted on, shock name)


def _pct(a: float, b: float) -> float:
    return (b - a) / abs(a) if a else 0.0


def _signed(x: float) -> str:
    return f"{x:+.0%}".replace("-", "\u2212")


def _gpus(n: float) -> str:
    return f"{n:,.0f}"


def _window(daily: pd.DataFrame) -> tuple[pd.Series, pd.Series, int]:
    last = daily.iloc[-1]
    back = daily.iloc[max(0, len(daily) - 1 - WINDOW_DAYS)]
    return back, last, int(last.day - back.day)


def _next_arrival(state: ChainState) -> str:
    if not state.arrivals:
        return "no new GPUs are on order"
    when = min(d for d, _ in state.arrivals)
    n = sum(g for d, g in state.arrivals if d == when)
    return f"the next {_gpus(n)} GPUs arrive on {when.isoformat()}"


def compute_sentence(state: ChainState) -> tuple[float, str] | None:
    back, last, days = _window(state.daily)
    move = _pct(back.compute_price_cny_per_gpu_hour, last.compute_price_cny_per_gpu_hour)
    if days == 0 or abs(move) < MOVE:
        return None
    util = last.gpu_utilization
    if move > 0:
        why = f"GPU utilisation at {util:.0%}, {_next_arrival(state)}"
    else:
        added = last.gpus_online - back.gpus_online
        why = (
            f"{_gpus(added)} new GPUs came online and utilisation is {util:.0%}"
            if added > 0
            else f"utilisation fell to {util:.0%}"
        )
    return abs(move), f"Compute price {_signed(move)} in {days} days: {why}."


def token_sentence(state: ChainState) -> tuple[float, str] | None:
    back, last, days = _window(state.daily)
    move = _pct(back.token_price_cny_per_mtok, last.token_price_cny_per_mtok)
    if days == 0 or abs(move) < MOVE:
        return None
    if move > 0:
        if last.unserved_share >= UNSERVED:
            why = f"{last.unserved_share:.1%} of demand went unserved, so providers raise prices"
        else:
            cost = _pct(back.token_unit_cost_cny_per_mtok, last.token_unit_cost_cny_per_mtok)
            why = (
                f"the compute behind each token costs {_signed(cost)} more"
                if cost > 0
                else "providers run near capacity at the daily peak"
            )
    else:
        cost = _pct(back.token_unit_cost_cny_per_mtok, last.token_unit_cost_cny_per_mtok)
        why = (
            f"the compute behind each token got {_signed(cost)} cheaper"
            if cost < 0
            else "providers have spare capacity and compete for buyers"
        )
    return abs(move), f"Token price {_signed(move)} in {days} days: {why}."


def unserved_sentence(state: ChainState) -> tuple[float, str] | None:
    last = state.daily.iloc[-1]
    if last.unserved_share < UNSERVED:
        return None
    return 1.0 + last.unserved_share, (
        f"{last.unserved_share:.1%} of token demand went unserved today: "
        f"providers ran out of GPUs at the peak and {_next_arrival(state)}."
    )


def power_sentence(state: ChainState) -> tuple[float, str] | None:
    back, last, days = _window(state.daily)
    move = _pct(back.power_price_cny_per_mwh, last.power_price_cny_per_mwh)
    congested = {k: v for k, v in state.congested_hours.items() if v > 0}
    if congested and state.hourly_today is not None:
        line, hours = max(congested.items(), key=lambda kv: kv[1])
        zones = state.hourly_today.groupby("zone", observed=True).price_cny_per_mwh.mean()
        dear, cheap = zones.idxmax(), zones.idxmin()
        if zones[dear] - zones[cheap] > 0.05 * abs(zones[cheap]) + 1.0:
            return 0.5 + hours / 24, (
                f"Line {line} was full {hours} of 24 hours: power in {dear} averaged "
                f"{zones[dear]:,.0f} CNY/MWh against {zones[cheap]:,.0f} in {cheap}."
            )
    if days == 0 or abs(move) < MOVE:
        return None
    why = (
        f"AIDCs drew {last.aidc_energy_mwh:,.0f} MWh today"
        if move > 0
        else f"green power met {last.green_share:.0%} of demand"
    )
    return abs(move), f"Power price {_signed(move)} in {days} days: {why}."


def pipeline_sentence(state: ChainState) -> tuple[float, str] | None:
    if not state.arrivals:
        return None
    total = sum(g for _, g in state.arrivals)
    return 0.05, f"{_gpus(total)} GPUs are on order; {_next_arrival(state)}."


def shock_sentence(state: ChainState) -> tuple[float, str] | None:
    """The latest shock of the last 30 days, and how the prices and tokens wanted moved since the day before it."""
    daily = state.daily
    last = daily.iloc[-1]
    recent = [(day, name) for day, name in state.shocks if 0 <= last.day - day < WINDOW_DAYS]
    if not recent:
        return None
    day, name = recent[-1]
    before = daily[daily.day < day]
    if before.empty or last.day < day:
        return None
    back = before.iloc[-1]
    moves = [
        (label, _pct(back[col], last[col]))
        for label, col in (
            ("the token price", "token_price_cny_per_mtok"),
            ("the compute price", "compute_price_cny_per_gpu_hour"),
            ("power", "power_price_cny_per_mwh"),
            ("tokens wanted", "tokens_demanded_mtok"),
            ("GPUs online", "gpus_online"),
        )
    ]
    text = ", ".join(f"{label} {_signed(move)}" for label, move in moves if abs(move) >= 0.005)
    days = int(last.day - back.day)
    return 2.0, f"Since the {name} ({days} day{'s' if days != 1 else ''} ago): {text or 'nothing has moved yet'}."


RULES = (shock_sentence, compute_sentence, token_sentence, unserved_sentence, power_sentence, pipeline_sentence)


def explain(state: ChainState, limit: int = 3) -> list[str]:
    """Up to ``limit`` sentences on the largest recent changes, most important first."""
    if state.daily.empty:
        return []
    found = [r for r in (rule(state) for rule in RULES) if r is not None]
    found.sort(key=lambda r: -r[0])
    return [text for _, text in found[:limit]] or ["Prices are steady: no price moved 10% in the last 30 days."]


def state_of(model, daily: pd.DataFrame | None = None) -> ChainState:
    """Read a ChainState off a running model (``daily``: its daily table, if already built)."""
    daily = model.daily_table() if daily is None else daily
    hourly = None
    if model.last:
        price = model.last.power.price  # (24, Z)
        hourly = pd.DataFrame({"zone": np.repeat(model.zone_names, 24), "price_cny_per_mwh": price.T.ravel()})
    start = model.start_date
    arrivals = [(start + dt.timedelta(days=when), n) for when, _, n in model.aidcs.pipeline]
    congested = {}
    if model.line_names and model.last:
        flow = np.abs(model.last.power.line_flow)
        full = flow >= model.line_params["limit_mw"][None, :] - 1e-6
        congested = {name: int(full[:, i].sum()) for i, name in enumerate(model.line_names)}
    shocks = [(day, name) for day, name, _ in getattr(model, "shocks_fired", [])]
    return ChainState(daily=daily, hourly_today=hourly, arrivals=arrivals, congested_hours=congested, shocks=shocks)


def storage_words(last: pd.Series) -> str:
    """Storage's part of a day's token price and, where AIDCs hold flexible grid connections, the GPU-hours their
    on-site batteries kept running in the grid's tight hours, per MWh of battery: what "storage = token" measures
    (HTML, one line; ``last`` is a row of the daily table)."""
    price = float(last.token_price_cny_per_mtok)
    share = float(last.token_cost_storage_cny_per_mtok) / price if price > 0 else 0.0
    text = f"Storage (grid and on-site batteries): <b>{share:.2%}</b> of the token price today"
    mwh, hours = float(last.onsite_storage_mwh), float(last.storage_gpu_hours)
    if mwh > 0:
        text += (
            f"; on-site batteries ({mwh:,.0f} MWh) kept <b>{hours:,.0f}</b> GPU-hours running in the grid's "
            f"tight hours ({hours / mwh:,.1f} per MWh)"
        )
    return text + "."
