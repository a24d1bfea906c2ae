"""The scenario timeline: events that set a parameter on a given day, at once or ramped linearly.

A path names what to change, as in the scenario file: ``apps.chat.agent_multiplier``,
``apps.*.agentic_share``, ``zones.east.background_load_mw``, ``lines.west-east.limit_mw``,
``utilities.power-co.units.coal-1.capacity_mw``, ``markets.power_price_cap_cny_per_mwh``,
``compute.gpu_deliveries_per_month``, ``technologies.solar.build_mw_per_month``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tokenomy.abm.scenarios import ScenarioError
from tokenomy.abm.scenarios.schema import field_at
from tokenomy.abm.scenarios.spec import ROOT
from tokenomy.abm.scenarios.timeline import UNIT_SETTINGS
from tokenomy.abm.state import World

GROUP_KEYS = {
    "apps": "app",
    "enterprises": "enterprise",
    "providers": "provider",
    "labs": "lab",
    "aidcs": "aidc",
    "utilities": "utility",
    "storage": "storage",
}


@dataclass
class Target:
    get: Callable[[], float]
    set: Callable[[float], None]


def resolve(model: World, path: str) -> list[Target]:
    """Turn a dotted path into getters/setters on the live model."""
    parts = path.split(".")
    head = parts[0]
    if head in GROUP_KEYS and len(parts) >= 3:
        group = model.groups[GROUP_KEYS[head]]
        names = group.names if parts[1] == "*" else [parts[1]]
        out = []
        for name in names:
            if name not in group.names:
                raise ScenarioError(f"event '{path}': no {head} entry named '{name}'")
            i = group.index(name)
            if head == "utilities" and parts[2] == "units":
                if len(parts) != 5:
                    raise ScenarioError(f"event '{path}' does not name a unit's setting (utilities.U.units.N.KEY)")
                out.extend(_unit_targets(group, i, parts[3], parts[4], path, parts[1] != "*"))
            elif parts[2] in group.params:
                out.append(_group_target(group, parts[2], i))
            else:
                raise ScenarioError(f"event '{path}': '{parts[2]}' cannot change during a run")
        return out
    if head in ("zones", "lines") and len(parts) == 3:
        names = model.zone_names if head == "zones" else model.line_names
        params = model.zone_params if head == "zones" else model.line_params
        selected = names if parts[1] == "*" else [parts[1]]
        if parts[2] not in params:
            raise ScenarioError(f"event '{path}': '{parts[2]}' cannot change during a run")
        if any(n not in names for n in selected):
            raise ScenarioError(f"event '{path}': no {head.rstrip('s')} named '{parts[1]}'")
        return [_array_target(params[parts[2]], names.index(n)) for n in selected]
    if head in ("markets", "compute", "policy", "technologies"):
        node = model.data
        for key in parts[:-1]:
            node = node[key]
        last = parts[-1]
        return [Target(lambda node=node: float(node[last]), lambda v, node=node: node.__setitem__(last, v))]
    raise ScenarioError(f"event '{path}' does not name a setting that can change during a run")


def _array_target(arr: np.ndarray, i: int) -> Target:
    return Target(lambda: float(arr[i]), lambda v: arr.__setitem__(i, v))


def _group_target(group: Any, key: str, i: int) -> Target:
    return Target(lambda: float(group.params[key][i]), lambda v: group.set_param(key, i, v))


UNIT_ARRAYS = dict(zip(UNIT_SETTINGS, ("unit_capacity_mw", "unit_mc"), strict=True))  # setting -> live array


def _unit_targets(group: Any, owner: int, unit: str, key: str, path: str, required: bool) -> list[Target]:
    """The units of utility ``owner`` named ``unit`` (all of its units for '*'): a unit's name is its owner's,
    so another utility's unit of the same name is never touched.  Not ``required`` (``utilities.*``), a utility
    without such a unit gives none."""
    if key not in UNIT_ARRAYS:
        raise ScenarioError(f"event '{path}': unit setting '{key}' cannot change during a run")
    mine = [j for j, name in enumerate(group.unit_names) if group.unit_owner[j] == owner and unit in ("*", name)]
    if not mine and unit != "*" and required:
        raise ScenarioError(f"event '{path}': {group.names[owner]} has no unit named '{unit}'")
    return [_unit_target(group, UNIT_ARRAYS[key], j) for j in mine]


def _unit_target(group: Any, array: str, j: int) -> Target:
    # looked up on each call: new units are appended to a new array
    return Target(lambda: float(getattr(group, array)[j]), lambda v: getattr(group, array).__setitem__(j, v))


class Timeline:
    """Events sorted by day; each fires once (or ramps over ``ramp_days`` days)."""

    def __init__(self, model: World, events: list[dict]):
        self.model = model
        self.pending = sorted(({**e, "targets": resolve(model, e["set"])} for e in events), key=lambda e: e["day"])
        self.active: list[dict] = []
        self.fired: list[dict] = []

    def add(self, day: int, path: str, value: float, ramp_days: int = 0, note: str = "") -> None:
        """Inject an event (shock buttons, tests).  Like a scenario's events, it may change an exogenous
        driver, never a price or markup the agents decide."""
        spec = field_at(ROOT, path)
        if spec is not None and spec.decided:
            raise ScenarioError(f"event '{path}': a price or markup the agents decide cannot be set by an event")
        event = {
            "day": day,
            "set": path,
            "value": float(value),
            "ramp_days": ramp_days,
            "note": note,
            "targets": resolve(self.model, path),
        }
        self.pending.append(event)
        self.pending.sort(key=lambda e: e["day"])

    def fire(self, day: int) -> None:
        while self.pending and self.pending[0]["day"] <= day:
            event = self.pending.pop(0)
            event["start"] = [t.get() for t in event["targets"]]
            self.active.append(event)
        still = []
        for event in self.active:
            ramp = event["ramp_days"]
            frac = 1.0 if ramp <= 0 else min(1.0, (day - event["day"] + 1) / ramp)
            for target, start in zip(event["targets"], event["start"], strict=True):
                target.set(start + (event["value"] - start) * frac)
            if frac >= 1.0:
                self.fired.append(event)
            else:
                still.append(event)
        self.active = still
