"""Sweep files: which scenario, which parameters vary and how, how many seeds, which tables to keep.

A sweep file is TOML, checked as strictly as a scenario: an unknown key, a bad design or a parameter
value outside the scenario setting's range is a one-line :class:`ScenarioError` before any run starts.

.. code-block:: toml

    [sweep]
    name = "demand"               # default: the file's stem
    scenario = "classroom"        # shipped name or path (relative to the sweep file)
    days = 90                     # default: the scenario's horizon
    seeds = 3                     # seeds per design point: first_seed, first_seed + 1, ...
    design = "grid"               # grid | latin | morris | sobol
    tables = ["daily"]            # daily always; "hourly" and "agents" on request
    set = ["markets.token_inertia=0.7"]   # fixed overrides for every run

    [[parameters]]
    key = "apps.chatbot.agent_multiplier"
    values = [2, 4, 8]            # grid: explicit values, or min/max/steps

    [[parameters]]
    key = "markets.token_price_sensitivity"
    min = 1.0
    max = 5.0
    steps = 3
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenomy.abm.scenarios import load_scenario, read_resolved, scenario_path, shipped_scenarios
from tokenomy.abm.scenarios.reader import load_toml
from tokenomy.abm.scenarios.schema import (
    Field,
    ListOf,
    ScenarioError,
    Table,
    coerce_scalar,
    field_at,
    set_path,
    validate,
)
from tokenomy.abm.scenarios.spec import MAX_DAYS, MAX_SEED, ROOT
from tokenomy.abm.suggest import did_you_mean

DESIGNS = ("grid", "latin", "morris", "sobol")
TABLES = ("daily", "hourly", "agents")
DEFAULT_SAMPLES = {"latin": 10, "morris": 4, "sobol": 16}
MAX_RUNS = 100_000  # design points x seeds of one sweep
MAX_STEPS = 10_000  # grid values of one parameter
MAX_SAMPLES = 65_536  # latin points, morris trajectories, sobol base sample
MAX_VALUES = 10_000  # listed grid values of one parameter
_NO_VALUES = object()  # a parameter without a ``values`` entry (None is a value, if a wrong one)

PARAMETER = Table(
    {
        "key": Field("str", doc="dotted scenario path, list items by name, e.g. apps.chatbot.agent_multiplier"),
        "min": Field("float", None, doc="lower end of the range (latin, morris, sobol; grid with steps)"),
        "max": Field("float", None, doc="upper end of the range"),
        "steps": Field("int", None, min=2, max=MAX_STEPS, doc="grid: evenly spaced values from min to max"),
        "log": Field("bool", False, doc="sample or space values evenly on a log scale (min > 0)"),
        # "values" (grid: a list of numbers, strings or booleans) is checked by hand: the schema has no mixed lists
    }
)

SWEEP = Table(
    {
        "sweep": Table(
            {
                "name": Field("str", None, doc="name of the sweep (default: the file's stem)"),
                "scenario": Field("str", doc="shipped scenario name or a path to a .toml file"),
                "days": Field("int", None, min=1, max=MAX_DAYS, doc="horizon in days (default: the scenario's)"),
                "seeds": Field("int", 1, min=1, max=MAX_RUNS, doc="seeds per design point"),
                "first_seed": Field("int", None, min=0, max=MAX_SEED, doc="first seed (default: the scenario's seed)"),
                "design": Field("str", "grid", choices=DESIGNS),
                "samples": Field(
                    "int",
                    None,
                    min=1,
                    max=MAX_SAMPLES,
                    doc="latin: points; morris: trajectories; sobol: base sample N (a power of 2)",
                ),
                "levels": Field("int", 4, min=2, max=1000, doc="morris: grid levels"),
                "design_seed": Field(
                    "int", 0, min=0, max=MAX_SEED, doc="seed of the sampling design (latin, morris, sobol)"
                ),
                "tables": Field("strs", ["daily"], doc="tables to keep per run: daily always; hourly, agents optional"),
                "set": Field("strs", [], doc="overrides applied to every run, like --set"),
            }
        ),
        "parameters": ListOf(PARAMETER, key="key", max_items=100),
    }
)


@dataclass
class Parameter:
    key: str
    kind: str  # the scenario field's kind: float, int, bool, str
    values: list | None = None
    min: float | None = None
    max: float | None = None
    steps: int | None = None
    log: bool = False


@dataclass
class Sweep:
    """A validated sweep: the design is expanded into ``points`` (one dict of parameter values each)."""

    name: str
    scenario: str  # the scenario as the sweep names it: a shipped name, or the scenario file's path
    scenario_data: dict  # the scenario file merged over its bases: what every run (and worker) starts from
    scenario_sha: str  # sha256 of ``scenario_data`` (see :func:`fingerprint`): the run keys cover the bases
    days: int
    seeds: list[int]
    design: str
    parameters: list[Parameter]
    fixed: list[str]
    tables: list[str]
    samples: int | None = None
    levels: int = 4
    design_seed: int = 0
    source: str = "<sweep>"
    points: list[dict[str, Any]] = field(default_factory=list)
    unit_design: list[list[float]] | None = None  # the SALib sample matrix (morris, sobol), before rounding

    def overrides(self, point: dict[str, Any]) -> list[str]:
        return list(self.fixed) + [f"{k}={format_value(v)}" for k, v in point.items()]

    def problem(self) -> dict:
        """The SALib problem dict."""
        names = [p.key for p in self.parameters]
        bounds = [[_to_unit(p, p.min), _to_unit(p, p.max)] for p in self.parameters]
        return {"num_vars": len(names), "names": names, "bounds": bounds}

    def describe(self) -> dict:
        return {
            "name": self.name,
            "scenario": self.scenario,
            "scenario_sha": self.scenario_sha,
            "days": self.days,
            "seeds": self.seeds,
            "design": self.design,
            "samples": self.samples,
            "levels": self.levels,
            "design_seed": self.design_seed,
            "tables": self.tables,
            "set": self.fixed,
            "parameters": [p.__dict__ for p in self.parameters],
            "points": self.points,
            "unit_design": self.unit_design,
            "source": self.source,
        }


def _tagged(value: Any) -> dict:
    """A TOML date, time or datetime in a form JSON can hold and no other value shares."""
    return {f"__{type(value).__name__}__": value.isoformat()}


def fingerprint(data: dict) -> str:
    """SHA-256 of a scenario's resolved data, the same for the same data however its files were laid out."""
    text = json.dumps(data, sort_keys=True, default=_tagged, ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def format_value(value: Any) -> str:
    """A value as the right-hand side of ``--set`` that parses back to exactly the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(str(value))


def _to_unit(p: Parameter, v: float) -> float:
    return math.log(v) if p.log else v


def _schema_field(key: str, source: str) -> Field:
    spec = field_at(ROOT, key)
    if spec is None or spec.kind not in ("float", "int", "bool", "str"):
        raise ScenarioError(f"{source}: parameter '{key}' is not a single number, flag or word setting")
    return spec


def _check_values(p: dict, raw_values: Any, field_: Field, source: str) -> list:
    where = f"parameters[{p['key']}].values"
    if not isinstance(raw_values, list) or not raw_values:
        raise ScenarioError(f"{source}: '{where}' must be a non-empty list")
    if len(raw_values) > MAX_VALUES:
        raise ScenarioError(f"{source}: '{where}' lists {len(raw_values)} values; at most {MAX_VALUES}")
    out = [coerce_scalar(field_, v, p["key"], source) for v in raw_values]
    if len(set(map(repr, out))) != len(out):
        raise ScenarioError(f"{source}: '{where}' lists a value twice")
    return out


def _resolve_scenario(name: str, base: Path | None) -> Path:
    if name not in shipped_scenarios() and base is not None and not Path(name).is_absolute():
        candidate = base / name
        if candidate.exists():
            return candidate
    return scenario_path(name)


def _read_sweep(source: str | Path | dict, base: Path | None) -> tuple[dict, str, Path | None]:
    """The raw sweep (a copy, when given a dict), its label for messages, and the folder a relative scenario
    path is resolved in (the sweep file's own)."""
    if isinstance(source, dict):
        return copy.deepcopy(source), "<sweep>", base
    path = Path(source)
    raw = load_toml(path, "sweep file")
    if isinstance(raw.get("sweep"), dict):
        raw["sweep"].setdefault("name", path.stem)
    return raw, path.name, path.parent


def _pop_values(raw: dict) -> dict[int, Any]:
    """Take each parameter's ``values`` out of the raw sweep, by the parameter's index: the schema has no
    mixed lists, so :func:`_check_values` checks them against the scenario setting instead."""
    values_by_index: dict[int, Any] = {}
    params_raw = raw.get("parameters", [])
    if isinstance(params_raw, list):
        for i, item in enumerate(params_raw):
            if isinstance(item, dict) and "values" in item:
                values_by_index[i] = item.pop("values")
    return values_by_index


def _check_tables(requested: list[str], label: str) -> list[str]:
    """The tables to keep, in :data:`TABLES` order; daily always."""
    for t in requested:
        if t not in TABLES:
            raise ScenarioError(
                f"{label}: 'sweep.tables' has unknown table {t[:40]!r}; known: {', '.join(TABLES)}"
                f"{did_you_mean(t, TABLES)}"
            )
    return ["daily"] + [t for t in TABLES[1:] if t in requested]


def _listed_values(p: dict, raw_values: Any, fld: Field, design: str, label: str) -> list:
    """A parameter given by its ``values``: a grid only, and no range alongside."""
    key = p["key"]
    if design != "grid":
        raise ScenarioError(f"{label}: parameter '{key}': 'values' only works with design = \"grid\"; give min and max")
    if p["min"] is not None or p["max"] is not None or p["steps"] is not None:
        raise ScenarioError(f"{label}: parameter '{key}': give either values or min/max, not both")
    return _check_values(p, raw_values, fld, label)


def _range(p: dict, fld: Field, design: str, label: str) -> tuple[float, float]:
    """A parameter given by ``min`` and ``max``: a number setting, bounds within the setting's range (an int
    setting's widened to whole numbers), min below max, and ``steps`` exactly when the design is a grid."""
    key = p["key"]
    if p["min"] is None or p["max"] is None:
        raise ScenarioError(f"{label}: parameter '{key}' needs values or both min and max")
    if fld.kind not in ("float", "int"):
        raise ScenarioError(f"{label}: parameter '{key}' is not a number setting; list its values")
    lo = coerce_scalar(fld, p["min"] if fld.kind == "float" else math.floor(p["min"]), key, label)
    hi = coerce_scalar(fld, p["max"] if fld.kind == "float" else math.ceil(p["max"]), key, label)
    if not lo < hi:
        raise ScenarioError(f"{label}: parameter '{key}': min ({p['min']}) must be below max ({p['max']})")
    if p["log"] and lo <= 0:
        raise ScenarioError(f"{label}: parameter '{key}': log = true needs min > 0")
    if design == "grid" and p["steps"] is None:
        raise ScenarioError(f"{label}: parameter '{key}': a grid needs values, or min, max and steps")
    if design != "grid" and p["steps"] is not None:
        raise ScenarioError(f"{label}: parameter '{key}': 'steps' only works with design = \"grid\"")
    return lo, hi


def _parameter(p: dict, design: str, scenario_data: dict, label: str, raw_values: Any = _NO_VALUES) -> Parameter:
    """One checked parameter: its key names a single setting of the scenario, and it has listed values or a range."""
    key = p["key"]
    set_path(copy.deepcopy(scenario_data), ROOT, key, 0, label)  # unknown keys and names, with a hint
    fld = _schema_field(key, label)
    par = Parameter(key=key, kind=fld.kind, log=p["log"], steps=p["steps"])
    if raw_values is _NO_VALUES:
        par.min, par.max = _range(p, fld, design, label)
    else:
        par.values = _listed_values(p, raw_values, fld, design, label)
    return par


def _samples(design: str, n_params: int, samples: int | None, label: str) -> int | None:
    """The design's sample size (its default when not given), once the design has enough parameters for it."""
    if design != "grid" and not n_params:
        raise ScenarioError(f"{label}: design '{design}' needs at least one entry in 'parameters'")
    if design in ("morris", "sobol") and n_params < 2:
        raise ScenarioError(f"{label}: design '{design}' needs at least two parameters")
    if design == "grid" and samples is not None:
        raise ScenarioError(f"{label}: 'sweep.samples' only works with latin, morris and sobol designs")
    if design != "grid" and samples is None:
        samples = DEFAULT_SAMPLES[design]
    if design == "sobol" and samples & (samples - 1):
        raise ScenarioError(f"{label}: 'sweep.samples' = {samples}: a Sobol design needs a power of 2")
    return samples


def _check_run_count(sweep: Sweep, label: str) -> None:
    runs = design_points(sweep) * len(sweep.seeds)
    if runs > MAX_RUNS:
        raise ScenarioError(
            f"{label}: the sweep asks for {runs:,} runs (design points x seeds); at most "
            f"{MAX_RUNS:,} -- fewer steps, samples or seeds"
        )


def load_sweep(source: str | Path | dict, *, base: Path | None = None) -> Sweep:
    """Read and check a sweep file (or an already-parsed dict) and expand its design."""
    raw, label, base = _read_sweep(source, base)
    values_by_index = _pop_values(raw)
    data = validate(raw, SWEEP, label)
    sw = data["sweep"]
    scen_path, resolved = read_resolved(_resolve_scenario(sw["scenario"], base))
    shipped = sw["scenario"] in shipped_scenarios()
    base_scenario = load_scenario(scen_path, sw["set"], resolved=resolved)  # the fixed overrides, fully checked
    tables = _check_tables(sw["tables"], label)
    design = sw["design"]
    params = [
        _parameter(p, design, base_scenario.data, label, values_by_index.get(i, _NO_VALUES))
        for i, p in enumerate(data["parameters"])
    ]
    samples = _samples(design, len(params), sw["samples"], label)
    first = base_scenario.data["scenario"]["seed"] if sw["first_seed"] is None else sw["first_seed"]
    sweep = Sweep(
        name=sw["name"] or "sweep",
        scenario=sw["scenario"] if shipped else str(scen_path),
        scenario_data=resolved,
        scenario_sha=fingerprint(resolved),
        days=sw["days"] or base_scenario.data["scenario"]["days"],
        seeds=list(range(first, first + sw["seeds"])),
        design=design,
        parameters=params,
        fixed=list(sw["set"]),
        tables=tables,
        samples=samples,
        levels=sw["levels"],
        design_seed=sw["design_seed"],
        source=label,
    )
    _check_run_count(sweep, label)
    from tokenomy.abm.batch.designs import expand

    sweep.points, sweep.unit_design = expand(sweep)
    return sweep


def design_points(sweep: Sweep) -> int:
    """How many points the sweep's design has, counted without building them."""
    k = len(sweep.parameters)
    if sweep.design == "grid":
        return math.prod(len(p.values) if p.values is not None else p.steps for p in sweep.parameters)
    if sweep.design == "latin":
        return sweep.samples
    if sweep.design == "morris":
        return sweep.samples * (k + 1)
    return sweep.samples * (k + 2)  # sobol, first-order and total indices
