"""``tokenomy run SCENARIO --seeds SPEC``: an ensemble of seeds into one folder, and how much the seeds matter.

The folder (all or nothing, like a single run's)::

    seed-N/            daily, hourly, agents tables and graph.graphml of seed N, as `tokenomy run --seed N` writes them
    summary.FORMAT     one row per (metric, day): mean, std, p5, p25, p50, p75, p95 across seeds of every
                       numeric daily column, with date, day and the number of seeds
    run.json           scenario, overrides, seeds, days, versions, timings per seed
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tokenomy.abm.cli.progress import progress_bar
from tokenomy.abm.cli.run import fmt_num
from tokenomy.abm.errors import printable, printable_lines

if TYPE_CHECKING:
    from tokenomy.abm.ensemble import SeedRun

# (label, daily column, how a value reads) of the printed spread
SPREAD_ROWS = (
    ("token price (CNY/Mtok)", "token_price_cny_per_mtok", lambda v: f"{v:.3f}"),
    ("compute price (CNY/GPU-hour)", "compute_price_cny_per_gpu_hour", lambda v: f"{v:.2f}"),
    ("power price (CNY/MWh)", "power_price_cny_per_mwh", lambda v: f"{v:.1f}"),
    ("tokens served per day", "tokens_served_mtok", lambda v: fmt_num(v * 1e6)),
    ("unserved share of demand", "unserved_share", lambda v: f"{v:.1%}"),
    ("GPUs online", "gpus_online", lambda v: f"{v:,.0f}"),
)


def _check_size(seeds: list[int], days: int) -> None:
    from tokenomy.abm.ensemble import MAX_SEED_DAYS
    from tokenomy.abm.errors import UsageError

    if len(seeds) * days > MAX_SEED_DAYS:
        raise UsageError(
            f"--seeds: {len(seeds):,} seeds x {days:,} days is {len(seeds) * days:,} seed-days; an ensemble runs at "
            f"most {MAX_SEED_DAYS:,} (give fewer seeds or --days)"
        )


def spread_summary(name: str, runs: Sequence[SeedRun], seeds_label: str) -> str:
    """The printed summary: for the main daily columns, each seed's run mean, then across seeds the median, the
    p5 to p95 range and the coefficient of variation."""
    from tokenomy.abm.bands import run_mean_spread

    daily = runs[0].daily
    first, last = daily["date"].iloc[0].date(), daily["date"].iloc[-1].date()
    spread = run_mean_spread([r.daily for r in runs], [col for _, col, _ in SPREAD_ROWS])
    head = "run means (over the days) across seeds"
    width = max(len(head), *(len(label) for label, _, _ in SPREAD_ROWS))
    lines = [
        f"{name}: {len(runs)} seeds ({seeds_label}), {len(daily)} days each from {first} to {last}",
        f"  {head:{width}}  {'median':>10}  {'p5 to p95':>22}  {'CV':>7}",
    ]
    for label, col, fmt in SPREAD_ROWS:
        row = spread.loc[col]
        cv = "n/a" if math.isnan(row.cv) else f"{row.cv:.1%}"
        span = f"{fmt(row.p5)} to {fmt(row.p95)}"
        lines.append(f"  {label:{width}}  {fmt(row['median']):>10}  {span:>22}  {cv:>7}")
    return "\n".join(lines)


def _record(
    args: argparse.Namespace, scenario, seeds: list[int], days: int, runs: Sequence[SeedRun], timings_s: dict
) -> dict:
    from tokenomy.abm.output import versions

    per_seed = {
        str(r.seed): {
            **{k: round(v, 4) for k, v in r.timings_s.items()},
            "ms_per_day": round(1000 * r.timings_s["simulate"] / days, 4),
        }
        for r in runs
    }
    return {
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "overrides": args.set,
        "seeds": seeds,
        "days": days,
        "start_date": str(scenario.start_date),
        "format": args.format,
        "workers": args.workers or 1,
        "summary": "one row per (metric, day): mean, std (ddof=1), p5, p25, p50, p75, p95 across seeds",
        "versions": versions(),
        "timings_s": {**{k: round(v, 4) for k, v in timings_s.items()}, "per_seed": per_seed},
        "files": [*(f for r in runs for f in r.files), f"summary.{args.format}"],
    }


def cmd_ensemble(args: argparse.Namespace) -> int:
    from tokenomy.abm.ensemble import SeedsInterrupted
    from tokenomy.abm.environment import interrupts_held
    from tokenomy.abm.errors import Interrupted
    from tokenomy.abm.output import staged_run_folder
    from tokenomy.abm.scenarios import load_scenario
    from tokenomy.abm.seeds import seeds_text
    from tokenomy.abm.warmup import ensure_compiled

    scenario = load_scenario(args.scenario, args.set, graph=args.graph)  # every check, the graph's too
    seeds = args.seeds
    days = args.days or scenario.data["scenario"]["days"]
    _check_size(seeds, days)
    out = Path("out") / f"{scenario.name}-seeds-{seeds[0]}-{seeds[-1]}" if args.out is None else args.out
    kept: list[SeedRun] = []
    try:
        with contextlib.ExitStack() as finishing, staged_run_folder(out) as staged:
            # `out` holds this whole ensemble, the seeds finished before a Ctrl-C, or what it held before
            ensure_compiled(progress=not args.quiet)  # once here, not in every worker
            try:
                runs, timings_s = _run(args, scenario, seeds, days, staged)
            except SeedsInterrupted as stop:
                finishing.enter_context(interrupts_held())  # a second Ctrl-C waits until the finished seeds are kept
                if not stop.finished:
                    raise KeyboardInterrupt from None  # nothing finished: `out` keeps what it held
                kept = runs = stop.finished
                _drop_unfinished(staged, runs)
                timings_s = {}
            _finish(args, scenario, seeds, days, runs, timings_s, staged)
    except KeyboardInterrupt:
        if kept:
            raise Interrupted(_kept_line(out, kept, seeds)) from None
        raise
    if kept:
        raise Interrupted(_kept_line(out, kept, seeds))
    print(printable_lines(spread_summary(scenario.name, runs, seeds_text(seeds))))
    simulate_s = sum(r.timings_s["simulate"] for r in runs)
    print(
        f"  tables in {printable(out)}/ ({args.format}): seed-N/ per seed, summary.{args.format} across seeds; "
        f"{1000 * simulate_s / (days * len(runs)):.2f} ms per simulated day, {timings_s['seeds']:.1f} s for the seeds"
    )
    return 0


def _run(args: argparse.Namespace, scenario, seeds: list[int], days: int, staged: Path) -> tuple[list, dict]:
    """Every seed into ``staged``: the runs and the time they took."""
    from tokenomy.abm.ensemble import run_seeds

    t0 = time.perf_counter()
    with progress_bar(len(seeds), "seed", "seeds", args.quiet) as bar:
        runs = run_seeds(scenario, seeds, days, args.format, staged, args.workers or 1, lambda _: bar.update(1))
    return runs, {"seeds": time.perf_counter() - t0}


def _finish(args, scenario, seeds: list[int], days: int, runs: Sequence[SeedRun], timings_s: dict, staged: Path):
    """The summary across the finished seeds and ``run.json`` (which names the seeds asked for and not run when
    the ensemble was interrupted)."""
    from tokenomy.abm.bands import ensemble_summary
    from tokenomy.abm.output import write_json, write_table

    t1 = time.perf_counter()
    write_table(ensemble_summary([r.daily for r in runs]), staged, "summary", args.format)
    timings_s = {**timings_s, "summary": time.perf_counter() - t1}
    record = _record(args, scenario, [r.seed for r in runs], days, runs, timings_s)
    if len(runs) < len(seeds):
        done = {r.seed for r in runs}
        record["interrupted"] = {"seeds_asked": seeds, "seeds_not_run": [s for s in seeds if s not in done]}
    write_json(record, staged / "run.json")


def _drop_unfinished(staged: Path, runs: Sequence[SeedRun]) -> None:
    """Remove the folders of the seeds stopped half way (this ensemble made them, in its own staging folder)."""
    from tokenomy.abm.ensemble import seed_folder
    from tokenomy.abm.output import remove_run_files

    finished = {seed_folder(r.seed) for r in runs}
    for entry in staged.iterdir():
        if entry.name.startswith("seed-") and entry.name not in finished and not entry.is_symlink():
            remove_run_files(entry)


def _kept_line(out: Path, kept: Sequence[SeedRun], seeds: list[int]) -> str:
    from tokenomy.abm.seeds import seeds_text

    return (
        f"kept the {len(kept)} of {len(seeds)} seeds finished ({seeds_text([r.seed for r in kept])}) in "
        f"{printable(out)}/ with their summary; run.json lists the seeds not run"
    )
