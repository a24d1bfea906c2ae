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

from tokenomy.viz.charts import short_label

WINDOW_DAYS = 30
MOVE = 0.10  # a 10% move over the window is worth a sentence
UNSERVED = 0.01  # so is more than 1% of token demand going unserved


@dataclass
class ChainState:
    """What the narrative reads: the daily table, today's hourly rows, the zones then and now, the GPU pipeline."""

    daily: pd.DataFrame
    hourly_today: pd.DataFrame | None = None
    arrivals: list[tuple[dt.date, float]] = field(default_factory=list)  # (date, GPUs) on order
    congested_hours: dict[str, int] = field(default_factory=dict)  # line name -> hours at limit today
    shocks: list[tuple[int, str]] = field(default_factory=list)  # (first day it acted on, shock name)
    events: list[tuple[int, str]] = field(default_factory=list)  # the scenario's own: (first day, short label)
    # per zone (index), the window's first day and its last: mean power price (CNY/MWh), load, AIDC load and green
    # supply (MWh a day): columns price_back, price_now, load_back, load_now, aidc_back, aidc_now, green_back,
    # green_now
    zones: pd.DataFrame | None = None
    line_ends: dict[str, tuple[str, str]] = field(default_factory=dict)  # line name -> (from zone, to zone)
    today: dt.date | None = None  # the date the header shows (the next day to trade)
    horizon_days: int | None = None  # the scenario's horizon: the run's summary is due on its last day


def _pct(a: float, b: float) -> float:
    return (b - a) / abs(a) if a else 0.0


def _signed(x: float) -> str:
    return f"{x:+.0%}".replace("-", "\u2212")


def _finite(*xs: float) -> bool:
    return all(np.isfinite(x) for x in xs)


def _gpus(n: float) -> str:
    return f"{n:,.0f}"


def _window(daily: pd.DataFrame) -> tuple[pd.Series, pd.Series, int]:
    last = daily.iloc[-1]
    back = daily.iloc[max(0, len(daily) - 1 - WINDOW_DAYS)]
    return back, last, int(last.day - back.day)


def arrivals_by_date(arrivals: list[tuple[dt.date, float]], limit: int | None = None) -> list[tuple[dt.date, float]]:
    """GPUs on order added up by the date they arrive, soonest first (at most ``limit`` dates)."""
    total: dict[dt.date, float] = {}
    for when, n in arrivals:
        total[when] = total.get(when, 0.0) + n
    return sorted(total.items())[:limit]


def _on(when: dt.date, today: dt.date | None) -> str:
    if today is not None and when == today:
        return "today"
    if today is not None and when == today + dt.timedelta(days=1):
        return "tomorrow"
    return f"on {when.isoformat()}"


def _next_arrival(state: ChainState) -> str:
    if not state.arrivals:
        return "no new GPUs are on order"
    when, n = arrivals_by_date(state.arrivals, 1)[0]
    return f"the next {_gpus(n)} GPUs arrive {_on(when, state.today)}"


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
    """A token price move, taken apart: price = (compute per token) x (price over that cost), so the two parts
    say how big the move is, unless demand went unserved (then providers raise prices to clear the market)."""
    back, last, days = _window(state.daily)
    move = _pct(back.token_price_cny_per_mtok, last.token_price_cny_per_mtok)
    if days == 0 or abs(move) < MOVE:
        return None
    if move > 0 and last.unserved_share >= UNSERVED:
        why = f"{last.unserved_share:.1%} of demand went unserved, so providers raise prices"
        return abs(move), f"Token price {_signed(move)} in {days} days: {why}."
    cost_back, cost_now = back.token_unit_cost_cny_per_mtok, last.token_unit_cost_cny_per_mtok
    parts = []
    if _finite(cost_back, cost_now) and cost_back > 0 and cost_now > 0:
        cost = _pct(cost_back, cost_now)
        if cost <= -0.005:
            parts.append(f"the compute behind each token got {-cost:.0%} cheaper")
        elif cost >= 0.005:
            parts.append(f"the compute behind each token costs {cost:.0%} more")
        ratio_back = back.token_price_cny_per_mtok / cost_back
        ratio_now = last.token_price_cny_per_mtok / cost_now
        if abs(ratio_now - ratio_back) >= 0.02:
            parts.append(f"providers' price went from {ratio_back:.2f} to {ratio_now:.2f} times that cost")
    if not parts:
        parts.append("providers run near capacity at the daily peak" if move > 0 else "providers compete for buyers")
    return abs(move), f"Token price {_signed(move)} in {days} days: {' and '.join(parts)}."


