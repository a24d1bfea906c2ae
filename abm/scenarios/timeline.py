"""Checks of a scenario's events (its timeline), at load, against the graph in use.

An event is accepted only if the running model can apply it: its path names a number setting the model
holds while it runs (not the horizon, the seed, the events or the expected outcome), every entry the path
names exists (lines: in the user's graph when there is one; a unit: within its own utility), its value is in
the setting's range, and the state the events lead to keeps bound settings in order (the power price floor
below the cap, an idle GPU's draw at most a busy one's, reactances on every line or on none).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tokenomy.abm.scenarios.schema import Field, ListOf, ScenarioError, Table, field_at
from tokenomy.abm.scenarios.spec import ROOT
from tokenomy.abm.suggest import did_you_mean

# what the running model holds, and so what an event may change: the scenario's tables of settings, the
# zones and lines, and every agent's settings (a utility's units: their capacity and marginal cost)
CHANGEABLE = (
    "markets",
    "compute",
    "policy",
    "technologies",
    "zones",
    "lines",
    "apps",
    "enterprises",
    "providers",
    "labs",
    "aidcs",
    "utilities",
    "storage",
)
UNIT_SETTINGS = ("capacity_mw", "marginal_cost_cny_per_mwh")
FLOOR, CAP = ("markets", "power_price_floor_cny_per_mwh"), ("markets", "power_price_cap_cny_per_mwh")
IDLE, BUSY = "idle_kw_per_gpu", "busy_kw_per_gpu"

Target = tuple[str, ...]  # a concrete setting: ("apps", "chatbot", "users"), ("markets", "token_inertia")


def event_field(path: str, source: str) -> Field:
    """The schema field an event's dotted path points at (list items by name or '*'), if events may set it."""
    spec = field_at(ROOT, path)
    if spec is None:
        raise ScenarioError(f"{source}: event sets unknown key '{path}'")
    if spec.kind not in ("float", "int"):
        raise ScenarioError(f"{source}: event key '{path}' is not a number setting")
    parts = path.split(".")
    if parts[0] not in CHANGEABLE:
        raise ScenarioError(
            f"{source}: event sets '{path}', which cannot change during a run (events change markets, compute, "
            "policy, technologies, zones, lines and the agents' settings)"
        )
    if parts[0] == "utilities" and len(parts) == 5 and parts[4] not in UNIT_SETTINGS:
        raise ScenarioError(
            f"{source}: event sets '{path}': of a unit, only {' and '.join(UNIT_SETTINGS)} can change during a run"
        )
    if spec.decided:
        raise ScenarioError(
            f"{source}: event sets '{path}', a price or markup the agents decide; events may "
            "change exogenous drivers only (demand, efficiency, deliveries, policy, capacities)"
        )
    return spec


def expand(data: dict, path: str, source: str, line_names: list[str] | None = None) -> list[Target]:
    """The concrete settings an event's path names, each '*' expanded over the entries of its own owner;
    a name that no entry has is refused.  ``line_names`` are the lines of the graph in use, if not the
    scenario's own."""
    return list(_expand(ROOT, data, path.split("."), (), path, source, line_names))


def _expand(
    spec: Any, node: Any, parts: list[str], walked: Target, path: str, source: str, line_names: list[str] | None
) -> Iterator[Target]:
    if not parts:
        yield walked
        return
    key, rest = parts[0], parts[1:]
    if isinstance(spec, Table):
        child = node.get(key) if isinstance(node, dict) else None
        yield from _expand(spec.fields.get(key), child, rest, (*walked, key), path, source, line_names)
        return
    if not isinstance(spec, ListOf):  # a value with sub-keys: field_at has refused it already
        raise ScenarioError(f"{source}: event key '{path}' is not a number setting")
    entries = {item[spec.key]: item for item in node or []}
    if walked == ("lines",) and line_names is not None:  # the user's graph decides which lines there are
        entries = {name: entries.get(name, {}) for name in line_names}
    where = ".".join(walked)
    names = list(entries)
    if key == "*" and not entries:
        raise ScenarioError(f"{source}: event sets '{path}', but the scenario has no '{where}'")
    if key != "*" and key not in entries:
        owner = "the graph" if walked == ("lines",) and line_names is not None else f"'{where}'"
        raise ScenarioError(
            f"{source}: event sets '{path}', but {owner} has no entry named '{key}'{did_you_mean(key, list(entries))}"
        )
    if key != "*":
        yield from _expand(spec.item, entries[key], rest, (*walked, key), path, source, line_names)
        return
    found, missing = [], None
    for name in names:  # under a '*', an entry without the named sub-entry is passed over (units are per owner)
        try:
            found += _expand(spec.item, entries[name], rest, (*walked, name), path, source, line_names)
        except ScenarioError as exc:
            missing = exc
    if not found and missing is not None:
        raise missing
    yield from found


