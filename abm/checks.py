"""Expected outcomes of scenarios, checked against runs.

A scenario may carry an ``[expected]`` table: a claim in plain words and a list of ``[[expected.checks]]``.
Each check aggregates one metric over a window of days and compares it:

* ``compare = "threshold"``: the aggregated value itself against ``value`` (``op`` ``>=``, ``<=`` or
  ``between`` ``value`` and ``upper``);
* ``compare = "window"``: its change against the same metric aggregated over ``against_days`` of the
  same run;
* ``compare = "baseline"``: its change against the same window of a baseline run of the same scenario
  and seed with the ``baseline`` overrides (which undo the scenario's change).

A change is ``value / reference - 1`` (``change = "relative"``, the default) or ``value - reference``
(``"absolute"``).  ``tolerance`` is slack in the compared quantity's units: ``>=`` passes when
compared >= value - tolerance.  Runs differ between seeds (demand noise, launches, outages, forecast
errors), so a check is judged on the mean over seeds of the compared quantity; the spread across seeds
(standard deviation, lowest and highest) is reported beside it.

The metric is a column of the daily table, or of the hourly table (zone x hour rows), whose rows may
be restricted to some zones.  Windows are half-open: ``days = [90, 180]`` means days 90 to 179.

``run_checks`` is the Python entry point (the browser app calls it); ``tokenomy check`` prints it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tokenomy.abm.recorder import DAILY_COLUMNS, HOURLY_COLUMNS
from tokenomy.abm.scenarios import Scenario, ScenarioError, load_scenario

__all__ = ["CheckResult", "SeedResult", "run_checks", "format_result", "checks_of", "resolve_seeds"]

AGGREGATES: dict[str, Callable[[pd.Series], float]] = {
    "mean": lambda s: float(s.mean()),
    "max": lambda s: float(s.max()),
    "min": lambda s: float(s.min()),
    "sum": lambda s: float(s.sum()),
    "last": lambda s: float(s.iloc[-1]),
    "std": lambda s: float(s.std(ddof=0)),
}


@dataclass(frozen=True)
class SeedResult:
    """One seed's measurement of one check."""

    seed: int
    value: float                  # the metric aggregated over the window
    reference: float | None       # the other window's or the baseline run's value (None for thresholds)
    compared: float               # what is compared: the value, or its change against the reference
    passed: bool


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check over all seeds."""

    name: str
    claim: str
    metric: str
    test: str                     # the comparison in words, e.g. "relative change vs days 0-119 >= 0.3"
    status: str                   # "passed", "failed" or "pending" (needs-model-change: not enforced)
    seeds: tuple[SeedResult, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def compared_mean(self) -> float:
        return float(np.mean([s.compared for s in self.seeds])) if self.seeds else math.nan

    @property
    def compared_std(self) -> float:
        return float(np.std([s.compared for s in self.seeds])) if self.seeds else math.nan

    @property
    def value_mean(self) -> float:
        return float(np.mean([s.value for s in self.seeds])) if self.seeds else math.nan


def _window(days: Sequence[float], what: str, source: str) -> tuple[int, int]:
    if len(days) != 2:
        raise ScenarioError(f"{source}: {what} must be [first day, end day], got {list(days)}")
    a, b = days
    if a != int(a) or b != int(b):
        raise ScenarioError(f"{source}: {what} must be whole days, got {list(days)}")
    if not a < b:
        raise ScenarioError(f"{source}: {what} = {[int(a), int(b)]} is empty: the end day must be after the first")
    return int(a), int(b)


def checks_of(scenario: Scenario) -> list[dict]:
    """The scenario's checks, validated against the tables and zones; raises ScenarioError."""
    src = Path(scenario.source).name
    zones = {z["name"] for z in scenario.data["zones"]}
    out = []
    for check in scenario.data["expected"]["checks"]:
        where = f"{src}: expected check '{check['name']}'"
        metric = check["metric"]
        if metric in DAILY_COLUMNS:
            table = "daily"
            if check["zones"]:
                raise ScenarioError(f"{where}: 'zones' filters hourly metrics only; '{metric}' is a daily column")
        elif metric in HOURLY_COLUMNS:
            table = "hourly"
        else:
            hint = difflib.get_close_matches(metric, DAILY_COLUMNS + HOURLY_COLUMNS, n=1, cutoff=0.4)
            tip = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ScenarioError(f"{where}: unknown metric '{metric}'{tip}; use a daily or hourly column")
        for z in check["zones"]:
            if z not in zones:
                raise ScenarioError(f"{where}: unknown zone '{z}' (known: {', '.join(sorted(zones))})")
        window = _window(check["days"], "days", where)
        against = None
        if check["compare"] == "window":
            against = _window(check["against_days"], "against_days", where)
        elif check["against_days"]:
            raise ScenarioError(f"{where}: 'against_days' needs compare = \"window\"")
        if check["compare"] == "baseline":
            if not check["baseline"]:
                raise ScenarioError(f"{where}: compare = \"baseline\" needs 'baseline' overrides that undo the change")
            for item in check["baseline"]:
                if "=" not in item:
                    raise ScenarioError(f"{where}: baseline override '{item}' must be path.to.key=value")
        elif check["baseline"]:
            raise ScenarioError(f"{where}: 'baseline' overrides need compare = \"baseline\"")
        if check["op"] == "between" and (check["upper"] is None or check["upper"] < check["value"]):
            raise ScenarioError(f"{where}: op = \"between\" needs 'upper' >= 'value'")
        out.append({**check, "table": table, "window": window, "against": against})
    return out


