"""Expected outcomes of scenarios, checked against runs.

A scenario may carry an ``[expected]`` table: a claim in plain words and a list of ``[[expected.checks]]``.
Each check aggregates one metric over a window of days and compares it:

* ``compare = "threshold"``: the aggregated value itself against ``value`` (``op`` ``>=``, ``<=`` or
  ``between`` ``value`` and ``upper``);
* ``compare = "window"``: its change against the same metric aggregated over ``against_days`` of the
  same run;
* ``compare = "baseline"``: its change against the same window of a baseline run of the same scenario
  and seed with the ``baseline`` overrides (which undo the scenario's change).

Each check states its counterfactual twin: the world without the mechanism it claims (``twin`` overrides, and
``twin_without_events`` to drop the scenario's events; a baseline check's twin is its baseline when it states
none).  An outcome is earned only if the twin does not show it: ``run_twin_checks`` judges every check on its twin,
where it must fail.

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

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tokenomy.abm.errors import printable
from tokenomy.abm.recorder import DAILY_COLUMNS, HOURLY_COLUMNS
from tokenomy.abm.scenarios import Scenario, ScenarioError, load_scenario
from tokenomy.abm.suggest import did_you_mean

__all__ = [
    "CheckResult",
    "RunCheck",
    "SeedResult",
    "run_checks",
    "checks_on_run",
    "evaluate",
    "horizon_of",
    "format_result",
    "checks_of",
    "resolve_seeds",
    "check_in_words",
    "outcome_in_words",
    "run_twin_checks",
    "twin_of",
]

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
    value: float  # the metric aggregated over the window
    reference: float | None  # the other window's or the baseline run's value (None for thresholds)
    compared: float  # what is compared: the value, or its change against the reference
    passed: bool


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check over all seeds."""

    name: str
    claim: str
    metric: str
    test: str  # the comparison in words, e.g. "relative change vs days 0-119 >= 0.3"
    status: str  # "passed", "failed" or "pending" (needs-model-change: not enforced)
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
            tip = did_you_mean(metric, DAILY_COLUMNS + HOURLY_COLUMNS, cutoff=0.4)
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
        _check_overrides(check, where)
        if check["op"] == "between" and (check["upper"] is None or check["upper"] < check["value"]):
            raise ScenarioError(f"{where}: op = \"between\" needs 'upper' >= 'value'")
        out.append({**check, "table": table, "window": window, "against": against})
    return out


def _check_overrides(check: dict, where: str) -> None:
    """A baseline check names its baseline overrides, and only a baseline check does; every override is path=value."""
    if check["compare"] == "baseline" and not check["baseline"]:
        raise ScenarioError(f"{where}: compare = \"baseline\" needs 'baseline' overrides that undo the change")
    if check["compare"] != "baseline" and check["baseline"]:
        raise ScenarioError(f"{where}: 'baseline' overrides need compare = \"baseline\"")
    for kind in ("baseline", "twin"):
        for item in check[kind]:
            if "=" not in item:
                raise ScenarioError(f"{where}: {kind} override '{item}' must be path.to.key=value")


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


def _run_tables(
    scenario_path: str | Path, overrides: list[str], seed: int, days: int, events: bool = True
) -> dict[str, pd.DataFrame]:
    from tokenomy.abm.model import TokenEconomy

    scenario = load_scenario(scenario_path, overrides)
    if not events:
        scenario.data["events"] = []
    model = TokenEconomy(scenario, seed=seed)
    model.run(days)
    return {"daily": model.daily_table(), "hourly": model.hourly_table()}


def evaluate(
    check: dict, tables: dict[str, pd.DataFrame], seed: int, baseline_tables: dict[str, pd.DataFrame] | None = None
) -> SeedResult:
    """One check measured on one run's tables (and, for ``compare = "baseline"``, its baseline run's)."""
    value = _measure(tables, check, check["window"])
    reference = None
    if check["compare"] == "window":
        reference = _measure(tables, check, check["against"])
    elif check["compare"] == "baseline":
        if baseline_tables is None:
            raise ValueError(f"check '{check['name']}' compares with a baseline run: pass its tables")
        reference = _measure(baseline_tables, check, check["window"])
    compared = value if reference is None else _change(value, reference, check["change"])
    return SeedResult(seed, value, reference, compared, _passes(compared, check))


