"""What a student may decide, by role, and the check of every value a browser sends.

Each role's decisions are a few fields in the units a student reads on the dashboard; every field is optional in a
submission (a field left out is decided by the firm's own computer rule this round).  A value is checked as a
scenario value is (:func:`abm.scenarios.schema.coerce_scalar`: its type, a finite number, its bounds), against the
role's limits, and the message names the firm, the field and the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.scenarios.schema import Field, ScenarioError, coerce_scalar
from tokenomy.abm.suggest import did_you_mean
from tokenomy.agents import human
from tokenomy.agents.technologies import TECHS

MAX_FIELDS = 16  # a submission with more keys than any role has is refused before anything is read


@dataclass(frozen=True)
class DecisionField:
    """One decision a student makes: its name, what it means, its unit and its bounds (or choices)."""

    name: str
    kind: str  # "float", "int" or "str"
    unit: str
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None

    def field(self) -> Field:
        return Field(self.kind, min=self.min, max=self.max, choices=self.choices)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind, "unit": self.unit, "doc": self.doc}
        if self.choices is not None:
            out["choices"] = list(self.choices)
        else:
            out["min"], out["max"] = self.min, self.max
        return out


def role_fields(role: str, data: dict) -> tuple[DecisionField, ...]:
    """The decisions of ``role`` (``providers``, ``aidcs``, ``storage``, ``utilities``) in the scenario ``data``
    (whose power-price floor and cap bound a battery's prices)."""
    m = data["markets"]
    floor, cap = float(m["power_price_floor_cny_per_mwh"]), float(m["power_price_cap_cny_per_mwh"])
    fields = {
        "providers": (
            DecisionField(human.PRICE, "float", "CNY per Mtok", "your posted token price", 0.01, 1000.0),
            DecisionField(
                human.RESERVE,
                "float",
                "share of need",
                "GPU-hours you bid for beyond your forecast need, as a share of it",
                0.0,
                2.0,
            ),
        ),
        "aidcs": (
            DecisionField(
                human.RENT,
                "float",
                "CNY per GPU-hour",
                "scarcity rent your last GPUs ask on top of their running cost",
                0.0,
                1000.0,
            ),
            DecisionField(
                human.ORDER, "int", "GPUs", "GPUs you order on the first day of each month in the round", 0, 100_000
            ),
        ),
        "utilities": (
            DecisionField(
                human.MARKUP, "float", "share of cost", "markup of your coal and gas offers over their cost", 0.0, 5.0
            ),
            DecisionField(
                human.BUILD_TECH, "str", "", "the technology you build (with build_mw)", choices=tuple(TECHS)
            ),
            DecisionField(
                human.BUILD_MW, "float", "MW", "MW you build on the first day of each month in the round", 0.0, 10_000.0
            ),
        ),
        "storage": (
            DecisionField(
                human.CHARGE_BELOW,
                "float",
                "CNY per MWh",
                "charge in hours expected at or below this price",
                floor,
                cap,
            ),
            DecisionField(
                human.DISCHARGE_ABOVE,
                "float",
                "CNY per MWh",
                "discharge in hours expected at or above this price",
                floor,
                cap,
            ),
            DecisionField(
                human.BUILD_MWH,
                "float",
                "MWh",
                "batteries you order on the first day of each month in the round",
                0.0,
                10_000.0,
            ),
        ),
    }
    return fields[role]


def check_decision(role: str, firm: str, decision: Any, data: dict) -> dict[str, Any]:
    """The checked decision of ``firm`` (a ``role``): a table of known fields, each within its bounds; raises
    :class:`GameError` naming the field and the bound."""
    if not isinstance(decision, dict):
        raise GameError(f"{firm}: a decision must be a table of fields, got {type(decision).__name__}")
    if len(decision) > MAX_FIELDS:
        raise GameError(f"{firm}: a decision has at most {MAX_FIELDS} fields, got {len(decision)}")
    fields = {f.name: f for f in role_fields(role, data)}
    out: dict[str, Any] = {}
    for key, value in decision.items():
        if not isinstance(key, str) or key not in fields:
            name = str(key)[:40]
            raise GameError(f"{firm}: unknown field {name!r}{did_you_mean(name, list(fields), cutoff=0.4)}")
        try:
            out[key] = coerce_scalar(fields[key].field(), value, key, firm)
        except ScenarioError as exc:
            raise GameError(str(exc)) from None
    _check_pairs(role, firm, out)
    return out


def _check_pairs(role: str, firm: str, out: dict[str, Any]) -> None:
    """Fields that only mean something together."""
    if role == "utilities" and (human.BUILD_TECH in out) != (human.BUILD_MW in out):
        raise GameError(f"{firm}: '{human.BUILD_MW}' and '{human.BUILD_TECH}' go together: give both or neither")
    if role == "storage":
        low, high = out.get(human.CHARGE_BELOW), out.get(human.DISCHARGE_ABOVE)
        if (low is None) != (high is None):
            raise GameError(
                f"{firm}: '{human.CHARGE_BELOW}' and '{human.DISCHARGE_ABOVE}' go together: give both or neither"
            )
        if low is not None and not low < high:
            raise GameError(
                f"{firm}: '{human.CHARGE_BELOW}' ({low:g}) must be below '{human.DISCHARGE_ABOVE}' ({high:g})"
            )
