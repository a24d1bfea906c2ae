"""Cross-checks of a validated scenario: names that refer to other entries, events, and a user's graph.

The schema checks each value on its own; these checks look across entries (a line's zones exist, a
provider's AIDCs exist, names are unique, an event sets a setting that exists and stays in its range).
"""

from __future__ import annotations

from typing import Any

from tokenomy.abm.scenarios.schema import Field, ListOf, ScenarioError, Table, field_at
from tokenomy.abm.scenarios.spec import ROOT
from tokenomy.abm.suggest import did_you_mean

NAMED_KINDS = ("zones", "utilities", "storage", "aidcs", "providers", "labs", "apps", "enterprises")
# (entries, setting that must not exceed ..., ... this setting, why)
ORDERED_PAIRS = (("aidcs", "idle_kw_per_gpu", "busy_kw_per_gpu", "an idle GPU draws no more than a busy one"),)


def check_ordered_pairs(data: dict, source: str, changed: tuple[str, float] | None = None) -> None:
    """Settings bound to each other (an idle GPU's draw and a busy one's) are in order in every entry;
    ``changed`` = (dotted path, value) checks an event's new value against the other setting's start value."""
    for kind, low, high, why in ORDERED_PAIRS:
        for item in data[kind]:
            lo, hi = item[low], item[high]
            if changed is not None:
                parts = changed[0].split(".")
                if len(parts) != 3 or parts[0] != kind or parts[1] not in ("*", item["name"]):
                    continue
                lo, hi = (changed[1], hi) if parts[2] == low else (lo, changed[1]) if parts[2] == high else (lo, hi)
            if lo > hi:
                raise ScenarioError(
                    f"{source}: {kind}.{item['name']}: '{low}' ({lo:g}) is above '{high}' ({hi:g}); {why}"
                )


def _need(source: str, kind: str, name: str, ref: str, known: set[str]) -> None:
    """The entry ``kind`` ``name`` refers to ``ref``, which must be one of the ``known`` names."""
    if ref not in known:
        tip = did_you_mean(ref, sorted(known))
        raise ScenarioError(f"{source}: {kind} '{name}' refers to unknown {ref!r}{tip}")


def _check_zone_references(data: dict, zones: set[str], source: str) -> None:
    """Lines join two different zones that exist; utility units, storage and AIDCs sit in one that does."""
    for line in data["lines"]:
        _need(source, "line", line["name"], line["from"], zones)
        _need(source, "line", line["name"], line["to"], zones)
        if line["from"] == line["to"]:
            raise ScenarioError(f"{source}: line '{line['name']}' connects zone '{line['from']}' to itself")
    for util in data["utilities"]:
        for unit in util["units"]:
            _need(source, "unit", unit["name"], unit["zone"], zones)
    for kind in ("storage", "aidcs"):
        for item in data[kind]:
            _need(source, kind.rstrip("s"), item["name"], item["zone"], zones)


def _check_listed_references(data: dict, kinds: tuple[str, ...], ref_key: str, known: set[str], source: str) -> None:
    """Every entry of the ``kinds`` lists names, under ``ref_key``, only ``known`` entries."""
    for kind in kinds:
        for item in data[kind]:
            for ref in item[ref_key]:
                _need(source, kind.rstrip("s"), item["name"], ref, known)


def _check_unique_names(data: dict, source: str) -> None:
    """No two entries share a name, even entries of different kinds."""
    names: dict[str, str] = {}
    for kind in NAMED_KINDS:
        for item in data[kind]:
            if item["name"] in names:
                raise ScenarioError(f"{source}: name '{item['name']}' is used by both {names[item['name']]} and {kind}")
            names[item["name"]] = kind


def check_references(data: dict, source: str) -> None:
    """Every name a scenario entry refers to exists, and every entry's name is unique."""
    _check_zone_references(data, {z["name"] for z in data["zones"]}, source)
    _check_listed_references(data, ("providers", "labs"), "aidcs", {a["name"] for a in data["aidcs"]}, source)
    _check_listed_references(data, ("apps", "enterprises"), "providers", {p["name"] for p in data["providers"]}, source)
    _check_unique_names(data, source)
    if (data["apps"] or data["enterprises"]) and not data["providers"]:
        raise ScenarioError(f"{source}: token buyers need at least one entry in 'providers'")
    if data["markets"]["power_price_floor_cny_per_mwh"] >= data["markets"]["power_price_cap_cny_per_mwh"]:
        raise ScenarioError(f"{source}: 'markets.power_price_floor_cny_per_mwh' must be below the price cap")
    check_ordered_pairs(data, source)


def event_field(path: str, source: str) -> Field:
    """The schema field an event's dotted path points at (list items by name or '*')."""
    spec = field_at(ROOT, path)
    if spec is None:
        raise ScenarioError(f"{source}: event sets unknown key '{path}'")
    if spec.kind not in ("float", "int"):
        raise ScenarioError(f"{source}: event key '{path}' is not a number setting")
    if spec.decided:
        raise ScenarioError(
            f"{source}: event sets '{path}', a price or markup the agents decide; events may "
            "change exogenous drivers only (demand, efficiency, deliveries, policy, capacities)"
        )
    return spec


def _check_names_on_path(data: dict, path: str, source: str) -> None:
    """Each list entry an event's path names (``apps.chatbot``) exists in the scenario."""
    node: Any = data
    spec: Any = ROOT
    walked = ""
    for key in path.split("."):
        if isinstance(spec, ListOf):
            if key == "*":
                if not node:
                    raise ScenarioError(
                        f"{source}: event sets '{path}', but the scenario has no '{walked.rstrip('.')}'"
                    )
                node = node[0]
            else:
                names = [item[spec.key] for item in node]
                if key not in names:
                    raise ScenarioError(
                        f"{source}: event sets '{path}', but '{walked.rstrip('.')}' has no entry "
                        f"named '{key}'{did_you_mean(key, names)}"
                    )
                node = node[names.index(key)]
            spec = spec.item
        elif isinstance(spec, Table):
            node, spec = node.get(key, {}) if isinstance(node, dict) else {}, spec.fields.get(key)
        walked += key + "."


def check_line_reactances(data: dict, source: str) -> None:
    """Every line has a reactance or none does, at the start and after each event that changes one."""
    from tokenomy.networks.topologies import TopologyError, check_reactances

    state = {line["name"]: line["reactance"] for line in data["lines"]}
    try:
        check_reactances(state, source)
        for event in sorted(data["events"], key=lambda e: e["day"]):
            parts = event["set"].split(".")
            if len(parts) == 3 and parts[0] == "lines" and parts[2] == "reactance":
                for name in state if parts[1] == "*" else [parts[1]]:
                    state[name] = event["value"]
                check_reactances(state, f"{source}: event on day {event['day']}")
    except TopologyError as exc:
        raise ScenarioError(str(exc)) from None


def check_events(data: dict, source: str) -> None:
    """Every event sets an exogenous number setting that exists, to a value in that setting's range."""
    checked: set[str] = set()
    for event in data["events"]:
        path = event["set"]
        spec = event_field(path, source)
        if path not in checked:
            _check_names_on_path(data, path, source)
            checked.add(path)
        lo, hi = spec.min, spec.max
        v = event["value"]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ScenarioError(f"{source}: event on day {event['day']} sets '{path}' = {v}, out of range [{lo}, {hi}]")
        if spec.kind == "int" and not float(v).is_integer():
            raise ScenarioError(f"{source}: event on day {event['day']} sets '{path}' = {v}, not a whole number")
        check_ordered_pairs(data, f"{source}: event on day {event['day']}", (path, v))
    check_line_reactances(data, source)