def unserved_sentence(state: ChainState) -> tuple[float, str] | None:
    last = state.daily.iloc[-1]
    if last.unserved_share < UNSERVED:
        return None
    return 1.0 + last.unserved_share, (
        f"{last.unserved_share:.1%} of token demand went unserved today: "
        f"providers ran out of GPUs at the peak and {_next_arrival(state)}."
    )


def _line_sentence(state: ChainState) -> tuple[float, str] | None:
    """The line full for most hours today, and the prices at its two ends (where they differ)."""
    congested = {k: v for k, v in state.congested_hours.items() if v > 0}
    if not congested:
        return None
    line, hours = max(congested.items(), key=lambda kv: kv[1])
    ends = state.line_ends.get(line)
    if ends is not None and state.zones is not None:
        prices = state.zones.price_now.loc[list(ends)]
    elif state.hourly_today is not None:  # no ends known: the dearest and cheapest zones
        prices = state.hourly_today.groupby("zone", observed=True).price_cny_per_mwh.mean()
    else:
        return None
    dear, cheap = prices.idxmax(), prices.idxmin()
    if prices[dear] - prices[cheap] <= 0.05 * abs(prices[cheap]) + 1.0:
        return None
    at = " at its two ends" if ends is not None else ""
    return 0.5 + hours / 24, (
        f"Line {line} was full {hours} of 24 hours: power in {dear} averaged "
        f"{prices[dear]:,.0f} CNY/MWh against {prices[cheap]:,.0f} in {cheap}{at}."
    )


def _zone_causes(state: ChainState, move: float) -> tuple[str, str] | None:
    """The zone whose price moved most in the direction of ``move``, and what changed there: its demand (the
    AIDCs' part in MWh a day) and its green supply.  None without zones."""
    zones = state.zones
    if zones is None or zones.empty:
        return None
    zone_move = (zones.price_now - zones.price_back) / zones.price_back.abs().where(zones.price_back != 0)
    zone_move = zone_move.dropna()
    if zone_move.empty:
        return None
    z = zone_move.idxmax() if move > 0 else zone_move.idxmin()
    row = zones.loc[z]
    where = f", most in {z} ({_signed(zone_move[z])})" if len(zones) > 1 else ""
    causes = []
    load = _pct(row.load_back, row.load_now)
    aidc = row.aidc_now - row.aidc_back
    if load * move > 0 and abs(load) >= 0.01:
        verb = "rose" if load > 0 else "fell"
        aidc_part = f" (AIDCs {aidc:+,.0f} MWh a day)".replace("-", "\u2212") if abs(aidc) >= 1.0 else ""
        causes.append(f"demand there {verb} {abs(load):.0%}{aidc_part}")
    green = _pct(row.green_back, row.green_now)
    if green * move < 0 and abs(green) >= 0.01:
        causes.append(f"green supply there {'fell' if green < 0 else 'rose'} {abs(green):.0%}")
    if not causes:
        causes.append(
            f"at the same demand and green supply dearer units set it ({row.price_back:,.0f} to "
            f"{row.price_now:,.0f} CNY/MWh)"
        )
    return where, " and ".join(causes)


def power_sentence(state: ChainState) -> tuple[float, str] | None:
    line = _line_sentence(state)
    if line is not None:
        return line
    back, last, days = _window(state.daily)
    move = _pct(back.power_price_cny_per_mwh, last.power_price_cny_per_mwh)
    if days == 0 or abs(move) < MOVE:
        return None
    found = _zone_causes(state, move)
    if found is None:  # no zones to look at: the day's totals
        where, why = (
            "",
            f"AIDCs drew {last.aidc_energy_mwh:,.0f} MWh today"
            if move > 0
            else f"green power met {last.green_share:.0%} of demand",
        )
    else:
        where, why = found
    return abs(move), f"Power price {_signed(move)} in {days} days{where}: {why}."


def pipeline_sentence(state: ChainState) -> tuple[float, str] | None:
    if not state.arrivals:
        return None
    total = sum(g for _, g in state.arrivals)
    return 0.05, f"{_gpus(total)} GPUs are on order; {_next_arrival(state)}."


