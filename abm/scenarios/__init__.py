"""Scenarios: TOML data files, validated against :mod:`abm.scenarios.spec`, with ``--set`` overrides."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tokenomy.abm.scenarios.schema import (
    Field,
    ListOf,
    ScenarioError,
    Table,
    field_at,
    get_path,
    load_toml,
    parse_value,
    set_path,
    validate,
)
from tokenomy.abm.scenarios.spec import ROOT
from tokenomy.agents.technologies import DEFAULT_TECHNOLOGIES, TECHS

__all__ = ["Scenario", "ScenarioError", "load_scenario", "shipped_scenarios", "scenario_path"]


def _data_dir() -> Path:
    return Path(str(resources.files("tokenomy.abm.scenarios") / "data"))


def shipped_scenarios() -> dict[str, Path]:
    """Names of the scenarios that ship with Tokenomy, mapped to their files."""
    return {p.stem: p for p in sorted(_data_dir().glob("*.toml"))}


def scenario_path(name_or_path: str | Path) -> Path:
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists() or "/" in str(name_or_path):
        if not path.exists():
            raise ScenarioError(f"{path}: no such scenario file")
        return path
    import difflib

    hint = difflib.get_close_matches(str(name_or_path), list(shipped), n=1)
    tip = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise ScenarioError(
        f"unknown scenario '{name_or_path}'{tip}; shipped: {', '.join(shipped)}; "
        "or give a path to a .toml file")


@dataclass
class Scenario:
    """A validated scenario: plain nested dicts and lists, plus where it came from."""

    data: dict
    source: str
    overrides: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.data["scenario"]["name"]

    @property
    def start_date(self) -> dt.date:
        return self.data["scenario"]["start_date"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, path: str) -> Any:
        return get_path(self.data, ROOT, path, self.source)


def _fill_technology_defaults(raw: dict) -> None:
    techs = raw.setdefault("technologies", {})
    if not isinstance(techs, dict):
        return
    for tech in TECHS:
        entry = techs.setdefault(tech, {})
        if isinstance(entry, dict):
            for key, value in DEFAULT_TECHNOLOGIES[tech].items():
                entry.setdefault(key, value)


def _check_references(data: dict, source: str) -> None:
    zones = {z["name"] for z in data["zones"]}
    def need(kind: str, name: str, ref: str, known: set[str]) -> None:
        if ref not in known:
            import difflib

            hint = difflib.get_close_matches(ref, sorted(known), n=1)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ScenarioError(f"{source}: {kind} '{name}' refers to unknown {ref!r}{tip}")
    for line in data["lines"]:
        need("line", line["name"], line["from"], zones)
        need("line", line["name"], line["to"], zones)
        if line["from"] == line["to"]:
            raise ScenarioError(f"{source}: line '{line['name']}' connects zone '{line['from']}' to itself")
    for util in data["utilities"]:
        for unit in util["units"]:
            need("unit", unit["name"], unit["zone"], zones)
    for kind in ("storage", "aidcs"):
        for item in data[kind]:
            need(kind.rstrip("s"), item["name"], item["zone"], zones)
    aidcs = {a["name"] for a in data["aidcs"]}
    providers = {p["name"] for p in data["providers"]}
    for kind in ("providers", "labs"):
        for item in data[kind]:
            for ref in item["aidcs"]:
                need(kind.rstrip("s"), item["name"], ref, aidcs)
    for kind in ("apps", "enterprises"):
        for item in data[kind]:
            for ref in item["providers"]:
                need(kind.rstrip("s"), item["name"], ref, providers)
    names: dict[str, str] = {}
    for kind in ("zones", "utilities", "storage", "aidcs", "providers", "labs", "apps", "enterprises"):
        for item in data[kind]:
            if item["name"] in names:
                raise ScenarioError(
                    f"{source}: name '{item['name']}' is used by both {names[item['name']]} and {kind}")
            names[item["name"]] = kind
    if (data["apps"] or data["enterprises"]) and not providers:
        raise ScenarioError(f"{source}: token buyers need at least one entry in 'providers'")
    if data["markets"]["power_price_floor_cny_per_mwh"] >= data["markets"]["power_price_cap_cny_per_mwh"]:
        raise ScenarioError(f"{source}: 'markets.power_price_floor_cny_per_mwh' must be below the price cap")


def _field_at(path: str, source: str) -> Field:
    """The schema field a dotted event path points at (list items by name or '*')."""
    spec = field_at(ROOT, path)
    if spec is None:
        raise ScenarioError(f"{source}: event sets unknown key '{path}'")
    if spec.kind not in ("float", "int"):
        raise ScenarioError(f"{source}: event key '{path}' is not a number setting")
    if spec.decided:
        raise ScenarioError(f"{source}: event sets '{path}', a price or markup the agents decide; events may "
                            "change exogenous drivers only (demand, efficiency, deliveries, policy, capacities)")
    return spec


def _check_events(data: dict, source: str) -> None:
    for event in data["events"]:
        path = event["set"]
        spec = _field_at(path, source)
        # resolve names: every named item must exist
        probe = copy.deepcopy(data)
        set_path(probe, ROOT, path, event["value"], source)
        lo, hi = spec.min, spec.max
        v = event["value"]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ScenarioError(
                f"{source}: event on day {event['day']} sets '{path}' = {v}, out of range [{lo}, {hi}]")


MAX_BASE_DEPTH = 8


def _read_with_base(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """The raw TOML of ``path`` merged over the scenario it names as ``[scenario] base``, if any."""
    raw = load_toml(path)
    head = raw.get("scenario")
    base = head.get("base") if isinstance(head, dict) else None
    if not base:
        return raw
    if not isinstance(base, str):
        raise ScenarioError(f"{path.name}: 'scenario.base' must be a scenario name or a path")
    shipped = shipped_scenarios()
    base_path = shipped[base] if base in shipped else (path.parent / base)
    if not base_path.exists():
        raise ScenarioError(f"{path.name}: base scenario '{base}' is neither shipped nor a file next to it")
    if base_path.resolve() in {p.resolve() for p in (*chain, path)} or len(chain) >= MAX_BASE_DEPTH:
        raise ScenarioError(f"{path.name}: scenario bases form a cycle (or nest deeper than {MAX_BASE_DEPTH})")
    merged = _merge(_read_with_base(base_path, (*chain, path)), raw, ROOT)
    merged["scenario"].pop("base", None)
    for own in ("events", "expected"):  # a variant states its own timeline and its own expected outcome
        merged.pop(own, None)
        if own in raw:
            merged[own] = raw[own]
    return merged


def _merge(base: Any, child: Any, spec: Any) -> Any:
    """``child`` over ``base``: tables key by key, lists of named entries entry by entry."""
    if isinstance(spec, Table) and spec.open_values is None and isinstance(base, dict) and isinstance(child, dict):
        out = dict(base)
        for key, value in child.items():
            out[key] = _merge(base[key], value, spec.fields.get(key)) if key in base else value
        return out
    if isinstance(spec, ListOf) and spec.key and isinstance(base, list) and isinstance(child, list):
        out = [dict(item) if isinstance(item, dict) else item for item in base]
        names = [item.get(spec.key) if isinstance(item, dict) else None for item in out]
        for item in child:
            name = item.get(spec.key) if isinstance(item, dict) else None
            if name is not None and name in names:
                i = names.index(name)
                out[i] = _merge(out[i], item, spec.item)
            else:
                out.append(item)
                names.append(name)
        return out
    return child


def load_scenario(name_or_path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read (merged over its base, if it names one), override and validate a scenario given by shipped name or
    by path."""
    path = scenario_path(name_or_path)
    source = path.name
    raw = _read_with_base(path)
    _fill_technology_defaults(raw)
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(f"--set '{item}': expected path.to.key=value")
        key, text = item.split("=", 1)
        set_path(raw, ROOT, key.strip(), parse_value(text.strip()), f"{source} (--set {key.strip()})")
    data = validate(raw, ROOT, source)
    _check_references(data, source)
    _check_events(data, source)
    return Scenario(data=data, source=str(path), overrides=list(overrides))
