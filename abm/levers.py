"""The levers a teacher reaches for, as scenario-independent settings.

Each lever scales or sets something every scenario has; :func:`lever_overrides` turns lever values into
``--set`` overrides for a scenario, and :func:`lever_events` adds the ramps that happen during a run.
The browser app shows them as sliders; the same functions serve scripts and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenomy.abm.model import TokenEconomy


@dataclass(frozen=True)
class Lever:
    name: str
    label: str
    default: float
    min: float
    max: float
    step: float
    integer: bool = False
    unit: str = ""  # what the value counts, in words ("x the scenario's", "CNY per MWh")
    help: str = ""  # one sentence on what the lever changes

    def show(self, value: float) -> str:
        """The lever and its value in words: ``Storage capacity: x2.5 the scenario's``; at x1 it says the scenario
        is as it is (``Storage capacity: x1, as in the scenario``)."""
        if self.unit.startswith("x"):
            if value == 1.0 and self.unit in (SCALED, GROWTH):
                return f"{self.label}: x1, as in the scenario"
            return f"{self.label}: x{value:g}{self.unit[1:]}"
        return f"{self.label}: {value:,.0f} {self.unit}" if self.integer else f"{self.label}: {value:g} {self.unit}"


SCALED = "x the scenario's"
GROWTH = "x the scenario's, reached over a year"
LEVERS = (
    Lever(
        "agentic_growth",
        "Tokens per request as agents spread",
        1.0,
        0.5,
        5.0,
        0.25,
        unit=GROWTH,
        help="How many more tokens each user's requests take as agents spread, on top of the scenario's own "
        "agents, reached after a year.",
    ),
    Lever(
        "storage_scale", "Storage capacity", 1.0, 0.0, 5.0, 0.25, unit=SCALED, help="Every battery's energy and power."
    ),
    Lever(
        "line_scale",
        "Line capacity",
        1.0,
        0.0,
        3.0,
        0.1,
        unit=SCALED,
        help="How much power each transmission line can carry.",
    ),
    Lever(
        "efficiency_scale",
        "Token efficiency growth",
        1.0,
        0.0,
        3.0,
        0.25,
        unit=SCALED,
        help="How fast providers make more tokens from a GPU-hour.",
    ),
    Lever(
        "gpu_delivery_scale",
        "GPU deliveries",
        1.0,
        0.0,
        3.0,
        0.1,
        unit=SCALED,
        help="How many new GPUs vendors can ship a month.",
    ),
    Lever(
        "price_cap",
        "Power price cap",
        1500,
        300,
        5000,
        100,
        integer=True,
        unit="CNY per MWh",
        help="The highest price the power market may clear at.",
    ),
)
LEVER_BY_NAME = {lever.name: lever for lever in LEVERS}
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
        out.append(
            f"providers.{item['name']}.efficiency_growth_per_year="
            f"{item['efficiency_growth_per_year'] * v['efficiency_scale']}"
        )
    deliveries = data["compute"]["gpu_deliveries_per_month"] * v["gpu_delivery_scale"]
    out.append(f"compute.gpu_deliveries_per_month={deliveries}")
    out.append(f"markets.power_price_cap_cny_per_mwh={float(v['price_cap'])}")
    floor = data["markets"]["power_price_floor_cny_per_mwh"]
    if floor >= float(v["price_cap"]):
        out.append(f"markets.power_price_floor_cny_per_mwh={min(0.0, float(v['price_cap']) - 1)}")
    return out


def lever_events(model: TokenEconomy, values: dict[str, float], ramp_days: int = 365) -> None:
    """Add the lever ramps to a freshly built model's timeline."""
    growth = {**DEFAULTS, **values}["agentic_growth"]
    if growth == 1.0:
        return
    for group, key in ((model.apps, "apps"), (model.enterprises, "enterprises")):
        for i, name in enumerate(group.names):
            target = max(1.0, float(group.params["agent_multiplier"][i]) * growth)
            model.timeline.add(
                0, f"{key}.{name}.agent_multiplier", target, ramp_days=ramp_days, note="agentic multiplier lever"
            )