def shock_sentence(state: ChainState) -> tuple[float, str] | None:
    """The latest shock or scenario event of the last 30 days, and how the prices and tokens wanted moved since the
    day before it."""
    daily = state.daily
    last = daily.iloc[-1]
    recent = sorted(
        [(day, f"the {name}") for day, name in state.shocks]
        + [(day, f"\u201c{label}\u201d") for day, label in state.events]
    )
    recent = [(day, name) for day, name in recent if 0 <= last.day - day < WINDOW_DAYS]
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
    return 2.0, f"Since {name} ({days} day{'s' if days != 1 else ''} ago): {text or 'nothing has moved yet'}."


def _span(days: int) -> str:
    if days == 365:
        return "the year"
    if days % 365 == 0:
        return f"{days // 365} years"
    return f"the run's {days} days"


def summary_sentence(state: ChainState) -> tuple[float, str] | None:
    """On the last day of a year, or of the scenario's horizon: how prices and tokens moved since the first day."""
    daily = state.daily
    first, last = daily.iloc[0], daily.iloc[-1]
    days = int(last.day) + 1
    if days < 2 or (days % 365 != 0 and days != state.horizon_days):
        return None
    token = _pct(first.token_price_cny_per_mtok, last.token_price_cny_per_mtok)
    compute = _pct(first.compute_price_cny_per_gpu_hour, last.compute_price_cny_per_gpu_hour)
    power = _pct(first.power_price_cny_per_mwh, last.power_price_cny_per_mwh)
    text = (
        f"Over {_span(days)}: the token price {_signed(token)} ({first.token_price_cny_per_mtok:,.2f} to "
        f"{last.token_price_cny_per_mtok:,.2f} CNY per million tokens), compute {_signed(compute)}, "
        f"power {_signed(power)}"
    )
    if "tokens_served_mtok" in daily and first.tokens_served_mtok > 0:
        text += f"; tokens served x{last.tokens_served_mtok / first.tokens_served_mtok:,.1f}"
    return 3.0, text + "."


RULES = (
    summary_sentence,
    shock_sentence,
    compute_sentence,
    token_sentence,
    unserved_sentence,
    power_sentence,
    pipeline_sentence,
)


def explain(state: ChainState, limit: int = 3) -> list[str]:
    """Up to ``limit`` sentences on the largest recent changes, most important first."""
    if state.daily.empty:
        return []
    found = [r for r in (rule(state) for rule in RULES) if r is not None]
    found.sort(key=lambda r: -r[0])
    return [text for _, text in found[:limit]] or ["Prices are steady: no price moved 10% in the last 30 days."]


def _zones_then_and_now(model, days: int) -> pd.DataFrame | None:
    """:attr:`ChainState.zones` from the recorder's hourly columns ((days, Z, 24) views, no table built)."""
    if days == 0:
        return None
    rec = model.recorder
    back, now = max(0, days - 1 - WINDOW_DAYS), days - 1
    price = rec.hourly_column("price_cny_per_mwh")
    out = {"price_back": price[back].mean(axis=1), "price_now": price[now].mean(axis=1)}
    for key, column in (("load", "load_mw"), ("aidc", "aidc_load_mw"), ("green", "green_supply_mw")):
        values = rec.hourly_column(column)
        out[f"{key}_back"], out[f"{key}_now"] = values[back].sum(axis=1), values[now].sum(axis=1)
    return pd.DataFrame(out, index=list(model.zone_names))


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
    ends = {
        name: (model.zone_names[int(a)], model.zone_names[int(b)])
        for name, a, b in zip(model.line_names, model.line_from, model.line_to, strict=True)
    }
    shocks = [(day, name) for day, name, _ in getattr(model, "shocks_fired", [])]
    events = sorted(
        {
            int(e["day"]): short_label(str(e.get("note") or e.get("path", "event")))
            for e in reversed(model.data.get("events", []))
        }.items()
    )  # one per day, labelled by its first event
    return ChainState(
        daily=daily,
        hourly_today=hourly,
        arrivals=arrivals,
        congested_hours=congested,
        shocks=shocks,
        events=events,
        zones=_zones_then_and_now(model, len(daily)),
        line_ends=ends,
        today=model.date,
        horizon_days=int(model.data["scenario"]["days"]),
    )


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