def _start_value(data: dict, target: Target, reactances: dict[str, float] | None) -> Any:
    if reactances is not None and target[0] == "lines" and target[-1] == "reactance":
        return reactances[target[1]]
    node: Any = data
    for key in target:
        node = next(item for item in node if item.get("name") == key) if isinstance(node, list) else node[key]
    return node


def _check_value(event: dict, spec: Field, source: str) -> None:
    path, v, day = event["set"], event["value"], event["day"]
    lo, hi = spec.min, spec.max
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        allowed = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
        raise ScenarioError(f"{source}: event on day {day} sets '{path}' = {v:g}, out of range {allowed}")
    if spec.kind == "int" and not float(v).is_integer():
        raise ScenarioError(f"{source}: event on day {day} sets '{path}' = {v:g}, not a whole number")


def _check_bound_settings(state: dict[Target, float], touched: list[Target], label: str) -> None:
    """Settings bound to each other are in order after an event that changed one of them."""
    from tokenomy.networks.topologies import TopologyError, check_reactances

    if (FLOOR in touched or CAP in touched) and state[FLOOR] >= state[CAP]:
        raise ScenarioError(
            f"{label}: the power price floor ({state[FLOOR]:g}) would not be below the cap ({state[CAP]:g})"
        )
    for t in touched:
        if t[0] == "aidcs" and t[-1] in (IDLE, BUSY):
            idle, busy = state[("aidcs", t[1], IDLE)], state[("aidcs", t[1], BUSY)]
            if idle > busy:
                raise ScenarioError(
                    f"{label}: aidcs.{t[1]}: '{IDLE}' ({idle:g}) would be above '{BUSY}' ({busy:g}); "
                    "an idle GPU draws no more than a busy one"
                )
    if any(t[0] == "lines" and t[-1] == "reactance" for t in touched):
        try:
            check_reactances({t[1]: x for t, x in state.items() if t[0] == "lines" and t[-1] == "reactance"}, label)
        except TopologyError as exc:
            raise ScenarioError(str(exc)) from None


def check_events(data: dict, source: str, line_reactances: dict[str, float] | None = None) -> None:
    """Every event sets a setting the running model holds, of entries that exist, to a value in that setting's
    range, and the state the events lead to (each applied in full, in the order they complete) keeps bound
    settings in order.  ``line_reactances`` (line name -> reactance) describe the user's graph, if there is one:
    its lines are the ones events may name."""
    line_names = None if line_reactances is None else list(line_reactances)
    state: dict[Target, float] = {}
    bound = [FLOOR, CAP] + [("aidcs", a["name"], k) for a in data["aidcs"] for k in (IDLE, BUSY)]
    lines = line_names if line_names is not None else [ln["name"] for ln in data["lines"]]
    bound += [("lines", name, "reactance") for name in lines]
    for target in bound:
        state[target] = float(_start_value(data, target, line_reactances))
    _check_bound_settings(state, [("lines", name, "reactance") for name in lines], source)  # at the start
    planned = []
    bound_by_path: dict[str, list[Target]] = {}  # each path expanded once, however many events use it
    for order, event in enumerate(data["events"]):
        path = event["set"]
        _check_value(event, event_field(path, source), source)
        if path not in bound_by_path:
            bound_by_path[path] = [t for t in expand(data, path, source, line_names) if t in state]
        planned.append((event["day"] + event["ramp_days"], order, event))
    for _, _, event in sorted(planned, key=lambda p: p[:2]):
        touched = bound_by_path[event["set"]]
        for t in touched:
            state[t] = float(event["value"])
        if touched:
            _check_bound_settings(state, touched, f"{source}: event on day {event['day']}")


__all__ = ["CHANGEABLE", "UNIT_SETTINGS", "check_events", "event_field", "expand"]
