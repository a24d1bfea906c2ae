"""The levers a teacher reaches for, as scenario-independent settings.

Each lever scales or sets something every scenario has; :func:`lever_overrides` turns lever values into
``--set`` overrides for a scenario, and :func:`lever_events` adds the ramps that happen during a run.
The browser app shows them as sliders; the same functions serve scripts and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lever:
    name: str
    label: str
    default: float
    min: float
    max: float
    step: float
    integer: bool = False


LEVERS = (
    Lever("agentic_growth", "Agentic multiplier, x over a year", 1.0, 0.5, 5.0, 0.25),
    Lever("storage_scale", "Storage capacity, x", 1.0, 0.0, 5.0, 0.25),
    Lever("line_scale", "Line capacity, x", 1.0, 0.0, 3.0, 0.1),
    Lever("efficiency_scale", "Token efficiency growth, x", 1.0, 0.0, 3.0, 0.25),
    Lever("gpu_delivery_scale", "GPU deliveries, x", 1.0, 0.0, 3.0, 0.1),
    Lever("price_cap", "Power price cap, CNY/MWh", 1500, 300, 5000, 100, integer=True),
)
DEFAULTS = {lever.name: lever.default for lever in LEVERS}


def lever_overrides(data: dict, values: dict[str, float]) -> list[str]:
    """``--set`` overrides that apply the levers (other than ramps) to scenario ``data``."""
    v = {**DEFAULTS, **values}
    out: list[str] = []
    for item in data["storage"]:
        for key in ("energy_mwh", "power_mw"):
            out.append(f"storage.{item['name']}.{key}={item[key] * v['storage_scale']}")
    for item in data["lines"]:
        out.append(f"lines.{item['name']}.limit_mw={item['limit_mw'] * v['line_scale']}")
    for item in data["providers"]:
        out.append(f"providers.{item['name']}.efficiency_growth_per_year="
                   f"{item['efficiency_growth_per_year'] * v['efficiency_scale']}")
    deliveries = data["compute"]["gpu_deliveries_per_month"] * v["gpu_delivery_scale"]
    out.append(f"compute.gpu_deliveries_per_month={deliveries}")
    out.append(f"markets.power_price_cap_cny_per_mwh={float(v['price_cap'])}")
    floor = data["markets"]["power_price_floor_cny_per_mwh"]
    if floor >= float(v["price_cap"]):
        out.append(f"markets.power_price_floor_cny_per_mwh={min(0.0, float(v['price_cap']) - 1)}")
    return out


def lever_events(model: Any, values: dict[str, float], ramp_days: int = 365) -> None:
    """Add the lever ramps to a freshly built model's timeline."""
    growth = {**DEFAULTS, **values}["agentic_growth"]
    if growth == 1.0:
        return
    for group, key in ((model.apps, "apps"), (model.enterprises, "enterprises")):
        for i, name in enumerate(group.names):
            target = max(1.0, float(group.params["agent_multiplier"][i]) * growth)
            model.timeline.add(0, f"{key}.{name}.agent_multiplier", target, ramp_days=ramp_days,
                               note="agentic multiplier lever")
