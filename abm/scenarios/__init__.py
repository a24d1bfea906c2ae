"""Scenarios: TOML data files, validated against :mod:`abm.scenarios.spec`, with ``--set`` overrides."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from abm.scenarios.schema import (
    Field,
    ScenarioError,
    field_at,
    get_path,
    load_toml,
    parse_value,
    set_path,
    validate,
)
from abm.scenarios.spec import ROOT, TECHS

__all__ = ["Scenario", "ScenarioError", "load_scenario", "shipped_scenarios", "scenario_path"]

# Technology defaults (CNY): marginal cost, capex per kW, lead time, emissions, mean availability.
DEFAULT_TECHNOLOGIES: dict[str, dict[str, Any]] = {
    "coal": dict(marginal_cost_cny_per_mwh=330.0, capex_cny_per_kw=3800.0, lead_days=1095,
                 emissions_t_per_mwh=0.85, capacity_factor=0.92, life_years=30.0),
    "gas": dict(marginal_cost_cny_per_mwh=600.0, capex_cny_per_kw=3000.0, lead_days=730,
                emissions_t_per_mwh=0.4, capacity_factor=0.95, life_years=25.0),
    "nuclear": dict(marginal_cost_cny_per_mwh=80.0, capex_cny_per_kw=16000.0, lead_days=2190,
                    emissions_t_per_mwh=0.0, capacity_factor=0.9, life_years=50.0),
    "hydro": dict(marginal_cost_cny_per_mwh=20.0, capex_cny_per_kw=9000.0, lead_days=1825,
                  emissions_t_per_mwh=0.0, capacity_factor=0.45, life_years=50.0),
    "wind": dict(marginal_cost_cny_per_mwh=0.0, capex_cny_per_kw=4500.0, lead_days=365,
                 emissions_t_per_mwh=0.0, capacity_factor=0.25, life_years=25.0),
    "solar": dict(marginal_cost_cny_per_mwh=0.0, capex_cny_per_kw=3000.0, lead_days=270,
                  emissions_t_per_mwh=0.0, capacity_factor=0.136, life_years=25.0),
}

GREEN_TECHS = ("hydro", "wind", "solar", "nuclear")
RENEWABLE_TECHS = ("hydro", "wind", "solar")


def _data_dir() -> Path:
    return Path(str(resources.files("abm.scenarios") / "data"))


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
    for prov in data["providers"]:
        for ref in prov["aidcs"]:
            need("provider", prov["name"], ref, aidcs)
    for kind in ("apps", "enterprises"):
        for item in data[kind]:
            for ref in item["providers"]:
                need(kind.rstrip("s"), item["name"], ref, providers)
    names: dict[str, str] = {}
    for kind in ("zones", "utilities", "storage", "aidcs", "providers", "apps", "enterprises"):
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


def load_scenario(name_or_path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, override and validate a scenario given by shipped name or by path."""
    path = scenario_path(name_or_path)
    source = path.name
    raw = load_toml(path)
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
