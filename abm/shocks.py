"""Shocks a teacher can fire during a run: each adds timeline events that take effect the next day.

They work on any scenario, scaling whatever the scenario has (all apps, all lines, all batteries).  Like a
scenario's events they change exogenous drivers only (how much buyers want, line limits, fleets, vendors'
deliveries), never a price or a markup.  Every shock fired is kept in ``model.shocks_fired`` as
``(day, name, message)``, the day being the first simulated day it acts on, so charts can mark it.

A driver that the scenario's own events (or the levers' ramps) also move is scaled in those events too: a
ramp already under way or scheduled would otherwise set it back to the value it had without the shock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenomy.abm.day.power import BACKGROUND_SHAPE

if TYPE_CHECKING:
    from tokenomy.abm.model import TokenEconomy

OUTAGE_DAYS = 30
BOOM_FACTOR = 2.0
GPU_DELIVERY_SHARE = 0.2  # vendors deliver a fifth of what they could
GPU_CUT_DAYS = 180
GPU_WITHDRAWN_SHARE = 0.1  # of the GPUs online, taken out of service for good


def _date(model: TokenEconomy, day: int) -> str:
    return (model.start_date + dt.timedelta(days=day)).isoformat()


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _scale_scheduled(model: TokenEconomy, head: str, key: str, factor: float) -> None:
    """Scale the target of every pending or running event that sets ``head.*.key`` (or one entry of it)."""
    timeline = model.timeline
    for event in [*timeline.pending, *timeline.active]:
        parts = event["set"].split(".")
        if parts[0] == head and parts[-1] == key:
            event["value"] *= factor
            if "start" in event:
                event["start"] = [s * factor for s in event["start"]]


def _add_scaled(model: TokenEconomy, day: int, path: str, value: float, note: str) -> None:
    """Add an event setting ``path`` to ``value`` on ``day``, unless one already does (and was scaled with the
    rest): a shock fired twice before the next day then acts twice."""
    if not any(e["set"] == path and e["day"] == day for e in model.timeline.pending):
        model.timeline.add(day, path, value, note=note)


def _range(values: np.ndarray, unit: str) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    span = _fmt(lo) if np.isclose(lo, hi) else f"{_fmt(lo)} to {_fmt(hi)}"
    return f"{span} {unit}"


def demand_boom(model: TokenEconomy) -> str:
    """Buyers want twice the tokens at every price: apps' requests per user and firms' usage and budgets double,
    so the demand curve shifts right to twice its quantity (what is bought then depends on the price)."""
    day = model.day
    apps, ents = model.apps, model.enterprises
    parts = []
    if apps.n:
        requests = apps.params["requests_per_user_per_day"]
        _scale_scheduled(model, "apps", "requests_per_user_per_day", BOOM_FACTOR)
        for name, value in zip(apps.names, requests, strict=True):
            _add_scaled(model, day, f"apps.{name}.requests_per_user_per_day", float(value) * BOOM_FACTOR, "demand boom")
        after = _range(requests * BOOM_FACTOR, "a day")
        parts.append(f"requests per user x{BOOM_FACTOR:g} ({_range(requests, '')}→ {after})")
    if ents.n:
        usage = ents.params["mtok_per_firm_per_day"]
        for key in ("mtok_per_firm_per_day", "budget_cny_per_firm_per_day"):
            _scale_scheduled(model, "enterprises", key, BOOM_FACTOR)
            for name, value in zip(ents.names, ents.params[key], strict=True):
                _add_scaled(model, day, f"enterprises.{name}.{key}", float(value) * BOOM_FACTOR, "demand boom")
        parts.append(
            f"firm usage x{BOOM_FACTOR:g} ({_range(usage, '')}→ {_range(usage * BOOM_FACTOR, 'Mtok/firm/day')}"
            f", token budgets too)"
        )
    before = sum(1 for _, name, _ in getattr(model, "shocks_fired", None) or [] if name == "demand boom")
    total = f" ({BOOM_FACTOR ** (before + 1):g}x the scenario's, after {before + 1} booms)" if before else ""
    return (
        f"Demand boom: {' and '.join(parts)}, from {_date(model, day)}, permanent: at any price buyers want "
        f"{BOOM_FACTOR:g}x the tokens they wanted{total}"
    )


def line_outage(model: TokenEconomy) -> str:
    """Every transmission line trips for a month, then comes back."""
    limits = model.line_params["limit_mw"]
    for name, limit in zip(model.line_names, limits, strict=True):
        model.timeline.add(model.day, f"lines.{name}.limit_mw", 0.0, note="line outage")
        model.timeline.add(model.day + OUTAGE_DAYS, f"lines.{name}.limit_mw", float(limit), note="line restored")
    n = len(model.line_names)
    if not n:
        return "Line outage: this scenario has no transmission lines, nothing changes"
    return (
        f"Line outage: {n} line{'s' if n > 1 else ''}, {float(np.sum(limits)):,.0f} MW out for {OUTAGE_DAYS} "
        f"days, from {_date(model, model.day)} to {_date(model, model.day + OUTAGE_DAYS)}"
    )


BACKGROUND_PEAK = float(BACKGROUND_SHAPE.max())  # the peak of a zone's daily load over its mean
STORAGE_SHARE_OF_LOAD = 0.2  # add storage: at least this share of the zone's peak background load, in MW
STORAGE_HOURS = 4.0  # ... for at least this many hours


def add_storage(model: TokenEconomy) -> str:
    """Every battery fleet grows by its own size, and by at least a fifth of its zone's peak load for 4 hours, so
    the change shows against the load it serves (doubling a small fleet would not)."""
    st = model.storage
    added_mw = added_mwh = 0.0
    peak = BACKGROUND_PEAK * model.zone_params["background_load_mw"]
    for i, name in enumerate(st.names):
        energy, power = float(st.params["energy_mwh"][i]), float(st.params["power_mw"][i])
        mw = max(power, STORAGE_SHARE_OF_LOAD * float(peak[st.zone[i]]))
        mwh = mw * max(energy / power if power > 0 else 0.0, STORAGE_HOURS)
        model.timeline.add(model.day, f"storage.{name}.power_mw", power + mw, note="add storage")
        model.timeline.add(model.day, f"storage.{name}.energy_mwh", energy + mwh, note="add storage")
        added_mw += mw
        added_mwh += mwh
    if not st.n:
        return "Add storage: this scenario has no storage fleets, nothing changes"
    load = float(peak[np.unique(st.zone)].sum())
    return (
        f"Storage added: +{added_mw:,.0f} MW / +{added_mwh:,.0f} MWh of batteries in {st.n} fleet"
        f"{'s' if st.n > 1 else ''} (against {load:,.0f} MW of peak load where they are), from "
        f"{_date(model, model.day)}, permanent"
    )


def gpu_supply_cut(model: TokenEconomy) -> str:
    """A tenth of the GPUs online leave service for good (a recalled batch, an export ban on spares) and vendors
    deliver a fifth of what they could for six months: fewer GPUs now, fewer on order, dearer compute."""
    aidcs, day = model.aidcs, model.day
    gpus = aidcs.params["gpus"]
    withdrawn = np.floor(gpus * GPU_WITHDRAWN_SHARE)
    for name, n, out in zip(aidcs.names, gpus, withdrawn, strict=True):
        if out > 0:
            model.timeline.add(day, f"aidcs.{name}.gpus", float(n - out), note="GPU supply cut")
    cap = float(model.data["compute"]["gpu_deliveries_per_month"])
    cut = cap * GPU_DELIVERY_SHARE
    model.timeline.add(day, "compute.gpu_deliveries_per_month", cut, note="GPU supply cut")
    model.timeline.add(day + GPU_CUT_DAYS, "compute.gpu_deliveries_per_month", cap, note="GPU deliveries restored")
    return (
        f"GPU supply cut: {withdrawn.sum():,.0f} of {gpus.sum():,.0f} GPUs online withdrawn for good "
        f"({GPU_WITHDRAWN_SHARE:.0%}), and vendor deliveries capped at {_fmt(cut)} GPUs/month (from {_fmt(cap)}) "
        f"for {GPU_CUT_DAYS} days, from {_date(model, day)}"
    )


# how long a shock acts, in days (the rest are permanent)
SHOCK_DAYS: dict[str, int] = {"line outage": OUTAGE_DAYS, "GPU supply cut": GPU_CUT_DAYS}

SHOCKS: dict[str, Callable[[Any], str]] = {
    "demand boom": demand_boom,
    "line outage": line_outage,
    "add storage": add_storage,
    "GPU supply cut": gpu_supply_cut,
}


def apply_shock(model: TokenEconomy, name: str) -> str:
    """Fire the named shock; returns a one-line description of what changes, by how much and for how long."""
    if name not in SHOCKS:
        raise KeyError(f"unknown shock {name!r}; known: {', '.join(SHOCKS)}")
    message = SHOCKS[name](model)
    fired = getattr(model, "shocks_fired", None)
    if fired is None:
        fired = model.shocks_fired = []
    fired.append((int(model.day), name, message))
    return message


def shock_in_words(shock: Callable[[Any], str]) -> str:
    """What a shock does, before it is fired: its docstring as one paragraph."""
    return " ".join((shock.__doc__ or "").split())
