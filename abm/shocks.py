"""Shocks a teacher can fire during a run: each adds timeline events that take effect the next day.

They work on any scenario, scaling whatever the scenario has (all apps, all lines, all batteries).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OUTAGE_DAYS = 30


def demand_boom(model: Any) -> str:
    """Agents arrive: every buyer's agentic multiplier and usage double."""
    day = model.day
    for name, mult in zip(model.apps.names, model.apps.params["agent_multiplier"], strict=True):
        model.timeline.add(day, f"apps.{name}.agent_multiplier", float(mult) * 2.0, note="demand boom")
        model.timeline.add(day, f"apps.{name}.agentic_share",
                           max(0.5, float(model.apps.params["agentic_share"][model.apps.index(name)])),
                           note="demand boom")
    for name, use in zip(model.enterprises.names, model.enterprises.params["mtok_per_firm_per_day"], strict=True):
        model.timeline.add(day, f"enterprises.{name}.mtok_per_firm_per_day", float(use) * 2.0, note="demand boom")
    return "Demand boom: agentic multipliers and firm usage doubled"


def line_outage(model: Any) -> str:
    """Every transmission line trips for a month, then comes back."""
    for name, limit in zip(model.line_names, model.line_params["limit_mw"], strict=True):
        model.timeline.add(model.day, f"lines.{name}.limit_mw", 0.0, note="line outage")
        model.timeline.add(model.day + OUTAGE_DAYS, f"lines.{name}.limit_mw", float(limit), note="line restored")
    return f"Line outage: all lines out for {OUTAGE_DAYS} days"


def add_storage(model: Any) -> str:
    """Every battery fleet doubles (or a fleet that is empty gets 4 hours at 10% of zone load)."""
    st = model.storage
    for i, name in enumerate(st.names):
        energy, power = st.params["energy_mwh"][i], st.params["power_mw"][i]
        if energy <= 0:
            power = 0.1 * model.zone_params["background_load_mw"][st.zone[i]]
            energy = 4 * power
            model.timeline.add(model.day, f"storage.{name}.power_mw", float(power), note="add storage")
            model.timeline.add(model.day, f"storage.{name}.energy_mwh", float(energy), note="add storage")
        else:
            model.timeline.add(model.day, f"storage.{name}.power_mw", float(power) * 2, note="add storage")
            model.timeline.add(model.day, f"storage.{name}.energy_mwh", float(energy) * 2, note="add storage")
    return "Storage added: battery fleets doubled"


def gpu_supply_cut(model: Any) -> str:
    """GPU deliveries fall to a fifth of what vendors shipped."""
    current = float(model.data["compute"]["gpu_deliveries_per_month"])
    model.timeline.add(model.day, "compute.gpu_deliveries_per_month", current * 0.2, note="GPU supply cut")
    return "GPU supply cut: deliveries down 80%"


SHOCKS: dict[str, Callable[[Any], str]] = {
    "demand boom": demand_boom,
    "line outage": line_outage,
    "add storage": add_storage,
    "GPU supply cut": gpu_supply_cut,
}


def apply_shock(model: Any, name: str) -> str:
    """Fire the named shock; returns a one-line description of what changed."""
    if name not in SHOCKS:
        raise KeyError(f"unknown shock {name!r}; known: {', '.join(SHOCKS)}")
    return SHOCKS[name](model)
