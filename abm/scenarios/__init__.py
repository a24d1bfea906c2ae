"""Scenarios: TOML data files, validated against :mod:`abm.scenarios.spec`, with ``--set`` overrides.

:func:`load_scenario` is the one pipeline every scenario goes through, in this order: find the file, read
it (bounded, merged over its ``base``), apply the ``--set`` overrides, validate every value against the
schema, cross-check the names entries refer to, and -- when the user brings a supply graph -- read that graph,
apply the line overrides to it and check that it names the scenario's agents; then check the events against
the scenario and the graph in use.
Any problem is a one-line :class:`ScenarioError` (or ``TopologyError``) before a model is built.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx

from tokenomy.abm.scenarios.reader import MAX_SET_CHARS, load_toml, parse_value
from tokenomy.abm.scenarios.references import check_references
from tokenomy.abm.scenarios.schema import ListOf, ScenarioError, Table, get_path, set_path, validate
from tokenomy.abm.scenarios.spec import MAX_DAYS, ROOT
from tokenomy.abm.scenarios.timeline import check_events
from tokenomy.abm.suggest import did_you_mean
from tokenomy.agents.technologies import DEFAULT_TECHNOLOGIES, TECHS

__all__ = [
    "MAX_DAYS",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "read_resolved",
    "scenario_path",
    "shipped_scenarios",
]


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
    if not str(name_or_path).strip():
        raise ScenarioError("no scenario given: name a shipped scenario or a .toml file")
    if path.suffix == ".toml" or path.exists() or "/" in str(name_or_path):
        if not path.exists():
            raise ScenarioError(f"{path}: no such scenario file")
        return path
    tip = did_you_mean(str(name_or_path), shipped)
    raise ScenarioError(
        f"unknown scenario '{name_or_path}'{tip}; shipped: {', '.join(shipped)}; or give a path to a .toml file"
    )


@dataclass
class Scenario:
    """A validated scenario: plain nested dicts and lists, plus where it came from."""

    data: dict
    source: str
    overrides: list[str] = field(default_factory=list)
    graph: nx.Graph | None = None  # the user's supply graph (``--graph``), checked against the data

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
        raise ScenarioError(
            f"{path.name}: base scenario '{base}' is neither shipped nor a file next to it{did_you_mean(base, shipped)}"
        )
    if base_path.resolve() in {p.resolve() for p in (*chain, path)} or len(chain) >= MAX_BASE_DEPTH:
        raise ScenarioError(f"{path.name}: scenario bases form a cycle (or nest deeper than {MAX_BASE_DEPTH})")
    merged = _merge(_read_with_base(base_path, (*chain, path)), raw, ROOT)
    if isinstance(merged.get("scenario"), dict):
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


def apply_overrides(raw: dict, overrides: list[str] | tuple[str, ...], source: str) -> None:
    """Apply ``--set path=value`` overrides to raw scenario data, in place (values are checked later)."""
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise ScenarioError(f"--set '{str(item)[:60]}': expected path.to.key=value")
        if len(item) > MAX_SET_CHARS:
            raise ScenarioError(f"--set: longer than {MAX_SET_CHARS} characters")
        key, text = item.split("=", 1)
        set_path(raw, ROOT, key.strip(), parse_value(text.strip()), f"{source} (--set {key.strip()})")


def read_resolved(name_or_path: str | Path) -> tuple[Path, dict]:
    """A scenario's file and its raw data merged over its bases, not yet overridden or checked: everything a run
    of it depends on (a sweep keys its runs on it and hands it to workers as ``load_scenario(resolved=...)``)."""
    path = scenario_path(name_or_path)
    return path, _read_with_base(path)


def load_scenario(
    name_or_path: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    graph: str | Path | None = None,
    *,
    resolved: dict | None = None,
) -> Scenario:
    """Find, read (merged over its base), override, validate and cross-check a scenario given by shipped
    name or by path; with ``graph``, also read that GraphML supply graph and check it against the scenario.
    With ``resolved`` (from :func:`read_resolved`), that data is used instead of reading ``name_or_path``."""
    path = scenario_path(name_or_path) if resolved is None else Path(name_or_path)
    source = path.name
    raw = _read_with_base(path) if resolved is None else copy.deepcopy(resolved)
    _fill_technology_defaults(raw)
    apply_overrides(raw, overrides, source)
    data = validate(raw, ROOT, source)
    check_references(data, source)
    if graph is None:
        from tokenomy.networks.topologies import check_named_topology

        check_events(data, source)
        check_named_topology(data, source)
        user_graph = None
    else:
        from tokenomy.networks.topologies import line_reactances

        user_graph = _user_graph(Path(graph), data, overrides)
        check_events(data, source, line_reactances(user_graph))  # the lines events may name are the graph's
    return Scenario(data=data, source=str(path), overrides=list(overrides), graph=user_graph)


def _user_graph(path: Path, data: dict, overrides: list[str] | tuple[str, ...]) -> nx.Graph:
    from tokenomy.networks.graphml import read_graph
    from tokenomy.networks.topologies import apply_line_settings, check_graph_matches

    g = read_graph(path)
    check_graph_matches(g, data, path.name)
    apply_line_settings(g, data, [item.split("=", 1)[0].strip() for item in overrides])
    return g