def resolve_seeds(scenario: Scenario, seeds: int | Iterable[int]) -> list[int]:
    """``seeds`` as a count (the scenario's seed and the next ones) or as explicit seeds."""
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ScenarioError(f"need at least one seed, got {seeds}")
        first = scenario.data["scenario"]["seed"]
        return [first + i for i in range(int(seeds))]
    out = [int(s) for s in seeds]
    if not out or any(s < 0 for s in out):
        raise ScenarioError(f"seeds must be a non-empty list of whole numbers >= 0, got {out}")
    return out


def _horizon(scenario: Scenario, checks: list[dict]) -> int:
    ends = [c["window"][1] for c in checks] + [c["against"][1] for c in checks if c["against"]]
    return max([scenario.data["expected"]["days"], *ends])


def _measure(tables: dict[str, pd.DataFrame], check: dict, window: tuple[int, int]) -> float:
    frame = tables[check["table"]]
    a, b = window
    rows = frame[(frame["day"] >= a) & (frame["day"] < b)]
    if check["zones"]:
        rows = rows[rows["zone"].isin(check["zones"])]
    if rows.empty:
        return math.nan
    return AGGREGATES[check["agg"]](rows[check["metric"]])


def _change(value: float, reference: float, kind: str) -> float:
    if kind == "absolute":
        return value - reference
    if reference == 0.0:
        return 0.0 if value == 0.0 else math.copysign(math.inf, value)
    return (value - reference) / abs(reference)


def _passes(compared: float, check: dict) -> bool:
    if math.isnan(compared):
        return False
    tol = check["tolerance"]
    if check["op"] == ">=":
        return compared >= check["value"] - tol
    if check["op"] == "<=":
        return compared <= check["value"] + tol
    return check["value"] - tol <= compared <= check["upper"] + tol


def _describe(check: dict) -> str:
    a, b = check["window"]
    what = f"{check['agg']} of {check['metric']}"
    if check["zones"]:
        what += f" in {', '.join(check['zones'])}"
    what += f", days {a}-{b - 1}"
    if check["compare"] == "window":
        c, d = check["against"]
        what += f", {check['change']} change vs days {c}-{d - 1}"
    elif check["compare"] == "baseline":
        what += f", {check['change']} change vs baseline ({'; '.join(check['baseline'])})"
    if check["op"] == "between":
        bound = f"between {check['value']:g} and {check['upper']:g}"
    else:
        bound = f"{check['op']} {check['value']:g}"
    tol = f" (tolerance {check['tolerance']:g})" if check["tolerance"] else ""
    return f"{what} {bound}{tol}"