def horizon_of(check: dict) -> int:
    """The number of days a run needs before the check can be judged (its windows' last end)."""
    return max(check["window"][1], check["against"][1] if check["against"] else 0)


def _result(check: dict, per_seed: list[SeedResult]) -> CheckResult:
    mean = float(np.mean([s.compared for s in per_seed]))
    passed = "passed" if _passes(mean, check) else "failed"
    status = "pending" if check["status"] == "needs-model-change" else passed
    return CheckResult(
        name=check["name"],
        claim=check["claim"],
        metric=check["metric"],
        test=_describe(check),
        status=status,
        seeds=tuple(per_seed),
        note=check["note"],
    )


def run_checks(
    scenario_name_or_path: str | Path,
    seeds: int | Iterable[int] = 3,
    overrides: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> list[CheckResult]:
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
        per_seed = [
            evaluate(
                check,
                runs[(), seed],
                seed,
                runs[tuple(check["baseline"]), seed] if check["compare"] == "baseline" else None,
            )
            for seed in seed_list
        ]
        results.append(_result(check, per_seed))
    return results


def twin_of(check: dict) -> tuple[tuple[str, ...], bool]:
    """A check's counterfactual twin: (overrides, whether the scenario's events stay)."""
    overrides = tuple(check["twin"]) or (tuple(check["baseline"]) if check["compare"] == "baseline" else ())
    return overrides, not check["twin_without_events"]


def run_twin_checks(
    scenario_name_or_path: str | Path,
    seeds: int | Iterable[int] = 3,
    overrides: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> list[CheckResult]:
    """Every check judged on its counterfactual twin (the world without the mechanism it claims), for each seed.
    An earned outcome fails there.  A baseline check keeps its own baseline run as the reference."""
    overrides = list(overrides)
    scenario = load_scenario(scenario_name_or_path, overrides)
    path = scenario.source
    checks = checks_of(scenario)
    seed_list = resolve_seeds(scenario, seeds)
    days = _horizon(scenario, checks)
    twins = sorted({twin_of(c) for c in checks})
    for twin, _ in twins:  # fail on a bad twin override before any simulation
        load_scenario(path, overrides + list(twin))
    baselines = sorted({tuple(c["baseline"]) for c in checks if c["compare"] == "baseline"})
    variants = [(t, e) for t, e in twins] + [(b, True) for b in baselines]
    variants = list(dict.fromkeys(variants))
    runs: dict[tuple, dict[str, pd.DataFrame]] = {}
    for twin, events in variants:
        for seed in seed_list:
            runs[twin, events, seed] = _run_tables(path, overrides + list(twin), seed, days, events)
            if progress is not None:
                progress(len(runs), len(variants) * len(seed_list))
    results = []
    for check in checks:
        twin, events = twin_of(check)
        per_seed = [
            evaluate(
                check,
                runs[twin, events, seed],
                seed,
                runs[tuple(check["baseline"]), True, seed] if check["compare"] == "baseline" else None,
            )
            for seed in seed_list
        ]
        results.append(_result(check, per_seed))
    return results


@dataclass(frozen=True)
class RunCheck:
    """A check on one run that is in progress: judged once the run has reached ``horizon_day``."""

    check: dict
    horizon_day: int
    result: CheckResult | None  # None until the run has reached the horizon

    @property
    def ready(self) -> bool:
        return self.result is not None


def checks_on_run(
    scenario: Scenario,
    tables: dict[str, pd.DataFrame],
    days_run: int,
    seed: int,
    baseline_run: Callable[[tuple[str, ...], int], dict[str, pd.DataFrame]],
) -> list[RunCheck]:
    """The scenario's checks judged on a run already made (the browser's), where it has gone far enough.

    ``tables`` are the run's daily and hourly tables after ``days_run`` days; ``baseline_run(overrides,
    days)`` returns the tables of the same world with a check's baseline overrides, run for ``days``.
    """
    out = []
    for check in checks_of(scenario):
        end = horizon_of(check)
        if days_run < end:
            out.append(RunCheck(check, end, None))
            continue
        base = baseline_run(tuple(check["baseline"]), end) if check["compare"] == "baseline" else None
        out.append(RunCheck(check, end, _result(check, [evaluate(check, tables, seed, base)])))
    return out


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
    lines = [f"{label} {result.name}: {printable(result.claim)}".rstrip(": "), f"        {printable(result.test)}"]
    compared = [s.compared for s in result.seeds]
    if compared:
        what = "value" if result.seeds[0].reference is None else "change"
        spread = f"std {_num(result.compared_std)}, lowest {_num(min(compared))}, highest {_num(max(compared))}"
        lines.append(f"        mean over {len(compared)} seed(s): {what} {_num(result.compared_mean)}  ({spread})")
    for s in result.seeds:
        ref = "" if s.reference is None else f"  reference {_num(s.reference)}  change {_num(s.compared)}"
        lines.append(f"        seed {s.seed}: value {_num(s.value)}{ref}  {'ok' if s.passed else 'below the mark'}")
    if result.status == "pending" and result.note:
        lines.append(f"        not enforced: {printable(result.note)}")
    return "\n".join(lines)


_AGG_WORDS = {
    "mean": "average",
    "max": "highest",
    "min": "lowest",
    "sum": "total",
    "last": "final",
    "std": "day-to-day spread (standard deviation) of the",
}


def _days_words(window: tuple[int, int]) -> str:
    a, b = window
    return f"days {a}-{b - 1}"


def _bound_words(check: dict, kind: str) -> str:
    """The mark in words: a change as a percentage, a value in the metric's unit."""
    from tokenomy.abm.metric_words import fmt, fmt_change

    def one(x: float) -> str:
        if kind == "change" and check["change"] == "relative":
            return fmt_change(x)
        return fmt(x, check["metric"])

    if check["op"] == "between":
        return f"be between {one(check['value'])} and {one(check['upper'])}"
    relative = kind == "change" and check["change"] == "relative"
    if relative and check["op"] == ">=" and check["value"] > 0:
        return f"rise by at least {one(check['value']).lstrip('+')}"
    if relative and check["op"] == "<=" and check["value"] < 0:
        return f"fall by at least {one(check['value']).lstrip('-')}"
    verb = "change by " if kind == "change" else "be "
    return f"{verb}{'at least' if check['op'] == '>=' else 'at most'} {one(check['value'])}"


def check_in_words(check: dict) -> str:
    """What the check measures, in a sentence: 'The mean compute price over days 180-269, compared with ...'."""
    from tokenomy.abm.metric_words import label

    agg = _AGG_WORDS[check["agg"]]
    where = f" in {', '.join(check['zones'])}" if check["zones"] else ""
    what = f"The {agg} {label(check['metric'])}{where} over {_days_words(check['window'])}"
    if check["compare"] == "window":
        return (
            f"{what}, compared with {_days_words(check['against'])} of the same run, should "
            f"{_bound_words(check, 'change')}."
        )
    if check["compare"] == "baseline":
        return (
            f"{what}, compared with the same world without the scenario's change "
            f"({'; '.join(check['baseline'])}), should {_bound_words(check, 'change')}."
        )
    return f"{what} should {_bound_words(check, 'value')}."


def outcome_in_words(check: dict, seed_result: SeedResult) -> str:
    """What one run showed: 'In this run the average compute price went from 10 to 24.6 CNY per GPU-hour: +146%.'"""
    from tokenomy.abm.metric_words import fmt, fmt_change, label

    m = check["metric"]
    what = f"the {_AGG_WORDS[check['agg']]} {label(m)}" + (f" in {', '.join(check['zones'])}" if check["zones"] else "")
    if seed_result.reference is None:
        return f"In this run {what} was {fmt(seed_result.value, m)}."
    change = fmt_change(seed_result.compared) if check["change"] == "relative" else f"{seed_result.compared:+,.3g}"
    if check["compare"] == "window":
        return f"In this run {what} went from {fmt(seed_result.reference, m)} to {fmt(seed_result.value, m)}: {change}."
    return (
        f"In this run {what} was {fmt(seed_result.value, m)}, against {fmt(seed_result.reference, m)} in the "
        f"same world without the change: {change}."
    )