def _run_tables(scenario_path: str | Path, overrides: list[str], seed: int, days: int) -> dict[str, pd.DataFrame]:
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(load_scenario(scenario_path, overrides), seed=seed)
    model.run(days)
    return {"daily": model.daily_table(), "hourly": model.hourly_table()}


def run_checks(scenario_name_or_path: str | Path, seeds: int | Iterable[int] = 3,
               overrides: Sequence[str] = (),
               progress: Callable[[int, int], None] | None = None) -> list[CheckResult]:
    """Run a scenario (and any baselines its checks need) for each seed and evaluate its checks.

    ``overrides`` apply to every run (the scenario's and the baselines'), so a lesson's slider
    settings can be checked too.  ``progress(done, total)`` is called after each simulation run.
    Raises ScenarioError for a bad scenario, override or check.
    """
    overrides = list(overrides)
    scenario = load_scenario(scenario_name_or_path, overrides)
    path = scenario.source
    checks = checks_of(scenario)
    if not checks:
        return []
    seed_list = resolve_seeds(scenario, seeds)
    days = _horizon(scenario, checks)
    baselines = sorted({tuple(c["baseline"]) for c in checks if c["compare"] == "baseline"})
    for extra in baselines:  # fail on a bad baseline override before any simulation
        load_scenario(path, overrides + list(extra))
    variants = [()] + baselines
    total = len(variants) * len(seed_list)
    runs: dict[tuple[tuple[str, ...], int], dict[str, pd.DataFrame]] = {}
    for extra in variants:
        for seed in seed_list:
            runs[extra, seed] = _run_tables(path, overrides + list(extra), seed, days)
            if progress is not None:
                progress(len(runs), total)
    results = []
    for check in checks:
        per_seed = []
        for seed in seed_list:
            tables = runs[(), seed]
            value = _measure(tables, check, check["window"])
            reference = None
            if check["compare"] == "window":
                reference = _measure(tables, check, check["against"])
            elif check["compare"] == "baseline":
                reference = _measure(runs[tuple(check["baseline"]), seed], check, check["window"])
            compared = value if reference is None else _change(value, reference, check["change"])
            per_seed.append(SeedResult(seed, value, reference, compared, _passes(compared, check)))
        mean = float(np.mean([s.compared for s in per_seed]))
        if check["status"] == "needs-model-change":
            status = "pending"
        else:
            status = "passed" if _passes(mean, check) else "failed"
        results.append(CheckResult(name=check["name"], claim=check["claim"], metric=check["metric"],
                                   test=_describe(check), status=status, seeds=tuple(per_seed),
                                   note=check["note"]))
    return results


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3g}"
    return f"{x:.4g}"


def format_result(result: CheckResult) -> str:
    """One check as a few lines of text: status, name, claim, test and the measured values per seed."""
    label = {"passed": "PASSED ", "failed": "FAILED ", "pending": "PENDING"}[result.status]
    lines = [f"{label} {result.name}: {result.claim}".rstrip(": "), f"        {result.test}"]
    compared = [s.compared for s in result.seeds]
    if compared:
        what = "value" if result.seeds[0].reference is None else "change"
        spread = f"std {_num(result.compared_std)}, lowest {_num(min(compared))}, highest {_num(max(compared))}"
        lines.append(f"        mean over {len(compared)} seed(s): {what} {_num(result.compared_mean)}  ({spread})")
    for s in result.seeds:
        ref = "" if s.reference is None else f"  reference {_num(s.reference)}  change {_num(s.compared)}"
        lines.append(f"        seed {s.seed}: value {_num(s.value)}{ref}  {'ok' if s.passed else 'below the mark'}")
    if result.status == "pending" and result.note:
        lines.append(f"        not enforced: {result.note}")
    return "\n".join(lines)
